"""`svtui pack --out DIR`: the meeting pack (Word, one-file HTML, workbook) from one analysed study.

Registered in svtui.cli.COMMANDS on import (svtui.commands imports it), like every command.
"""
from __future__ import annotations

import sys

from svtui.safe import plain

NAME = "pack"
HELP = ("Write the meeting pack into DIR: pack.docx, pack.html (one file, prints on A4) and tables.xlsx: a "
        "summary page, one section per CSP, one page per top locality with its map and chart, data notes.")


def configure(p) -> None:
    p.add_argument("--out", metavar="DIR", required=True, help="folder for pack.docx, pack.html and tables.xlsx")
    p.add_argument("--top", type=int, default=10, metavar="N", help="significant (or adopted) localities with most harm to give a page (default 10)")
    p.add_argument("--subjects", nargs="+", metavar="NAME|CODE|ID",
                   help="only these CSPs or areas (name or ONS code) and/or localities (id); areas bring their own "
                        "top localities")
    p.add_argument("--disclosure", choices=("none", "partner", "public"), default="partner",
                   help="partner (default): counts of 1-4 as 'fewer than 5' and not drawn; public: also rounded to 5 "
                        "and small localities left out; none: internal use only")
    p.add_argument("--force", action="store_true", help="replace the files if DIR already holds them")
    p.add_argument("--workspace", metavar="DIR", help="the study's workspace folder, whose action log becomes the "
                   "workbook's actions sheet (default beside study.toml, or ./svtui-sample-workspace for the sample)")


def run(args) -> int:
    from svtui.cli import results_from_args
    from svtui.pack import build_pack

    if args.top < 0:
        raise SystemExit("svtui: --top must be 0 or more")
    results = results_from_args(args)
    try:
        res = build_pack(results, args.out, top=args.top, subjects=args.subjects, disclosure=args.disclosure,
                         force=args.force, workspace=args.workspace)
    except ValueError as exc:
        print(f"svtui: {plain(exc, 400)}", file=sys.stderr)
        return 2
    doc = res.document
    n_loc = sum(1 for s in doc.sections if s.kind == "locality")
    n_area = sum(1 for s in doc.sections if s.kind in ("csp", "area"))
    print(f"Pack for {plain(results.study.name, 120)}: {n_area} {'area' if n_area == 1 else 'areas'}, {n_loc} "
          f"{'locality' if n_loc == 1 else 'localities'}, {res.seconds:.1f} s")
    for p in res.paths:
        print(f"  {plain(str(p), 300)}")
    return 0


def _register() -> None:
    from svtui.cli import COMMANDS

    COMMANDS.setdefault(NAME, (HELP, run, configure))


_register()
