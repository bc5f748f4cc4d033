"""A generated corpus of broken and hostile input files (issue 7).

Nothing here is stored in the repository: every file is written by these helpers into a
temporary folder a test gives them. The study they build is tiny (four 1 km LSOA squares in
Worcester) so that loading it through the real readers takes well under a second.

Used by tests/test_hostile_input.py, tests/test_injection.py and tests/test_offline.py.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geodata.crs import bng_to_lonlat

# Four 1 km squares; (x0, y0) is the south-west corner in BNG metres.
ORIGIN = (384000.0, 254000.0)
SQUARES = {
    "E01000001": (0, 0),
    "E01000002": (1, 0),
    "E01000003": (0, 1),
    "E01000004": (1, 1),
}
CSP_CODE, CSP_NAME = "E22000999", "Tiny Test CSP"

POLICE_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
RECORDS_HEADER = (
    "crime_ref,offence_code,offence_description,committed_from,committed_to,easting,northing,"
    "location_type,location_description,lsoa_code,domestic_abuse,knife_or_sharp,victim_age"
)
AE_HEADER = (
    "attendance_id,site_code,arrival_datetime,assault_datetime,assault_method,"
    "assault_location_type,assault_location_description,patient_age"
)
VENUES_HEADER = "venue_id,name,type,easting,northing,licensed,hours"


def square_ring(code: str) -> list[list[float]]:
    i, j = SQUARES[code]
    x0, y0 = ORIGIN[0] + 1000 * i, ORIGIN[1] + 1000 * j
    return [[x0, y0], [x0 + 1000, y0], [x0 + 1000, y0 + 1000], [x0, y0 + 1000], [x0, y0]]


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = bng_to_lonlat(np.array([x]), np.array([y]))
    return float(lon[0]), float(lat[0])


def inside_points(n: int, seed: int = 0) -> list[tuple[float, float]]:
    """n BNG points strictly inside the study (away from the square edges)."""
    rng = np.random.default_rng(seed)
    xs = ORIGIN[0] + 50 + rng.random(n) * 1900
    ys = ORIGIN[1] + 50 + rng.random(n) * 1900
    return [(float(round(x)), float(round(y))) for x, y in zip(xs, ys)]


def write_areas(path: Path, *, crs: str = "wgs84", bowtie: bool = False, codes=None,
                code_col: str = "LSOA21CD", name: str | None = None, csp_name: str = CSP_NAME) -> Path:
    """The four squares as GeoJSON. crs: 'wgs84' (no crs member, degrees), 'bng-declared'
    (EPSG:27700 crs member), 'bng-undeclared' (BNG metres, no crs member)."""
    feats = []
    for k, code in enumerate(codes or SQUARES):
        ring = square_ring(list(SQUARES)[k % len(SQUARES)])
        if bowtie and k == 0:  # self-intersecting "bow tie"
            ring = [ring[0], ring[2], ring[1], ring[3], ring[0]]
        if crs == "wgs84":
            ring = [list(lonlat(x, y)) for x, y in ring]
        feats.append({
            "type": "Feature",
            "properties": {code_col: code,
                           code_col.replace("CD", "NM"): f"{name} {code[-1]}" if name else f"Tiny {code[-1]}",
                           "CSP24CD": CSP_CODE, "CSP24NM": csp_name},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        })
    doc: dict = {"type": "FeatureCollection", "features": feats}
    if crs == "bng-declared":
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def police_row(i: int, *, month: str = "2024-01", lon=None, lat=None, location: str = "On or near High Street",
               crime_type: str = "Violence and sexual offences", crime_id: str | None = None,
               lsoa: str = "E01000001") -> str:
    if lon is None or lat is None:
        x, y = inside_points(1, seed=i)[0]
        lon, lat = lonlat(x, y)
        lon, lat = f"{lon:.6f}", f"{lat:.6f}"
    cid = f"{i:064x}" if crime_id is None else crime_id
    loc = location.replace('"', '""')
    return (f'{cid},{month},West Mercia Police,West Mercia Police,{lon},{lat},"{loc}",{lsoa},'
            f"Tiny 1,{crime_type},Under investigation,")


def police_csv(n: int = 12, month: str = "2024-01", start: int = 0, **kw) -> str:
    if "lon" not in kw and "lat" not in kw:  # all points at once (one CRS call, not n)
        pts = inside_points(n, seed=start)
        lon, lat = bng_to_lonlat(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        rows = (police_row(start + i, month=month, lon=f"{lon[i]:.6f}", lat=f"{lat[i]:.6f}", **kw)
                for i in range(n))
    else:
        rows = (police_row(start + i, month=month, **kw) for i in range(n))
    return POLICE_HEADER + "\n" + "\n".join(rows) + "\n"


def records_row(i: int, *, x=None, y=None, when: str = "2024-01-06 23:40", code: str = "5D",
                ref: str | None = None, location: str = "Outside The Lamplighters Arms",
                lsoa: str = "") -> str:
    if x is None or y is None:
        x, y = inside_points(1, seed=100 + i)[0]
        x, y = f"{x:.0f}", f"{y:.0f}"
    ref = f"SYN-{i:05d}" if ref is None else ref
    loc = location.replace('"', '""')
    return f'{ref},{code},Wounding,{when},,{x},{y},Public house,"{loc}",{lsoa},N,Y,24'


def records_csv(n: int = 12, **kw) -> str:
    return RECORDS_HEADER + "\n" + "\n".join(records_row(i, **kw) for i in range(n)) + "\n"


def ae_csv(n: int = 6, location: str = "Lamplighters Arms, Friar St") -> str:
    loc = location.replace('"', '""')
    rows = [f'ED{i:04d},RWP01,2024-01-0{1 + i % 9} 23:10,2024-01-0{1 + i % 9} 22:50,Broken bottle,'
            f'Public house,"{loc}",{20 + i}' for i in range(n)]
    return AE_HEADER + "\n" + "\n".join(rows) + "\n"


def venues_csv(names=("The Lamplighters Arms", "Velvet Lounge")) -> str:
    pts = inside_points(len(names), seed=7)
    rows = []
    for k, (name, (x, y)) in enumerate(zip(names, pts)):
        nm = name.replace('"', '""')
        rows.append(f'V{k:03d},"{nm}",pub,{x:.0f},{y:.0f},Y,Fri-Sat 21:00-03:00')
    return VENUES_HEADER + "\n" + "\n".join(rows) + "\n"


def interventions_toml(names=("Steer Clear",), area: str = CSP_NAME) -> str:
    out = []
    for nm in names:
        out.append("[[intervention]]\n"
                   f"name = {json.dumps(nm)}\n"
                   f"areas = [{json.dumps(area)}]\n"
                   'themes = ["knife"]\n')
    return "\n".join(out)


def indicators_csv() -> str:
    rows = [f"{c},{5 + k},{100 + k}" for k, c in enumerate(SQUARES)]
    return "lsoa21_code,IMD_decile,population\n" + "\n".join(rows) + "\n"


@dataclass
class TinyStudy:
    root: Path
    crimes: Path
    areas: Path
    records: Path | None = None
    ae: Path | None = None
    venues: Path | None = None
    interventions: Path | None = None
    indicators: Path | None = None

    def args(self, *, records: bool = False, extras: bool = True) -> list[str]:
        crimes = [str(self.crimes)] + ([str(self.records)] if records and self.records else [])
        out = ["--crimes", *crimes, "--areas", str(self.areas)]
        if extras:
            if self.venues:
                out += ["--venues", str(self.venues)]
            if self.ae:
                out += ["--ae", str(self.ae)]
            if self.interventions:
                out += ["--interventions", str(self.interventions)]
            if self.indicators:
                out += ["--indicators", str(self.indicators)]
        return out

    def spec(self, *, records: bool = False, extras: bool = True):
        from geodata.study import spec_from_options

        return spec_from_options(
            crimes=[str(self.crimes)] + ([str(self.records)] if records and self.records else []),
            areas=str(self.areas),
            venues=str(self.venues) if extras and self.venues else None,
            ae=[str(self.ae)] if extras and self.ae else None,
            interventions=str(self.interventions) if extras and self.interventions else None,
            indicators=[str(self.indicators)] if extras and self.indicators else None,
        )


def tiny_study(root: Path, *, location: str = "On or near High Street", venue_names=None,
               intervention_names=None, n: int = 40, crimes_name: str = "2024-01-tiny-street.csv",
               months=("2024-01", "2024-02", "2024-03", "2024-04"), area_name: str | None = None,
               csp_name: str = CSP_NAME) -> TinyStudy:
    """A tiny but complete study: police.uk crimes clustered enough to make a hotspot."""
    root.mkdir(parents=True, exist_ok=True)
    areas = write_areas(root / "areas.geojson", name=area_name, csp_name=csp_name)
    # A tight cluster near one point (a hotspot), plus a scatter.
    rows = []
    cx, cy = ORIGIN[0] + 520, ORIGIN[1] + 480
    k = 0
    for m in months:
        for i in range(n):
            if i % 2 == 0:
                x, y = cx + (i % 5) * 10, cy + (i % 7) * 10
            else:
                x, y = inside_points(1, seed=1000 * k + i)[0]
            lon, lat = lonlat(x, y)
            rows.append(police_row(k, month=m, lon=f"{lon:.6f}", lat=f"{lat:.6f}", location=location))
            k += 1
    crimes = root / crimes_name
    crimes.write_text(POLICE_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    records = root / "records.csv"
    records.write_text(records_csv(12, location=location), encoding="utf-8")
    venues = root / "venues.csv"
    venues.write_text(venues_csv(venue_names or ("The Lamplighters Arms", "Velvet Lounge")), encoding="utf-8")
    ae = root / "ae.csv"
    ae.write_text(ae_csv(6, location=location), encoding="utf-8")
    ivs = root / "interventions.toml"
    ivs.write_text(interventions_toml(intervention_names or ("Steer Clear",)), encoding="utf-8")
    ind = root / "indicators.csv"
    ind.write_text(indicators_csv(), encoding="utf-8")
    return TinyStudy(root=root, crimes=crimes, areas=areas, records=records, ae=ae, venues=venues,
                     interventions=ivs, indicators=ind)


def zip_of(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


# --------------------------------------------------------------------------------------------
# The broken-input corpus


@dataclass
class Case:
    """One broken input. `flag` is the CLI option it is given with; `expect` is "error" (one
    line naming the file and the fix) or the ledger entry's quarantine counts (a dict)."""

    id: str
    flag: str
    path: Path
    expect: object
    error_has: tuple[str, ...] = ()
    note_has: str | None = None
    read: int | None = None
    lookup: Path | None = None


