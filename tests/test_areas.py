"""Boundaries, lookups, hierarchy, area assignment, CRS round trips."""
from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
from shapely.geometry import Polygon, box

from geodata.areas import (
    Areas,
    assign_areas,
    build_areas,
    level_polygons,
    locate_points,
    read_boundaries,
    read_lookup,
    study_polygon,
)
from geodata.crs import bng_to_lonlat, lonlat_to_bng
from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger
from geodata.policeuk import read_police_uk
from geodata.schema import HIERARCHY_COLUMNS, INCIDENT_SCHEMA, conform

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"
BOUNDARY = REAL / "boundaries" / "lsoa21_westmercia_bsc.geojson"
CSP_LOOKUP = REAL / "lookups" / "lad24_csp24_pfa24_EW.csv"
WARD_LOOKUP = REAL / "lookups" / "lsoa21_ward24_lad24_westmercia_warwickshire.csv"
L11_LOOKUP = REAL / "lookups" / "lsoa11_lsoa21_lad22_westmercia_warwickshire.csv"
WM = REAL / "police-uk" / "west-mercia"
needs_real = pytest.mark.skipif(not BOUNDARY.is_file(), reason=f"real data folder {REAL} is absent")

X0, Y0 = 380_000.0, 250_000.0
CODES = ["E01000001", "E01000002", "E01000003", "E01000004"]


def squares(crs="EPSG:27700", **extra) -> gpd.GeoDataFrame:
    geoms = [box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
             for j in range(2) for i in range(2)]
    g = gpd.GeoDataFrame({"lsoa21_code": CODES, "lsoa21_name": [f"Town 00{i}A" for i in range(4)],
                          **extra}, geometry=geoms, crs="EPSG:27700")
    return g.to_crs(crs)


def centre(k: int) -> tuple[float, float]:
    i, j = k % 2, k // 2
    return X0 + i * 1000 + 500, Y0 + j * 1000 + 500


@pytest.fixture
def toy(tmp_path) -> Areas:
    p = tmp_path / "lsoa.gpkg"
    squares(ward24_code=["E05000001"] * 2 + ["E05000002"] * 2,
            ltla24_code=["E07000001"] * 4).to_file(p)
    lk = tmp_path / "csp.csv"
    lk.write_text("LAD24CD,LAD24NM,CSP24CD,CSP24NM,PFA24CD,PFA24NM\n"
                  "E07000001,Toyton,E22000001,Toy CSP,E23000001,Toyshire\n")
    l11 = tmp_path / "l11.csv"
    l11.write_text(
        "LSOA11CD,LSOA11NM,CHGIND,LSOA21CD,LSOA21NM\n"
        "E01000001,Town 000A,U,E01000001,Town 000A\n"
        "E01900002,Old 1,S,E01000002,Town 001A\n"
        "E01900002,Old 1,S,E01000003,Town 002A\n"
        "E01900004,Old 2,M,E01000004,Town 003A\n"
        "E01900005,Old 3,M,E01000004,Town 003A\n")
    return build_areas(p, [lk, l11])


def incidents(rows: list[dict]) -> pl.DataFrame:
    base = {"source": "records", "source_file": "f.csv"}
    df = pl.DataFrame([{**base, "source_row": i + 1, **r} for i, r in enumerate(rows)],
                      infer_schema_length=None)
    return conform(df, INCIDENT_SCHEMA)


# ---------------------------------------------------------------------------------------------
# Toy areas


def test_build_areas_fills_hierarchy(toy):
    h = toy.hierarchy
    assert h.columns == list(HIERARCHY_COLUMNS)
    assert h["csp_code"].to_list() == ["E22000001"] * 4
    assert h["force_name"].to_list() == ["Toyshire"] * 4
    assert h["district_name"].to_list() == ["Toyton"] * 4
    assert toy.lsoa.crs.to_epsg() == 27700
    l = toy.lsoa11_to_21.sort(["lsoa11_code", "lsoa21_code"])
    assert l["weight"].to_list() == [1.0, 0.5, 0.5, 1.0, 1.0]
    assert set(l["change_code"].to_list()) == {"U", "S", "M"}


