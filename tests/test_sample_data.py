"""The embedded SYNTHETIC sample study (sample_data/study/).

Two promises: the committed files are exactly what `python -m sample_data.generate` writes (so
the generator, not hand edits, is the source), and the data are calibrated as
sample_data/README.md says. The calibration checks read the committed CSVs directly with Polars,
independently of the project's readers.
"""
from __future__ import annotations

import hashlib
import json
import time
import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import shapely
from pyproj import Transformer

from sample_data import generate

STUDY = generate.DEFAULT_OUT
FILES = ("areas.geojson", "indicators.csv", "population.csv", "rurality.csv", "venues.csv",
         "crimes.csv", "ae.csv", "interventions.toml", "study.toml", "README.md")
RECORD_COLUMNS = [
    "crime_ref", "offence_code", "offence_description", "committed_from", "committed_to",
    "easting", "northing", "location_type", "location_description", "lsoa_code",
    "domestic_abuse", "hate_crime", "knife_or_sharp", "firearm", "corrosive", "county_lines",
    "alcohol", "victim_age", "suspect_age", "force",
]
KNIFE_TARGET = {"2021/22": 580, "2022/23": 590, "2023/24": 590}
KNIFE_SHARES = {"North Worcestershire": 25, "South Worcestershire": 23, "Telford and Wrekin": 22,
                "Shropshire": 19, "Herefordshire": 11}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_study")
    t0 = time.process_time()  # CPU time: not inflated by other jobs on a shared machine
    generate.write_study(out, generate.DEFAULT_SEED)
    return out, time.process_time() - t0


def test_regenerating_gives_the_committed_files_byte_for_byte(regenerated):
    out, _ = regenerated
    for name in FILES:
        assert (STUDY / name).exists(), f"{name} missing from sample_data/study"
        assert _sha(out / name) == _sha(STUDY / name), (
            f"sample_data/study/{name} differs from what the generator writes: "
            "run `python -m sample_data.generate` and commit the result")


def test_output_is_small():
    total = sum((STUDY / f).stat().st_size for f in FILES)
    assert total < 6 * 1024 * 1024
    assert max((STUDY / f).stat().st_size for f in FILES) < 5 * 1024 * 1024


# --------------------------------------------------------------------------------------------
# Shared frames


@pytest.fixture(scope="module")
def areas() -> pl.DataFrame:
    """One row per LSOA: the hierarchy plus the polygon in BNG."""
    data = json.loads((STUDY / "areas.geojson").read_text(encoding="utf-8"))
    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)

    def to_bng(c):
        return np.column_stack(tr.transform(c[:, 0], c[:, 1]))

    geoms = [shapely.transform(shapely.geometry.shape(f["geometry"]), to_bng) for f in data["features"]]
    props = pl.DataFrame([f["properties"] for f in data["features"]])
    return props.with_columns(pl.Series("geometry", geoms, dtype=pl.Object))


@pytest.fixture(scope="module")
def crimes(areas) -> pl.DataFrame:
    """crimes.csv as text, plus the parsed time, financial year and the CSP found by location."""
    df = pl.read_csv(STUDY / "crimes.csv", infer_schema=False)
    cf = pl.col("committed_from")
    df = df.with_columns(pl.coalesce([
        cf.str.strptime(pl.Datetime("us"), f, strict=False)
        for f in ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S")
    ]).alias("t"))
    fy = pl.col("t").dt.year() - (pl.col("t").dt.month() < 4).cast(pl.Int32)
    df = df.with_columns(
        pl.when(pl.col("t").is_between(pl.datetime(2021, 4, 1), pl.datetime(2024, 3, 31, 23, 59)))
        .then(pl.format("{}/{}", fy, ((fy + 1) % 100).cast(pl.Utf8).str.pad_start(2, "0")))
        .alias("fy"),
        pl.col("easting").cast(pl.Float64, strict=False).alias("x"),
        pl.col("northing").cast(pl.Float64, strict=False).alias("y"),
    )
    x = df["x"].fill_null(np.nan).to_numpy()
    y = df["y"].fill_null(np.nan).to_numpy()
    tree = shapely.STRtree(areas["geometry"].to_list())
    ok = np.isfinite(x) & np.isfinite(y)
    hit = np.full(len(x), -1)
    q = tree.query(shapely.points(x[ok], y[ok]), predicate="intersects")
    hit[np.nonzero(ok)[0][q[0]]] = q[1]
    codes = np.append(areas["lsoa21_code"].to_numpy(), None)
    csps = np.append(areas["csp24_name"].to_numpy(), None)
    return df.with_columns(pl.Series("lsoa_found", codes[hit]), pl.Series("csp", csps[hit]))


