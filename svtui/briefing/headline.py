"""The headline section: change over the year and three years, rate, share of the force, trend, the Duty's measures."""
from __future__ import annotations

from datetime import date

import polars as pl

from svtui import disclosure as dc
from svtui.briefing.context import _Ctx, _harm_words, _row
from svtui.briefing.model import PATTERN_WORDS, Ref, Section
from svtui.briefing.what import _period_words
from svtui.briefing.words import _cap, _is_null, _n_months, join_words, month_end_text
from svtui.briefing.writer import _W, _between, _key


def _population_words(w: "_W", ctx) -> str:
    """'population: mid-2019 estimates from population.csv, 2011 areas converted to 2021 by
    equal split' (hotspot.area_profiles.population_provenance), said beside every rate."""
    try:
        from hotspot.area_profiles import population_provenance
    except ImportError:
        return ""
    p = population_provenance(ctx.eng.study) or {}
    if not p.get("source"):
        return ""
    year = p.get("year")
    s = "population: " + (
        f"mid-{w.fig(str(year), year, 'constant', Ref('constant', 'population year (population_provenance)'))} "
        "estimates from " if year else "") + w.label(p["source"], 120)
    if p.get("conversion") == "lsoa11_to_lsoa21_equal_split" or p.get("converted"):
        s += (f", {w.const('2011', 'LSOA vintage (population_provenance)')} areas converted to "
              f"{w.const('2021', 'LSOA vintage (population_provenance)')} by equal split")
    return s


UNPLACED_SAY = 0.01  # state offences that cannot be placed when they are above 1% (issue 12)


def _unplaced_words(w: "_W", ctx) -> str:
    """How many offences the level cannot place (no location), stated when above 1%."""
    r = ctx.row
    n, share = r.get("unplaced_n"), r.get("unplaced_share")
    if _is_null(n) or _is_null(share) or share <= UNPLACED_SAY or not n:
        return ""
    cnt = w.count(n, ctx.ref("unplaced_n"), ctx.voice.noun)
    pc = w.share_of(share, n, None, ctx.ref("unplaced_share"))
    if ctx.is_force:
        return (f"{_cap(cnt)} ({pc} of the total) have no location: they are in the force total but in no "
                "area below it.")
    return (f"Another {cnt} in the force ({pc} of its total) have no location, so no area, this one included, "
            "can count them.")


def _months_words(w: "_W", ctx, m_txt: str, months: int) -> str:
    """'4 months', or '7 months with data in a span of 55' when months are missing."""
    r = ctx.row
    cov = r.get("months_covered")
    if r.get("n_covered_only") and not _is_null(cov) and cov < months:
        return f"{w.number(cov, ctx.ref('months_covered'))} months with data in a span of {m_txt}"
    return f"{m_txt} {dc.plural(months, 'month')}"


def _month_list(w: "_W", months: list[str], most: int = 4) -> str:
    """Missing months ("YYYY-MM") as runs: '2022-05 to 2023-12', '2021-03, 2021-07 to 2021-09'."""
    from svtui import fmt

    runs = fmt.month_runs(months)
    parts = [w.label(r, 30) for r in runs[:most]]
    return ", ".join(parts) + (" and more" if len(runs) > most else "")


def _change_p(r: dict, key: str):
    """The exact test's p-value for a change the engine reports (p column, or a significance flag)."""
    for col in (f"change_{key}_p", f"change_{key}_p_value"):
        if not _is_null(r.get(col)):
            return r[col]
    sig = r.get(f"change_{key}_significant")
    return None if sig is None else (0.0 if sig else 1.0)


def _why(ch: str) -> str:
    """Why a change is not given as a percentage (w.change's codes)."""
    return {
        "withheld": "the counts are too small to show a change under the disclosure rule",
        "small base": "the earlier count is too small for a percentage change to mean anything",
    }.get(ch, "there is nothing to compare with")


