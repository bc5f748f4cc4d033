"""Subcommands of the CLI. Each loads the study, asks the engine, and prints or writes."""
from __future__ import annotations

import sys
from pathlib import Path

from svtui.cli import command, load_from_args, print_json
from svtui.safe import plain


def _check_opts(p):
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quarantine", metavar="DIR", help="write quarantined rows as CSVs into DIR")
    p.add_argument("--force", action="store_true",
                   help="replace quarantine CSVs already in DIR (otherwise svtui refuses)")


@command("check", "Load every source and print the ledger: rows read, accepted, quarantined by reason.", _check_opts)
def check(args) -> int:
    from hotspot.definition import load_definition, what_definition_sees
    from svtui.check_counts import COUNTS, definition_inputs, has_records

    given = getattr(args, "session", None)  # a caller's Session: its study, not a second load
    # With --cache the incidents stay a LazyFrame over the cached Parquet: check only counts.
    study = given.study if given is not None else load_from_args(args, quiet=args.json, lazy=True)
    inputs = definition_inputs(study.incidents)  # the few columns the definition reads
    definition = load_definition(study.spec.definition
                                 or ("west-mercia" if has_records(inputs) else "police-uk-proxy"))
    in_window = _in_window(args, study)
    sees = what_definition_sees(definition, inputs, counts=COUNTS)
    study.ledger.record_months(study.incidents)  # missing and low-volume months per source
    written = (study.ledger.write_quarantine(args.quarantine, force=args.force)
               if args.quarantine else [])
    if args.json:
        obj = study.ledger.to_dict()
        obj["study"] = {"name": study.name, "synthetic": study.synthetic, "load_seconds": round(study.load_seconds, 3)}
        obj["definition"] = {"name": definition.name, "sees": sees}
        obj["totals"] = {
            "read": sum(s.read for s in study.ledger.sources),
            "accepted": sum(s.accepted for s in study.ledger.sources),
            "quarantined": sum(s.n_quarantined for s in study.ledger.sources),
        }
        if written:
            obj["quarantine_files"] = [str(p) for p in written]
        if in_window is not None:
            obj["window"] = in_window
        print_json(obj)
        return 0
    print(plain(f"Study: {study.name}" + ("  [SYNTHETIC sample data]" if study.synthetic else ""), None))
    print(f"Loaded in {study.load_seconds:.2f} s")
    print()
    width = max(
        [len(plain(Path(s.path).name, 60)) for s in study.ledger.sources]
        + [len(r) + 4 for s in study.ledger.sources for r in s.quarantined]
        + [6]
    )
    print(f"{'kind':<13} {'source':<{width}} {'read':>9} {'accepted':>9} {'quarantined':>11}")
    for s in study.ledger.sources:
        print(f"{s.kind:<13} {plain(Path(s.path).name, 60):<{width}} {s.read:>9,} {s.accepted:>9,} {s.n_quarantined:>11,}")
        for reason, n in sorted(s.quarantined.items(), key=lambda kv: -kv[1]):
            print(f"{'':<13} {'  - ' + reason:<{width}} {'':>9} {'':>9} {n:>11,}")
        for label, months in (("missing months (no rows)", s.missing_months),
                              ("low-volume months (<10% of median)", s.low_months)):
            if months:
                print(f"{'':<13}   {label}: {', '.join(months)}")
        for note in s.notes:
            print(f"{'':<13}   note: {plain(note, 200)}")
    print()
    print(f"Definition: {plain(definition.title, 300)}")
    for line in sees:
        print(f"  - {plain(line, 300)}")
    for note in study.notes:
        print(f"Note: {plain(note, 300)}")
    if in_window is not None:
        print(f"Window {in_window['from'] or 'start'} to {in_window['to'] or 'end'}: {in_window['incidents']:,} of the "
              f"accepted incidents fall in it")
    for p in written:
        print(f"Quarantined rows written to {plain(p, None)}")
    return 0


def _in_window(args, study) -> dict | None:
    """With --from/--to: how many accepted incidents fall in the window (None without them)."""
    from svtui.check_counts import rows_in_window
    from svtui.cli import window_from_args

    start, end = window_from_args(args)
    if start is None and end is None:
        return None
    n = rows_in_window(study.incidents, start, end)
    return {"from": f"{start:%Y-%m}" if start else None, "to": f"{end:%Y-%m}" if end else None, "incidents": n}


def default_definition(study) -> str:
    """Record-level data gets the partnership definition; police.uk only gets the proxy."""
    return "west-mercia" if study.has_records() else "police-uk-proxy"


# Subcommands that live in their own modules register themselves on import.
from svtui import cmd_areas, cmd_backtest, cmd_brief, cmd_engine, cmd_pack  # noqa: E402,F401
