"""Calls into the issue-4 engine modules and the small reshaping the screens need.

Each function runs in a worker thread, asks the engine, and returns plain Python (dicts, Rich
Text) for a screen to lay out. No statistics here: counts, shares, changes and trends all come
from `hotspot.area_profiles`, `hotspot.measures`, `hotspot.risk` and `hotspot.coverage`.
"""
from __future__ import annotations

from rich.text import Text

from svtui.safe import plain
from svtui.screens import engine
from svtui.widgets import fmt

DUTY_SHORT = {
    "homicide": "Homicides",
    "ae_knife_assault": "Knife-assault A&E",
    "knife_crime": "Knife crime",
}


def _key(a):
    return (a.filters, a.params)


def profiles(app, level: str, a=None):
    """area_profiles for `level` under the current filters (cached per analysis)."""
    a = a or app.analysis
    key = ("profiles", _key(a), level)
    if key not in app.cache:
        fn = engine.find("area_profiles")
        notes: list[str] = []
        frame = fn(app.prep, a, level, indicators=app.study.indicators, notes=notes)
        app.cache[key] = (frame, notes)
    return app.cache[key]


def monthly(app, level: str, a=None):
    a = a or app.analysis
    key = ("monthly", _key(a), level)
    if key not in app.cache:
        mod = engine.module("area_profiles")
        app.cache[key] = mod.area_monthly(app.prep, a.filters, level)
    return app.cache[key]


def area_profile_rows(fn, prep, analysis, level: str, app=None) -> dict:
    """{code: {trend, change, change_text, da, youth, knife, notes}} for the overview."""
    import polars as pl

    if app is not None:
        frame, _notes = profiles(app, level, analysis)
        mon = monthly(app, level, analysis)
    else:
        frame = fn(prep, analysis, level)
        mon = engine.module("area_profiles").area_monthly(prep, analysis.filters, level)
    series = {}
    if mon.height:
        for code, grp in mon.sort("month").group_by("code", maintain_order=True):
            series[code[0] if isinstance(code, tuple) else code] = grp["n"].to_list()
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
    del pl
    return out


def duty(app):
    """Duty measures for the force and each CSP: (rows {code: {measure: (value, change)}}, notes)."""
    a = app.analysis
    key = ("duty", _key(a))
    if key in app.cache:
        return app.cache[key]
    import polars as pl

    fn = engine.find("duty_measures")
    frames = []
    notes: list[str] = []
    for level in ("force", "csp"):
        try:
            frames.append(fn(app.prep, app.study.ae, a.filters, level, indicators=app.study.indicators, notes=notes))
        except ValueError as exc:  # e.g. no CSP codes
            notes.append(str(exc))
    frame = pl.concat(frames, how="vertical_relaxed") if frames else None
    if frame is not None:
        frame = frame.filter(pl.col("duty"))
    app.cache[key] = (frame, list(dict.fromkeys(notes)))
    return app.cache[key]


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


def risks(app, level: str):
    """risk_factors for `level` (filter-independent: cached per study)."""
    key = ("risk", id(app.study), level)
    if key not in app.cache:
        fn = engine.find("risk_factors")
        notes: list[str] = []
        app.cache[key] = (fn(app.prep, app.study.indicators, level, areas=app.study.areas, notes=notes), notes)
    return app.cache[key]


def area_profile_text(app, level: str, code: str) -> Text:
    """The chosen area's profile in words and numbers (from area_profiles)."""
    import polars as pl

    t = Text()
    if engine.find("area_profiles") is None:
        t.append(engine.placeholder("area_profiles"), style="dim")
        return t
    a = app.analysis
    frame, notes = profiles(app, level, a)
    row = frame.filter(pl.col("code") == code)
    if row.height == 0:
        t.append("No profile for this area.", style="dim")
        return t
    r = row.row(0, named=True)
    t.append("Serious violence  ", style="bold")
    t.append(f"{fmt.num(r.get('n'))} incidents, harm {fmt.num(r.get('harm'))}")
    if r.get("period_start"):
        t.append(f" in {fmt.month(r['period_start'])} – {fmt.month(r['period_end'])}")
    if r.get("share_of_total") is not None:
        t.append(f" ({fmt.pct(r['share_of_total'])} of the study's)")
    if r.get("rate_per_1000_year") is not None:
        t.append(f" · {r['rate_per_1000_year']:.1f} per 1,000 residents a year")
    t.append("\n")
    mon = monthly(app, level, a).filter(pl.col("code") == code).sort("month")
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