# --------------------------------------------------------------------------------------------
# Areas, population, indicators


def test_areas_are_fictional_lsoas_that_nest(areas):
    assert 600 <= areas.height <= 900
    assert areas["lsoa21_code"].str.contains(r"^E0199\d{4}$").all()
    assert areas["lsoa21_code"].is_unique().all()
    assert areas["ward24_code"].str.contains(r"^E0599\d{4}$").all()
    assert areas["ltla24_code"].str.contains(r"^E0[67]99\d{4}$").all()
    assert areas["csp24_code"].str.contains(r"^E2299\d{4}$").all()
    assert set(areas["pfa24_code"]) == {"E23990001"}
    assert set(areas["csp24_name"]) == set(KNIFE_SHARES)
    assert areas["lsoa21_name"].str.contains(r" \d{3}[A-Z]$").all()
    # wards nest in districts, districts in CSPs
    assert areas.group_by("ward24_code").agg(pl.col("ltla24_code").n_unique())["ltla24_code"].max() == 1
    assert areas.group_by("ltla24_code").agg(pl.col("csp24_code").n_unique())["csp24_code"].max() == 1
    assert areas["ltla24_code"].n_unique() == 9
    geoms = areas["geometry"].to_list()
    assert all(g.is_valid and not g.is_empty for g in geoms)
    # a tessellation: no overlaps, one piece
    union = shapely.union_all(geoms)
    assert abs(sum(g.area for g in geoms) - union.area) < 1.0
    assert len(shapely.get_parts(union)) == 1


def test_areas_geojson_is_labelled_synthetic_and_rounded():
    text = (STUDY / "areas.geojson").read_text(encoding="utf-8")
    head = json.loads(text)
    assert "SYNTHETIC" in head["name"] and "SYNTHETIC" in head["description"]
    first = head["features"][0]["geometry"]["coordinates"][0][0][0]
    assert all(abs(v * 1e6 - round(v * 1e6)) < 1e-3 for v in first)
    lon, lat = first
    assert -3.3 < lon < -1.7 and 51.8 < lat < 53.1


def test_population_totals():
    pop = pl.read_csv(STUDY / "population.csv")
    assert pop["total_population"].sum() == generate.TOTAL_POPULATION == 1_299_900
    bands = [c for c in generate.AGE_BANDS]
    assert (pop.select(pl.sum_horizontal(bands))[:, 0] == pop["total_population"]).all()
    assert (pop["age_10_24"] == pop["age_10_15"] + pop["age_16_17"] + pop["age_18_24"]).all()
    assert pop["total_population"].min() > 400 and pop["total_population"].max() < 6000


def test_indicators_and_rurality_cover_every_lsoa(areas):
    codes = set(areas["lsoa21_code"])
    ind = pl.read_csv(STUDY / "indicators.csv")
    assert set(ind["lsoa21_code"]) == codes
    assert ind["IMD_decile"].is_between(1, 10).all()
    assert ind["IMD_rank"].is_between(1, 33755).all()
    # some deprived town estates, mostly average-to-affluent like the real partnership
    share_d1 = (ind["IMD_decile"] == 1).mean()
    assert 0.02 < share_d1 < 0.10
    assert 5.0 < ind["IMD_decile"].mean() < 7.0
    rur = pl.read_csv(STUDY / "rurality.csv")
    assert set(rur["lsoa21_code"]) == codes
    assert set(rur["ruc"]) == {"Urban", "Rural"}
    assert set(rur["ruc21_code"]) <= {"UN1", "UF1", "RLN1", "RLF1", "RSN1", "RSF1"}


