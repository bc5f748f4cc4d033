"""Exports from the workbench go through svtui.export (the same code as the CLI's exports).

Files are written to the folder svtui was started in, as CSV (polygons as WKT in British
National Grid) with a provenance sidecar, under a name that never overwrites an earlier export.
Until svtui.export exists, an export says so instead of failing.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from svtui.safe import plain
from svtui.screens import engine


def new_path(stem: str, suffix: str, folder: Path | None = None) -> Path:
    """svtui-<stem>-<YYYYmmdd-HHMMSS>.<suffix> in `folder` (the working folder), never an existing file."""
    folder = folder or Path.cwd()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"svtui-{stem}-{stamp}{suffix}"
    n = 2
    while path.exists():
        path = folder / f"svtui-{stem}-{stamp}-{n}{suffix}"
        n += 1
    return path


def export_frame(screen, frame, stem: str) -> None:
    """Export `frame` with svtui.export in a worker; notify where it went."""
    mod = engine.module("export")
    fn = getattr(mod, "export_frame", None) if mod is not None else None
    if fn is None:
        screen.notify(engine.placeholder("export") + " Copy with c instead.", severity="warning", timeout=6, markup=False)
        return
    app = screen.app
    study, analysis, prep = app.study, app.analysis, app.prep

    def job():
        path = new_path(stem, ".csv")
        return fn(frame, path, study=study, analysis=analysis, prep=prep, kind=stem)

    def done(path) -> None:
        screen.notify(f"{frame.height:,} rows written to {plain(path, 300)} (with its provenance)", title="Exported", timeout=8, markup=False)

    screen.compute(f"export:{stem}", job, done=done)