def test_assign_rules(toy):
    (cx0, cy0), (cx1, cy1), (cx2, cy2), (cx3, cy3) = (centre(k) for k in range(4))
    rows = [
        dict(lsoa_given="E01000002", easting=cx0, northing=cy0),   # known code wins
        dict(lsoa_given="E01900004"),                                # merged 2011 code
        dict(lsoa_given="E01900002", easting=cx2, northing=cy2),   # split 2011: by point
        dict(lsoa_given="E01900002"),                                # split, no point: 1st part
        dict(lsoa_given="E01099999", easting=cx3, northing=cy3),   # snapping: by point
        dict(lsoa_given="E01009110", easting=100.0, northing=100.0),  # another area
        dict(lsoa_given=None),                                       # nothing at all
        dict(lsoa_given="XYZ"),                                      # junk, no point
        dict(lsoa_given=None, easting=cx1, northing=cy1),          # point only
        dict(lsoa_given="E01009110"),                                # another area, no point
        dict(lsoa_given=" e01000001 "),                              # messy spelling
    ]
    df = incidents(rows)
    entry = SourceLedger(kind="records", path="f.csv", read=len(rows), accepted=len(rows))
    out = assign_areas(df, toy, entry)
    assert entry.balanced
    assert out["source_row"].to_list() == [1, 2, 3, 4, 5, 9, 11]
    assert out["lsoa_code"].to_list() == ["E01000002", "E01000004", "E01000003", "E01000002",
                                          "E01000004", "E01000002", "E01000001"]
    assert entry.quarantined == {"outside the study area": 2, "no coordinates": 1,
                                 "unknown area code": 1}
    assert any("split 2011" in n for n in entry.notes)
    assert out.columns == df.columns


def test_assign_charges_each_source(toy):
    df = incidents([dict(lsoa_given="E01009110", source_file="a/2024-01.csv"),
                    dict(lsoa_given="E01000001", source_file="a/2024-02.csv"),
                    dict(lsoa_given="E01009110", source_file="b.zip!x.csv")])
    ledger = Ledger([SourceLedger("crimes", "a", read=2, accepted=2),
                     SourceLedger("crimes", "b.zip", read=1, accepted=1)])
    out = assign_areas(df, toy, ledger)
    assert out.height == 1
    assert [s.quarantined for s in ledger.sources] == [{"outside the study area": 1},
                                                       {"outside the study area": 1}]
    assert ledger.balanced


def test_locate_points_keeps_every_row(toy):
    cx, cy = centre(3)
    f = pl.DataFrame({"easting": [cx, None, 0.0], "northing": [cy, None, 0.0],
                      "lsoa_code": [None, "E01000001", None]},
                     schema_overrides={"lsoa_code": pl.Utf8})
    assert locate_points(f, toy)["lsoa_code"].to_list() == ["E01000004", "E01000001", None]


def test_level_polygons_and_study_polygon(toy):
    csp = level_polygons(toy, "csp")
    assert csp.columns.tolist() == ["csp_code", "csp_name", "geometry"]
    assert len(csp) == 1 and csp.area.iloc[0] == pytest.approx(4e6)
    wards = level_polygons(toy, "ward")
    assert sorted(wards["ward_code"]) == ["E05000001", "E05000002"]
    assert level_polygons(toy, "csp") is csp  # cached
    assert study_polygon(toy).area == pytest.approx(4e6)
    with pytest.raises(ValueError):
        level_polygons(toy, "county")


# ---------------------------------------------------------------------------------------------
# Reading boundaries


@pytest.mark.parametrize("code,name,extra,level", [
    ("LSOA21CD", "LSOA21NM", {}, "lsoa"),
    ("lsoa21_code", "lsoa21_name", {"WD24CD": "E05000001", "LAD24CD": "E07000001",
                                    "CSP24CD": "E22000001", "PFA24CD": "E23000001"}, "lsoa"),
    ("LSOA11CD", "LSOA11NM", {"ward24_code": "E05000001", "ltla24_code": "E07000001",
                              "csp24_code": "E22000001", "pfa24_code": "E23000001"}, "lsoa"),
    ("geo_id", "name", {}, "lsoa"),        # level from the E01 prefixes
])
def test_boundary_column_spellings(tmp_path, code, name, extra, level):
    g = squares().rename(columns={"lsoa21_code": code, "lsoa21_name": name})
    for k, v in extra.items():
        g[k] = v
    p = tmp_path / "b.gpkg"
    g.to_file(p)
    out = read_boundaries(p, level_hint="lsoa")
    assert out.attrs["level"] == level
    assert out["lsoa_code"].tolist() == CODES
    assert out["lsoa_name"].tolist()[0] == "Town 000A"
    if extra:
        assert out["csp_code"].tolist() == ["E22000001"] * 4
        assert out["force_code"].tolist() == ["E23000001"] * 4
        assert out["ward_code"].tolist() == ["E05000001"] * 4
        assert out["district_code"].tolist() == ["E07000001"] * 4


