"""Hotspots: the locality table (sortable, filterable, paged), a detail pane and the map."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from svtui.safe import plain
from svtui.screens.base import TableMapPanes, WorkbenchScreen
from svtui.widgets import fmt
from svtui.widgets.map import MapView
from svtui.widgets.table import Column, PagedTable


def _pct_cell(v) -> Text:
    return Text(fmt.pct(v), justify="right", style="dim" if fmt.is_missing(v) else "")


def _trend_cell(v) -> Text:
    if not v:
        return Text(fmt.DASH, style="dim")
    if v.startswith("too few months"):  # "too few months for a trend (has N, needs 10)"
        return Text("too few months " + v[v.find("(has"):].replace("has ", "").replace(", needs ", "/"), style="dim")
    style = "bold red" if v.startswith("rising") else "green" if v.startswith("falling") else "dim"
    return Text(plain(v, 40), style=style)


def _sig_cell(v) -> Text:
    if v is None:
        return Text(fmt.DASH, style="dim")
    return Text("yes", style="bold") if v else Text("no", style="dim")


def _z_cell(v) -> Text:
    return Text(fmt.DASH if fmt.is_missing(v) else f"{float(v):.1f}", justify="right")


COLUMNS = [
    Column("rank", "#", lambda v: Text(str(v), justify="right")),
    Column("name", "Hotspot", lambda v: fmt.cell(v, 38)),
    Column("significant", "Signif.", _sig_cell),
    Column("csp_name", "CSP", lambda v: fmt.cell(v, 22)),
    Column("n_incidents", "Incidents"),
    Column("harm", "Harm"),
    Column("share_of_area_harm", "CSP harm", _pct_cell),
    Column("gi_max_z", "Gi* z", _z_cell),
    Column("trend_words", "Trend", _trend_cell),
    Column("domestic_abuse_share", "DA", _pct_cell),
    Column("knife_share", "Knife", _pct_cell),
    Column("youth_share", "Youth", _pct_cell),
    Column("night_share", "Night", _pct_cell),
    Column("focus", "Focus", lambda v: fmt.cell(v, 30)),
]


class HotspotsScreen(TableMapPanes, WorkbenchScreen):
    MODE = "hotspots"
    BINDINGS = [
        Binding("m", "focus_map", "Map", tooltip="Focus the map (on narrow screens, show it)"),
        Binding("t", "focus_table", "Table", show=False, tooltip="Back to the hotspot table"),
        Binding("v", "toggle_pane", "Detail/map", show=False, tooltip="Switch between the table and the map"),
        Binding("b", "brief", "Brief", tooltip="Briefing for the selected hotspot"),
        Binding("c", "copy", "Copy", tooltip="Copy the hotspot table (all rows that pass the find) to the clipboard"),
        Binding("e", "export", "Export", tooltip="Export the hotspot table"),
        Binding("a", "open_area", "Area", show=False, tooltip="Open the hotspot's ward in the area browser"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="hs-main", classes="split"):
            yield PagedTable(page_size=200, search_columns=("name", "place", "csp_name", "district_name", "ward_name", "focus", "locality_id"), id="hs-table")
            with Vertical(id="hs-side", classes="side"):
                with VerticalScroll(id="hs-detail-box"):
                    yield Static("", id="hs-detail", markup=False)
                yield MapView(id="hs-map")

    def data_changed(self) -> None:
        wb = self.wb
        if not wb.ready:
            return
        loc = wb.analysis.localities
        import polars as pl

        frame = loc.with_row_index("rank", offset=1) if loc.height else loc.with_columns(pl.lit(0).alias("rank"))
        from svtui.screens import adapt

        frame = frame.with_columns(pl.Series("trend_words", [adapt.trend_words(r) for r in frame.select(
            [c for c in ("trend", "pattern", "trend_reason", "pattern_reason", "n_steps", "steps_needed") if c in frame.columns]
        ).iter_rows(named=True)], dtype=pl.Utf8))
        table = self.query_one(PagedTable)
        keep = table.current_key
        table.set_frame(frame, COLUMNS, key_column="locality_id", sort="rank" if table.sort_key is None else None, descending=False, keep_position=table.sort_key is not None)
        if keep:
            table.select_key(keep)
        if loc.height == 0:
            self.query_one("#hs-detail", Static).update(
                Text("No hotspot localities with these filters. Widen the filters (f) or clear them (x).", style="italic")
            )
        self.query_one(MapView).empty_message = "Drawing the map…"
        self.compute("scene", self._scene, done=self._scene_ready)
        self._reach = None
        self._reach_error = None
        self.compute("coverage", self._coverage, self.wb.results, done=self._coverage_done, failed=self._coverage_failed)
        table.focus()

    @staticmethod
    def _coverage(res):
        ctx = res.locality_context()
        return res.coverage("csp").reach, ctx

    def _coverage_done(self, got) -> None:
        self._reach, self._loc_context = got
        self._show_selected(zoom=False)

    def _coverage_failed(self, message: str) -> None:
        self._reach_error = message
        self._show_selected(zoom=False)

    def _scene(self):
        from svtui.screens.scenes import hotspot_scene

        return hotspot_scene(self.wb)

    def _scene_ready(self, scene) -> None:
        m = self.query_one(MapView)
        m.set_scene(scene)
        self._show_selected(zoom=True)

    def consume_pending(self) -> None:
        p = self.wb.pending
        if p and p[0] == "locality" and self.wb.ready:
            self.wb.pending = None
            if not self.query_one(PagedTable).select_key(p[1]):
                self.notify("That hotspot is not in the current analysis (check the filters).", severity="warning")
            self.query_one(PagedTable).focus()

    def on_paged_table_highlighted(self, event: PagedTable.Highlighted) -> None:
        self.wb.selected_locality = event.key
        self._show_selected(zoom=True)

    def on_paged_table_chosen(self, event: PagedTable.Chosen) -> None:
        self.action_focus_map()

    def _record(self):
        table = self.query_one(PagedTable)
        return table.current_record()

    def _show_selected(self, zoom: bool) -> None:
        rec = self._record()
        detail = self.query_one("#hs-detail", Static)
        m = self.query_one(MapView)
        if rec is None:
            m.select(None, zoom=False)
            return
        detail.update(self._detail_text(rec))
        if m.scene is not None:
            idx = next((i for i, h in enumerate(m.scene.hotspots) if h[0] == rec["locality_id"]), None)
            m.select(idx, zoom=zoom)

    def _detail_text(self, rec):
        from svtui.screens.detail import locality_detail

        d = locality_detail(self.wb, rec, rank=rec.get("rank"))
        reach = getattr(self, "_reach", None)
        error = getattr(self, "_reach_error", None)
        if error:
            d.add("Reached by", Text.assemble(("coverage could not be computed: ", "bold red"), plain(error, 300)))
        elif reach is None:
            d.add("Reached by", Text("checking coverage…", style="dim"))
        else:
            from svtui.screens import adapt

            rows = reach.filter((reach["unit"] == "locality") & (reach["code"] == rec["locality_id"])) if reach.height else reach
            d.add("Reached by", adapt.reach_text(rows))
        ctx = getattr(self, "_loc_context", None)
        if ctx is not None and ctx.height:
            import polars as pl

            row = ctx.filter(pl.col("locality_id") == rec["locality_id"])
            if row.height:
                c = row.row(0, named=True)
                d.add("Around it", " · ".join(f"{label} {fmt.count(c.get(f'{k}_n'))}" for k, label in (
                    ("asb", "anti-social behaviour"), ("public_order", "public order"), ("drugs", "drugs"),
                    ("criminal_damage", "criminal damage")))
                      + " (other crime inside it, same window)")
        d.footer = Text("b brief · m map · a its area · 4 gaps · c copy table", style="dim")
        return d

    # -- actions ---------------------------------------------------------------------------------
    def action_brief(self) -> None:
        key = self.query_one(PagedTable).current_key
        if key is None:
            self.notify("No hotspot selected.", severity="warning")
            return
        self.wb.brief(("locality", key))

    def action_open_area(self) -> None:
        rec = self._record()
        if rec is None:
            return
        for level in ("ward", "district", "csp"):
            code = rec.get(f"{level}_code")
            if code:
                self.wb.jump_to(level, code)
                return
        if rec.get("lsoa_code"):
            self.wb.jump_to("lsoa", rec["lsoa_code"])

    def copy_text(self):
        table = self.query_one(PagedTable)
        if table.n_rows == 0:
            return None
        return ("the hotspot table", table.as_tsv())

    def action_export(self) -> None:
        from svtui.screens.exporting import export_frame

        table = self.query_one(PagedTable)
        if table.view is None:
            return
        export_frame(self, table.view, "hotspots")
