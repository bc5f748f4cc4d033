"""The one way tests drive and read the workbench (Pilot tests of every screen share these).

`settle` waits for the workers (study load, analysis re-runs, engine calls) and the UI to go
quiet; `screen_text` reads every character on the terminal through Textual's public
`App.export_screenshot` (the screen and any modal on top), so no test reaches into Textual's
private compositor.
"""
from __future__ import annotations

import asyncio
import html
import re

_TEXT = re.compile(r'<text [^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"[^>]*?clip-path="url\(#[^)]*?-line-(\d+)\)"[^>]*>(.*?)</text>', re.S)


async def settle(pilot, rounds: int = 120) -> None:
    """Wait until no worker runs, the study (or its load error) is in, and the UI caught up."""
    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except Exception:  # noqa: BLE001 (a cancelled worker: the screen moved on)
            pass
        await pilot.pause()
        done = app.analysis is not None or getattr(app, "load_error", None)
        if not any(w.is_running for w in app.workers) and done and not getattr(app, "busy", ""):
            quiet += 1
            if quiet >= 2:
                return
        else:
            quiet = 0
        await asyncio.sleep(0.02)
    raise AssertionError("the workbench did not settle: " + repr([w.name for w in app.workers if w.is_running]))


async def wait_for(pilot, predicate, rounds: int = 200) -> None:
    """Pause until predicate() is true (a worker's result reached the screen)."""
    for _ in range(rounds):
        await pilot.pause()
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting for the screen")


def screen_text(app) -> str:
    """Every character on the terminal, one line per row (from the SVG screenshot)."""
    svg = app.export_screenshot()
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    parts = [(float(x), float(n), int(line), html.unescape(raw).replace("\xa0", " "))
             for x, n, line, raw in _TEXT.findall(svg)]
    cw = next((n / len(t) for _x, n, _y, t in parts if t and t.isascii()), 1.0)  # one cell's width
    for x, _n, y, text in parts:
        col = int(round(float(x) / cw))
        if 0 <= y < height:
            for i, ch in enumerate(text):
                if 0 <= col + i < width:
                    rows[y][col + i] = ch
    return "\n".join("".join(r).rstrip() for r in rows)
