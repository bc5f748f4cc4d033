"""The workbench's frame: the screen bar at the top and the status line at the bottom."""
from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from svtui.safe import plain

SCREENS = (
    ("overview", "1", "Overview"),
    ("areas", "2", "Areas"),
    ("hotspots", "3", "Hotspots"),
    ("gaps", "4", "Gaps"),
    ("briefing", "5", "Briefing"),
    ("data", "6", "Data"),
    ("review", "7", "Review"),
)


class NavBar(Static):
    """`1 Overview  2 Areas ...` with the current screen highlighted; SYNTHETIC badge on the right."""

    DEFAULT_CSS = """
    NavBar { height: 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, current: str) -> None:
        super().__init__("", id="navbar", markup=False)
        self.current = current

    def on_mount(self) -> None:
        self.update_bar()

    def on_resize(self) -> None:
        self.update_bar()

    def update_bar(self) -> None:
        width = self.size.width or 80
        badge_len = 11 if getattr(self.app, "synthetic", False) else 0
        full = sum(len(f" {k} {label} ") for _m, k, label in SCREENS)
        tight = width < full + badge_len + 1  # the SYNTHETIC badge always shows: close up first,
        compact = width < full - len(SCREENS) + badge_len + 1  # then shorten the names
        parts: list[Content] = []
        for mode, key, label in SCREENS:
            name = label[:4] if compact and label != "Data" else label
            text = f" {key} {name}" + ("" if tight and not compact else " ")
            if mode == self.current:
                parts.append(Content.styled(text, "bold reverse"))
            else:  # constant labels only: no data reaches this markup
                parts.append(Content.from_markup(f"[@click=app.switch_mode('{mode}')]{text}[/]"))
        bar = Content("").join(parts)
        badge = Content("")
        if getattr(self.app, "synthetic", False):
            badge = Content.from_markup("[bold reverse yellow] SYNTHETIC [/]")
        room = width - bar.cell_length - badge.cell_length
        filler = Content(" " * max(room, 1))
        self.update(Content.assemble(bar, filler, badge))


class StatusLine(Static):
    """Study, data window and filters on the left; what the workbench is doing on the right."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__("", id="statusline", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "busy", self._refresh_line, init=True)
        self.watch(self.app, "generation", self._refresh_line, init=False)

    def on_resize(self) -> None:
        self._refresh_line()

    def _refresh_line(self, *_args) -> None:
        app = self.app
        width = self.size.width or 80
        busy = getattr(app, "busy", "")
        right = Text(f" ⟳ {busy} ", style="bold reverse") if busy else Text("")
        left = Text(" ")
        cover = getattr(app, "area_cover_summary", lambda: "")()
        if cover:
            left.append(cover, style="bold")
            left.append(" · ")
        summary = getattr(app, "filter_summary", lambda: "")()
        if summary:
            left.append("Filters: ", style="bold")
            left.append(plain(summary, 300))
        room = width - right.cell_len
        left.truncate(max(room, 0), overflow="ellipsis")
        left.pad_right(max(room - left.cell_len, 0))
        self.update(Text.assemble(left, right))