def test_venues():
    v = pl.read_csv(STUDY / "venues.csv")
    assert v.columns == ["venue_id", "name", "type", "easting", "northing", "licensed", "hours"]
    assert v["venue_id"].is_unique().all()
    types = set(v["type"])
    assert {"pub", "bar", "nightclub", "takeaway", "off_licence", "bus_station", "train_station",
            "school"} <= types
    assert set(v["licensed"]) == {"Y", "N"}
    foregate = v.filter(pl.col("easting").is_between(384800, 385300)
                        & pl.col("northing").is_between(254400, 255400)
                        & pl.col("type").is_in(["pub", "bar", "nightclub"]))
    assert foregate.height >= 15  # Worcester's night-time streets


# --------------------------------------------------------------------------------------------
# Crimes


def test_crimes_follow_the_records_format(crimes):
    assert crimes.columns[:len(RECORD_COLUMNS)] == RECORD_COLUMNS
    markers = ["domestic_abuse", "hate_crime", "knife_or_sharp", "firearm", "corrosive",
               "county_lines", "alcohol"]
    for m in markers:
        assert set(crimes[m].fill_null("")) <= {"Y", "N", ""}, m
        assert (crimes[m].fill_null("") == "").mean() > 0.01, f"{m}: some should be not known"
    assert 20_000 <= crimes.height <= 30_000
    known = set(pl.read_csv(generate.OFFENCES_CSV, infer_schema=False)["offence_code"])
    codes = crimes["offence_code"].fill_null("")
    assert codes.is_in(list(known)).mean() > 0.998
    assert codes.is_in(["105A", "8N"]).mean() > 0.5  # all violence, not only serious


def test_knife_crime_by_year_and_csp(crimes):
    knife = crimes.filter((pl.col("knife_or_sharp") == "Y") & pl.col("fy").is_not_null())
    by_year = dict(knife.group_by("fy").len().iter_rows())
    for fy, target in KNIFE_TARGET.items():
        assert abs(by_year[fy] - target) <= 0.05 * target, (fy, by_year[fy])
    located = knife.filter(pl.col("csp").is_not_null())
    for fy in KNIFE_TARGET:
        part = located.filter(pl.col("fy") == fy)
        shares = {k: 100 * v / part.height for k, v in part.group_by("csp").len().iter_rows()}
        for csp, target in KNIFE_SHARES.items():
            assert abs(shares[csp] - target) <= 3, (fy, csp, round(shares[csp], 1))


def test_trends_domestic_abuse_youth_homicide(crimes):
    dated = crimes.filter(pl.col("fy").is_not_null() & pl.col("csp").is_not_null())
    counts = {(c, fy): n for c, fy, n in dated.group_by("csp", "fy").len().iter_rows()}
    change = {c: counts[(c, "2023/24")] / counts[(c, "2022/23")] - 1 for c in KNIFE_SHARES}
    assert -0.17 < change["Shropshire"] < -0.09      # falling about 13% in the latest year
    assert change["Telford and Wrekin"] > 0.04         # rising
    vwi = crimes.filter(pl.col("offence_code").is_in(["1", "4/1", "2", "5D", "5E", "8N", "8P", "8S", "8T"]))
    assert 0.28 < (vwi["domestic_abuse"] == "Y").mean() < 0.38
    age = crimes["victim_age"].cast(pl.Int32, strict=False).drop_nulls()
    assert 0.15 < (age < 25).mean() < 0.28
    homicides = dated.filter(pl.col("offence_code").is_in(["1", "4/1"])).group_by("fy").len()
    assert homicides["len"].is_between(2, 10).all() and homicides.height == 3


