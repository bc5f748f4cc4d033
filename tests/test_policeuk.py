"""police.uk street CSV reader: real files, broken files, and a ledger property test."""
from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.crs import bng_to_lonlat, in_bng_box, lonlat_to_bng
from geodata.errors import SourceError
from geodata.ledger import Ledger
from geodata.policeuk import (
    STREET_COLUMNS,
    infer_venues_from_labels,
    is_police_uk_header,
    location_type_expr,
    read_police_uk,
)
from geodata.schema import INCIDENT_SCHEMA, VENUE_SCHEMA

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"
WM = REAL / "police-uk" / "west-mercia"
needs_real = pytest.mark.skipif(not WM.is_dir(), reason=f"real data folder {REAL} is absent")

HEADER = ",".join(STREET_COLUMNS)


def row(cid="c1", month="2024-01", lon="-2.2213", lat="52.1936", loc="On or near Nightclub",
        lsoa="E01032295", ctype="Violence and sexual offences", sep=","):
    fields = [cid, month, "West Mercia Police", "West Mercia Police", lon, lat, loc, lsoa,
              "Worcester 013C", ctype, "Under investigation", ""]
    return sep.join(fields)


def write(tmp: Path, name: str, lines: list[str], encoding="utf-8", newline="\r\n") -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes((newline.join(lines) + newline).encode(encoding))
    return p


def read_one(path):
    ledger = Ledger()
    df = read_police_uk([path], ledger)
    (entry,) = ledger.sources
    assert entry.balanced
    return df, entry


# ---------------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="module")
def real():
    ledger = Ledger()
    files = sorted(WM.glob("*-street.csv"))
    df = read_police_uk(files, ledger)
    return df, ledger


@needs_real
def test_real_files_balance(real):
    df, ledger = real
    assert len(ledger.sources) == 4
    for s in ledger.sources:
        assert s.balanced
    assert sum(s.read for s in ledger.sources) == 32_423
    assert sum(s.accepted for s in ledger.sources) == df.height
    # 635 "No Location" rows; the one repeated Crime ID (2024-04) has its twin without location.
    q = {}
    for s in ledger.sources:
        for k, v in s.quarantined.items():
            q[k] = q.get(k, 0) + v
    assert q == {"no coordinates": 635}
    assert df.schema == pl.Schema(INCIDENT_SCHEMA)
    assert df["lsoa_code"].null_count() == df.height
    assert df["source"].unique().to_list() == ["police.uk"]
    assert df["month"].n_unique() == 4


@needs_real
def test_real_columns(real):
    df, _ = real
    asb = df.filter(pl.col("crime_type") == "Anti-social behaviour")
    assert asb.height > 1000 and asb["incident_id"].null_count() == asb.height
    # BNG metres; nearly all within West Mercia's rough box (a few rows are elsewhere in England
    # and Wales: police.uk files rows by recording force).
    assert in_bng_box(df["easting"].to_numpy(), df["northing"].to_numpy()).all()
    inside = df["easting"].is_between(280_000, 420_000) & df["northing"].is_between(180_000, 360_000)
    assert inside.mean() > 0.995
    types = set(df["location_type"].drop_nulls().unique().to_list())
    assert {"nightclub", "supermarket", "shopping_area", "parking", "petrol_station", "hospital",
            "bus_station", "sports", "park", "street"} <= types
    assert df["location_type"].null_count() == 0
    assert (df["force"] == "West Mercia Police").all()
    assert df["outcome"].null_count() < df.height


@needs_real
def test_real_venues(real):
    df, _ = real
    v = infer_venues_from_labels(df)
    assert v.schema == pl.Schema(VENUE_SCHEMA)
    clubs = v.filter(pl.col("type") == "nightclub")
    assert clubs.height > 5 and clubs["licensed"].all()
    assert (v["origin"] == "police.uk label").all()
    assert v["venue_id"].n_unique() == v.height
    n_pts = (df.filter(pl.col("location_type") == "nightclub")
             .select("easting", "northing").unique().height)
    assert clubs.height == n_pts


