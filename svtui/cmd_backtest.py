"""`svtui backtest`: how well would last period's hotspot map have found this period's violence?"""
from __future__ import annotations

from datetime import date

from svtui.cli import command, load_from_args, print_json
from svtui.safe import plain


def parse_window(text: str, flag: str) -> tuple[date, date]:
    """'2024-01:2024-02' or '2024-03' -> (first month, last month)."""
    parts = text.split(":")
    if len(parts) not in (1, 2):
        raise SystemExit(f"svtui: {flag} {text!r}: give YYYY-MM or YYYY-MM:YYYY-MM")
    try:
        months = [date(int(p[:4]), int(p[5:7]), 1) for p in parts]
        if any(len(p) != 7 or p[4] != "-" for p in parts):
            raise ValueError
    except ValueError:
        raise SystemExit(f"svtui: {flag} {text!r}: give YYYY-MM or YYYY-MM:YYYY-MM") from None
    if months[-1] < months[0]:
        raise SystemExit(f"svtui: {flag} {text!r}: the window ends before it starts")
    return months[0], months[-1]


def _opts(p):
    p.add_argument("--train", required=True, metavar="YYYY-MM:YYYY-MM", help="window the map is fitted on")
    p.add_argument("--test", required=True, metavar="YYYY-MM:YYYY-MM", help="window it is scored on")
    p.add_argument("--area-share", type=float, nargs="+", default=None, metavar="PCT",
                   help="percent(s) of the study area the hotspots may cover (default 0.5 1 2)")
    p.add_argument("--cell-size", type=float, default=None, metavar="M", help="grid cell size in metres")
    p.add_argument("--json", action="store_true", help="print JSON rows")


@command("backtest", "Fit hotspot maps on one window and score them on the next (PAI, PEI*, RRI).", _opts)
def backtest_cmd(args) -> int:
    from dataclasses import replace

    from hotspot.analysis import Params, prepare
    from hotspot.backtest import LOCALITY_SHARES, backtest, locality_backtest

    train = parse_window(args.train, "--train")
    test = parse_window(args.test, "--test")
    if test[0] <= train[1]:
        print("svtui: note: the test window overlaps or precedes the training window", flush=True)
    pcts = tuple(args.area_share) if args.area_share else LOCALITY_SHARES
    if any(not 0 < s <= 100 for s in pcts):
        raise SystemExit("svtui: --area-share must be a percentage above 0 and at most 100 (e.g. 1 for 1%)")
    shares = tuple(s / 100 for s in pcts)
    study = load_from_args(args, quiet=args.json)
    params = Params(cell_size=args.cell_size or getattr(study.spec, "cell_size", None))
    prep = prepare(study, params=params)
    try:
        table = backtest(prep, train, test, shares)
        loc = locality_backtest(prep, train, test, pcts, params=replace(params, cell_size=prep.grid.cell_size))
    except ValueError as exc:
        raise SystemExit(f"svtui: {exc}") from None
    if args.json:
        print_json({
            "study": study.name,
            "synthetic": study.synthetic,
            "definition": prep.definition.name,
            "cell_size_m": prep.grid.cell_size,
            "train": [str(train[0])[:7], str(train[1])[:7]],
            "test": [str(test[0])[:7], str(test[1])[:7]],
            "rows": table.to_dicts(),
            "localities": loc.to_dicts(),
        })
        return 0
    print(f"{plain(study.name, 120)}{'  [SYNTHETIC]' if study.synthetic else ''}")
    print(f"Definition {prep.definition.name}; {prep.grid.cell_size:.0f} m cells over "
          f"{prep.study_area_m2 / 1e6:,.0f} km²; train {plain(args.train, 20)}, test {plain(args.test, 20)}")
    print()
    print("The exported localities (their own polygons) against independent baselines on 100 m cells:")
    names = [c for c in loc.columns if c.startswith(("counts ", "KDE "))]
    print(f"{'area':>6} {'covered':>8} {'places':>6} {'PAI':>7} " + " ".join(f"{n:>12}" for n in names) + "  best?")
    for r in loc.iter_rows(named=True):
        print(f"{r['area_share']:>5.1f}% {r['achieved_share']:>7.2f}% {r['localities']:>6} {r['pai']:>7.1f} "
              + " ".join(f"{r[n]:>12.1f}" for n in names) + f"  {'yes' if r['win'] else 'NO'}")
    print()
    print("Cell rankings on the engine's grid:")
    print(f"{'method':<15} {'area':>6} {'PAI':>7} {'PEI*':>6} {'RRI':>6} {'hit rate':>9} {'cells':>6}")
    for r in table.iter_rows(named=True):
        print(f"{r['method']:<15} {r['area_share']:>6.1%} {r['pai']:>7.1f} {r['pei_star']:>6.2f} "
              f"{r['rri']:>6.2f} {r['hit_rate']:>9.1%} {r['cells']:>6}")
    return 0
