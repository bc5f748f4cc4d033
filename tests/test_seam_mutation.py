"""The seam must not hide a broken engine: make one engine entry point raise and every face
(workbench, CLI, briefing, export) has to say so clearly, never show a placeholder or a stale table.

Each entry point is an engine function that hotspot.session.Results calls (the one door every
face goes through); the patch raises a RuntimeError carrying a marker the faces must pass on
(escaped). Every test opens a fresh Session (sharing the prepared sample), so no cached result
can stand in for the broken call.
"""
from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("textual")

from tui_helpers import screen_text, settle  # noqa: E402

from hotspot.session import Session  # noqa: E402

MARKER = "engine broke [bold]here[/]"  # markup in an engine message must stay literal on screen
# entry -> (module, function) the Results call
TARGETS = {
    "coverage": ("hotspot.coverage", "coverage"),
    "profiles": ("hotspot.area_profiles", "area_profiles"),
    "run": ("hotspot.analysis", "analyse"),
    "measures": ("hotspot.measures", "duty_measures"),
    "risk": ("hotspot.risk", "risk_factors"),
}
ENTRIES = tuple(TARGETS)


def _break(monkeypatch, entry: str) -> None:
    import importlib

    def broken(*a, **kw):
        raise RuntimeError(MARKER)

    module, name = TARGETS[entry]
    monkeypatch.setattr(importlib.import_module(module), name, broken)


@pytest.fixture()
def fresh(sample_study, sample_prep):
    """A new Session on the prepared sample: an empty cache, so every call reaches the engine."""
    return Session(sample_study, prep=sample_prep)


# What each face is asked for, per entry point: the workbench screen key and what it must say,
# and the CLI command that needs that entry point.
WORKBENCH = {
    "coverage": (("4",), "Coverage could not be computed"),
    "profiles": (("1",), "CSP profiles could not be computed"),
    "run": (("1",), "Could not load the study"),
    "measures": (("1",), "Duty measures could not be computed"),
    "risk": (("2", "down"), "The area's profile could not be computed"),
}
# (`trends` no longer needs the hotspot analysis: area profiles depend on the filters alone, so
# the analysis is broken under `hotspots`, the command that shows it.)
COMMAND = {"coverage": ["gaps"], "profiles": ["trends"], "run": ["hotspots"],
           "measures": ["trends", "--table", "measures"], "risk": ["trends", "--table", "risk"]}


@pytest.mark.parametrize("entry", ENTRIES)
def test_workbench_says_the_engine_failed(fresh, monkeypatch, entry):
    from svtui.app import SvtuiApp

    _break(monkeypatch, entry)
    keys, said = WORKBENCH[entry]
    app = SvtuiApp(session=fresh, animations=False)

    async def go():
        async with app.run_test(size=(140, 44)) as pilot:
            await settle(pilot)
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            text = screen_text(app)
            assert said in text, text
            assert MARKER in text  # the exception's own words, markup shown as typed
            assert "not available" not in text

    asyncio.run(go())


@pytest.mark.parametrize("entry", ENTRIES)
def test_cli_exits_non_zero_with_one_line(fresh, monkeypatch, capsys, entry):
    from svtui.cli import main

    _break(monkeypatch, entry)
    code = main(COMMAND[entry], session=fresh)
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and MARKER in err, err


@pytest.mark.parametrize("entry", ENTRIES)
def test_briefing_says_the_engine_failed(fresh, monkeypatch, capsys, entry):
    from svtui.cli import main

    _break(monkeypatch, entry)
    code = main(["brief", "--area", "Shropshire"], session=fresh)
    out = capsys.readouterr()
    assert code != 0
    assert MARKER in out.err and len(out.err.strip().splitlines()) == 1, out.err
    assert "Shropshire" not in out.out  # no half-written briefing


@pytest.mark.parametrize("entry", ENTRIES)
def test_export_writes_nothing_and_says_why(fresh, monkeypatch, capsys, tmp_path, entry):
    from svtui.cli import main

    _break(monkeypatch, entry)
    out = tmp_path / "table.csv"
    code = main([*COMMAND[entry], "--out", str(out)], session=fresh)
    err = capsys.readouterr().err.strip()
    assert code != 0 and MARKER in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no file, no sidecar, no temporary left behind


def test_the_faces_pass_when_the_engine_works(fresh, capsys, tmp_path):
    """The control: unpatched, the same commands succeed (so the failures above are the patch's)."""
    from svtui.cli import main

    assert main(["gaps"], session=fresh) == 0
    assert main(["trends", "--out", str(tmp_path / "t.csv")], session=fresh) == 0
    assert (tmp_path / "t.csv").exists()
    capsys.readouterr()