def risk_text(app, level: str, code: str) -> Text:
    import polars as pl

    t = Text()
    if engine.find("risk_factors") is None:
        t.append(engine.placeholder("risk_factors"), style="dim")
        return t
    frame, notes = risks(app, level)
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


def interventions_for_area(app, level: str, code: str) -> Text:
    """Interventions whose listed areas include this area or one above it (or everywhere)."""
    import polars as pl

    from geodata.interventions import area_key

    st = app.study
    t = Text()
    if not st.interventions:
        t.append("The study has no interventions file.", style="dim")
        return t
    if level == "csp" and engine.find("coverage") is not None:
        reach, _gaps, _notes = coverage(app)
        rows = reach.filter((pl.col("unit") == "csp") & (pl.col("code") == code)) if reach.height else reach
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
    h = app.prep.hierarchy
    col = f"{level}_code"
    keys = {area_key(code)}
    if col in h.columns:
        rows = h.filter(pl.col(col) == code)
        levels = ["lsoa", "ward", "district", "csp", "force"]
        for lv in levels[levels.index(level):]:
            for k in ("code", "name"):
                c = f"{lv}_{k}"
                if c in rows.columns:
                    keys |= {area_key(v) for v in rows[c].drop_nulls().unique().to_list()}
    found = []
    for iv in st.interventions:
        listed = {area_key(a) for a in iv.areas}
        if iv.everywhere or listed & keys:
            found.append((iv, "everywhere" if iv.everywhere else "area"))
        elif iv.points or iv.polygons:
            found.append((iv, "local"))
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


def reach_text(reach, locality_id: str) -> str:
    """The interventions reaching a locality (in place), from coverage()'s reach frame."""
    try:
        import polars as pl

        rows = reach.filter((pl.col("unit") == "locality") & (pl.col("code") == locality_id) & (pl.col("reaches") != "no"))
        if rows.height == 0:
            return "none reach it"
        return ", ".join(
            f"{plain(n, 50)}" + (" (partly)" if r == "partly" else "") for n, r in zip(rows["intervention"].to_list(), rows["reaches"].to_list())
        )
    except Exception:  # noqa: BLE001
        return "see 4 Gaps"


def coverage(app):
    """(reach, gaps, notes) from hotspot.coverage for the current analysis (cached)."""
    import inspect

    a = app.analysis
    key = ("coverage", _key(a))
    if key in app.cache:
        return app.cache[key]
    fn = engine.find("coverage")
    params = inspect.signature(fn).parameters
    notes: list[str] = []
    kwargs = {}
    if "notes" in params:
        kwargs["notes"] = notes
    if "areas" in params:
        kwargs["areas"] = app.study.areas
    names = list(params)
    args = [app.prep, a]
    if len(names) > 2 and names[2] in ("interventions", "ivs"):
        args.append(app.study.interventions)
    elif "interventions" in params:
        kwargs["interventions"] = app.study.interventions
    reach, gaps = fn(*args, **kwargs)[:2]
    app.cache[key] = (reach, gaps, notes)
    app.cache[("reach", _key(a))] = reach
    return app.cache[key]


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


def briefing(app, subject) -> str:
    """Markdown briefing text for ("locality", id) or (level, code) from svtui.briefing."""
    import inspect

    fn = engine.find("briefing")
    kind, key = subject
    params = inspect.signature(fn).parameters
    kwargs = {}
    for name, value in (("study", app.study), ("prep", app.prep), ("analysis", app.analysis)):
        if name in params:
            kwargs[name] = value
    if "subject" in params:
        kwargs["subject"] = subject
    else:
        if "kind" in params:
            kwargs["kind"] = kind
        if "level" in params:
            kwargs["level"] = kind
        for name in ("key", "code", "id", "locality_id", "area"):
            if name in params:
                kwargs[name] = key
                break
    out = fn(**kwargs)
    return out if isinstance(out, str) else str(getattr(out, "markdown", out))


def slug(text: str) -> str:
    import re

    s = re.sub(r"[^A-Za-z0-9]+", "-", plain(text, 80)).strip("-").lower()
    return s or "briefing"


def export_briefing(app, subject, text: str):
    """Write the briefing (Markdown) with svtui.export, to a new file in the working folder."""
    from svtui.screens.exporting import new_path

    mod = engine.module("export")
    fn = getattr(mod, "export_briefing", None) if mod is not None else None
    path = new_path("briefing-" + slug(f"{subject[0]}-{subject[1]}"), ".md")
    if callable(fn):
        return fn(text, path)
    from geodata.atomic import write_text_atomic

    return write_text_atomic(text, path)
