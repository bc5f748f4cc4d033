"""What every workbench screen shares: the frame, the data-changed protocol, engine calls."""
from __future__ import annotations

from typing import Any, Callable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState, get_current_worker

from svtui.widgets.chrome import NavBar, StatusLine


class WorkbenchScreen(Screen):
    """A screen of the workbench. Subclasses implement `compose_body` and `data_changed`."""

    MODE = ""
    TITLE_TEXT = ""

    def __init__(self) -> None:
        super().__init__()
        self.seen_generation = -1
        self._compute_serial = 0

    # -- frame -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield from self.compose_body()
        yield StatusLine()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # -- data ----------------------------------------------------------------------------------
    @property
    def wb(self):
        """The workbench app (typed loosely to keep imports one way)."""
        return self.app

    def on_mount(self) -> None:
        self.call_after_refresh(self._maybe_refresh)

    def on_screen_resume(self) -> None:
        self.call_after_refresh(self._maybe_refresh)

    def _maybe_refresh(self) -> None:
        if not self.is_mounted:
            return
        if self.seen_generation != self.wb.generation:
            self.seen_generation = self.wb.generation
            self.data_changed()
        self.consume_pending()
        nav = self.query(NavBar)
        if nav:
            nav.first().update_bar()

    def data_changed(self) -> None:
        """The study or the analysis changed: redraw from `self.wb` state."""

    def consume_pending(self) -> None:
        """Act on a jump requested from the command palette (see SvtuiApp.jump_to)."""

    # -- background engine calls ---------------------------------------------------------------
    def compute(self, name: str, fn: Callable[..., Any], *args, done: Callable[[Any], None], failed: Callable[[str], None] | None = None) -> Worker:
        """Run `fn(*args)` in a thread; call `done(result)` on the UI thread if still current.

        One computation per `name` at a time: a newer call makes an older result stale.
        """
        self._compute_serial += 1
        serial = self._compute_serial
        generation = self.wb.generation

        def job():
            worker = get_current_worker()
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001  (shown, never raised into the UI)
                if not worker.is_cancelled:
                    msg = f"{type(exc).__name__}: {exc}"
                    self.app.call_from_thread(failed or self._compute_failed, msg)
                return None
            if worker.is_cancelled:
                return None

            def deliver():
                if self.is_mounted and self.wb.generation == generation:
                    done(result)

            self.app.call_from_thread(deliver)
            return None

        return self.run_worker(job, thread=True, exclusive=True, group=f"{self.MODE}:{name}", exit_on_error=False)

    def _compute_failed(self, message: str) -> None:
        self.notify(message, title="Could not compute", severity="error", timeout=8, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(str(event.worker.error), title="Error", severity="error", markup=False)

    # -- shared actions ------------------------------------------------------------------------
    def copy_text(self) -> tuple[str, str] | None:
        """(what, text) this screen copies with `c`, or None."""
        return None

    def action_copy(self) -> None:
        got = self.copy_text()
        if not got:
            self.notify("Nothing to copy here.", severity="warning")
            return
        what, text = got
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {what} ({len(text):,} characters) to the clipboard (OSC 52).", title="Copied", markup=False)

    def action_export(self) -> None:
        self.notify("Nothing to export on this screen.", severity="warning")


class TableMapPanes:
    """Actions shared by screens with a paged table beside a map (panes stack when narrow)."""

    def action_focus_map(self) -> None:
        from svtui.widgets.map import MapView

        self.add_class("-map")
        self.query_one(MapView).focus()

    def action_focus_table(self) -> None:
        from svtui.widgets.table import PagedTable

        self.remove_class("-map")
        self.query_one(PagedTable).focus()

    def action_toggle_pane(self) -> None:
        if self.has_class("-map"):
            self.action_focus_table()
        else:
            self.action_focus_map()
