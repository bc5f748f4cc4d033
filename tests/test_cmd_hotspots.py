"""`svtui hotspots` and `svtui brief` on the command line (the embedded sample study)."""
from __future__ import annotations

import json

import geopandas as gpd
import pytest

from svtui.cli import EXIT_SOURCE, main
from svtui.export import read_provenance


@pytest.fixture(scope="module", autouse=True)
def _sample_exists(sample_study):
    """Skip when the sample study has not been generated (the fixture skips)."""


def test_hotspots_prints_table_and_area_share(capsys, sample_analysis):
    assert main(["hotspots"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out
    assert "of the study area" in out
    n = sample_analysis.localities.height
    assert f"{n} hotspot localities" in out or n == 1
    for lid in sample_analysis.localities["locality_id"].to_list():
        assert lid in out
    assert "offences" in out and "CSP harm" in out


@pytest.mark.parametrize("ext", ["gpkg", "geojson", "csv", "parquet"])
def test_hotspots_out_writes_by_extension(tmp_path, capsys, ext, sample_analysis):
    out = tmp_path / f"hotspots.{ext}"
    assert main(["hotspots", "--out", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    prov = read_provenance(out)
    assert prov["kind"] == "hotspots" and prov["synthetic"] is True
    if ext in ("gpkg", "geojson"):
        back = gpd.read_file(out)
        assert len(back) == sample_analysis.localities.height
        assert back.crs.to_epsg() == (27700 if ext == "gpkg" else 4326)


def test_hotspots_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "h.gpkg"
    out.write_bytes(b"keep me")
    assert main(["hotspots", "--out", str(out)]) == EXIT_SOURCE
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and "Traceback" not in err
    assert out.read_bytes() == b"keep me"
    assert main(["hotspots", "--out", str(out), "--force"]) == 0
    assert len(gpd.read_file(out)) >= 0


def test_hotspots_window_and_bad_input(tmp_path, capsys, sample_prep):
    months = sample_prep.months
    start, end = months[-12], months[-1]
    out = tmp_path / "h.csv"
    assert main(["hotspots", "--from", f"{start:%Y-%m}", "--to", f"{end:%Y-%m}", "--out", str(out)]) == 0
    prov = read_provenance(out)
    assert prov["filters"]["start"] == str(start) and prov["filters"]["end"] == str(end)
    assert prov["window"][0] >= str(start)
    with pytest.raises(SystemExit, match="YYYY-MM"):
        main(["hotspots", "--from", "March 2024"])
    assert main(["hotspots", "--out", str(tmp_path / "h.xlsx")]) != 0
    assert "unknown export format" in capsys.readouterr().err


def test_brief_cli_area_and_hotspot(tmp_path, capsys, sample_analysis, sample_prep):
    code = sample_analysis.localities["csp_code"][0]
    assert main(["brief", "--area", code, "--format", "txt"]) == 0
    out = capsys.readouterr().out
    for title in ("Headline", "Where", "What", "Who", "When", "Risk factors", "Interventions and gaps",
                  "Suggested focus", "Data notes"):
        assert f"\n{title}\n" in out
    lid = sample_analysis.localities["locality_id"][0]
    md = tmp_path / "brief.md"
    assert main(["brief", "--hotspot", lid, "--out", str(md), "--disclosure", "public"]) == 0
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Hotspot briefing") and "**Disclosure control:** public" in text
    assert main(["brief", "--hotspot", lid, "--out", str(md)]) == EXIT_SOURCE  # exists, no --force
    assert main(["brief", "--hotspot", lid, "--out", str(md), "--force"]) == 0
    capsys.readouterr()
    assert main(["brief", "--area", code, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in d["sections"]][0] == "headline" and d["synthetic"] is True


def test_brief_cli_unknown_area_is_one_line(capsys):
    assert main(["brief", "--area", "Atlantis"]) == EXIT_SOURCE
    err = capsys.readouterr().err
    assert err.startswith("svtui: unknown area 'Atlantis'") and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["brief", "--area", "x", "--hotspot", "y"])  # argparse: not both
