"""Exports (svtui.export): every kind in every format reads back (geopandas), with the right CRS,
row count and provenance; CSVs are safe in a spreadsheet; nothing is overwritten without force."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import polars as pl
import pyogrio
import pytest
import shapely

from geodata.atomic import WouldOverwrite
from svtui import export as ex

EXTS = ("csv", "parquet", "geojson", "gpkg")


def _read(path: Path):
    """Read an export back the way an analyst (or QGIS via GDAL) would."""
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".parquet":
        try:
            return gpd.read_parquet(path)
        except ValueError:  # a table without geometry is plain Parquet
            return pd.read_parquet(path)
    return gpd.read_file(path)


@pytest.fixture(scope="module")
def res(request, sample_study):
    """The sample's Results (the shared session-scoped Session when conftest has one)."""
    try:
        session = request.getfixturevalue("sample_session")
    except pytest.FixtureLookupError:
        from hotspot.session import Session

        session = Session(sample_study)
    return session.results()


@pytest.fixture(scope="module")
def frames(res):
    return {k: ex.frame_for(k, res) for k in ex.KINDS}


@pytest.mark.parametrize("ext", EXTS)
@pytest.mark.parametrize("kind", ex.KINDS)
def test_round_trip(tmp_path, res, frames, kind, ext):
    df = frames[kind]
    path = ex.export(kind, tmp_path / f"{kind}.{ext}", res, frame=df)
    assert path.exists() and not list(tmp_path.glob(".*.tmp*")), "no temporary file left behind"
    back = _read(path)
    assert len(back) == df.height
    geo = ex.GEOMETRY in df.columns
    if ext == "geojson" and geo:
        assert back.crs.to_epsg() == 4326
        b = back.total_bounds  # lon/lat inside Great Britain
        assert -9 < b[0] < b[2] < 3 and 49 < b[1] < b[3] < 61
    elif ext in ("gpkg", "parquet") and geo:
        assert back.crs.to_epsg() == 27700
        assert back.geometry.notna().all() if kind == "hotspots" else True
        if kind == "hotspots":
            orig = shapely.from_wkb(df[ex.GEOMETRY].to_list())
            assert back.geometry.area.sum() == pytest.approx(sum(g.area for g in orig), rel=1e-6)
    if ext == "gpkg" and geo:
        assert pyogrio.read_info(path)["crs"] == "EPSG:27700"  # what QGIS reads
    if ext == "csv" and geo:
        assert "geometry_wkt" in back.columns
        assert shapely.from_wkt(back["geometry_wkt"].dropna().iloc[0]).is_valid
    prov = ex.read_provenance(path)
    assert prov["kind"] == kind and prov["rows"] == df.height and prov["format"] == ext
    assert prov["study"]["name"] == res.study.name
    assert prov["synthetic"] is True and "SYNTHETIC" in prov["warning"]
    assert prov["definition"]["name"] == res.prep.definition.name and prov["definition"]["version"]
    assert prov["window"] == [str(res.window[0]), str(res.window[1])]
    assert "start" in prov["filters"] and "permutations" in prov["parameters"]
    assert prov["svtui_version"]
    files = prov["inputs"]["files"]
    assert len(prov["inputs"]["combined"]) == 64 and {Path(f["path"]).name for f in files} >= {"crimes.csv", "areas.geojson"}


def test_hotspots_keep_profile_fields_and_flatten_lists(tmp_path, res):
    loc = res.localities
    for ext in ("csv", "gpkg"):
        p = ex.export("hotspots", tmp_path / f"h.{ext}", res)
        back = _read(p)
        for col in ("locality_id", "name", "n_incidents", "harm", "youth_share", "peak_weekday", "trend",
                    "csp_name", "share_of_area_harm", "top_venues"):
            assert col in back.columns, (ext, col)
        first = loc.row(0, named=True)
        row = back[back["locality_id"] == first["locality_id"]].iloc[0]
        assert row["n_incidents"] == first["n_incidents"]
        if first["top_venues"]:
            assert row["top_venues"] == "; ".join(first["top_venues"])
    p = ex.export("hotspots", tmp_path / "h.parquet", res)
    back = pl.read_parquet(p)
    assert back.schema["top_venues"] == pl.List(pl.Utf8)  # Parquet keeps lists