def _area_headline(ctx: _Ctx) -> Section:
    w = _W("headline", "Headline", ctx.rule)
    r, v = ctx.row, ctx.voice
    area = w.label(ctx.name)
    start, end = r.get("period_start"), r.get("period_end")
    if not start or not end:
        w.p(f"The study has no months with data for {area} in the chosen period, so there is nothing to report.")
        return w.done("")
    latest, prev, base3 = r.get("latest_12m"), r.get("previous_12m"), r.get("base_3y_12m")
    months = int(r.get("months") or _n_months(start, end))
    m_txt = w.number(months, ctx.ref("months"))
    span = _between(w, start, end, ctx.ref("period_start"), ctx.ref("period_end"))
    if not _is_null(latest) and not _is_null(prev):
        end_txt = w.date_end(end, ctx.ref("period_end"))
        ch, chv = w.change(latest, prev, ctx.ref("latest_12m"), ctx.ref("previous_12m"), p=_change_p(r, "12m"))
        now_txt = w.count(latest, ctx.ref("latest_12m"), v.noun)
        before_txt = w.count(prev, ctx.ref("previous_12m"))
        if ch == "no significant change":
            s = (f"{v.subject} in {area} showed no significant change in the year to {end_txt} ({now_txt}, against "
                 f"{before_txt} the year before)")
        elif chv is None:
            s = f"{v.subject} in {area}: {now_txt} in the year to {end_txt}, against {before_txt} the year before; {_why(ch)}"
        elif chv == 0:
            same = "the same as the year before" if latest == prev else f"against {before_txt} the year before"
            s = (f"{v.subject} in {area} was {'unchanged' if latest == prev else 'almost unchanged'} in the year to "
                 f"{end_txt} ({now_txt}, {same})")
        else:
            s = (f"{v.subject} in {area} {'increased' if chv > 0 else 'decreased'} by {ch} in the year to {end_txt} "
                 f"({now_txt}, {'up' if chv > 0 else 'down'} from {before_txt})")
        if not _is_null(base3):
            ch3, ch3v = w.change(latest, base3, ctx.ref("latest_12m"), ctx.ref("base_3y_12m"), p=_change_p(r, "3y"))
            b3 = w.count(base3, ctx.ref("base_3y_12m"))
            b3_end = w.fig(month_end_text(date(end.year - 2, end.month, 1)), date(end.year - 2, end.month, 1), "date",
                           Ref(ctx.src, "period_end", ctx.key, agg="minus_24_months"))
            if ch3 == "no significant change":
                s += f", with no significant change over three years (from {b3} in the year to {b3_end})"
            elif ch3v is None:
                s += f" ({b3} in the year to {b3_end})"
            elif ch3v == 0:
                s += f", and is unchanged over three years ({b3} in the year to {b3_end})"
            else:
                s += f", and {'rose' if ch3v > 0 else 'fell'} by {ch3} over three years (from {b3} in the year to {b3_end})"
            w.p(s + ".")
        elif r.get("change_3y_reason") == "months_missing":
            miss = [str(m) for m in (r.get("change_3y_missing") or [])]
            shown = _month_list(w, miss)
            w.p(s + ". Change over three years: not known: months missing" + (f" ({shown})." if miss else "."))
        else:
            w.p(s + f". A three-year change needs {w.const('36', 'months for a three-year change')} months of data; "
                f"this study has {m_txt}.")
    else:
        n_txt = w.count(ctx.n, ctx.n_ref, v.noun)
        if v.proxy:
            s = (f"Police.uk recorded {n_txt} of violence, robbery or weapon possession in {area} {span} "
                 f"({_months_words(w, ctx, m_txt, months)}): the public proxy, which over-counts serious violence "
                 "(see the data notes).")
        else:
            s = f"{v.subject} in {area}: {n_txt} {span} ({_months_words(w, ctx, m_txt, months)})."
        gaps = [str(m) for m in (r.get("change_12m_missing") or [])]
        if r.get("change_12m_reason") == "months_missing":
            shown = _month_list(w, gaps)
            s += (" Change over the year: not known: months missing"
                  + (f" ({shown})" if gaps else "") + "; a missing month is not a month with no offences.")
        else:
            s += (f" No change over the year: that needs {w.const('24', 'months for a 12-month change')} months of "
                  "data.")
        w.p(s)

    # rate, share of the force, trend
    bits = []
    rate = r.get("rate_per_1000_year") if not _is_null(latest) else r.get("rate_per_1000")
    rate_col = "rate_per_1000_year" if not _is_null(latest) else "rate_per_1000"
    if not _is_null(rate):
        rt = w.rate(rate, latest if not _is_null(latest) else ctx.n, ctx.ref(rate_col))
        if rt not in ("withheld", "not known"):
            cov = r.get("months_covered")
            over = (f"over the {w.number(cov, ctx.ref('months_covered'))} months with data"
                    if r.get("n_covered_only") and not _is_null(cov) else "over the period")
            s = (f"That is {rt} {dc.plural(2, v.noun)} per {w.const('1,000', 'rate base')} residents "
                 + ("a year" if not _is_null(latest) else over))
            inside = []
            lo, hi = r.get(f"{rate_col}_lower"), r.get(f"{rate_col}_upper")
            if not _is_null(lo) and not _is_null(hi):  # the engine's 95% interval (Byar / exact Poisson)
                inside.append(f"{w.const('95%', 'confidence level')} interval "
                              f"{w.rate(lo, None, ctx.ref(f'{rate_col}_lower'))} to "
                              f"{w.rate(hi, None, ctx.ref(f'{rate_col}_upper'))}")
            pop = _population_words(w, ctx)
            if pop:
                inside.append(pop)
            if inside:
                s += f" ({'; '.join(inside)})"
            fr = ctx.force_row
            if fr and not ctx.is_force and not _is_null(fr.get(rate_col)):
                frt = w.rate(fr[rate_col], fr.get("latest_12m") if not _is_null(latest) else fr.get("n"),
                             ctx.force_ref(rate_col))
                if frt not in ("withheld", "not known"):
                    s += f", against {frt} across {w.label(fr['name'])}"
            bits.append(s + ".")
        vs = r.get("rate_vs_force")
        if vs in ("higher", "lower", "similar") and not ctx.is_force:
            bits.append({"higher": "Its rate is higher than the force's.",
                         "lower": "Its rate is lower than the force's.",
                         "similar": "Its rate is similar to the force's."}[vs])
    elif r.get("population_note") or r.get("rate_vs_force_reason") == "no_population":
        bits.append("No rate per head: the study has no population figures.")
    fr = ctx.force_row
    if not ctx.is_force and fr and not _is_null(r.get("share_of_total")):
        sh = w.share_of(r["share_of_total"], ctx.n, fr["n"], ctx.ref("share_of_total"))
        hs = w.share_of(r["harm_share_of_total"], ctx.n, fr["n"], ctx.ref("harm_share_of_total"))
        if sh not in ("withheld", "not known"):
            bits.append(f"{area} accounts for {sh} of the {v.noun}s in {w.label(fr['name'])} and {hs} of the harm.")
    trend = r.get("trend")
    mk = {"rising": "a rising trend", "falling": "a falling trend", "no clear trend": "no clear trend"}.get(trend)
    if mk and months >= 12:
        bits.append(f"The {m_txt}-month series shows {mk}.")
    elif r.get("trend_reason") == "months_missing":
        bits.append("No trend is given: months are missing from the series.")
    un = _unplaced_words(w, ctx)
    if un:
        bits.append(un)
    if bits:
        w.p(" ".join(bits))

    # the Serious Violence Duty's headline measures
    m = ctx.eng.measures(ctx.level)
    if m is not None and m.height:
        mrows = m.filter((pl.col("code") == ctx.code) & pl.col("duty"))
        said, missing = [], []
        use_year = not _is_null(latest)
        for mr in mrows.iter_rows(named=True):
            if not mr["available"]:
                missing.append(_DUTY_MISSING.get(mr["measure"], mr["label"].lower()))
                continue
            col = "latest_12m" if use_year and not _is_null(mr.get("latest_12m")) else "n"
            ref = Ref(f"duty_measures:{ctx.level}", col, _key(code=ctx.code, measure=mr["measure"]))
            said.append(_duty_phrase(w, mr["measure"], mr[col], ref))
        when = f"in the year to {w.date_end(end, ctx.ref('period_end'))}" if use_year else span
        if said:
            notes = [x for x in mrows.filter(pl.col("measure") == "ae_knife_assault")["note"].to_list() if x]
            under = " (most A&E attendances have no location)" if notes and not ctx.is_force else ""
            s = f"The Serious Violence Duty's measures {when}: {join_words(said)}{under}."
            if missing:
                s += f" The data cannot give {join_words(missing)}."
            w.p(s)
        elif missing and not v.proxy:  # police.uk's: said once, in the data notes
            w.p(f"The Serious Violence Duty's headline measures cannot be given from this data: it cannot show "
                f"{join_words(missing)}.")
    return w.done("")


