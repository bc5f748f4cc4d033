"""Tests for geodata.venues (files, types, opening hours) and geodata.interventions."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from geodata.errors import SourceError
from geodata.interventions import THEMES, reaches_point, read_interventions, unknown_areas
from geodata.ledger import Ledger
from geodata.schema import VENUE_SCHEMA
from geodata.venues import open_mask, open_matrix, parse_hours, read_venues

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "sample_data" / "examples"
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


# ---------------------------------------------------------------------------- venue files

def read_csv(tmp_path: Path, text: str):
    p = tmp_path / "v.csv"
    p.write_text(text, encoding="utf-8")
    ledger = Ledger()
    df = read_venues(p, ledger)
    (e,) = ledger.sources
    assert e.balanced
    return df, e


def test_example_venues():
    ledger = Ledger()
    df = read_venues(EXAMPLES / "venues_example.csv", ledger)
    (e,) = ledger.sources
    assert df.schema == pl.Schema(VENUE_SCHEMA)
    assert (e.read, e.accepted, e.quarantined) == (17, 16, {"missing required value": 1})
    assert set(df["origin"]) == {"file"}
    assert df["hours"].null_count() == 1  # the taxi rank has none


def test_types_licensed_hours_and_ids(tmp_path):
    text = "\n".join([
        "name,type,easting,northing,licensed,hours",
        "The Crown,Public house,385000,254000,,Fri-Sat 21:00-03:00",
        "Cellar,Cocktail bar,385100,254100,,",
        "Zero,Night club,385200,254200,N,",
        "Chips,Fast food,385300,254300,,",
        "Corner,Convenience store,385400,254400,,",
        "Bottles,Off-licence,385500,254500,,",
        "Pasta,Restaurant,385600,254600,no,",
        "Hub,Bus station,385700,254700,,",
        "Mystery,Spaceport,385800,254800,perhaps,whenever",
        "Nowhere,Pub,,,,",
    ]) + "\n"
    df, e = read_csv(tmp_path, text)
    assert df["type"].to_list() == ["pub", "bar", "nightclub", "takeaway", "late_night_shop",
                                    "off_licence", "restaurant", "bus_station", "other"]
    assert df["licensed"].to_list() == [True, True, False, False, False, True, False, False, False]
    assert df["venue_id"].to_list()[:2] == ["venue-1", "venue-2"]
    assert df["hours"].to_list()[0] == "Fri-Sat 21:00-03:00" and df["hours"][8] is None
    assert e.quarantined == {"no coordinates": 1}
    notes = " ".join(e.notes)
    assert "'Spaceport'" in notes and "'perhaps'" in notes and "'whenever'" in notes


def test_duplicate_venue_id_and_latlon(tmp_path):
    text = ("venue_id,name,type,latitude,longitude\n"
            "A,One,pub,52.19,-2.22\nA,Two,pub,52.19,-2.22\nB,Three,pub,95,-2.22\n")
    df, e = read_csv(tmp_path, text)
    assert df["name"].to_list() == ["One"]
    assert 384000 < df["easting"][0] < 386500
    assert e.quarantined == {"duplicate id": 1, "coordinates out of range": 1}


def _feature(x, y, **props):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [x, y]}}


def test_geojson_wgs84_bng_and_polygons(tmp_path):
    wgs = {"type": "FeatureCollection", "features": [
        _feature(-2.22, 52.19, name="Velvet", type="Nightclub", hours="Thu-Sat 22:00-04:00"),
        _feature(-2.23, 52.20, name="Lamp", type="pub", licensed=False),
        {"type": "Feature", "properties": {"name": "Square", "type": "park"},
         "geometry": {"type": "Polygon", "coordinates": [[[-2.2, 52.2], [-2.19, 52.2], [-2.19, 52.21], [-2.2, 52.2]]]}},
        {"type": "Feature", "properties": {"name": "Lost", "type": "bar"}, "geometry": None},
    ]}
    p = tmp_path / "v.geojson"
    p.write_text(json.dumps(wgs))
    ledger = Ledger()
    df = read_venues(p, ledger)
    (e,) = ledger.sources
    assert df["name"].to_list() == ["Velvet", "Lamp", "Square"]
    assert df["type"].to_list() == ["nightclub", "pub", "other"]
    assert df["licensed"].to_list() == [True, False, False]
    assert 384000 < df["easting"][0] < 386500 and 253000 < df["northing"][0] < 256000
    assert e.quarantined == {"no coordinates": 1}
    assert any("not Points" in n for n in e.notes)
    assert "geometry" in e.rows.columns

    # BNG numbers without a crs member, and with an explicit EPSG:27700 crs member
    bng = {"type": "FeatureCollection", "features": [_feature(385000, 254000, name="A", type="pub")]}
    p2 = tmp_path / "bng.geojson"
    p2.write_text(json.dumps(bng))
    ledger = Ledger()
    df2 = read_venues(p2, ledger)
    assert df2["easting"].to_list() == [385000.0]
    assert any("BNG" in n for n in ledger.sources[0].notes)
    bng["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    p2.write_text(json.dumps(bng))
    assert read_venues(p2)["northing"].to_list() == [254000.0]


@pytest.mark.parametrize("content, word", [
    ("", "empty"), ("{not json", "GeoJSON"), ('{"type": "FeatureCollection", "features": []}', "no features"),
    ('{"type": "Topology"}', "FeatureCollection"),
    ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"kind": "pub"}, '
     '"geometry": {"type": "Point", "coordinates": [-2.2, 52.2]}}]}', "name"),
])
def test_broken_geojson(tmp_path, content, word):
    p = tmp_path / "v.geojson"
    p.write_text(content)
    with pytest.raises(SourceError) as info:
        read_venues(p)
    assert word in info.value.problem


@pytest.mark.parametrize("content", ["", "name,type\n", "name;type;easting;northing\nA;pub;1;2\n",
                                     "type,easting,northing\npub,385000,254000\n"])
def test_broken_venue_csv(tmp_path, content):
    p = tmp_path / "v.csv"
    p.write_text(content)
    with pytest.raises(SourceError):
        read_venues(p)


# ---------------------------------------------------------------------------- opening hours

def test_hours_spill_past_midnight():
    h = parse_hours("Fri-Sat 21:00-03:00; Sun-Thu 21:00-00:00")
    assert h.is_open(FRI, 22) and h.is_open(SAT, 2) and h.is_open(SUN, 2)  # Fri and Sat nights
    assert not h.is_open(SAT, 3) and not h.is_open(FRI, 2)  # Thu night closes at midnight
    assert h.is_open(SUN, 23) and not h.is_open(MON, 0)     # Sun-Thu end at midnight exactly
    assert h.is_open(MON, 21) and not h.is_open(MON, 20)
    assert h.hourly.sum() == 5 * 3 + 2 * 3 + 2 * 3


def test_hours_forms():
    assert parse_hours("24/7").always
    assert parse_hours("Open 24 hours").always
    assert parse_hours("21:00-21:00").always
    h = parse_hours("Daily 11:00-23:00; Sun closed")
    assert h.is_open(SAT, 11) and not h.is_open(SUN, 12)
    h = parse_hours("Sat 20:00-02:00; Sun closed")
    assert h.is_open(SUN, 1) and not h.is_open(SUN, 2)  # closed keeps the spill-over
    h = parse_hours("Mon, Wed & Fri 10.00-14.00, 17:00-23:00")
    assert h.is_open(WED, 13) and not h.is_open(WED, 15) and h.is_open(FRI, 22) and not h.is_open(TUE, 13)
    h = parse_hours("Weekends 22:00-04:00")
    assert h.is_open(SAT, 23) and h.is_open(MON, 3) and not h.is_open(FRI, 23)
    h = parse_hours("Mon to Fri 9am-5pm")
    assert h.is_open(TUE, 9) and h.is_open(TUE, 16) and not h.is_open(TUE, 17)
    h = parse_hours("9pm-2am")
    assert h.is_open(SUN, 21) and h.is_open(MON, 1) and not h.is_open(MON, 2)
    h = parse_hours("Fri 21:30-00:30")
    assert h.is_open(FRI, 21) and h.is_open(FRI, 21, 30) and not h.is_open(FRI, 21, 29)
    assert h.is_open(SAT, 0) and not h.is_open(SAT, 0, 30)


@pytest.mark.parametrize("bad", ["", "   ", "Funday 10:00-12:00", "Mon 25:00-26:00", "whenever",
                                 "Mon 10:00", "Mon 10-", "Mon 10:61-11:00", "Mon-Tue-Wed 10:00-11:00"])
def test_hours_errors(bad):
    with pytest.raises(ValueError):
        parse_hours(bad)


def test_open_mask_vectorised():
    hours = ["Fri-Sat 21:00-03:00", None, "nonsense", "24/7", "Fri-Sat 21:00-03:00"]
    wd = np.array([SAT, SAT, SAT, MON, THU])
    hr = np.array([2, 2, 2, 4, 23])
    assert open_mask(hours, wd, hr).tolist() == [True, False, False, True, False]
    assert open_mask(hours, wd, hr, unknown=True).tolist() == [True, True, True, True, False]
    assert open_mask(pl.Series(hours), wd, hr).tolist() == [True, False, False, True, False]
    assert open_mask("Fri-Sat 21:00-03:00", wd, hr).tolist() == [True, True, True, False, False]
    m = open_matrix(["Fri-Sat 21:00-03:00", "24/7"], [FRI, SAT, SUN], [22, 2, 4])
    assert m.tolist() == [[True, True, False], [True, True, True]]
    with pytest.raises(ValueError):
        open_mask(hours, np.array([7, 0, 0, 0, 0]), hr)
    with pytest.raises(ValueError):
        open_mask(hours, wd, np.array([24, 0, 0, 0, 0]))


# ---------------------------------------------------------------------------- interventions

def write_toml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "interventions.toml"
    p.write_text(text, encoding="utf-8")
    return p


MINIMAL = '''
[[intervention]]
name = "Alpha"
areas = ["Worcester"]
themes = ["knife"]
'''


def test_example_interventions():
    ivs = read_interventions(EXAMPLES / "interventions_example.toml")
    names = [iv.name for iv in ivs]
    assert names[:4] == ["CLIMB", "Steer Clear", "GETSAFE", "PACE"]
    climb, steer, getsafe, pace, night = ivs
    assert climb.provider == "The Children's Society" and climb.ages == (11, 17)
    assert steer.themes == ["knife", "youth"]
    assert pace.everywhere and pace.ages is None and pace.any_time
    assert night.points and not night.any_time
    assert night.active_mask([SAT, SAT, WED], [2, 22, 22]).tolist() == [True, True, False]
    assert all(iv.line for iv in ivs) and ivs[0].line < ivs[1].line


def test_minimal_defaults(tmp_path):
    (iv,) = read_interventions(write_toml(tmp_path, MINIMAL))
    assert iv.any_time and iv.times_text == ["any"] and iv.ages is None and not iv.everywhere
    assert iv.age_mask([5, None, 70]).tolist() == [True, True, True]
    assert iv.line == 2


@pytest.mark.parametrize(
    "extra, words",
    [
        ('themes = ["knives"]', ["Alpha", "knives", "night_time_economy"]),
        ('ages = [17, 11]', ["Alpha", "ages"]),
        ('ages = "11-17"', ["ages"]),
        ('theme = "knife"', ["unknown key", "'theme'"]),
        ('times = ["Fri 25:00-26:00"]', ["times"]),
        ('times = ["any", "Fri 21:00-04:00"]', ["any"]),
        ('points = [{ easting = 385000, northing = 255000 }]', ["radius_m"]),
        ('points = [{ easting = 1, northing = 2, radius_m = 100 }]', ["not in Great Britain"]),
        ('points = [{ latitude = -2.2, longitude = 52.1, radius_m = 100 }]', ["not in Great Britain"]),
        ('points = [{ label = "x", radius_m = 100 }]', ["needs easting"]),
        ('polygons = "missing.geojson"', ["missing.geojson", "not found"]),
        ('everywhere = "yes"', ["everywhere"]),
        ('provider = 42', ["provider"]),
    ],
)
def test_intervention_field_errors(tmp_path, extra, words):
    text = MINIMAL.replace('themes = ["knife"]\n', "") + extra + "\n"
    with pytest.raises(SourceError) as info:
        read_interventions(write_toml(tmp_path, text))
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    assert "line 2" in msg or "line" in msg


def test_unknown_theme_lists_allowed(tmp_path):
    with pytest.raises(SourceError) as info:
        read_interventions(write_toml(tmp_path, MINIMAL.replace('"knife"', '"gangs"')))
    assert "Alpha" in info.value.problem and "gangs" in info.value.problem
    assert all(t in info.value.fix for t in THEMES)


def test_structural_errors(tmp_path):
    cases = {
        '[[intervention]]\nprovider = "x"\nareas = ["A"]\n': "'name' is missing",
        '[[intervention]]\nname = "A"\n': "does not say where",
        MINIMAL + MINIMAL: "used twice",
        'title = "nothing"\n': "no [[intervention]]",
        "": "no [[intervention]]",
    }
    for text, phrase in cases.items():
        with pytest.raises(SourceError) as info:
            read_interventions(write_toml(tmp_path, text))
        assert phrase in info.value.problem, (text, info.value.problem)


def test_second_intervention_error_names_it_and_its_line(tmp_path):
    text = MINIMAL + '\n[[intervention]]\nname = "Beta"\nareas = ["X"]\nages = [1]\n'
    with pytest.raises(SourceError) as info:
        read_interventions(write_toml(tmp_path, text))
    assert "intervention 'Beta' (line 7)" in info.value.problem


def test_toml_syntax_error_gives_line(tmp_path):
    text = '[[intervention]]\nname = "A"\nareas = [Worcester]\n'
    with pytest.raises(SourceError) as info:
        read_interventions(write_toml(tmp_path, text))
    assert "line 3" in info.value.problem and "areas" in info.value.problem
    with pytest.raises(SourceError):
        read_interventions(tmp_path / "absent.toml")


def test_reaches_point_areas_points_polygons(tmp_path):
    poly = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [[[380000, 250000], [381000, 250000],
                                                         [381000, 251000], [380000, 251000], [380000, 250000]]]}}],
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}}
    (tmp_path / "zones").mkdir()
    (tmp_path / "zones" / "z.geojson").write_text(json.dumps(poly))
    text = '''
[[intervention]]
name = "Mixed"
areas = ["telford & wrekin", "E05000001"]
polygons = "zones/z.geojson"
points = [{ easting = 390000, northing = 260000, radius_m = 100, label = "P" },
          { latitude = 52.19, longitude = -2.22, radius_m = 50 }]
'''
    (iv,) = read_interventions(write_toml(tmp_path, text))
    assert len(iv.polygons) == 1 and len(iv.points) == 2
    lookup = {"Telford and Wrekin": {"E01000001", "E01000002"}, "E05000001": {"E01000003"}}
    x = np.array([100000.0, 100000.0, 100000.0, 380500.0, 390050.0, 390200.0, np.nan, 380000.0])
    y = np.array([100000.0, 100000.0, 100000.0, 250500.0, 260050.0, 260000.0, np.nan, 250500.0])
    lsoa = ["E01000002", "E01000003", "E01000009", None, None, None, "E01000001", None]
    got = reaches_point(iv, x, y, lsoa, lookup)
    assert got.tolist() == [True, True, False, True, True, False, True, True]
    assert unknown_areas(iv, {"Telford and Wrekin": set()}) == ["E05000001"]
    everywhere = read_interventions(write_toml(tmp_path, '[[intervention]]\nname="E"\neverywhere=true\n'))[0]
    assert reaches_point(everywhere, x, y, lsoa, {}).all()


def test_age_mask():
    (iv,) = read_interventions(EXAMPLES / "interventions_example.toml")[:1]
    assert iv.age_mask(np.array([10, 11, 17, 18, np.nan])).tolist() == [False, True, True, False, True]
    assert iv.age_mask(pl.Series([10, None, 12]), unknown=False).tolist() == [False, False, True]


# ---------------------------------------------------------------------------- nearest venue

def _venues(x, y, licensed=None):
    n = len(x)
    return pl.DataFrame({"easting": np.asarray(x, float), "northing": np.asarray(y, float),
                         "licensed": licensed if licensed is not None else [True] * n,
                         "name": [f"V{i}" for i in range(n)]})


def test_nearest_licensed_venue_equals_a_kd_tree_query():
    """The bucket join gives a k-d tree's answer (scipy cKDTree with the same upper bound) on
    random points, including incidents without a point and venues beyond the study's edge."""
    from scipy.spatial import cKDTree

    from hotspot.profiles import NEAR_VENUE_M, near_licensed

    rng = np.random.default_rng(11)
    for _ in range(8):
        n, v = int(rng.integers(1, 4000)), int(rng.integers(1, 200))
        ex = rng.uniform(0, 3000, n)
        ex[rng.random(n) < 0.05] = np.nan
        inc = pl.DataFrame({"easting": ex, "northing": rng.uniform(0, 3000, n)})
        ven = _venues(rng.uniform(-150, 3150, v), rng.uniform(-150, 3150, v))
        got = near_licensed(inc, ven)
        ok = np.isfinite(ex)
        _, idx = cKDTree(ven.select("easting", "northing").to_numpy()).query(
            inc.to_numpy()[ok], k=1, distance_upper_bound=NEAR_VENUE_M)
        expect = np.full(n, None, dtype=object)
        expect[np.flatnonzero(ok)] = [f"V{i}" if i < v else None for i in idx]
        assert got.to_list() == expect.tolist()


def test_nearest_venue_bound_is_strict_ties_go_to_the_first_and_unlicensed_are_ignored():
    from hotspot.profiles import near_licensed

    inc = pl.DataFrame({"easting": [50.0, 200.0, 1000.0, None], "northing": [0.0, 0.0, 0.0, 5.0]})
    ven = _venues([0.0, 100.0, 1000.0], [0.0, 0.0, 0.0], licensed=[True, True, False])
    # 50 m from V0 and V1 alike: V0 (listed first); exactly 100 m from V1: not near; V2 unlicensed
    assert near_licensed(inc, ven).to_list() == ["V0", None, None, None]
    assert near_licensed(inc, None).to_list() == [None] * 4
