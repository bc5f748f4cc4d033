"""How the screens phrase a `hotspot.session.Results`: Rich Text, table columns, row dicts.

Each function takes the Results of the current filters (run in a worker thread by the screens)
and only lays numbers out. No statistics and no engine calls of its own: counts, shares,
changes, risks and reach all come from the Results. An engine failure is raised to the screen,
which says so.
"""
from __future__ import annotations

from rich.text import Text

from svtui.safe import plain
from svtui.widgets import fmt

DUTY_SHORT = {
    "homicide": "Homicides",
    "ae_knife_assault": "Knife-assault A&E",
    "knife_crime": "Knife crime",
}


def area_profile_rows(res, level: str) -> dict:
    """{code: {trend, change, change_text, da, youth, knife, n, latest_12m}} for the overview."""
    frame, series = res.profiles(level), res.series(level)
    out = {}
    for rec in frame.iter_rows(named=True):
        out[rec["code"]] = {
            "trend": series.get(rec["code"], []),
            "trend_word": rec.get("trend"),
            "change": rec.get("change_12m"),
            "change_text": rec.get("change_12m_text"),
            "change_words": change_words(rec, "12m"),
            "change_reason": rec.get("change_12m_reason"),
            "previous_12m": rec.get("previous_12m"),
            "change_p": rec.get("change_12m_p"),
            "unplaced_n": rec.get("unplaced_n"),
            "unplaced_share": rec.get("unplaced_share"),
            "missing": list(rec.get("window_missing_months") or []),
            "da": rec.get("domestic_abuse_share"),
            "youth": rec.get("youth_share"),
            "knife": rec.get("knife_share"),
            "n": rec.get("n"),
            "latest_12m": rec.get("latest_12m"),
        }
    return out


def duty(res):
    """The Duty's measures for the force and each CSP (the levels the study has): (frame, notes)."""
    import polars as pl

    levels = [lv for lv in ("force", "csp") if lv in res.session.levels()]
    frames = [res.measures(lv) for lv in levels]
    notes = [n for lv in levels for n in res.measure_notes(lv)]
    frame = pl.concat(frames, how="vertical_relaxed").filter(pl.col("duty"))
    return frame, list(dict.fromkeys(notes))


def change_cell(r: dict) -> Text:
    """The overview's 12-month change cell: the words of svtui.fmt.change (counts below a base
    of 10, 'no significant change'), coloured; 'not known' when a month it needs is missing."""
    if not r:
        return Text(fmt.DASH, style="dim")
    return short_change(r.get("latest_12m"), r.get("previous_12m"), r.get("change_p"), r.get("change_reason"))


def short_change(now, before, p_value, reason=None) -> Text:
    """A table cell's change: svtui.fmt.change's words without the counts in brackets ('from 4
    to 7' below a base of 10 keeps them: they are the figure), coloured; 'not known' when a
    month it needs is missing or there are too few months."""
    if reason in ("months_missing", "no_months", "too_few_months"):
        return Text("not known", style="dim yellow" if reason == "months_missing" else "dim")
    t = fmt.change(None, now, before, p_value)
    if t.plain.startswith("no significant change"):
        return Text("no significant change", style="dim")
    return t


def trend_words(rec: dict) -> str | None:
    """A locality's trend (Mann-Kendall) and emerging pattern in words; with fewer than 10
    months 'too few months for a trend (has N, needs 10)' (reason code too_few_steps), never
    'persistent' or 'no clear trend'."""
    if "too_few_steps" in (rec.get("trend_reason"), rec.get("pattern_reason")):
        return f"too few months for a trend (has {rec.get('n_steps')}, needs {rec.get('steps_needed') or 10})"
    parts = [plain(p, 40) for p in (rec.get("trend"), rec.get("pattern")) if p and p != "No Pattern Detected"]
    return "; ".join(parts) or None