_DUTY_MISSING = {
    "homicide": "homicides",
    "ae_knife_assault": "A&E attendances for assault with a knife or sharp object",
    "knife_crime": "police-recorded knife crime",
}


def _duty_phrase(w: _W, measure: str, n, ref: Ref) -> str:
    if measure == "homicide":
        return w.count(n, ref, "homicide")
    if measure == "ae_knife_assault":
        return w.count(n, ref, "A&E attendance") + " for knife assault"
    if measure == "knife_crime":
        return w.count(n, ref, "police-recorded knife offence")
    return w.count(n, ref, "event")


def _loc_headline(ctx: _Ctx) -> Section:
    w = _W("headline", "Headline", ctx.rule)
    r, v = ctx.row, ctx.voice
    analysis = ctx.eng.analysis
    win = analysis.window
    name, lid = w.label(ctx.name), w.label(ctx.code)
    where = []
    if r.get("ward_name"):
        where.append(f"{w.label(r['ward_name'])} ward")
    if r.get("csp_name"):
        where.append(f"{w.label(r['csp_name'])}")
    place = f" in {', '.join(where)}" if where else ""
    n_txt = w.count(r["n_incidents"], ctx.ref("n_incidents"), v.noun)
    s = f"{name} ({lid}) is a hotspot locality{place}. {_cap(_period_words(w, ctx).strip()) or 'Over the period'} it recorded {n_txt}"
    csp_share = r.get("share_of_area_harm")
    if not _is_null(csp_share) and r.get("csp_name"):
        sh = w.share_of(csp_share, r["n_incidents"], None, ctx.ref("share_of_area_harm"))
        if sh not in ("withheld", "not known"):
            s += f", {sh} of the {_harm_words()} in {w.label(r['csp_name'])}"
    km2 = w.fig(f"{r['area_m2'] / 1e6:.2f}", r["area_m2"], "km2", ctx.ref("area_m2"))
    s += f", in an area of {km2} km²."
    # the year against the year before (hotspot.subjects.year_change over the locality's months)
    ch_frame = ctx.eng.locality_changes()
    cr = _row(ch_frame, locality_id=ctx.code)
    if (cr is not None and _is_null(cr.get("latest_12m")) and cr.get("change_12m_reason") != "months_missing"
            and cr.get("months")):
        s += f" No change over the year: that needs {w.const('24', 'months for a 12-month change')} months of data."
    w.p(s)
    if cr is not None and not _is_null(cr.get("latest_12m")):
        ref_now, ref_prev = Ref("locality_changes", "latest_12m", ctx.key), Ref("locality_changes", "previous_12m", ctx.key)
        end_txt = w.date_end(cr["period_end"], Ref("locality_changes", "period_end", ctx.key))
        now_n, prev_n = cr["latest_12m"], cr["previous_12m"]
        ch, chv = w.change(now_n, prev_n, ref_now, ref_prev, p=cr.get("change_12m_p"))
        now_txt = w.count(now_n, ref_now, v.noun)
        prev_txt = w.count(prev_n, ref_prev)
        if ch == "no significant change":
            yr = f"In the year to {end_txt}: {now_txt}, against {prev_txt} the year before (no significant change)."
        elif chv is None:
            yr = f"In the year to {end_txt}: {now_txt}, against {prev_txt} the year before."
        elif chv == 0:
            yr = f"In the year to {end_txt}: {now_txt}, the same as the year before."
        else:
            yr = f"In the year to {end_txt}: {now_txt}, {'up' if chv > 0 else 'down'} {ch} on the year before ({prev_txt})."
        w.s.blocks[-1] = ("p", w.s.blocks[-1][1] + " " + yr)
    elif cr is not None and cr.get("change_12m_reason") == "months_missing":
        miss = [str(m) for m in (cr.get("change_12m_missing") or [])]
        shown = _month_list(w, miss)
        w.p("Change over the year: not known: months missing" + (f" ({shown})." if miss else "."))
    bits = []
    sig = _significance_words(w, ctx)
    if sig:
        bits.append(sig)
    steps = _too_few_steps(w, ctx, r)
    pattern = r.get("pattern")
    if steps:
        bits.append(f"It has {steps}")
    else:
        if pattern in PATTERN_WORDS:
            bits.append(f"Over time it is {PATTERN_WORDS[pattern]}")
        trend = r.get("trend")
        if trend in ("rising", "falling") or (trend == "no clear trend" and pattern != "Persistent Hot Spot"):
            t = {"rising": "a rising trend", "falling": "a falling trend", "no clear trend": "no clear trend"}[trend]
            bits.append(f"its monthly count shows {t}")
    # said in the first paragraph, which names the place: no sentence repeated in every briefing
    rest = bits[1:] if sig else bits
    tail = (f" {sig}." if sig else "") + (f" {_cap('; '.join(rest))}." if rest else "")
    if tail:
        w.s.blocks[0] = ("p", w.s.blocks[0][1] + tail)
    return w.done("")


