"""Every failure of a command ends in one line naming the file and the fix, and an exit code.

The exit codes (documented in the README):

====  ========================================================================================
0     done
1     an unexpected error: a bug in svtui (the line says so; SVTUI_DEBUG=1 shows the traceback)
2     usage: a bad option or value, an output that already exists (use --force), a terminal
      that cannot show the workbench
3     a source cannot be read: a data file, the study file, a definition file
4     a file could not be written: a full disk, a quota, a read-only folder
130   interrupted (ctrl-C); 143 stopped by SIGTERM
====  ========================================================================================

`explain(exc)` turns any exception into (exit code, line); `svtui.cli.main` prints the line
through `svtui.safe.plain`, so a file name or a header quoted in it is inert.
"""
from __future__ import annotations

import errno
import os
import signal
import sys
import threading

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USAGE = 2
EXIT_SOURCE = 3
EXIT_WRITE = 4
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

# errno values that mean "could not write here", whatever the file was for.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


class UsageError(Exception):
    """A wrong option or environment: the message names it and says what to do instead."""


class UsageExit(SystemExit):
    """A command's own `SystemExit("svtui: ...")`, after its line was printed: exit status 2
    (usage), while str() is still the message (callers and tests that match on it keep working)."""

    def __init__(self, message: str) -> None:
        super().__init__(EXIT_USAGE)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so `finally` blocks remove temporary files."""


def _fix(text: str, fix: str) -> str:
    return text if "(fix:" in text else f"{text} (fix: {fix})"


def explain(exc: BaseException) -> tuple[int, str]:
    """(exit code, one line) for any exception a command lets escape. Never 'internal error'."""
    from geodata.atomic import NotAFile, WouldOverwrite, WriteError
    from geodata.errors import SourceError

    if isinstance(exc, Terminated):
        return EXIT_TERMINATED, "stopped (SIGTERM); temporary files were removed"
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted (ctrl-C); temporary files were removed"
    if isinstance(exc, SystemExit):  # a command's own one-line exit, or argparse's
        code = exc.code
        if code is None or isinstance(code, int):
            return int(code or 0), ""
        text = str(code)
        return EXIT_USAGE, text[len("svtui: "):] if text.startswith("svtui: ") else text
    if isinstance(exc, UsageError):
        return EXIT_USAGE, str(exc)
    export = sys.modules.get("svtui.export")
    if export is not None and isinstance(exc, getattr(export, "UnknownFormat", ())):
        return EXIT_USAGE, str(exc)  # an --out name, not a source
    if isinstance(exc, SourceError):
        return EXIT_SOURCE, str(exc)
    if _is_definition_error(exc):
        return EXIT_SOURCE, _fix(str(exc), "correct that line of the definition file, or give a shipped "
                                           "definition (west-mercia, police-uk-proxy) with --definition")
    if isinstance(exc, (NotAFile, WouldOverwrite)):
        return EXIT_USAGE, str(exc)
    if isinstance(exc, WriteError):
        return EXIT_WRITE, _write_line(exc.filename, exc.reason, exc.errno)
    if isinstance(exc, FileExistsError):
        where = exc.filename or ""
        return EXIT_USAGE, _fix(f"{where}: already exists" if where else str(exc),
                                "choose another name or pass --force")
    if isinstance(exc, UnicodeEncodeError):
        return EXIT_USAGE, ("this terminal's character set cannot show the output (fix: set "
                            "PYTHONIOENCODING=utf-8 or a UTF-8 locale such as LANG=C.UTF-8)")
    if isinstance(exc, MemoryError):
        return EXIT_SOURCE, ("not enough memory to read the sources (fix: analyse fewer months or one "
                             "force at a time, or use --cache)")
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else "a file"
        reason = exc.strerror or str(exc)
        if exc.errno in _WRITE_ERRNOS:
            return EXIT_WRITE, _write_line(where, reason, exc.errno)
        if exc.errno == errno.ENOENT:
            return EXIT_SOURCE, f"{where}: not found (fix: check the path)"
        if exc.errno == errno.EISDIR:
            return EXIT_SOURCE, f"{where}: is a folder (fix: give the path of a file)"
        if exc.errno == errno.EACCES:
            return EXIT_SOURCE, f"{where}: permission denied (fix: check the file's and its folder's permissions)"
        return EXIT_SOURCE, f"{where}: {reason} (fix: check the path, its permissions and free space)"
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return EXIT_BUG, (f"unexpected {type(exc).__name__}: {first} — a bug in svtui, not in your data "
                      f"(fix: report it with the output of SVTUI_DEBUG=1)")


def _write_line(where, reason: str, err: int | None) -> str:
    fix = {errno.ENOSPC: "free some space on that disk, or write to another folder",
           errno.EDQUOT: "free some of your quota, or write to another folder",
           errno.EROFS: "write to a folder that is not read-only",
           errno.EFBIG: "write to another disk, or a smaller export",
           errno.EACCES: "write to a folder you may write to, or change its permissions",
           errno.ENOTDIR: "choose another path"}.get(
               err, "write to another folder")
    return f"{where}: could not be written: {reason} (fix: {fix})"


def _is_definition_error(exc: BaseException) -> bool:
    mod = sys.modules.get("hotspot.definition")
    return mod is not None and isinstance(exc, mod.DefinitionError)


# --------------------------------------------------------------------------------------------
# The process: terminal, streams, signals


def check_terminal() -> None:
    """The workbench needs a terminal that understands cursor movement. TERM=dumb (Emacs shell
    buffers, some CI logs, `ssh -T`) does not: refuse with the commands that work there."""
    if os.environ.get("TERM", "").strip().lower() == "dumb":
        raise UsageError("TERM=dumb: this terminal cannot show the workbench (fix: use the commands, "
                         "which print plain text there, e.g. `svtui check` or `svtui hotspots`; "
                         "or set TERM=xterm-256color in a real terminal)")


def guard_streams() -> None:
    """Output never fails on a terminal that cannot show a character (LANG=C,
    PYTHONIOENCODING=ascii): such characters are written as escapes (\\u2013), not an error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            "–…✓".encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or detached stream
                pass


