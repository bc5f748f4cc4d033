"""The keys: every binding of the workbench, by where it works (built from the bindings
themselves, so it cannot drift)."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _key_name(b: Binding) -> str:
    if b.key_display:
        return b.key_display
    names = {"question_mark": "?", "slash": "/", "left_square_bracket": "[", "right_square_bracket": "]", "equals_sign": "=", "underscore": "_", "plus": "+", "minus": "-", "enter": "enter", "escape": "esc"}
    keys = [names.get(k.strip(), k.strip()) for k in b.key.split(",")]
    return " ".join(dict.fromkeys(keys))


def _bindings(cls) -> list[Binding]:
    out = []
    for b in getattr(cls, "BINDINGS", []):
        if isinstance(b, Binding):
            out.append(b)
        elif isinstance(b, tuple):
            out.append(Binding(*b))
    return out


def sections():
    """(title, [(keys, description)]) for the help screen and the tests."""
    from svtui.app import SvtuiApp
    from svtui.screens.areas import AreasScreen
    from svtui.screens.briefing import BriefingScreen
    from svtui.screens.data import DataScreen
    from svtui.screens.filters import FiltersScreen
    from svtui.screens.gaps import GapsScreen
    from svtui.screens.hotspots import HotspotsScreen
    from svtui.screens.overview import OverviewScreen
    from svtui.widgets.map import MapView
    from svtui.widgets.table import PagedTable

    glob = [(_key_name(b), b.tooltip or b.description) for b in _bindings(SvtuiApp)]
    glob += [("ctrl+p", "Command palette: every action, and jump to any area or hotspot by name"), ("tab / shift+tab", "Next / previous pane"), ("esc", "Close a dialog or the find box")]
    out = [("Everywhere", glob)]
    for title, cls in (
        ("1 Overview", OverviewScreen),
        ("2 Areas", AreasScreen),
        ("3 Hotspots", HotspotsScreen),
        ("4 Gaps", GapsScreen),
        ("5 Briefing", BriefingScreen),
        ("6 Data", DataScreen),
        ("Tables", PagedTable),
        ("Map (when it has focus)", MapView),
        ("Filters dialog", FiltersScreen),
    ):
        rows = [(_key_name(b), b.tooltip or b.description) for b in _bindings(cls) if b.description]
        if cls is MapView:
            rows = [("arrows", "Pan")] + [r for r in rows if r[1] != "Pan"] + [("i / p", "Hide or show incidents / venues (places)")]
            rows = [r for r in rows if r[1] not in ("Incidents", "Venues")]
        if cls is PagedTable:
            rows += [("up down pgup pgdn", "Move"), ("enter", "Open the row")]
        if cls is AreasScreen:
            from svtui.screens.areas import AreaTree

            rows = [("up / down", "Move through the areas")] + [(_key_name(b), b.tooltip or b.description) for b in _bindings(AreaTree)] + [("enter / space", "Open or close the area")] + rows
        out.append((title, rows))
    return out


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 96%; max-width: 110; height: 94%; border: round $accent; background: $surface; }
    HelpScreen VerticalScroll { height: 1fr; padding: 0 1; }
    HelpScreen #help-hint { height: 1; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close"),
        Binding("down,j", "scroll(1)", show=False),
        Binding("up,k", "scroll(-1)", show=False),
        Binding("pagedown,space", "scroll(10)", show=False),
        Binding("pageup", "scroll(-10)", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id="help-scroll"):
                yield Static(self._content(), markup=False)
            yield Static("esc, q or ? closes · up/down scroll", id="help-hint", markup=False)

    def _content(self):
        from rich.console import Group

        parts = [Text("svtui keys — everything works from the keyboard; the mouse is optional", style="bold")]
        for title, rows in sections():
            table = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None, padding=(0, 2, 0, 1), expand=False)
            table.add_column(style="bold", no_wrap=True, min_width=14)
            table.add_column()
            for k, d in rows:
                table.add_row(Text(k), Text(d))
            parts.append(table)
        parts.append(
            Text(
                "\nCopying uses OSC 52, so it reaches your own clipboard over SSH. Inside tmux, allow it with "
                "`set -g set-clipboard on`. NO_COLOR=1 turns colour off; the map then shades hotspots with ░▒▓.",
                style="dim",
            )
        )
        return Group(*parts)

    def action_close(self) -> None:
        self.dismiss()

    def action_scroll(self, n: int) -> None:
        self.query_one("#help-scroll").scroll_relative(y=n, animate=False)
