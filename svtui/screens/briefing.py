"""Briefing: preview the briefing text (svtui.briefing) for an area or a hotspot, copy it to the
clipboard (OSC 52, so it reaches the analyst's machine over SSH) or export it to a file."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from svtui.safe import plain
from svtui.screens.base import WorkbenchScreen


def inert_markdown(text: str) -> str:
    """Briefing text with escape sequences and control characters removed, line by line."""
    return "\n".join(plain(line, None) for line in str(text).splitlines()) + "\n"


class BriefingScreen(WorkbenchScreen):
    MODE = "briefing"
    BINDINGS = [
        Binding("s", "choose", "Subject", tooltip="Choose the area or hotspot to brief on (type to filter)"),
        Binding("c", "copy", "Copy", tooltip="Copy the briefing (markdown) to the clipboard over OSC 52"),
        Binding("e", "export", "Export", tooltip="Write the briefing to a markdown file in the current folder"),
        Binding("g", "refresh", "Regenerate", show=False, tooltip="Write the briefing again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.brief_text: str | None = None
        self.subject_label = ""
        self._names: dict[tuple[str, str], str] = {}  # labels seen, to name a subject that has gone

    def compose_body(self) -> ComposeResult:
        yield Static("", id="br-subject", markup=False)
        with VerticalScroll(id="br-scroll"):
            yield Markdown("", id="br-preview")

    def data_changed(self) -> None:
        if not self.wb.ready:
            return
        if self.wb.brief_subject is None:
            self.wb.brief_subject = self._default_subject()
        self._generate()

    def consume_pending(self) -> None:
        p = self.wb.pending
        if p and p[0] == "brief" and self.wb.ready:
            self.wb.pending = None
            self._generate()

    def _default_subject(self):
        wb = self.wb
        if wb.selected_locality:
            return ("locality", wb.selected_locality)
        if wb.selected_area:
            return wb.selected_area
        loc = wb.analysis.localities
        if loc.height:
            return ("locality", loc["locality_id"][0])
        h = wb.prep.hierarchy
        if "csp_code" in h.columns and h["csp_code"].drop_nulls().len():
            return ("csp", h["csp_code"].drop_nulls().sort()[0])
        return ("force", "study")

    def _label(self, subject) -> str:
        import polars as pl

        kind, key = subject
        wb = self.wb
        if kind == "locality":
            loc = wb.analysis.localities
            row = loc.filter(pl.col("locality_id") == key)
            if row.height:
                self._names[subject] = f"hotspot {row['name'][0]}"
            return self._names.get(tuple(subject), f"hotspot {key}")
        h = wb.prep.hierarchy
        name_c = f"{kind}_name"
        if name_c in h.columns:
            got = h.filter(pl.col(f"{kind}_code") == key)[name_c].drop_nulls()
            if len(got):
                return f"{kind.upper() if kind in ('csp', 'lsoa') else kind} {got[0]}"
        return f"{kind} {key}"

    def _gone(self, subject) -> bool:
        """A hotspot the current filters no longer find (ids are stable: it may come back)."""
        loc = self.wb.analysis.localities
        return subject[0] == "locality" and (loc.height == 0 or subject[1] not in set(loc["locality_id"].to_list()))

    def _generate(self) -> None:
        subject = self.wb.brief_subject
        if subject is None:
            return
        self.subject_label = self._label(subject)
        head = Text()
        head.append(" Briefing for ", style="dim")
        head.append(plain(self.subject_label, 100), style="bold")
        head.append("   s subject · c copy · e export", style="dim")
        self.query_one("#br-subject", Static).update(head)
        if self._gone(subject):
            self._not_in_analysis(subject)
            return
        self.query_one(Markdown).update("*Writing the briefing…*")
        self.compute("brief", self._job, self.wb.results, subject, done=self._done, failed=self._failed)

    @staticmethod
    def _job(res, subject):
        from svtui.screens import adapt

        return inert_markdown(adapt.briefing(res, subject))

    def _done(self, text: str) -> None:
        self.brief_text = text
        self.query_one(Markdown).update(text)
        self.query_one("#br-scroll").scroll_home(animate=False)

    def _not_in_analysis(self, subject) -> None:
        """Say plainly that the chosen hotspot is not in this analysis (never a ValueError)."""
        self.brief_text = None
        name = plain(self.subject_label.removeprefix("hotspot "), 100)
        self.query_one(Markdown).update(
            f"## {name} is not a hotspot with these filters\n\n"
            f"The filters now in use ({plain(self.wb.filter_summary(), 300)}) do not find the hotspot "
            f"{name} (id {plain(subject[1], 30)}). It keeps its id: widen or clear the filters (f, x) "
            "and its briefing comes back, or press s to choose another area or hotspot.")

    def _failed(self, message: str) -> None:
        self.brief_text = None
        subject = self.wb.brief_subject
        if subject and self.wb.ready and self._gone(subject):
            self._not_in_analysis(subject)
            return
        self.query_one(Markdown).update("## The briefing could not be written\n\n" + plain(message, 400))

    # -- actions ---------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self._generate()

    def action_choose(self) -> None:
        from svtui.screens.picker import SubjectPicker

        def chosen(subject) -> None:
            if subject:
                self.wb.brief_subject = subject
                self._generate()

        self.app.push_screen(SubjectPicker(self.wb), chosen)

    def copy_text(self):
        if not self.brief_text:
            return None
        return (f"the briefing for {self.subject_label}", self.brief_text)

    def action_export(self) -> None:
        if not self.brief_text:
            self.notify("No briefing to export yet.", severity="warning")
            return
        from svtui.screens import adapt

        text, subject = self.brief_text, self.wb.brief_subject

        def job():
            return adapt.export_briefing(self.wb, subject, text)

        def done(path) -> None:
            self.notify(f"Briefing written to {plain(path, 200)}", title="Exported", markup=False)

        self.compute("export", job, done=done)
