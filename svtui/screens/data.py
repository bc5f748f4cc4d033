"""Data: the ledger (every source's rows read, accepted, quarantined by reason), the quarantined
rows themselves (paged), the serious-violence definition in use and what it can see in the data,
and the harm weights table."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from svtui.safe import plain
from svtui.screens.base import WorkbenchScreen
from svtui.widgets import fmt
from svtui.widgets.table import Column, PagedTable

TABS = ("ledger", "quarantine", "definition", "weights")


class DataScreen(WorkbenchScreen):
    MODE = "data"
    BINDINGS = [
        Binding("l", "tab('ledger')", "Ledger", tooltip="The ledger: rows read, accepted and quarantined by reason"),
        Binding("u", "tab('quarantine')", "Quarantined", tooltip="The quarantined rows themselves, with their reasons"),
        Binding("d", "tab('definition')", "Definition", tooltip="The serious-violence definition in use and what it can see in the data"),
        Binding("w", "tab('weights')", "Weights", tooltip="The harm weights table with sources and years"),
        Binding("c", "copy", "Copy", tooltip="Copy the tab's table or text"),
        Binding("e", "export", "Export", tooltip="Export the tab's table"),
    ]

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="data-tabs", initial="ledger"):
            with TabPane("Ledger (l)", id="ledger"):
                with VerticalScroll():
                    yield Static("", id="ledger-head", markup=False)
                    yield DataTable(id="ledger-table", cursor_type="row", zebra_stripes=True)
                    yield Static("", id="ledger-notes", classes="note", markup=False)
            with TabPane("Quarantined rows (u)", id="quarantine"):
                yield PagedTable(page_size=200, search_columns=("reason", "source_kind", "source_file", "Location", "location", "Crime type"), id="quarantine-table")
            with TabPane("Definition (d)", id="definition"):
                with VerticalScroll():
                    yield Static("", id="definition-text", markup=False)
            with TabPane("Harm weights (w)", id="weights"):
                yield Static("", id="weights-head", classes="note", markup=False)
                yield PagedTable(page_size=200, search_columns=("key", "description", "police_uk_type", "weight_source"), id="weights-table")

    def data_changed(self) -> None:
        wb = self.wb
        if wb.study is None:
            return
        self._ledger()
        if wb.prep is not None:
            self.compute("definition", self._definition_job, done=self._definition_done)
            self._weights()
        self._quarantine()

    # -- ledger ----------------------------------------------------------------------------------
    def _ledger(self) -> None:
        st = self.wb.study
        table = self.query_one("#ledger-table", DataTable)
        table.clear(columns=True)
        for key, label in (("kind", "Kind"), ("source", "Source / reason"), ("read", "Read"), ("accepted", "Accepted"), ("quarantined", "Quarantined")):
            table.add_column(Text(label, style="bold"), key=key)
        tot = [0, 0, 0]
        for i, s in enumerate(st.ledger.sources):
            name = s.path.rsplit("/", 1)[-1] or s.path
            table.add_row(fmt.cell(s.kind, 20), Text(plain(name, 60), style="bold"), fmt.cell(s.read), fmt.cell(s.accepted), fmt.cell(s.n_quarantined), key=f"s{i}")
            tot[0] += s.read
            tot[1] += s.accepted
            tot[2] += s.n_quarantined
            for reason, n in sorted(s.quarantined.items(), key=lambda kv: -kv[1]):
                table.add_row(Text(""), Text("  – " + plain(reason, 60), style="italic"), Text(""), Text(""), fmt.cell(n), key=f"s{i}:{reason}")
        table.add_row(Text("total", style="bold"), Text(""), Text(f"{tot[0]:,}", style="bold", justify="right"), Text(f"{tot[1]:,}", style="bold", justify="right"), Text(f"{tot[2]:,}", style="bold", justify="right"), key="total")
        head = Text()
        head.append(plain(st.name, 100), style="bold")
        if st.synthetic:
            head.append("  ")
            head.append(" SYNTHETIC ", style="bold reverse yellow")
        origin = "command-line paths" if st.spec.origin == "flags" else plain(st.spec.origin, 200)
        head.append(f"\nLoaded in {st.load_seconds:.2f} s from {origin}. Every row read is accepted or quarantined with a reason; nothing is dropped silently.")
        self.query_one("#ledger-head", Static).update(head)
        notes = Text()
        for s in st.ledger.sources:
            for n in s.notes:
                notes.append(f"• {plain(s.path.rsplit('/', 1)[-1], 40)}: {plain(n, 300)}\n")
        for n in st.notes + (getattr(st.areas, "notes", []) if st.areas is not None else []):
            notes.append(f"• {plain(n, 300)}\n")
        self.query_one("#ledger-notes", Static).update(notes)

    def _quarantine(self) -> None:
        q = self.wb.study.ledger.quarantine_frame()
        first = [c for c in ("source_kind", "reason", "source_file", "source_row") if c in q.columns]
        cols = first + [c for c in q.columns if c not in first]
        labels = {"source_kind": "kind", "source_file": "file", "source_row": "row"}

        def fmt_for(c):
            if c == "source_file":
                return lambda v: fmt.cell(str(v).replace("\\", "/").rsplit("/", 1)[-1] if v else v, 40)
            return lambda v: fmt.cell(v, 40)

        columns = [Column(c, labels.get(c, c.replace("_", " ")), fmt_for(c)) for c in cols[:16]]
        table = self.query_one("#quarantine-table", PagedTable)
        table.set_frame(q, columns, key_column=None, sort=None)

    # -- definition -------------------------------------------------------------------------------
    def _definition_job(self):
        session = self.wb.session
        return session.definition, session.definition_sees()

    def _definition_done(self, result) -> None:
        d, sees = result
        t = Text()
        t.append(plain(d.title, 120), style="bold")
        t.append(f"  ({plain(d.name, 40)}, version {plain(d.version, 20)}, written for {plain(d.applies_to, 20)} data)\n", style="dim")
        t.append(plain(d.description, 800) + "\n")
        if d.source:
            t.append("Source: ", style="bold")
            t.append(plain(d.source, 300) + "\n")
        t.append("\nCategories\n", style="bold")
        for c in d.categories:
            t.append(f"• {plain(c.label, 80)}", style="bold")
            t.append(f" — {plain(c.description, 300)}\n")
        if d.cannot_see:
            t.append("\nCannot see by design\n", style="bold")
            for x in d.cannot_see:
                t.append(f"• {plain(x, 300)}\n")
        t.append("\nWhat the definition sees in this study's data\n", style="bold")
        for line in sees:
            indent = len(line) - len(line.lstrip(" "))
            t.append(" " * indent + plain(line.strip(), 400) + "\n", style="" if indent else "bold")
        self._definition_text = t
        self.query_one("#definition-text", Static).update(t)

    def _weights(self) -> None:
        w = self.wb.session.harm_weights()
        prov = int(w["provisional"].sum()) if "provisional" in w.columns else 0
        self.query_one("#weights-head", Static).update(
            Text(
                f"{w.height:,} harm weights (ONS Crime Severity Score style: days of sentence). "
                f"{prov:,} are marked provisional (not yet checked against the current ONS workbook). / to find.",
            )
        )
        columns = [
            Column("level", "Level", lambda v: fmt.cell(v, 16)),
            Column("key", "Code / type", lambda v: fmt.cell(v, 30)),
            Column("description", "Description", lambda v: fmt.cell(v, 50)),
            Column("harm_weight", "Weight"),
            Column("provisional", "Provisional"),
            Column("weight_basis", "Basis", lambda v: fmt.cell(v, 30)),
            Column("weight_source", "Source", lambda v: fmt.cell(v, 40)),
            Column("weight_year", "Year", lambda v: fmt.cell(str(v) if v is not None else None)),
            Column("note", "Note", lambda v: fmt.cell(v, 40)),
        ]
        self.query_one("#weights-table", PagedTable).set_frame(w, columns, key_column="key", sort=None)

    # -- actions ------------------------------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        pane = self.query_one(f"#{tab}", TabPane)
        for widget in pane.query("PagedTable, DataTable, VerticalScroll"):
            if widget.focusable or isinstance(widget, PagedTable):
                widget.focus()
                break

    def _active(self) -> str:
        return self.query_one(TabbedContent).active

    def copy_text(self):
        tab = self._active()
        if tab == "ledger":
            t = self.query_one("#ledger-table", DataTable)
            lines = ["\t".join(c.label.plain for c in t.columns.values())]
            for row in t.rows:
                lines.append("\t".join(getattr(v, "plain", str(v)) for v in t.get_row(row)))
            return ("the ledger", "\n".join(lines) + "\n")
        if tab == "definition":
            t = getattr(self, "_definition_text", None)
            return ("the definition", t.plain) if t is not None else None
        table = self.query_one(f"#{tab}-table", PagedTable)
        return (f"the {tab} table", table.as_tsv()) if table.n_rows else None

    def action_export(self) -> None:
        from svtui.screens.exporting import export_frame

        tab = self._active()
        if tab in ("quarantine", "weights"):
            table = self.query_one(f"#{tab}-table", PagedTable)
            if table.view is not None:
                export_frame(self, table.view, tab)
        elif tab == "ledger":
            import polars as pl

            st = self.wb.study
            rows = []
            for s in st.ledger.sources:
                rows.append({"kind": s.kind, "path": s.path, "reason": None, "read": s.read, "accepted": s.accepted, "quarantined": s.n_quarantined})
                for reason, n in s.quarantined.items():
                    rows.append({"kind": s.kind, "path": s.path, "reason": reason, "read": None, "accepted": None, "quarantined": n})
            export_frame(self, pl.DataFrame(rows, infer_schema_length=None), "ledger")
        else:
            self.notify("Copy the definition with c.", severity="information")
