"""Pilot-driven journeys through every workbench screen on the SYNTHETIC sample study.

Each test opens the app headless (`app.run_test(size=...)`), drives it with keys only, and
waits for the workers (study loading, analysis re-runs, engine calls) to finish.
"""
from __future__ import annotations

import asyncio
import signal

import polars as pl
import pytest

pytest.importorskip("textual")

from tui_helpers import screen_text, settle, wait_for  # noqa: E402

from svtui.app import SvtuiApp  # noqa: E402


@pytest.fixture()
def session(sample_session):
    return sample_session


def make_app(session, **kw) -> SvtuiApp:
    """The workbench on the shared sample Session (loaded and prepared once per test run)."""
    return SvtuiApp(session=session, animations=False, **kw)


def run(coro):
    return asyncio.run(coro)


# --------------------------------------------------------------------------------------------
# Loading


def test_first_screen_then_study_loads_in_a_worker():
    from geodata.study import SAMPLE_DIR, sample_spec

    if not (SAMPLE_DIR / "study.toml").exists():
        pytest.skip("sample study not generated")
    app = SvtuiApp(sample_spec(), animations=False)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            first = screen_text(app)
            assert "1 Overview" in first and "SYNTHETIC" in first
            assert app.analysis is None  # the first paint does not wait for the study
            await settle(pilot, rounds=400)
            text = screen_text(app)
            assert "serious incidents ·" in text
            assert "North Worcestershire" in text
            assert app.query_one("#load-progress").display is False

    run(go())


def _csp_cells(app) -> list[list[str]]:
    table = app.screen.query_one("#csp-table")
    return [[getattr(c, "plain", str(c)) for c in table.get_row(k)] for k in table.rows]


def _gate_the_analysis(monkeypatch, fail: bool = False):
    """Hold (or break) hotspot.analysis.analyse until the returned event is set."""
    import threading

    import hotspot.analysis as engine

    gate, real = threading.Event(), engine.analyse

    def gated(*a, **kw):
        gate.wait(120)
        if fail:
            raise RuntimeError("analysis broke [bold]here[/]")
        return real(*a, **kw)

    monkeypatch.setattr(engine, "analyse", gated)
    return gate


def test_the_csp_table_shows_before_the_hotspots_with_the_same_figures(monkeypatch):
    """The study loads in stages: the CSP table (its figures need no hotspots) is drawn while the
    analysis runs, with the hotspot counts to come; once it is in, every other cell is the same."""
    from geodata.study import SAMPLE_DIR, sample_spec

    if not (SAMPLE_DIR / "study.toml").exists():
        pytest.skip("sample study not generated")
    gate = _gate_the_analysis(monkeypatch)
    app = SvtuiApp(sample_spec(), animations=False)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            try:
                await wait_for(pilot, lambda: app.results is not None and len(_csp_cells(app)) == 5, rounds=3000)
                early = _csp_cells(app)
                text = screen_text(app)
                assert app.analysis is None and "finding the hotspots…" in text
                assert "20,929 incidents" in text  # the study's own line is in
                assert app.query_one("#load-progress").display is True  # still saying what loads
                assert all(row[-1] == "…" for row in early)
                assert "Hotspots: … while the hotspots are found." in text
            finally:
                gate.set()
            await settle(pilot, rounds=1500)
            late = _csp_cells(app)
            assert [r[:-1] for r in late] == [r[:-1] for r in early]
            assert all(r[-1].replace(",", "").isdigit() for r in late)
            text = screen_text(app)
            assert "serious incidents ·" in text and "…" not in text.split("Community Safety Partnerships")[1].split("Serious Violence Duty")[0]
            assert app.query_one("#load-progress").display is False

    run(go())


def test_an_analysis_that_fails_after_the_csp_table_says_why(monkeypatch):
    from geodata.study import SAMPLE_DIR, sample_spec

    if not (SAMPLE_DIR / "study.toml").exists():
        pytest.skip("sample study not generated")
    gate = _gate_the_analysis(monkeypatch, fail=True)
    app = SvtuiApp(sample_spec(), animations=False)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            try:
                await wait_for(pilot, lambda: app.results is not None and len(_csp_cells(app)) == 5, rounds=3000)
            finally:
                gate.set()
            await settle(pilot, rounds=1500)
            text = screen_text(app)
            assert "Could not load the study" in text
            assert "analysis broke [bold]here[/]" in text  # the engine's words, markup literal
            assert app.query_one("#load-progress").display is False
            assert "not run: the error is below" in text and "finding the hotspots" not in text
            assert all(row[-1] == "—" for row in _csp_cells(app))  # no count, and no 'still coming'
            await pilot.press("3")  # other screens stay usable (and empty)
            await pilot.pause()
            assert app.current_mode == "hotspots"

    run(go())


