"""Command palette provider: every workbench action by name, and every area and hotspot.

Textual's fuzzy highlighter reads its candidate as markup, so data (area and hotspot names) is
highlighted here on a plain Content instead: a name like "[red]x" stays literal.
"""
from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from svtui.safe import plain

# (name, help, action on the app or the screen)
ACTIONS = (
    ("Go to Overview", "1 · study, CSP trends, Duty measures", "app.switch_mode('overview')"),
    ("Go to Areas", "2 · force → CSP → district → ward → LSOA", "app.switch_mode('areas')"),
    ("Go to Hotspots", "3 · the hotspot table, detail and map", "app.switch_mode('hotspots')"),
    ("Go to Coverage gaps", "4 · hotspots no intervention reaches", "app.switch_mode('gaps')"),
    ("Go to Briefing", "5 · preview, copy and export briefing text", "app.switch_mode('briefing')"),
    ("Go to Data", "6 · ledger, quarantine, definition, weights", "app.switch_mode('data')"),
    ("Go to Review", "7 · hotspot review: changes, actions, evaluations", "app.switch_mode('review')"),
    ("Filters…", "f · date window, categories, markers, night-time, minimum harm", "app.filters"),
    ("Toggle night-time only", "n · incidents starting 21:00–03:59", "app.toggle_night"),
    ("Clear filters", "x · back to all serious violence", "app.reset_filters"),
    ("Reload the sources", "ctrl+r · re-read every file; keeps the last good analysis if one broke", "app.reload"),
    ("Copy to clipboard", "c · this screen's table or text (OSC 52)", "screen.copy"),
    ("Export", "e · this screen's table or briefing to a file", "screen.export"),
    ("Brief on the selection", "b · briefing for the chosen area or hotspot", "screen.brief"),
    ("Choose the briefing subject", "s on the Briefing screen", "screen.choose"),
    ("Map: fit", "0 when the map has focus", "map.fit"),
    ("Map: switch shading (Gi* class / hotspot harm)", "g when the map has focus", "map.toggle_shading"),
    ("Map: zoom in", "+ when the map has focus", "map.zoom(2)"),
    ("Map: zoom out", "- when the map has focus", "map.zoom(0.5)"),
    ("Keys (help)", "? · every key binding", "app.help"),
    ("Quit", "q", "app.quit"),
)


def _highlight(matcher, text: str) -> Content:
    content = Content(text)
    try:
        _score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    except Exception:  # noqa: BLE001
        return content
    style = matcher.match_style
    for o in offsets:
        if o < len(text) and not text[o].isspace():
            content = content.stylize(style, o, o + 1)
    return content


def _key_label(key: str) -> str:
    from svtui.screens.help import _key_name
    from textual.binding import Binding

    return _key_name(Binding(key, ""))


class WorkbenchCommands(Provider):
    """Actions (the app's and those of the screen and pane in use), areas and hotspots."""

    def _local_bindings(self):
        """(node, binding) for every svtui binding from the focused widget up to its screen."""
        from textual.app import App
        from textual.binding import Binding

        out, seen = [], set()
        start = self.focused or self.screen
        chain = list(start.ancestors_with_self) if start is not None else []
        for node in chain:
            if isinstance(node, App):
                continue
            for cls in type(node).__mro__:
                if not cls.__module__.startswith("svtui"):
                    continue
                for b in cls.__dict__.get("BINDINGS", []):
                    b = b if isinstance(b, Binding) else Binding(*b)
                    if not b.description or (type(node).__name__, b.action) in seen:
                        continue
                    seen.add((type(node).__name__, b.action))
                    out.append((node, b))
        return out

    def _run_binding(self, node, action: str) -> None:
        self.app.call_later(self.app.run_action, action, node)

    async def startup(self) -> None:
        app = self.app
        self.local = []
        try:
            self.local = self._local_bindings()
        except Exception:  # noqa: BLE001  (the palette must open whatever the focus)
            self.local = []
        self.targets: list[tuple[str, str, tuple[str, str]]] = []
        if getattr(app, "analysis", None) is None:
            return
        loc = app.analysis.localities
        if loc.height:
            for i, (lid, name, csp) in enumerate(zip(loc["locality_id"].to_list(), loc["name"].to_list(), (loc["csp_name"].to_list() if "csp_name" in loc.columns else [None] * loc.height))):
                self.targets.append((f"Hotspot #{i + 1} {plain(name, 80)}", f"hotspot in {plain(csp, 60)}" if csp else "hotspot", ("locality", lid)))
        h = app.prep.hierarchy
        for level, label in (("force", "force"), ("csp", "CSP"), ("district", "district"), ("ward", "ward"), ("lsoa", "LSOA")):
            c, n = f"{level}_code", f"{level}_name"
            if c not in h.columns or h[c].null_count() == h.height:
                continue
            cols = [c] + ([n] if n in h.columns else [])
            for row in h.select(cols).drop_nulls(c).unique(c).iter_rows():
                code, name = row[0], row[-1]
                title = plain(name or code, 80)
                self.targets.append((f"Area: {title}", f"{label} {plain(code, 12)}", (level, code)))

    def _run(self, action: str) -> None:
        app = self.app
        if action.startswith("map."):
            from svtui.widgets.map import MapView

            maps = list(app.screen.query(MapView))
            if not maps:
                app.notify("No map on this screen (3 Hotspots, 2 Areas and 4 Gaps have one).", severity="warning")
                return
            maps[0].focus()
            app.call_later(app.run_action, action[4:], maps[0])
            return
        if action.startswith("screen."):
            name = action.split(".", 1)[1].split("(")[0]
            if not hasattr(app.screen, f"action_{name}"):
                app.notify("Not available on this screen.", severity="warning")
                return
        app.call_later(app.run_action, action)

    def _jump(self, target: tuple[str, str]) -> None:
        kind, key = target
        self.app.jump_to(kind, key)

    def _local_hits(self):
        from rich.markup import escape

        names = {n for n, _h, _a in ACTIONS}
        for node, b in getattr(self, "local", []):
            name = f"{b.description} ({type(node).__name__.replace('Screen', '').replace('View', ' map').replace('PagedTable', 'table').strip()})"
            if name in names:
                continue
            yield name, escape(f"{_key_label(b.key.split(',')[0])} · {b.tooltip or b.description}"), partial(self._run_binding, node, b.action)

    async def discover(self) -> Hits:
        for name, help_text, action in ACTIONS:
            yield DiscoveryHit(Content(name), partial(self._run, action), text=name, help=help_text)
        for name, help_text, command in self._local_hits():
            yield DiscoveryHit(Content(name), command, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in ACTIONS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlight(matcher, name), partial(self._run, action), text=name, help=help_text)
        for name, help_text, command in self._local_hits():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlight(matcher, name), command, text=name, help=help_text)
        for title, help_text, target in getattr(self, "targets", []):
            score = matcher.match(title)
            if score > 0:
                # Help text is read as markup by the palette: escape it.
                from rich.markup import escape

                yield Hit(score * 0.99, _highlight(matcher, title), partial(self._jump, target), text=title, help=escape(help_text))
