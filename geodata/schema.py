"""Canonical column schemas shared by every reader (see docs/formats.md).

Readers return frames with exactly these columns so the engine never needs to know which file
format a row came from. Markers are nullable Booleans: null means "not known", never false.
"""
from __future__ import annotations

import polars as pl

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

MARKERS = ("domestic_abuse", "hate_crime", "knife", "firearm", "corrosive", "county_lines", "alcohol")

INCIDENT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.Utf8,
    "source_file": pl.Utf8,
    "source_row": pl.Int64,
    "incident_id": pl.Utf8,
    "force": pl.Utf8,
    "month": pl.Date,
    "from_dt": pl.Datetime("us"),
    "to_dt": pl.Datetime("us"),
    "easting": pl.Float64,
    "northing": pl.Float64,
    "location": pl.Utf8,
    "location_type": pl.Utf8,
    "lsoa_given": pl.Utf8,
    "lsoa_code": pl.Utf8,
    "crime_type": pl.Utf8,
    "offence_code": pl.Utf8,
    "offence_desc": pl.Utf8,
    "outcome": pl.Utf8,
    **{m: pl.Boolean for m in MARKERS},
    "victim_age": pl.Int32,
    "suspect_age": pl.Int32,
}

AE_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.Utf8,
    "source_row": pl.Int64,
    "attendance_id": pl.Utf8,
    "site_code": pl.Utf8,
    "arrival_dt": pl.Datetime("us"),
    "assault_dt": pl.Datetime("us"),
    "month": pl.Date,
    "assault_method": pl.Utf8,
    "location_type": pl.Utf8,
    "location_desc": pl.Utf8,
    "age": pl.Int32,
    "venue_id": pl.Utf8,
    "easting": pl.Float64,
    "northing": pl.Float64,
    "lsoa_code": pl.Utf8,
}

VENUE_SCHEMA: dict[str, pl.DataType] = {
    "venue_id": pl.Utf8,
    "name": pl.Utf8,
    "type": pl.Utf8,
    "licensed": pl.Boolean,
    "easting": pl.Float64,
    "northing": pl.Float64,
    "hours": pl.Utf8,
    "origin": pl.Utf8,
}

HIERARCHY_COLUMNS = (
    "lsoa_code", "lsoa_name", "ward_code", "ward_name", "district_code", "district_name",
    "csp_code", "csp_name", "force_code", "force_name",
)

LOCATION_TYPES = (
    "nightclub", "pub_bar", "takeaway", "restaurant", "shop", "supermarket", "shopping_area",
    "petrol_station", "parking", "hospital", "bus_station", "train_station", "park", "sports",
    "school", "further_education", "theatre_concert", "place_of_worship", "police_station",
    "prison", "dwelling", "street", "other",
)


def empty_frame(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Return df with exactly the schema's columns, in order, missing ones as nulls."""
    cols = []
    for name, dtype in schema.items():
        if name in df.columns:
            cols.append(pl.col(name).cast(dtype, strict=False))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return df.select(cols)
