"""Area browser: force -> CSP -> district -> ward -> LSOA in a tree; the chosen area's profile,
risk factors, hotspots, interventions and map."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static, Tree

from svtui.safe import plain
from svtui.screens.base import WorkbenchScreen
from svtui.widgets import fmt
from svtui.widgets.map import MapView

LEVELS = ("force", "csp", "district", "ward", "lsoa")


class AreaTree(Tree):
    """The area tree, with file-manager keys: right opens a level, left closes it or goes up."""

    BINDINGS = [
        Binding("right", "open_node", "Open", show=False, tooltip="Open the area (show the level below); again to step into it"),
        Binding("left", "close_node", "Close", show=False, tooltip="Close the area, or go up to the area above"),
    ]

    def action_open_node(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])

    def action_close_node(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.children:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)
LEVEL_LABEL = {"force": "Force", "csp": "CSP", "district": "District", "ward": "Ward", "lsoa": "LSOA"}


class AreasScreen(WorkbenchScreen):
    MODE = "areas"
    BINDINGS = [
        Binding("m", "focus_map", "Map", tooltip="Focus the map (on narrow screens, show it)"),
        Binding("t", "focus_tree", "Tree", show=False, tooltip="Back to the area tree"),
        Binding("h", "focus_hotspots", "Hotspots", show=False, tooltip="Focus the list of hotspots in the area (enter opens one)"),
        Binding("b", "brief", "Brief", tooltip="Briefing for the chosen area"),
        Binding("c", "copy", "Copy", tooltip="Copy the area's profile, risks and interventions"),
        Binding("v", "toggle_pane", "Detail/map", show=False, tooltip="Switch between the detail and the map"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.current: tuple[str, str] | None = None
        self.levels: list[str] = []
        self._area_nodes: dict[tuple[str, str], object] = {}
        self._texts: dict[str, Text] = {}
        self._area_names: dict[tuple[str, str], str] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="ar-main", classes="split"):
            yield AreaTree("Areas", id="ar-tree")
            with Vertical(id="ar-side", classes="side"):
                with VerticalScroll(id="ar-detail"):
                    yield Static("", id="ar-title", markup=False)
                    yield Static("", id="ar-profile", markup=False)
                    yield Static("Last 12 months (offences; the level's offences it cannot place)", classes="section-title")
                    yield Static("", id="ar-months", markup=False)
                    yield Static("Context: other crime and outcomes", classes="section-title")
                    yield Static("", id="ar-context", markup=False)
                    yield Static("Repeat locations (most frequent snapped points)", classes="section-title")
                    yield DataTable(id="ar-repeats", cursor_type="row", zebra_stripes=True)
                    yield Static("Risk factors", classes="section-title")
                    yield Static("", id="ar-risk", markup=False)
                    yield Static("Hotspots in this area", classes="section-title")
                    yield DataTable(id="ar-hotspots", cursor_type="row", zebra_stripes=True)
                    yield Static("Interventions", classes="section-title")
                    yield Static("", id="ar-interventions", markup=False)
                yield MapView(id="ar-map")

    # -- tree ------------------------------------------------------------------------------------
    def data_changed(self) -> None:
        wb = self.wb
        if not wb.ready:
            return
        h = wb.prep.hierarchy
        self.levels = [lv for lv in LEVELS if f"{lv}_code" in h.columns and h[f"{lv}_code"].null_count() < h.height]
        if "lsoa" not in self.levels and "lsoa_code" in h.columns:
            self.levels.append("lsoa")
        tree = self.query_one(Tree)
        if not self._area_nodes:
            self._build_tree()
        else:
            self._relabel()
        self.compute("scene", self._scene, done=self._scene_ready)
        if self.current:
            self._show(*self.current)
        elif self.levels:
            tree.move_cursor(tree.root.children[0] if tree.root.children else tree.root)
        tree.focus()

    def _build_tree(self) -> None:
        tree = self.query_one(Tree)
        tree.clear()
        tree.show_root = False
        tree.root.expand()
        self._area_nodes = {}
        if not self.levels:
            tree.root.set_label(Text("No areas: the study has no boundaries"))
            return
        tree.root.set_label(Text(plain(self.wb.study_name, 60)))
        top = self.levels[0]
        for code, name in self._children(None, None, top):
            self._add(tree.root, top, code, name)
        if len(tree.root.children) == 1:
            self._populate(tree.root.children[0])
            tree.root.children[0].expand()

    def _children(self, parent_level, parent_code, level):
        import polars as pl

        h = self.wb.prep.hierarchy
        code_c, name_c = f"{level}_code", f"{level}_name"
        rows = h
        if parent_level is not None:
            rows = rows.filter(pl.col(f"{parent_level}_code") == parent_code)
        cols = [code_c] + ([name_c] if name_c in h.columns else [])
        rows = rows.select(cols).drop_nulls(code_c).unique(code_c)
        if name_c not in rows.columns:
            rows = rows.with_columns(pl.col(code_c).alias(name_c))
        return rows.sort(name_c, nulls_last=True).iter_rows()

    def _label(self, level, code, name) -> Text:
        label = Text(plain(name or code, 60))
        if level == "lsoa" and name and name != code:
            label.append(f"  {plain(code, 12)}", style="dim")
        n = self._hotspot_count(level, code)
        if n:
            label.append(f"  {n} hotspot{'s' if n != 1 else ''}", style="bold yellow")
        return label

    def _add(self, parent, level, code, name):
        idx = self.levels.index(level)
        leaf = idx == len(self.levels) - 1
        node = parent.add(self._label(level, code, name), data=(level, code), allow_expand=not leaf)
        self._area_nodes[(level, code)] = node
        self._area_names[(level, code)] = name
        return node

    def _relabel(self) -> None:
        for key, node in self._area_nodes.items():
            node.set_label(self._label(key[0], key[1], self._area_names.get(key)))

    def _hotspot_count(self, level, code) -> int:
        loc = self.wb.analysis.localities
        col = f"{level}_code"
        if loc.height == 0 or col not in loc.columns:
            return 0
        return int((loc[col] == code).sum())

    def _populate(self, node) -> None:
        if node.data is None or node.children:
            return
        level, code = node.data
        idx = self.levels.index(level)
        if idx + 1 >= len(self.levels):
            return
        child_level = self.levels[idx + 1]
        for c, n in self._children(level, code, child_level):
            self._add(node, child_level, c, n)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        self._populate(event.node)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data is None:
            return
        level, code = event.node.data
        self.current = (level, code)
        self.wb.selected_area = (level, code)
        self._show(level, code)

    def consume_pending(self) -> None:
        p = self.wb.pending
        if not p or p[0] in ("locality", "brief") or not self.wb.ready:
            return
        self.wb.pending = None
        self.open_area(p[0], p[1])

    def open_area(self, level: str, code: str) -> bool:
        """Expand the tree down to (level, code) and put the cursor on it."""
        import polars as pl

        if level not in self.levels:
            self.notify(f"This study has no {level} level.", severity="warning")
            return False
        h = self.wb.prep.hierarchy
        row = h.filter(pl.col(f"{level}_code") == code).head(1)
        if row.height == 0:
            self.notify("That area is not in this study.", severity="warning")
            return False
        tree = self.query_one(Tree)
        node = None
        for lv in self.levels[: self.levels.index(level) + 1]:
            c = row[f"{lv}_code"][0]
            node = self._area_nodes.get((lv, c))
            if node is None:
                return False
            if lv != level:
                self._populate(node)
                node.expand()

        def move() -> None:  # after the expanded levels are laid out, or the cursor line is not there yet
            tree.move_cursor(node)
            tree.scroll_to_node(node)

        self.current = (level, code)
        self.wb.selected_area = (level, code)
        self._show(level, code)
        tree.call_after_refresh(move)
        tree.focus()
        return True

    # -- detail ----------------------------------------------------------------------------------
    def _scene(self):
        from svtui.screens.scenes import hotspot_scene

        return hotspot_scene(self.wb)

    def _scene_ready(self, scene) -> None:
        m = self.query_one("#ar-map", MapView)
        m.set_scene(scene, keep_view=False)
        if self.current:
            self._show(*self.current)

    def _show(self, level: str, code: str) -> None:
        name = self._area_name(level, code)
        title = Text()
        title.append(f"{LEVEL_LABEL.get(level, level)}  ", style="dim")
        title.append(plain(name, 80), style="bold")
        if name != code:
            title.append(f"  {plain(code, 12)}", style="dim")
        self.query_one("#ar-title", Static).update(title)
        self._texts = {"title": title}
        self._fill_hotspots(level, code)
        self.query_one("#ar-profile", Static).update(Text("Computing the profile…", style="dim italic"))
        self.compute("detail", self._detail_job, level, code, done=self._detail_done, failed=self._detail_failed)

    def _area_name(self, level, code) -> str:
        import polars as pl

        h = self.wb.prep.hierarchy
        c = f"{level}_name"
        if c not in h.columns:
            return code
        got = h.filter(pl.col(f"{level}_code") == code)[c].drop_nulls()
        return got[0] if len(got) else code

    def _detail_failed(self, message: str) -> None:
        err = Text.assemble(("The area's profile could not be computed: ", "bold red"), plain(message, 400))
        self._texts.update(profile=err)
        self.query_one("#ar-profile", Static).update(err)
        for wid in ("#ar-risk", "#ar-interventions", "#ar-months", "#ar-context"):
            self.query_one(wid, Static).update("")

    def _detail_job(self, level, code):
        from svtui.screens import adapt, scenes

        res = self.wb.results
        profile = adapt.area_profile_text(res, level, code)
        months = self._months_text(adapt.monthly_rows(res, level, code))
        context = adapt.context_text(res, level, code)
        repeats = adapt.repeat_rows(res, level, code)
        risk = adapt.risk_text(res, level, code)
        ivs = adapt.interventions_for_area(res, level, code)
        outline = scenes.area_outline(self.wb, level, code)
        bounds = scenes.area_bounds(self.wb, level, code)
        return level, code, profile, risk, ivs, outline, bounds, months, context, repeats

    @staticmethod
    def _months_text(rows) -> Text:
        t = Text()
        if not rows:
            t.append("No months in the window.", style="dim")
            return t
        t.append(f"{'month':<9} {'offences':>14}  cannot place\n", style="dim")
        for m, n, un in rows:
            t.append(f"{m:<9} ")
            t.append(f"{n:>14}", style="yellow" if n.startswith("gap") else "")
            t.append(f"  {un}\n")
        return t

    def _detail_done(self, result) -> None:
        level, code, profile, risk, ivs, outline, bounds, months, context, repeats = result
        if self.current != (level, code):
            return
        self._texts.update(profile=profile, risk=risk, interventions=ivs, months=months, context=context)
        self.query_one("#ar-profile", Static).update(profile)
        self.query_one("#ar-months", Static).update(months)
        self.query_one("#ar-context", Static).update(context)
        self._fill_repeats(repeats)
        self.query_one("#ar-risk", Static).update(risk)
        self.query_one("#ar-interventions", Static).update(ivs)
        m = self.query_one("#ar-map", MapView)
        if m.scene is not None:
            m.selected = None
            m.set_highlight(outline, bounds)

    def _fill_hotspots(self, level: str, code: str) -> None:
        import polars as pl

        table = self.query_one("#ar-hotspots", DataTable)
        from svtui.screens import adapt

        table.clear(columns=True)
        for key, label in (("rank", "#"), ("name", "Hotspot"), ("n", "Incidents"), ("harm", "Harm"), ("trend", "Trend")):
            table.add_column(Text(label, style="bold"), key=key)
        loc = self.wb.analysis.localities
        col = f"{level}_code"
        if loc.height == 0 or col not in loc.columns:
            table.display = False
            return
        sub = loc.with_row_index("rank", offset=1).filter(pl.col(col) == code)
        table.display = sub.height > 0
        for rec in sub.head(100).iter_rows(named=True):
            table.add_row(
                Text(str(rec["rank"]), justify="right"),
                fmt.cell(rec.get("name"), 44),
                fmt.cell(rec.get("n_incidents")),
                fmt.cell(rec.get("harm")),
                fmt.cell(adapt.trend_words(rec), 48),
                key=str(rec["locality_id"]),
            )

    def _fill_repeats(self, rows) -> None:
        table = self.query_one("#ar-repeats", DataTable)
        table.clear(columns=True)
        for key, label in (("rank", "#"), ("location", "Location"), ("n", "Offences (share)"), ("monthly", "Monthly")):
            table.add_column(Text(label, style="bold"), key=key)
        for rank, where, n, spark in rows:
            table.add_row(Text(rank, justify="right"), Text(where), Text(n, justify="right"), Text(spark, style="bold"), key=rank)
        if not rows:
            table.add_row(Text(""), Text("No point with 2 or more offences in the window.", style="dim"), Text(""), Text(""))
        self._texts["repeats"] = Text("\n".join(f"{r} {w}: {n}" for r, w, n, _s in rows))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "ar-hotspots":
            self.wb.jump_to("locality", event.row_key.value)

    # -- actions ---------------------------------------------------------------------------------
    def action_focus_map(self) -> None:
        self.add_class("-map")
        self.query_one("#ar-map", MapView).focus()

    def action_focus_tree(self) -> None:
        self.remove_class("-map")
        self.query_one(Tree).focus()

    def action_focus_hotspots(self) -> None:
        self.remove_class("-map")
        t = self.query_one("#ar-hotspots", DataTable)
        if t.display and t.row_count:
            t.focus()
        else:
            self.notify("No hotspots in this area.", severity="information")

    def action_toggle_pane(self) -> None:
        if self.has_class("-map"):
            self.action_focus_tree()
        else:
            self.action_focus_map()

    def action_brief(self) -> None:
        if self.current is None:
            self.notify("Choose an area first.", severity="warning")
            return
        self.wb.brief(self.current)

    def copy_text(self):
        if self.current is None:
            return None
        t = getattr(self, "_texts", {})
        parts = [t.get("title"), t.get("profile"), Text("Last 12 months"), t.get("months"), Text("Context"), t.get("context"),
                 Text("Repeat locations"), t.get("repeats"), Text("Risk factors"), t.get("risk"), Text("Interventions"),
                 t.get("interventions")]
        text = "\n".join(p.plain.rstrip() for p in parts if p is not None)
        return ("the area profile", text + "\n")
