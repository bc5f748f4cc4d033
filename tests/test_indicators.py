"""Indicator files keyed by LSOA, including the 2011 -> 2021 conversion."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
from shapely.geometry import box

from geodata.areas import build_areas
from geodata.errors import SourceError
from geodata.indicators import column_rule, read_indicators
from geodata.ledger import Ledger

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"
BOUNDARY = REAL / "boundaries" / "lsoa21_westmercia_bsc.geojson"
L11 = REAL / "lookups" / "lsoa11_lsoa21_lad22_westmercia_warwickshire.csv"
POP = REAL / "indicators" / "population_mid2019_lsoa11_agebands_westmercia_warwickshire.csv"
IMD = REAL / "indicators" / "imd2025_lsoa21_westmercia_warwickshire.csv"
needs_real = pytest.mark.skipif(not BOUNDARY.is_file(), reason=f"real data folder {REAL} is absent")

CODES = ["E01000001", "E01000002", "E01000003", "E01000004"]


@pytest.fixture
def toy(tmp_path):
    geoms = [box(380_000 + i * 1000, 250_000, 381_000 + i * 1000, 251_000) for i in range(4)]
    p = tmp_path / "lsoa.gpkg"
    gpd.GeoDataFrame({"LSOA21CD": CODES}, geometry=geoms, crs="EPSG:27700").to_file(p)
    lk = tmp_path / "l11.csv"
    lk.write_text(
        "lsoa11_code,change_code,lsoa21_code\n"
        "E01000001,U,E01000001\n"
        "E01900002,S,E01000002\n"
        "E01900002,S,E01000003\n"
        "E01900004,M,E01000004\n"
        "E01900005,M,E01000004\n"
        "E01777777,U,E01777777\n")
    return build_areas(p, [lk])


def write(tmp_path, text, name="ind.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_rules():
    assert column_rule("total_population", True) == "sum"
    assert column_rule("age_10_15", True) == "sum"
    assert column_rule("income_deprivation_affecting_children_index_idaci_numerator", False) == "sum"
    assert column_rule("violence_with_injury_rate_per_1_000_at_risk_population", False) == "mean"
    assert column_rule("IMD_decile", False) == "mean"
    assert column_rule("IMD_rank", True) == "mean"
    assert column_rule("housing_affordability_indicator", False) == "mean"
    assert column_rule("mystery", True) == "sum"
    assert column_rule("mystery", False) == "mean"


def test_2011_split_and_merge(toy, tmp_path):
    p = write(tmp_path, "LSOA11CD,LSOA11NM,population,imd_score\n"
                        "E01000001,A,1000,10\n"
                        "E01900002,B,900,20\n"
                        "E01900004,C,300,30\n"
                        "E01900005,D,500,50\n"
                        "E01555555,E,100,1\n"          # not in the study
                        "Total,,2800,\n")              # a footer row
    ledger = Ledger()
    out = read_indicators(p, toy, ledger).sort("lsoa_code")
    assert out.columns == ["lsoa_code", "population", "imd_score"]
    assert out["lsoa_code"].to_list() == CODES
    assert out["population"].to_list() == [1000, 450, 450, 800]   # split halves, merge sums
    assert out["imd_score"].to_list() == [10, 20, 20, 40]          # copied, then averaged
    (e,) = ledger.sources
    assert e.kind == "indicators" and e.balanced
    assert e.read == 6 and e.accepted == 4
    assert e.quarantined == {"unknown area code": 2}
    notes = " ".join(e.notes)
    assert "apportioned" in notes and "population" in notes and "imd_score" in notes


def test_lookup_weights_used(tmp_path):
    geoms = [box(380_000 + i * 1000, 250_000, 381_000 + i * 1000, 251_000) for i in range(2)]
    b = tmp_path / "lsoa.gpkg"
    gpd.GeoDataFrame({"lsoa21_code": CODES[:2]}, geometry=geoms, crs="EPSG:27700").to_file(b)
    lk = write(tmp_path, "LSOA11CD,LSOA21CD,CHGIND,weight\n"
                         "E01900001,E01000001,S,0.25\nE01900001,E01000002,S,0.75\n", "lk.csv")
    areas = build_areas(b, [lk])
    p = write(tmp_path, "lsoa11_code,people\nE01900001,400\n")
    out = read_indicators(p, areas).sort("lsoa_code")
    assert out["people"].to_list() == [100, 300]


def test_2021_keyed_and_key_found_by_content(toy, tmp_path):
    p = write(tmp_path, "area,rate_per_1000,label\n"
                        "E01000001,1.5,x\nE01000002,NA,y\nE01000002,9,dup\nE01999999,3,z\n"
                        ",4,none\n")
    ledger = Ledger()
    out = read_indicators(p, toy, ledger)
    assert out.columns == ["lsoa_code", "rate_per_1000"]
    assert out["lsoa_code"].to_list() == ["E01000001", "E01000002"]
    assert out["rate_per_1000"].to_list() == [1.5, None]
    (e,) = ledger.sources
    assert e.quarantined == {"duplicate id": 1, "unknown area code": 1,
                             "missing required value": 1}
    assert e.balanced


def test_without_areas_keeps_everything(tmp_path):
    p = write(tmp_path, "lsoa21_code,count\nE01000001,\"1,234\"\nE01999999,5\n")
    out = read_indicators(p)
    assert out["count"].to_list() == [1234, 5]
    assert out.schema["count"] == pl.Int64


def test_errors(tmp_path):
    with pytest.raises(SourceError, match="LSOA code"):
        read_indicators(write(tmp_path, "a,b\n1,2\n"))
    with pytest.raises(SourceError, match="numeric"):
        read_indicators(write(tmp_path, "lsoa21_code,name\nE01000001,x\n"))
    with pytest.raises(SourceError, match="empty"):
        read_indicators(write(tmp_path, ""))
    with pytest.raises(SourceError, match="does not exist|cannot be read"):
        read_indicators(tmp_path / "nope.csv")


@needs_real
def test_real_population_2011_to_2021():
    areas = build_areas(BOUNDARY, [L11])
    ledger = Ledger()
    out = read_indicators(POP, areas, ledger)
    (e,) = ledger.sources
    assert e.balanced and e.read == 1120
    assert out.height == 804
    assert set(out["lsoa_code"].to_list()) == set(areas.codes.to_list())
    raw = pl.read_csv(POP)
    kept = raw.filter(~pl.col("lsoa11_code").is_in(e.rows["lsoa11_code"].implode()))
    assert kept.height == e.accepted
    for col in ("total_population", "age_10_24", "age_65_plus"):
        assert out[col].sum() == pytest.approx(kept[col].sum(), abs=0.5)
    # West Mercia had about 1.29 million people in mid-2019.
    assert 1_250_000 < out["total_population"].sum() < 1_330_000


@needs_real
def test_real_imd_2021():
    areas = build_areas(BOUNDARY)
    ledger = Ledger()
    out = read_indicators(IMD, areas, ledger)
    assert out.height == 804 and "IMD_score" in out.columns and "IMD_decile" in out.columns
    assert ledger.sources[0].quarantined == {"unknown area code": 354}  # Warwickshire's LSOAs
