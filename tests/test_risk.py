"""Risk factors against the force average, and the risk terrain model (penalised Poisson)."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
import shapely
from sklearn.linear_model import PoissonRegressor

from hotspot.analysis import Filters
from hotspot.risk import poisson_lasso, risk_factors, risk_summary, risk_terrain
from test_area_profiles import CODES, X0, Y0, incident, toy_prep, toy_study, venue

INDICATORS = pl.DataFrame({
    "lsoa_code": CODES,
    "total_population": [1000, 1200, 800, 1000],
    "age_10_24": [300, 120, 80, 100],
    "IMD_score": [40.0, 10.0, 10.0, 20.0],
    "Income_score": [0.4, 0.1, 0.1, 0.2],
    "Crime_score": [2.0, -1.0, -1.0, 0.0],
    "violence_with_injury_rate_per_1_000_at_risk_population": [40.0, 5.0, 5.0, 10.0],
    "income_deprivation_affecting_children_index_idaci_numerator": [90, 10, 5, 20],
    "digital_connectivity_broadband_download_and_upload_speeds": [0.9, 0.1, 0.2, 0.3],
    "IMD_decile": [1, 8, 9, 5],
    "Health_score": [1.5, -0.5, -0.5, -0.5],
    "rural": [0, 0, 1, 1],
})
PUBS = [venue(f"Pub {i}", X0 + 100 + 100 * i, Y0 + 100) for i in range(5)]
SCHOOL = [venue("High School", X0 + 1500, Y0 + 1500, "school", licensed=False)]


@pytest.fixture(scope="module")
def study():
    rows = [incident(c, datetime(2023, 1, 5, 20)) for c in CODES]
    return toy_study(rows, venues=PUBS + SCHOOL, indicators=INDICATORS)


@pytest.fixture(scope="module")
def prep(study):
    return toy_prep(study)


def _f(df: pl.DataFrame, code: str, factor: str) -> dict:
    return df.filter((pl.col("code") == code) & (pl.col("factor") == factor)).row(0, named=True)


def test_lsoa_factors_against_the_force(prep, study):
    notes: list[str] = []
    df = risk_factors(prep, study.indicators, "lsoa", areas=study.areas, notes=notes)
    inc = _f(df, "E01000001", "imd_income")
    assert inc["label"] == "Income deprivation (IMD income domain score)" and inc["column"] == "Income_score"
    assert inc["force_value"] == pytest.approx(0.2)  # (0.4x1000 + 0.1x1200 + 0.1x800 + 0.2x1000) / 4000
    assert inc["ratio"] == pytest.approx(2.0) and inc["top_pct"] == pytest.approx(0.25)
    sd = np.std([0.4, 0.1, 0.1, 0.2])  # spread of the force's LSOAs
    assert inc["lsoa_sd"] == pytest.approx(sd) and inc["std_diff"] == pytest.approx(0.2 / sd)
    assert inc["text"] == "Income deprivation (IMD income domain score) 2.0x the force average (top 25% of LSOAs)"
    assert inc["flagged"] and inc["comparison"] == "higher_risk"
    assert _f(df, "E01000004", "imd_income")["comparison"] == "similar"  # at the force average
    assert not _f(df, "E01000004", "imd_income")["flagged"]
    youth = _f(df, "E01000001", "youth_share")
    assert youth["value"] == pytest.approx(0.3) and youth["force_value"] == pytest.approx(0.15)
    pubs = _f(df, "E01000001", "licensed_venue_density")
    assert pubs["value"] == pytest.approx(5.0) and pubs["ratio"] == pytest.approx(4.0)
    assert pubs["text"] == "Licensed venues per km² (from the venue file) 4.0x the force average (top 25% of LSOAs)"
    health = _f(df, "E01000001", "imd_health")
    assert health["ratio"] is None  # a z-score around 0: no ratio
    assert health["std_diff"] == pytest.approx(1.5 / np.std([1.5, -0.5, -0.5, -0.5]))
    assert not _f(df, "E01000003", "rural_share")["flagged"]  # the rural LSOA is on the low-risk side
    assert df.filter(pl.col("factor") == "population_density").height == 4
    # the IMD includes the crime domain: context, never a risk flag; the crime domain and its
    # indicators, counts and columns of unknown direction are not in the default list
    imd = _f(df, "E01000001", "imd_score")
    assert imd["kind"] == "context" and not imd["flagged"] and not imd["headline"]
    factors = set(df["factor"].drop_nulls())
    assert not factors & {"crime_domain", "violence_with_injury_rate", "idaci_numerator", "broadband", "imd_score_decile"}
    assert set(df.filter(pl.col("flagged"))["kind"]) == {"risk"}
    # IDACI: estimated from its numerator over residents aged 0-15 when the file has no rate
    assert "idaci_rate" in factors and _f(df, "E01000001", "idaci_rate")["value"] is None  # no age 0-15 bands
    ranked = df.filter((pl.col("code") == "E01000001") & pl.col("flagged")).sort("rank")
    assert ranked["rank"].to_list() == list(range(1, ranked.height + 1))
    summary = risk_summary(df)
    assert summary.filter(pl.col("code") == "E01000001")["n_flagged"].item() == ranked.height


def test_unknown_direction_only_on_request(prep, study):
    df = risk_factors(prep, study.indicators, "lsoa", areas=study.areas, include="all")
    bb = df.filter(pl.col("factor") == "broadband")
    assert bb.height == 4 and bb["label"][0] == "Broadband download and upload speeds (IMD indicator)"
    assert (bb["direction"] == 0).all() and not bb["flagged"].any() and bb["comparison"].null_count() == 4
    assert set(bb["comparison_reason"]) == {"direction_unknown"}
    assert not set(df["factor"].drop_nulls()) & {"crime_domain", "violence_with_injury_rate", "idaci_numerator"}
    dec = df.filter(pl.col("factor") == "imd_score_decile")
    assert dec.height == 4 and not dec["headline"].any()


def test_the_force_is_never_compared_with_itself(prep, study):
    df = risk_factors(prep, study.indicators, "force", areas=study.areas)
    known = df.filter(pl.col("value").is_not_null())
    assert known.height > 0
    assert known["ratio"].null_count() == known.height and known["comparison"].null_count() == known.height
    assert set(known["comparison_reason"]) == {"is_force"} and not known["flagged"].any()
    assert not known["text"].str.contains("force average").any()


def test_area_levels_weight_by_population(prep, study):
    df = risk_factors(prep, study.indicators, "csp", areas=study.areas)
    north = _f(df, "E22000001", "imd_score")
    assert north["value"] == pytest.approx((40 * 1000 + 10 * 1200) / 2200)
    assert north["top_pct"] == pytest.approx(0.5) and not north["flagged"]
    deprived = _f(df, "E22000001", "imd_most_deprived_share")
    assert deprived["value"] == pytest.approx(1000 / 2200) and deprived["force_value"] == pytest.approx(0.25)
    assert _f(df, "E22000002", "rural_share")["value"] == pytest.approx(1.0)
    assert set(df["unit"]) == {"csp"} and df.filter(pl.col("code") == "E22000001")["name"][0] == "North CSP"


def test_locality_factors_use_its_lsoas_and_polygon(prep, study):
    loc = pl.DataFrame({
        "locality_id": ["L-A"], "name": ["Pub Street"], "area_m2": [360_000.0],
        "geometry_wkb": [shapely.to_wkb(shapely.box(X0, Y0, X0 + 600, Y0 + 600))],
    })
    inc = pl.DataFrame({"locality_id": ["L-A", "L-A", None], "lsoa_code": ["E01000001", "E01000002", "E01000003"]})
    df = risk_factors(prep, study.indicators, SimpleNamespace(localities=loc, incidents=inc), areas=study.areas)
    assert set(df["unit"]) == {"locality"}
    assert _f(df, "L-A", "imd_score")["value"] == pytest.approx(52000 / 2200)
    dens = _f(df, "L-A", "licensed_venue_density")
    assert dens["value"] == pytest.approx(5 / 0.36)
    assert dens["text"].endswith("x the force average (top 25% of LSOAs)") and dens["flagged"]
    alone = risk_factors(prep, study.indicators, loc.with_columns(pl.lit("E01000001").alias("lsoa_code")),
                         areas=study.areas)
    assert _f(alone, "L-A", "imd_score")["value"] == pytest.approx(40.0)


def test_venue_density_never_from_crime_labels(study):
    """Venues inferred from police.uk location labels are the crimes themselves: not known."""
    from dataclasses import replace as dc_replace

    labelled = study.venues.with_columns(pl.lit("police.uk label").alias("origin"))
    prep = toy_prep(dc_replace(study, venues=labelled))
    notes: list[str] = []
    df = risk_factors(prep, study.indicators, "csp", areas=study.areas, notes=notes)
    v = df.filter(pl.col("factor") == "licensed_venue_density")
    assert v.height == 2 and v["value"].null_count() == 2 and set(v["reason"]) == {"no_venue_file"}
    assert not v["flagged"].any() and any("never built from crime location labels" in n for n in notes)


def test_rurality_from_codes_or_labels(prep):
    for col, values in (("ruc21_code", ["UN1", "UF1", "RSF1", "RLN1"]),
                        ("classification", ["Urban: Nearer to a major town or city", "Urban: Further from",
                                            "Smaller rural: Further from", "Larger rural: Nearer to"]),
                        ("ruc11_code", ["A1", "C1", "E2", "D1"])):
        ind = pl.DataFrame({"lsoa_code": CODES, "total_population": [1000, 1200, 800, 1000], col: values})
        df = risk_factors(prep, ind, "csp")
        assert _f(df, "E22000002", "rural_share")["value"] == pytest.approx(1.0), col
        assert _f(df, "E22000001", "rural_share")["value"] == pytest.approx(0.0), col


def test_without_indicators_or_boundaries_say_so(prep):
    notes: list[str] = []
    df = risk_factors(prep, None, "csp", notes=notes)
    assert df["value"].null_count() == df.height  # every curated factor is "not known", with why
    assert set(df["reason"]) >= {"not_in_indicators", "no_boundaries", "no_age_bands"}
    assert not df["flagged"].any()
    assert any("No boundaries" in n for n in notes)


# --------------------------------------------------------------------------------------------
# Penalised Poisson
# --------------------------------------------------------------------------------------------


def _poisson_data(seed=0, n=4000):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:, 3] = rng.uniform(size=n) < 0.2
    y = rng.poisson(np.exp(0.2 + 0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.8 * X[:, 3]))
    return X, y.astype(float)


def test_unpenalised_fit_matches_sklearn():
    X, y = _poisson_data()
    b0, b, ok = poisson_lasso(X, y, 0.0)
    ref = PoissonRegressor(alpha=0.0, max_iter=1000, tol=1e-10).fit(X, y)
    assert ok
    assert b0 == pytest.approx(ref.intercept_, abs=1e-6)
    np.testing.assert_allclose(b, ref.coef_, atol=1e-6)


def test_lasso_meets_its_optimality_conditions():
    X, y = _poisson_data(1)
    lam = 0.05
    b0, b, ok = poisson_lasso(X, y, lam)
    assert ok
    grad = X.T @ (y - np.exp(b0 + X @ b)) / len(y)
    active = np.abs(b) > 1e-10
    np.testing.assert_allclose(grad[active], lam * np.sign(b[active]), atol=1e-5)
    assert np.all(np.abs(grad[~active]) <= lam + 1e-6)
    assert (~active).any()  # the weak factor is dropped
    lam_max = np.abs(X.T @ (y - y.mean())).max() / len(y)
    _, b_max, _ = poisson_lasso(X, y, lam_max * 1.01)
    assert np.all(b_max == 0)


def test_collapsed_rows_give_the_same_fit():
    rng = np.random.default_rng(3)
    Xu = rng.integers(0, 2, size=(6, 2)).astype(float)
    m = np.array([3, 1, 4, 1, 5, 9], dtype=float)
    rows = np.repeat(np.arange(6), m.astype(int))
    y = rng.poisson(2.0, size=len(rows)).astype(float)
    full = poisson_lasso(Xu[rows], y, 0.02)
    ymean = np.bincount(rows, weights=y) / m
    grouped = poisson_lasso(Xu, ymean, 0.02, sample_weight=m)
    assert grouped[0] == pytest.approx(full[0], abs=1e-7)
    np.testing.assert_allclose(grouped[1], full[1], atol=1e-7)


# --------------------------------------------------------------------------------------------
# Risk terrain
# --------------------------------------------------------------------------------------------


def test_risk_terrain_picks_the_bars_not_the_schools():
    bars = [venue(f"Bar {i}", X0 + 250 + 200 * i, Y0 + 250, "bar") for i in range(5)]
    schools = [venue(f"School {i}", X0 + 1050 + 200 * (i % 3), Y0 + 1550 + 200 * (i // 3), "school", False)
               for i in range(5)]
    clubs = [venue(f"Club {i}", X0 + 1850, Y0 + 150 + 100 * i, "nightclub") for i in range(2)]
    study = toy_study([incident(c, datetime(2023, 1, 5, 20)) for c in CODES], venues=bars + schools + clubs)
    prep = toy_prep(study)
    cx, cy = prep.grid.centres()
    cx, cy = cx[prep.cell_flat], cy[prep.cell_flat]
    bxy = np.array([[v["easting"], v["northing"]] for v in bars])
    sxy = np.array([[v["easting"], v["northing"]] for v in schools])
    d_bar = np.min(np.hypot(cx[:, None] - bxy[:, 0], cy[:, None] - bxy[:, 1]), axis=1)
    d_school = np.min(np.hypot(cx[:, None] - sxy[:, 0], cy[:, None] - sxy[:, 1]), axis=1)
    idx = np.arange(prep.n_cells)
    y = np.where(d_bar <= 150, 4.0, np.where((idx % 5 == 0) & (d_school > 400), 1.0, 0.0))
    notes: list[str] = []
    cells, factors = risk_terrain(prep, SimpleNamespace(cell_arrays={"count": y}), notes=notes)
    assert cells.height == prep.n_cells == 400
    bar = factors.filter(pl.col("factor") == "bar").row(0, named=True)
    assert bar["selected"] and bar["relative_risk"] > 2
    school = factors.filter(pl.col("factor") == "school").row(0, named=True)
    assert not school["selected"] and school["left_out"] is not None
    club = factors.filter(pl.col("factor") == "nightclub").row(0, named=True)
    assert club["left_out"] == "fewer than 5 venues"
    assert cells["score"].min() == pytest.approx(1.0)
    near = cells.filter(pl.Series(d_bar <= 100))["score"].mean()
    assert near > 2 * cells.filter(pl.Series(d_school <= 100))["score"].mean()
    assert any("Risk terrain" in n for n in notes)


# --------------------------------------------------------------------------------------------
# Real and sample data
# --------------------------------------------------------------------------------------------


def test_real_west_mercia_deprivation(west_mercia_prep, west_mercia_study, real_dir):
    from geodata.indicators import read_indicators

    areas = west_mercia_study.areas
    imd = read_indicators(real_dir / "indicators" / "imd2025_lsoa21_westmercia_warwickshire.csv", areas)
    df = risk_factors(west_mercia_prep, imd, "csp", areas=areas)
    telford = _f(df, df.filter(pl.col("name") == "Telford and Wrekin")["code"][0], "imd_income")
    assert telford["ratio"] > 1.1 and telford["flagged"]  # Telford and Wrekin is the most deprived of the five
    lsoa = risk_factors(west_mercia_prep, imd, "lsoa", areas=areas)
    top = lsoa.filter((pl.col("factor") == "imd_income") & (pl.col("top_pct") <= 0.05))
    assert top.height > 0 and top["text"].str.contains(r"x the force average \(top [1-5]% of LSOAs\)").all()


def test_sample_risk_and_terrain(sample_prep, sample_study):
    from datetime import date

    from hotspot.analysis import analyse
    from hotspot.area_profiles import study_months

    df = risk_factors(sample_prep, sample_study.indicators, "csp", areas=sample_study.areas)
    assert df.filter(pl.col("factor") == "youth_share")["value"].null_count() == 0
    months, _ = study_months(sample_prep)
    analysis = analyse(sample_prep, Filters(start=months[0], end=months[-1]))
    loc = risk_factors(sample_prep, sample_study.indicators, analysis, areas=sample_study.areas)
    venues = loc.filter(pl.col("factor") == "licensed_venue_density")
    top = analysis.localities.sort("harm", descending=True).head(10)["locality_id"].to_list()
    busiest = venues.filter(pl.col("code").is_in(top))
    assert busiest.height == 10 and busiest["flagged"].sum() >= 5  # the worst hotspots sit among licensed venues
    cells, factors = risk_terrain(sample_prep, analysis)
    assert cells["score"].min() == pytest.approx(1.0)
    nte = factors.filter(pl.col("factor").is_in(["pub", "bar", "nightclub"]) & pl.col("selected"))
    assert nte.height >= 1 and (nte["relative_risk"] > 1).all()
    assert date(2021, 4, 1) == months[0]
