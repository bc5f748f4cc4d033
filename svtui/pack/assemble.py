"""Build the meeting pack's document once, from one loaded and analysed study.

Order: a summary page for the force or partnership (map of all localities shaded by harm, a
monthly chart, key-figure tables), one section per CSP (briefing text within the word budget,
monthly chart, category mix, time of day and day of week where times exist), one page per
locality (the top N by harm: its map, its monthly chart, its text), then the data notes once.

Counts are shown under the chosen disclosure rule everywhere: text (svtui.briefing applies
it), tables (:func:`disclose_frame`), charts and maps (svtui.pack.draw.shown).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from svtui import disclosure as dc
from svtui.pack import draw
from svtui.pack.model import Bullets, Document, Figure, Para, Section, Table
from svtui.pack.text import (CSP_WORDS, LOCALITY_WORDS, SUMMARY_WORDS, SubjectText, fit_budget, lift_caveats,
                             lift_common, subject_text)
from svtui.safe import plain

MIN_TIMED = 20  # as svtui.briefing: fewer offences with a time than this gives no time chart
N_REPEATS = 5
MIN_REPEATS = 2  # as hotspot.repeats.MIN_REPEATS: one offence at a point is not a repeat
N_VENUES = 8


@dataclass
class Plan:
    """Which subjects the pack covers."""

    areas: list[tuple[str, str, str]]  # (level, code, name)
    localities: list[str]  # locality ids, in harm order
    skipped: list[str] = field(default_factory=list)  # reasons, for the notes


def _paged(loc: pl.DataFrame) -> pl.Expr:
    """Which localities may get a page of their own: the significant ones (the exact scan test,
    hotspot's `significant`) and those the review group adopted. The area budget holds thousands
    of cells, most of them single 100 m cells no test singles out; a meeting acts on the others."""
    e = pl.col("significant").fill_null(False) if "significant" in loc.columns else pl.lit(True)
    if "adopted" in loc.columns:
        e = e | pl.col("adopted").fill_null(False)
    return e


def plan(results, top: int, subjects: list[str] | None, rule: dc.Rule) -> Plan:
    """CSPs (or the named areas) and the top `top` significant (or adopted) localities by harm,
    or the named ones (any locality the disclosure rule allows).

    Areas are found by Session.find_area (name or ONS code at any level), localities by id."""
    from hotspot.session import NotFound

    loc = results.localities
    loc = loc.sort(["harm", "locality_id"], descending=[True, False]) if loc.height else loc
    allowed = loc.filter(pl.col("n_incidents") >= rule.locality_min) if loc.height else loc
    skipped = []
    if loc.height and allowed.height < loc.height:
        skipped.append(f"{loc.height - allowed.height} {dc.plural(loc.height - allowed.height, 'locality', 'localities')} "
                       f"with fewer than {rule.locality_min} offences left out under {rule.level} disclosure.")
    named_ok = set(allowed["locality_id"].to_list()) if allowed.height else set()
    paged = allowed.filter(_paged(allowed)) if allowed.height else allowed
    if allowed.height and paged.height < allowed.height:
        n_out = allowed.height - paged.height
        skipped.append(f"Locality pages go to significant (or adopted) localities only: {n_out:,} "
                       f"{dc.plural(n_out, 'locality', 'localities')} of the area budget that the scan test does not "
                       "single out have no page (the workbook's localities sheet lists every one).")
    ids = paged["locality_id"].to_list() if paged.height else []
    if not subjects:
        h = results.session.areas("csp").drop_nulls().unique().sort(["name", "code"])
        areas = [("csp", c, n) for c, n in h.select("code", "name").iter_rows()]
        return Plan(areas, ids[:top], skipped)
    areas, locs = [], []
    upper = {i.upper(): i for i in (loc["locality_id"].to_list() if loc.height else [])}
    for s in subjects:
        s = s.strip()
        if s.upper() in upper:
            lid = upper[s.upper()]
            if lid not in named_ok:
                raise ValueError(f"locality {lid} has fewer than {rule.locality_min} offences: the {rule.level} "
                                 "disclosure rule does not allow it to be described")
            locs.append(lid)
            continue
        try:
            a = results.session.find_area(s)
        except NotFound as exc:
            near = f" (closest: {', '.join(plain(c, 60) for c in exc.close)})" if exc.close else ""
            what = (f"names {len(exc.ambiguous)} areas: {', '.join(exc.ambiguous)}; give the code" if exc.ambiguous
                    else f"is not an area or a locality of this study{near}")
            raise ValueError(f"--subjects {plain(s, 80)!r} {what}") from None
        areas.append((a.level, a.code, a.name))
    if areas and not locs:  # areas named: their own top localities
        keep = []
        for level, code, _n in areas:
            col = f"{level}_code"
            if level == "force":
                keep += ids
            elif col in paged.columns:
                keep += paged.filter(pl.col(col) == code)["locality_id"].to_list()
        seen = set(keep)
        locs = [i for i in ids if i in seen][:top]
    return Plan(list(dict.fromkeys(areas)), list(dict.fromkeys(locs)), skipped)


# ------------------------------------------------------------------------------------ tables


def disclose_frame(df: pl.DataFrame, rule: dc.Rule) -> pl.DataFrame:
    """A table under the disclosure rule: integer count columns of 1..small_max become null (their
    text column says "fewer than 5"), counts are rounded under public, and a share `X_share` is
    withheld when its `X_n` or the rest (`X_known` - `X_n`) is small."""
    if rule.level == "none" or df.height == 0:
        return df
    out = df
    ints = [c for c, t in df.schema.items() if t.is_integer() and _is_count(c)]
    floats = [c for c, t in df.schema.items() if _is_float_count(c, t)]
    exprs = []
    for c in ints + floats:
        kind = pl.Int64 if c in ints else pl.Float64
        col = pl.col(c).cast(kind)
        small = (col > 0) & (col < rule.small_max + 1)
        val = pl.when(small).then(None).otherwise(col)
        if rule.round_to > 1:
            val = pl.when(small).then(None).otherwise(
                ((col.cast(pl.Float64) / rule.round_to + 0.5).floor() * rule.round_to).cast(kind))
        exprs.append(val.alias(c))
    for c, t in df.schema.items():  # lists of counts (top_venue_n): the same rule per element
        if isinstance(t, pl.List) and t.inner.is_integer() and _is_count(c):
            e = pl.element().cast(pl.Int64)
            small = (e > 0) & (e <= rule.small_max)
            val = ((e.cast(pl.Float64) / rule.round_to + 0.5).floor() * rule.round_to).cast(pl.Int64) \
                if rule.round_to > 1 else e
            exprs.append(pl.col(c).list.eval(pl.when(small).then(None).otherwise(val)).alias(c))
    for c in df.columns:
        if c.endswith("_share") and f"{c[:-6]}_n" in df.columns and f"{c[:-6]}_known" in df.columns:
            n, k = pl.col(f"{c[:-6]}_n").cast(pl.Float64), pl.col(f"{c[:-6]}_known").cast(pl.Float64)
            bad = ((n > 0) & (n < rule.share_min)) | ((k - n > 0) & (k - n < rule.share_min)) | \
                  ((k > 0) & (k < rule.share_min))
            exprs.append(pl.when(bad).then(None).otherwise(pl.col(c)).alias(c))
    return out.with_columns(exprs) if exprs else out


def _is_count(name: str) -> bool:
    """A column of offence counts, by name. `n`, `X_n` and `incidents` always are (so
    `peak_weekday_n`, the offences on the peak day, is one even though `peak_weekday` is a day);
    `n_X`, `X_known`, `X_12m` and `*count*` are unless they name a rank, a time or a cell."""
    n = name.lower()
    if n in ("n", "incidents", "read", "accepted", "quarantined") or n.endswith("_n"):
        return True
    if any(w in n for w in ("rank", "decile", "month", "year", "cell", "population", "hour", "weekday", "percentile")):
        return False
    return n.startswith("n_") or n.endswith("_known") or n.endswith("_12m") or "count" in n


def _is_float_count(name: str, dtype) -> bool:
    """A float column holding counts (the engine's `X_known`: offences whose flag is known,
    float because a share's denominator): disclosed like an integer count."""
    return dtype.is_float() and name.lower().endswith("_known")


def sheet_frames(results, rule: dc.Rule, workspace=None) -> dict[str, pl.DataFrame]:
    """The workbook's tables under the disclosure rule, all from the Results: areas (CSP
    profiles), localities, measures, risk, gaps, and actions when the review log exists."""
    out: dict[str, pl.DataFrame] = {}
    out["areas"] = results.table("areas", "csp")
    loc = results.localities
    if loc.height and "significant" in loc.columns:  # thousands of budget cells: the ones a meeting acts on first
        loc = loc.sort([_paged(loc), "harm", "locality_id"], descending=[True, True, False])
    out["localities"] = loc
    for name, get in (("measures", lambda: results.measures("csp")), ("risk", lambda: results.risk("csp"))):
        try:
            out[name] = get()
        except (ValueError, KeyError, OSError) as exc:  # a missing source: the sheet says why
            out[name] = pl.DataFrame({"note": [f"{name.capitalize()} not available: {plain(exc, 300)}"]})
    out["gaps"] = results.table("gaps", "csp")
    act = actions_frame(results.study, workspace)
    if act is not None:
        out["actions"] = act
    return {k: disclose_frame(v.drop([c for c in v.columns if c.startswith("geometry")]), rule)
            for k, v in out.items()}


def actions_frame(study, workspace=None) -> pl.DataFrame | None:
    """The review group's actions (the latest version of each, geodata.actions.ActionLog.current)
    when the study's workspace has an action log; None when it has none. The log is never
    created here: a pack only reads it."""
    from geodata.actions import open_log
    from geodata.errors import SourceError
    from geodata.workspace import actions_path, resolve_workspace

    try:
        p = actions_path(resolve_workspace(getattr(study, "spec", None), workspace))
    except (SourceError, AttributeError, TypeError):  # no workspace for this study: no review log
        return None
    if not p.is_file():
        return None
    try:
        log = open_log(p, create=False)
    except SourceError as exc:
        return pl.DataFrame({"note": [f"The review log could not be read: {plain(exc, 300)}"]})
    try:
        return log.current()
    finally:
        log.close()


# ----------------------------------------------------------------------------------- figures


class _Geo:
    """The study's own boundaries, dissolved once: CSPs and wards (BNG), LSOAs, venues."""

    def __init__(self, study):
        from geodata.areas import level_polygons

        self.areas = getattr(study, "areas", None)
        self.csp = self.ward = None
        if self.areas is not None:
            try:
                self.csp = level_polygons(self.areas, "csp")
            except Exception:  # noqa: BLE001 - no CSP codes: the map shows the LSOAs' outline
                self.csp = None
            try:
                self.ward = level_polygons(self.areas, "ward")
            except Exception:  # noqa: BLE001
                self.ward = None
        v = getattr(study, "venues", None)
        self.venues = v.filter(pl.col("licensed").fill_null(False)) if v is not None and v.height and "licensed" in v.columns else None

    def units(self):
        if self.csp is not None:
            return list(zip([plain(n, 60) for n in self.csp["csp_name"]], self.csp.geometry.values))
        if self.areas is not None:
            return [("study area", self.areas.lsoa.geometry.union_all())]
        return []

    def near(self, gdf, bounds):
        if gdf is None:
            return gdf
        return gdf.cx[bounds[0]:bounds[2], bounds[1]:bounds[3]]


def _series(months_all: list[date], frame: pl.DataFrame, known: set[date]) -> np.ndarray:
    """Counts on the full month axis: a month the study has no data for (not in `known`, or a
    null count, as Results.monthly gives a missing month) is NaN; a month with data but no
    offence is 0."""
    got = dict(zip(frame["month"].to_list(), frame["n"].to_list())) if frame.height else {}
    return np.array([np.nan if m not in known or (m in got and got[m] is None) else float(got.get(m, 0))
                     for m in months_all])


def _limits(series: np.ndarray):
    from hotspot.rates import c_chart

    recent = series[-12:]
    return c_chart(recent) if np.isfinite(recent).sum() >= 6 else None


def _monthly_figure(months, series, rule, what: str, height_in: float = 1.45) -> Figure:
    lim = _limits(series)
    png, facts = draw.monthly_chart(months, series, rule, limits=lim, height_in=height_in)
    cap = f"Offences a month in {what}, {months[0]:%B %Y} to {months[-1]:%B %Y}"
    extra = []
    if lim is not None:
        extra.append("grey lines: the average of the last 12 months and its control limits (c-chart)")
    if facts["nodata"]:
        extra.append(f"dotted: {facts['nodata']} {dc.plural(facts['nodata'], 'month')} with no data (a gap, not zero)")
    if facts["withheld"]:
        extra.append(f"hatched: {facts['withheld']} {dc.plural(facts['withheld'], 'month')} with fewer than "
                     f"{rule.threshold} offences (not drawn)")
    cap += ("; " + "; ".join(extra) if extra else "") + "."
    return Figure("chart", png, cap, f"Monthly offences chart for {what}")


def _category_figure(inc_cats: pl.DataFrame, labels: dict[str, str], rule, what: str) -> Figure | None:
    if inc_cats.height == 0:
        return None
    f = inc_cats.filter(pl.col("n") > 0)
    if f.height == 0:
        return None
    labs = [labels.get(c, c.replace("_", " ")) for c in f["category"].to_list()]
    png, hidden = draw.category_chart(labs, f["n"].to_list(), rule)
    cap = f"Offences in {what} by part of the serious-violence definition"
    if hidden:
        cap += f"; {len(hidden)} {dc.plural(len(hidden), 'part')} with fewer than {rule.threshold} not drawn"
    return Figure("chart", png, cap + ".", f"Category mix chart for {what}")


def _time_figure(inc: pl.DataFrame, rule, what: str) -> Figure | None:
    if "hour" not in inc.columns or "weekday" not in inc.columns:
        return None
    t = inc.filter(pl.col("hour").is_not_null() & pl.col("weekday").is_not_null())
    if t.height < MIN_TIMED:
        return None
    hours = np.bincount(t["hour"].cast(pl.Int64).to_numpy(), minlength=24)[:24]
    # hotspot.profiles: weekday is ISO (1 = Monday .. 7 = Sunday)
    days = np.bincount(t["weekday"].cast(pl.Int64).to_numpy() - 1, minlength=7)[:7]
    png = draw.time_chart(hours, days, rule)
    shown = dc.count(t.height, rule).text
    return Figure("chart", png, f"When offences began in {what}: by hour of day and by day of week "
                                f"({shown} offences with a recorded time).", f"Time of day and day of week chart for {what}")


# -------------------------------------------------------------------------------------- text


def _text_blocks(st: SubjectText, skip: tuple[str, ...] = ()) -> list:
    """Sections of a briefing as headings-with-paragraphs; consecutive bullets become one list."""
    out = []
    for sid, title, blocks in st.sections:
        if sid in skip:
            continue
        items: list[str] = []
        body = []
        for kind, text in blocks:
            if kind == "li":
                items.append(text)
                continue
            if kind == "sep":  # a lead-in said in every briefing was left out: the list still ends here
                if items:
                    body.append(Bullets(items))
                    items = []
                continue
            if items:
                body.append(Bullets(items))
                items = []
            body.append(Para(text, "lead" if sid == "headline" else "body"))
        if items:
            body.append(Bullets(items))
        out.append((sid, title, body))
    return out


def _fmt_int(n) -> str:
    return "" if n is None else f"{int(n):,}"


def _csp_table(areas: pl.DataFrame, rule) -> Table:
    """Each CSP's offences over the period, its share, and (with 24 months) the yearly change."""
    rows = []
    total = sum(v or 0 for v in areas["n"].to_list()) if "n" in areas.columns else None
    yearly = "latest_12m" in areas.columns and areas["latest_12m"].drop_nulls().len() > 0
    for r in areas.sort("name").iter_rows(named=True):
        rate = r.get("rate_per_1000_year")
        row = [plain(r["name"], 60), dc.count(r.get("n"), rule).text,
               dc.share(r.get("n"), total, rule).text if total else "not known"]
        if yearly:
            row.append(dc.change(r.get("latest_12m"), r.get("previous_12m"), rule).text)
        row.append("not known" if rate is None or (isinstance(rate, float) and np.isnan(rate)) or
                   dc.is_small(r.get("n"), rule) else f"{rate:.1f}")
        rows.append(row)
    cols = ["CSP", "offences in the period", "share of all offences"] + \
        (["change, latest 12 months on the 12 before"] if yearly else []) + ["per 1,000 residents a year"]
    cap = "Counts under the disclosure rule."
    if not yearly:
        cap += " No yearly change: it needs 24 months of data."
    return Table("Each CSP at a glance", cols, rows, cap)


def _loc_table(loc: pl.DataFrame, ids: list[str], rule) -> Table:
    rows = []
    sub = loc.filter(pl.col("locality_id").is_in(ids)).sort("harm", descending=True)
    for i, r in enumerate(sub.iter_rows(named=True), start=1):
        sh = r.get("share_of_area_harm")
        rows.append([str(i), plain(r["locality_id"], 20), plain(r["name"], 60), plain(r.get("csp_name") or "", 40),
                     dc.count(r["n_incidents"], rule).text,
                     "" if sh is None else dc.pct_text(sh), plain(r.get("trend") or "", 20)])
    return Table("The localities in this pack, by harm", ["#", "id", "locality", "CSP", "offences",
                                                          "share of CSP harm", "trend"], rows,
                 "Ranked by harm (offences weighted by the ONS Crime Severity Score).",
                 [0.8, 2.3, 5.4, 3.0, 1.7, 1.6, 2.2])


# ------------------------------------------------------------------------------------- build


def build_document(results, *, top: int = 10, subjects: list[str] | None = None,
                   disclosure: str = dc.DEFAULT_LEVEL, workspace=None, timings: dict | None = None) -> Document:
    """The whole pack as a Document (see svtui.pack.model) from one hotspot.session.Results;
    nothing is written here."""
    import shapely

    from hotspot.area_profiles import missing_months

    from svtui.export import provenance

    t0 = time.perf_counter()
    timings = timings if timings is not None else {}
    rule = dc.rule_for(disclosure)
    prep, study = results.prep, results.study
    pl_ = plan(results, top, subjects, rule)
    d = prep.definition
    labels = {c.id: c.label for c in d.categories}
    win = results.window
    months_all = draw.month_axis(*win) if win else []
    gaps = set(missing_months(prep))
    known = {m for m in months_all if m not in gaps}
    loc = results.localities

    # --- text, once, with the pack's editing rules (budgets and caveats once are enforced here)
    said: dict[str, None] = {}
    force_txt = subject_text(results, ("force", None), rule.level)
    area_txt = [subject_text(results, (lvl, code), rule.level) for lvl, code, _n in pl_.areas]
    loc_txt = [subject_text(results, ("locality", lid), rule.level) for lid in pl_.localities]
    all_txt = [force_txt] + area_txt + loc_txt
    for st in all_txt:
        lift_caveats(st, said)
    lift_common(area_txt + loc_txt, said)
    fit_budget(force_txt, SUMMARY_WORDS)
    for st in area_txt:
        fit_budget(st, CSP_WORDS)
    for st in loc_txt:
        # a locality page is about a place: who is involved is said at CSP level
        st.sections = [x for x in st.sections if x[0] != "who"]
        fit_budget(st, LOCALITY_WORDS)
    timings["text"] = time.perf_counter() - t0

    doc = Document(title=("Serious violence meeting pack: " if not d.applies_to == "police.uk" else
                          "Violence meeting pack (police.uk proxy): ") + plain(force_txt.name, 120),
                   subtitle=force_txt.subtitle, synthetic=bool(prep.synthetic))
    notes_extra: list[str] = list(pl_.skipped)

    # --- summary page
    t1 = time.perf_counter()
    geo = _Geo(study)
    sect = Section(f"Summary: {plain(force_txt.name, 120)}", "summary", "summary", 1)
    if doc.synthetic:
        sect.blocks.append(Para("SYNTHETIC sample data: every area, venue and offence in this pack is made up. "
                                "Do not use it for decisions.", "note"))
    for sid, title, body in _text_blocks(force_txt, skip=("focus",)):
        if sid == "headline":
            sect.blocks += body
    loc_rows = []
    if loc.height and pl_.localities:
        sub = loc.filter(pl.col("locality_id").is_in(pl_.localities)).select("locality_id", "x", "y", "harm",
                                                                            "geometry_wkb")
        geoms = shapely.from_wkb(sub["geometry_wkb"].to_numpy())
        loc_rows = [{**r, "geometry": g} for r, g in zip(sub.drop("geometry_wkb").iter_rows(named=True), geoms)]
    png = draw.partnership_map(geo.units(), loc_rows)
    sect.blocks.append(Figure("map", png, f"The partnership's CSPs (names in italics) and the {len(loc_rows)} hotspot "
                                          f"{dc.plural(len(loc_rows), 'locality', 'localities')} in this pack, shaded by "
                                          "harm (darker = more harm) and labelled by id.",
                              "Map of the partnership with its hotspot localities"))
    fm = results.monthly("force")
    if months_all and fm.height:
        sect.blocks.append(_monthly_figure(months_all, _series(months_all, fm, known), rule, "the force area"))
    sect.blocks.append(_csp_table(results.profiles("csp"), rule))
    if pl_.localities:
        sect.blocks.append(_loc_table(loc, pl_.localities, rule))
    for sid, title, body in _text_blocks(force_txt, skip=("headline", "focus")):
        sect.blocks.append(Para(title, "subhead"))
        sect.blocks += body
    doc.sections.append(sect)
    doc.word_counts["summary"] = force_txt.words

    # --- one section per CSP (or named area)
    has_times = False
    for (lvl, code, name), st in zip(pl_.areas, area_txt):
        sec = Section(plain(st.title, 160), "csp" if lvl == "csp" else "area", code, 1, page_break=True)
        sec.blocks.append(Para(st.subtitle, "note"))
        for sid, title, body in _text_blocks(st):
            if sid != "headline":
                sec.blocks.append(Para(title, "subhead"))
            sec.blocks += body
            if sid == "headline" and months_all:
                m = results.monthly(lvl).filter(pl.col("code") == code)
                sec.blocks.append(_monthly_figure(months_all, _series(months_all, m, known), rule, plain(name, 80)))
            if sid == "what":
                f = _category_figure(results.categories(lvl).filter(pl.col("code") == code), labels, rule,
                                     plain(name, 80))
                if f:
                    sec.blocks.append(f)
            if sid == "when":
                f = _time_figure(results.area_incidents(lvl, code), rule, plain(name, 80))
                if f:
                    has_times = True
                    sec.blocks.append(f)
        doc.sections.append(sec)
        doc.word_counts[code] = st.words
    timings["areas"] = time.perf_counter() - t1

    # --- one page per locality
    t2 = time.perf_counter()
    if pl_.localities:
        doc.sections.append(Section("Hotspot localities", "part", "localities", 1, page_break=True, blocks=[
            Para(f"One page for each of the {len(pl_.localities)} significant (or adopted) localities with most harm, "
                 "largest first: its map, "
                 "its monthly series and its briefing.", "body")]))
    points = _repeat_points(results)
    lm = results.locality_monthly()
    for rank, (lid, st) in enumerate(zip(pl_.localities, loc_txt), start=1):
        r = results.locality(lid)
        g = shapely.from_wkb(r["geometry_wkb"])
        # the first locality shares its page with the part's heading (no page holding one sentence)
        sec = Section(plain(f"{rank}. {r['name']} ({lid})", 160), "locality", lid, 2, page_break=rank > 1)
        png, n_rep = _locality_map(geo, g, r, points, rule)
        sec.blocks.append(Figure("map", png, _map_caption(r, rule, n_rep), f"Map of locality {lid}", 11.0))
        if months_all:
            sec.blocks.append(_monthly_figure(months_all, _series(months_all, lm.filter(pl.col("locality_id") == lid),
                                                                  known), rule, "the locality", 1.1))
        for sid, title, body in _text_blocks(st):
            if sid != "headline":
                sec.blocks.append(Para(title, "subhead"))
            sec.blocks += body
        doc.sections.append(sec)
        doc.word_counts[lid] = sec.words()
    timings["localities"] = time.perf_counter() - t2

    # --- the data notes, once
    notes = Section("Data notes", "notes", "notes", 1, page_break=True)
    seen: dict[str, None] = {}
    for st in all_txt:
        for n in st.notes:
            seen.setdefault(n, None)
    items = list(seen) + [n for n in said if n not in seen]
    if not has_times and pl_.areas:
        items.append("No time-of-day or day-of-week chart: " + (
            "police.uk gives the month of each offence only, never the day or time." if d.applies_to == "police.uk"
            else f"fewer than {MIN_TIMED} offences in each area have a recorded time."))
    items.append(f"Charts and maps follow the same {rule.level} disclosure rule as the text: a month, hour, day or "
                 f"part of the definition with fewer than {rule.threshold} offences is not drawn"
                 + (", and other counts are rounded to the nearest 5" if rule.round_to > 1 else "")
                 + ". Maps show areas and places, never individual offences.")
    items.append(f"Each CSP briefing is kept to about {CSP_WORDS} words and each locality briefing to about "
                 f"{LOCALITY_WORDS}; svtui brief gives the full text for one subject.")
    items += notes_extra
    notes.blocks.append(Bullets(items))
    doc.sections.append(notes)

    # --- the workbook's tables and provenance
    t3 = time.perf_counter()
    doc.tables = sheet_frames(results, rule, workspace)
    doc.provenance = provenance(results, kind="pack", extra={
        "disclosure_rule": rule.describe(), "top": top, "subjects": subjects or [],
        "localities": pl_.localities, "areas": [c for _l, c, _n in pl_.areas],
        "sheets": list(doc.tables)})
    timings["tables"] = time.perf_counter() - t3
    return doc


def _map_caption(r: dict, rule, n_repeats: int) -> str:
    rep = (f"its top {n_repeats} repeat {dc.plural(n_repeats, 'location')} (numbered; counts under {rule.level} "
           "disclosure)" if n_repeats else
           f"no repeat location marked: no single point holds {max(rule.threshold, MIN_REPEATS)} or more offences")
    return (f"Locality {plain(r['locality_id'], 20)} (yellow) on its wards (solid, named) and LSOAs (dotted), with "
            f"licensed venues (triangles); {rep}.")


def _repeat_points(results) -> pl.DataFrame:
    """Every repeat location of the window (hotspot.repeats.repeat_locations per LSOA, so a
    locality's handful of LSOAs offers up to TOP_N points each), computed once per Results."""
    from hotspot.repeats import repeat_locations

    return results.session.cached(("pack", "repeats", results.filters),
                                  lambda: repeat_locations(results.prep, results.filters, "lsoa"))


def _locality_map(geo: _Geo, g, r: dict, points: pl.DataFrame, rule) -> tuple[bytes, int]:
    b = g.bounds
    pad = max(b[2] - b[0], b[3] - b[1]) * 0.3 + 150  # as draw.locality_map, widened below for aspect
    pad *= 2
    view = (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
    lsoas = list(geo.near(geo.areas.lsoa, view).geometry.values) if geo.areas is not None else []
    wards = []
    if geo.ward is not None:
        w = geo.near(geo.ward, view)
        wards = list(zip([plain(n, 40) for n in w["ward_name"]], w.geometry.values))
    venues = []
    if geo.venues is not None:
        v = geo.venues.filter(pl.col("easting").is_between(view[0], view[2]) &
                              pl.col("northing").is_between(view[1], view[3]))
        # the venues named in the locality's profile first, then the nearest to its centre
        top = [plain(x, 60) for x in (r.get("top_venues") or [])]
        v = v.with_columns(((pl.col("easting") - r["x"]) ** 2 + (pl.col("northing") - r["y"]) ** 2).alias("_d2"),
                           pl.col("name").is_in(top).alias("_top")).sort(["_top", "_d2"], descending=[True, False])
        venues = [(plain(n, 40), x, y) for n, x, y in v.select("name", "easting", "northing").head(N_VENUES).iter_rows()]
    reps = locality_repeats(points, g, rule)
    return draw.locality_map(g, lsoas, wards, venues, reps, r["locality_id"]), len(reps)


def locality_repeats(points: pl.DataFrame, geom, rule, k: int = N_REPEATS) -> list[tuple[str, float, float, str]]:
    """The locality's top repeat locations: (label, x, y, count as shown), from
    hotspot.repeats.repeat_locations rows whose snapped point lies inside the locality. A point
    whose count the disclosure rule would withhold is not drawn at all."""
    import shapely

    if points.height == 0:
        return []
    b = geom.bounds
    near = points.filter(pl.col("easting").is_between(b[0], b[2]) & pl.col("northing").is_between(b[1], b[3]))
    if near.height == 0:
        return []
    inside = shapely.contains_xy(geom, near["easting"].to_numpy(), near["northing"].to_numpy())
    g = (near.filter(pl.Series(inside))
         .group_by("location", "easting", "northing").agg(pl.col("n").sum(), pl.col("harm").sum())
         .sort(["n", "harm", "location"], descending=[True, True, False]))
    out = []
    for label, x, y, n, _h in g.iter_rows():
        s = dc.count(n, rule)
        if s.value is None:
            continue
        name = plain(label, 60) or f"point {int(x) // 100 * 100:d} E, {int(y) // 100 * 100:d} N"
        out.append((name, x, y, f"{s.text} {dc.plural(s.value, 'offence')}"))
        if len(out) == k:
            break
    return out
