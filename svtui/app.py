"""The Textual workbench: overview, areas, hotspots, coverage gaps, briefing and data screens.

The first screen paints at once; the study is loaded in a thread worker after the first paint,
with progress in the overview, in stages: once it is read, its area figures (the overview's CSP
table) are computed and shown, then the grid is laid and the hotspots are found while the
progress line names each step. Filters re-run the analysis in an exclusive thread
worker (the engine caches each filter set on the Prepared object), so the UI never blocks.
Every action has a key and a command-palette entry (ctrl+p); `?` lists the keys.

Nothing here computes statistics: the app holds one `hotspot.session.Session` (the study, its
definition and parameters, and the only cache) and the `Results` of the current filters; screens
ask those and only lay them out. Every data string shown goes through `svtui.safe`.
"""
from __future__ import annotations

import os
import signal
import threading

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.worker import get_current_worker

from svtui.safe import InertOutput


def _overview():
    from svtui.screens.overview import OverviewScreen

    return OverviewScreen()


def _areas():
    from svtui.screens.areas import AreasScreen

    return AreasScreen()


def _hotspots():
    from svtui.screens.hotspots import HotspotsScreen

    return HotspotsScreen()


def _gaps():
    from svtui.screens.gaps import GapsScreen

    return GapsScreen()


def _briefing():
    from svtui.screens.briefing import BriefingScreen

    return BriefingScreen()


def _data():
    from svtui.screens.data import DataScreen

    return DataScreen()


def _review():
    from svtui.screens.review import ReviewScreen

    return ReviewScreen()


def _commands():
    from svtui.screens.palette import WorkbenchCommands

    return WorkbenchCommands