def test_geojson_is_a_plain_rfc7946_feature_collection(tmp_path, res):
    p = ex.export("hotspots", tmp_path / "h.geojson", res)
    doc = json.loads(p.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert doc[ex.GEOJSON_MEMBER]["crs"] == "EPSG:4326"
    f = doc["features"][0]
    assert f["type"] == "Feature" and f["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert "geometry_wkb" not in f["properties"]


def test_csv_cells_cannot_become_formulas(tmp_path):
    wkb = shapely.to_wkb(shapely.box(380000, 250000, 380100, 250100))
    df = pl.DataFrame({
        "name": ["=HYPERLINK(\"http://example.invalid\")", "+44 bad", "-cmd", "@SUM(A1)", "Friar Street", "-2.5"],
        "n": [1, 2, 3, 4, 5, 6],
        "tau": [-0.5, 0.1, 0.2, 0.3, 0.4, 0.5],
        "tags": [["=a", "b"], [], ["c"], ["d"], ["e"], ["f"]],
        "geometry_wkb": [wkb] * 6,
    })
    p = ex.write_frame(df, tmp_path / "x.csv", prov={"kind": "test"})
    text = p.read_text(encoding="utf-8")
    back = pd.read_csv(p, dtype=str)
    assert list(back["name"][:4]) == ["'=HYPERLINK(\"http://example.invalid\")", "'+44 bad", "'-cmd", "'@SUM(A1)"]
    assert back["name"][4] == "Friar Street" and back["name"][5] == "-2.5"  # a plain number stays a number
    assert back["tau"][0] == "-0.5"
    assert back["tags"][0] == "'=a; b"
    assert "geometry_wkb" not in text
    assert json.loads(ex.sidecar_path(p).read_text())["kind"] == "test"


def test_never_overwrites_without_force(tmp_path, res):
    for ext in EXTS:
        p = tmp_path / f"h.{ext}"
        ex.export("hotspots", p, res)
        before = p.read_bytes()
        with pytest.raises(WouldOverwrite, match="already exists.*--force"):
            ex.export("hotspots", p, res)
        assert p.read_bytes() == before
        ex.export("hotspots", p, res, force=True)
        assert len(_read(p)) == res.localities.height
    assert not list(tmp_path.glob(".*"))


def test_csv_sidecar_in_the_way_refuses_before_writing(tmp_path, res):
    p = tmp_path / "h.csv"
    ex.sidecar_path(p).write_text("{}")
    with pytest.raises(WouldOverwrite):
        ex.export("hotspots", p, res)
    assert not p.exists()


def test_unknown_extension_and_kind(tmp_path, res):
    with pytest.raises(ValueError, match="unknown export format '.xlsx'"):
        ex.export("hotspots", tmp_path / "h.xlsx", res)
    with pytest.raises(ValueError, match="unknown export 'people'"):
        ex.export("people", tmp_path / "h.csv", res)


def test_hash_inputs(tmp_path, monkeypatch):
    a = tmp_path / "a.csv"
    a.write_bytes(b"abc")
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "2024-01.csv").write_bytes(b"x" * 10)
    h = ex.hash_inputs([a, folder, a])
    assert [Path(f["path"]).name for f in h["files"]] == ["a.csv", "2024-01.csv"]  # walked, sorted, deduplicated
    sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert any(f.get("sha256") == sha_abc for f in h["files"])
    a.write_bytes(b"abd")
    assert ex.hash_inputs([a, folder])["combined"] != h["combined"]
    import hotspot.session as hs

    monkeypatch.setattr(hs, "BIG_FILE", 5)  # big files: size + mtime + head
    big = ex.hash_inputs([folder])["files"][0]
    assert "head_sha256" in big and big["size"] == 10 and "mtime_ns" in big


def test_export_briefing_and_frame(tmp_path, res):
    prov = ex.provenance(res, kind="briefing", extra={"subject": "E22990001"})
    p = ex.export_briefing("# Briefing", tmp_path / "b.md", prov=prov)
    assert p.read_text() == "# Briefing\n"
    back = ex.read_provenance(p)
    assert back["kind"] == "briefing" and back["subject"] == "E22990001" and back["sidecar_of"] == "b.md"
    assert back["window"] == [str(res.window[0]), str(res.window[1])] and "SYNTHETIC" in back["warning"]
    with pytest.raises(WouldOverwrite):
        ex.export_briefing("again", p, prov=prov)
    assert p.read_text() == "# Briefing\n"
    q = ex.export_frame(res.localities, tmp_path / "loc.gpkg", res)
    assert len(gpd.read_file(q)) == res.localities.height
    assert ex.read_provenance(q)["kind"] == "loc"


def test_real_data_exports(tmp_path, west_mercia_study):
    from hotspot.session import Session

    a = Session(west_mercia_study).results()
    p = ex.export("hotspots", tmp_path / "wm.geojson", a)
    back = gpd.read_file(p)
    assert len(back) == a.localities.height and back.crs.to_epsg() == 4326
    prov = ex.read_provenance(p)
    assert prov["synthetic"] is False and "warning" not in prov
    assert prov["definition"]["name"] == "police-uk-proxy"
    assert len(prov["inputs"]["files"]) >= 4  # the monthly street files and the boundaries
