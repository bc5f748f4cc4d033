"""The Textual workbench (shell): loads the study off the UI thread and shows its ledger."""
from __future__ import annotations

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static

from svtui.safe import markup_safe, text


class SvtuiApp(App):
    TITLE = "svtui"
    SUB_TITLE = "serious-violence hotspot workbench"
    BINDINGS = [Binding("q", "quit", "Quit")]
    CSS = """
    #status { height: auto; padding: 0 1; }
    #ledger { height: 1fr; }
    """

    def __init__(self, spec) -> None:
        super().__init__()
        self.spec = spec
        self.study = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("Loading…", id="status")
            yield ProgressBar(total=1.0, id="progress", show_eta=False)
            yield DataTable(id="ledger", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        from geodata.errors import SourceError
        from geodata.study import load_study

        def progress(msg: str, frac: float) -> None:
            self.call_from_thread(self._progress, msg, frac)

        try:
            study = load_study(self.spec, progress=progress)
        except SourceError as exc:
            self.call_from_thread(self._failed, str(exc))
            return
        self.call_from_thread(self._loaded, study)

    def _progress(self, msg: str, frac: float) -> None:
        self.query_one("#status", Static).update(markup_safe(msg))
        self.query_one("#progress", ProgressBar).update(progress=frac)

    def _failed(self, message: str) -> None:
        self.query_one("#status", Static).update("[b red]Could not load the study:[/] " + markup_safe(message, 400))

    def _loaded(self, study) -> None:
        self.study = study
        badge = " [reverse b] SYNTHETIC [/]" if study.synthetic else ""
        rng = study.months
        window = f"{rng[0]:%b %Y} – {rng[1]:%b %Y}" if rng else "no incidents"
        self.query_one("#status", Static).update(
            f"[b]{markup_safe(study.name)}[/]{badge}\n{study.incidents.height:,} incidents · {window}"
        )
        self.query_one("#progress", ProgressBar).display = False
        table = self.query_one("#ledger", DataTable)
        table.add_columns("kind", "source", "read", "accepted", "quarantined")
        for s in study.ledger.sources:
            table.add_row(text(s.kind), text(s.path.rsplit("/", 1)[-1], 60), f"{s.read:,}", f"{s.accepted:,}", f"{s.n_quarantined:,}")


def run_app(spec) -> int:
    SvtuiApp(spec).run()
    return 0
