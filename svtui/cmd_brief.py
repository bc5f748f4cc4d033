"""`svtui brief`: the briefing text for an area or a hotspot locality (registered on import by
svtui.commands). Built on svtui.briefing, exactly as the workbench's briefing screen."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from svtui.cli import EXIT_SOURCE, command
from svtui.safe import plain


def _opts(p) -> None:
    from svtui.cmd_engine import add_window_options

    who = p.add_mutually_exclusive_group()
    who.add_argument("--area", metavar="NAME|CODE",
                     help="an area at any level: CSP, district, ward, LSOA or force, by ONS code or name "
                          "(default: the whole study area)")
    who.add_argument("--hotspot", metavar="ID", help="a hotspot locality id from svtui hotspots (e.g. L-SO850550)")
    add_window_options(p)
    p.add_argument("--format", choices=("md", "txt"), default=None,
                   help="Markdown or plain text (default: from --out's extension, else md)")
    p.add_argument("--disclosure", choices=("none", "partner", "public"), default="partner",
                   help="partner (default): counts of 1-4 as 'fewer than 5'; public: also rounded to 5 and small "
                        "localities left out; none: internal use only")
    p.add_argument("--out", metavar="FILE", help="write the briefing to FILE instead of printing it")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument("--json", action="store_true", help="print the structured briefing (sections and figures) as JSON")


def _format(args) -> str:
    if args.format:
        return args.format
    if args.out and Path(args.out).suffix.lower() in (".txt", ".text"):
        return "txt"
    return "md"


@command("brief", "Write the briefing text for an area or a hotspot: headline, where, what, who, when, risk, "
                  "interventions, suggested focus and data notes.", _opts)
def brief(args) -> int:
    from svtui.briefing import build_briefing, render
    from svtui.cmd_engine import run_engine, window_filters
    from svtui.export import export_briefing

    filters = window_filters(args)
    study, prep, analysis = run_engine(args, filters)
    try:
        b = build_briefing(prep, analysis, study, area=args.area, hotspot=args.hotspot, disclosure=args.disclosure)
    except ValueError as exc:
        print(f"svtui: {plain(exc, 400)}", file=sys.stderr)
        return EXIT_SOURCE
    if args.json:
        text = json.dumps(b.to_dict(), indent=2, default=str) + "\n"
    else:
        text = render(b, _format(args))
    if args.out:
        path = export_briefing(text, args.out, force=args.force)
        print(f"Briefing written to {plain(str(path), 300)}")
        return 0
    sys.stdout.write(text)
    return 0
