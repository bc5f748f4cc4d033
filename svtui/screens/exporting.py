"""Exports from the workbench go through svtui.export (the same code as the CLI's exports).

Files are written to the folder svtui was started in, as CSV (polygons as WKT in British
National Grid) with a provenance sidecar (hotspot.session.Results.provenance), under a name
that never overwrites an earlier export.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from svtui.safe import plain


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
    """Export `frame` (or what a callable returns, computed in the worker) with svtui.export,
    with the provenance of the current Results; notify where it went, or why it could not."""
    res = screen.app.results

    def job():
        from svtui.export import export_frame as write

        df = frame() if callable(frame) else frame
        path = new_path(stem, ".csv")
        return write(df, path, res, kind=stem), df.height

    def done(result) -> None:
        path, rows = result
        screen.notify(f"{rows:,} rows written to {plain(path, 300)} (with its provenance)", title="Exported", timeout=8, markup=False)

    def failed(message: str) -> None:
        screen.notify(message, title="Export failed", severity="error", timeout=10, markup=False)

    screen.compute(f"export:{stem}", job, done=done, failed=failed)
