"""Overview: the study, its data window, and each CSP at a glance (trend, change, shares, Duty
measures), with the top hotspots. The first screen; it shows load progress while the study loads,
and the CSP table as soon as the study is read (its Hotspots column once the analysis is in).
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, ProgressBar, Static

from svtui.safe import plain
from svtui.screens.base import WorkbenchScreen
from svtui.widgets import fmt


class OverviewScreen(WorkbenchScreen):
    MODE = "overview"
    BINDINGS = [
        Binding("enter", "open_row", "Open", show=False, tooltip="Open the CSP in the area browser, or the hotspot in the hotspot table"),
        Binding("c", "copy", "Copy table", tooltip="Copy the focused table to the clipboard (tab-separated)"),
        Binding("e", "export", "Export", tooltip="Export the CSP profiles"),
        Binding("b", "brief", "Brief", tooltip="Briefing for the CSP or hotspot under the cursor"),
        Binding("tab", "app.focus_next", "Next pane", show=False, tooltip="Move between the tables"),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="overview-body"):
            yield Static("", id="study-head", markup=False)
            yield ProgressBar(total=1.0, show_eta=False, id="load-progress")
            yield Static("", id="load-message", markup=False)
            yield Static("Community Safety Partnerships", classes="section-title", id="csp-title")
            yield DataTable(id="csp-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="csp-note", classes="note", markup=False)
            yield Static("Serious Violence Duty measures (latest 12 months, change on the year before)", classes="section-title", id="duty-title")
            yield DataTable(id="duty-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="duty-note", classes="note", markup=False)
            yield Static("Top hotspots (by harm)", classes="section-title", id="top-title")
            yield DataTable(id="top-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="notes", classes="note", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.show_progress(self.wb.load_message, self.wb.load_fraction)

    # -- loading ------------------------------------------------------------------------------
    def show_progress(self, message: str, fraction: float) -> None:
        if self.wb.ready or self.wb.load_error:
            return
        if self.wb.results is None:  # once the study is read, the head says what it holds
            self._head_loading()
        self.query_one("#load-progress", ProgressBar).update(progress=fraction)
        self.query_one("#load-message", Static).update(Text(plain(message, 200), style="italic"))

    def _head_loading(self) -> None:
        head = Text()
        head.append(plain(self.wb.study_name, 120), style="bold")
        if self.wb.synthetic:
            head.append("  ")
            head.append(" SYNTHETIC ", style="bold reverse yellow")
        head.append("\nLoading the study…", style="dim")
        self.query_one("#study-head", Static).update(head)

    # -- data ----------------------------------------------------------------------------------
    def data_changed(self) -> None:
        wb = self.wb
        prog = self.query_one("#load-progress", ProgressBar)
        msg = self.query_one("#load-message", Static)
        if wb.load_error:
            prog.display = False
            msg.update(Text.assemble(("Could not load the study: ", "bold red"), plain(wb.load_error, 600)))
            if wb.results is not None and wb.analysis is None:  # read, but the analysis failed
                self._head()
                if getattr(self, "_csp_rows", None) is not None:
                    self._fill_csp_rows(self._csp_rows)
            return
        if not wb.ready:
            if wb.results is not None:  # the study is read: its CSP figures, while the hotspots are found
                self._head()
                self._csp_table()
            return
        prog.display = False
        msg.display = False
        self._head()
        self._csp_table()
        self._duty()
        self._top_hotspots()
        self._notes()
        if not isinstance(self.focused, DataTable):
            # Focus the CSP table without scrolling: the overview always opens at its top.
            self.query_one("#csp-table", DataTable).focus(scroll_visible=False)
            self.query_one("#overview-body").scroll_home(animate=False)

    def _head(self) -> None:
        """The study, its data and definition, and the analysis (or that it is still running)."""
        wb = self.wb
        st, a = wb.study, wb.analysis
        wide = self.size.width >= 100
        head = Text()
        head.append(plain(st.name, 120), style="bold")
        if st.synthetic:
            head.append("  ")
            head.append(" SYNTHETIC ", style="bold reverse yellow")
            if wide:
                head.append(" made-up sample data: not for decisions", style="yellow")
        quarantined = sum(s.n_quarantined for s in st.ledger.sources)
        head.append("\nData      ", style="bold")
        head.append(f"{fmt.window(st.months)} · {st.incidents.height:,} incidents · {quarantined:,} quarantined (6)")
        head.append("\nDefinition ", style="bold")
        head.append(plain(wb.session.definition.title, 120))
        head.append("\nAnalysis  ", style="bold")
        if a is None:
            if wb.load_error:
                head.append("not run: the error is below", style="bold red")
            else:
                head.append("finding the hotspots…", style="dim italic")
            self.query_one("#study-head", Static).update(head)
            return
        head.append(f"{a.n_incidents:,} serious incidents · {a.localities.height:,} hotspots")
        share = a.locality_area_share()
        if share:
            head.append(f" on {fmt.pct(share, 1)} of the area")
        if a.window and st.months and tuple(a.window) != tuple(st.months):
            head.append(f" · {fmt.window(a.window)}")
        self.query_one("#study-head", Static).update(head)

    def _csp_table(self) -> None:
        wb = self.wb
        if getattr(self, "_csp_rows_of", None) is wb.results and getattr(self, "_csp_rows", None) is not None:
            # the same filters' rows, drawn while the hotspots were found: add the hotspot counts
            self._fill_csp_rows(self._csp_rows)
            return
        table = self.query_one("#csp-table", DataTable)
        note = self.query_one("#csp-note", Static)
        table.clear(columns=True)
        cols = [("csp", "CSP"), ("trend", "Trend"), ("change", "Change"), ("da", "Dom. abuse"), ("youth", "Youth"), ("knife", "Knife"), ("hotspots", "Hotspots")]
        for key, label in cols:
            table.add_column(Text(label, style="bold"), key=key)
        note.update("Computing CSP profiles…")
        res = wb.results

        def done(rows) -> None:
            self._csp_rows_of = res
            self._fill_csp_rows(rows)

        self.compute("csp_profiles", self._profiles, res, done=done, failed=self._profiles_failed)

    @staticmethod
    def _profiles(res):
        from svtui.screens import adapt

        if "csp" not in res.session.levels():
            return None
        return adapt.area_profile_rows(res, "csp")

    def _profiles_failed(self, message: str) -> None:
        self.query_one("#csp-note", Static).update(
            Text.assemble(("CSP profiles could not be computed: ", "bold red"), plain(message, 300)))
        self._fill_csp_rows(None)

    def on_resize(self) -> None:
        if self.wb.results is not None and not self.wb.load_error:
            self._head()
            if getattr(self, "_csp_rows", None) is not None:
                self._fill_csp_rows(self._csp_rows)

    def _fill_csp_rows(self, rows) -> None:
        """rows: {csp_code: dict(trend=[...], change=float, da=, youth=, knife=)} or None."""
        from svtui.screens import adapt

        self._csp_rows = rows  # (None when they could not be computed: asked again next time)
        wb = self.wb
        table = self.query_one("#csp-table", DataTable)
        table.clear()
        h = wb.session.hierarchy
        if "csp_code" not in h.columns or h["csp_code"].null_count() == h.height:
            self.query_one("#csp-note", Static).update("No CSP codes for this study's areas: add a district -> CSP lookup.")
            return
        csps = h.select("csp_code", "csp_name").unique().drop_nulls("csp_code").sort("csp_name")
        counts = None  # hotspots per CSP, once the analysis is in
        if wb.analysis is not None:
            loc = wb.analysis.localities
            counts = {}
            if loc.height and "csp_code" in loc.columns:
                counts = dict(loc.group_by("csp_code").len().iter_rows())
        months = 24 if self.size.width >= 110 else 12
        for code, name in csps.iter_rows():
            r = (rows or {}).get(code, {})
            change = adapt.change_cell(r)
            change.justify = "right"
            table.add_row(
                fmt.cell(name or code, 40),
                Text(fmt.sparkline(r.get("trend") or [], months), style="bold"),
                change,
                Text(fmt.pct(r.get("da")), justify="right"),
                Text(fmt.pct(r.get("youth")), justify="right"),
                Text(fmt.pct(r.get("knife")), justify="right"),
                (Text(f"{counts.get(code, 0):,}", justify="right") if counts is not None
                 else Text(fmt.DASH if wb.load_error else "…", style="dim", justify="right")),
                key=str(code),
            )
        if rows is not None:
            note = Text(
                f"Trend: serious violence per month (last {months} months). Change: latest 12 months against the 12 before. Shares of serious "
                "violence where the data can say (— = not known). Enter opens the CSP in the area browser."
            )
            note.append(" Change is tested (exact test for two Poisson counts); below 10 offences it is given in counts.")
            if counts is None:
                note.append("\nHotspots: " + ("— the analysis did not run (the error is above)." if wb.load_error
                                               else "… while the hotspots are found."), style="dim")
            missing = sorted({m for r in rows.values() for m in (r.get("missing") or [])})
            if missing:
                note.append(f"\nMissing months (gaps in the trend, not zeros; no change across them): {adapt.months_list(missing)}",
                            style="yellow")
            reasons = {r.get("change_words") for r in rows.values() if r.get("change_reason") and r.get("change_words")}
            for reason in sorted(reasons)[:2]:
                note.append("\nChange " + plain(reason, 200), style="dim")
            un = [(r.get("unplaced_n"), r.get("unplaced_share")) for r in rows.values() if not fmt.is_missing(r.get("unplaced_n"))]
            if un:
                note.append(f"\nCannot place in a CSP: {fmt.count(un[0][0])} offences ({fmt.pct(un[0][1])}) of the window.")
            self.query_one("#csp-note", Static).update(note)

    def _duty(self) -> None:
        note = self.query_one("#duty-note", Static)
        table = self.query_one("#duty-table", DataTable)
        table.clear(columns=True)
        table.display = True
        note.update("Computing the Duty's measures…")
        self.compute("duty", self._duty_job, self.wb.results, done=self._duty_done, failed=self._duty_failed)

    @staticmethod
    def _duty_job(res):
        from svtui.screens import adapt

        return adapt.duty(res)

    def _duty_failed(self, message: str) -> None:
        self.query_one("#duty-table", DataTable).display = False
        self.query_one("#duty-note", Static).update(
            Text.assemble(("Duty measures could not be computed: ", "bold red"), plain(message, 300)))

    def _duty_done(self, result) -> None:
        from svtui.screens import adapt

        frame, notes = result
        table = self.query_one("#duty-table", DataTable)
        note = self.query_one("#duty-note", Static)
        table.clear(columns=True)
        if frame is None or frame.height == 0:
            note.update("No Duty measures for this study.")
            return
        measures = list(dict.fromkeys(frame["measure"].to_list()))
        table.add_column(Text("Area", style="bold"), key="area")
        for m in measures:
            table.add_column(Text(adapt.DUTY_SHORT.get(m, m), style="bold"), key=m)
        by_area: dict = {}
        order = []
        for rec in frame.iter_rows(named=True):
            k = (rec["level"], rec["code"])
            if k not in by_area:
                by_area[k] = {"name": rec["name"], "level": rec["level"]}
                order.append(k)
            by_area[k][rec["measure"]] = rec
        any_window = False
        for k in order:
            row = by_area[k]
            cells = [fmt.cell(row["name"], 40) if row["level"] != "force" else Text(plain(row["name"], 40), style="bold")]
            for m in measures:
                rec = row.get(m) or {}
                c = adapt.duty_cell(rec)
                any_window = any_window or c.plain.endswith("*")
                cells.append(c)
            table.add_row(*cells, key=f"{k[0]}:{k[1]}")
        text = Text()
        reasons = {}
        for rec in frame.iter_rows(named=True):
            if not rec["available"] and rec.get("reason"):
                reasons.setdefault(rec["label"], rec["reason"])
        for label, reason in reasons.items():
            text.append(f"{plain(label, 80)}: ", style="bold")
            text.append(plain(reason, 300) + "\n")
        if any_window:
            text.append("* fewer than 24 months of data: the count over the whole window, no change.\n", style="dim")
        for n in notes[:4]:
            text.append(plain(n, 300) + "\n", style="dim")
        note.update(text)

    def _top_hotspots(self) -> None:
        table = self.query_one("#top-table", DataTable)
        table.clear(columns=True)
        from svtui.screens import adapt

        for key, label in (("rank", "#"), ("name", "Hotspot"), ("csp", "CSP"), ("n", "Incidents"), ("harm", "Harm"), ("trend", "Trend")):
            table.add_column(Text(label, style="bold"), key=key)
        loc = self.wb.analysis.localities
        for i, rec in enumerate(loc.head(10).iter_rows(named=True)):
            table.add_row(
                Text(str(i + 1), justify="right"),
                fmt.cell(rec.get("name"), 48),
                fmt.cell(rec.get("csp_name"), 28),
                fmt.cell(rec.get("n_incidents")),
                fmt.cell(rec.get("harm")),
                fmt.cell(adapt.trend_words(rec), 48),
                key=str(rec["locality_id"]),
            )

    def _notes(self) -> None:
        wb = self.wb
        notes = list(dict.fromkeys([*wb.study.notes, *wb.analysis.notes]))
        text = Text()
        if notes:
            text.append("Notes\n", style="bold")
            for n in notes:
                text.append("• " + plain(n, 400) + "\n")
        self.query_one("#notes", Static).update(text)

    # -- actions -------------------------------------------------------------------------------
    def _focused_table(self) -> DataTable | None:
        f = self.focused
        return f if isinstance(f, DataTable) else None

    def action_open_row(self) -> None:
        t = self._focused_table()
        if t is None or t.row_count == 0:
            return
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        if t.id == "csp-table":
            self.wb.jump_to("csp", key)
        elif t.id == "top-table":
            self.wb.jump_to("locality", key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if event.data_table.id == "csp-table":
            self.wb.jump_to("csp", key)
        elif event.data_table.id == "top-table":
            self.wb.jump_to("locality", key)

    def action_brief(self) -> None:
        t = self._focused_table()
        if t is None or t.row_count == 0:
            self.notify("Choose a CSP or a hotspot first (Tab to a table).", severity="warning")
            return
        key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
        self.wb.brief(("locality", key) if t.id == "top-table" else ("csp", key))

    def action_export(self) -> None:
        """Export the CSP profiles (or the Duty measures when that table has focus)."""
        from svtui.screens import adapt
        from svtui.screens.exporting import export_frame

        if not self.wb.ready:
            return
        t = self._focused_table()
        res = self.wb.results
        if t is not None and t.id == "duty-table":
            export_frame(self, lambda: adapt.duty(res)[0], "duty-measures")
            return
        export_frame(self, lambda: res.profiles("csp"), "csp-profiles")

    def copy_text(self):
        t = self._focused_table() or self.query_one("#csp-table", DataTable)
        if t.row_count == 0:
            return None
        lines = ["\t".join(plain(c.label.plain if hasattr(c.label, "plain") else c.label, 60) for c in t.columns.values())]
        for row in t.rows:
            lines.append("\t".join(plain(getattr(v, "plain", v), 200) for v in t.get_row(row)))
        return ("the table", "\n".join(lines) + "\n")
