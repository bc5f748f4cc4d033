"""Tests for hotspot.harm: weight lookups, fallbacks, provisional flags and the shipped tables."""

from __future__ import annotations

import polars as pl
import pytest

from geodata.schema import INCIDENT_SCHEMA, conform
from hotspot.definition import POLICE_UK_CRIME_TYPES
from hotspot.harm import (
    add_harm,
    calibrate_police_uk_defaults,
    harm_expr,
    harm_weights,
    offence_weights,
    police_uk_weights,
    weights_table,
    with_harm,
)

BASES = {"css_reported", "css_thirdparty", "css_unlabelled", "estimate", "none",
         "volume_weighted_estimate", "not_a_crime", "successor_code"}


def frame(rows: list[dict]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows, infer_schema_length=None), INCIDENT_SCHEMA)


def weight_of(code: str) -> dict:
    return offence_weights().filter(pl.col("offence_code") == code).row(0, named=True)


@pytest.mark.parametrize(
    "code, weight",
    [("1", 7979), ("4/1", 7979), ("2", 4663), ("5D", 1965), ("8F", 333), ("8N", 184), ("8G", 127)],
)
def test_publicly_reported_css_weights(code, weight):
    row = weight_of(code)
    assert row["harm_weight"] == weight
    assert row["weight_basis"] == "css_reported"
    assert row["weight_year"] == 2016
    assert row["provisional"] is True  # none checked against the current ONS workbook


def test_every_weight_is_provisional_with_a_source():
    t = offence_weights()
    assert t["provisional"].all()
    assert t["weight_source"].is_not_null().all()
    assert set(t["weight_basis"].to_list()) <= BASES
    css = t.filter(pl.col("weight_basis").str.starts_with("css_"))
    assert (css["weight_year"] == 2016).all()
    # a null weight is always declared as such
    assert (t.filter(pl.col("harm_weight").is_null())["weight_basis"] == "none").all()
    assert (t["harm_weight"].drop_nulls() >= 0).all()


def test_weights_rank_the_violence_ladder():
    w = {c: weight_of(c)["harm_weight"] for c in ("1", "2", "5D", "8F", "8N", "8G", "105A")}
    assert w["1"] > w["2"] > w["5D"] > w["8F"] > w["8N"] > w["8G"] > w["105A"]


def test_police_uk_defaults_cover_every_crime_type():
    t = police_uk_weights()
    assert set(t["crime_type"].to_list()) == set(POLICE_UK_CRIME_TYPES)
    assert t["rationale"].is_not_null().all()
    assert set(t["weight_basis"].to_list()) <= BASES
    vso = t.filter(pl.col("crime_type") == "Violence and sexual offences").row(0, named=True)
    assert vso["provisional"] is True and "mix" in vso["rationale"].lower()
    asb = t.filter(pl.col("crime_type") == "Anti-social behaviour").row(0, named=True)
    assert asb["harm_weight"] == 0 and asb["provisional"] is False


def test_harm_by_code_then_by_crime_type():
    df = frame([
        {"offence_code": "5D"},                          # code weight
        {"offence_code": " 8n"},                         # normalised code
        {"offence_code": "33"},                          # code without a weight -> Other crime
        {"offence_code": "ZZ", "crime_type": "Drugs"},   # unknown code, crime type given
        {"crime_type": "Robbery"},                       # police.uk row
        {"crime_type": "Anti-social behaviour"},
        {"offence_code": "ZZ"},                          # nothing to go on
        {},
    ])
    out = with_harm(df)
    assert out["harm"].to_list() == [1965.0, 184.0, 100.0, 100.0, 746.0, 0.0, None, None]
    assert out["harm_basis"].to_list() == ["offence code", "offence code", "crime type",
                                           "crime type", "crime type", "crime type", None, None]
    assert out["harm_provisional"].to_list() == [True, True, True, True, True, False, None, None]
    assert out.schema["harm"] == pl.Float64
    assert out.height == df.height


def test_default_fills_what_cannot_be_weighed():
    df = frame([{"offence_code": "ZZ"}, {"offence_code": "1"}])
    out = with_harm(df, default=50)
    assert out["harm"].to_list() == [50.0, 7979.0]
    assert out["harm_basis"].to_list() == ["default", "offence code"]
    assert out["harm_provisional"].to_list() == [True, True]


def test_harm_weights_series_and_expr_agree():
    df = frame([{"offence_code": c} for c in ("1", "34B", "10D", "92E", "ZZ")])
    s = harm_weights(df)
    assert s.name == "harm" and s.dtype == pl.Float64 and s.len() == 5
    assert s.to_list() == [7979.0, 746.0, 75.0, 3.0, None]
    assert df.with_columns(harm_expr(df.columns))["harm"].equals(s)
    # frames without the columns still work (police.uk-only, or codes-only)
    assert harm_weights(pl.DataFrame({"crime_type": ["Burglary"]})).to_list() == [350.0]
    assert harm_weights(pl.DataFrame({"offence_code": ["2"]})).to_list() == [4663.0]


def test_with_harm_replaces_existing_columns():
    df = with_harm(frame([{"offence_code": "1"}]))
    again = with_harm(df)
    assert again.columns == df.columns and again.equals(df)
    assert add_harm(frame([{"offence_code": "1"}])).equals(df)


def test_weights_table_for_display():
    t = weights_table()
    assert {"level", "key", "description", "harm_weight", "weight_basis", "weight_source",
            "weight_year", "provisional", "note"} <= set(t.columns)
    assert t.filter(pl.col("level") == "offence").height == offence_weights().height
    assert set(t.filter(pl.col("level") == "police.uk type")["key"].to_list()) == set(
        POLICE_UK_CRIME_TYPES)
    murder = t.filter((pl.col("level") == "offence") & (pl.col("key") == "1")).row(0, named=True)
    assert murder["harm_weight"] == 7979 and murder["provisional"] is True
    assert t["provisional"].is_not_null().all()


def test_calibrate_defaults_from_local_records():
    df = frame([{"offence_code": c} for c in ("8N", "8N", "5D", "33", "34A")])
    cal = calibrate_police_uk_defaults(df)
    vso = cal.filter(pl.col("crime_type") == "Violence and sexual offences").row(0, named=True)
    assert vso["incidents"] == 3 and vso["weighted"] == 3
    assert vso["harm_weight"] == pytest.approx((184 + 184 + 1965) / 3)
    assert vso["shipped_weight"] == 240
    other = cal.filter(pl.col("crime_type") == "Other crime").row(0, named=True)
    assert other["weighted"] == 0 and other["harm_weight"] is None


def test_checked_codes_are_resolved_as_recorded():
    """Issue 12 must 9: 5E, 5B, 5C, 8H, 8J and 37/2 as hotspot/data/harm_checks.csv records them."""
    from importlib import resources

    with resources.files("hotspot").joinpath("data", "harm_checks.csv").open("rb") as fh:
        checks = pl.read_csv(fh, schema_overrides={"weight_before": pl.Float64, "weight_after": pl.Float64})
    t = offence_weights()
    for r in checks.iter_rows(named=True):
        row = t.filter(pl.col("offence_code") == r["offence_code"]).row(0, named=True)
        assert row["harm_weight"] == r["weight_after"], r["offence_code"]
        assert row["weight_basis"] == r["weight_basis_after"]
    w = dict(zip(t["offence_code"], t["harm_weight"]))
    # legacy classes carry their successor's weight; 37/2 no longer carries 37/1's 722
    assert w["5B"] == w["5C"] == w["5E"] and w["8H"] == w["8J"] == w["8P"]
    assert w["37/2"] is None
