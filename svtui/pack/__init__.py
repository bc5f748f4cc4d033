"""The meeting pack: `pack.docx`, `pack.html` and `tables.xlsx` from one analysed study.

``build_pack(results_or_session, out_dir, top=10, subjects=None, disclosure="partner")`` takes a
hotspot.session.Results (or a Session: its unfiltered Results), builds the document once (svtui.pack.assemble) and hands it to three writers
(svtui.pack.writers). matplotlib, python-docx and openpyxl are imported only on this path.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from svtui import disclosure as dc

__all__ = ["build_pack", "PackResult", "FILES"]

FILES = ("pack.docx", "pack.html", "tables.xlsx")


@dataclass
class PackResult:
    paths: list[Path]
    document: object  # svtui.pack.model.Document
    seconds: float
    timings: dict = field(default_factory=dict)


def build_pack(results_or_session, out_dir: str | Path, *, top: int = 10, subjects: list[str] | None = None,
               disclosure: str = dc.DEFAULT_LEVEL, force: bool = False, workspace=None) -> PackResult:
    """Write the three files into out_dir (created if needed) from one hotspot.session.Results
    (or a Session, whose unfiltered Results is used). Refuses to replace any of them unless
    force, checking all three before any work. workspace: the study's workspace folder when not
    the default (geodata.workspace.resolve_workspace); its action log becomes the actions sheet."""
    from geodata.atomic import WouldOverwrite
    from svtui.pack.assemble import build_document
    from svtui.pack.writers import write_docx, write_html, write_xlsx

    t0 = time.perf_counter()
    from hotspot.session import Session

    results = results_or_session.results() if isinstance(results_or_session, Session) else results_or_session
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(20, "not a folder", str(out))
    if not force:
        for name in FILES:
            if (out / name).exists():
                raise WouldOverwrite(f"{out / name}: already exists (fix: choose another folder or pass --force)")
    timings: dict = {}
    results.run()
    timings["analysis"] = time.perf_counter() - t0
    doc = build_document(results, top=top, subjects=subjects, disclosure=disclosure, workspace=workspace,
                         timings=timings)
    t1 = time.perf_counter()
    paths = [write_docx(doc, out / FILES[0], force=force),
             write_html(doc, out / FILES[1], force=force),
             write_xlsx(doc, out / FILES[2], force=force)]
    timings["write"] = time.perf_counter() - t1
    return PackResult(paths, doc, time.perf_counter() - t0, timings)
