"""The 'suggested focus' section: prevention themes chosen by hotspot.subjects.focus_flags."""
from __future__ import annotations

import polars as pl

from hotspot.subjects import focus_flags
from svtui.briefing.context import _Ctx, _area_localities
from svtui.briefing.interventions import _coverage
from svtui.briefing.model import Section
from svtui.briefing.what import _short_place
from svtui.briefing.words import _b, _is_null, join_words
from svtui.briefing.writer import _W


MAX_ITEMS = {"area": 3, "locality": 2}  # suggestions a reader acts on (word budget, issue 16)


def _focus(ctx: _Ctx) -> Section:
    w = _W("focus", "Suggested focus", ctx.rule)
    r = ctx.row
    ivs = list(getattr(ctx.eng.study, "interventions", []) or [])
    cov = _coverage(ctx) if ivs else None
    status: dict[str, dict] = {}
    reaching: set[str] = set()
    if cov is not None:
        reach, gaps, _level, _unit = cov
        status = {g["need"]: g for g in gaps.iter_rows(named=True)} if gaps.height else {}
        reaching = set(reach.filter(pl.col("reaches") != "no")["intervention"].to_list()) if reach.height else set()

    def ivs_for(theme: str, reaching_only: bool = True) -> list[str]:
        return [iv.name for iv in ivs if theme in iv.themes and (iv.name in reaching or not reaching_only)]

    def names(lst: list[str]) -> str:
        return join_words([w.label(n) for n in lst])

    def is_gap(need: str) -> bool:
        return need in status and status[need]["status"] in ("gap", "partly met")

    youth_max = max((iv.ages[1] for iv in ivs if iv.name in ivs_for("youth") and iv.ages), default=None)
    flags = focus_flags(r, ctx.force_row, ctx.ages(), is_locality=ctx.kind == "locality",
                        youth_offer_max_age=youth_max)
    items: list[str] = []
    # primary prevention: places
    if ctx.kind == "area":
        loc = _area_localities(ctx)
        if ctx.rule.locality_min and loc.height:
            loc = loc.filter(pl.col("n_incidents") >= ctx.rule.locality_min)
        if ctx.level == "csp" and "significant" in loc.columns and loc["significant"].any():
            # the significant localities the 'where' section lists, named there with their wards
            loc = loc.filter(pl.col("significant").fill_null(False))
            places = join_words([w.label(lr.get("focus") or lr["name"]) for lr in loc.head(2).iter_rows(named=True)])
        elif loc.height:
            places = join_words([_short_place(w, lr) for lr in loc.head(2).iter_rows(named=True)])
        if loc.height:
            when = " at the peak times" if not _is_null(ctx.row.get("night_share")) else ""
            items.append(f"{_b('Primary prevention: places.')} Focus problem-solving on {places}: licensing, "
                         f"guardianship, lighting, CCTV and patrols{when}.")
    else:
        peak = " at the peak times above" if not _is_null(r.get("timed_n")) and r.get("timed_n") else ""
        focus = r.get("focus") or r.get("name")
        items.append(f"{_b('Primary prevention: this place.')} Put {w.label(focus)} on the tasking agenda: a "
                     f"problem profile, licensing and environmental changes, patrols{peak}.")
    if is_gap("night_time_economy"):
        elsewhere = ivs_for("night_time_economy", reaching_only=False)
        here = w.label(r.get("focus") or ctx.name)
        s = (f"{_b('Primary prevention: the night-time economy.')} No night-time scheme reaches most of it at {here}: "
             "work with licensees, door staff and taxi marshals")
        s += f", or extend {names(elsewhere[:2])} here." if elsewhere else "."
        items.append(s)
    elif flags["nte_high"] and ivs_for("night_time_economy"):
        items.append(f"{_b('Primary prevention: the night-time economy.')} Keep {names(ivs_for('night_time_economy'))} "
                     "running on the peak nights.")
    # secondary prevention: people at risk
    if is_gap("youth") or flags["youth_high"]:
        youth_ivs = ivs_for("youth")
        s = f"{_b('Secondary prevention: young people at risk.')} "
        if youth_ivs:
            s += f"Refer young people involved in violence here to {names(youth_ivs)}"
            if flags["young_adults"] and ctx.ages().get("either_18_to_24", 0) >= ctx.rule.share_min:
                s += (f"; the offer stops at {w.const(str(youth_max), 'oldest age of the youth interventions')}, so "
                      f"consider provision for ages {w.const('18', 'age band')} to {w.const('24', 'age band')}")
            s += "."
        else:
            other = ivs_for("youth", reaching_only=False)
            s += ("No youth programme reaches it"
                  + (f": extend {names(other[:2])} here." if other else ": commission one."))
        items.append(s)
    if is_gap("domestic_abuse"):
        other = ivs_for("domestic_abuse", reaching_only=False)
        items.append(f"{_b('Secondary prevention: domestic abuse.')} No service reaches most of it"
                     + (f": extend {names(other)} here." if other else ": raise it with the domestic abuse board."))
    if is_gap("sexual_violence"):
        other = ivs_for("sexual_violence", reaching_only=False)
        items.append(f"{_b('Secondary prevention: sexual violence.')} Little of it is reached: vulnerability "
                     "training for licensed premises and safe spaces"
                     + (f" (as {names(other[:2])} provide elsewhere)." if other else "."))
    # tertiary prevention: people already involved
    knife_ivs = ivs_for("knife")
    knife_high = flags["knife_high"] and (r.get("knife_n") or 0) >= ctx.rule.share_min  # disclosure
    if is_gap("knife") or (knife_ivs and knife_high):
        if knife_ivs:
            items.append(f"{_b('Tertiary prevention: knife crime.')} Make an arrest or stop for a knife a referral "
                         f"to {names(knife_ivs)}.")
        else:
            items.append(f"{_b('Tertiary prevention: knife crime.')} No programme reaches it: agree a referral "
                         "route.")
    # priority from the trend
    if flags["rising"]:
        items.append(f"{_b('Priority.')} It rose over the latest year: take it to the next strategic group.")
    if flags["locality_rising"]:
        items.append(f"{_b('Priority.')} Rising month by month: review it at the next tasking meeting.")
    if items:
        for it in items[:MAX_ITEMS[ctx.kind]]:  # the strongest first: places, then people, then priority
            w.li(it)
    else:
        w.p(f"No need passes its threshold in {w.label(ctx.name) if ctx.kind == 'area' else 'the locality'} and no "
            "gap was found: keep current provision under review.")
    return w.done("")