def significance_words(rec: dict) -> str | None:
    """'significant (p 0.0001, q 0.003)' / 'not significant (q 0.41)': the locality's exact scan
    test (hotspot.significance, FDR 5%); None when the engine gives no test."""
    if "significant" not in rec or rec.get("significant") is None:
        return None

    def num(v):
        return "not known" if fmt.is_missing(v) else ("<0.001" if float(v) < 0.001 else f"{float(v):.3f}")

    head = "significant" if rec["significant"] else "not significant"
    return f"{head} (p {num(rec.get('p_value'))}, q {num(rec.get('q_value'))})"


def duty_cell(rec: dict) -> Text:
    if not rec.get("available"):
        return Text("n/a", style="dim")
    latest = rec.get("latest_12m")
    if latest is not None:
        t = Text(f"{int(latest):,}")
        if rec.get("previous_12m") is not None or rec.get("change_12m_reason"):
            ch = short_change(latest, rec.get("previous_12m"), rec.get("change_12m_p"), rec.get("change_12m_reason"))
            if ch.plain.startswith("from "):  # below a base of 10 the counts are the figure
                return ch
            t.append(" ")
            t.append_text(ch)
        return t
    n = rec.get("n")
    return Text(f"{int(n):,}*" if n is not None else fmt.DASH)


LEVEL_WORD = {"force": "force", "csp": "CSP", "district": "district", "ward": "ward", "lsoa": "LSOA"}
CHANGE_REASON = {
    "no_months": "not known: no months with data",
    "too_few_months": "not known: too few months of data for this comparison",
    "small_base": "given in counts (fewer than 10 before)",
}
RISK_REASON = {
    "no_venue_file": "no venue file in the study",
    "not_in_indicators": "not in the study's indicators",
    "no_age_bands": "no age bands in the population file",
    "no_rurality": "no rurality classification in the indicators",
    "no_boundaries": "no boundaries to measure areas",
    "not_known": "not known",
}
VS_FORCE = {"higher": "higher than the force", "lower": "lower than the force", "similar": "similar to the force"}


def months_list(months) -> str:
    """'2023-06, 2023-07' (at most 8, then 'and N more')."""
    ms = [plain(m, 10) if isinstance(m, str) else f"{m:%Y-%m}" for m in (months or [])]
    return ", ".join(ms[:8]) + (f" and {len(ms) - 8} more" if len(ms) > 8 else "")


def change_words(r: dict, key: str) -> str:
    """A profile's 12-month ('12m') or three-year ('3y') change in the one format (svtui.fmt):
    counts below a base of 10, 'no significant change' when the exact test says so, 'not
    known: months missing (...)' when a month it needs is a gap."""
    reason = r.get(f"change_{key}_reason")
    if reason == "months_missing":
        return f"not known: months missing ({months_list(r.get(f'change_{key}_missing'))})"
    if reason in CHANGE_REASON and reason != "small_base":
        return CHANGE_REASON[reason]
    from svtui.fmt import change

    before = r.get("previous_12m" if key == "12m" else "base_3y_12m")
    return change(r.get("latest_12m"), before, r.get(f"change_{key}_p"))


def population_words(prov: dict | None) -> str:
    """Where the population behind a rate comes from (hotspot.area_profiles.population_provenance)."""
    prov = prov or {}
    if not prov.get("source"):
        return "population source not known"
    text = f"population from {plain(prov['source'], 60)}"
    text += f" (mid-{prov['year']} estimates)" if prov.get("year") else " (year not stated in the file)"
    if prov.get("conversion") == "lsoa11_to_lsoa21_equal_split":
        text += "; 2011 LSOAs split equally over their 2021 parts, so estimated"
    return text


