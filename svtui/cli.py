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
EXIT_USAGE = 2  # a bad option value (month, --out name, unknown area): the user's to fix, as argparse


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


MONTH_HELP = "give a month as YYYY-MM (e.g. 2024-03)"


from svtui.errors import UsageExit  # noqa: E402  (one class: exit status 2 after the printed line)


def parse_month(text: str | None, flag: str = "month"):
    """'2024-03' -> date(2024, 3, 1); None stays None. The one month parser of every command.

    Strict: exactly four digits, a hyphen, two digits, month 01..12 (surrounding spaces allowed).
    Raises ValueError with one line naming the flag, the text and the fix.
    """
    from datetime import date

    if text is None:
        return None
    t = str(text).strip()
    if (len(t) == 7 and t.isascii() and t[4] == "-" and t[:4].isdigit() and t[5:].isdigit()
            and 1 <= int(t[5:]) <= 12):
        return date(int(t[:4]), int(t[5:]), 1)
    raise ValueError(f"{flag} {plain(text, 40)!r}: {MONTH_HELP}")


def add_window_options(p: argparse.ArgumentParser) -> None:
    """--from/--to (inclusive months), the window every command takes; --start/--end are hidden
    aliases kept for old scripts. main() checks both with parse_month before any command runs."""
    if "--from" not in p._option_string_actions:  # (a command module may have added them itself)
        p.add_argument("--from", dest="start", metavar="YYYY-MM", help="first month (default: the study's first)")
        p.add_argument("--to", dest="end", metavar="YYYY-MM", help="last month (default: the study's last)")
    if "--start" not in p._option_string_actions:
        p.add_argument("--start", dest="start", help=argparse.SUPPRESS)
        p.add_argument("--end", dest="end", help=argparse.SUPPRESS)


def window_from_args(args):
    """(first, last) months from --from/--to as dates (None = the study's own); raises ValueError
    when the window is back to front."""
    start = parse_month(getattr(args, "start", None), "--from")
    end = parse_month(getattr(args, "end", None), "--to")
    if start and end and end < start:
        raise ValueError(f"--to {end:%Y-%m} is before --from {start:%Y-%m} (fix: swap them)")
    return start, end


def add_out_options(p: argparse.ArgumentParser, what: str = "the table", formats: str = ".csv, .parquet or .json") -> None:
    """--out/--force, the same on every command: written atomically with its provenance, never
    replacing a file without --force."""
    p.add_argument("--out", metavar="FILE", help=f"write {what} to FILE ({formats}) with its provenance")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")


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


def load_from_args(args, quiet: bool = False, lazy: bool = False):
    """The study of the options. lazy: police.uk rows from the cache stay a LazyFrame (for
    commands that only count, `svtui check`)."""
    from geodata.study import load_study

    def progress(msg: str, frac: float) -> None:
        if not quiet and sys.stderr.isatty():
            print(f"\r{msg:<40} {frac:4.0%}", end="", file=sys.stderr, flush=True)

    try:
        cache = getattr(args, "cache", None)
        if lazy:
            return load_study(spec_from_args(args), progress=progress, cache=cache, lazy=True)
        return load_study(spec_from_args(args), progress=progress, cache=cache)
    finally:  # the progress line is cleared, also before an error's one line
        if not quiet and sys.stderr.isatty():
            print("\r" + " " * 50 + "\r", end="", file=sys.stderr, flush=True)


def session_from_args(args):
    """The hotspot.session.Session for the study options (one load; reused when the caller
    handed one in: main(argv, session=...), as the tests and batch commands do)."""
    given = getattr(args, "session", None)
    if given is not None:
        return given
    from hotspot.session import Session
    from svtui.cmd_engine import engine_params

    study = load_from_args(args, quiet=getattr(args, "json", False))
    # --area-share/--max-localities/--cell-size, then study.toml [settings], then the defaults;
    # the adopted localities of the study's workspace (svtui localities adopt) when there are any
    args.session = Session(study, params=engine_params(args, study))
    return args.session


