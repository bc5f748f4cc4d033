"""Tests for geodata.ae: the A&E (Cardiff Model / ISTV) assault extract reader."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from geodata.ae import match_venue_names, normalise_assault_method, read_ae
from geodata.errors import SourceError
from geodata.ledger import Ledger
from geodata.schema import AE_SCHEMA, VENUE_SCHEMA, conform
from geodata.venues import read_venues

EXAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "examples"
HEADER = ("attendance_id,site_code,arrival_datetime,assault_datetime,assault_method,"
          "assault_location_type,assault_location_description,patient_age")


def venues_frame(rows: list[tuple]) -> pl.DataFrame:
    df = pl.DataFrame(rows, schema=["venue_id", "name", "type", "easting", "northing"], orient="row")
    return conform(df.with_columns(pl.lit("file").alias("origin")), VENUE_SCHEMA)


VENUES = venues_frame([
    ("V1", "The Red Lion", "pub", 385000.0, 254000.0),
    ("V2", "Red Lion Yard", "shopping_centre", 385100.0, 254100.0),
    ("V3", "O'Neill's", "bar", 385200.0, 254200.0),
    ("V4", "Crown & Anchor", "pub", 385300.0, 254300.0),
    ("V5", "The Crown", "pub", 385400.0, 254400.0),
    ("V6", "Kebab King", "takeaway", 385500.0, 254500.0),
    ("V7", "Kebab King", "takeaway", 369700.0, 308800.0),
    ("V8", "Zoo", "nightclub", 385600.0, 254600.0),
    ("V9", "Bar One", "bar", 385700.0, 254700.0),
])


def read(tmp_path: Path, body: str, header: str = HEADER, venues=None):
    p = tmp_path / "ae.csv"
    p.write_text(header + "\n" + body + "\n", encoding="utf-8")
    ledger = Ledger()
    df = read_ae(p, venues, ledger)
    (e,) = ledger.sources
    assert e.balanced
    return df, e


def test_example_file_with_venues():
    ledger = Ledger()
    venues = read_venues(EXAMPLES / "venues_example.csv", ledger)
    df = read_ae(EXAMPLES / "ae_example.csv", venues, ledger)
    e = ledger.find("ae")[0]
    assert df.schema == pl.Schema(AE_SCHEMA)
    assert (e.read, e.accepted) == (21, 18)
    assert e.quarantined == {"missing required value": 1, "unparseable date": 1, "duplicate id": 1}
    assert df["venue_id"].drop_nulls().len() >= 12
    assert set(df["assault_method"]) <= {"sharp_object", "blunt_object", "body_part", "firearm",
                                          "corrosive", "other", "unknown"}
    # located rows have coordinates, unlocated ones none
    assert (df["venue_id"].is_not_null() <= df["easting"].is_not_null()).all()


@pytest.mark.parametrize(
    "text, method",
    [
        ("Knife", "sharp_object"), ("stabbed with kitchen knife", "sharp_object"),
        ("Blade", "sharp_object"), ("Glass", "sharp_object"), ("glassed", "sharp_object"),
        ("Broken bottle", "sharp_object"), ("Bottle (broken)", "sharp_object"),
        ("glass bottle", "sharp_object"), ("Screwdriver", "sharp_object"),
        ("Sharp object (knife, glass)", "sharp_object"), ("machete", "sharp_object"),
        ("Bottle", "blunt_object"), ("hit with a bottle", "blunt_object"),
        ("Baseball bat", "blunt_object"), ("Iron bar", "blunt_object"),
        ("Blunt object", "blunt_object"), ("hammer", "blunt_object"),
        ("Fist", "body_part"), ("Punched", "body_part"), ("kicked", "body_part"),
        ("Head butt", "body_part"), ("Body part (fist/feet)", "body_part"), ("slapped", "body_part"),
        ("Gun", "firearm"), ("shot with air rifle", "firearm"), ("Firearm", "firearm"),
        ("Acid", "corrosive"), ("corrosive substance", "corrosive"), ("bleach thrown", "corrosive"),
        ("Unknown", "unknown"), ("", "unknown"), (None, "unknown"), ("not known", "unknown"),
        ("dog", "other"), ("sharp_object", "sharp_object"),
    ],
)
def test_assault_method(text, method):
    assert pl.select(normalise_assault_method(pl.lit(text, dtype=pl.Utf8))).item() == method


@pytest.mark.parametrize(
    "row, reason",
    [
        (",S1,2024-02-03 01:20,,Fist,,,", "missing required value"),
        ("A9,S1,,,Fist,,,", "missing required value"),
        ("A9,S1,yesterday,,Fist,,,", "unparseable date"),
        ("A9,S1,2024-02-30 01:20,,Fist,,,", "unparseable date"),
        ("A1,S1,2024-02-04 01:20,,Knife,,,", "duplicate id"),
        ("A9,S1,2024-02-04 01:20,,Knife,,,,extra", "malformed row"),
    ],
)
def test_quarantine_reasons(tmp_path, row, reason):
    df, e = read(tmp_path, "A1,S1,2024-02-03 01:20,,Fist,,,\n" + row)
    assert df["attendance_id"].to_list() == ["A1"]
    assert e.quarantined == {reason: 1}


def test_soft_problems_keep_the_row(tmp_path):
    body = "\n".join([
        "A1,,2024-02-03 01:20,garbage,,Moon base,,150",
        "A2,s1,03/02/2024 02:00,02/02/2024 23:30,Fist,Street,,19",
        "A3,S1,2024-02-03 03:00,not known,Fist,,,",
    ])
    df, e = read(tmp_path, body)
    assert df.height == 3
    r = df.row(0, named=True)
    assert r["site_code"] is None and r["assault_dt"] is None and r["age"] is None
    assert r["assault_method"] == "unknown" and r["location_type"] == "other"
    assert r["month"] == dt.date(2024, 2, 1)  # from arrival
    r = df.row(1, named=True)
    assert r["site_code"] == "S1"
    assert r["assault_dt"] == dt.datetime(2024, 2, 2, 23, 30)
    assert r["month"] == dt.date(2024, 2, 1)
    notes = " ".join(e.notes)
    assert "site_code blank" in notes and "'garbage'" in notes and "'150'" in notes
    assert "'not known'" not in notes


def test_month_is_assault_month(tmp_path):
    df, _ = read(tmp_path, "A1,S1,2024-03-01 00:30,2024-02-29 23:50,Fist,,,")
    assert df["month"].item() == dt.date(2024, 2, 1)


def test_separate_date_and_time_columns(tmp_path):
    header = "attendance_id,site_code,arrival_date,arrival_time,assault_method"
    df, e = read(tmp_path, "A1,S1,03/02/2024,0120,Fist\nA2,S1,2024-02-03,,Fist", header)
    assert df["arrival_dt"].to_list() == [dt.datetime(2024, 2, 3, 1, 20), dt.datetime(2024, 2, 3)]


def test_venue_matching(tmp_path):
    body = "\n".join([
        'A1,S1,2024-02-03 01:20,,Fist,,"outside the red lion, Worcester",',   # V1 (not V2)
        "A2,S1,2024-02-03 01:20,,Fist,,Red Lion Yard steps,",                  # V2: longest wins
        "A3,S1,2024-02-03 01:20,,Fist,,ONEILLS bar,",                          # punctuation
        "A4,S1,2024-02-03 01:20,,Fist,,crown and anchor beer garden,",         # & = and; longest
        "A5,S1,2024-02-03 01:20,,Fist,,the crown,",                            # V5
        "A6,S1,2024-02-03 01:20,,Fist,,kebab king,",                           # ambiguous
        "A7,S1,2024-02-03 01:20,,Fist,,zoo,",                                  # name too short
        "A8,S1,2024-02-03 01:20,,Fist,,crowbar one,",                          # not whole words
        "A9,S1,2024-02-03 01:20,,Fist,,,",
        "A10,S1,2024-02-03 01:20,,Fist,Street,crowning glory,",
    ])
    df, e = read(tmp_path, body, venues=VENUES)
    assert df["venue_id"].to_list() == ["V1", "V2", "V3", "V4", "V5", None, None, None, None, None]
    assert df["easting"].to_list()[:5] == [385000.0, 385100.0, 385200.0, 385300.0, 385400.0]
    # blank location type is filled from the venue; a given one is kept
    assert df["location_type"].to_list()[:3] == ["pub_bar", "shopping_area", "pub_bar"]
    notes = " ".join(e.notes)
    assert "5 of 10" in notes and "several venues" in notes


def test_given_coordinates_win_over_venue(tmp_path):
    header = HEADER + ",easting,northing"
    body = ("A1,S1,2024-02-03 01:20,,Fist,,the red lion,,384000,250000\n"
            "A2,S1,2024-02-03 01:20,,Fist,,the red lion,,99999999,1\n"
            "A3,S1,2024-02-03 01:20,,Fist,,somewhere,,52.19,-2.22")
    df, e = read(tmp_path, body, header, venues=VENUES)
    assert df["venue_id"].to_list() == ["V1", "V1", None]
    assert df["easting"].to_list()[:2] == [384000.0, 385000.0]
    assert df["easting"][2] == pytest.approx(385000, abs=1500)  # lat/lon in the E/N columns
    assert any("not in Great Britain" in n for n in e.notes)


def test_policeuk_label_venues_are_not_matched():
    v = VENUES.with_columns(pl.lit("police.uk label").alias("origin"))
    ids, counts = match_venue_names(pl.Series(["the red lion"]), v)
    assert ids.to_list() == [None] and counts["matched"] == 0


def test_missing_required_columns(tmp_path):
    p = tmp_path / "ae.csv"
    p.write_text("attendance_id,arrival_datetime\nA1,2024-01-01 10:00\n")
    with pytest.raises(SourceError) as info:
        read_ae(p)
    assert "site_code" in info.value.problem and "assault_method" in info.value.problem


@pytest.mark.parametrize("content", [b"", HEADER.encode() + b"\n", HEADER.replace(",", ";").encode() + b"\nA;B\n"])
def test_broken_files(tmp_path, content):
    p = tmp_path / "ae.csv"
    p.write_bytes(content)
    with pytest.raises(SourceError):
        read_ae(p)
