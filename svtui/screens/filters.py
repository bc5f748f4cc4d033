"""The filters dialog: date window, categories, markers, night-time, minimum harm, and the area
budget (`Params.area_share`, `Params.max_localities`) when the engine has one.

Returns a new hotspot.analysis.Filters, or (Filters, Params) when the area budget changed (or
None when cancelled); the app re-runs the analysis in a worker.
"""
from __future__ import annotations

import dataclasses
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, Static

from svtui.safe import plain


class FiltersScreen(ModalScreen):
    DEFAULT_CSS = """
    FiltersScreen { align: center middle; }
    #filters-dialog { width: 90%; max-width: 96; height: 90%; max-height: 40; border: round $accent; background: $surface; }
    #filters-dialog > VerticalScroll { height: 1fr; padding: 0 1; }
    #filters-dialog Label { margin-top: 1; text-style: bold; }
    #filters-dialog .row { height: auto; }
    #filters-dialog .row > Select { width: 1fr; }
    #filters-dialog SelectionList { height: auto; max-height: 8; }
    #filters-dialog #f-harm, #filters-dialog #f-share, #filters-dialog #f-max { width: 24; }
    #filters-buttons { height: 3; align: center middle; }
    #filters-buttons Button { margin: 0 1; min-width: 10; }
    #filters-hint { color: $text-muted; padding: 0 1; height: auto; max-height: 3; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("a", "apply", "Apply"),
        Binding("x", "clear", "Clear all"),
    ]

    def __init__(self, prep, current, params=None) -> None:
        super().__init__()
        self.prep = prep
        self.current = current
        self.params = params

    @staticmethod
    def budget_fields() -> set[str]:
        """Which area-budget fields this engine's Params has (area_share, max_localities)."""
        from hotspot.analysis import Params

        return {f.name for f in dataclasses.fields(Params)} & {"area_share", "max_localities"}

    def compose(self) -> ComposeResult:
        from hotspot.analysis import MARKER_FILTERS

        cur = self.current
        months = self.prep.months
        opts = [(m.strftime("%b %Y"), m) for m in months]
        # Labels come from a definition file: shown as literal text, never markup.
        cats = [(Text(plain(c.label, 60)), c.id, c.id in (cur.categories if cur else ())) for c in self.prep.definition.categories]
        inc = self.prep.incidents
        markers = []
        for m in MARKER_FILTERS:
            label = m.replace("_", " ")
            if m in inc.columns and inc[m].null_count() == inc.height:
                label += " (not in the data)"
            markers.append((Text(label), m, m in (cur.markers if cur else ())))
        with Vertical(id="filters-dialog"):
            yield Static(Text(" Filters — the analysis re-runs in the background", style="bold"), markup=False)
            with VerticalScroll():
                yield Label("Date window")
                with Horizontal(classes="row"):
                    yield Select(opts, prompt="from the start", value=cur.start if cur and cur.start in months else Select.NULL, id="f-start", allow_blank=True)
                    yield Select(opts, prompt="to the end", value=cur.end if cur and cur.end in months else Select.NULL, id="f-end", allow_blank=True)
                yield Label("Categories (none ticked = every serious-violence category)")
                yield SelectionList(*cats, id="f-categories")
                yield Label("Markers (each ticked marker must be present)")
                yield SelectionList(*markers, id="f-markers")
                yield Checkbox("Night-time only (incidents starting 21:00–03:59)", value=bool(cur and cur.night_time), id="f-night")
                yield Label("Minimum harm of a hotspot (0 = all)")
                yield Input(value=f"{cur.min_harm:g}" if cur and cur.min_harm else "", placeholder="0", type="number", id="f-harm")
                budget = self.budget_fields()
                if "area_share" in budget:
                    share = getattr(self.params, "area_share", None)
                    yield Label("Area budget, % of the study area (default 1; plans use 0.5–2)")
                    yield Input(value=f"{share:g}" if share is not None else "", placeholder="1", type="number", id="f-share")
                if "max_localities" in budget:
                    cap = getattr(self.params, "max_localities", None)
                    yield Label("At most this many localities (blank = no cap)")
                    yield Input(value=str(cap) if cap else "", placeholder="no cap", type="integer", id="f-max")
            with Horizontal(id="filters-buttons"):
                yield Button("Apply", variant="primary", id="f-apply")
                yield Button("Clear all", id="f-clear")
                yield Button("Cancel", id="f-cancel")
            yield Static("Tab moves · space ticks · a apply · x clear · escape cancel", id="filters-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#f-start", Select).focus()

    def _build(self):
        from hotspot.analysis import Filters

        start = self.query_one("#f-start", Select).value
        end = self.query_one("#f-end", Select).value
        start = None if start is Select.NULL else start
        end = None if end is Select.NULL else end
        if start and end and start > end:
            start, end = end, start
        harm_text = self.query_one("#f-harm", Input).value.strip()
        try:
            min_harm = max(0.0, float(harm_text)) if harm_text else 0.0
        except ValueError:
            min_harm = 0.0
        base = self.current or Filters()
        return replace(
            base,
            start=start,
            end=end,
            categories=tuple(self.query_one("#f-categories", SelectionList).selected),
            markers=tuple(self.query_one("#f-markers", SelectionList).selected),
            night_time=self.query_one("#f-night", Checkbox).value,
            min_harm=min_harm,
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "f-apply":
            self.action_apply()
        elif event.button.id == "f-clear":
            self.action_clear()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_apply()

    def _budget(self):
        """The Params with the typed area budget, the same Params when unchanged; ValueError
        (Params' own message) for a value it refuses."""
        budget = self.budget_fields()
        if self.params is None or not budget:
            return self.params
        changes = {}
        if "area_share" in budget:
            text = self.query_one("#f-share", Input).value.strip()
            share = float(text) if text else 1.0
            if share != getattr(self.params, "area_share", None):
                changes["area_share"] = share
        if "max_localities" in budget:
            text = self.query_one("#f-max", Input).value.strip()
            cap = int(text) if text else None
            if cap != getattr(self.params, "max_localities", None):
                changes["max_localities"] = cap
        return replace(self.params, **changes) if changes else self.params

    def action_apply(self) -> None:
        try:
            params = self._budget()
        except ValueError as exc:  # said in the dialog, which stays open
            msg = plain(str(exc), 300)
            self.query_one("#filters-hint", Static).update(Text("Area budget not accepted: " + msg, style="bold red"))
            self.notify(msg, title="Area budget not accepted", severity="error", markup=False)
            return
        filters = self._build()
        self.dismiss(filters if params is self.params else (filters, params))

    def action_clear(self) -> None:
        from hotspot.analysis import Filters

        self.dismiss(Filters())

    def action_cancel(self) -> None:
        self.dismiss(None)