def results_from_args(args):
    """Results for the window in --from/--to (hotspot.session.Results)."""
    from hotspot.analysis import Filters
    from hotspot.session import ParameterError

    start, end = window_from_args(args)
    try:
        return session_from_args(args).results(Filters(start=start, end=end))
    except ParameterError as exc:  # e.g. a window the data never reaches: one line, exit 2
        _say(exc)
        raise UsageExit(str(exc)) from None


def fail(message: object) -> int:
    """One inert line on stderr for a usage problem (unknown area, bad --out, ...): exit 2."""
    _say(message)
    return EXIT_USAGE


def frame_json(df, **meta) -> dict:
    """A table as one JSON object: meta (title, notes, ...) and its rows (binary columns dropped;
    NaN and infinities as null, dates as ISO text)."""
    import math

    import polars as pl

    keep = [c for c, t in df.schema.items() if t != pl.Binary]
    rows = df.select(keep).to_dicts()

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if hasattr(v, "isoformat"):
            return v.isoformat()
        return v

    return {**meta, "columns": keep, "rows": [{k: clean(v) for k, v in r.items()} for r in rows]}


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
        add_window_options(sp)
    from svtui.cmd_review import add_parsers  # review, actions, evaluate (hotspot review sessions)

    add_parsers(sub, add_study_options)
    return parser


def _say(message: object) -> None:
    """One line on stderr. Messages carry file names and header text: data, made inert."""
    print(f"svtui: {plain(message, 2000)}", file=sys.stderr)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # Library warnings (GDAL, NumPy) become one inert line, never a source listing.
    _say(f"warning: {category.__name__}: {message}")


_workbench_ran = False  # set when main() ran the TUI: `run` then exits the ordinary way
_gc_thresholds = None  # the collector's thresholds before `run` raised them


def main(argv: list[str] | None = None, session=None) -> int:
    """Run one command. session: a hotspot.session.Session to use instead of loading the study
    options again (tests and batch callers share one load)."""
    from svtui.errors import prepare_process

    prepare_process()  # streams that cannot fail on an ASCII terminal; SIGTERM cleans up like ctrl-C
    parser = build_parser()
    args = parser.parse_args(argv)
    args.session = session
    try:
        window_from_args(args)  # one strict month parser for every command, before any work
    except ValueError as exc:  # exits as argparse does on a bad option: one line, status 2
        _say(exc)
        raise UsageExit(str(exc)) from None
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            if args.command is None:
                from svtui.app import run_app

                global _workbench_ran
                _workbench_ran = True
                if _gc_thresholds is not None:
                    import gc

                    gc.set_threshold(*_gc_thresholds)

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
                raise UsageExit(str(exc.code)) from None
            return code
        finally:
            from svtui.errors import quiet_after_command

            quiet_after_command()


def run() -> None:
    """The process entry point (console script and `python -m svtui`): run one command, then
    leave without tearing the interpreter down.

    A command's output is complete when `main` returns; freeing every module and array after
    that is about 0.1 s of waiting before the shell prompt comes back. So: flush the streams,
    run what registered at exit (temporary folders, logging), and end the process. The
    workbench (no command) exits the ordinary way.

    Until then the cyclic garbage collector runs less often (every 50,000 new objects instead
    of 700): a command's imports and tables create ~100,000 long-lived objects, and collecting
    them over and over cost ~30 ms a command; the workbench gets the usual thresholds back.
    """
    import gc

    global _gc_thresholds
    _gc_thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    code = main()
    if _workbench_ran:
        sys.exit(code)
    import atexit

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away: nothing more to say there
            pass
    atexit._run_exitfuncs()
    os._exit(code if isinstance(code, int) else 1)


def _silence_stdout() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


if __name__ == "__main__":
    run()