TOO_FEW_STEPS = "too_few_steps"  # hotspot.trend.TOO_FEW_STEPS (the localities' pattern_reason)


def _too_few_steps(w: _W, ctx: _Ctx, r: dict) -> str:
    """'too few months for a trend (has 4, needs 10)' when the engine left the pattern out for
    want of time steps (pattern_reason / trend_reason "too_few_steps", n_steps, steps_needed)."""
    if TOO_FEW_STEPS in (r.get("pattern_reason"), r.get("trend_reason")) and not _is_null(r.get("n_steps")):
        has = w.number(r["n_steps"], ctx.ref("n_steps"))
    elif "pattern_reason" not in r and ctx.eng.analysis.window:
        # an engine without the rule: the window's months are the time steps (issue 11 must 6)
        a0, a1 = ctx.eng.analysis.window
        n = _n_months(a0, a1)
        if n >= 10:
            return ""
        has = w.number(n, Ref("analysis", "window months"))
    else:
        return ""
    need = r.get("steps_needed")
    needs = (w.number(need, ctx.ref("steps_needed")) if not _is_null(need)
             else w.const("10", "hotspot.trend.MIN_STEPS"))
    return f"too few months for a trend (has {has}, needs {needs})"


def _significance_words(w: _W, ctx: _Ctx) -> str:
    """Whether the locality is a significant concentration, in words (the locality's
    `significant`, `p_value`, `q_value` from the exact scan test, when the engine gives them)."""
    r = ctx.row
    if "significant" not in r or r.get("significant") is None:
        return ""
    if r["significant"]:
        return "It is a significant concentration of offences"  # the test is described in the data notes
    return "It is not a significant concentration: chance could put this many offences there"