def test_boundary_level_from_prefix(tmp_path):
    g = gpd.GeoDataFrame({"AreaCode": ["E22000001"], "Label": ["Toy CSP"]},
                         geometry=[box(X0, Y0, X0 + 2000, Y0 + 2000)], crs="EPSG:27700")
    p = tmp_path / "csp.gpkg"
    g.to_file(p)
    out = read_boundaries(p)
    assert out.attrs["level"] == "csp" and out["csp_code"].tolist() == ["E22000001"]
    with pytest.raises(SourceError, match="not LSOAs"):
        build_areas(p)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")  # shapefile names
@pytest.mark.parametrize("fmt", ["geojson4326", "gpkg27700", "shp27700", "shp_noprj",
                                 "geojson_bng_nocrs"])
def test_boundary_formats_and_crs(tmp_path, fmt):
    if fmt == "geojson4326":
        p = tmp_path / "b.geojson"
        squares("EPSG:4326").to_file(p, driver="GeoJSON")
    elif fmt == "gpkg27700":
        p = tmp_path / "b.gpkg"
        squares().to_file(p)
    elif fmt.startswith("shp"):
        p = tmp_path / "b.shp"
        squares().to_file(p)
        if fmt == "shp_noprj":
            p.with_suffix(".prj").unlink()
    else:
        p = tmp_path / "b.geojson"
        fc = json.loads(squares().to_json())  # BNG numbers, no "crs" member
        fc.pop("crs", None)
        p.write_text(json.dumps(fc))
    out = read_boundaries(p)
    assert out.crs.to_epsg() == 27700
    assert out["lsoa_code"].tolist() == CODES
    ref = squares()
    for a, b in zip(out.geometry, ref.geometry):
        assert a.hausdorff_distance(b) < 0.05  # metres, after any reprojection and rounding
    assert out["lsoa_name"].tolist()[0] == "Town 000A"
    if fmt in ("shp_noprj", "geojson_bng_nocrs"):
        assert any("British National Grid" in n for n in out.attrs["notes"])


def test_invalid_polygon_repaired(tmp_path):
    bowtie = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    g = gpd.GeoDataFrame({"LSOA21CD": ["E01000001"]}, geometry=[bowtie], crs="EPSG:27700")
    p = tmp_path / "bad.gpkg"
    g.to_file(p)
    out = read_boundaries(p)
    assert out.is_valid.all() and out.area.iloc[0] == pytest.approx(500_000)
    assert any("repaired" in n for n in out.attrs["notes"])


