"""Issue 7: the offline promise. svtui runs on secure servers where nothing may leave the machine.

With every socket call blocked and recorded (connect, connect_ex, sendto, getaddrinfo,
gethostbyname, create_connection) and browsers disabled, the whole analysis (load, prepare,
analyse, backtest) on the sample study and on the real data, every CLI command, and the
workbench's main journey run without a single network attempt. PROJ's own downloader (which
works below Python, through libcurl) must be off too.
"""
from __future__ import annotations

import asyncio
import re
import socket
from datetime import date
from pathlib import Path

import pytest
from tui_helpers import settle

REPO = Path(__file__).resolve().parents[1]


class NetworkAttempt(OSError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Block and record every way Python code reaches the network (or a browser)."""
    attempts: list[str] = []

    def guard(name):
        def blocked(*args, **kwargs):
            attempts.append(f"{name}{args[1:] if name.startswith('socket.') else args}")
            raise NetworkAttempt(f"network call blocked in test: {name}")
        return blocked

    monkeypatch.setattr(socket.socket, "connect", guard("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", guard("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", guard("socket.sendto"))
    monkeypatch.setattr(socket, "getaddrinfo", guard("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", guard("gethostbyname"))
    monkeypatch.setattr(socket, "create_connection", guard("create_connection"))
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", guard("webbrowser.open"))
    monkeypatch.setattr(webbrowser, "open_new_tab", guard("webbrowser.open_new_tab"))
    import pyproj.network

    assert not pyproj.network.is_network_enabled(), "PROJ would download grids: set PROJ_NETWORK=OFF"
    yield attempts
    assert not pyproj.network.is_network_enabled()


def test_the_guard_catches_a_connection(no_network):
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)
    with pytest.raises(OSError):
        s = socket.socket()
        try:
            s.connect(("192.0.2.1", 80))
        finally:
            s.close()
    assert len(no_network) == 2
    no_network.clear()


def _analysis(study):
    from hotspot.analysis import Filters, analyse, prepare
    from hotspot.backtest import backtest

    prep = prepare(study)
    a = analyse(prep)
    months = prep.months
    assert len(months) >= 4
    half = len(months) // 2
    table = backtest(prep, (months[0], months[half - 1]), (months[half], months[-1]), (0.01,))
    a2 = analyse(prep, Filters(start=months[-3]))
    return a, a2, table


def test_sample_study_whole_analysis_offline(no_network):
    from geodata.study import load_study, sample_spec

    study = load_study(sample_spec())
    a, a2, table = _analysis(study)
    assert a.localities.height > 0 and table.height > 0
    assert no_network == []


def test_real_data_whole_analysis_offline(no_network, real_dir):
    from geodata.study import load_study, spec_from_options

    spec = spec_from_options(
        crimes=[str(real_dir / "police-uk" / "west-mercia")],
        areas=str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
        lookups=[str(real_dir / "lookups" / "lad24_csp24_pfa24_EW.csv")],
    )
    study = load_study(spec)
    a, _, table = _analysis(study)
    assert a.n_incidents > 0 and table.height > 0
    assert no_network == []


@pytest.mark.parametrize("command", [
    ["check"], ["check", "--json"], ["hotspots"], ["brief"], ["trends"], ["gaps"],
    ["backtest", "--train", "2021-04:2022-03", "--test", "2022-04:2023-03"],
])
def test_cli_commands_offline(no_network, command, capsys, tmp_path, monkeypatch):
    from svtui.cli import COMMANDS, build_parser, main

    build_parser()
    if command[0] not in COMMANDS:
        pytest.xfail(f"svtui {command[0]} is not written yet")
    monkeypatch.chdir(tmp_path)
    rc = main(command)
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert no_network == [], no_network


def test_workbench_main_journey_offline(no_network, sample_study, sample_prep, monkeypatch, tmp_path):
    """Load, every screen, a filter change, copy and export, all with the network blocked."""
    from textual.app import App

    from svtui.app import SvtuiApp

    opened: list[str] = []
    monkeypatch.setattr(App, "open_url", lambda self, url, **kw: opened.append(url))
    monkeypatch.chdir(tmp_path)
    app = SvtuiApp(sample_study.spec, study=sample_study, prep=sample_prep, animations=False)

    async def go():
        async with app.run_test(size=(140, 45)) as pilot:
            await settle(pilot, 200)
            for mode in app.MODES:
                await app.switch_mode(mode)
                await settle(pilot, 200)
            await app.switch_mode("hotspots")
            await settle(pilot, 200)
            await pilot.press("n")  # night-time filter: re-runs the analysis in a worker
            await settle(pilot, 200)
            await pilot.press("c")  # copy (OSC 52 goes to the terminal, not the network)
            await settle(pilot, 200)
            await app.switch_mode("briefing")
            await settle(pilot, 200)
            await pilot.press("c")
            await settle(pilot, 200)

    asyncio.run(go())
    assert no_network == [], no_network
    assert opened == [], opened


NETWORK_MODULES = re.compile(
    r"^\s*(?:import|from)\s+(requests|httpx|aiohttp|urllib3|urllib\.request|http\.client|ftplib|smtplib"
    r"|socket|webbrowser)\b", re.M)


def test_no_package_module_imports_a_network_library():
    found = []
    for pkg in ("geodata", "hotspot", "svtui", "sample_data"):
        for f in (REPO / pkg).rglob("*.py"):
            for m in NETWORK_MODULES.finditer(f.read_text(encoding="utf-8")):
                found.append(f"{f.relative_to(REPO)}: {m.group(0).strip()}")
    assert found == []


# ------------------------------------------------------------------ issue 17: PROJ_NETWORK=ON


_PROJ_SCRIPT = r"""
import sys
sys.path[:0] = [{repo!r}, {tests!r}]
from pathlib import Path
import geopandas as gpd
from hostile_corpus import tiny_study
from geodata.study import load_study, spec_from_options

root = Path({root!r})
tiny = tiny_study(root / "tiny", n=6, months=("2024-01",))
base = gpd.read_file(tiny.areas)
for epsg in (4258, 3035):
    out = root / f"areas_{{epsg}}.gpkg"
    base.to_crs(epsg).to_file(out, driver="GPKG")
    study = load_study(spec_from_options(crimes=[str(tiny.crimes)], areas=str(out)))
    print(epsg, len(study.areas.lsoa), study.incidents.height)
import pyproj
print("network", pyproj.network.is_network_enabled())
"""


def test_proj_network_on_in_the_environment_changes_nothing(tmp_path):
    """PROJ_NETWORK=ON with no network made PROJ choose a grid it then failed to download
    (inf coordinates), so valid ETRS89 (EPSG:4258) and LAEA Europe (EPSG:3035) boundaries
    were rejected. svtui switches PROJ networking off itself."""
    import os
    import subprocess
    import sys

    script = _PROJ_SCRIPT.format(repo=str(REPO), tests=str(REPO / "tests"), root=str(tmp_path))
    env = {**os.environ, "PROJ_NETWORK": "ON"}
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = p.stdout.split("\n")
    assert "4258 4 6" in lines and "3035 4 6" in lines, p.stdout
    assert "network False" in lines
