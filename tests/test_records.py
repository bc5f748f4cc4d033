"""Tests for geodata.records: the record-level police extract reader."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.errors import SourceError
from geodata.ledger import Ledger
from geodata.records import (
    is_records_header,
    normalise_location_type,
    normalise_offence_code,
    read_header,
    read_records,
)
from geodata.schema import INCIDENT_SCHEMA, MARKERS

EXAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "examples"

HEADER = ("crime_ref,offence_code,committed_from,easting,northing,domestic_abuse,knife_or_sharp,"
          "victim_age,location_type")
GOOD = "R{n},8N,2024-03-01 22:15,385200,254700,N,Y,25,Public house"


def write(tmp_path: Path, text: str, name: str = "r.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def read(tmp_path: Path, body: str, header: str = HEADER) -> tuple[pl.DataFrame, Ledger]:
    ledger = Ledger()
    df = read_records(write(tmp_path, header + "\n" + body + "\n"), ledger)
    return df, ledger


def entry(ledger: Ledger):
    (e,) = ledger.sources
    assert e.balanced
    return e


# ---------------------------------------------------------------------------- example file

def test_example_file_reads_with_expected_quarantine():
    ledger = Ledger()
    df = read_records(EXAMPLES / "records_example.csv", ledger)
    e = entry(ledger)
    assert df.schema == pl.Schema(INCIDENT_SCHEMA)
    assert e.read == 32
    assert e.accepted == 27 == df.height
    assert e.quarantined == {
        "missing required value": 1, "unparseable date": 1, "no coordinates": 1,
        "coordinates out of range": 1, "duplicate id": 1,
    }
    assert set(df["source"]) == {"records"}
    assert df["crime_type"].is_null().all() and df["lsoa_code"].is_null().all()
    # every marker appears both true and false somewhere, and every location type is normalised
    for m in MARKERS:
        assert df[m].drop_nulls().n_unique() == 2, m
    assert df["location_type"].null_count() == 0
    # quarantined rows keep their original text and header names
    q = e.rows
    assert {"crime_ref", "committed_from", "reason", "source_row", "source_file"} <= set(q.columns)
    assert q.filter(pl.col("reason") == "unparseable date")["committed_from"].item() == "31/02/2024 22:00"


# ---------------------------------------------------------------------------- quarantine

@pytest.mark.parametrize(
    "row, reason",
    [
        (",8N,2024-03-01 22:15,385200,254700,N,Y,25,Pub", "missing required value"),
        ("X1,,2024-03-01 22:15,385200,254700,N,Y,25,Pub", "missing required value"),
        ("X1,8N,,385200,254700,N,Y,25,Pub", "missing required value"),
        ("X1,8N,   ,385200,254700,N,Y,25,Pub", "missing required value"),
        ("X1,8N,not a date,385200,254700,N,Y,25,Pub", "unparseable date"),
        ("X1,8N,31/02/2024 10:00,385200,254700,N,Y,25,Pub", "unparseable date"),
        ("X1,8N,03/13/2024 10:00,385200,254700,N,Y,25,Pub", "unparseable date"),  # US order
        ("X1,8N,2024-03-01 22:15,,,N,Y,25,Pub", "no coordinates"),
        ("X1,8N,2024-03-01 22:15,0,0,N,Y,25,Pub", "no coordinates"),
        ("X1,8N,2024-03-01 22:15,abc,def,N,Y,25,Pub", "no coordinates"),
        ("X1,8N,2024-03-01 22:15,9385200,254700,N,Y,25,Pub", "coordinates out of range"),
        ("X1,8N,2024-03-01 22:15,-74.0,40.7,N,Y,25,Pub", "coordinates out of range"),
        ("X1,8N,2024-03-01 22:15,385200,254700,N,Y,25,Pub,surplus", "malformed row"),
    ],
)
def test_each_quarantine_reason(tmp_path, row, reason):
    df, ledger = read(tmp_path, GOOD.format(n=1) + "\n" + row)
    e = entry(ledger)
    assert df.height == 1
    assert e.quarantined == {reason: 1}
    assert e.rows["source_row"].to_list() == ["2"]


def test_duplicate_keeps_first_and_ignores_rejected_first(tmp_path):
    body = "\n".join([
        "D1,8N,2024-03-01 22:15,385200,254700,N,Y,25,Pub",
        "D1,5D,2024-03-02 22:15,385200,254700,N,Y,25,Pub",
        "D2,8N,bad date,385200,254700,N,Y,25,Pub",       # rejected: D2 below is then the first
        "D2,8N,2024-03-03 22:15,385200,254700,N,Y,25,Pub",
    ])
    df, ledger = read(tmp_path, body)
    e = entry(ledger)
    assert df["incident_id"].to_list() == ["D1", "D2"]
    assert df["offence_code"].to_list() == ["8N", "8N"]
    assert e.quarantined == {"duplicate id": 1, "unparseable date": 1}


def test_blank_lines_are_skipped_not_counted(tmp_path):
    df, ledger = read(tmp_path, GOOD.format(n=1) + "\n\n,,,\n" + GOOD.format(n=2))
    e = entry(ledger)
    assert df.height == 2 and e.read == 2
    assert df["source_row"].to_list() == [1, 4]
    assert any("blank" in n for n in e.notes)


# ---------------------------------------------------------------------------- markers, ages

def test_markers_null_versus_false(tmp_path):
    header = "crime_ref,offence_code,committed_from,easting,northing,domestic_abuse,knife_or_sharp,alcohol"
    body = "\n".join([
        "M1,8N,2024-03-01 22:15,385200,254700,N,no,0",
        "M2,8N,2024-03-01 22:15,385200,254700,Y,YES,true",
        "M3,8N,2024-03-01 22:15,385200,254700,,unknown,n/k",
        "M4,8N,2024-03-01 22:15,385200,254700,maybe,?,sometimes",
    ])
    df, ledger = read(tmp_path, body, header)
    assert df["domestic_abuse"].to_list() == [False, True, None, None]
    assert df["knife"].to_list() == [False, True, None, None]
    assert df["alcohol"].to_list() == [False, True, None, None]
    # markers absent from the file are not known, never false
    for m in ("hate_crime", "firearm", "corrosive", "county_lines"):
        assert df[m].is_null().all()
    notes = " ".join(entry(ledger).notes)
    assert "domestic_abuse" in notes and "'maybe'" in notes and "'sometimes'" in notes
    assert "knife_or_sharp" not in notes  # '?' and 'unknown' are recognised as not known


def test_ages(tmp_path):
    header = "crime_ref,offence_code,committed_from,easting,northing,victim_age,suspect_age"
    body = "\n".join([
        "A1,8N,2024-03-01 22:15,385200,254700,0,120",
        "A2,8N,2024-03-01 22:15,385200,254700,121,-1",
        "A3,8N,2024-03-01 22:15,385200,254700,17.5,about 20",
        "A4,8N,2024-03-01 22:15,385200,254700,,30.0",
    ])
    df, ledger = read(tmp_path, body, header)
    assert df.schema["victim_age"] == pl.Int32
    assert df["victim_age"].to_list() == [0, None, None, None]
    assert df["suspect_age"].to_list() == [120, None, None, 30]
    notes = entry(ledger).notes
    assert any("victim_age" in n and "rows 2, 3" in n for n in notes)
    assert any("suspect_age" in n for n in notes)


# ---------------------------------------------------------------------------- dates

@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-01 22:15", dt.datetime(2024, 3, 1, 22, 15)),
        ("2024-03-01 22:15:30", dt.datetime(2024, 3, 1, 22, 15, 30)),
        ("2024-03-01T22:15", dt.datetime(2024, 3, 1, 22, 15)),
        ("2024-03-01T22:15:30.123Z", dt.datetime(2024, 3, 1, 22, 15, 30)),
        ("2024-03-01T22:15:30+00:00", dt.datetime(2024, 3, 1, 22, 15, 30)),
        ("01/03/2024 22:15", dt.datetime(2024, 3, 1, 22, 15)),
        ("1/3/2024 2:05", dt.datetime(2024, 3, 1, 2, 5)),
        ("01/03/2024 22:15:30", dt.datetime(2024, 3, 1, 22, 15, 30)),
        ("01/03/2024", dt.datetime(2024, 3, 1)),
        ("01-03-2024 22:15", dt.datetime(2024, 3, 1, 22, 15)),
        ("2024/03/01 22:15", dt.datetime(2024, 3, 1, 22, 15)),
        ("1 Mar 2024 22:15", dt.datetime(2024, 3, 1, 22, 15)),
        ("2024-03-01", dt.datetime(2024, 3, 1)),
    ],
)
def test_date_formats(tmp_path, text, expected):
    header = "crime_ref,offence_code,committed_from,easting,northing"
    df, ledger = read(tmp_path, f'D1,8N,"{text}",385200,254700', header)
    assert df["from_dt"].to_list() == [expected]
    assert df["month"].to_list() == [dt.date(expected.year, expected.month, 1)]
    if ":" not in text:
        assert any("no time" in n for n in entry(ledger).notes)


def test_committed_to(tmp_path):
    header = "crime_ref,offence_code,committed_from,committed_to,easting,northing"
    body = "\n".join([
        "T1,8N,2024-03-01 22:15,2024-03-01 23:00,385200,254700",
        "T2,8N,2024-03-01 22:15,2024-02-01 23:00,385200,254700",
        "T3,8N,2024-03-01 22:15,garbage,385200,254700",
        "T4,8N,2024-03-01 22:15,not known,385200,254700",
    ])
    df, ledger = read(tmp_path, body, header)
    assert df["to_dt"].to_list() == [dt.datetime(2024, 3, 1, 23), None, None, None]
    notes = " ".join(entry(ledger).notes)
    assert "earlier than committed_from" in notes and "'garbage'" in notes
    assert "'not known'" not in notes


# ---------------------------------------------------------------------------- coordinates

def test_coordinate_detection(tmp_path):
    header = "crime_ref,offence_code,committed_from,easting,northing,latitude,longitude"
    body = "\n".join([
        "C1,8N,2024-03-01 22:15,385200,254700,,",           # plain BNG
        "C2,8N,2024-03-01 22:15,,,52.1900,-2.2200",          # lat/lon only
        "C3,8N,2024-03-01 22:15,-2.2200,52.1900,,",          # E/N columns hold lon/lat
        "C4,8N,2024-03-01 22:15,810000,325000,,",            # E/N swapped (detectable: N > 700 km)
        "C5,8N,2024-03-01 22:15,,,-2.2200,52.1900",          # lat/lon swapped
        'C6,8N,2024-03-01 22:15,"385,200","254,700",,',     # thousands separators
        "C7,8N,2024-03-01 22:15,9999999,9999999,52.19,-2.22",  # bad E/N, good lat/lon
    ])
    df, ledger = read(tmp_path, body, header)
    assert df.height == 7
    e_, n_ = df["easting"].to_list(), df["northing"].to_list()
    assert (e_[0], n_[0]) == (385200.0, 254700.0)
    assert (e_[3], n_[3]) == (325000.0, 810000.0)
    assert (e_[5], n_[5]) == (385200.0, 254700.0)
    for i in (1, 2, 4, 6):  # all the same point in degrees
        assert e_[i] == pytest.approx(e_[1]) and n_[i] == pytest.approx(n_[1])
        assert 384000 < e_[i] < 386000 and 253000 < n_[i] < 256000
    notes = " ".join(entry(ledger).notes)
    assert "swapped" in notes and "converted to BNG" in notes


def test_lat_lon_only_file(tmp_path):
    header = "crime_ref,offence_code,committed_from,lat,lon"
    df, _ = read(tmp_path, "L1,8N,2024-03-01 22:15,52.19,-2.22", header)
    assert df["easting"].item() == pytest.approx(385000, abs=1500)


# ---------------------------------------------------------------------------- normalisation

@pytest.mark.parametrize(
    "text, expected",
    [
        ("Public house", "pub_bar"), ("Pub", "pub_bar"), ("Bar", "pub_bar"), ("Wine bar", "pub_bar"),
        ("Nightclub", "nightclub"), ("Night Club", "nightclub"), ("Club", "nightclub"),
        ("Takeaway", "takeaway"), ("Fast food outlet", "takeaway"), ("Kebab shop", "takeaway"),
        ("Dwelling", "dwelling"), ("House", "dwelling"), ("Flat", "dwelling"),
        ("Residential", "dwelling"), ("Home", "dwelling"),
        ("Street", "street"), ("Road", "street"), ("Highway", "street"), ("Footpath", "street"),
        ("Car park", "parking"), ("Multi-storey car park", "parking"),
        ("Park", "park"), ("Open space", "park"),
        ("Supermarket", "supermarket"), ("Shop", "shop"), ("Petrol station", "petrol_station"),
        ("Hospital", "hospital"), ("A&E", "hospital"), ("Bus station", "bus_station"),
        ("Railway station", "train_station"), ("Police station", "police_station"),
        ("School", "school"), ("College", "further_education"), ("Golf club", "sports"),
        ("Church", "place_of_worship"), ("Cinema", "theatre_concert"), ("HMP Hewell", "prison"),
        ("Restaurant", "restaurant"), ("Shopping centre", "shopping_area"),
        ("pub_bar", "pub_bar"), ("Barn", "other"), ("Hotel", "other"), ("", None), (None, None),
    ],
)
def test_location_type_mapping(text, expected):
    out = pl.select(normalise_location_type(pl.lit(text, dtype=pl.Utf8))).item()
    assert out == expected


@pytest.mark.parametrize("raw, code", [(" 8n ", "8N"), ("005D", "5D"), ("4.1", "4/1"), ("4/10", "4/10"),
                                       ("19 C", "19C"), ("106", "106"), ("", None)])
def test_offence_code_normalised(raw, code):
    assert pl.select(normalise_offence_code(pl.lit(raw, dtype=pl.Utf8))).item() == code


def test_lsoa_given_checked(tmp_path):
    header = "crime_ref,offence_code,committed_from,easting,northing,lsoa_code"
    body = "L1,8N,2024-03-01 22:15,385200,254700,e01033249\nL2,8N,2024-03-01 22:15,385200,254700,E02000001"
    df, ledger = read(tmp_path, body, header)
    assert df["lsoa_given"].to_list() == ["E01033249", None]
    assert any("LSOA" in n for n in entry(ledger).notes)


def test_aliases_and_header_case(tmp_path):
    header = "Crime Reference,HO Code,Committed From,X,Y,Knife,Victim Age,Location"
    df, _ = read(tmp_path, "Z1,8n,2024-03-01 22:15,385200,254700,Y,30,Outside the Crown", header)
    row = df.row(0, named=True)
    assert (row["incident_id"], row["offence_code"], row["knife"], row["victim_age"]) == ("Z1", "8N", True, 30)
    assert row["location"] == "Outside the Crown"


# ---------------------------------------------------------------------------- headers

def test_is_records_header():
    assert is_records_header(["crime_ref", "offence_code", "committed_from", "easting", "northing"])
    assert is_records_header(["Crime Ref", "HO Code"])
    police_uk = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                 "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
    assert not is_records_header(police_uk)
    assert not is_records_header([])


def test_read_header_skips_bom_and_comments(tmp_path):
    p = tmp_path / "h.csv"
    p.write_bytes(b"\xef\xbb\xbf# SYNTHETIC\n\ncrime_ref,offence_code\nA,8N\n")
    assert read_header(p) == ["crime_ref", "offence_code"]
    assert read_header(EXAMPLES / "records_example.csv")[0] == "crime_ref"


# ---------------------------------------------------------------------------- broken files

def test_bom_and_cp1252_are_read(tmp_path):
    text = HEADER + "\n" + "R1,8N,2024-03-01 22:15,385200,254700,N,Y,25,Caf\u00e9 \u2013 bar\n"
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    df = read_records(p)
    assert df["incident_id"].to_list() == ["R1"]
    ledger = Ledger()
    df = read_records(write(tmp_path, text, "win.csv", "cp1252"), ledger)
    assert df["incident_id"].to_list() == ["R1"]
    assert any("Windows-1252" in n for n in entry(ledger).notes)


def _error(tmp_path, content: bytes | str, name="bad.csv") -> SourceError:
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SourceError) as info:
        read_records(p)
    err = info.value
    assert err.path == str(p) and err.problem and err.fix
    return err


def test_empty_file(tmp_path):
    assert "empty" in _error(tmp_path, b"").problem
    assert "empty" in _error(tmp_path, b"  \n\n").problem
    assert "empty" in _error(tmp_path, b"# only a comment\n").problem


def test_header_only(tmp_path):
    assert "no data rows" in _error(tmp_path, HEADER + "\n").problem
    assert "no data rows" in _error(tmp_path, HEADER + "\n\n,,,,\n").problem


def test_missing_columns_are_named(tmp_path):
    err = _error(tmp_path, "crime_ref,easting,northing\nA,1,2\n")
    assert "offence_code" in err.problem and "committed_from" in err.problem
    err = _error(tmp_path, "crime_ref,offence_code,committed_from\nA,8N,2024-01-01\n")
    assert "easting/northing or latitude/longitude" in err.problem


@pytest.mark.parametrize("sep, word", [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical")])
def test_wrong_delimiter(tmp_path, sep, word):
    text = HEADER.replace(",", sep) + "\n" + GOOD.format(n=1).replace(",", sep) + "\n"
    assert word in _error(tmp_path, text).problem


def test_excel_binary_and_quotes(tmp_path):
    assert "Excel" in _error(tmp_path, b"PK\x03\x04\x14\x00\x06\x00rest").problem
    assert "binary" in _error(tmp_path, b"crime_ref\x00\x00\x01\x02").problem
    err = _error(tmp_path, HEADER + '\nR1,8N,"2024-03-01 22:15,385200,254700,N,Y,25,Pub\n')
    assert "quote" in err.problem or "parsed" in err.problem


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(SourceError):
        read_records(tmp_path / "nope.csv")
    with pytest.raises(SourceError):
        read_records(tmp_path)


def test_duplicate_canonical_columns(tmp_path):
    err = _error(tmp_path, "crime_ref,crime_reference,offence_code,committed_from,easting,northing\n1,2,8N,2024-01-01,1,2\n")
    assert "crime_ref" in err.problem


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | st.text(alphabet=st.sampled_from(list('ab,;"\n\r8N0-:/ ')), max_size=200))
def test_never_an_unexpected_exception(tmp_path, blob):
    data = blob if isinstance(blob, bytes) else blob.encode()
    p = tmp_path / "fuzz.csv"
    p.write_bytes(data)
    try:
        read_records(p)
    except SourceError:
        pass
    q = tmp_path / "fuzz2.csv"
    q.write_bytes((HEADER + "\n").encode() + data)
    try:
        df = read_records(q, Ledger())
        assert df.schema == pl.Schema(INCIDENT_SCHEMA)
    except SourceError:
        pass


def test_datetime_expression_and_series_agree():
    from geodata.records import parse_datetime, parse_datetime_series

    s = pl.Series("d", ["2024-03-01 22:15", "01/03/2024", "bad", None, "", "1 Mar 2024 22:15",
                        "2024-03-01T22:15:30Z", "31/02/2024 10:00"])
    a = pl.select(parse_datetime(pl.lit(s))).to_series()
    b = parse_datetime_series(s)
    assert a.to_list() == b.to_list()
    assert b.null_count() == 4


def test_reimported_quarantine_file(tmp_path):
    """A quarantine CSV (source_file, source_row, ..., reason) can be fixed and read back."""
    ledger = Ledger()
    read_records(EXAMPLES / "records_example.csv", ledger)
    out = ledger.write_quarantine(tmp_path / "q")
    fixed = pl.read_csv(out[0], infer_schema=False).with_columns(
        pl.lit("8N").alias("offence_code"), pl.lit("2024-04-02 22:00").alias("committed_from"))
    fixed.write_csv(tmp_path / "fixed.csv")
    df = read_records(tmp_path / "fixed.csv", Ledger())
    assert df["source_row"].to_list()[0] == 1
    assert "SYN-0027" in df["incident_id"].to_list()
