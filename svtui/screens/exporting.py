"""Exports from the workbench go through svtui.export (the CLI's export module).

Until that module exists, an export says so instead of failing.
"""
from __future__ import annotations

from pathlib import Path

from svtui.safe import plain
from svtui.screens import engine


def export_frame(screen, frame, stem: str) -> None:
    """Export `frame` with svtui.export in a worker; notify where it went."""
    fn = engine.find("export")
    if fn is None:
        screen.notify(engine.placeholder("export") + " Copy with c instead.", severity="warning", timeout=6, markup=False)
        return

    def job():
        return call_export(fn, frame, stem)

    def done(path) -> None:
        screen.notify(f"Exported {frame.height:,} rows to {plain(path, 200)}", title="Exported", markup=False)

    screen.compute(f"export:{stem}", job, done=done)


def call_export(fn, frame, stem: str):
    """Call svtui.export's table export with whatever signature it offers."""
    import inspect

    out_dir = Path.cwd()
    params = inspect.signature(fn).parameters
    kwargs = {}
    if "stem" in params:
        kwargs["stem"] = stem
    if "name" in params:
        kwargs["name"] = stem
    for k in ("folder", "out_dir", "directory", "dest"):
        if k in params:
            kwargs[k] = out_dir
    if "path" in params and not kwargs:
        kwargs["path"] = out_dir / f"svtui-{stem}.csv"
    result = fn(frame, **kwargs)
    return result if result is not None else out_dir