def _w(folder: Path, name: str, data) -> Path:
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        p.write_bytes(data)
    else:
        p.write_text(data, encoding="utf-8", newline="")
    return p


def _rows(header: str, rows) -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def corpus(folder: Path) -> list[Case]:
    """Write every broken input into `folder` and say what each must give."""
    d = folder
    cases: list[Case] = []
    add = cases.append
    good = police_csv(10)
    lines = good.splitlines()
    in_lon, in_lat = lonlat(ORIGIN[0] + 500, ORIGIN[1] + 500)
    far_lon, far_lat = lonlat(325000, 673000)  # Edinburgh
    lookup11 = _w(d, "lsoa11_lsoa21.csv",
                  "LSOA11CD,LSOA21CD,CHGIND\nE01099991,E01000002,U\nE01099992,E01000003,U\n")

    # ---- police.uk street CSVs -------------------------------------------------------------
    P = "--crimes"
    add(Case("pu-empty", P, _w(d, "pu/empty.csv", b""), "error", ("empty",)))
    add(Case("pu-header-only", P, _w(d, "pu/header.csv", POLICE_HEADER + "\n"), {}, note_has="header only", read=0))
    add(Case("pu-missing-column", P, _w(d, "pu/missing.csv", good.replace(",Latitude,", ",Lat_x,")), "error", ("Latitude",)))
    add(Case("pu-renamed-column", P, _w(d, "pu/renamed.csv", good.replace("Crime type", "Offence type")), "error", ("Crime type",)))
    add(Case("pu-extra-columns", P, _w(d, "pu/extra.csv", "\n".join(x + ",extra" for x in lines) + "\n"), {}, read=10))
    add(Case("pu-semicolons", P, _w(d, "pu/semi.csv", good.replace(",", ";")), {}, note_has="semicolons", read=10))
    add(Case("pu-tabs", P, _w(d, "pu/tabs.csv", good.replace(",", "\t")), {}, note_has="tabs", read=10))
    add(Case("pu-bom", P, _w(d, "pu/bom.csv", b"\xef\xbb\xbf" + good.encode()), {}, read=10))
    add(Case("pu-cp1252", P, _w(d, "pu/cp1252.csv", good.replace("High Street", "Caf\u00e9 \u2013 Street").encode("cp1252")),
             {}, note_has="1252", read=10))
    add(Case("pu-utf16", P, _w(d, "pu/utf16.csv", good.encode("utf-16")), {}, note_has="UTF-16", read=10))
    add(Case("pu-truncated-last-line", P, _w(d, "pu/trunc.csv", good.rstrip("\n")[:-60]), {"malformed row": 1}, read=10))
    cut = police_row(50, location="Never closed")
    cut = cut[: cut.index('"Never') + 6]
    add(Case("pu-truncated-in-quote", P, _w(d, "pu/trunc_q.csv", good + cut),
             {"malformed row": 1}, read=11))
    add(Case("pu-quoted-newline", P, _w(d, "pu/qnl.csv", _rows(POLICE_HEADER, [police_row(1, location="Line one\nLine two"), police_row(2)])),
             {}, read=2))
    add(Case("pu-nan-inf-empty", P, _w(d, "pu/naninf.csv", _rows(POLICE_HEADER, [
        police_row(1, lon="NaN", lat="NaN"), police_row(2, lon="inf", lat="-inf"), police_row(3, lon="", lat=""), police_row(4)])),
        {"coordinates out of range": 2, "no coordinates": 1}))
    add(Case("pu-latlon-swapped-file", P, _w(d, "pu/swapped.csv", _rows(POLICE_HEADER, [
        police_row(i, lon=f"{in_lat:.6f}", lat=f"{in_lon:.6f}") for i in range(5)])), {}, note_has="swapped", read=5))
    add(Case("pu-latlon-swapped-row", P, _w(d, "pu/swapped_row.csv", _rows(POLICE_HEADER, [
        police_row(i) for i in range(5)] + [police_row(9, lon=f"{in_lat:.6f}", lat=f"{in_lon:.6f}")])), {"coordinates out of range": 1}))
    add(Case("pu-zero-zero", P, _w(d, "pu/zero.csv", _rows(POLICE_HEADER, [police_row(1, lon="0", lat="0"), police_row(2)])),
             {"coordinates out of range": 1}))
    add(Case("pu-far-outside-own-code", P, _w(d, "pu/far.csv", _rows(POLICE_HEADER, [
        police_row(1, lon=f"{far_lon:.5f}", lat=f"{far_lat:.5f}", lsoa="E01000001"), police_row(2)])),
        {"outside the study area": 1}, note_has="km outside"))
    add(Case("pu-far-outside-other-code", P, _w(d, "pu/far2.csv", _rows(POLICE_HEADER, [
        police_row(1, lon=f"{far_lon:.5f}", lat=f"{far_lat:.5f}", lsoa="S01008000"), police_row(2)])),
        {"outside the study area": 1}))
    add(Case("pu-eastings-as-longitudes", P, _w(d, "pu/eastings.csv", _rows(POLICE_HEADER, [
        police_row(1, lon=f"{ORIGIN[0] + 500:.0f}", lat=f"{ORIGIN[1] + 500:.0f}"), police_row(2)])),
        {"coordinates out of range": 1}))
    add(Case("pu-duplicate-ids-across-months", P, _w(d, "pu/dup.csv", _rows(POLICE_HEADER, [
        police_row(1, crime_id="abc"), police_row(2, crime_id="abc"), police_row(3, crime_id="abc", month="2024-02")])),
        {"duplicate id": 1}))
    add(Case("pu-months-out-of-range", P, _w(d, "pu/months.csv", _rows(POLICE_HEADER, [
        police_row(1, month="2099-01"), police_row(2, month="0024-01"), police_row(3, month="1970-01"),
        police_row(4, month="2024-13"), police_row(5)])), {"month out of range": 3, "unparseable date": 1}))
    add(Case("pu-2011-codes", P, _w(d, "pu/l11.csv", _rows(POLICE_HEADER, [
        police_row(1, lsoa="E01099991"), police_row(2, lsoa="E01099992", lon="", lat="")])),
        {"no coordinates": 1}, lookup=lookup11))
    add(Case("pu-not-a-zip", P, _w(d, "pu/bad.zip", b"PK\x03\x04garbage-garbage"), "error", ("zip",)))
    add(Case("pu-random-bytes-zip", P, _w(d, "pu/random.zip", bytes(range(256)) * 8), "error", ("zip",)))
    whole = zip_of(d / "pu" / "whole.zip.src", {"2024-01/2024-01-tiny-street.csv": good * 20})
    add(Case("pu-truncated-zip", P, _w(d, "pu/cut.zip", whole.read_bytes()[:200]), "error", ("zip",)))
    add(Case("pu-zip-binary-member", P, zip_of(d / "pu" / "member.zip", {"2024-01/2024-01-x-street.csv": "\x00\x01" * 50}),
             "error", ("binary",)))
    add(Case("pu-excel-saved-as-csv", P, _w(d, "pu/book.csv", zip_of(d / "pu" / "book.xlsx", {
        "[Content_Types].xml": "<x/>", "xl/workbook.xml": "<x/>"}).read_bytes()), "error", ("Excel",)))
    add(Case("pu-binary", P, _w(d, "pu/binary.csv", b"\x00\x01\x02" * 100), "error", ("binary",)))
    (d / "pu" / "emptydir").mkdir(parents=True, exist_ok=True)
    add(Case("pu-empty-folder", P, d / "pu" / "emptydir", "error", ("no police.uk",)))
    add(Case("pu-missing-path", P, d / "pu" / "nope.csv", "error", ("not found",)))
    add(Case("pu-ten-times-the-size", P, _w(d, "pu/big.csv", police_csv(10 * 8000)), {}, read=80_000))

    # ---- record-level extracts (routed by their header) ---------------------------------
    rgood = records_csv(8)
    add(Case("rec-header-only", P, _w(d, "rec/header.csv", RECORDS_HEADER + "\n"), "error", ("no data rows",)))
    add(Case("rec-missing-column", P, _w(d, "rec/missing.csv", rgood.replace("offence_code,", "offence_cd,")), "error", ("offence_code",)))
    add(Case("rec-renamed-aliases", P, _w(d, "rec/aliases.csv", rgood.replace("crime_ref,offence_code", "Crime Reference,HO Code")), {}, read=8))
    add(Case("rec-extra-columns", P, _w(d, "rec/extra.csv", "\n".join(x + ",extra" for x in rgood.splitlines()) + "\n"), {}, read=8))
    add(Case("rec-semicolons", P, _w(d, "rec/semi.csv", rgood.replace(",", ";")), "error", ("semicolons",)))
    add(Case("rec-bom", P, _w(d, "rec/bom.csv", b"\xef\xbb\xbf" + rgood.encode()), {}, read=8))
    add(Case("rec-cp1252", P, _w(d, "rec/cp1252.csv", rgood.replace("Lamplighters", "Caf\u00e9\u2019s").encode("cp1252")),
             {}, note_has="1252", read=8))
    add(Case("rec-truncated-in-quote", P, _w(d, "rec/trunc.csv", rgood[:-30]), {"malformed row": 1}, note_has="cut short", read=8))
    add(Case("rec-truncated-fields", P, _w(d, "rec/trunc2.csv", rgood.rstrip("\n") + "\nSYN-09999,5D,Wounding,2024-01-0"),
             {"malformed row": 1}, note_has="cut short", read=9))
    add(Case("rec-stray-quote-mid-file", P, _w(d, "rec/stray.csv", _rows(RECORDS_HEADER, [
        records_row(1), records_row(2), 'SYN-3,5D,"Wounding,2024-01-01 10:00,,384500,254500,Pub,x,,N,Y,24',
        records_row(4), records_row(5)])), "error", ("line 4", "quote")))
    add(Case("rec-quoted-newline", P, _w(d, "rec/qnl.csv", _rows(RECORDS_HEADER, [records_row(1, location="a\nb"), records_row(2)])), {}, read=2))
    add(Case("rec-nan-inf-empty-zero", P, _w(d, "rec/naninf.csv", _rows(RECORDS_HEADER, [
        records_row(1, x="nan", y="nan"), records_row(2, x="inf", y="-inf"), records_row(3, x="", y=""),
        records_row(4, x="0", y="0"), records_row(5, x="1e308", y="1e308"), records_row(6)])),
        {"no coordinates": 4, "coordinates out of range": 1}))
    add(Case("rec-latlon-swapped-in-bng-columns", P, _w(d, "rec/swapped.csv", _rows(RECORDS_HEADER, [
        records_row(1, x=f"{in_lat:.6f}", y=f"{in_lon:.6f}"), records_row(2)])), {}, note_has="degrees", read=2))
    rec_ll_header = RECORDS_HEADER.replace("easting,northing", "latitude,longitude")
    add(Case("rec-eastings-as-longitudes", P, _w(d, "rec/east.csv", _rows(rec_ll_header, [
        records_row(1, x=f"{ORIGIN[1] + 500:.0f}", y=f"{ORIGIN[0] + 500:.0f}"), records_row(2, x=f"{in_lat:.6f}", y=f"{in_lon:.6f}")])),
        {}, note_has="BNG metres", read=2))
    add(Case("rec-far-outside-own-code", P, _w(d, "rec/far.csv", _rows(RECORDS_HEADER, [
        records_row(1, x="325000", y="673000", lsoa="E01000001"), records_row(2)])), {"outside the study area": 1}))
    add(Case("rec-duplicate-ids-across-months", P, _w(d, "rec/dup.csv", _rows(RECORDS_HEADER, [
        records_row(1, ref="A"), records_row(2, ref="A", when="2024-02-01 10:00"), records_row(3)])), {"duplicate id": 1}))
    add(Case("rec-months-out-of-range", P, _w(d, "rec/months.csv", _rows(RECORDS_HEADER, [
        records_row(1, when="2099-01-01 10:00"), records_row(2, when="1900-01-01 10:00"),
        records_row(3, when="31/02/2024 10:00"), records_row(4)])), {"month out of range": 2, "unparseable date": 1}))
    add(Case("rec-2011-codes", P, _w(d, "rec/l11.csv", _rows(RECORDS_HEADER, [
        records_row(1, lsoa="E01099991"), records_row(2, lsoa="E01099992")])), {}, read=2, lookup=lookup11))
    add(Case("rec-huge-field", P, _w(d, "rec/huge.csv", _rows(RECORDS_HEADER, [records_row(1, location="A" * 1_000_000)])), {}, read=1))

    # ---- A&E ----------------------------------------------------------------------------
    A = "--ae"
    add(Case("ae-empty", A, _w(d, "ae/empty.csv", b""), "error", ("empty",)))
    add(Case("ae-header-only", A, _w(d, "ae/header.csv", AE_HEADER + "\n"), "error", ("no data rows",)))
    add(Case("ae-missing-column", A, _w(d, "ae/missing.csv", ae_csv().replace("assault_method", "how")), "error", ("assault_method",)))
    add(Case("ae-tabs", A, _w(d, "ae/tabs.csv", ae_csv().replace(",", "\t")), "error", ("tabs",)))
    add(Case("ae-truncated", A, _w(d, "ae/trunc.csv", ae_csv()[:-12]), {"malformed row": 1}, read=6))
    add(Case("ae-bad-rows", A, _w(d, "ae/bad.csv", AE_HEADER + "\nX1,S,notadate,,,,,\n,S,2024-01-01 10:00,,,,,\n"
                                  + "\n".join(ae_csv(3).splitlines()[1:]) + "\n"),
             {"unparseable date": 1, "missing required value": 1}))

    # ---- venues -------------------------------------------------------------------------
    V = "--venues"
    add(Case("venues-empty", V, _w(d, "v/empty.csv", b""), "error", ("empty",)))
    add(Case("venues-header-only", V, _w(d, "v/header.csv", VENUES_HEADER + "\n"), "error", ("no data rows",)))
    add(Case("venues-no-coordinates", V, _w(d, "v/nocoords.csv", VENUES_HEADER + "\nV1,A pub,pub,,,Y,\nV2,B pub,pub,nan,inf,Y,\nV3,C pub,pub,0,0,Y,\n"),
             {"no coordinates": 3}))
    add(Case("venues-truncated", V, _w(d, "v/trunc.csv", venues_csv().rstrip("\n")[:-28]), {"malformed row": 1}, read=2))
    add(Case("venues-geojson-no-crs-bng", V, _w(d, "v/bng.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Pub A", "type": "pub"},
         "geometry": {"type": "Point", "coordinates": [ORIGIN[0] + 500, ORIGIN[1] + 500]}}]})), {}, note_has="BNG metres", read=1))
    add(Case("venues-geojson-nan", V, _w(d, "v/nan.geojson", '{"type":"FeatureCollection","features":[{"type":"Feature",'
                                     '"properties":{"name":"Pub A"},"geometry":{"type":"Point","coordinates":[NaN, Infinity]}}]}'),
             {"coordinates out of range": 1}))
    add(Case("venues-geojson-broken", V, _w(d, "v/broken.geojson", '{"type":"FeatureCollection","features":[{"type":"Feature"'),
             "error", ("line 1",)))

    # ---- boundaries ---------------------------------------------------------------------
    B = "--areas"
    add(Case("areas-empty", B, _w(d, "a/empty.geojson", b""), "error", ("empty",)))
    add(Case("areas-not-json", B, _w(d, "a/notjson.geojson", "hello"), "error", ("boundary file",)))
    add(Case("areas-no-features", B, _w(d, "a/nofeat.geojson", json.dumps({"type": "FeatureCollection", "features": []})), "error", ("no features",)))
    add(Case("areas-csv", B, _w(d, "a/areas.csv", "a,b\n1,2\n"), "error", ("no geometries",)))
    add(Case("areas-points", B, _w(d, "a/points.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"LSOA21CD": "E01000001"}, "geometry": {"type": "Point", "coordinates": [-2.2, 52.2]}}]})),
        "error", ("no polygons",)))
    add(Case("areas-unreadable-zip", B, _w(d, "a/areas.zip", b"PK\x03\x04garbage"), "error", ("boundary file",)))
    add(Case("areas-invalid-self-intersecting", B, write_areas(d / "a" / "bowtie.geojson", bowtie=True), {}, note_has="repaired"))
    add(Case("areas-geojson-without-crs", B, write_areas(d / "a" / "nocrs.geojson", crs="bng-undeclared"), {}, note_has="British National Grid"))
    add(Case("areas-2011-codes", B, write_areas(d / "a" / "l11.geojson", code_col="LSOA11CD"), {}, note_has="2011"))

    # ---- indicators and lookups -------------------------------------------------------
    I = "--indicators"
    add(Case("indicators-empty", I, _w(d, "i/empty.csv", b""), "error", ("empty",)))
    add(Case("indicators-no-key", I, _w(d, "i/nokey.csv", "a,b\n1,2\n"), "error", ("LSOA code column",)))
    add(Case("indicators-text-only", I, _w(d, "i/text.csv", "lsoa21_code,name\nE01000001,x\n"), "error", ("numeric",)))
    add(Case("indicators-2011-codes-no-lookup", I, _w(d, "i/l11.csv", "lsoa11_code,population\nE01099991,100\nE01000001,200\n"),
             {"unknown area code": 1}, note_has="2011"))
    add(Case("indicators-2011-codes-lookup", I, _w(d, "i/l11b.csv", "lsoa11_code,population\nE01099991,100\nE01099992,200\n"),
             {}, note_has="2011", lookup=lookup11))
    add(Case("indicators-inf-nan", I, _w(d, "i/inf.csv", "lsoa21_code,IMD_score\nE01000001,inf\nE01000002,NaN\nE01000003,1.5\nE01000004,#DIV/0!\n"),
             {}, read=4))
    add(Case("indicators-total-row", I, _w(d, "i/total.csv", indicators_csv() + "Total,20,400\n"), {"unknown area code": 1}))
    L = "--lookup"
    add(Case("lookup-empty", L, _w(d, "l/empty.csv", b""), "error", ("empty",)))
    add(Case("lookup-binary", L, _w(d, "l/bin.csv", b"\x00\x01" * 10), "error", ("not a text",)))
    add(Case("lookup-unclosed-quote", L, _w(d, "l/quote.csv", 'x\n"\n'), "error", ("CSV",)))

    # ---- interventions ------------------------------------------------------------------
    T = "--interventions"
    add(Case("iv-empty", T, _w(d, "t/empty.toml", ""), "error", ("[[intervention]]",)))
    add(Case("iv-syntax", T, _w(d, "t/syntax.toml", "[[intervention]\nname=1"), "error", ("line 1",)))
    add(Case("iv-unknown-key", T, _w(d, "t/key.toml", '[[intervention]]\nname="A"\nthme=["x"]\neverywhere=true\n'), "error", ("thme", "line 1")))
    add(Case("iv-cp1252", T, _w(d, "t/cp.toml", '[[intervention]]\nname = "Caf\xe9"\neverywhere = true\n'.encode("latin-1")), "error", ("UTF-8",)))
    add(Case("iv-missing-polygons", T, _w(d, "t/poly.toml", '[[intervention]]\nname="A"\npolygons="nope.geojson"\n'), "error", ("nope.geojson",)))
    add(Case("iv-nan-point", T, _w(d, "t/nan.toml", '[[intervention]]\nname="A"\npoints=[{easting=nan, northing=inf, radius_m=100}]\n'),
             "error", ("easting",)))
    write_areas(d / "t" / "bowtie.geojson", bowtie=True)
    add(Case("iv-self-intersecting-polygons", T, _w(d, "t/bowtie.toml", '[[intervention]]\nname="A"\npolygons="bowtie.geojson"\n'), {}))

    # ---- study files --------------------------------------------------------------------
    S = "--study"
    add(Case("study-missing", S, d / "s" / "nope.toml", "error", ("not found",)))
    add(Case("study-bad-toml", S, _w(d, "s/bad.toml", "[study\n"), "error", ("TOML",)))
    (d / "s" / "folder.toml").mkdir(parents=True, exist_ok=True)
    add(Case("study-is-a-folder", S, d / "s" / "folder.toml", "error", ("folder.toml",)))
    cases.extend(round_two(d))
    return cases


def write_gpkg_layers(path: Path, layers: dict[str, str]) -> Path:
    """A GeoPackage whose layers are the four squares with the code column named as given
    (e.g. {"wards": "WD24CD", "lsoa21": "LSOA21CD"}); ward layers get ward codes."""
    import geopandas as gpd
    import pyogrio

    path.parent.mkdir(parents=True, exist_ok=True)
    src = write_areas(path.with_suffix(".src.geojson"))
    base = gpd.read_file(src).to_crs(27700)
    for name, col in layers.items():
        g = base.rename(columns={"LSOA21CD": col, "LSOA21NM": col.replace("CD", "NM")}).copy()
        if col.startswith("WD"):
            g[col] = ["E05000001", "E05000001", "E05000002", "E05000002"]
        pyogrio.write_dataframe(g, path, layer=name, driver="GPKG")
    return path


def round_two(d: Path) -> list[Case]:
    """Issue 17: inputs trusted that should not be (study.toml typos, a string for a boolean,
    lookup weights, A&E dates, system files, multi-layer GeoPackages)."""
    cases: list[Case] = []
    add = cases.append
    S, L, A, P, B = "--study", "--lookup", "--ae", "--crimes", "--areas"
    add(Case("study-typo-key", S, _w(d, "s2/key.toml", '[study]\nname = "x"\n[sources]\ninterventons = "iv.toml"\n'),
             "error", ("interventons", "did you mean interventions")))
    add(Case("study-typo-table", S, _w(d, "s2/table.toml", '[study]\nname = "x"\n[setings]\ndefinition = "west-mercia"\n'),
             "error", ("[setings]", "[settings]")))
    add(Case("study-synthetic-string", S, _w(d, "s2/synth.toml", '[study]\nname = "x"\nsynthetic = "false"\n'),
             "error", ("synthetic", "true or false", "synthetic = false")))
    header = "LSOA11CD,LSOA21CD,CHGIND,weight\n"
    add(Case("lookup-weights-out-of-range", L, _w(d, "l2/w.csv", header + "E01099991,E01000002,S,2.5\n"
                                                 "E01099991,E01000003,S,-3\nE01099992,E01000004,U,1\n"),
             "error", ("between 0 and 1", "E01099991")))
    add(Case("lookup-weights-not-summing", L, _w(d, "l2/sum.csv", header + "E01099991,E01000002,S,0.7\n"
                                                 "E01099991,E01000003,S,0.7\nE01099992,E01000004,U,1\n"),
             "error", ("sum to 1", "E01099991", "1.4")))
    add(Case("lookup-weights-rounded", L, _w(d, "l2/round.csv", header + "E01099991,E01000002,S,0.333\n"
                                             "E01099991,E01000003,S,0.333\nE01099991,E01000004,S,0.333\n"), {}))
    rows = ae_csv(4).splitlines()
    rows.append("ED9001,RWP01,2099-01-02 23:10,2099-01-02 22:50,Broken bottle,Public house,x,20")
    rows.append("ED9002,RWP01,1901-01-02 23:10,,Broken bottle,Public house,x,20")
    add(Case("ae-arrival-future-and-1901", A, _w(d, "ae2/dates.csv", "\n".join(rows) + "\n"),
             {"date out of range": 2}, read=6))
    passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    add(Case("crimes-system-file", P, _w(d, "sys/passwd", passwd), "error", ("does not look like a CSV",)))
    add(Case("ae-system-file", A, _w(d, "sys/shadow.csv", passwd), "error", ("does not look like a CSV",)))
    add(Case("areas-gpkg-two-layers", B, write_gpkg_layers(d / "a2" / "two.gpkg", {"wards": "WD24CD", "lsoa21": "LSOA21CD"}),
             {}, note_has="read layer 'lsoa21'"))
    add(Case("areas-gpkg-ambiguous-layers", B, write_gpkg_layers(d / "a2" / "amb.gpkg", {"a": "LSOA21CD", "b": "LSOA21CD"}),
             "error", ("2 layers with LSOA codes", "amb.gpkg:a")))
    add(Case("areas-gpkg-no-such-layer", B, Path(str(write_gpkg_layers(d / "a2" / "one.gpkg", {"x": "LSOA21CD", "y": "WD24CD"})) + ":nope"),
             "error", ("no layer 'nope'",)))
    add(Case("areas-gpkg-named-layer", B, Path(str(d / "a2" / "amb.gpkg") + ":b"), {}))
    return cases