@needs_real
def test_real_folder_and_two_forces():
    ledger = Ledger()
    df = read_police_uk([WM, REAL / "police-uk" / "warwickshire"], ledger)
    assert [s.path for s in ledger.sources] == [str(WM), str(REAL / "police-uk" / "warwickshire")]
    assert ledger.sources[0].read == 32_423
    assert ledger.balanced
    assert set(df["force"].unique().to_list()) == {"West Mercia Police", "Warwickshire Police"}
    # The repeated Warwickshire Crime ID (two rows in 2024-03, both located) is one crime.
    assert ledger.sources[1].quarantined.get("duplicate id") == 1


# ---------------------------------------------------------------------------------------------
# Headers, labels


def test_is_police_uk_header():
    assert is_police_uk_header(STREET_COLUMNS)
    assert is_police_uk_header(["\ufeffcrime_id", "MONTH", "longitude", "latitude", "crime type"])
    assert not is_police_uk_header(["crime_ref", "offence_code", "committed_from", "easting"])
    assert not is_police_uk_header(["Crime ID", "Month", "Longitude", "Latitude", "Outcome type"])


def test_location_types():
    labels = ["On or near Nightclub", "On or near Supermarket", "On or near Shopping Area",
              "On or near Parking Area", "On or near Petrol Station", "On or near Hospital",
              "On or near Bus/Coach Station", "On or near Sports/Recreation Area",
              "On or near Further/Higher Educational Building", "On or near Theatre/Concert Hall",
              "On or near Conference/Exhibition Centre", "On or near Police Station",
              "On or near Prison", "On or near Park/Open Space", "On or near Telford Bus Station",
              "On or near Droitwich Spa Station", "On or near Station Road", "On or near A449",
              "On or near The Cross", "No Location", None]
    out = pl.DataFrame({"l": labels}).select(location_type_expr(pl.col("l")))["l"].to_list()
    assert out == ["nightclub", "supermarket", "shopping_area", "parking", "petrol_station",
                   "hospital", "bus_station", "sports", "further_education", "theatre_concert",
                   "other", "police_station", "prison", "park", "bus_station", "train_station",
                   "street", "street", "street", None, None]


# ---------------------------------------------------------------------------------------------
# Broken and odd files


def test_empty_file(tmp_path):
    p = tmp_path / "2024-01-x-street.csv"
    p.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        read_police_uk([p])


def test_header_only(tmp_path):
    df, entry = read_one(write(tmp_path, "h.csv", [HEADER]))
    assert df.height == 0 and entry.read == 0
    assert any("header only" in n for n in entry.notes)


def test_missing_columns(tmp_path):
    p = write(tmp_path, "m.csv", ["Crime ID,Month,Location,Crime type", "x,2024-01,A,Robbery"])
    with pytest.raises(SourceError) as err:
        read_police_uk([p])
    msg = str(err.value)
    assert "Longitude" in msg and "Latitude" in msg and "fix:" in msg


@pytest.mark.parametrize("sep", [";", "\t"])
def test_other_delimiters(tmp_path, sep):
    lon, lat = ("-2,2213", "52,1936") if sep == ";" else ("-2.2213", "52.1936")
    p = write(tmp_path, "d.csv", [HEADER.replace(",", sep), row(sep=sep, lon=lon, lat=lat)])
    df, entry = read_one(p)
    assert df.height == 1 and entry.accepted == 1
    assert any("separated by" in n for n in entry.notes)
    e, n = lonlat_to_bng([-2.2213], [52.1936])
    assert df["easting"][0] == pytest.approx(e[0]) and df["northing"][0] == pytest.approx(n[0])


