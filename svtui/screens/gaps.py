"""Coverage gaps: which hotspots no intervention reaches (by place, time, age or theme), and
what each intervention reaches, from hotspot.coverage; with the map."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from svtui.safe import plain
from svtui.screens import engine
from svtui.screens.base import WorkbenchScreen
from svtui.widgets import fmt
from svtui.widgets.map import MapView
from svtui.widgets.table import Column, PagedTable


class GapsScreen(WorkbenchScreen):
    MODE = "gaps"
    BINDINGS = [
        Binding("m", "focus_map", "Map"),
        Binding("t", "focus_table", "Table", show=False),
        Binding("v", "toggle_pane", "Table/map", show=False),
        Binding("r", "toggle_view", "Gaps/reach"),
        Binding("enter", "open", "Open hotspot", show=False),
        Binding("b", "brief", "Brief"),
        Binding("c", "copy", "Copy"),
        Binding("e", "export", "Export"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.showing = "gaps"
        self.result = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="gp-main", classes="split"):
            with Vertical(id="gp-left"):
                yield Static("", id="gp-head", classes="note", markup=False)
                yield PagedTable(page_size=200, search_columns=("name", "locality_name", "intervention", "gap", "reason", "csp_name"), id="gp-table")
            yield MapView(id="gp-map", classes="side")

    def data_changed(self) -> None:
        if not self.wb.ready:
            return
        self.compute("scene", self._scene, done=self._scene_ready)
        head = self.query_one("#gp-head", Static)
        if engine.find("coverage") is None:
            head.update(Text(engine.placeholder("coverage") + " The gaps (hotspots no intervention reaches at the right place, time, age or theme) will be listed here.", style="dim"))
            self.query_one(PagedTable).set_frame(None, [])
            return
        head.update(Text("Checking intervention coverage…", style="dim italic"))
        self.compute("coverage", self._coverage_job, done=self._coverage_done, failed=self._coverage_failed)

    def _scene(self):
        from svtui.screens.scenes import hotspot_scene

        return hotspot_scene(self.wb)

    def _scene_ready(self, scene) -> None:
        self.query_one(MapView).set_scene(scene)
        self._select_on_map()

    def _coverage_job(self):
        from svtui.screens import adapt

        return adapt.coverage(self.wb)

    def _coverage_failed(self, message: str) -> None:
        self.query_one("#gp-head", Static).update(Text(f"Coverage could not be computed: {plain(message, 300)}", style="red"))

    def _coverage_done(self, result) -> None:
        self.result = result
        self._show()

    def _show(self) -> None:
        from svtui.screens import adapt

        if self.result is None:
            return
        reach, gaps, notes = self.result
        frame = gaps if self.showing == "gaps" else reach
        table = self.query_one(PagedTable)
        key = adapt.first_column(frame, ("locality_id", "intervention", "name"))
        table.set_frame(frame, adapt.coverage_columns(frame), key_column=key, sort=None)
        head = Text()
        if self.showing == "gaps":
            head.append(f"{frame.height:,} gaps", style="bold")
            head.append(" — hotspots an intervention does not reach at the right place, time, age or theme. r shows what each intervention reaches.")
        else:
            head.append(f"{frame.height:,} rows of reach", style="bold")
            head.append(" — which hotspots each intervention reaches, and how. r shows the gaps.")
        for n in notes[:3]:
            head.append("\n" + plain(n, 300), style="dim")
        self.query_one("#gp-head", Static).update(head)

    def on_paged_table_highlighted(self, event: PagedTable.Highlighted) -> None:
        self._select_on_map()

    def on_paged_table_chosen(self, event: PagedTable.Chosen) -> None:
        self.action_open()

    def _locality(self) -> str | None:
        rec = self.query_one(PagedTable).current_record()
        if rec is None:
            return None
        return rec.get("locality_id")

    def _select_on_map(self) -> None:
        m = self.query_one(MapView)
        lid = self._locality()
        if m.scene is None or lid is None:
            return
        idx = next((i for i, h in enumerate(m.scene.hotspots) if h[0] == lid), None)
        m.select(idx, zoom=idx is not None)

    # -- actions -----------------------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        self.showing = "reach" if self.showing == "gaps" else "gaps"
        self._show()

    def action_open(self) -> None:
        lid = self._locality()
        if lid:
            self.wb.jump_to("locality", lid)

    def action_brief(self) -> None:
        lid = self._locality()
        if lid:
            self.wb.brief(("locality", lid))
        else:
            self.notify("Choose a hotspot row first.", severity="warning")

    def action_focus_map(self) -> None:
        self.add_class("-map")
        self.query_one(MapView).focus()

    def action_focus_table(self) -> None:
        self.remove_class("-map")
        self.query_one(PagedTable).focus()

    def action_toggle_pane(self) -> None:
        if self.has_class("-map"):
            self.action_focus_table()
        else:
            self.action_focus_map()

    def copy_text(self):
        table = self.query_one(PagedTable)
        return (f"the {self.showing} table", table.as_tsv()) if table.n_rows else None

    def action_export(self) -> None:
        from svtui.screens.exporting import export_frame

        table = self.query_one(PagedTable)
        if table.view is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        export_frame(self, table.view, f"coverage-{self.showing}")


__all__ = ["GapsScreen", "Column", "fmt"]