def rate_words(r: dict) -> Text:
    """'5.6 per 1,000 residents (5.3-6.0) over the window, similar to the force (6.4)'."""
    t = Text()
    if fmt.is_missing(r.get("rate_per_1000")):
        t.append("not known" + (": no population for this area" if r.get("population") is None else ""), style="dim")
        return t
    t.append(fmt.rate(r["rate_per_1000"], r.get("rate_per_1000_lower"), r.get("rate_per_1000_upper"), per="1,000 residents"))
    months = r.get("months_covered") or r.get("months")
    if months:
        t.append(f" over {months} months")
    if not fmt.is_missing(r.get("rate_per_1000_year")):
        t.append(" · " + fmt.rate(r["rate_per_1000_year"], r.get("rate_per_1000_year_lower"), r.get("rate_per_1000_year_upper"), per="1,000 a year"))
    vs = r.get("rate_vs_force")
    if vs in VS_FORCE:
        t.append(" · ")
        t.append(VS_FORCE[vs], style="bold red" if vs == "higher" else "green" if vs == "lower" else "")
        if not fmt.is_missing(r.get("force_rate_per_1000")):
            t.append(f" ({fmt.num(r['force_rate_per_1000'], 1)}; 95% intervals)")
    if r.get("population_estimated"):
        t.append(" · population estimated", style="dim")
    return t


def unplaced_words(r: dict, level: str) -> str:
    """How many offences of the window this level cannot place (count and share)."""
    n, share = r.get("unplaced_n"), r.get("unplaced_share")
    if fmt.is_missing(n):
        return "not known"
    if level == "force":
        return f"{fmt.count(n)} offences ({fmt.pct(share)}) have no location; they are counted in the force total"
    return f"{fmt.count(n)} offences ({fmt.pct(share)}) of the window have no {LEVEL_WORD.get(level, level)} (no location, or outside the areas)"


def area_profile_text(res, level: str, code: str) -> Text:
    """The chosen area's profile in words and numbers (from Results.area_profile)."""
    import polars as pl

    t = Text()
    r = res.area_profile(level, code)
    if r is None:
        t.append("No profile for this area.", style="dim")
        return t
    t.append("Serious violence  ", style="bold")
    t.append(f"{fmt.count(r.get('n'))} incidents, harm {fmt.num(r.get('harm'))}")
    if r.get("period_start"):
        t.append(f" in {fmt.month(r['period_start'])} – {fmt.month(r['period_end'])}")
    if r.get("share_of_total") is not None:
        t.append(f" ({fmt.pct(r['share_of_total'])} of the study's)")
    t.append("\n")
    t.append("Rate  ", style="bold")
    t.append_text(rate_words(r))
    t.append("\n")
    if not fmt.is_missing(r.get("rate_per_1000")):
        t.append("      " + population_words(res.population()) + "\n", style="dim")
    t.append("Unplaced  ", style="bold")
    t.append(unplaced_words(r, level) + "\n")
    mon = res.monthly(level).filter(pl.col("code") == code).sort("month")
    if mon.height:
        t.append("Monthly  ", style="bold")
        t.append(fmt.sparkline(mon["n"].to_list(), 48), style="bold")
        trend = r.get("trend")
        t.append(f"  trend: {plain(trend, 40)}\n" if trend else "\n", style="dim")
        gaps = mon.filter(pl.col("month_missing").fill_null(False))["month"].to_list() if "month_missing" in mon.columns else []
        if gaps:
            t.append(f"         missing months (gaps, not zeros): {months_list(gaps)}\n", style="yellow")
    t.append("Change  ", style="bold")
    t.append("12 months: " + change_words(r, "12m") + "\n")
    t.append("        3 years: " + change_words(r, "3y") + "\n")
    t.append("Shares  ", style="bold")
    parts = []
    for key, label in (("domestic_abuse", "domestic abuse"), ("youth", "youth"), ("sexual", "sexual"), ("knife", "knife"), ("public_place", "public place"), ("nte", "night-time economy")):
        v = r.get(f"{key}_share")
        if v is None:
            parts.append(f"{label} not known")
        else:
            parts.append(f"{label} {fmt.pct(v)} ({fmt.interval(r.get(f'{key}_lower'), r.get(f'{key}_upper'), 0, as_pct=True)})"
                         if not fmt.is_missing(r.get(f"{key}_lower")) else f"{label} {fmt.pct(v)}")
    t.append(" · ".join(parts) + "\n")
    unknown = [plain(r.get(f"{k}_note"), 160) for k in ("domestic_abuse", "youth", "knife") if r.get(f"{k}_note")]
    for u in dict.fromkeys(unknown):
        t.append("        " + u + "\n", style="dim")
    if r.get("top_categories"):
        t.append("Mix  ", style="bold")
        t.append(plain(r["top_categories"], 300) + "\n")
    return t


