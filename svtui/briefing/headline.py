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
    """Where the population behind a rate comes from (hotspot.area_profiles.population_provenance,
    when the engine has it): source file and year, and whether 2011 areas were split into 2021 ones."""
    try:
        from hotspot.area_profiles import population_provenance
    except ImportError:
        return ""
    p = population_provenance(ctx.eng.study) or {}
    if not p.get("source"):
        return ""
    year = p.get("year")
    s = f"Populations are from {w.label(p['source'], 120)}" + (
        f" (mid-{w.fig(str(year), year, 'constant', Ref('constant', 'population year (population_provenance)'))} "
        "estimates)" if year else "")
    if p.get("conversion"):
        s += ", split from 2011 to 2021 areas, so they are estimates"
    return s + "."


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
            w.p(s + ". A three-year change cannot be given: months it needs have no data.")
        else:
            w.p(s + f". A three-year change needs {w.const('36', 'months for a three-year change')} months of data; "
                f"this study has {m_txt}.")
    else:
        n_txt = w.count(ctx.n, ctx.n_ref, v.noun)
        if v.proxy:
            w.p(f"Police.uk recorded {n_txt} of violence, robbery or weapon possession in {area} {span} "
                f"({m_txt} {dc.plural(months, 'month')}). This is the public proxy for serious violence: it counts "
                "all violence, from common assault to homicide, so it over-counts serious violence.")
        else:
            w.p(f"{v.subject} in {area}: {n_txt} {span} ({m_txt} {dc.plural(months, 'month')}).")
        gaps = [str(m) for m in (r.get("change_12m_missing") or [])]
        if r.get("change_12m_reason") == "months_missing":
            shown = ", ".join(w.label(m, 10) for m in gaps[:6]) + (" and more" if len(gaps) > 6 else "")
            w.p("A change over the year cannot be given: months it needs have no data"
                + (f" ({shown})" if gaps else "") + ", and a missing month is not a month with no offences.")
        else:
            w.p(f"A change over the year cannot be given: it needs {w.const('24', 'months for a 12-month change')} "
                f"months of data and this study has {m_txt}.")

    # rate, share of the force, trend
    bits = []
    rate = r.get("rate_per_1000_year") if not _is_null(latest) else r.get("rate_per_1000")
    rate_col = "rate_per_1000_year" if not _is_null(latest) else "rate_per_1000"
    if not _is_null(rate):
        rt = w.rate(rate, latest if not _is_null(latest) else ctx.n, ctx.ref(rate_col))
        if rt not in ("withheld", "not known"):
            s = (f"That is {rt} {dc.plural(2, v.noun)} per {w.const('1,000', 'rate base')} residents "
                 + ("a year" if not _is_null(latest) else "over the period"))
            lo, hi = r.get(f"{rate_col}_lower"), r.get(f"{rate_col}_upper")
            if not _is_null(lo) and not _is_null(hi):  # the engine's 95% interval (Byar / exact Poisson)
                s += (f" ({w.const('95%', 'confidence level')} confidence interval "
                      f"{w.rate(lo, None, ctx.ref(f'{rate_col}_lower'))} to {w.rate(hi, None, ctx.ref(f'{rate_col}_upper'))})")
            fr = ctx.force_row
            if fr and not ctx.is_force and not _is_null(fr.get(rate_col)):
                frt = w.rate(fr[rate_col], fr.get("latest_12m") if not _is_null(latest) else fr.get("n"),
                             ctx.force_ref(rate_col))
                if frt not in ("withheld", "not known"):
                    s += (f", the same as across {w.label(fr['name'])}" if frt == rt
                          else f", against {frt} across {w.label(fr['name'])}")
            bits.append(s + ".")
        vs = r.get("rate_vs_force")
        if vs in ("higher", "lower", "similar") and not ctx.is_force:
            ci = w.const("95%", "confidence level")
            bits.append({
                "higher": f"Over the period its rate is higher than the force's: its {ci} confidence interval lies above it.",
                "lower": f"Over the period its rate is lower than the force's: its {ci} confidence interval lies below it.",
                "similar": f"Over the period its rate is similar to the force's: the force's rate lies inside its {ci} "
                           "confidence interval.",
            }[vs])
        pop = _population_words(w, ctx)
        if pop:
            bits.append(pop)
    elif r.get("population_note"):
        bits.append("A rate per head cannot be given: the study has no population figures for this area.")
    fr = ctx.force_row
    if not ctx.is_force and fr and not _is_null(r.get("share_of_total")):
        sh = w.share_of(r["share_of_total"], ctx.n, fr["n"], ctx.ref("share_of_total"))
        hs = w.share_of(r["harm_share_of_total"], ctx.n, fr["n"], ctx.ref("harm_share_of_total"))
        if sh not in ("withheld", "not known"):
            bits.append(f"Over the period, {area} accounts for {sh} of the {v.noun}s in {w.label(fr['name'])} and "
                        f"{hs} of the {_harm_words()}.")
    trend = r.get("trend")
    mk = {"rising": "a rising trend", "falling": "a falling trend", "no clear trend": "no clear trend"}.get(trend)
    if mk and months >= 12:
        bits.append(f"Month by month, the {m_txt}-month series shows {mk} (Mann-Kendall test at the "
                    f"{w.const('5%', 'significance level')} level).")
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
            s = f"On the Serious Violence Duty's headline measures, {area} recorded {join_words(said)} {when}."
            if missing:
                s += f" The data cannot give {join_words(missing)}."
            w.p(s)
            notes = [x for x in mrows.filter(pl.col("measure") == "ae_knife_assault")["note"].to_list() if x]
            if notes and not ctx.is_force:
                w.p("Most A&E attendances carry no location, so they count only in the force total: the A&E "
                    f"figure for {area} is an undercount.")
        elif missing:
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
        return w.count(n, ref, "A&E attendance") + " for assault with a knife or sharp object"
    if measure == "knife_crime":
        return w.count(n, ref, "police-recorded knife or sharp-instrument offence")
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
    w.p(s + f", in an area of {km2} km².")
    # the year against the year before (hotspot.subjects.year_change over the locality's months)
    ch_frame = ctx.eng.locality_changes()
    cr = _row(ch_frame, locality_id=ctx.code)
    if cr is not None and not _is_null(cr.get("latest_12m")):
        ref_now, ref_prev = Ref("locality_changes", "latest_12m", ctx.key), Ref("locality_changes", "previous_12m", ctx.key)
        end_txt = w.date_end(cr["period_end"], Ref("locality_changes", "period_end", ctx.key))
        now_n, prev_n = cr["latest_12m"], cr["previous_12m"]
        ch, chv = w.change(now_n, prev_n, ref_now, ref_prev, p=cr.get("change_12m_p"))
        now_txt = w.count(now_n, ref_now, v.noun)
        prev_txt = w.count(prev_n, ref_prev)
        if ch == "no significant change":
            w.p(f"In the year to {end_txt} it recorded {now_txt}, against {prev_txt} the year before: no significant "
                "change.")
        elif chv is None:
            w.p(f"In the year to {end_txt} it recorded {now_txt}, against {prev_txt} the year before.")
        elif chv == 0:
            w.p(f"In the year to {end_txt} it recorded {now_txt}, the same as the year before.")
        else:
            w.p(f"In the year to {end_txt} it recorded {now_txt}, {'up' if chv > 0 else 'down'} {ch} on the year "
                f"before ({prev_txt}).")
    elif cr is not None and cr.get("change_12m_reason") == "months_missing":
        w.p("A change over the year cannot be given: some months in the last two years have no data (svtui check "
            "lists them).")
    elif cr is not None and cr.get("months"):
        w.p(f"A change over the year needs {w.const('24', 'months for a 12-month change')} months of data; this "
            f"analysis has {w.number(cr['months'], Ref('locality_changes', 'months', ctx.key))}.")
    bits = []
    pattern = r.get("pattern")
    if pattern in PATTERN_WORDS:
        bits.append(f"Emerging hot spot analysis classes it as {PATTERN_WORDS[pattern]}")
    trend = r.get("trend")
    if trend in ("rising", "falling") or (trend == "no clear trend" and pattern != "Persistent Hot Spot"):
        t = {"rising": "a rising trend", "falling": "a falling trend", "no clear trend": "no clear trend"}[trend]
        bits.append(f"its monthly count shows {t} (Mann-Kendall test at the {w.const('5%', 'significance level')} level)")
    if bits:
        w.p("; ".join(bits) + ".")
    return w.done("")
