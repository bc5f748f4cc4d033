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
        if loc.height:
            places = join_words([_short_place(w, lr) for lr in loc.head(2).iter_rows(named=True)])
            when = " at the peak times" if not _is_null(ctx.row.get("night_share")) else ""
            items.append(f"{_b('Primary prevention: places.')} Focus problem-solving partnership work on {places}, "
                         "where the harm is most concentrated: licensing conditions, guardianship, lighting and CCTV, "
                         f"and visible patrols{when} protect everyone who uses these places.")
    else:
        peak = " at the peak times above" if not _is_null(r.get("timed_n")) and r.get("timed_n") else ""
        items.append(f"{_b('Primary prevention: this place.')} Put the locality on the tasking agenda with a problem "
                     f"profile: licensing and environmental changes, and patrols{peak}, reviewed each month against "
                     "its count.")
    if is_gap("night_time_economy"):
        elsewhere = ivs_for("night_time_economy", reaching_only=False)
        s = (f"{_b('Primary prevention: the night-time economy.')} No night-time scheme reaches most of the "
             "night-time harm here. Work with licensees, door staff and taxi marshals on the busiest nights")
        s += f"; the model of {names(elsewhere[:2])} elsewhere in the study could be extended here." if elsewhere else "."
        items.append(s)
    elif flags["nte_high"] and ivs_for("night_time_economy"):
        items.append(f"{_b('Primary prevention: the night-time economy.')} Keep {names(ivs_for('night_time_economy'))} "
                     "running on the peak nights, and check its hours against the peak times above.")
    # secondary prevention: people at risk
    if is_gap("youth") or flags["youth_high"]:
        youth_ivs = ivs_for("youth")
        s = f"{_b('Secondary prevention: young people at risk.')} "
        if youth_ivs:
            s += f"Make sure young people involved in violence here are referred to {names(youth_ivs)}"
            if flags["young_adults"] and ctx.ages().get("either_18_to_24", 0) >= ctx.rule.share_min:
                s += (f". The youth offer here stops at {w.const(str(youth_max), 'oldest age of the youth interventions')}, "
                      f"yet young adults aged {w.const('18', 'age band')} to {w.const('24', 'age band')} are involved "
                      "in many offences: consider provision for that age through colleges, probation and employment "
                      "support")
            s += "."
        else:
            other = ivs_for("youth", reaching_only=False)
            s += ("No youth programme reaches this area"
                  + (f"; consider extending {names(other[:2])} here." if other else "; consider commissioning one."))
        items.append(s)
    if is_gap("domestic_abuse"):
        other = ivs_for("domestic_abuse", reaching_only=False)
        items.append(f"{_b('Secondary prevention: domestic abuse.')} Domestic abuse is a large part of the violence here "
                     "and no domestic-abuse service reaches most of it"
                     + (f": extending {names(other)} here would close the gap." if other else
                        ": raise it with the domestic abuse partnership board."))
    if is_gap("sexual_violence"):
        other = ivs_for("sexual_violence", reaching_only=False)
        items.append(f"{_b('Secondary prevention: sexual violence.')} The share of sexual offences is above the force "
                     "level and little of it is reached: vulnerability training for licensed premises and safe "
                     "spaces on the busiest nights"
                     + (f" (as {names(other[:2])} provide elsewhere)." if other else "."))
    # tertiary prevention: people already involved
    knife_ivs = ivs_for("knife")
    knife_high = flags["knife_high"] and (r.get("knife_n") or 0) >= ctx.rule.share_min  # disclosure
    if is_gap("knife") or (knife_ivs and knife_high):
        if knife_ivs:
            items.append(f"{_b('Tertiary prevention: knife crime.')} Use {names(knife_ivs)} for people already "
                         "involved in knife crime, so that an arrest or a stop is also a referral.")
        else:
            items.append(f"{_b('Tertiary prevention: knife crime.')} No knife-crime programme reaches this area: agree a "
                         "referral route for people found carrying or using a knife.")
    # priority from the trend
    if flags["rising"]:
        items.append(f"{_b('Priority.')} Violence here rose over the latest year: take this area to the next "
                     "strategic group and set a date to review it.")
    if flags["locality_rising"]:
        items.append(f"{_b('Priority.')} The monthly count here is rising: review it at the next tasking meeting.")
    # data
    if ctx.voice.proxy:
        items.append(f"{_b('Data.')} This briefing rests on public police.uk data. A record-level extract from the "
                     "force (offence codes, markers, dates and times) and A&E assault data (Cardiff Model) would show "
                     "the serious violence this proxy cannot.")
    elif ctx.eng.study is not None and (getattr(ctx.eng.study, "ae", None) is None or ctx.eng.study.ae.height == 0):
        items.append(f"{_b('Data.')} Add A&E assault data (Cardiff Model, ISTV) to the study: most assault victims seen "
                     "in emergency departments never report to the police.")

    w.p("These suggestions follow rules from the figures above and the public health approach: primary prevention "
        "for places and whole populations, secondary prevention for people at risk, tertiary prevention for people "
        "already involved. They are a starting point for the partnership, not a decision.")
    if items:
        for it in items:
            w.li(it)
    else:
        w.p("None found: no need passes its threshold and no gap was found, so the only suggestion is to keep "
            "current provision under review.")
    w.p(f"Deliver them through the {w.const('5', 'the 5Cs')}Cs: collaboration between partners, co-production with "
        "communities and young people, cooperation in data and intelligence sharing, counter-narrative development, "
        "and community consent.")
    return w.done("")