def monthly_rows(res, level: str, code: str, last: int = 12) -> list[tuple[str, str, str]]:
    """(month, offences, cannot place) for the area's last `last` months: a missing month reads
    'gap (no data)', never 0; the level's unplaced count and share per month."""
    import polars as pl

    mon = res.monthly(level).filter(pl.col("code") == code).sort("month").tail(last)
    out = []
    for rec in mon.iter_rows(named=True):
        if rec.get("month_missing"):
            out.append((fmt.month(rec["month"]), "gap (no data)", "not known"))
            continue
        un = rec.get("unplaced_n")
        out.append((fmt.month(rec["month"]), fmt.count(rec.get("n")),
                    "not known" if fmt.is_missing(un) else f"{fmt.count(un)} ({fmt.pct(rec.get('unplaced_share'))})"))
    return out


def context_text(res, level: str, code: str) -> Text:
    """Other crime in the same area and window (hotspot.context) and, when joined, outcomes."""
    import polars as pl

    t = Text()
    ctx = res.context(level).filter(pl.col("code") == code)
    if ctx.height:
        c = ctx.row(0, named=True)
        t.append("Same area and window  ", style="bold")
        t.append(" · ".join(f"{label} {fmt.count(c.get(f'{k}_n'))}" for k, label in (
            ("asb", "anti-social behaviour"), ("public_order", "public order"), ("drugs", "drugs"),
            ("criminal_damage", "criminal damage and arson"))) + "\n")
        if c.get("n_covered_only"):
            t.append(f"  counted over {c.get('months_covered')} covered months; missing: "
                     f"{months_list(c.get('window_missing_months'))}\n", style="yellow")
    out = res.outcomes(level).filter(pl.col("code") == code)
    t.append("Outcomes  ", style="bold")
    if out.height == 0 or out.row(0, named=True).get("outcomes_reason") == "no_outcomes":
        t.append("not in the data (join police.uk outcomes files to see them)\n", style="dim")
    else:
        o = out.row(0, named=True)
        parts = []
        for k, label in (("charged_summonsed", "charged or summonsed"), ("no_suspect", "no suspect identified"),
                         ("under_investigation", "still under investigation"), ("other", "other")):
            parts.append(f"{label} {fmt.pct(o.get(f'{k}_share'))} ({fmt.interval(o.get(f'{k}_lower'), o.get(f'{k}_upper'), 0, as_pct=True)})")
        t.append(" · ".join(parts))
        t.append(f" of {fmt.count(o.get('outcomes_known'))} offences with a known outcome\n", style="dim")
    return t


def repeat_rows(res, level: str, code: str, months: int = 12) -> list[tuple[str, str, str, str]]:
    """(rank, location, offences and share of the area's, monthly sparkline) of the area's top
    snapped points (hotspot.repeats); a missing month is a gap in the sparkline."""
    import polars as pl

    top = res.repeats(level).filter(pl.col("code") == code).sort("rank")
    if top.height == 0:
        return []
    mon = res.repeat_monthly(level).filter(pl.col("code") == code).sort(["rank", "month"])
    series = dict(mon.group_by("rank", maintain_order=True).agg(pl.col("n")).iter_rows()) if mon.height else {}
    out = []
    for rec in top.iter_rows(named=True):
        where = plain(rec.get("location"), 60) or f"unlabelled point at {rec['easting']:.0f}, {rec['northing']:.0f}"
        out.append((str(rec["rank"]), where, f"{fmt.count(rec['n'])} ({fmt.pct(rec.get('share_of_area_n'))})",
                    fmt.sparkline(series.get(rec["rank"], []), months)))
    return out


