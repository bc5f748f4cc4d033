"""The Review screen at 80x24, keyboard only: places with the three comparisons, the place's
changes in words, and the action log (add, mark done, step to the next place, evaluate)."""
from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("textual")

from geodata.actions import open_log  # noqa: E402
from svtui.app import SvtuiApp  # noqa: E402
from tests.tui_helpers import screen_text, settle  # noqa: E402


def test_review_screen_at_80x24(sample_study, sample_prep, tmp_path, monkeypatch):
    monkeypatch.setenv("SVTUI_WORKSPACE", str(tmp_path))
    app = SvtuiApp(sample_study.spec, study=sample_study, prep=sample_prep, animations=False)

    async def go():
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("7")
            await settle(pilot)
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
