"""The workbench's needs-assessment figures (issue 12) and locality honesty (issue 11), read off
the screen as a user sees them: rates with intervals and the population's source, tested changes,
missing months as gaps, offences that cannot be placed, context, repeat locations, curated risk
factors by their labels; the area budget on every screen; a vanished hotspot's briefing."""
from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import date

import polars as pl
import pytest

pytest.importorskip("textual")

from svtui import fmt  # noqa: E402
from svtui.app import SvtuiApp  # noqa: E402
from tests.tui_helpers import screen_text, settle, wait_for  # noqa: E402

TALL = (140, 170)  # the area browser's whole detail pane on one screen


def words(app) -> str:
    """The screen's text with runs of spaces and line breaks folded (wrapped lines rejoin)."""
    return " ".join(screen_text(app).split())


async def area_detail(pilot, app, level, code) -> str:
    await pilot.press("2")
    await settle(pilot)
    app.jump_to(level, code)
    await settle(pilot)
    await wait_for(pilot, lambda: "Computing the profile" not in screen_text(app))
    return words(app)


# -- rates, population, unplaced, context, repeats, risk labels ---------------------------------


def test_area_browser_states_rate_interval_population_context_repeats_and_labels(sample_session):
    res = sample_session.results()
    res.run()
    reps = res.repeats("ward")
    code = reps["code"][0]  # a ward with repeat locations
    prof = res.area_profile("ward", code)
    app = SvtuiApp(session=sample_session, animations=False)

    async def go():
        async with app.run_test(size=TALL) as pilot:
            await settle(pilot)
            text = await area_detail(pilot, app, "ward", code)
            # the rate with its 95% interval, the comparison with the force, and the population's source
            rate = fmt.rate(prof["rate_per_1000"], prof["rate_per_1000_lower"], prof["rate_per_1000_upper"],
                            per="1,000 residents")
            assert rate in text and re.search(r"\(\d+\.\d-\d+\.\d\)", rate)
            assert {"higher": "higher than the force", "lower": "lower than the force",
                    "similar": "similar to the force"}[prof["rate_vs_force"]] in text
            assert "population from population.csv" in text
            # offences it cannot place: count and share, and per month in the monthly view
            assert f"Unplaced {prof['unplaced_n']} offences ({fmt.pct(prof['unplaced_share'])}) of the window have no ward" in text
            assert "month offences cannot place" in text
            # context: the other crime of the same area and window, by its police.uk names
            ctx = res.context("ward").filter(pl.col("code") == code).row(0, named=True)
            assert f"anti-social behaviour {ctx['asb_n']} · public order {ctx['public_order_n']}" in text
            assert "Outcomes not in the data" in text  # the sample has no outcomes files
            # repeat locations: the ward's top snapped point with its count and share of the ward's
            top = reps.filter(pl.col("code") == code).row(0, named=True)
            assert top["location"] and top["location"] in text
            assert f"{top['n']} ({fmt.pct(top['share_of_area_n'])})" in text
            # risk factors by their human labels, never a raw indicator column name
            risk = res.risk("ward").filter((pl.col("code") == code) & (pl.col("kind") == "risk"))
            assert risk.height and all(label in text for label in risk["label"].to_list())
            raw = [c for c in sample_session.study.indicators.columns if "_" in c]
            assert raw and not [c for c in raw if c in text]
            # changes in the one format (svtui.fmt.change): the exact test's words, counts below a base of 10
            assert "12 months: " + fmt.change(prof["latest_12m"], prof["previous_12m"], prof["change_12m_p"]) in text

    asyncio.run(go())


# -- missing months are gaps ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gappy_session(sample_study):
    """The sample with June-August 2023 taken out of every source's rows: three missing months."""
    from hotspot.analysis import prepare
    from hotspot.session import Session

    inc = sample_study.incidents
    gone = [date(2023, 6, 1), date(2023, 7, 1), date(2023, 8, 1)]
    kept = inc.filter(~pl.col("month").is_in(gone))
    assert kept.height < inc.height
    study = dataclasses.replace(sample_study, incidents=kept)
    return Session(study, prep=prepare(study))


def test_missing_months_are_gaps_and_changes_across_them_not_known(gappy_session):
    app = SvtuiApp(session=gappy_session, animations=False)
    res = gappy_session.results()
    assert [f"{m:%Y-%m}" for m in res.missing_months()] == ["2023-06", "2023-07", "2023-08"]
    csp = res.profiles("csp")["code"][0]

    async def go():
        async with app.run_test(size=TALL) as pilot:
            await settle(pilot)
            overview = words(app)
            assert "Missing months (gaps in the trend, not zeros; no change across them): 2023-06, 2023-07, 2023-08" in overview
            assert "no significant change" not in overview.split("Community Safety Partnerships")[1].split("Trend:")[0]
            text = await area_detail(pilot, app, "csp", csp)
            assert "missing months (gaps, not zeros): 2023-06, 2023-07, 2023-08" in text
            assert "12 months: not known: months missing (2023-06, 2023-07, 2023-08)" in text
            # the monthly view says gap, never 0, for each missing month
            for m in ("Jun 2023", "Jul 2023", "Aug 2023"):
                assert f"{m} gap (no data) not known" in text
            # the sparkline has a blank (not the bottom bar) for each missing month
            line = next(ln for ln in screen_text(app).splitlines() if "Monthly  " in ln)
            spark = line.split("Monthly  ")[1].split("  trend")[0]
            assert re.search(r"[▁-█] {3}[▁-█]", spark)

    asyncio.run(go())