def risk_text(res, level: str, code: str) -> Text:
    """The curated risk factors (hotspot.risk, include="default") by their human labels: those
    on the risky side of the force first, then similar, lower, context, and the ones not known
    with why. Never a raw column name: labels come from hotspot.risk.indicator_label."""
    import polars as pl

    t = Text()
    frame = res.risk(level)
    rows = frame.filter(pl.col("code") == code)
    if rows.height == 0 or rows["factor"].null_count() == rows.height:
        t.append("No indicators for this study (add deprivation or population indicators).", style="dim")
        return t
    col = lambda c: pl.col(c) if c in rows.columns else pl.lit(None)  # noqa: E731
    kind = rows.select(col("kind").cast(pl.Utf8).fill_null("risk").alias("k"))["k"]
    rows = rows.with_columns(kind.alias("_kind"))
    risk = rows.filter(pl.col("_kind") == "risk")
    flagged = risk.filter(pl.col("flagged").fill_null(False)).sort("rank")
    known = risk.filter(pl.col("value").is_not_null())
    if level == "force":
        t.append("The force's own values (never compared with itself):\n", style="dim")
        for txt in known["text"].to_list():
            t.append("  " + plain(txt, 200) + "\n")
    else:
        if flagged.height:
            t.append("Higher risk than the force (0.5 SD or more of the force's LSOAs):\n", style="bold")
            for txt in flagged["text"].to_list():
                t.append("▲ ", style="bold red")
                t.append(plain(txt, 200) + "\n")
        else:
            t.append("No curated risk factor stands out against the force.\n", style="dim")
        for comp, head in (("similar", "Similar to the force"), ("lower_risk", "Lower risk than the force")):
            labels = known.filter(pl.col("comparison") == comp)["label"].to_list()
            if labels:
                t.append(f"{head}: ", style="bold")
                t.append("; ".join(plain(lab, 80) for lab in labels) + "\n")
    missing = risk.filter(pl.col("value").is_null())
    if missing.height:
        t.append("Not known: ", style="bold")
        t.append("; ".join(f"{plain(lab, 80)} ({RISK_REASON.get(rsn, RISK_REASON['not_known'])})"
                           for lab, rsn in zip(missing["label"].to_list(),
                                               missing["reason"].to_list() if "reason" in missing.columns else [None] * missing.height))
                 + "\n", style="dim")
    ctx = rows.filter((pl.col("_kind") == "context") & pl.col("value").is_not_null())
    if ctx.height:
        t.append("Context (not risk factors): ", style="bold")
        t.append("; ".join(plain(x, 120) for x in ctx["text"].to_list()) + "\n", style="dim")
    return t


def interventions_for_area(res, level: str, code: str) -> Text:
    """For a CSP, how far each intervention reaches it (coverage); otherwise the interventions
    that list the area or one above it, work everywhere, or have local footprints."""
    t = Text()
    if not res.study.interventions:
        t.append("The study has no interventions file.", style="dim")
        return t
    if level == "csp":
        rows = res.reach(level, code)
        if rows.height:
            absent = []
            for rec in rows.sort("place_share", descending=True, nulls_last=True).iter_rows(named=True):
                if rec["reaches"] == "no":
                    absent.append(plain(rec["intervention"], 50))
                    continue
                t.append("• " + plain(rec["intervention"], 50), style="bold" if rec["reaches"] == "yes" else "")
                t.append(f" — its footprint holds {fmt.pct(rec['place_share'])} of the area's harm")
                if rec.get("needs_met"):
                    t.append(f"; meets {plain(rec['needs_met'], 80).replace('_', ' ')} needs")
                if rec.get("limits"):
                    t.append(f"; {plain(rec['limits'], 80)}", style="dim")
                t.append("\n")
            if absent:
                t.append("Not reaching it: " + ", ".join(absent) + "\n", style="dim")
            return t
    found = res.session.interventions_for(level, code)
    if not found:
        t.append("None listed for this area.", style="dim")
    for iv, how in found:
        t.append("• " + plain(iv.name, 60), style="bold" if how != "local" else "")
        bits = [plain(iv.cohort, 80)] if iv.cohort else []
        if iv.ages:
            bits.append(f"ages {iv.ages[0]}–{iv.ages[1]}")
        if how == "local":
            bits.append("local points or polygons: see 4 Gaps for where it reaches")
        t.append((" — " + "; ".join(bits)) if bits else "")
        t.append("\n")
    return t


