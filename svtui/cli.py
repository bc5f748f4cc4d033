"""The scriptable command line: the same results as the workbench, for scripts and pipelines.

Every command takes the same study options. With none, the embedded SYNTHETIC sample study is
used. A source that cannot be read gives one line naming the file and the fix, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Callable

from geodata.errors import SourceError
from svtui.safe import plain

EXIT_SOURCE = 2
EXIT_INTERNAL = 3


def add_study_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("study options (with none, the SYNTHETIC sample study is used)")
    g.add_argument("--study", metavar="FILE", help="a study.toml naming the sources")
    g.add_argument("--crimes", nargs="+", metavar="PATH", help="police.uk CSVs, folders or zips, or record extracts")
    g.add_argument("--areas", metavar="PATH", help="LSOA boundary file (GeoJSON, GeoPackage, Shapefile)")
    g.add_argument("--lookup", nargs="+", metavar="PATH", dest="lookups", help="ONS lookup CSVs")
    g.add_argument("--indicators", nargs="+", metavar="PATH", help="indicator CSVs keyed by area code")
    g.add_argument("--venues", metavar="PATH", help="venues CSV or GeoJSON")
    g.add_argument("--ae", nargs="+", metavar="PATH", help="A&E assault (ISTV) extracts")
    g.add_argument("--interventions", metavar="PATH", help="interventions TOML")
    g.add_argument("--definition", metavar="NAME|PATH", help="serious-violence definition")
    g.add_argument("--cache", nargs="?", const=True, default=None, metavar="DIR",
                   help="keep police.uk sources in a Parquet workspace cache (default folder "
                        "$SVTUI_CACHE or ~/.cache/svtui) so reopening takes seconds")


def spec_from_args(args):
    from geodata.study import spec_from_options

    return spec_from_options(
        study=args.study,
        crimes=args.crimes,
        areas=args.areas,
        lookups=args.lookups,
        indicators=args.indicators,
        venues=args.venues,
        ae=args.ae,
        interventions=args.interventions,
        definition=args.definition,
    )


def load_from_args(args, quiet: bool = False):
    from geodata.study import load_study

    def progress(msg: str, frac: float) -> None:
        if not quiet and sys.stderr.isatty():
            print(f"\r{msg:<40} {frac:4.0%}", end="", file=sys.stderr, flush=True)

    study = load_study(spec_from_args(args), progress=progress, cache=getattr(args, "cache", None))
    if not quiet and sys.stderr.isatty():
        print("\r" + " " * 50 + "\r", end="", file=sys.stderr, flush=True)
    return study


COMMANDS: dict[str, tuple[str, Callable, Callable | None]] = {}


def command(name: str, help_text: str, configure: Callable | None = None):
    """Register a subcommand; `configure(parser)` adds its own options."""

    def deco(fn):
        COMMANDS[name] = (help_text, fn, configure)
        return fn

    return deco


def build_parser() -> argparse.ArgumentParser:
    from svtui import commands  # noqa: F401  (registers the subcommands)

    parser = argparse.ArgumentParser(
        prog="svtui",
        description="Serious-violence hotspot workbench. With no command, opens the workbench.",
    )
    add_study_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _fn, configure) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        add_study_options(sp)
        if configure:
            configure(sp)
    from svtui.cmd_review import add_parsers  # review, actions, evaluate (hotspot review sessions)

    add_parsers(sub, add_study_options)
    from svtui import cmd_pack

    cmd_pack.add_parser(sub)
    return parser


def _say(message: object) -> None:
    """One line on stderr. Messages carry file names and header text: data, made inert."""
    print(f"svtui: {plain(message, 2000)}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # Library warnings (GDAL, NumPy) become one inert line, never a source listing.
    _say(f"warning: {category.__name__}: {message}")


def main(argv: list[str] | None = None) -> int:
    from svtui.errors import prepare_process

    prepare_process()  # streams that cannot fail on an ASCII terminal; SIGTERM cleans up like ctrl-C
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            if args.command is None:
                from svtui.app import run_app

                return run_app(spec_from_args(args), cache=args.cache)
            fn = getattr(args, "_handler", None) or COMMANDS[args.command][1]
            return fn(args) or 0
        except BrokenPipeError:  # the reader went away (| head): nothing more to say
            _silence_stdout()
            return 0
        except BaseException as exc:  # one line naming the file and the fix; codes in svtui/errors.py
            from svtui.errors import explain

            if os.environ.get("SVTUI_DEBUG") and not isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            code, line = explain(exc)
            if line:
                _say(line)
            if isinstance(exc, SystemExit) and line:  # a command's own exit: keep it an exit, status 2
                from svtui.errors import UsageExit

                raise UsageExit(str(exc.code)) from None
            return code
        finally:
            from svtui.errors import quiet_after_command

            quiet_after_command()


def _silence_stdout() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
