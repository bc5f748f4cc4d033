"""Import budget: each command imports only the heavy libraries its code path uses.

Measured as a set of modules, not a time: `python -X importtime` in a fresh process lists every
module imported, and the heavy ones a command does not need must not be among them (a stray
top-level `import geopandas` costs a new user about a second on every command).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"textual", "rich", "geopandas", "pandas", "scipy", "scipy.stats", "scipy.signal", "sklearn", "shapely",
         "esda", "libpysal", "matplotlib", "hotspot.analysis", "hotspot.session", "hotspot.gistar"}


def imported(args: list[str], cwd: Path = ROOT) -> tuple[set[str], subprocess.CompletedProcess]:
    """Every module the command imports (python -X importtime writes one line per module)."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "svtui", *args], capture_output=True, text=True,
                       cwd=cwd, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(ROOT)})
    mods = set()
    for line in r.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                mods.add(name)
    return mods, r


def test_the_measure_sees_imports():
    """The probe itself: a command that analyses imports the engine."""
    mods, r = imported(["trends", "--json"])
    assert r.returncode == 0, r.stderr[-500:]
    assert {"hotspot.session", "polars"} <= mods


def test_help_imports_nothing_heavy():
    mods, r = imported(["--help"])
    assert r.returncode == 0 and "usage: svtui" in r.stdout
    assert not (mods & (HEAVY | {"polars", "numpy", "pyproj"})), sorted(mods & (HEAVY | {"polars", "numpy", "pyproj"}))
    mods, r = imported(["brief", "--help"])
    assert r.returncode == 0 and "--all-csps" in r.stdout
    assert not (mods & HEAVY), sorted(mods & HEAVY)


STREET_HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
                 "Crime type,Last outcome category,Context")


def _police_uk_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "police-uk" / "2024-01"
    folder.mkdir(parents=True)
    rows = [
        f"{'a' * 64},2024-01,West Mercia Police,West Mercia Police,-2.22,52.19,On or near High Street,E01032236,"
        "Worcester 011A,Violence and sexual offences,Under investigation,",
        f"{'b' * 64},2024-01,West Mercia Police,West Mercia Police,-2.72,52.06,On or near Nightclub,E01014010,"
        "Herefordshire 012C,Robbery,Under investigation,",
        ",2024-01,West Mercia Police,West Mercia Police,,,No location,,,Anti-social behaviour,,",
    ]
    (folder / "2024-01-west-mercia-street.csv").write_text(STREET_HEADER + "\n" + "\n".join(rows) + "\n")
    return tmp_path / "police-uk"


def test_check_json_on_police_uk_imports_no_geometry_or_engine(tmp_path):
    mods, r = imported(["check", "--json", "--crimes", str(_police_uk_folder(tmp_path))], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    out = json.loads(r.stdout)
    assert sum(s["read"] for s in out["sources"]) == 3
    assert not (mods & HEAVY), sorted(mods & HEAVY)


def test_check_json_on_real_police_uk_imports_no_geometry_or_engine(real_dir, tmp_path):
    mods, r = imported(["check", "--json", "--crimes", str(real_dir / "police-uk" / "west-mercia")], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    assert sum(s["read"] for s in json.loads(r.stdout)["sources"]) == 32_423
    assert not (mods & HEAVY), sorted(mods & HEAVY)


@pytest.mark.parametrize("args", [["check", "--json"], ["brief", "--area", "Herefordshire"]])
def test_no_command_but_the_workbench_imports_textual(args, tmp_path):
    mods, r = imported(args)
    assert r.returncode == 0, r.stderr[-500:]
    assert "textual" not in mods


def test_hotspots_with_geojson_boundaries_imports_no_pandas(real_dir, tmp_path):
    """`svtui hotspots --areas x.geojson` reads the boundaries without geopandas/pandas (0.3-0.5 s
    of imports) and runs the engine without SciPy at all (its tails, components, nearest venue
    and neighbourhood sums are the engine's own: SciPy's array-API layer alone costs ~0.2 s)."""
    boundaries = real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"
    mods, r = imported(["hotspots", "--crimes", str(real_dir / "police-uk" / "west-mercia"),
                        "--areas", str(boundaries), "--json"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-500:]
    assert len(json.loads(r.stdout)["rows"]) > 100  # the localities, all of them
    assert "hotspot.analysis" in mods  # the probe sees the engine it ran
    unwanted = {"geopandas", "pandas", "pyogrio", "scipy", "sklearn", "textual", "rich", "matplotlib"}
    assert not (mods & unwanted), sorted(mods & unwanted)
