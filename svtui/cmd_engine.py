"""CLI subcommands that run the engine and print or write its results (registered on import by
svtui.commands).

``svtui hotspots``: find the hotspot localities, print them as a table with the share of the
study area they cover, and (with ``--out``) export them with their polygons and profile fields.
"""
from __future__ import annotations

import sys
from datetime import date

from svtui import fmt
from svtui.cli import command, load_from_args
from svtui.safe import plain


def parse_month(text: str | None, flag: str) -> date | None:
    """'2024-03' -> date(2024, 3, 1); None stays None. Exits with one line on anything else."""
    if text is None:
        return None
    t = text.strip()
    try:
        if len(t) != 7 or t[4] != "-":
            raise ValueError
        y, m = int(t[:4]), int(t[5:7])
        return date(y, m, 1)
    except ValueError:
        raise SystemExit(f"svtui: {flag} {text!r}: give a month as YYYY-MM (e.g. 2024-03)") from None


def window_filters(args):
    """Filters from --from/--to (inclusive months)."""
    from hotspot.analysis import Filters

    start = parse_month(getattr(args, "start", None), "--from")
    end = parse_month(getattr(args, "end", None), "--to")
    if start and end and end < start:
        raise SystemExit(f"svtui: --to {args.end} is before --from {args.start}")
    return Filters(start=start, end=end)


def add_window_options(p) -> None:
    p.add_argument("--from", dest="start", metavar="YYYY-MM", help="first month (default: the study's first)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM", help="last month (default: the study's last)")


def run_engine(args, filters=None):
    """(study, prep, analysis) for the study options and the window in args, from one
    hotspot.session.Results (kept on args.results for the export)."""
    from svtui.cli import results_from_args

    res = args.results = results_from_args(args)
    return res.study, res.prep, res.analysis


# --------------------------------------------------------------------------------------------
# svtui hotspots
# --------------------------------------------------------------------------------------------


def _hotspots_opts(p) -> None:
    add_window_options(p)
    p.add_argument("--out", metavar="FILE",
                   help="write the localities: .csv, .parquet, .geojson (WGS84) or .gpkg (British National Grid)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument("--json", action="store_true", help="print the localities as one JSON object")


def hotspots_table(analysis, width: int = 120) -> list[str]:
    """The localities as fixed-width lines for a terminal (names made inert and shortened)."""
    loc = analysis.localities
    nw = max([len(plain(n, 60)) for n in loc["name"].to_list()] + [4]) if loc.height else 4
    head = (f"{'#':>3}  {'id':<12} {'name':<{nw}} {'offences':>9} {'CSP harm':>9} {'km²':>6}  "
            f"{'trend':<15} pattern")
    lines = [head, "-" * min(width, len(head) + 14)]
    for i, r in enumerate(loc.iter_rows(named=True), start=1):
        share = r.get("share_of_area_harm")
        share_txt = fmt.pct(share)  # svtui.fmt: one way to print a share
        lines.append(
            f"{i:>3}  {plain(r['locality_id'], 14):<12} {plain(r['name'], 60):<{nw}} {r['n_incidents']:>9,} "
            f"{share_txt:>9} {r['area_m2'] / 1e6:>6.2f}  {plain(r.get('trend') or '', 15):<15} "
            f"{plain(r.get('pattern') or '', 28)}"
        )
    return lines


def _pct_area(share: float) -> str:
    v = share * 100
    if v == 0:
        return "0%"
    if v < 0.01:
        return "less than 0.01%"
    return f"{v:.2f}%" if v < 10 else f"{v:.1f}%"


@command("hotspots", "Find the hotspot localities, print them, and export them with --out (format by extension).",
         _hotspots_opts)
def hotspots(args) -> int:
    return run_hotspots(args)


def run_hotspots(args, out=None) -> int:
    """The body of `svtui hotspots` (a function so other engine commands can sit beside it)."""
    out = out if out is not None else sys.stdout
    from svtui.export import export, format_for

    if args.out:
        format_for(args.out)  # a bad extension fails before the analysis runs
    study, prep, analysis = run_engine(args)
    loc = analysis.localities
    if getattr(args, "json", False):
        from svtui.cli import frame_json, print_json
        from svtui.export import provenance

        print_json(frame_json(loc, notes=list(analysis.notes), provenance=provenance(args.results, kind="hotspots",
                                                                                      rows=loc.height)))
        if args.out:
            export("hotspots", args.out, args.results, force=args.force)
        return 0
    name = plain(study.name, 120) + ("  [SYNTHETIC sample data]" if study.synthetic else "")
    window = analysis.window
    span = f"{window[0]:%B %Y} to {window[1]:%B %Y}" if window else "no months with data"
    print(f"Study: {name}", file=out)
    print(f"Definition: {plain(prep.definition.title, 120)}; {span}; {analysis.n_incidents:,} offences", file=out)
    share = analysis.locality_area_share()
    if loc.height == 0:
        print("No hotspot localities found: no significant cluster of harm (Getis-Ord Gi*, FDR 5%).", file=out)
    else:
        n = loc.height
        print(f"{n} hotspot {'locality' if n == 1 else 'localities'} holding {int(loc['n_incidents'].sum()):,} offences, "
              f"covering {_pct_area(share)} of the study area.", file=out)
        print(file=out)
        for line in hotspots_table(analysis):
            print(line, file=out)
    for note in analysis.notes:
        print(f"Note: {plain(note, 300)}", file=out)
    if args.out:
        path = export("hotspots", args.out, args.results, force=args.force)
        print(f"\nWrote {n if loc.height else 0} {'locality' if loc.height == 1 else 'localities'} to "
              f"{plain(str(path), 300)}", file=out)
    return 0
