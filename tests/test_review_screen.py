"""The Review screen at 80x24, keyboard only: places with the three comparisons, the place's
changes in words, and the action log (add, mark done, step to the next place, evaluate)."""
from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("textual")

from geodata.actions import open_log  # noqa: E402
from svtui.app import SvtuiApp  # noqa: E402
from tests.tui_helpers import screen_text, settle  # noqa: E402


def review_app(study, prep, workspace, monkeypatch) -> SvtuiApp:
    """The workbench on the sample, its workspace (action log, minutes) in `workspace`."""
    monkeypatch.setenv("SVTUI_WORKSPACE", str(workspace))
    return SvtuiApp(study.spec, study=study, prep=prep, animations=False)


async def open_review(pilot) -> None:
    """Wait for the first screen, go to the review screen (7) and wait for it."""
    await settle(pilot)
    await pilot.press("7")
    await settle(pilot)


def test_review_screen_at_80x24(sample_study, sample_prep, tmp_path, monkeypatch):
    app = review_app(sample_study, sample_prep, tmp_path, monkeypatch)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await open_review(pilot)
            text = screen_text(app)
            assert "Review Mar 2024" in text
            assert "Worcester city centre night" in text and "Kidderminster town centre" in text
            assert "↓*" in text  # Kidderminster's significant fall on last year
            # step to Kidderminster town centre (the 10th place: 8 adopted... here none adopted)
            table = app.screen.query_one("#rv-places")
            names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert names[0].startswith("Worcester city centre")  # no adopted localities in this workspace
            await pilot.press("n")
            await pilot.pause()
            assert table.cursor_row == 1
            text = screen_text(app)
            assert "significant fall" in text  # the place's changes in words
            assert "Dispersal order" in text  # its recorded action
            assert "other crime: ASB not recorded" in text and "harm" in text
            # add an action with the keyboard only
            await pilot.press("a")
            await pilot.pause()
            for value in ("Street marshals", "Community safety"):
                await pilot.press(*value)
                await pilot.press("enter")
            await pilot.press("ctrl+s")
            await settle(pilot)
            with open_log(tmp_path / "actions.sqlite") as log:
                cur = log.current()
            new = cur.filter(cur["what"] == "Street marshals").row(0, named=True)
            assert new["place_id"] == "kidderminster-town-centre" and new["owner"] == "Community safety"
            assert new["status"] == "planned"
            # mark it done from the actions table, then evaluate the recorded action
            await pilot.press("tab", "down", "d")
            await settle(pilot)
            with open_log(tmp_path / "actions.sqlite") as log:
                assert log.get(new["action_id"])["status"] == "done"
                assert log.history(new["action_id"])["status"].to_list() == ["planned", "done"]
            await pilot.press("up", "v")
            await settle(pilot)
            words = " ".join(screen_text(app).split())
            assert "Verdict: crime fell in the place but moved to the streets around it" in words
            # the status line and footer stay on the bottom rows at 80x24
            lines = screen_text(app).split("\n")
            assert len(lines) == 24 and "Filters:" in lines[22] and "Next place" in lines[23]
            await pilot.press("m")  # the meeting's minutes, into the workspace
            await pilot.pause()
            minutes = (tmp_path / "minutes-2024-03.md").read_text()
            assert "## Evaluations of completed actions" in minutes and "Street marshals" in minutes

    asyncio.run(go())


def test_review_action_edit_keeps_its_row_at_80x24(sample_study, sample_prep, tmp_path, monkeypatch):
    """Edit with the keyboard only, then mark done: the edited action stays selected after the
    save re-reads the log, so `d` marks that action and never another place's or row's."""
    app = review_app(sample_study, sample_prep, tmp_path, monkeypatch)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await open_review(pilot)
            await pilot.press("n", "a")
            await pilot.pause()
            await pilot.press(*"Street marshals", "enter", *"Community safety", "enter", "enter", *"2024-06-30", "ctrl+s")
            await settle(pilot)
            with open_log(tmp_path / "actions.sqlite") as log:
                new = log.current().filter(lambda_what("Street marshals")).row(0, named=True)
            assert new["review_by"] == "2024-06-30" and new["owner"] == "Community safety"
            # to the actions, down to the new one, edit: the form is that action's
            await pilot.press("tab", "down", "e")
            await pilot.pause()
            assert f"Edit action {new['action_id']}" in screen_text(app)
            await pilot.press("enter", "enter", "enter", "enter", "ctrl+u", *"running", "enter", *"Fri and Sat", "ctrl+s")
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            with open_log(tmp_path / "actions.sqlite") as log:
                hist = log.history(new["action_id"])
                others = log.current().filter(lambda_what("Street marshals", negate=True))
            assert hist["status"].to_list() == ["planned", "running", "done"]
            assert hist["notes"].to_list()[-1] == "Fri and Sat"
            # no other action was touched
            assert all(len(log_versions(tmp_path, a)) == 1 for a in others["action_id"].to_list())

    asyncio.run(go())


def lambda_what(what, negate=False):
    import polars as pl

    e = pl.col("what") == what
    return ~e if negate else e


def log_versions(ws, aid):
    with open_log(ws / "actions.sqlite") as log:
        return log.history(aid)["version"].to_list()
