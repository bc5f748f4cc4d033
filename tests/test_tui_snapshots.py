"""SVG snapshots of the key screens at 80x24 and 160x48 on the SYNTHETIC sample study.

Baselines live in tests/__snapshots__/test_tui_snapshots/. After a deliberate change to a
screen, look at the report pytest writes, then regenerate with:

    python -m pytest tests/test_tui_snapshots.py --snapshot-update

Animations are off and no text input has focus, so no cursor blinks into the picture.
"""
from __future__ import annotations

import pytest

pytest.importorskip("pytest_textual_snapshot")

from tui_helpers import settle  # noqa: E402

from svtui.app import SvtuiApp  # noqa: E402


@pytest.fixture(scope="module")
def app_factory(sample_session):
    def make() -> SvtuiApp:
        return SvtuiApp(session=sample_session, animations=False)

    return make


def settled(*keys: str):
    """A run_before that waits for every worker, presses `keys`, and waits again."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_overview_80x24(snap_compare, app_factory):
    assert snap_compare(app_factory(), terminal_size=(80, 24), run_before=settled())


def test_overview_160x48(snap_compare, app_factory):
    assert snap_compare(app_factory(), terminal_size=(160, 48), run_before=settled())


def test_hotspots_80x24(snap_compare, app_factory):
    assert snap_compare(app_factory(), terminal_size=(80, 24), run_before=settled("3"))


def test_hotspots_with_map_160x48(snap_compare, app_factory):
    assert snap_compare(app_factory(), terminal_size=(160, 48), run_before=settled("3", "down"))


def test_area_browser_160x48(snap_compare, app_factory):
    assert snap_compare(app_factory(), terminal_size=(160, 48), run_before=settled("2", "down", "down"))


def test_data_definition_80x24(snap_compare, app_factory):
    assert snap_compare(app_factory(), terminal_size=(80, 24), run_before=settled("6", "d"))
