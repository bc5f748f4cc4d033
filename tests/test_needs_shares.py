"""Shares are shares (issue 12, must 3): no engine share exceeds 1, on the sample and real data.

Sweeps every area of every level and every hotspot locality: the area profiles' shares, the
overlap of each locality with each area (`hotspot.overlap`), the localities' own share of their
CSP's harm, and the risk factors that are shares. The West Mercia case that printed "125% of the
harm in the LSOA" is checked against a hand count of the overlap.
"""
from __future__ import annotations

import polars as pl
import pytest

from hotspot.area_profiles import LEVELS, area_profiles
from hotspot.overlap import SHARE_COLUMNS, locality_area_shares

EPS = 1e-12


def _share_cols(df: pl.DataFrame) -> list[str]:
    return [c for c, t in df.schema.items() if t.is_float() and (c.endswith("_share") or c.startswith("share_")
                                                                   or c.endswith("_known"))]


def _sweep(prep, analysis, indicators) -> int:
    """Assert no share above 1 anywhere; return how many share values were checked."""
    checked = 0
    for level in LEVELS:
        try:
            prof = area_profiles(prep, analysis, level, indicators=indicators)
        except ValueError:
            continue  # the study has no such level
        for c in _share_cols(prof):
            v = prof[c].drop_nulls()
            assert (v <= 1 + EPS).all() and (v >= 0).all(), (level, c, v.max())
            checked += v.len()
        over = locality_area_shares(prep, analysis, level)
        for c in SHARE_COLUMNS:
            v = over[c].drop_nulls()
            assert (v <= 1 + EPS).all(), (level, c, over.filter(pl.col(c) > 1 + EPS).head(3))
            checked += v.len()
        # every area's localities together hold at most all of it
        if over.height:
            per_area = over.group_by("code").agg(pl.col("n").sum(), pl.col("area_n").first())
            assert (per_area["n"] <= per_area["area_n"]).all()
    v = analysis.localities["share_of_area_harm"].drop_nulls() if "share_of_area_harm" in analysis.localities.columns else []
    assert all(x <= 1 + EPS for x in v)
    return checked + len(v)


def test_no_share_above_one_on_the_sample(sample_prep, sample_analysis, sample_study):
    assert sample_analysis.localities.height > 0
    assert _sweep(sample_prep, sample_analysis, sample_study.indicators) > 1000


@pytest.fixture(scope="module")
def wm(real_dir):
    from geodata.study import load_study, spec_from_options
    from hotspot.analysis import analyse, prepare

    spec = spec_from_options(
        crimes=[str(real_dir / "police-uk" / "west-mercia")],
        areas=str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"),
        lookups=[str(real_dir / "lookups" / "lad24_csp24_pfa24_EW.csv"),
                 str(real_dir / "lookups" / "lsoa11_lsoa21_lad22_westmercia_warwickshire.csv")],
        indicators=[str(real_dir / "indicators" / "population_mid2019_lsoa11_agebands_westmercia_warwickshire.csv")],
    )
    study = load_study(spec)
    prep = prepare(study)
    return study, prep, analyse(prep)


def test_no_share_above_one_on_west_mercia(wm):
    study, prep, analysis = wm
    assert analysis.localities.height > 0
    assert _sweep(prep, analysis, study.indicators) > 5000


def test_the_125_percent_lsoa_is_an_overlap_share(wm):
    """Herefordshire 012C (E01014010): the locality's harm over the LSOA's was 1.25."""
    _study, prep, analysis = wm
    inc = analysis.incidents
    lsoa = "E01014010"
    over = locality_area_shares(prep, analysis, "lsoa").filter(pl.col("code") == lsoa)
    assert over.height >= 1
    for r in over.iter_rows(named=True):
        inside = inc.filter((pl.col("locality_id") == r["locality_id"]) & (pl.col("lsoa_code") == lsoa))
        whole = inc.filter(pl.col("lsoa_code") == lsoa)
        assert r["harm"] == pytest.approx(float(inside["harm"].sum()))
        assert r["area_harm"] == pytest.approx(float(whole["harm"].sum()))
        assert r["share_of_area_harm"] == pytest.approx(inside["harm"].sum() / whole["harm"].sum())
        # the old figure divided the whole locality by the LSOA, and exceeded 1
        whole_loc = float(inc.filter(pl.col("locality_id") == r["locality_id"])["harm"].sum())
        if whole_loc > r["area_harm"]:
            assert r["share_of_locality_harm"] < 1 and r["share_of_area_harm"] <= 1


def test_warwickshire_total_and_shares(real_dir):
    """The second real force: its total is the raw files' proxy count, no share above 1."""
    from geodata.study import load_study, spec_from_options
    from hotspot.analysis import analyse, prepare
    from hotspot.area_profiles import attach_unplaced

    crimes = real_dir / "police-uk" / "warwickshire"
    spec = spec_from_options(
        crimes=[str(crimes)],
        areas=str(real_dir / "boundaries" / "lsoa21_warwickshire_bsc.geojson"),
        lookups=[str(real_dir / "lookups" / "lad24_csp24_pfa24_EW.csv"),
                 str(real_dir / "lookups" / "lsoa11_lsoa21_lad22_westmercia_warwickshire.csv")],
        indicators=[str(real_dir / "indicators" / "population_mid2019_lsoa11_agebands_westmercia_warwickshire.csv")],
    )
    study = load_study(spec)
    prep = prepare(study)
    attach_unplaced(prep, study.ledger)
    raw = pl.concat([pl.read_csv(f, infer_schema_length=0) for f in sorted(crimes.glob("*.csv"))]).filter(
        pl.col("Crime type").is_in(["Violence and sexual offences", "Robbery", "Possession of weapons"]))
    force = area_profiles(prep, None, "force", indicators=study.indicators).row(0, named=True)
    # one Crime ID appears twice in the files: counted once (the ledger quarantines the copy)
    assert raw.height - raw.unique("Crime ID").height == 1
    assert force["n"] == raw.unique("Crime ID").height
    analysis = analyse(prep)
    assert _sweep(prep, analysis, study.indicators) > 1000
