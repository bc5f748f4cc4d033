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
                code_col: str = "LSOA21CD") -> Path:
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
            "properties": {code_col: code, code_col.replace("CD", "NM"): f"Tiny {code[-1]}",
                           "CSP24CD": CSP_CODE, "CSP24NM": CSP_NAME},
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
        x, y = inside_points(i + 1, seed=i)[-1]
        lon, lat = lonlat(x, y)
        lon, lat = f"{lon:.6f}", f"{lat:.6f}"
    cid = f"{i:064x}" if crime_id is None else crime_id
    loc = location.replace('"', '""')
    return (f'{cid},{month},West Mercia Police,West Mercia Police,{lon},{lat},"{loc}",{lsoa},'
            f"Tiny 1,{crime_type},Under investigation,")


def police_csv(n: int = 12, month: str = "2024-01", start: int = 0, **kw) -> str:
    return POLICE_HEADER + "\n" + "\n".join(police_row(start + i, month=month, **kw) for i in range(n)) + "\n"


def records_row(i: int, *, x=None, y=None, when: str = "2024-01-06 23:40", code: str = "5D",
                ref: str | None = None, location: str = "Outside The Lamplighters Arms",
                lsoa: str = "") -> str:
    if x is None or y is None:
        x, y = inside_points(i + 1, seed=100 + i)[-1]
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
               months=("2024-01", "2024-02", "2024-03", "2024-04")) -> TinyStudy:
    """A tiny but complete study: police.uk crimes clustered enough to make a hotspot."""
    root.mkdir(parents=True, exist_ok=True)
    areas = write_areas(root / "areas.geojson")
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
