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
    """Call writer(tmp_path) then rename tmp onto path. Refuse to replace unless force."""
    path = Path(path)
    if path.exists() and not force:
        raise WouldOverwrite(f"{path}: already exists (fix: choose another name or pass --force)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_csv_atomic(df: pl.DataFrame, path: str | Path, force: bool = True) -> Path:
    return write_atomic(path, lambda p: df.write_csv(p), force=force)


def write_text_atomic(text: str, path: str | Path, force: bool = True) -> Path:
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"), force=force)
