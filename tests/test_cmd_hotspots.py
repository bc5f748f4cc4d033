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
    assert "offences" in out and "significant" in out
    assert "Area budget: 1% of the study area" in out and "covering 1.00% of the study area" in out


def test_area_share_and_cap_options(capsys):
    assert main(["hotspots", "--area-share", "0.5", "--max-localities", "3"]) == 0
    out = capsys.readouterr().out
    assert "Area budget: 0.5% of the study area, at most 3" in out
    assert "3 hotspot localities" in out
    with pytest.raises(SystemExit, match="--area-share"):
        main(["hotspots", "--area-share", "150"])


def test_adopt_freezes_the_set_and_later_runs_follow_it(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert main(["localities", "adopt", "--workspace", str(ws), "--max-localities", "4"]) == 0
    path = ws / "adopted_localities.geojson"
    fc = json.loads(path.read_text())
    props = [f["properties"] for f in fc["features"]]
    assert len(props) == 4
    assert set(props[0]) >= {"id", "name", "adopted", "window_from", "window_to", "cell_size_m"}
    assert props[0]["id"].startswith("L-") and props[0]["cell_size_m"] == 100.0
    assert fc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    # refuses to replace without --force
    assert main(["localities", "adopt", "--workspace", str(ws)]) == EXIT_SOURCE
    capsys.readouterr()
    assert main(["hotspots", "--workspace", str(ws), "--max-localities", "6"]) == 0
    out = capsys.readouterr().out
    assert "4 adopted, 2 new candidate places" in out
    for p in props:
        assert p["id"] in out
    assert out.count("(new)") == 2


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
    back = gpd.read_file(out)  # replaced by the localities themselves
    assert len(back) > 0 and {"id", "name", "significant"} <= set(back.columns)


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


def test_adopt_by_default_takes_the_significant_localities_with_most_harm(tmp_path, sample_analysis):
    """A review group follows tens of places: by default the 20 significant localities with most
    harm, not every cell of the 1% budget; --all adopts them all."""
    import polars as pl

    ws = tmp_path / "ws"
    assert main(["localities", "adopt", "--workspace", str(ws)]) == 0
    ids = [f["properties"]["id"] for f in json.loads((ws / "adopted_localities.geojson").read_text())["features"]]
    want = (sample_analysis.localities.filter(pl.col("significant")).sort("harm", descending=True)
            .head(20)["locality_id"].to_list())
    assert ids == want and len(ids) == 20
    assert main(["localities", "adopt", "--workspace", str(ws), "--all", "--force"]) == 0
    every = json.loads((ws / "adopted_localities.geojson").read_text())["features"]
    assert len(every) == sample_analysis.localities.height
