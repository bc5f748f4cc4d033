"""CLI subcommands (registered on import by svtui.commands): area trends and intervention gaps.

    svtui trends [study options] [--level csp|district|ward|lsoa|force] [--table ...] [--out FILE]
    svtui gaps   [study options] [--level ...] [--reach] [--all] [--out FILE]

With --out the table is written to FILE as CSV, Parquet or JSON (by its extension), atomically,
and an existing file is only replaced with --force. Without it a readable table is printed;
every string from the data goes through svtui.safe so it stays inert on the terminal.
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from svtui.cli import command, load_from_args
from svtui.safe import plain, text

LEVEL_CHOICES = ("force", "csp", "district", "ward", "lsoa")
FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json"}


def _month(value: str) -> date:
    try:
        y, m = value.strip().split("-")[:2]
        return date(int(y), int(m), 1)
    except (ValueError, TypeError):
        raise ValueError(f"{value!r} is not a month: write YYYY-MM") from None


def _common(p) -> None:
    p.add_argument("--level", choices=LEVEL_CHOICES, default="csp", help="area level (default: csp)")
    p.add_argument("--start", metavar="YYYY-MM", help="first month of the period")
    p.add_argument("--end", metavar="YYYY-MM", help="last month of the period (changes look back from it)")
    p.add_argument("--out", metavar="FILE", help="write the table to FILE (.csv, .parquet or .json)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


def _trends_opts(p) -> None:
    _common(p)
    p.add_argument("--table", choices=("profiles", "monthly", "measures", "risk"), default="profiles",
                   help="profiles (default), the monthly series, the Duty's measures, or risk factors")


def _gaps_opts(p) -> None:
    _common(p)
    p.add_argument("--reach", action="store_true", help="the reach table (unit x intervention) instead of the gaps")
    p.add_argument("--all", action="store_true", dest="all_needs", help="every unit and need with its status, not only gaps")


def _check_out(args) -> str | None:
    """The output format, or None for the terminal; raises ValueError for a bad --out."""
    if not args.out:
        return None
    fmt = FORMATS.get(Path(args.out).suffix.lower())
    if fmt is None:
        raise ValueError(f"--out {args.out}: the name must end in .csv, .parquet or .json")
    if Path(args.out).exists() and not args.force:
        raise FileExistsError(f"{args.out}: already exists (fix: choose another name or pass --force)")
    return fmt


def write_table(df, path: str, fmt: str, force: bool) -> Path:
    """Write df atomically as CSV, Parquet or JSON (nested columns joined for CSV)."""
    import polars as pl

    from geodata.atomic import formula_safe, write_atomic
    from svtui.safe import inert_frame

    df = inert_frame(df)
    if fmt == "csv":
        flat = df.with_columns(
            [pl.col(c).cast(pl.List(pl.Utf8)).list.join("; ") for c, t in df.schema.items() if isinstance(t, pl.List)]
        ).select([c for c, t in df.schema.items() if t != pl.Binary])
        flat = formula_safe(flat)
        return write_atomic(path, lambda p: flat.write_csv(p), force=force)
    if fmt == "parquet":
        return write_atomic(path, lambda p: df.write_parquet(p), force=force)
    return write_atomic(path, lambda p: df.write_json(p), force=force)


def _filters(args, prep):
    from hotspot.analysis import Filters
    from hotspot.area_profiles import study_months

    months, _ = study_months(prep)
    start = _month(args.start) if args.start else (months[0] if months else None)
    end = _month(args.end) if args.end else (months[-1] if months else None)
    return Filters(start=start, end=end)


def _pct(v) -> str:
    return "not known" if v is None else f"{v:.0%}"


def _num(v, digits: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def _print_table(title: str, headers: list[str], rows: list[list[str]], notes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    import shutil

    console = Console(highlight=False, soft_wrap=False, width=shutil.get_terminal_size((160, 24)).columns)
    table = Table(title=text(title, 200), show_lines=False)
    for h in headers:
        table.add_column(h, overflow="fold")
    for r in rows:
        table.add_row(*[text(c, 400) for c in r])
    console.print(table)
    for n in notes:
        console.print(text("Note: " + n, 600, style="dim"))


def _emit(args, df, fmt, title, headers, rows, notes) -> int:
    if fmt:
        path = write_table(df, args.out, fmt, args.force)
        print(f"Wrote {df.height:,} rows to {plain(path, None)}")
        for n in notes:
            print(plain("Note: " + n, 600), file=sys.stderr)
        return 0
    _print_table(title, headers, rows, notes)
    return 0


def _checked_format(args):
    """The --out format (None for the terminal), or False after printing one line on bad input."""
    try:
        fmt = _check_out(args)
        if args.start:
            _month(args.start)
        if args.end:
            _month(args.end)
    except ValueError as exc:
        from svtui.safe import plain

        print(f"svtui: {plain(exc, 400)}", file=sys.stderr)
        return False
    return fmt


@command("trends", "Area profiles: serious violence, change, shares, the Duty's measures and risk factors per area.",
         _trends_opts)
def trends(args) -> int:
    fmt = _checked_format(args)
    if fmt is False:
        return 2
    from hotspot.analysis import prepare
    from hotspot.area_profiles import area_monthly, area_profiles
    from hotspot.measures import duty_measures
    from hotspot.risk import risk_factors, risk_summary

    study = load_from_args(args)
    prep = prepare(study)
    filters = _filters(args, prep)
    notes: list[str] = []
    label = f"{study.name}{'  [SYNTHETIC sample data]' if study.synthetic else ''}"
    if args.table == "profiles":
        df = area_profiles(prep, filters, args.level, indicators=study.indicators, notes=notes)
        headers = ["area", "serious violence", "per month", "per 1,000 residents", "latest 12 months", "trend",
                   "domestic abuse", "youth", "knife", "night-time economy"]

        def rate(r) -> str:
            if r["rate_per_1000_year"] is not None:
                return f"{r['rate_per_1000_year']:.2f} a year"
            if r["rate_per_1000"] is not None:
                return f"{r['rate_per_1000']:.2f} in {r['months']} months"
            return "population not known"

        rows = [[r["name"], _num(r["n"]), _num(r["per_month"], 1), rate(r),
                 r["change_12m_text"], r["trend"], _pct(r["domestic_abuse_share"]), _pct(r["youth_share"]),
                 _pct(r["knife_share"]), _pct(r["nte_share"])] for r in df.iter_rows(named=True)]
        return _emit(args, df, fmt, f"Serious violence by {args.level}: {label}", headers, rows, notes)
    if args.table == "monthly":
        df = area_monthly(prep, filters, args.level)
        rows = [[r["name"], f"{r['month']:%Y-%m}", _num(r["n"]), _num(r["harm"])] for r in df.iter_rows(named=True)]
        return _emit(args, df, fmt, f"Monthly serious violence by {args.level}: {label}",
                     ["area", "month", "incidents", "harm"], rows, notes)
    if args.table == "measures":
        df = duty_measures(prep, study.ae, filters, args.level, indicators=study.indicators, notes=notes)
        rows = [[r["name"], r["label"], _num(r["n"]) if r["available"] else "not available",
                 _num(r["rate_per_100k_annualised"], 1), r["change_12m_text"] if r["available"] else r["reason"]]
                for r in df.iter_rows(named=True)]
        return _emit(args, df, fmt, f"Serious Violence Duty measures by {args.level}: {label}",
                     ["area", "measure", "in the period", "per 100,000 a year", "change"], rows, notes)
    df = risk_factors(prep, study.indicators, args.level, areas=study.areas, notes=notes)
    summary = risk_summary(df)
    names = df.select("code", "name").unique(maintain_order=True).join(summary, on="code", how="left")
    rows = [[r["name"], r["strongest_risks"] or "nothing above the flag threshold"] for r in names.iter_rows(named=True)]
    return _emit(args, df, fmt, f"Strongest risk factors by {args.level}: {label}", ["area", "strongest risks"], rows,
                 notes)


@command("gaps", "Intervention coverage: which needs of each hotspot locality and area no intervention reaches.",
         _gaps_opts)
def gaps(args) -> int:
    fmt = _checked_format(args)
    if fmt is False:
        return 2
    from hotspot.analysis import analyse, prepare
    from hotspot.coverage import NEED_LABELS, coverage

    study = load_from_args(args)
    prep = prepare(study)
    analysis = analyse(prep, _filters(args, prep))
    notes = list(analysis.notes)
    if not study.interventions:
        notes.append("The study names no interventions file: every need is unmet.")
    reach, gap_frame = coverage(prep, analysis, study.interventions, args.level, all_needs=args.all_needs, notes=notes)
    label = f"{study.name}{'  [SYNTHETIC sample data]' if study.synthetic else ''}"
    if args.reach:
        rows = [[r["name"], r["intervention"], r["reaches"], _pct(r["place_share"]), _pct(r["time_share"]),
                 _pct(r["age_share"]) if r["age_share"] is not None else "all ages", r["needs_met"] or "-"]
                for r in reach.iter_rows(named=True)] if reach.height else []
        return _emit(args, reach, fmt, f"Which interventions reach each locality and {args.level}: {label}",
                     ["unit", "intervention", "reaches", "place", "hours", "ages", "needs met"], rows, notes)
    if gap_frame.height == 0:
        rows = []
        if not any(n.startswith("Needs cannot be judged") for n in notes):
            notes.append("No gaps found: every need passing its threshold is at least half met.")
    else:
        rows = [[str(i + 1), r["unit"], NEED_LABELS.get(r["need"], r["need"]), r["status"], _num(r["gap_score"]),
                 r["text"] or f"{r['name']}: {r['status']}"]
                for i, r in enumerate(gap_frame.iter_rows(named=True))]
    return _emit(args, gap_frame, fmt, f"Intervention gaps, localities and {args.level}s: {label}",
                 ["#", "unit", "need", "status", "gap score", "what is missing"], rows, notes)