# -- the area budget and the share covered, on every screen -----------------------------------------


def test_status_line_shows_share_covered_on_every_screen(sample_session):
    app = SvtuiApp(session=sample_session, animations=False)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            share = app.analysis.locality_area_share()
            want = f"Hotspots {fmt.pct(share, 2 if share < 0.01 else 1)} of area"
            for key in "1234567":
                await pilot.press(key)
                await settle(pilot)
                assert want in screen_text(app).splitlines()[22], key

    asyncio.run(go())


def budget_engine() -> bool:
    from hotspot.analysis import Params

    return {"area_share", "max_localities"} <= {f.name for f in dataclasses.fields(Params)}


def test_filters_set_the_area_budget(sample_session):
    if not budget_engine():
        pytest.skip("this engine's Params has no area budget (h-loc not merged)")
    app = SvtuiApp(session=sample_session, animations=False)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("f")
            await pilot.pause()
            app.screen.query_one("#f-share").value = "0.2"
            app.screen.query_one("#f-max").value = "3"
            await pilot.press("a")
            await settle(pilot)
            assert app.params.area_share == 0.2 and app.params.max_localities == 3
            assert app.analysis.localities.height <= 3
            assert "(budget 0.2%, at most 3)" in screen_text(app).splitlines()[38]
            # a value the engine refuses is said in the dialog, which stays open
            await pilot.press("f")
            await pilot.pause()
            app.screen.query_one("#f-share").value = "250"
            await pilot.press("a")
            await pilot.pause()
            from svtui.screens.filters import FiltersScreen

            assert isinstance(app.screen, FiltersScreen)
            await wait_for(pilot, lambda: "Area budget not accepted" in screen_text(app))

    asyncio.run(go())


def test_hotspots_say_which_are_significant_and_when_months_are_too_few(sample_session):
    res = sample_session.results()
    if "significant" not in res.localities.columns:
        pytest.skip("this engine gives no locality significance (h-loc not merged)")
    from hotspot.analysis import Filters

    months = sample_session.prep.months
    short = Filters(start=months[-4])
    loc = sample_session.results(short).localities
    app = SvtuiApp(session=sample_session, animations=False)

    async def go():
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot)
            app.apply_filters(short)
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            text = words(app)
            first = loc.row(0, named=True)
            assert ("Significant yes: more offences than chance" if first["significant"]
                    else "Significant no: no more offences than chance") in text
            assert "too few months for a trend (has 4, needs 10)" in text
            assert "no clear trend" not in text and "Persistent" not in text

    asyncio.run(go())


# -- a filter change that removes the briefing's hotspot ------------------------------------------


def test_briefing_of_a_hotspot_the_filters_remove_says_so_and_comes_back(sample_session):
    from hotspot.analysis import Filters

    everything = set(sample_session.results().localities["locality_id"].to_list())
    months = sample_session.prep.months
    for f in (Filters(start=months[-2]), Filters(start=months[-1]), Filters(night_time=True, start=months[-3])):
        gone = sorted(everything - set(sample_session.results(f).localities["locality_id"].to_list()))
        if gone:
            break
    assert gone, "no filter removes a hotspot in the sample"
    app = SvtuiApp(session=sample_session, animations=False)
    errors: list[str] = []

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.brief(("locality", gone[0]))
            await settle(pilot)
            await wait_for(pilot, lambda: "Headline" in screen_text(app))
            name = app.screen.subject_label.removeprefix("hotspot ")
            orig = app.notify
            app.notify = lambda msg, *a, **k: (errors.append(str(msg)), orig(msg, *a, **k))[1]
            app.apply_filters(f)
            await settle(pilot)
            text = words(app)
            assert f"{name} is not a hotspot with these filters" in text
            assert f"id {gone[0]}" in text and "unknown hotspot" not in text
            assert app.brief_subject == ("locality", gone[0])  # the subject is kept
            await pilot.press("x")  # clear the filters: the same id, its briefing again
            await settle(pilot)
            await wait_for(pilot, lambda: "Headline" in screen_text(app))
            assert not [e for e in errors if "unknown hotspot" in e or "ValueError" in e]

    asyncio.run(go())