def test_night_time_peak_and_worcester_hotspot(crimes):
    venue_rows = crimes.filter(pl.col("location_type").is_in(["Nightclub", "Bar", "Public house"])
                               & pl.col("t").is_not_null())
    wd = venue_rows["t"].dt.weekday()  # Monday = 1
    hr = venue_rows["t"].dt.hour()
    fri_sat_night = ((wd >= 5) & (wd <= 6) & (hr >= 21)) | ((wd >= 6) & (hr < 4))
    assert fri_sat_night.mean() > 0.4
    cells = (crimes.drop_nulls(["x", "y"])
             .group_by((pl.col("x") // 250).alias("gx"), (pl.col("y") // 250).alias("gy")).len()
             .sort("len", descending=True))
    gx, gy, _ = cells.row(0)
    assert 384500 <= gx * 250 <= 385250 and 254500 <= gy * 250 <= 255500  # The Foregate area


def test_given_lsoa_codes_agree_with_the_coordinates(crimes):
    both = crimes.filter(pl.col("lsoa_code").is_not_null() & pl.col("lsoa_found").is_not_null())
    assert (both["lsoa_code"] == both["lsoa_found"]).mean() > 0.99
    assert 0.01 < crimes["lsoa_code"].is_null().mean() < 0.06  # some left blank, as in extracts


def test_a_few_bad_rows_for_the_ledger(crimes):
    n = crimes.height
    no_xy = (crimes["x"].is_null() | crimes["y"].is_null()).sum()
    bad_date = crimes["t"].is_null().sum()
    dup_ref = n - crimes["crime_ref"].n_unique()
    outside = crimes.filter(pl.col("x").is_between(1000, 700000) & pl.col("y").is_between(1000, 1300000)
                            & pl.col("csp").is_null()).height
    for k in (no_xy, bad_date, dup_ref, outside):
        assert k >= 2
    assert 0.001 < (no_xy + bad_date + dup_ref + outside) / n < 0.005


# --------------------------------------------------------------------------------------------
# A&E, interventions, study


def test_ae_attendances(crimes):
    ae = pl.read_csv(STUDY / "ae.csv", infer_schema=False)
    assert ae.columns == ["attendance_id", "site_code", "reporting_period_start",
                          "reporting_period_end", "arrival_datetime", "assault_datetime",
                          "assault_method", "assault_location_type",
                          "assault_location_description", "patient_age"]
    assert 3000 <= ae.height <= 5000
    assert ae["site_code"].n_unique() >= 5
    sharp = ae["assault_method"].str.to_lowercase().str.contains("knife|blade|glass|bottle")
    assert 0.05 < sharp.mean() < 0.2
    # about 80% never reach police records: only ~20% share time and age with a crime row
    keys = crimes.select(pl.col("committed_from").alias("assault_datetime"),
                         pl.col("victim_age").alias("patient_age")).unique()
    matched = ae.join(keys, on=["assault_datetime", "patient_age"], how="semi").height
    assert 0.10 < matched / ae.height < 0.30
    assert ae["assault_location_description"].str.contains("Foregate Street").any()


def test_interventions_and_study_toml():
    iv = tomllib.loads((STUDY / "interventions.toml").read_text(encoding="utf-8"))["intervention"]
    names = {i["name"] for i in iv}
    assert {"CLIMB", "Steer Clear", "GETSAFE", "PACE"} <= names
    assert next(i for i in iv if i["name"] == "PACE")["everywhere"] is True
    # the deliberate gap: nothing night-time covers Telford
    night = [i for i in iv if "night_time_economy" in i.get("themes", [])]
    assert night and all("Telford" not in json.dumps(i) for i in night)
    study = tomllib.loads((STUDY / "study.toml").read_text(encoding="utf-8"))
    assert study["study"]["synthetic"] is True
    assert "SYNTHETIC" in study["study"]["name"]
    assert study["settings"]["definition"] == "west-mercia"
    src = study["sources"]
    paths = [*src["crimes"], *src["ae"], src["areas"], *src.get("lookups", []),
             *src["indicators"], src["venues"], src["interventions"]]
    for p in paths:
        assert (STUDY / p).exists(), p
    assert "SYNTHETIC" in (STUDY / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The prepared (columnar) copy the workbench opens first (issue 14)


def _same_study(a, b) -> None:
    for k in ("incidents", "ae", "venues", "indicators"):
        x, y = getattr(a, k), getattr(b, k)
        assert x.schema == y.schema, k
        assert x.equals(y), k
    assert a.notes == b.notes
    assert [s.to_dict() for s in a.ledger.sources] == [s.to_dict() for s in b.ledger.sources]
    for s, t in zip(a.ledger.sources, b.ledger.sources):
        assert s.notes == t.notes
        assert (s.rows is None) == (t.rows is None)
        if s.rows is not None:
            assert s.rows.equals(t.rows)
    assert a.areas.lsoa["lsoa_code"].tolist() == b.areas.lsoa["lsoa_code"].tolist()
    assert len(a.interventions) == len(b.interventions)


@pytest.fixture(scope="module")
def study_copy(tmp_path_factory):
    from sample_data import columnar

    out = tmp_path_factory.mktemp("prepared_study")
    for name in FILES:
        (out / name).write_bytes((STUDY / name).read_bytes())
    columnar.build(out / "study.toml")
    return out


def test_prepared_copy_equals_reading_the_csvs(study_copy):
    from geodata.study import load_spec, load_study

    spec = load_spec(study_copy / "study.toml")
    steps: list[str] = []
    fast = load_study(spec, progress=lambda msg, frac: steps.append(msg))
    assert "Reading crimes" not in steps  # the copy was used
    _same_study(fast, load_study(spec, prepared=False))
    # Paths in the copy follow the folder it is opened from.
    assert fast.incidents["source_file"][0].startswith(str(study_copy))


def test_prepared_copy_is_not_used_once_a_csv_changes(study_copy, tmp_path):
    from geodata.study import load_spec, load_study

    changed = tmp_path / "study"
    changed.mkdir()
    for f in study_copy.rglob("*"):
        if f.is_file():
            dst = changed / f.relative_to(study_copy)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(f.read_bytes())
    crimes = changed / "crimes.csv"
    lines = crimes.read_bytes().splitlines(keepends=True)
    crimes.write_bytes(b"".join(lines[:-1]))
    steps: list[str] = []
    got = load_study(load_spec(changed / "study.toml"), progress=lambda m, f: steps.append(m))
    assert "Reading crimes" in steps
    assert sum(s.read for s in got.ledger.find("records")) == len(lines) - 2


def test_sample_ships_a_prepared_copy():
    from geodata.study import load_spec, prepared_dir

    folder = prepared_dir(load_spec(STUDY / "study.toml"))
    assert (folder / "manifest.json").is_file() and (folder / "incidents.parquet").is_file()


def test_the_shipped_prepared_copy_is_current():
    """A stale copy is never used (the CSVs are read instead), so nothing breaks, but the
    workbench then opens the sample at CSV speed: after changing the sample or any geodata
    reader, rebuild it with `python -m sample_data.columnar`. The copy records the Polars it
    was written with; under another Polars it is stale by design and this check says so."""
    import json

    import polars as pl

    from geodata.study import load_spec, prepared_dir, prepared_inputs

    spec = load_spec(STUDY / "study.toml")
    man = json.loads((prepared_dir(spec) / "manifest.json").read_text(encoding="utf-8"))
    if man.get("polars") != pl.__version__:
        pytest.skip(f"the prepared copy was written with Polars {man.get('polars')}, this is {pl.__version__}")
    assert man["inputs"] == prepared_inputs(spec), (
        "sample_data/study/prepared is stale: run `python -m sample_data.columnar` and commit it")
