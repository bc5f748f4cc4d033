"""A modal to choose what to brief on: a hotspot or an area, filtered as you type."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from svtui.safe import plain

MAX_SHOWN = 300


def subjects(app) -> list[tuple[str, tuple[str, str]]]:
    """(label, subject) for every hotspot and every area of the study."""
    out: list[tuple[str, tuple[str, str]]] = []
    loc = app.analysis.localities if app.analysis is not None else None
    if loc is not None and loc.height:
        for i, (lid, name) in enumerate(zip(loc["locality_id"].to_list(), loc["name"].to_list())):
            out.append((f"Hotspot #{i + 1}  {plain(name, 80)}", ("locality", lid)))
    if app.prep is not None:
        h = app.prep.hierarchy
        for level, label in (("force", "Force"), ("csp", "CSP"), ("district", "District"), ("ward", "Ward"), ("lsoa", "LSOA")):
            c, n = f"{level}_code", f"{level}_name"
            if c not in h.columns:
                continue
            cols = [c] + ([n] if n in h.columns else [])
            for row in h.select(cols).drop_nulls(c).unique(c).sort(cols[-1], nulls_last=True).iter_rows():
                code, name = row[0], row[-1]
                out.append((f"{label}  {plain(name or code, 80)}" + (f"  ({plain(code, 12)})" if name and name != code else ""), (level, code)))
    return out


class SubjectPicker(ModalScreen):
    """Type to filter; up/down to move; enter to choose; escape to cancel."""

    DEFAULT_CSS = """
    SubjectPicker { align: center middle; }
    SubjectPicker > Vertical { width: 90%; max-width: 100; height: 80%; border: round $accent; background: $surface; padding: 0 1; }
    SubjectPicker OptionList { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
    ]

    def __init__(self, app) -> None:
        super().__init__()
        self.items = subjects(app)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Brief on… (type to filter, enter to choose, escape to cancel)", style="bold"), markup=False)
            yield Input(placeholder="hotspot or area name")
            yield OptionList(id="subjects")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, query: str) -> None:
        ol = self.query_one(OptionList)
        ol.clear_options()
        q = query.lower().strip()
        shown = [(lab, subj) for lab, subj in self.items if not q or q in lab.lower()]
        self._shown = shown[:MAX_SHOWN]
        ol.add_options([Option(Text(lab), id=str(i)) for i, (lab, _s) in enumerate(self._shown)])
        if self._shown:
            ol.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._choose()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose()

    def _choose(self) -> None:
        ol = self.query_one(OptionList)
        if ol.highlighted is None or not self._shown:
            return
        self.dismiss(self._shown[ol.highlighted][1])

    def action_move(self, step: int) -> None:
        ol = self.query_one(OptionList)
        if not self._shown:
            return
        ol.highlighted = min(max((ol.highlighted or 0) + step, 0), len(self._shown) - 1)

    def action_cancel(self) -> None:
        self.dismiss(None)