def _own_process() -> bool:
    """True in a real `svtui` process (the console script, `python -m svtui`), not when a test
    runner calls `main()`: the signal handlers below are the process's, not a library's."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return (getattr(spec, "name", "") == "svtui.__main__"
            or os.path.basename(sys.argv[0] if sys.argv else "") == "svtui")


def _one_line_hook(kind, value, tb) -> None:
    if issubclass(kind, KeyboardInterrupt):  # ctrl-C before a command started: no traceback
        print("svtui: interrupted", file=sys.stderr)
        return
    sys.__excepthook__(kind, value, tb)


def prepare_process() -> None:
    """Called first by `svtui.cli.main`: safe streams, and in a real svtui process SIGTERM
    unwinding like ctrl-C and ctrl-C during start-up giving one line (Python then exits 130)."""
    guard_streams()
    if _own_process():
        sys.excepthook = _one_line_hook
        install_signal_handlers()


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def install_signal_handlers() -> None:
    """SIGTERM unwinds like ctrl-C (temporary files are removed by their `finally`)."""
    if _own_process() and threading.current_thread() is threading.main_thread():
        try:
            signal.signal(signal.SIGTERM, _raise_terminated)
        except (ValueError, OSError):
            pass


def _quiet_exit(signum, frame) -> None:
    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001 (a closed pipe: nothing more to say there)
        pass
    try:
        os.write(2, b"svtui: interrupted\n")
    except OSError:
        pass
    os._exit(EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_INTERRUPTED)


def quiet_after_command() -> None:
    """Once a command has finished, ctrl-C or SIGTERM during the interpreter's shutdown
    (flushing output, joining worker threads) exits at once with one line, never a traceback.

    Only for a real `svtui` process (the console script or `python -m svtui`): a test runner
    that calls `main()` keeps its own ctrl-C.
    """
    if _own_process() and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                signal.signal(sig, _quiet_exit)
            except (ValueError, OSError):
                pass