def test_a_study_that_cannot_load_says_why(tmp_path):
    from geodata.study import spec_from_options

    spec = spec_from_options(crimes=[str(tmp_path / "missing.csv")])
    app = SvtuiApp(spec, animations=False)

    async def go():
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(100):
                await app.workers.wait_for_complete()
                await pilot.pause()
                if app.load_error:
                    break
            assert app.load_error
            await pilot.pause()
            assert "Could not load the study" in screen_text(app)
            await pilot.press("3")  # other screens stay usable (and empty)
            await pilot.pause()
            assert app.current_mode == "hotspots"

    run(go())


# --------------------------------------------------------------------------------------------
# Overview


def test_overview_shows_csps_duty_measures_and_opens_a_csp(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            text = screen_text(app)
            for csp in ("Herefordshire", "North Worcestershire", "Shropshire", "South Worcestershire", "Telford and Wrekin"):
                assert csp in text
            assert "SYNTHETIC" in text
            assert "Homicides" in text and "Knife crime" in text
            assert any(ch in text for ch in "▁▂▃▄▅▆▇█")  # trend sparklines
            # the CSP table has focus: enter opens the CSP in the area browser
            table = app.screen.query_one("#csp-table")
            table.focus()
            await pilot.press("down", "enter")
            await settle(pilot)
            assert app.current_mode == "areas"
            assert app.screen.current is not None and app.screen.current[0] == "csp"
            await pilot.press("c")
            assert app.clipboard and "Serious violence" in app.clipboard

    run(go())


# --------------------------------------------------------------------------------------------
# Areas


def test_area_browser_walks_down_the_tree(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            scr = app.screen
            await pilot.press("down")  # first CSP
            await settle(pilot)
            level, code = scr.current
            assert level == "csp"
            assert "Serious violence" in scr.query_one("#ar-profile").content.plain
            await pilot.press("right", "right")  # open the CSP, step into its first district
            await settle(pilot)
            assert scr.current[0] == "district"
            await pilot.press("right", "right")  # down to a ward
            await settle(pilot)
            assert scr.current[0] == "ward"
            await pilot.press("left")  # back up
            await settle(pilot)
            assert scr.current[0] == "district"
            await pilot.press("m")  # the map, zoomed to the area
            assert app.focused.id == "ar-map"
            assert app.focused._focus_bounds is not None
            await pilot.press("t", "b")  # brief the chosen area
            await settle(pilot)
            assert app.current_mode == "briefing"
            assert app.brief_subject[0] == "district"

    run(go())


# --------------------------------------------------------------------------------------------
# Hotspots


def test_hotspot_table_sorts_finds_shows_detail_map_and_copies(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            scr = app.screen
            table = scr.query_one("#hs-table")
            loc = app.analysis.localities
            assert table.n_rows == loc.height > 0
            assert table.table.row_count <= table.page_size
            # detail of the first (highest-harm) hotspot
            detail = scr.query_one("#hs-detail").content.plain
            assert loc["name"][0][:30] in detail and "Where" in detail and "When" in detail
            # sort by the next column (name), then reverse
            await pilot.press("s")
            assert table.sort_key == "name"
            await pilot.press("S")
            assert table.sort_desc is False
            # find: keep rows whose text matches
            word = loc["csp_name"][0].split()[0]
            await pilot.press("slash", *list(word.lower()), "enter")
            assert 0 < table.n_rows <= loc.height
            assert all(word.lower() in str(r).lower() for r in table.view.select("name", "place", "csp_name", "district_name", "ward_name", "focus", "locality_id").iter_rows())
            # down moves the selection; the map follows
            await pilot.press("escape")
            await pilot.press("m")
            m = scr.query_one("#hs-map")
            assert app.focused is m and m.selected is not None
            before = m.view
            await pilot.press("plus")
            assert m.view.m_per_dot < before.m_per_dot
            await pilot.press("t", "c")
            assert app.clipboard.startswith("#\tHotspot")
            assert app.clipboard.count("\n") == table.n_rows + 1

    run(go())


def test_hotspot_export_writes_the_table_with_its_provenance(session, tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)
    app = make_app(session)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            await pilot.press("e")
            await settle(pilot)
            written = sorted(tmp_path.glob("svtui-hotspots-*.csv"))
            assert len(written) == 1
            assert pl.read_csv(written[0]).height == app.analysis.localities.height
            prov = json.loads(written[0].with_name(written[0].name + ".provenance.json").read_text())
            assert prov["study"]["name"] == session.study.name
            assert prov["window"] == [d.isoformat() for d in app.analysis.window]
            assert prov["inputs"]["combined"] == session.inputs()["combined"]

    run(go())


# --------------------------------------------------------------------------------------------
# Filters


def test_filters_rerun_the_analysis_in_a_worker(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            gen = app.generation
            before = app.analysis
            await pilot.press("f")
            await pilot.pause()
            from svtui.screens.filters import FiltersScreen

            assert isinstance(app.screen, FiltersScreen)
            app.screen.query_one("#f-night").value = True
            shown: list[str] = []
            app.watch(app, "busy", lambda v: shown.append(v), init=False)
            await pilot.press("a")  # apply
            await settle(pilot)
            assert any(shown)  # the status line showed the re-run while the worker worked
            assert app.filters.night_time is True
            assert app.generation > gen
            assert app.analysis is not before
            assert app.analysis.n_incidents < before.n_incidents
            assert "night-time only" in screen_text(app)
            # n toggles it back: the first analysis comes from the engine's cache
            await pilot.press("n")
            await settle(pilot)
            assert app.filters.night_time is False
            assert app.analysis is before
            # minimum harm and a date window, typed into the dialog
            await pilot.press("f")
            await pilot.pause()
            months = app.prep.months
            app.screen.query_one("#f-start").value = months[-12]
            app.screen.query_one("#f-harm").value = "100000"
            await pilot.press("a")
            await settle(pilot)
            assert app.filters.start == months[-12] and app.filters.min_harm == 100000
            assert (app.analysis.localities["harm"] >= 100000).all()
            await pilot.press("x")
            await settle(pilot)
            assert app.analysis is before

    run(go())


# --------------------------------------------------------------------------------------------
# Gaps, briefing, data


def test_gaps_screen_lists_the_gaps_then_the_reach(session):
    app = make_app(session)
    cov = session.results().coverage("csp")
    assert cov.gaps.height > 0 and cov.reach.height > 0  # the sample plants gaps

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            table = app.screen.query_one("#gp-table")
            assert table.n_rows == cov.gaps.height
            assert f"{cov.gaps.height:,} gaps" in screen_text(app)
            await pilot.press("r")
            await settle(pilot)
            assert app.screen.showing == "reach"
            assert table.n_rows == cov.reach.height
            await pilot.press("c")
            assert app.clipboard.count("\n") == cov.reach.height + 1
            await pilot.press("m")
            assert app.focused.id == "gp-map"

    run(go())


def test_briefing_previews_chooses_subject_copies_and_exports(session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(session)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("5")
            await settle(pilot)
            scr = app.screen
            assert app.brief_subject is not None
            await pilot.press("s")
            await pilot.pause()
            from svtui.screens.picker import SubjectPicker

            assert isinstance(app.screen, SubjectPicker)
            await pilot.press(*list("shropshire"))
            await pilot.press("enter")
            await settle(pilot)
            assert app.brief_subject[0] in ("csp", "district", "locality", "ward")
            assert "shropshire" in scr.brief_text.lower()
            assert "Shropshire" in screen_text(app)
            await pilot.press("c")
            assert app.clipboard == scr.brief_text
            await pilot.press("e")
            await settle(pilot)
            written = list(tmp_path.glob("svtui-briefing-*.md"))
            assert len(written) == 1 and written[0].read_text().strip() == scr.brief_text.strip()

    run(go())


def test_data_screen_ledger_quarantine_definition_weights(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("6")
            await settle(pilot)
            text = screen_text(app)
            assert "Quarantined" in text and "duplicate id" in text
            await pilot.press("u")
            await settle(pilot)
            q = app.screen.query_one("#quarantine-table")
            assert q.n_rows == app.study.ledger.quarantine_frame().height
            await pilot.press("slash", *list("duplicate"), "enter")
            assert 0 < q.n_rows < app.study.ledger.quarantine_frame().height
            await pilot.press("d")
            await settle(pilot)
            assert "What the definition sees" in screen_text(app)
            await pilot.press("c")
            assert "Categories" in app.clipboard
            await pilot.press("w")
            await settle(pilot)
            w = app.screen.query_one("#weights-table")
            assert w.n_rows > 0 and w.table.row_count <= w.page_size
            await pilot.press("l", "c")
            assert app.clipboard.startswith("Kind\t")

    run(go())


# --------------------------------------------------------------------------------------------
# Keyboard: palette, help, bindings


def test_palette_jumps_to_a_hotspot_and_an_area_by_name(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            loc = app.analysis.localities
            target = loc.row(2, named=True)
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*list(target["name"].split(",")[0]))
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "hotspots"
            assert app.screen.query_one("#hs-table").current_key == target["locality_id"]
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*list("Area: Telford and Wrekin"))
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "areas"
            assert app.screen.current[1].startswith(("E22", "E06", "E07", "E23"))
            # an action by name
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*list("Go to Data"))
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(pilot)
            assert app.current_mode == "data"

    run(go())


def test_help_lists_the_keys_and_closes(session):
    from svtui.screens.help import HelpScreen, sections

    app = make_app(session)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)

    run(go())
    titles = [t for t, _ in sections()]
    assert titles[0] == "Everywhere" and "3 Hotspots" in titles and "Map (when it has focus)" in titles
    everything = {k for _, rows in sections() for k, _ in rows}
    for key in ("f", "?", "q", "ctrl+p", "c", "e", "b", "s", "/", "[", "]", "+", "-", "0", "g", "m"):
        assert key in everything


def test_no_binding_relies_on_chords_terminals_swallow():
    from textual.binding import Binding

    from svtui.screens import areas, briefing, data, filters, gaps, help, hotspots, overview, picker
    from svtui.widgets import map as map_mod
    from svtui.widgets import table

    swallowed = {"ctrl+enter", "ctrl+shift+enter", "shift+enter", "ctrl+s", "ctrl+q", "ctrl+z", "ctrl+c", "ctrl+backslash", "ctrl+tab", "ctrl+shift+p"}
    classes = [SvtuiApp, overview.OverviewScreen, areas.AreasScreen, areas.AreaTree, hotspots.HotspotsScreen, gaps.GapsScreen, briefing.BriefingScreen, data.DataScreen, filters.FiltersScreen, help.HelpScreen, picker.SubjectPicker, map_mod.MapView, table.PagedTable]
    seen = 0
    for cls in classes:
        for b in cls.BINDINGS:
            b = b if isinstance(b, Binding) else Binding(*b)
            for key in b.key.split(","):
                seen += 1
                assert key.strip() not in swallowed, (cls.__name__, key)
    assert seen > 40


def test_map_keys_do_not_clash_with_the_screens_that_hold_a_map():
    from textual.binding import Binding

    from svtui.screens.areas import AreasScreen
    from svtui.screens.gaps import GapsScreen
    from svtui.screens.hotspots import HotspotsScreen
    from svtui.widgets.map import MapView

    def keys(cls):
        out = {}
        for b in cls.BINDINGS:
            b = b if isinstance(b, Binding) else Binding(*b)
            for k in b.key.split(","):
                out[k.strip()] = b.action
        return out

    map_keys = keys(MapView)
    for screen in (AreasScreen, GapsScreen, HotspotsScreen, SvtuiApp):
        clash = set(map_keys) & set(keys(screen))
        assert not clash, (screen.__name__, clash)


def test_palette_offers_the_actions_of_the_screen_in_use(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*list("Sort (table"))
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen.query_one("#hs-table").sort_key == "name"

    run(go())


def test_every_global_action_is_in_the_palette():
    from svtui.screens.palette import ACTIONS

    actions = {a for _n, _h, a in ACTIONS}
    for b in SvtuiApp.BINDINGS:
        act = b.action
        assert f"app.{act}" in actions, act
    for act in ("screen.copy", "screen.export", "screen.brief", "map.fit"):
        assert act in actions


# --------------------------------------------------------------------------------------------
# Safety, sizes, colour, hang-up


class _WithAnalysis:
    """A Results whose analysis is replaced (everything else asks the real one)."""

    def __init__(self, res, analysis) -> None:
        self._res, self.analysis = res, analysis

    def __getattr__(self, name):
        return getattr(self._res, name)


def test_hostile_location_strings_stay_literal(session):
    app = make_app(session)
    evil = "[bold red]Pwned[/] \x1b]52;c;ZXZpbA==\x07\x1b[2J Street"

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            a = app.analysis
            from dataclasses import replace

            loc = a.localities.with_columns(pl.lit(evil).alias("name"), pl.lit(evil).alias("focus"))
            app._set_results(_WithAnalysis(app.results, replace(a, localities=loc)))
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            text = screen_text(app)
            assert "[bold red]Pwned" in text  # shown as typed, not as markup
            assert "\x1b" not in text and "\x07" not in text
            detail = app.screen.query_one("#hs-detail").content.plain
            assert "[bold red]Pwned[/]" in detail and "\x1b" not in detail and "\x07" not in detail
            await pilot.press("c")
            assert "\x1b" not in app.clipboard and "\x07" not in app.clipboard

    run(go())


def test_80x24_stacks_panes_and_m_switches_to_the_map(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            scr = app.screen
            assert scr.has_class("-narrow")
            assert scr.query_one("#hs-map").display is False or scr.query_one("#hs-map").size.height == 0
            assert scr.query_one("#hs-detail-box").size.height > 0
            await pilot.press("m")
            await pilot.pause()
            m = scr.query_one("#hs-map")
            assert m.size.height > 3 and m.size.width == 80
            await pilot.press("v")
            await pilot.pause()
            assert scr.query_one("#hs-detail-box").size.height > 0
            await pilot.resize_terminal(160, 48)
            await pilot.pause()
            assert scr.has_class("-wide")
            assert scr.query_one("#hs-map").size.height > 3 and scr.query_one("#hs-detail-box").size.height > 3

    run(go())


def test_no_color_is_honoured(session, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(session)

    async def go():
        async with app.run_test(size=(100, 30)) as pilot:
            assert app.no_color
            await settle(pilot)
            await pilot.press("3", "m")
            await settle(pilot)
            legend = "".join(s.text for s in app.focused.render_line(app.focused.size.height - 1))
            assert "░" in legend or "▓" in legend

    run(go())


def test_hangup_exits_instead_of_spinning(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app._hangup(signal.SIGHUP)
            await pilot.pause()
        assert app.return_code == 128 + signal.SIGHUP
        if app._hangup_timer is not None:
            app._hangup_timer.cancel()

    run(go())


def test_paged_table_holds_one_page_of_a_big_frame():
    from textual.app import App, ComposeResult

    from svtui.widgets.table import Column, PagedTable

    frame = pl.DataFrame({"id": [f"r{i}" for i in range(5000)], "v": list(range(5000))})

    class TableApp(App):
        def compose(self) -> ComposeResult:
            yield PagedTable(page_size=200, search_columns=("id",))

        def on_mount(self) -> None:
            t = self.query_one(PagedTable)
            t.set_frame(frame, [Column("id", "Id"), Column("v", "Value")], key_column="id", sort="v")
            t.focus()

    app = TableApp()

    async def go():
        async with app.run_test(size=(60, 20)) as pilot:
            await pilot.pause()
            t = app.query_one(PagedTable)
            assert t.n_rows == 5000 and t.table.row_count == 200
            assert t.current_key == "r4999"  # sorted by value, descending
            await pilot.press("right_square_bracket")
            assert t.page_no == 1 and t.table.row_count == 200
            assert t.select_key("r7")
            assert t.page_no == 24 and t.current_key == "r7"
            await pilot.press("slash", "r", "4", "9", "9", "9", "enter")
            assert t.n_rows == 1

    run(go())


def test_the_mouse_works_but_is_optional(session):
    app = make_app(session)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            # " 1 Overview " is 12 cells; " 2 Areas " follows it on the screen bar
            await pilot.click("#navbar", offset=(15, 0))
            await settle(pilot)
            assert app.current_mode == "areas"
            await pilot.click("#navbar", offset=(24, 0))
            await settle(pilot)
            assert app.current_mode == "hotspots"
            m = app.screen.query_one("#hs-map")
            before = m.view
            await pilot.mouse_down("#hs-map")  # scroll and click are optional extras
            await pilot.mouse_up("#hs-map")
            await pilot.pause()
            assert m.view is not None and before is not None

    run(go())
