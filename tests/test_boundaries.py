"""The GeoJSON boundary reader (json + GEOS) against GDAL's: same areas, same polygons, same notes.

Commands given --areas read GeoJSON without geopandas; any difference from what GDAL reads
would move an offence into another LSOA, so every case here is read both ways and compared.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from geodata import boundaries as B
from geodata.areas import build_areas, read_boundary_table
from geodata.crs import bng_to_lonlat
from geodata.errors import SourceError

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "real" / "boundaries"
X0, Y0 = 380_000.0, 250_000.0


def read_both(path: Path, monkeypatch) -> tuple:
    native = read_boundary_table(path, level_hint="lsoa")
    with monkeypatch.context() as m:
        m.setattr(B, "_read_geojson", lambda p: None)  # force the GDAL path
        gdal = read_boundary_table(path, level_hint="lsoa")
    return native, gdal


def assert_same(native, gdal, tol: float = 0.0) -> None:
    assert native.columns.to_dicts() == gdal.columns.to_dicts()
    assert (native.level, native.lsoa_year) == (gdal.level, gdal.lsoa_year)
    assert native.notes == gdal.notes
    assert len(native.geometry) == len(gdal.geometry)
    assert shapely.equals_exact(native.geometry, gdal.geometry, tolerance=tol).all()


def square(x: float, y: float, size: float = 1000.0) -> list:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def feature(code, coords, gtype="Polygon", **props):
    geom = None if coords is None else {"type": gtype, "coordinates": coords}
    return {"type": "Feature", "properties": {"LSOA21CD": code, "LSOA21NM": f"Area {code}", **props},
            "geometry": geom}


def write(tmp_path: Path, features: list, crs: str | None = None, name="b.geojson") -> Path:
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


@pytest.mark.parametrize("name", ["lsoa21_westmercia_bsc.geojson", "lsoa21_warwickshire_bsc.geojson"])
def test_real_ons_files_read_identically(name, monkeypatch):
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"real boundary file {path} is absent")
    native, gdal = read_both(path, monkeypatch)
    assert native.columns.height > 300  # every LSOA of the force, none dropped
    assert native.columns["lsoa_code"].str.contains(r"^E01\d{6}$").all()
    assert_same(native, gdal)  # bit for bit: the same transformer on the same coordinates


def test_bng_file_with_every_repair(tmp_path, monkeypatch):
    bow = [[[X0, Y0], [X0 + 1000, Y0 + 1000], [X0 + 1000, Y0], [X0, Y0 + 1000], [X0, Y0]]]  # self-crossing
    feats = [
        feature("E01000001", square(X0, Y0 + 2000)),
        feature("E01000002", None),  # no geometry: dropped with a note
        feature("E01000003", [X0, Y0], "Point"),  # not a polygon: dropped with a note
        feature("E01000004", bow),  # invalid: repaired
        feature("E01000005", square(X0 + 2000, Y0)),
        feature("E01000005", square(X0 + 3000, Y0)),  # repeated code: merged, sorted by code
        feature(None, square(X0 + 5000, Y0)),  # no code: dropped with a note
        feature("E01000006", [square(X0, Y0 + 4000)], "MultiPolygon", POP=12, SHAPE_AREA=1.5e6),
    ]
    path = write(tmp_path, feats, "urn:ogc:def:crs:EPSG::27700")
    native, gdal = read_both(path, monkeypatch)
    assert native.columns["lsoa_code"].to_list() == [
        "E01000001", "E01000004", "E01000005", "E01000006"]
    assert shapely.area(native.geometry[2]) == pytest.approx(2e6)  # the two squares, merged
    assert shapely.is_valid(native.geometry).all()
    joined = " | ".join(native.notes)
    for said in ("1 feature(s) without geometry dropped", "1 non-polygon feature(s) dropped",
                 "repaired 1 invalid polygon(s)", "1 feature(s) without a lsoa code dropped",
                 "1 repeated lsoa code(s)"):
        assert said in joined
    assert_same(native, gdal)


@pytest.mark.parametrize("crs", [None, "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326"])
def test_lonlat_files_are_converted_like_gdal(tmp_path, monkeypatch, crs):
    feats = []
    for i, (x, y) in enumerate([(X0, Y0), (X0 + 1500, Y0), (X0, Y0 + 1500)]):
        ring = np.array(square(x, y)[0])
        lon, lat = bng_to_lonlat(ring[:, 0], ring[:, 1])
        feats.append(feature(f"E0100000{i + 1}", [np.column_stack([lon, lat]).tolist()]))
    native, gdal = read_both(write(tmp_path, feats, crs), monkeypatch)
    assert_same(native, gdal, tol=1e-6)
    xmin, ymin, *_ = shapely.total_bounds(native.geometry)
    assert xmin == pytest.approx(X0, abs=0.01) and ymin == pytest.approx(Y0, abs=0.01)


def test_bng_coordinates_without_crs_member_are_read_as_bng(tmp_path, monkeypatch):
    # No crs member means WGS84 (RFC 7946); the coordinates are plainly metres, and both readers
    # say so rather than reject the file.
    path = write(tmp_path, [feature("E01000001", square(X0, Y0))])
    native, gdal = read_both(path, monkeypatch)
    assert any("coordinates are British National Grid" in n for n in native.notes)
    assert_same(native, gdal)


def test_other_projected_crs_goes_through_pyproj(tmp_path, monkeypatch):
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:27700", "EPSG:3857", always_xy=True)
    ring = np.array(square(X0, Y0)[0])
    x, y = tr.transform(ring[:, 0], ring[:, 1])
    path = write(tmp_path, [feature("E01000001", [np.column_stack([x, y]).tolist()])], "EPSG:3857")
    native, gdal = read_both(path, monkeypatch)
    assert_same(native, gdal, tol=1e-6)
    assert shapely.area(native.geometry[0]) == pytest.approx(1e6, rel=1e-6)


def test_unreadable_geojson_falls_back_to_gdal_and_says_why(tmp_path):
    p = tmp_path / "broken.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(SourceError, match="cannot be read as a boundary file"):
        read_boundary_table(p)
    q = tmp_path / "nocodes.geojson"
    q.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"x": 1}, "geometry": {"type": "Polygon", "coordinates": square(X0, Y0)}}]}))
    with pytest.raises(SourceError, match="no ONS area code column"):
        read_boundary_table(q)


def test_areas_never_import_geopandas_until_asked(tmp_path):
    """A command that only assigns points to LSOAs must not pay for geopandas and pandas."""
    path = write(tmp_path, [feature("E01000001", square(X0, Y0)), feature("E01000002", square(X0 + 1000, Y0))],
                 "EPSG:27700")
    code = (
        "import sys\n"
        "from geodata.areas import build_areas, point_in_lsoa, study_polygon\n"
        f"a = build_areas({str(path)!r})\n"
        "print(point_in_lsoa(a, [380500.0, 381500.0], [250500.0, 250500.0]).tolist(), study_polygon(a).area)\n"
        "print('geopandas' in sys.modules, 'pandas' in sys.modules)\n"
        "print(list(a.lsoa.columns), 'geopandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "[0, 1] 2000000.0"
    assert lines[1] == "False False"
    assert lines[2] == "['lsoa_code', 'geometry'] True"  # the GeoDataFrame is still there when wanted


def test_build_areas_lazy_frame_matches_arrays():
    path = REAL / "lsoa21_westmercia_bsc.geojson"
    if not path.is_file():
        pytest.skip(f"real boundary file {path} is absent")
    a = build_areas(path)
    assert a.lsoa["lsoa_code"].tolist() == a.codes.to_list()
    assert shapely.equals_exact(np.asarray(a.lsoa.geometry.values), a.geometry, 0).all()
    assert str(a.lsoa.crs) == "EPSG:27700"
