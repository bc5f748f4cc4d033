"""CLI subcommands that run the engine and print or write its results (registered on import by
svtui.commands).

``svtui hotspots``: find the hotspot localities, print them as a table with the share of the
study area they cover, and (with ``--out``) export them with their polygons and profile fields.
"""
from __future__ import annotations

import sys
from datetime import date

from dataclasses import replace

from svtui import fmt  # noqa: F401  (one way to print numbers)
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


def add_locality_options(p) -> None:
    p.add_argument("--area-share", dest="area_share", type=float, metavar="PCT",
                   help="percent of the study area the localities cover together (default 1; study.toml "
                        "[settings] area_share)")
    p.add_argument("--max-localities", dest="max_localities", type=int, metavar="N",
                   help="keep at most N localities, those with the highest map score")
    p.add_argument("--workspace", metavar="DIR",
                   help="the study's workspace folder (adopted localities); default beside study.toml")


def engine_params(args, study):
    """Params from the command line, then study.toml [settings], then the engine's defaults.

    A wrong value is one line naming the option and what it accepts.
    """
    from hotspot.analysis import Params

    spec = study.spec
    pick = lambda flag, setting: flag if flag is not None else setting  # noqa: E731
    kw = {}
    share = pick(getattr(args, "area_share", None), getattr(spec, "area_share", None))
    if share is not None:
        kw["area_share"] = float(share)
    cap = pick(getattr(args, "max_localities", None), getattr(spec, "max_localities", None))
    if cap is not None:
        kw["max_localities"] = cap
    cell = pick(getattr(args, "cell_size", None), getattr(spec, "cell_size", None))
    if cell is not None:
        kw["cell_size"] = float(cell)
    try:
        params = Params(**kw)
    except ValueError as exc:
        flag = {"area_share": "--area-share", "max_localities": "--max-localities", "cell_size": "--cell-size"}
        msg = str(exc)
        for k, f in flag.items():
            msg = msg.replace(f"Params.{k}", f"{f} / [settings] {k}")
        raise SystemExit(f"svtui: {msg}") from None
    from svtui.cmd_localities import adopted_for

    adopted = adopted_for(args, study)  # () without a workspace or an adopted set
    return replace(params, adopted=adopted) if adopted else params


def run_engine(args, filters=None):
    """(study, prep, analysis) for the study options and the window in args, from one
    hotspot.session.Results (kept on args.results for the export)."""
    from svtui.cli import results_from_args, session_from_args

    # The analysis needs `prep`: made first, it also answers for the month span, which would
    # otherwise classify the incidents a second time (Session.area_prep, for the workbench).
    session_from_args(args).prep
    res = args.results = results_from_args(args)
    return res.study, res.prep, res.analysis


def trend_text(row: dict) -> str:
    """A locality's trend in words; with too few months, says so (never 'no clear trend')."""
    if row.get("trend_reason") == "too_few_steps" or row.get("pattern_reason") == "too_few_steps":
        return f"too few months for a trend (has {row.get('n_steps')}, needs {row.get('steps_needed')})"
    parts = [p for p in (row.get("trend"), row.get("pattern")) if p]
    return "; ".join(parts)


def significance_text(row: dict) -> str:
    """'yes (q 0.001)' / 'no' for the table (hotspot.significance defines the test)."""
    if row.get("significant"):
        q = row.get("q_value")
        return "yes" if q is None else ("yes (q<0.001)" if q < 0.001 else f"yes (q {q:.3f})")
    return "no"


# --------------------------------------------------------------------------------------------
# svtui hotspots
# --------------------------------------------------------------------------------------------


def _hotspots_opts(p) -> None:
    add_window_options(p)
    add_locality_options(p)
    p.add_argument("--out", metavar="FILE",
                   help="write the localities: .csv, .parquet, .geojson (WGS84) or .gpkg (British National Grid)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument("--json", action="store_true", help="print the localities as one JSON object")


def hotspots_table(analysis, width: int = 120) -> list[str]:
    """The localities as fixed-width lines for a terminal (names made inert and shortened)."""
    loc = analysis.localities
    nw = max([len(plain(n, 50)) for n in loc["name"].to_list()] + [4]) if loc.height else 4
    adopted = bool(len(analysis.params.adopted))
    head = (f"{'#':>3}  {'id':<12} {'name':<{nw}} {'offences':>9} {'harm':>9} {'km²':>6}  "
            f"{'significant':<13} trend")
    lines = [head, "-" * min(width, len(head) + 30)]
    for i, r in enumerate(loc.iter_rows(named=True), start=1):
        mark = " (new)" if adopted and r.get("new") else ""
        lines.append(
            f"{i:>3}  {plain(r['locality_id'], 14):<12} {plain(r['name'], 50):<{nw}} {r['n_incidents']:>9,} "
            f"{r['harm']:>9,.0f} {r['area_m2'] / 1e6:>6.2f}  {significance_text(r):<13} "
            f"{plain(trend_text(r), 60)}{mark}"
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
    p = analysis.params
    cap = f", at most {p.max_localities}" if p.max_localities else ""
    print(f"Area budget: {p.area_share:g}% of the study area{cap}; {p.cell_size:.0f} m cells.", file=out)
    if loc.height == 0:
        print("No hotspot localities: no cell has a positive map score in this window.", file=out)
    else:
        n = loc.height
        n_sig = int(loc["significant"].sum())
        print(f"{n} hotspot {'locality' if n == 1 else 'localities'} holding {int(loc['n_incidents'].sum()):,} offences, "
              f"covering {_pct_area(share)} of the study area; {n_sig} significant "
              f"(denser than chance, exact scan test, FDR {p.alpha:.0%}).", file=out)
        if p.adopted:
            print(f"{len(p.adopted)} adopted, {int(loc['new'].sum())} new candidate places (marked new).", file=out)
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


from svtui import cmd_localities  # noqa: E402,F401  (registers `svtui localities`)
