"""CLI subcommands (registered on import by svtui.commands): area trends and intervention gaps.

    svtui trends [study options] [--from YYYY-MM --to YYYY-MM] [--level ...] [--table ...] [--out FILE] [--json]
    svtui gaps   [study options] [--from YYYY-MM --to YYYY-MM] [--level ...] [--reach] [--all] [--out FILE] [--json]

Both ask one hotspot.session.Results. With --out the table is written by svtui.export (CSV,
Parquet, GeoJSON or GeoPackage by its extension), atomically, with its provenance, and an
existing file is only replaced with --force. --json prints the table as one JSON object.
Otherwise a readable table is printed; numbers go through svtui.fmt and every string from the
data through svtui.safe, so it stays inert on the terminal.
"""
from __future__ import annotations

import sys

from svtui import fmt
from svtui.cli import add_out_options, command, fail, frame_json, print_json, results_from_args
from svtui.safe import plain, text

LEVEL_CHOICES = ("force", "csp", "district", "ward", "lsoa")


def _common(p) -> None:
    p.add_argument("--level", choices=LEVEL_CHOICES, default="csp", help="area level (default: csp)")
    add_out_options(p, "the table", ".csv, .parquet, .json (rows), .geojson or .gpkg")
    p.add_argument("--json", action="store_true", help="print the table as one JSON object")


def _trends_opts(p) -> None:
    _common(p)
    p.add_argument("--table", choices=("profiles", "monthly", "measures", "risk"), default="profiles",
                   help="profiles (default), the monthly series, the Duty's measures, or risk factors")


def _gaps_opts(p) -> None:
    _common(p)
    p.add_argument("--reach", action="store_true", help="the reach table (unit x intervention) instead of the gaps")
    p.add_argument("--all", action="store_true", dest="all_needs", help="every unit and need with its status, not only gaps")


def _check_out(args) -> bool:
    """True when --out names a format svtui writes and is free (or --force); else one line."""
    if not args.out:
        return True
    from pathlib import Path

    from svtui.export import format_for, sidecar_path

    try:
        if not args.out.lower().endswith(".json"):
            format_for(args.out)
    except ValueError as exc:
        fail(exc)
        return False
    sidecar = args.out.lower().endswith((".csv", ".json")) and sidecar_path(args.out).exists()
    if not args.force and (Path(args.out).exists() or sidecar):
        fail(f"{args.out}: already exists (fix: choose another name or pass --force)")
        return False
    return True


def _col(r: dict, *names):
    """The first of `names` the row has (engine columns added by other modules pass through)."""
    for n in names:
        if n in r:
            return r[n]
    return None


def _print_table(title: str, headers: list[str], rows: list[list[str]], notes: list[str]) -> None:
    import shutil

    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=False, width=shutil.get_terminal_size((160, 24)).columns)
    table = Table(title=text(title, 200), show_lines=False)
    for h in headers:
        table.add_column(h, overflow="fold")
    for r in rows:
        table.add_row(*[text(c, 400) for c in r])
    console.print(table)
    for n in notes:
        console.print(text("Note: " + n, 600, style="dim"))


def _emit(args, res, df, kind: str, title, headers, rows, notes, extra: dict) -> int:
    if args.out:
        from svtui.export import export_frame, export_rows_json

        if args.out.lower().endswith(".json"):  # a table's rows, as before; provenance beside it
            path = export_rows_json(df, args.out, res, force=args.force, kind=kind, extra=extra)
        else:
            path = export_frame(df, args.out, res, force=args.force, kind=kind, extra=extra)
        print(f"Wrote {df.height:,} rows to {plain(path, None)}, with its provenance")
        for n in notes:
            print(plain("Note: " + n, 600), file=sys.stderr)
        return 0
    if args.json:
        from svtui.export import provenance

        print_json(frame_json(df, title=title, notes=notes, provenance=provenance(res, kind=kind, rows=df.height,
                                                                                    extra=extra)))
        return 0
    _print_table(title, headers, rows, notes)
    return 0


def _label(res) -> str:
    return f"{res.study.name}{'  [SYNTHETIC sample data]' if res.study.synthetic else ''}"


def rate_text(r: dict) -> str:
    """A profile's rate per 1,000 residents a year with its interval when the engine gives one."""
    v = r.get("rate_per_1000_year")
    if not fmt.is_missing(v):
        return fmt.rate(v, _col(r, "rate_per_1000_year_lower", "rate_per_1000_year_lo"),
                        _col(r, "rate_per_1000_year_upper", "rate_per_1000_year_hi")) + " a year"
    v = r.get("rate_per_1000")
    if not fmt.is_missing(v):
        return (fmt.rate(v, _col(r, "rate_per_1000_lower", "rate_per_1000_lo"),
                         _col(r, "rate_per_1000_upper", "rate_per_1000_hi")) + f" in {fmt.count(r.get('months'))} months")
    return "population not known"


