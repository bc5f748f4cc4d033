"""Atomic file writes: a temporary file in the target folder, then a rename.

A crash or a full disk never leaves a half-written export where the analyst expects a whole one.
"""
from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Callable

import polars as pl


class WouldOverwrite(FileExistsError):
    pass


class NotAFile(FileExistsError):
    """The target exists and is not a regular file (a device such as /dev/null, a folder, a
    pipe). Even with force it is never replaced: renaming onto /dev/null would delete the
    device node for everyone on the machine."""


class WriteError(OSError):
    """Writing `filename` failed (a full disk, a quota, a read-only folder, a library's I/O
    error). `reason` is the operating system's words, or the library's first line."""

    def __init__(self, path: Path, reason: str, err: int | None = None) -> None:
        super().__init__(err, reason, str(path))
        self.reason = reason


# Library errors met while writing: polars wraps an OS error as ComputeError "(os error 28)",
# GDAL/pyogrio reports a full disk through SQLite, pyarrow raises its own OSError.
_WRITER_LIBRARIES = ("polars", "pyogrio", "pyarrow", "fiona", "sqlite3", "shapely")
_OS_ERROR_NUMBER = re.compile(r"(?:os error|errno|Errno)\s*(\d+)")
_FULL = re.compile(r"disk is full|No space left|database or disk is full", re.I)


def _as_write_error(exc: BaseException, path: Path) -> WriteError | None:
    """A WriteError naming `path` for an I/O failure while writing, None for anything else."""
    if isinstance(exc, (WouldOverwrite, NotAFile, WriteError)):
        return None
    own = isinstance(exc, OSError)
    if not own and type(exc).__module__.split(".")[0] not in _WRITER_LIBRARIES:
        return None
    err = getattr(exc, "errno", None) if own else None
    text = str(exc)
    if err is None:
        m = _OS_ERROR_NUMBER.search(text)
        err = int(m.group(1)) if m else (errno.ENOSPC if _FULL.search(text) else None)
    if err is not None:
        reason = os.strerror(err)
    else:
        reason = (text.strip().splitlines() or [type(exc).__name__])[0][:200]
    return WriteError(path, reason, err)  # the file asked for, never our temporary name


def raise_write_error(exc: BaseException, path: str | Path) -> None:
    """Raise a WriteError naming `path` if `exc` is an I/O failure while writing it (for
    writers that manage their own temporary files, such as the workspace cache)."""
    if isinstance(exc, Exception):
        wrapped = _as_write_error(exc, Path(path))
        if wrapped is not None:
            raise wrapped from exc


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (no race with threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def check_target(path: Path) -> None:
    """Refuse a target that exists and is not a regular file, whatever `force` says."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError:
        return  # a dangling or looping link: the rename below replaces only the link
    if not stat.S_ISREG(st.st_mode):
        kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a pipe" if stat.S_ISFIFO(st.st_mode) else "not a regular file")
        raise NotAFile(f"{path}: is {kind}, not a file, and is never replaced "
                       f"(fix: give the name of a new or existing regular file)")


def write_atomic(path: str | Path, writer: Callable[[Path], None], force: bool = True) -> Path:
    """Call writer(tmp_path) then rename tmp onto path. Refuse to replace unless force.

    Without force the final step is a hard link, which fails if `path` appeared meanwhile, so
    even a race never replaces a file. A target that is not a regular file (/dev/null, a
    folder) is never replaced. The file gets the mode the umask gives (0666 & ~umask, as any
    other tool would), not mkstemp's private 0600. Any failure, an interrupt included,
    removes the temporary file; an I/O failure is raised as WriteError naming `path`.
    """
    path = Path(path)
    check_target(path)
    if path.exists() and not force:
        raise WouldOverwrite(f"{path}: already exists (fix: choose another name or pass --force)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except (FileExistsError, NotADirectoryError) as exc:  # a part of the folder path is a file
        raise WriteError(path, "a part of its folder path is a file, not a folder", errno.ENOTDIR) from exc
    except OSError as exc:  # a read-only or forbidden folder, a full disk
        raise WriteError(path, exc.strerror or str(exc), exc.errno) from exc
    tmp_path = Path(tmp)
    try:
        try:
            os.fchmod(fd, 0o666 & ~_umask())
        finally:
            os.close(fd)
        writer(tmp_path)
        if force:
            check_target(path)
            os.replace(tmp_path, path)
        else:
            try:
                os.link(tmp_path, path)
            except FileExistsError:
                raise WouldOverwrite(
                    f"{path}: already exists (fix: choose another name or pass --force)") from None
            except OSError:  # no hard links on this file system: check, then rename
                if path.exists():
                    raise WouldOverwrite(
                        f"{path}: already exists (fix: choose another name or pass --force)") from None
                os.replace(tmp_path, path)
    except Exception as exc:
        wrapped = _as_write_error(exc, path)
        if wrapped is not None:
            raise wrapped from exc
        raise
    finally:  # also on KeyboardInterrupt/SIGTERM (see svtui.errors), and after a hard link
        tmp_path.unlink(missing_ok=True)
    return path


# A spreadsheet opening a CSV runs a cell starting with = + - @ (or a tab or carriage return
# before one) as a formula: `=HYPERLINK(...)` in a free-text location field would become a link
# or worse. Such cells get a leading apostrophe, which spreadsheets show as text and hide.
# Plain numbers ("-2.2", "+44") are left alone: negative longitudes are common and harmless.
FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"


def formula_safe_text(value: object) -> object:
    """One cell made safe for a spreadsheet (non-strings are returned unchanged)."""
    import re

    if isinstance(value, str) and re.match(FORMULA_START, value) and not re.match(_PLAIN_NUMBER, value):
        return "'" + value
    return value


def formula_safe(df: pl.DataFrame) -> pl.DataFrame:
    """Every text cell and column name that a spreadsheet would run as a formula, neutralised."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.Utf8:
            c = pl.col(name)
            risky = c.str.contains(FORMULA_START) & ~c.str.contains(_PLAIN_NUMBER)
            exprs.append(pl.when(risky.fill_null(False)).then(pl.lit("'") + c).otherwise(c).alias(name))
    out = df.with_columns(exprs) if exprs else df
    renames = {c: formula_safe_text(c) for c in out.columns if formula_safe_text(c) != c}
    return out.rename(renames) if renames else out


def write_csv_atomic(df: pl.DataFrame, path: str | Path, force: bool = True,
                     neutralise_formulas: bool = True) -> Path:
    """Write df as CSV atomically; text a spreadsheet would run as a formula is neutralised."""
    out = formula_safe(df) if neutralise_formulas else df
    return write_atomic(path, lambda p: out.write_csv(p), force=force)


def write_text_atomic(text: str, path: str | Path, force: bool = True) -> Path:
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"), force=force)