class SvtuiApp(InertOutput, App[int]):  # InertOutput: notices and copies through safe.plain
    """The serious-violence hotspot workbench."""

    TITLE = "svtui"
    SUB_TITLE = "serious-violence hotspot workbench"
    CSS_PATH = "svtui.tcss"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    COMMANDS = App.COMMANDS | {_commands}
    MODES = {
        "overview": _overview,
        "areas": _areas,
        "hotspots": _hotspots,
        "gaps": _gaps,
        "briefing": _briefing,
        "data": _data,
        "review": _review,
    }
    DEFAULT_MODE = "overview"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS = [
        Binding("1", "switch_mode('overview')", "Overview", show=False, tooltip="Overview: the study, each CSP's trend, change and shares, the Duty's measures, top hotspots"),
        Binding("2", "switch_mode('areas')", "Areas", show=False, tooltip="Area browser: force → CSP → district → ward → LSOA, with profile, risks, hotspots, interventions, map"),
        Binding("3", "switch_mode('hotspots')", "Hotspots", show=False, tooltip="Hotspot table with the selected hotspot's detail and the map"),
        Binding("4", "switch_mode('gaps')", "Gaps", show=False, tooltip="Coverage gaps: hotspots no intervention reaches; what each intervention reaches"),
        Binding("5", "switch_mode('briefing')", "Briefing", show=False, tooltip="Briefing text for an area or hotspot: preview, copy, export"),
        Binding("6", "switch_mode('data')", "Data", show=False, tooltip="Data: ledger, quarantined rows, the definition in use, harm weights"),
        Binding("7", "switch_mode('review')", "Review", show=False, tooltip="Hotspot review: each place's changes, tested; the action log"),
        Binding("f", "filters", "Filters", tooltip="Filters: date window, categories, markers, night-time, minimum harm (re-runs the analysis)"),
        Binding("n", "toggle_night", "Night only", show=False, tooltip="Toggle the night-time filter (incidents starting 21:00–03:59)"),
        Binding("x", "reset_filters", "Clear filters", show=False, tooltip="Clear every filter"),
        Binding("question_mark,f1", "help", "Keys", key_display="?", tooltip="This list of keys"),
        Binding("ctrl+r,f5", "reload", "Reload", show=False, key_display="^r",
                tooltip="Re-read every source; if one has gone or broken, say so and keep the last good analysis"),
        Binding("q", "quit", "Quit", tooltip="Quit svtui"),
    ]

    busy: reactive[str] = reactive("")
    generation: reactive[int] = reactive(0)

    def __init__(self, spec=None, *, study=None, prep=None, params=None, session=None, animations: bool = True) -> None:
        """spec: what to load (in a worker, after the first paint); or an open `session`; or a
        loaded `study` (and its `prep`, shared by tests). params: hotspot Params (validated)."""
        super().__init__()
        if session is None and study is not None:
            from hotspot.session import Session

            session = Session(study, params=params, prep=prep)
        self.spec = spec if spec is not None else getattr(getattr(session, "study", None), "spec", None)
        self.session = session
        self.params = session.params if session is not None else params
        # hotspot.session.Results of the current filters: set when the study is read (its area
        # figures first), analysed once `analysis` is set
        self.results = None
        self.analysis = None
        self.filters = None
        self.load_error: str | None = None
        self.reload_error: str | None = None
        self.source_cache = None  # geodata.cache folder (or True) for police.uk sources
        self.load_message = "Starting…"
        self.load_fraction = 0.0
        self.selected_locality: str | None = None
        self.selected_area: tuple[str, str] | None = None  # (level, code)
        self.brief_subject: tuple[str, str] | None = None  # ("locality", id) or (level, code)
        self.pending: tuple[str, str] | None = None
        self._analysis_lock = threading.Lock()
        self._hangup_timer: threading.Timer | None = None
        if not animations:
            self.animation_level = "none"

    # -- study facts the screens use -------------------------------------------------------------
    @property
    def study(self):
        return self.session.study if self.session is not None else None

    @property
    def prep(self):
        """The session's prepared study, once it is ready (never prepared on the UI thread)."""
        s = self.session
        return s.prep if s is not None and s.prepared else None

    @property
    def synthetic(self) -> bool:
        if self.study is not None:
            return bool(self.study.synthetic)
        return bool(getattr(self.spec, "synthetic", False))

    @property
    def study_name(self) -> str:
        if self.study is not None:
            return self.study.name
        return getattr(self.spec, "name", "") or "study"

    @property
    def ready(self) -> bool:
        return self.analysis is not None

    def area_cover_summary(self) -> str:
        """'Hotspots 1.0% of area (budget 1%)': the share the localities actually cover, and the
        area budget (Params.area_share) when the engine has one (issue 11)."""
        a = self.analysis
        if a is None:
            return ""
        from svtui import fmt

        share = a.locality_area_share() if hasattr(a, "locality_area_share") else None
        text = f"Hotspots {fmt.pct(share, 2 if share < 0.01 else 1)} of area" if share is not None else ""
        budget = getattr(self.params, "area_share", None)
        if budget is not None:
            cap = getattr(self.params, "max_localities", None)
            text += f" (budget {fmt.num(budget, 1 if budget % 1 else 0)}%" + (f", at most {cap}" if cap else "") + ")"
        return text

    def filter_summary(self) -> str:
        f = self.filters
        if f is None:
            return ""
        parts = []
        if f.start or f.end:
            a = f.start.strftime("%b %Y") if f.start else "start"
            b = f.end.strftime("%b %Y") if f.end else "end"
            parts.append(f"{a} – {b}")
        if f.categories:
            labels = {c.id: c.label for c in self.prep.definition.categories} if self.prep else {}
            parts.append("categories: " + ", ".join(labels.get(c, c) for c in f.categories))
        if f.markers:
            parts.append("markers: " + ", ".join(m.replace("_", " ") for m in f.markers))
        if f.night_time:
            parts.append("night-time only (21:00–03:59)")
        if f.min_harm:
            parts.append(f"harm ≥ {f.min_harm:,.0f}")
        if f.areas:
            parts.append("areas: " + ", ".join(f.areas))
        return " · ".join(parts) if parts else "none — all serious violence in the study"

    # -- start-up ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._install_signal_handlers()
        # Load after the first paint, so the first screen shows at once.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        if self.session is not None:
            from hotspot.analysis import Filters

            self.filters = Filters()
            self.busy = "Finding hotspots"
            self.run_analysis(self.filters)
        else:
            self.load()

    def _progress(self, message: str, fraction: float) -> None:
        self.load_message = message
        self.load_fraction = fraction
        self.busy = message
        screen = self.screen
        if hasattr(screen, "show_progress"):
            screen.show_progress(message, fraction)

    def _safe_call(self, fn, *args) -> None:
        """call_from_thread that gives up quietly when the app has gone."""
        try:
            self.call_from_thread(fn, *args)
        except RuntimeError:
            pass

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        worker = get_current_worker()
        from geodata.errors import SourceError

        try:
            from geodata.study import load_study

            study = load_study(self.spec, progress=lambda m, f: self._safe_call(self._progress, m, 0.75 * f),
                               cache=self.source_cache)
            if worker.is_cancelled:
                return
            self._safe_call(self._progress, "Classifying incidents and profiling the areas", 0.78)
            from hotspot.analysis import Filters
            from hotspot.session import Session

            session = Session(study, params=self.params)
            results = session.results(Filters())
            # The CSP table needs the classified incidents and the area counts, not the grid or
            # the hotspots: make those first and show them while the rest is found.
            self._first_figures(results)
            if worker.is_cancelled:
                return
            self._safe_call(self._study_ready, session, results)
            self._safe_call(self._progress, "Laying the grid", 0.84)
            session.prep  # noqa: B018  (the filter-independent work, here in the worker)
            if worker.is_cancelled:
                return
            self._safe_call(self._progress, "Finding hotspots (Gi*, clusters, trends)", 0.9)
            results.run(progress=lambda m, f: self._safe_call(self._progress, f"Finding hotspots: {m}", 0.9 + 0.1 * f))
        except SourceError as exc:
            self._safe_call(self._load_failed, str(exc))
            return
        except Exception as exc:  # noqa: BLE001  (one line on screen, never a traceback)
            if os.environ.get("SVTUI_DEBUG"):
                raise
            self._safe_call(self._load_failed, f"{type(exc).__name__}: {exc}")
            return
        if not worker.is_cancelled:
            self._safe_call(self._loaded, session, results)

    @staticmethod
    def _first_figures(results) -> None:
        """Compute (into the session's cache) what the overview's CSP table shows before the
        hotspots are found: the CSP profiles and their monthly series. A failure here is left
        for the overview to say when it asks again."""
        try:
            if "csp" in results.session.levels():
                results.profiles("csp")
                results.series("csp")
        except Exception:  # noqa: BLE001  (the overview's own call says what went wrong)
            if os.environ.get("SVTUI_DEBUG"):
                raise

    def _study_ready(self, session, results) -> None:
        """The study is read and its area figures are in; the hotspots are still being found."""
        if self.analysis is not None or self.load_error:
            return  # a reload or an earlier study: this one's first figures are not wanted
        self.session, self.params = session, session.params
        self.results = results
        self.generation += 1
        self._refresh_screen()

    def action_reload(self) -> None:
        """Re-read the sources. A failure is reported and the last good analysis stays."""
        if self.study is None or self.prep is None:
            self.load_error = None
            self.load()
            return
        self.busy = "Re-reading the sources"
        self.reload(self.filters)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def reload(self, filters) -> None:
        worker = get_current_worker()
        from geodata.errors import SourceError
        from geodata.study import load_study
        from hotspot.session import Session

        try:
            study = load_study(self.spec, cache=self.source_cache)
            session = Session(study, self.session.definition, self.params)
            results = session.results(filters)
            results.run()
        except SourceError as exc:
            self._safe_call(self._reload_failed, str(exc))
            return
        except Exception as exc:  # noqa: BLE001  (one line, never a traceback)
            if os.environ.get("SVTUI_DEBUG"):
                raise
            self._safe_call(self._reload_failed, f"{type(exc).__name__}: {exc}")
            return
        if not worker.is_cancelled:
            self._safe_call(self._loaded, session, results)
            self._safe_call(self.notify, "Sources re-read.", title="Reloaded")

    def _reload_failed(self, message: str) -> None:
        self.busy = ""
        self.reload_error = message
        self.notify(
            f"{message}\nThe last good analysis is still shown.",
            title="Could not re-read the sources",
            severity="error",
            timeout=15,
            markup=False,
        )

    def _load_failed(self, message: str) -> None:
        self.load_error = message
        self.busy = ""
        self.generation += 1
        self._refresh_screen()

    def _loaded(self, session, results) -> None:
        self.session, self.params = session, session.params
        self.filters = results.filters
        self._set_results(results)

    # -- analysis ------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="analysis", exit_on_error=False)
    def run_analysis(self, filters) -> None:
        worker = get_current_worker()
        with self._analysis_lock:  # one analysis at a time on 2 cores; stale ones are dropped
            if worker.is_cancelled:
                return
            try:
                results = self.session.results(filters)
                results.run(progress=lambda m, f: self._safe_call(self._busy_step, m, f))
            except Exception as exc:  # noqa: BLE001  (said on screen, never raised into the UI)
                if not worker.is_cancelled:
                    self._safe_call(self._analysis_failed, f"{type(exc).__name__}: {exc}")
                return
        if not worker.is_cancelled:
            self._safe_call(self._set_results, results)

    def _busy_step(self, message: str, fraction: float) -> None:
        if self.busy:  # only while a re-run is showing
            self.busy = f"Re-running the analysis: {message} ({fraction:.0%})"

    def _analysis_failed(self, message: str) -> None:
        """A re-run failed: say why and keep the last analysis; with none yet, the overview says it."""
        if self.analysis is None:
            self._load_failed(message)
            return
        self.busy = ""
        self.notify(message, title="Analysis failed", severity="error", timeout=10, markup=False)

    def _set_results(self, results) -> None:
        """Show `results` (their analysis already computed in a worker)."""
        self.results, self.filters = results, results.filters
        analysis = results.analysis
        self.analysis = analysis
        self.busy = ""
        ids = set(analysis.localities["locality_id"].to_list()) if analysis.localities.height else set()
        if self.selected_locality not in ids:
            self.selected_locality = None
        self.generation += 1
        self._refresh_screen()

    def _refresh_screen(self) -> None:
        screen = self.screen
        if hasattr(screen, "_maybe_refresh"):
            screen._maybe_refresh()
        else:  # a modal on top: refresh the screen beneath it
            for s in reversed(self.screen_stack):
                if hasattr(s, "_maybe_refresh"):
                    s._maybe_refresh()
                    break

    def apply_filters(self, filters) -> None:
        """Re-run the analysis with `filters` (in a worker; cached per filter set)."""
        if self.session is None:
            self.notify("The study is still loading.", severity="warning")
            return
        if filters == self.filters and self.analysis is not None:
            return
        self.busy = "Re-running the analysis for the new filters"
        self.run_analysis(filters)

    # -- actions ---------------------------------------------------------------------------------
    def action_filters(self) -> None:
        if self.prep is None:
            self.notify("The study is still loading.", severity="warning")
            return
        from svtui.screens.filters import FiltersScreen

        def chosen(choice) -> None:
            if isinstance(choice, tuple):  # the area budget changed too
                self.apply_params(choice[1], choice[0])
            elif choice is not None:
                self.apply_filters(choice)

        self.push_screen(FiltersScreen(self.prep, self.filters, self.params), chosen)

    def apply_params(self, params, filters) -> None:
        """Re-run with new Params (the area budget): a new Session on the same prepared study
        (the budget does not change the grid), so its cache never mixes two budgets."""
        from hotspot.session import Session

        old = self.session
        try:
            self.session = Session(old.study, old.definition, params, prep=old.prep)
        except Exception as exc:  # noqa: BLE001  (said on screen; the last analysis stays)
            self.notify(f"{type(exc).__name__}: {exc}", title="Area budget not applied", severity="error",
                        timeout=10, markup=False)
            return
        self.params = self.session.params
        self.busy = "Re-running the analysis for the new area budget"
        self.run_analysis(filters)

    def action_toggle_night(self) -> None:
        if self.filters is None:
            return
        from dataclasses import replace

        self.apply_filters(replace(self.filters, night_time=not self.filters.night_time))

    def action_reset_filters(self) -> None:
        if self.filters is None:
            return
        from hotspot.analysis import Filters

        self.apply_filters(Filters())

    def action_help(self) -> None:
        from svtui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen())

    def jump_to(self, kind: str, key: str) -> None:
        """Open the area browser at an area, or the hotspot table at a hotspot."""
        self.pending = (kind, key)
        target = "hotspots" if kind == "locality" else "areas"
        if self.current_mode == target:
            self.screen.consume_pending()
        else:
            self.switch_mode(target)

    def brief(self, subject: tuple[str, str]) -> None:
        """Open the briefing for ("locality", id) or (level, code)."""
        self.brief_subject = subject
        self.pending = ("brief", "")
        if self.current_mode == "briefing":
            self.screen.consume_pending()
        else:
            self.switch_mode("briefing")

    # -- terminal going away -------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        """SIGHUP (the SSH connection or terminal went away) and SIGTERM stop the workbench.

        A plain signal handler runs on the main thread even while the event loop is busy; it
        arms a hard-exit timer first, so a process whose terminal is gone can never spin.
        """
        if self.is_headless or threading.current_thread() is not threading.main_thread():
            return
        import asyncio

        try:
            self._loop = asyncio.get_running_loop()
            for sig in (signal.SIGHUP, signal.SIGTERM):
                signal.signal(sig, self._on_signal)
        except (RuntimeError, ValueError, AttributeError):
            pass

    def _on_signal(self, signum, _frame) -> None:
        self._arm_hard_exit(signum)
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._hangup, signum)

    def _arm_hard_exit(self, sig) -> None:
        if self._hangup_timer is None:
            # If a clean exit cannot finish (the tty is gone, writes block), stop hard.
            self._hangup_timer = threading.Timer(3.0, os._exit, args=(128 + int(sig),))
            self._hangup_timer.daemon = True
            self._hangup_timer.start()

    def _hangup(self, sig=signal.SIGHUP) -> None:
        """The terminal went away (SIGHUP) or we were told to stop: exit, and make sure of it."""
        self._arm_hard_exit(sig)
        self.exit(return_code=128 + int(sig))


def run_app(spec, cache=None) -> int:
    from svtui.errors import check_terminal

    check_terminal()  # TERM=dumb: one line pointing at the commands, not a screen of escapes
    app = SvtuiApp(spec)
    app.source_cache = cache
    app.run()
    # The terminal is restored by now. Freeze what is left so the interpreter's final garbage
    # collection does not walk the whole study on the way out (quitting stays quick).
    import gc

    gc.freeze()
    return app.return_code or 0


__all__ = ["SvtuiApp", "run_app"]
