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


def duty_cell(rec: dict) -> Text:
    if not rec.get("available"):
        return Text("n/a", style="dim")
    latest = rec.get("latest_12m")
    if latest is not None:
        t = Text(f"{int(latest):,}")
        ch = rec.get("change_12m")
        if ch is not None:
            t.append(" ")
            t.append_text(fmt.change(ch))
        return t
    n = rec.get("n")
    return Text(f"{int(n):,}*" if n is not None else fmt.DASH)


def area_profile_text(res, level: str, code: str) -> Text:
    """The chosen area's profile in words and numbers (from Results.area_profile)."""
    import polars as pl

    t = Text()
    r = res.area_profile(level, code)
    if r is None:
        t.append("No profile for this area.", style="dim")
        return t
    t.append("Serious violence  ", style="bold")
    t.append(f"{fmt.num(r.get('n'))} incidents, harm {fmt.num(r.get('harm'))}")
    if r.get("period_start"):
        t.append(f" in {fmt.month(r['period_start'])} – {fmt.month(r['period_end'])}")
    if r.get("share_of_total") is not None:
        t.append(f" ({fmt.pct(r['share_of_total'])} of the study's)")
    if r.get("rate_per_1000_year") is not None:
        t.append(f" · {r['rate_per_1000_year']:.1f} per 1,000 residents a year")
    t.append("\n")
    mon = res.monthly(level).filter(pl.col("code") == code).sort("month")
    if mon.height:
        t.append("Monthly  ", style="bold")
        t.append(fmt.sparkline(mon["n"].to_list(), 48), style="bold")
        t.append(f"  trend: {plain(r.get('trend'), 40)}\n", style="dim")
    t.append("Change  ", style="bold")
    t.append(plain(r.get("change_12m_text"), 200) + "\n")
    if r.get("change_3y") is not None:
        t.append("        " + plain(r.get("change_3y_text"), 200) + "\n")
    t.append("Shares  ", style="bold")
    parts = []
    for key, label in (("domestic_abuse", "domestic abuse"), ("youth", "youth"), ("sexual", "sexual"), ("knife", "knife"), ("public_place", "public place"), ("nte", "night-time economy")):
        v = r.get(f"{key}_share")
        parts.append(f"{label} {fmt.pct(v) if v is not None else 'not known'}")
    t.append(" · ".join(parts) + "\n")
    unknown = [plain(r.get(f"{k}_note"), 160) for k in ("domestic_abuse", "youth", "knife") if r.get(f"{k}_note")]
    for u in dict.fromkeys(unknown):
        t.append("        " + u + "\n", style="dim")
    if r.get("top_categories"):
        t.append("Mix  ", style="bold")
        t.append(plain(r["top_categories"], 300) + "\n")
    return t


def risk_text(res, level: str, code: str) -> Text:
    import polars as pl

    t = Text()
    frame = res.risk(level)
    rows = frame.filter(pl.col("code") == code)
    flagged = rows.filter(pl.col("flagged").fill_null(False)).sort("rank")
    if rows.height == 0 or rows["factor"].null_count() == rows.height:
        t.append("No indicators for this study (add deprivation or population indicators).", style="dim")
        return t
    if flagged.height:
        for txt in flagged["text"].head(5).to_list():
            t.append("▲ ", style="bold red")
            t.append(plain(txt, 200) + "\n")
    else:
        t.append("No factor stands out against the force.\n", style="dim")
    others = rows.filter(~pl.col("flagged").fill_null(False) & pl.col("text").is_not_null()).head(4)
    for txt in others["text"].to_list():
        t.append("  " + plain(txt, 200) + "\n", style="dim")
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