def reach_text(rows) -> str:
    """The interventions reaching a locality (in place), from Results.reach("locality", id)."""
    rows = rows.filter(rows["reaches"] != "no") if rows.height else rows
    if rows.height == 0:
        return "none reach it"
    return ", ".join(
        f"{plain(n, 50)}" + (" (partly)" if r == "partly" else "") for n, r in zip(rows["intervention"].to_list(), rows["reaches"].to_list())
    )


NEED_LABEL = {
    "knife": "knife",
    "youth": "youth (under 25)",
    "night_time_economy": "night-time economy",
    "domestic_abuse": "domestic abuse",
    "sexual_violence": "sexual violence",
}
UNIT_LABEL = {"locality": "hotspot", "csp": "CSP", "district": "district", "ward": "ward", "lsoa": "LSOA", "force": "force"}


def keyed(frame, *cols):
    """The frame with a `_key` column joining `cols` (row identity for the table)."""
    import polars as pl

    if frame is None or frame.height == 0 or any(c not in frame.columns for c in cols):
        return frame
    return frame.with_columns(pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("") for c in cols], separator="|").alias("_key"))


def gaps_columns():
    from svtui.widgets.table import Column

    def pct(v):
        return Text(fmt.pct(v), justify="right")

    return [
        Column("unit", "Unit", lambda v: Text(UNIT_LABEL.get(v, plain(v, 12)))),
        Column("name", "Name", lambda v: fmt.cell(v, 40)),
        Column("need", "Need", lambda v: Text(NEED_LABEL.get(v, plain(v, 30)))),
        Column("share", "Share", pct),
        Column("covered_share", "Reached", pct),
        Column("gap_score", "Gap score"),
        Column("status", "Status", lambda v: fmt.cell(v, 12)),
        Column("providers", "Partly reached by", lambda v: fmt.cell(v, 60)),
    ]


def reach_columns():
    from svtui.widgets.table import Column

    def pct(v):
        return Text(fmt.pct(v), justify="right")

    def reaches(v):
        style = "bold green" if v == "yes" else "yellow" if v == "partly" else "dim"
        return Text(plain(v, 10), style=style)

    return [
        Column("unit", "Unit", lambda v: Text(UNIT_LABEL.get(v, plain(v, 12)))),
        Column("name", "Name", lambda v: fmt.cell(v, 40)),
        Column("intervention", "Intervention", lambda v: fmt.cell(v, 30)),
        Column("reaches", "Reaches", reaches),
        Column("place_share", "Place", pct),
        Column("time_share", "Hours", pct),
        Column("age_share", "Ages", pct),
        Column("needs_met", "Needs met", lambda v: fmt.cell(v, 40)),
        Column("limits", "Limits", lambda v: fmt.cell(v, 40)),
    ]


def briefing(res, subject) -> str:
    """Markdown briefing text for ("locality", id) or (level, code), from svtui.briefing."""
    from svtui.briefing import briefing as write

    return write(res, subject)


def slug(text: str) -> str:
    import re

    s = re.sub(r"[^A-Za-z0-9]+", "-", plain(text, 80)).strip("-").lower()
    return s or "briefing"


def export_briefing(app, subject, text: str):
    """Write the briefing (Markdown) with svtui.export, to a new file in the working folder."""
    from svtui.export import export_briefing as write
    from svtui.export import provenance
    from svtui.screens.exporting import new_path

    res = getattr(app, "results", None)
    prov = provenance(res, kind="briefing", extra={"subject": list(subject)}) if res is not None else None
    return write(text, new_path("briefing-" + slug(f"{subject[0]}-{subject[1]}"), ".md"), prov=prov)
