"""Coverage gaps: which hotspots no intervention reaches (by place, time, age or theme), and
what each intervention reaches, from hotspot.coverage; with the map."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from svtui.safe import plain
from svtui.screens.base import TableMapPanes, WorkbenchScreen
from svtui.widgets.map import MapView
from svtui.widgets.table import PagedTable


class GapsScreen(TableMapPanes, WorkbenchScreen):
    MODE = "gaps"
    BINDINGS = [
        Binding("m", "focus_map", "Map", tooltip="Focus the map (on narrow screens, show it)"),
        Binding("t", "focus_table", "Table", show=False, tooltip="Back to the table"),
        Binding("v", "toggle_pane", "Table/map", show=False, tooltip="Switch between the table and the map"),
        Binding("r", "toggle_view", "Gaps/reach", tooltip="Switch between the gaps and what each intervention reaches"),
        Binding("enter", "open", "Open hotspot", show=False, tooltip="Open the row's hotspot in the hotspot table"),
        Binding("b", "brief", "Brief", tooltip="Briefing for the row's hotspot"),
        Binding("c", "copy", "Copy", tooltip="Copy the table to the clipboard"),
        Binding("e", "export", "Export", tooltip="Export the table"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.showing = "gaps"
        self.result = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="gp-main", classes="split"):
            with Vertical(id="gp-left"):
                yield Static("", id="gp-head", classes="note", markup=False)
                yield PagedTable(page_size=200, search_columns=("name", "intervention", "need", "status", "providers", "unit"), id="gp-table")
                yield Static("", id="gp-text", classes="note", markup=False)
            yield MapView(id="gp-map", classes="side")

    def data_changed(self) -> None:
        if not self.wb.ready:
            return
        self.compute("scene", self._scene, done=self._scene_ready)
        head = self.query_one("#gp-head", Static)
        head.update(Text("Checking intervention coverage…", style="dim italic"))
        self.compute("coverage", self._coverage_job, self.wb.results, done=self._coverage_done, failed=self._coverage_failed)

    def _scene(self):
        from svtui.screens.scenes import hotspot_scene

        return hotspot_scene(self.wb)

    def _scene_ready(self, scene) -> None:
        self.query_one(MapView).set_scene(scene)
        self._select_on_map()

    @staticmethod
    def _coverage_job(res):
        return res.coverage("csp")

    def _coverage_failed(self, message: str) -> None:
        self.result = None
        self.query_one(PagedTable).set_frame(None, [])
        self.query_one("#gp-head", Static).update(
            Text.assemble(("Coverage could not be computed: ", "bold red"), plain(message, 300)))

    def _coverage_done(self, result) -> None:
        self.result = result
        self._show()

    def _show(self) -> None:
        from svtui.screens import adapt

        if self.result is None:
            return
        reach, gaps, notes = self.result.reach, self.result.gaps, self.result.notes
        if self.showing == "gaps":
            frame, cols = adapt.keyed(gaps, "unit", "code", "need"), adapt.gaps_columns()
        else:
            frame, cols = adapt.keyed(reach, "unit", "code", "intervention"), adapt.reach_columns()
        table = self.query_one(PagedTable)
        key = "_key" if frame is not None and "_key" in frame.columns else None
        table.set_frame(frame if frame is not None and frame.height else None, cols, key_column=key, sort=None)
        frame = frame if frame is not None else gaps.head(0)
        head = Text()
        if self.showing == "gaps":
            head.append(f"{frame.height:,} gaps", style="bold")
            head.append(" — needs (knife, youth, night-time economy, domestic abuse, sexual violence) in hotspots and CSPs "
                        "that no matching intervention reaches at the right place, hours and ages; worst first. r: what each intervention reaches.")
        else:
            head.append(f"{frame.height:,} rows of reach", style="bold")
            head.append(" — how far each intervention reaches each hotspot and CSP (share of harm in its footprint, in its hours, "
                        "in its ages). r: the gaps.")
        for n in notes[:3]:
            head.append("\n" + plain(n, 300), style="dim")
        self.query_one("#gp-head", Static).update(head)

    def on_paged_table_highlighted(self, event: PagedTable.Highlighted) -> None:
        rec = self.query_one(PagedTable).current_record()
        text = Text()
        if rec is not None and rec.get("text"):
            text.append(plain(rec["text"], 400))
        elif rec is not None and rec.get("intervention"):
            text.append(f"{plain(rec.get('intervention'), 60)} reaches {plain(rec.get('name'), 80)}: {plain(rec.get('reaches'), 10)}")
            if rec.get("limits"):
                text.append(f" ({plain(rec['limits'], 120)})")
        self.query_one("#gp-text", Static).update(text)
        self._select_on_map()

    def on_paged_table_chosen(self, event: PagedTable.Chosen) -> None:
        self.action_open()

    def _locality(self) -> str | None:
        rec = self.query_one(PagedTable).current_record()
        if rec is None or rec.get("unit") != "locality":
            return None
        return rec.get("code")

    def _select_on_map(self) -> None:
        m = self.query_one(MapView)
        rec = self.query_one(PagedTable).current_record()
        if m.scene is None or rec is None:
            return
        if rec.get("unit") == "locality":
            idx = next((i for i, h in enumerate(m.scene.hotspots) if h[0] == rec.get("code")), None)
            m.set_highlight(None)
            m.select(idx, zoom=idx is not None)
        elif rec.get("unit") and rec.get("code"):
            m.select(None, zoom=False)
            self.compute("outline", self._outline, rec["unit"], rec["code"], done=self._outline_done)

    def _outline(self, level: str, code: str):
        from svtui.screens import scenes

        return scenes.area_outline(self.wb, level, code), scenes.area_bounds(self.wb, level, code)

    def _outline_done(self, result) -> None:
        outline, bounds = result
        self.query_one(MapView).set_highlight(outline, bounds)

    # -- actions -----------------------------------------------------------------------------------
    def action_toggle_view(self) -> None:
        self.showing = "reach" if self.showing == "gaps" else "gaps"
        self._show()

    def action_open(self) -> None:
        rec = self.query_one(PagedTable).current_record()
        if rec is None:
            return
        if rec.get("unit") == "locality":
            self.wb.jump_to("locality", rec["code"])
        elif rec.get("unit") and rec.get("code"):
            self.wb.jump_to(rec["unit"], rec["code"])

    def action_brief(self) -> None:
        rec = self.query_one(PagedTable).current_record()
        if rec is None:
            self.notify("Choose a row first.", severity="warning")
            return
        self.wb.brief((rec["unit"], rec["code"]))

    def copy_text(self):
        table = self.query_one(PagedTable)
        return (f"the {self.showing} table", table.as_tsv()) if table.n_rows else None

    def action_export(self) -> None:
        from svtui.screens.exporting import export_frame

        table = self.query_one(PagedTable)
        if table.view is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        export_frame(self, table.view.drop("_key", strict=False), f"coverage-{self.showing}")


__all__ = ["GapsScreen"]