def test_bom_and_cp1252(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n" + row() + "\n").encode())
    df, _ = read_one(p)
    assert df.height == 1 and df["incident_id"][0] == "c1"
    p = write(tmp_path, "w.csv", [HEADER, row(loc="On or near Caf\u00e9 Street")], encoding="cp1252")
    df, entry = read_one(p)
    assert df["location"][0] == "On or near Caf\u00e9 Street"
    assert any("cp1252" in n for n in entry.notes)


def test_truncated_and_unterminated(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes((HEADER + "\n" + row() + "\n" + row(cid="c2")[:40]).encode())
    df, entry = read_one(p)
    assert df.height == 1 and entry.quarantined == {"malformed row": 1}
    assert entry.rows["source_row"].to_list() == ["2"]
    p = write(tmp_path, "u.csv", [HEADER, row(), row(cid="c3", loc='"On or near Foo, Bar')])
    df, entry = read_one(p)
    assert df.height == 1 and entry.quarantined == {"malformed row": 1}


def test_quoted_newlines_and_commas(tmp_path):
    p = write(tmp_path, "q.csv", [HEADER, row(loc='"On or near\nNew Street, Upper"'), row(cid="c2")],
              newline="\n")
    df, entry = read_one(p)
    assert df.height == 2 and entry.accepted == 2
    assert df["location"][0] == "On or near New Street, Upper"
    assert df["source_row"].to_list() == [1, 2]


def test_wrong_column_count(tmp_path):
    p = write(tmp_path, "w.csv", [HEADER, row(), row(cid="c2") + ",extra", "a,b,c"])
    df, entry = read_one(p)
    assert df.height == 1 and entry.quarantined == {"malformed row": 2}
    assert "raw" in entry.rows.columns


def test_coordinates(tmp_path):
    bad = [("", ""), ("-2.2", ""), ("0", "0"), ("nan", "52"), ("inf", "52"), ("abc", "52"),
           ("-2.2", "99"), ("52.19", "-2.22")]
    lines = [HEADER, row(cid="good")] + [row(cid=f"b{i}", lon=a, lat=b) for i, (a, b) in enumerate(bad)]
    df, entry = read_one(write(tmp_path, "c.csv", lines))
    assert df["incident_id"].to_list() == ["good"]
    assert entry.quarantined == {"no coordinates": 2, "coordinates out of range": 6}


def test_whole_file_swapped(tmp_path):
    lines = [HEADER] + [row(cid=f"s{i}", lon="52.1936", lat="-2.2213") for i in range(4)]
    df, entry = read_one(write(tmp_path, "s.csv", lines))
    assert df.height == 4
    assert any("swapped" in n for n in entry.notes)
    lon, lat = bng_to_lonlat(df["easting"].to_numpy(), df["northing"].to_numpy())
    assert lon[0] == pytest.approx(-2.2213, abs=1e-7) and lat[0] == pytest.approx(52.1936, abs=1e-7)


def test_dates_and_duplicates(tmp_path):
    lines = [HEADER, row(cid="d"), row(cid="d"), row(cid="", ctype="Anti-social behaviour"),
             row(cid="", ctype="Anti-social behaviour"), row(cid="d", month="2024-02"),
             row(cid="e", month="garbage"), row(cid="f", month="Jan-24"),
             row(cid="g", month="2024-13")]
    df, entry = read_one(write(tmp_path, "x.csv", lines))
    assert entry.quarantined == {"duplicate id": 1, "unparseable date": 2}
    assert df.height == 5
    assert df.filter(pl.col("incident_id") == "f")["month"][0].isoformat() == "2024-01-01"


def test_duplicates_across_files(tmp_path):
    a = write(tmp_path, "2024-01-a-street.csv", [HEADER, row(cid="same")])
    # The same crime (Crime ID and month) in another file that is not a byte-for-byte copy.
    b = write(tmp_path, "2024-01-b-street.csv", [HEADER, row(cid="other"), row(cid="same")])
    ledger = Ledger()
    df = read_police_uk([a, b], ledger)
    assert df.height == 2
    assert ledger.sources[1].quarantined == {"duplicate id": 1}


def test_zip_archive_with_outcomes(tmp_path):
    buf = io.BytesIO()
    out_header = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
                  "LSOA name,Outcome type")
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("2024-01/2024-01-west-mercia-street.csv", "\n".join([HEADER, row("z1"), row("z2")]))
        z.writestr("2024-02/2024-02-west-mercia-street.csv",
                   "\n".join([HEADER, row("z3", month="2024-02")]))
        z.writestr("2024-02/2024-02-west-mercia-outcomes.csv",
                   "\n".join([out_header, "z1,2024-03,,,,,,,,Court result unavailable",
                              "z1,2024-02,,,,,,,,Offender given a caution"]))
        z.writestr("2024-01/2024-01-warwickshire-street.csv", "\n".join([HEADER, row("w1")]))
    p = tmp_path / "archive.zip"
    p.write_bytes(buf.getvalue())
    df, entry = read_one(p)
    assert entry.read == 4 and df.height == 4          # outcome rows are not crimes
    got = dict(zip(df["incident_id"].to_list(), df["outcome"].to_list()))
    assert got["z1"] == "Court result unavailable"    # latest month wins
    assert got["z2"] == "Under investigation"
    assert any("outcome" in n and "1 crime" in n for n in entry.notes)
    assert df["source_file"][0].endswith("archive.zip!2024-01/2024-01-warwickshire-street.csv")


def test_folder_archive_layout(tmp_path):
    write(tmp_path, "2024-01/2024-01-west-mercia-street.csv", [HEADER, row("a")])
    write(tmp_path, "2024-02/2024-02-west-mercia-street.csv", [HEADER, row("b", month="2024-02")])
    write(tmp_path, "notes.csv", ["x,y", "1,2"])
    df, entry = read_one(tmp_path)
    assert sorted(df["incident_id"].to_list()) == ["a", "b"]
    assert any("notes.csv" in n and "skipped" in n for n in entry.notes)


@pytest.mark.parametrize("content,match", [
    (b"\x00\x01binary\x00", "binary"),
    (b"PK\x03\x04garbage", "zip"),
])
def test_unreadable(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(SourceError, match=match):
        read_police_uk([p])


def test_missing_path_and_outcomes_only(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        read_police_uk([tmp_path / "nope.csv"])
    p = write(tmp_path, "2024-01-x-outcomes.csv",
              ["Crime ID,Month,Longitude,Latitude,Outcome type", "a,2024-01,,,Charged"])
    with pytest.raises(SourceError, match="outcomes"):
        read_police_uk([p])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(SourceError, match="no police.uk street"):
        read_police_uk([tmp_path / "empty_dir"])


# ---------------------------------------------------------------------------------------------
# Property: whatever the rows, the ledger balances and nothing but SourceError escapes.

_field = st.one_of(
    st.sampled_from(["", "2024-01", "-2.2", "52.19", "0", "nan", "E01032295", "x,y", '"q"',
                     "On or near Nightclub", "abc", "inf", "1e309", "2024-1", "\u00e9"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
)
_row = st.lists(_field, min_size=0, max_size=14)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_row, max_size=12), sep=st.sampled_from([",", ";"]),
       encoding=st.sampled_from(["utf-8", "cp1252"]))
def test_ledger_always_balances(rows, sep, encoding):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    w.writerow(STREET_COLUMNS)
    w.writerows(rows)
    data = buf.getvalue().encode(encoding, errors="replace")
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "2024-01-prop-street.csv"
        p.write_bytes(data)
        ledger = Ledger()
        try:
            df = read_police_uk([p], ledger)
        except SourceError:
            return
        (entry,) = ledger.sources
        assert entry.balanced
        assert entry.accepted == df.height
        assert entry.read <= len(rows)