def test_boundary_errors(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        read_boundaries(tmp_path / "nope.geojson")
    p = tmp_path / "junk.geojson"
    p.write_text("this is not json")
    with pytest.raises(SourceError):
        read_boundaries(p)
    g = gpd.GeoDataFrame({"what": ["x"]}, geometry=[box(X0, Y0, X0 + 1, Y0 + 1)], crs="EPSG:27700")
    g.to_file(tmp_path / "nocode.gpkg")
    with pytest.raises(SourceError, match="code"):
        read_boundaries(tmp_path / "nocode.gpkg")


def test_read_lookup_names(tmp_path):
    p = tmp_path / "lk.csv"
    p.write_bytes(b"\xef\xbb\xbfLSOA11CD,LSOA11NM,CHGIND,LSOA21CD,LSOA21NM,LAD22CD,LAD22NM\n"
                  b"E01000001,A,U,E01000001,A,E07000001,Toyton\n")
    lk = read_lookup(p)
    assert lk.columns == ["lsoa11_code", "lsoa11_name", "change_code", "lsoa21_code",
                          "lsoa21_name", "district_code", "district_name"]


# ---------------------------------------------------------------------------------------------
# CRS


def test_crs_round_trip_within_1mm():
    rng = np.random.default_rng(7)
    x = rng.uniform(280_000, 420_000, 20_000)   # West Mercia and around
    y = rng.uniform(180_000, 360_000, 20_000)
    lon, lat = bng_to_lonlat(x, y)
    x2, y2 = lonlat_to_bng(lon, lat)
    assert np.hypot(x2 - x, y2 - y).max() < 1e-3
    lon2, lat2 = bng_to_lonlat(x2, y2)
    dx = (lon2 - lon) * np.cos(np.radians(lat)) * 111_320
    dy = (lat2 - lat) * 110_574
    assert np.hypot(dx, dy).max() < 1e-3


# ---------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def real_areas():
    return build_areas(BOUNDARY, [CSP_LOOKUP])


@pytest.fixture(scope="module")
def real_run(real_areas):
    ledger = Ledger()
    files = sorted(WM.glob("*-street.csv"))
    df = read_police_uk(files, ledger)
    t0 = time.perf_counter()
    out = assign_areas(df, real_areas, ledger)
    elapsed = time.perf_counter() - t0
    return df, out, ledger, elapsed


WM_CSPS = {"Herefordshire, County of", "North Worcestershire", "Shropshire", "South Worcester",
           "Telford and Wrekin"}


@needs_real
def test_real_pipeline_balances(real_run):
    df, out, ledger, elapsed = real_run
    assert len(ledger.sources) == 4
    for s in ledger.sources:
        assert s.balanced, s.to_dict()
    assert sum(s.read for s in ledger.sources) == 32_423
    assert sum(s.accepted for s in ledger.sources) == out.height
    assert sum(s.accepted + s.n_quarantined for s in ledger.sources) == 32_423
    assert out["lsoa_code"].null_count() == 0
    assert elapsed < 1.0, f"assignment took {elapsed:.2f} s"


@needs_real
def test_real_birmingham_outside(real_run):
    _, out, ledger, _ = real_run
    raw = pl.concat([pl.read_csv(f, infer_schema=False).with_columns(
        pl.lit(str(f)).alias("source_file"), pl.int_range(1, pl.len() + 1).alias("source_row"))
        for f in sorted(WM.glob("*-street.csv"))])
    brum = raw.filter(pl.col("LSOA name").str.starts_with("Birmingham"))
    assert brum.height == 20
    q = ledger.quarantine_frame().with_columns(pl.col("source_row").cast(pl.Int64))
    hit = brum.join(q, on=["source_file", "source_row"], how="left")
    assert (hit["reason"] == "outside the study area").all()
    assert not out["lsoa_given"].is_in(brum["LSOA code"].unique().implode()).any()


@needs_real
def test_real_every_row_in_a_west_mercia_csp(real_run, real_areas):
    _, out, _, _ = real_run
    j = out.join(real_areas.hierarchy, on="lsoa_code", how="left")
    assert j["csp_name"].null_count() == 0
    assert set(j["csp_name"].unique().to_list()) == WM_CSPS
    assert level_polygons(real_areas, "csp").shape[0] == 5


@needs_real
def test_real_hierarchy_from_lookups(tmp_path):
    full = gpd.read_file(BOUNDARY)
    slim = full[["lsoa21_code", "geometry"]]
    p = tmp_path / "slim.gpkg"
    slim.to_file(p)
    areas = build_areas(p, [WARD_LOOKUP, CSP_LOOKUP, L11_LOOKUP])
    h = areas.hierarchy.sort("lsoa_code")
    ref = pl.DataFrame({"lsoa_code": full["lsoa21_code"].tolist(),
                        "csp_code": full["csp24_code"].tolist(),
                        "ward_code": full["ward24_code"].tolist()}).sort("lsoa_code")
    assert h["csp_code"].to_list() == ref["csp_code"].to_list()
    assert h["ward_code"].to_list() == ref["ward_code"].to_list()
    assert h["lsoa_name"].null_count() == 0
    assert areas.lsoa11_to_21.height > 1000


@needs_real
def test_real_same_assignment_in_27700_and_4326(tmp_path, real_run):
    df, _, _, _ = real_run
    g = gpd.read_file(BOUNDARY).to_crs(27700)
    p_bng = tmp_path / "lsoa_bng.gpkg"
    g.to_file(p_bng)
    p_wgs = tmp_path / "lsoa_wgs.geojson"
    g.to_crs(4326).to_file(p_wgs, driver="GeoJSON", COORDINATE_PRECISION=10)
    points = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("lsoa_given"))  # force point-in-polygon
    a = assign_areas(points, build_areas(p_bng))
    b = assign_areas(points, build_areas(p_wgs))
    assert a.height == b.height > 30_000
    assert (a["lsoa_code"] == b["lsoa_code"]).all()
