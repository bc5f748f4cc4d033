"""Atomic file writes: a temporary file in the target folder, then a rename.

A crash or a full disk never leaves a half-written export where the analyst expects a whole one.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import polars as pl


class WouldOverwrite(FileExistsError):
    pass


def write_atomic(path: str | Path, writer: Callable[[Path], None], force: bool = True) -> Path:
    """Call writer(tmp_path) then rename tmp onto path. Refuse to replace unless force.

    Without force the final step is a hard link, which fails if `path` appeared meanwhile, so
    even a race never replaces a file. Any failure removes the temporary file.
    """
    path = Path(path)
    if path.exists() and not force:
        raise WouldOverwrite(f"{path}: already exists (fix: choose another name or pass --force)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        if force:
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
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if (exc.errno is not None and not isinstance(exc, FileExistsError)
                and (exc.filename is None or str(exc.filename) == str(tmp_path))):
            # Name the file the user asked for, not our temporary one (a full disk, say).
            raise type(exc)(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
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