def change_text(r: dict, key: str = "12m") -> str:
    """The change between the latest 12 months and the comparison year, by svtui.fmt.change."""
    now = r.get("latest_12m")
    before = r.get("previous_12m") if key == "12m" else r.get("base_3y_12m")
    p = _col(r, f"change_{key}_p", f"change_{key}_p_value")
    if p is None and r.get(f"change_{key}_significant") is False:
        p = 1.0  # the engine said "not significant" without its p-value
    text = fmt.change(now, before, p)
    why = REASON_WORDS.get(r.get(f"change_{key}_reason"))
    if text == fmt.NOT_KNOWN and why:
        missing = r.get(f"change_{key}_missing") or []
        text += f": {why}" + (f" ({month_runs(missing)})" if missing else "")
    return text


#: The engine's reason codes for a figure it leaves null (hotspot.area_profiles.REASONS), in words.
REASON_WORDS = {
    "months_missing": "months missing",
    "too_few_months": "too few months",
    "no_months": "no months with data",
    "no_population": "no population",
}


PROFILE_HEADERS = ["area", "serious violence", "per month", "per 1,000 residents", "against the force",
                   "latest 12 months", "trend", "domestic abuse", "youth", "knife", "night-time economy"]


def versus_force(r: dict) -> str:
    """'higher' / 'lower' only when the engine's interval test says so (rate_vs_force), else
    'similar'; 'not known' with the reason when there is no rate."""
    vs = r.get("rate_vs_force")
    if vs in ("higher", "lower", "similar"):
        return vs
    return {"is_force": "(the force)", "no_population": "not known: no population"}.get(
        r.get("rate_vs_force_reason"), fmt.NOT_KNOWN)


def profile_rows(df) -> list[list[str]]:
    """The printed rows of `trends` (profiles), every number through svtui.fmt."""
    return [[r["name"], fmt.count(r["n"]), fmt.num(r["per_month"], 1), rate_text(r), versus_force(r), change_text(r),
             r["trend"] or fmt.NOT_KNOWN, fmt.pct(r["domestic_abuse_share"]), fmt.pct(r["youth_share"]),
             fmt.pct(r["knife_share"]), fmt.pct(r["nte_share"])] for r in df.iter_rows(named=True)]


UNPLACED_SAY = 0.01  # the offences a level cannot place are stated above 1% (issue 12 must 2)


def profile_table_notes(res, df) -> list[str]:
    """What a reader of the profile table needs said once: the population's source and year, the
    offences with no location, and averages over covered months only."""
    notes: list[str] = []
    if df.height == 0:
        return notes
    if "rate_per_1000" in df.columns and df["rate_per_1000"].drop_nulls().len():
        notes.append(population_words(res))
    r = df.row(0, named=True)
    n, share = r.get("unplaced_n"), r.get("unplaced_share")
    if not fmt.is_missing(share) and share > UNPLACED_SAY and n:
        notes.append(f"{fmt.count(n)} offences ({fmt.pct(share, 1)} of the force total) have no location: they are in "
                     "the force total but in no area below it.")
    if r.get("n_covered_only"):
        miss = r.get("window_missing_months") or []
        notes.append(f"Per month, rates and trends are over the {fmt.count(r.get('months_covered'))} months with data "
                     f"only; months missing: {month_runs(miss)}. A missing month is a gap, not a month with no offences.")
    return [n for n in notes if n]


def population_words(res) -> str:
    """'population: mid-2019 estimates from FILE, 2011 areas converted to 2021 by equal split'."""
    from hotspot.area_profiles import population_provenance

    p = population_provenance(res.study) or {}
    if not p.get("source"):
        return ""
    s = "Rates per 1,000 residents (95% intervals); population: " + (
        f"mid-{p['year']} estimates from " if p.get("year") else "") + plain(p["source"], 120)
    if p.get("conversion") == "lsoa11_to_lsoa21_equal_split" or p.get("converted"):
        s += ", 2011 areas converted to 2021 by equal split"
    return s + "."


def month_runs(months) -> str:
    """'2022-05 to 2023-12, 2024-02' from a list of 'YYYY-MM' months (svtui.fmt.month_runs)."""
    from svtui import fmt

    return ", ".join(fmt.month_runs(months)) or "none"


@command("trends", "Area profiles: serious violence, change, shares, the Duty's measures and risk factors per area.",
         _trends_opts)
