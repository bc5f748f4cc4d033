"""Helpers for driving the workbench in Pilot tests (shared by the hostile-input tests)."""
from __future__ import annotations

import asyncio


async def settle(pilot, rounds: int = 80) -> None:
    """Wait until no worker runs, a study (or its load error) is in, and the UI caught up."""
    app = pilot.app
    quiet = 0
    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except Exception:  # noqa: BLE001 (a cancelled worker: the screen moved on)
            pass
        await pilot.pause()
        if not any(w.is_running for w in app.workers) and (app.analysis is not None or app.load_error) and not app.busy:
            quiet += 1
            if quiet >= 2:
                return
        else:
            quiet = 0
        await asyncio.sleep(0.02)


def screen_text(app) -> str:
    """Every character on the terminal, including the screens beneath a modal."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return "\n".join("".join(seg.text for seg in strip) for strip in update.strips)