def trends(args) -> int:
    if not _check_out(args):
        return 2
    res = results_from_args(args)
    level = args.level
    label = _label(res)
    extra = {"level": level, "table": args.table}
    if args.table == "profiles":
        df = res.profiles(level)
        notes = res.profile_notes(level) + profile_table_notes(res, df)
        headers = PROFILE_HEADERS
        rows = profile_rows(df)
        return _emit(args, res, df, "trends", f"Serious violence by {level}: {label}", headers, rows, notes, extra)
    if args.table == "monthly":
        df = res.monthly(level)
        rows = [[r["name"], f"{r['month']:%Y-%m}",
                 "missing" if r.get("month_missing") else fmt.count(r["n"]),
                 "missing" if r.get("month_missing") else fmt.num(r["harm"]),
                 "missing" if r.get("month_missing") else
                 f"{fmt.count(r.get('unplaced_n'))} ({fmt.pct(r.get('unplaced_share'), 1)})"]
                for r in df.iter_rows(named=True)]
        notes = ["A missing month (no rows in a source's span) is shown as missing, never 0.",
                 "Cannot place: the month's offences with no area of this level (share of all the month's offences)."]
        return _emit(args, res, df, "trends", f"Monthly serious violence by {level}: {label}",
                     ["area", "month", "incidents", "harm", "cannot place"], rows, notes, extra)
    if args.table == "measures":
        df = res.measures(level)
        notes = res.measure_notes(level)
        rows = [[r["name"], r["label"], fmt.count(r["n"]) if r["available"] else "not available",
                 fmt.num(r["rate_per_100k_annualised"], 1),
                 change_text(r) if r["available"] else (r["reason"] or fmt.NOT_KNOWN)]
                for r in df.iter_rows(named=True)]
        return _emit(args, res, df, "trends", f"Serious Violence Duty measures by {level}: {label}",
                     ["area", "measure", "in the period", "per 100,000 a year", "change"], rows, notes, extra)
    from hotspot.risk import risk_summary

    df = res.risk(level)
    notes = res.risk_notes(level)
    summary = risk_summary(df)
    names = df.select("code", "name").unique(maintain_order=True).join(summary, on="code", how="left")
    rows = [[r["name"], r["strongest_risks"] or "nothing above the flag threshold"] for r in names.iter_rows(named=True)]
    return _emit(args, res, df, "trends", f"Strongest risk factors by {level}: {label}", ["area", "strongest risks"],
                 rows, notes, extra)


@command("gaps", "Intervention coverage: which needs of each hotspot locality and area no intervention reaches.",
         _gaps_opts)
def gaps(args) -> int:
    if not _check_out(args):
        return 2
    from hotspot.coverage import NEED_LABELS

    res = results_from_args(args)
    level = args.level
    cov = res.coverage(level, all_needs=args.all_needs)
    notes = list(res.notes) + list(cov.notes)
    if not res.study.interventions:
        notes.append("The study names no interventions file: every need is unmet.")
    if level in ("csp", "district", "ward", "lsoa", "force"):  # what the needs cannot see (no population here)
        notes += [n for n in profile_table_notes(res, res.profiles(level)) if not n.startswith("Rates per 1,000")]
    label = _label(res)
    extra = {"level": level, "table": "reach" if args.reach else ("needs" if args.all_needs else "gaps")}
    if args.reach:
        reach = cov.reach
        rows = [[r["name"], r["intervention"], r["reaches"], fmt.pct(r["place_share"]), fmt.pct(r["time_share"]),
                 fmt.pct(r["age_share"]) if r["age_share"] is not None else "all ages", r["needs_met"] or "-"]
                for r in reach.iter_rows(named=True)] if reach.height else []
        return _emit(args, res, reach, "gaps", f"Which interventions reach each locality and {level}: {label}",
                     ["unit", "intervention", "reaches", "place", "hours", "ages", "needs met"], rows, notes, extra)
    gap_frame = cov.gaps
    if args.out and gap_frame.height:  # the export table (with polygons), kept in the ranking's order
        gap_frame = res.table("gaps", level, all_needs=args.all_needs)
        if "gap_score" in gap_frame.columns:
            gap_frame = gap_frame.sort("gap_score", descending=True, nulls_last=True, maintain_order=True)
    if gap_frame.height == 0:
        rows = []
        if not any(n.startswith("Needs cannot be judged") for n in notes):
            notes.append("No gaps found: every need passing its threshold is at least half met.")
    else:
        rows = [[str(i + 1), r["unit"], NEED_LABELS.get(r["need"], r["need"]), r["status"], fmt.num(r["gap_score"]),
                 r["text"] or f"{r['name']}: {r['status']}"]
                for i, r in enumerate(gap_frame.iter_rows(named=True))]
    return _emit(args, res, gap_frame, "gaps", f"Intervention gaps, localities and {level}s: {label}",
                 ["#", "unit", "need", "status", "gap score", "what is missing"], rows, notes, extra)
