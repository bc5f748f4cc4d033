"""Reader for emergency-department assault data (Cardiff Model / ISTV, information standard
ISB 1594): one row per attendance for assault, with arrival and assault date-times, assault
method, assault location type and a free-text location description.

Most rows carry no coordinates. Where a venue list is supplied, the free-text description is
matched to venue names (case- and punctuation-insensitive containment of the whole venue name,
the longest name winning) to give the row a venue_id and that venue's coordinates. The contract
is in docs/formats.md; an example is sample_data/examples/ae_example.csv.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from geodata.ledger import Ledger, SourceLedger
from geodata.records import (
    COORD_ALIASES,
    _combine_date_time,
    _dedupe,
    _flag_note,
    _is_unknown_text,
    _parse_age,
    _prefix_raw,
    _via_unique,
    _quarantine_by_reason,
    coordinate_notes,
    normalise_location_type,
    parse_datetime_series,
    read_csv_table,
    resolve_coordinates,
)
from geodata.schema import AE_SCHEMA, conform
from geodata.venues import VENUE_TO_LOCATION_TYPE, venue_key

__all__ = ["read_ae", "normalise_assault_method", "match_venue_names", "AE_REQUIRED",
           "ASSAULT_METHOD_RULES", "ASSAULT_METHODS"]

#: Columns the header must have (after aliasing).
AE_REQUIRED = ("attendance_id", "site_code", "arrival_datetime", "assault_method")

ASSAULT_METHODS = ("sharp_object", "blunt_object", "body_part", "firearm", "corrosive", "other", "unknown")

AE_ALIASES: dict[str, tuple[str, ...]] = {
    "attendance_id": ("attendance_ref", "attendance_number", "attendance_identifier",
                      "ae_attendance_id", "ae_attendance_number", "record_id", "id"),
    "site_code": ("site", "ods_code", "site_ods_code", "organisation_site_identifier",
                  "provider_site_code", "department_code", "ed_site_code"),
    "reporting_period_start": ("reporting_period_start_date", "period_start"),
    "reporting_period_end": ("reporting_period_end_date", "period_end"),
    "arrival_datetime": ("arrival_date_time", "arrival_dt", "ed_arrival_datetime",
                         "attendance_datetime"),
    "assault_datetime": ("assault_date_time", "assault_dt", "incident_datetime",
                         "date_time_of_assault"),
    "assault_method": ("method", "weapon", "weapon_used", "assault_weapon", "method_of_assault",
                       "assault_method_description"),
    "assault_location_type": ("location_type", "assault_location", "place_of_assault",
                              "location_of_assault_type"),
    "assault_location_description": ("location_description", "assault_location_desc",
                                     "location_desc", "location_free_text", "location_text",
                                     "assault_location_free_text", "location_of_assault"),
    "patient_age": ("age", "age_at_arrival", "age_at_attendance", "patient_age_years"),
    **COORD_ALIASES,
}

#: Ordered (regex, method) rules on lower-cased free text; the first match wins. Weapons before
#: body parts ("hit with a bottle" is blunt), sharp before blunt ("broken bottle" is sharp,
#: "bottle" alone is blunt), firearms and corrosives first.
ASSAULT_METHOD_RULES: tuple[tuple[str, str], ...] = (
    (r"^(unknown|not known|not stated|not recorded|n/?k|\?|u|unk|none given|declined)$", "unknown"),
    (r"gun|firearm|pistol|rifle|revolver|\bshot\b|pellet|\bbb\b|\bcs gas\b|taser|stun", "firearm"),
    (r"acid|corrosive|bleach|ammonia|noxious|chemical|alkali|caustic|thrown liquid", "corrosive"),
    (r"knife|knives|blade|bladed|stab|sharp|machete|sword|razor|scissors|screwdriver|glass"
     r"|broken bottle|bottle,? broken|bottle \(broken\)|bottled|\bcut|slash|needle|syringe|dagger"
     r"|cleaver|\baxe\b|meat cleaver|box cutter|stanley|pointed", "sharp_object"),
    (r"bottle|\bbat\b|baseball|blunt|hammer|\bstick|\bclub\b|brick|stone|rock|\bpipe|cosh"
     r"|truncheon|crowbar|\biron\b|wrench|spanner|\bbar\b|chair|golf|\bpole\b|plank|wood"
     r"|furniture|object|thrown", "blunt_object"),
    (r"fist|punch|kick|\bfoot\b|\bfeet\b|head ?butt|body|\bhands?\b|slap|stamp|\bbit|\bbite"
     r"|elbow|knee|strangl|choke|push|shove|\bhit\b|beat|unarmed|\bfight",
     "body_part"),
)


def normalise_assault_method(expr: pl.Expr) -> pl.Expr:
    """Free-text assault method -> one of ASSAULT_METHODS (blank -> 'unknown')."""
    s = expr.cast(pl.Utf8).str.to_lowercase().str.replace_all(r"[_\s]+", " ").str.strip_chars()
    exact = {m.replace("_", " "): m for m in ASSAULT_METHODS}
    out = pl.when(s.is_null() | (s == "")).then(pl.lit("unknown"))
    out = out.when(s.is_in(list(exact))).then(s.replace_strict(exact, default=None))
    for pattern, method in ASSAULT_METHOD_RULES:
        out = out.when(s.str.contains(pattern)).then(pl.lit(method))
    return out.otherwise(pl.lit("other"))


def match_venue_names(
    descriptions: pl.Series, venues: pl.DataFrame, min_key_chars: int = 4
) -> tuple[pl.Series, dict[str, int]]:
    """Match free-text descriptions to venue names.

    A description matches a venue when the venue's name, normalised by `venues.venue_key`
    (lower case, apostrophes dropped, '&' = 'and', punctuation ignored), appears in the
    normalised description as whole words. A leading "The" is optional. Only venues from a
    file (origin "file") are used when the frame has an origin column: names inferred from
    police.uk labels ("Nightclub") are too generic to match on. The longest matching
    name wins. A name shared by several venues is ambiguous: descriptions whose longest match is
    such a name stay unmatched. Names shorter than `min_key_chars` are never used.

    Loops over the (few hundred) distinct venue names, never over rows. Returns (venue_id
    series aligned with descriptions, counts {"matched": n, "ambiguous": n}).
    """
    n = len(descriptions)
    desc = pl.DataFrame({"d": descriptions.cast(pl.Utf8)}).select(venue_key(pl.col("d"))).to_series()
    if venues is not None and "origin" in venues.columns:
        venues = venues.filter(pl.col("origin") == "file")
    if venues is None or venues.height == 0 or n == 0:
        return pl.Series("venue_id", [None] * n, dtype=pl.Utf8), {"matched": 0, "ambiguous": 0}
    keys = (
        venues.select(
            pl.col("venue_id").cast(pl.Utf8),
            venue_key(pl.col("name")).alias("key"),
        )
        .drop_nulls()
        .with_columns(pl.col("key").str.replace(r"^ the (.{5,}) $", " ${1} "))
    )
    keys = keys.filter(pl.col("key").str.strip_chars().str.len_chars() >= min_key_chars)
    groups = (
        keys.group_by("key")
        .agg(pl.col("venue_id").unique().sort().alias("ids"))
        .with_columns(pl.col("key").str.len_chars().alias("len"))
        .sort(["len", "key"], descending=[True, False])
    )
    AMBIG = "\x00ambiguous"
    matched = pl.Series("venue_id", [None] * n, dtype=pl.Utf8)
    open_ = desc.is_not_null()
    for key, ids in zip(groups["key"].to_list(), groups["ids"].to_list()):
        hit = open_ & desc.str.contains(key, literal=True)
        if not hit.any():
            continue
        value = ids[0] if len(ids) == 1 else AMBIG
        matched = pl.select(pl.when(hit).then(pl.lit(value)).otherwise(matched)).to_series()
        open_ = open_ & ~hit
        if not open_.any():
            break
    n_ambig = int((matched == AMBIG).sum())
    matched = pl.select(pl.when(matched == AMBIG).then(None).otherwise(matched)).to_series().alias("venue_id")
    return matched, {"matched": int(matched.is_not_null().sum()), "ambiguous": n_ambig}


EARLIEST_ARRIVAL = datetime(1990, 1, 1)


def _arrival_out_of_range() -> pl.Expr:
    """An arrival before 1990 or after tomorrow is a typo (2099, 1901, a two-digit year), not an
    attendance: quarantined, as police months out of range are (geodata.study)."""
    latest = datetime.combine(date.today() + timedelta(days=1), datetime.min.time())
    return (pl.col("arrival_dt") < EARLIEST_ARRIVAL) | (pl.col("arrival_dt") >= latest)


def read_ae(path: str | Path, venues: pl.DataFrame | None = None,
            ledger: Ledger | None = None) -> pl.DataFrame:
    """Read an A&E assault extract into AE_SCHEMA.

    Quarantine reasons (first that applies): ``malformed row``, ``missing required value``
    (blank attendance_id or arrival_datetime), ``unparseable date`` (arrival_datetime),
    ``duplicate id`` (attendance_id seen earlier; first kept). Blank site_code is kept with a
    note; blank assault_method becomes ``unknown``. An unparseable assault_datetime is left
    blank with a note; ``month`` is the assault month, or the arrival month when the assault
    date is unknown. Given coordinates that are unusable are dropped with a note (the row
    stays: most attendances have none). With `venues`, descriptions are matched to venue names
    (see match_venue_names); a match fills venue_id, missing coordinates, and a blank
    location_type (from the venue's type).
    """
    table = read_csv_table(path, aliases=AE_ALIASES, required=(), coordinates="optional",
                           what="A&E extract")
    df = table.frame
    # Separate date and time columns are common in ED systems: combine them.
    for target, stem in (("arrival_datetime", "arrival"), ("assault_datetime", "assault")):
        if target not in df.columns and f"{stem}_date" in df.columns:
            t = pl.col(f"{stem}_time") if f"{stem}_time" in df.columns else None
            df = df.with_columns(_combine_date_time(pl.col(f"{stem}_date"), t).alias(target))
            table.notes.append(f"combined {stem}_date and {stem}_time into {target}")
    missing_cols = [c for c in AE_REQUIRED if c not in df.columns]
    if missing_cols:
        from geodata.errors import SourceError

        raise SourceError(
            table.path,
            f"missing required column{'s' if len(missing_cols) > 1 else ''}: {', '.join(missing_cols)}"
            f" (found: {', '.join(table.original.values())})",
            "rename or add the columns as described in docs/formats.md")
    table.frame = df

    entry = SourceLedger(kind="ae", path=table.path)
    entry.notes.extend(table.notes)
    entry.read = df.height
    cols = set(df.columns)

    def col(name: str) -> pl.Expr:
        return pl.col(f"_raw_{name}") if name in cols else pl.lit(None, dtype=pl.Utf8)

    has_coords = any(c in cols for c in ("easting", "northing", "latitude", "longitude"))
    if has_coords:
        x, y, kind = resolve_coordinates(df)
    else:
        x = np.full(df.height, np.nan)
        y = np.full(df.height, np.nan)
        kind = np.full(df.height, "none")
    df = _prefix_raw(df)

    def raw(name: str) -> pl.Series:
        return df[f"_raw_{name}"] if name in cols else pl.Series(name, [None] * df.height, dtype=pl.Utf8)

    df = df.with_columns(
        parse_datetime_series(raw("arrival_datetime")).alias("arrival_dt"),
        parse_datetime_series(raw("assault_datetime")).alias("_assault_raw"),
        _via_unique(raw("assault_method"), normalise_assault_method).alias("assault_method"),
        _via_unique(raw("assault_location_type"), normalise_location_type).alias("location_type"),
    )
    age, age_bad = _parse_age(col("patient_age"))
    df = df.with_columns(
        pl.lit(table.path).alias("source_file"),
        col("attendance_id").alias("attendance_id"),
        col("site_code").str.to_uppercase().alias("site_code"),
        col("assault_datetime").alias("_assault_text"),
        col("assault_method").alias("_method_text"),
        col("assault_location_type").alias("_loc_text"),
        col("assault_location_description").alias("location_desc"),
        age.alias("age"),
        age_bad.alias("_bad_age"),
        col("patient_age").alias("_age_text"),
        pl.Series("_x", x),
        pl.Series("_y", y),
        pl.Series("_coord_kind", kind),
    )
    missing = col("attendance_id").is_null() | col("arrival_datetime").is_null()
    df = df.with_columns(
        pl.when(pl.col("_malformed")).then(pl.lit("malformed row"))
        .when(missing).then(pl.lit("missing required value"))
        .when(pl.col("arrival_dt").is_null()).then(pl.lit("unparseable date"))
        .when(_arrival_out_of_range()).then(pl.lit("date out of range"))
        .otherwise(pl.lit(None, dtype=pl.Utf8)).alias("_reason")
    )
    df = _dedupe(df, "attendance_id")
    df = _quarantine_by_reason(table, entry, df)
    entry.accepted = df.height

    # Venue matching on accepted rows.
    if venues is not None and venues.height:
        vid, counts = match_venue_names(df["location_desc"], venues)
        vinfo = venues.select(
            pl.col("venue_id").cast(pl.Utf8),
            pl.col("easting").cast(pl.Float64).alias("_ve"),
            pl.col("northing").cast(pl.Float64).alias("_vn"),
            pl.col("type").cast(pl.Utf8).replace_strict(VENUE_TO_LOCATION_TYPE, default="other").alias("_vloc"),
        ).unique("venue_id", keep="first")
        df = df.with_columns(vid.alias("venue_id")).join(vinfo, on="venue_id", how="left", maintain_order="left")
        if counts["matched"]:
            entry.notes.append(f"{counts['matched']} of {df.height} location descriptions matched a venue name")
        if counts["ambiguous"]:
            entry.notes.append(
                f"{counts['ambiguous']} location descriptions matched a name shared by several venues; left unmatched")
    else:
        df = df.with_columns(
            pl.lit(None, dtype=pl.Utf8).alias("venue_id"),
            pl.lit(None, dtype=pl.Float64).alias("_ve"),
            pl.lit(None, dtype=pl.Float64).alias("_vn"),
            pl.lit(None, dtype=pl.Utf8).alias("_vloc"),
        )
    given = pl.col("_x").is_not_nan() & pl.col("_y").is_not_nan()
    df = df.with_columns(
        pl.when(given).then(pl.col("_x")).otherwise(pl.col("_ve")).alias("easting"),
        pl.when(given).then(pl.col("_y")).otherwise(pl.col("_vn")).alias("northing"),
        pl.coalesce([pl.col("location_type"), pl.col("_vloc")]).alias("location_type"),
        pl.when(pl.col("_assault_raw").is_not_null()).then(pl.col("_assault_raw")).otherwise(None).alias("assault_dt"),
        (~_is_unknown_text(pl.col("_assault_text")) & pl.col("_assault_raw").is_null()).alias("_bad_assault"),
        (pl.col("_assault_raw") > pl.col("arrival_dt")).alias("_assault_after"),
        (pl.col("_coord_kind") == "range").alias("_bad_coords"),
        pl.col("site_code").is_null().alias("_no_site"),
        ((pl.col("assault_method") == "other") & pl.col("_method_text").is_not_null()).alias("_method_other"),
        (pl.col("location_type") == "other").alias("_loc_other"),
    )
    df = df.with_columns(
        pl.coalesce([pl.col("assault_dt"), pl.col("arrival_dt")]).dt.truncate("1mo").cast(pl.Date).alias("month"),
    )
    notes: list[str] = []
    notes += _flag_note(df, "_no_site", "site_code blank")
    notes += _flag_note(df, "_bad_assault", "assault_datetime not a recognised date, left blank", "_assault_text")
    notes += _flag_note(df, "_assault_after", "assault_datetime later than arrival (kept as given)")
    notes += _flag_note(df, "_bad_age", "patient_age not a whole number of years in 0-120, read as not known", "_age_text")
    notes += _flag_note(df, "_bad_coords", "coordinates given but not in Great Britain, ignored")
    notes += _flag_note(df, "_method_other", "assault_method not recognised, recorded as 'other'", "_method_text")
    notes += _flag_note(df, "_loc_other", "assault_location_type not recognised, recorded as 'other'", "_loc_text")
    if has_coords:
        notes += coordinate_notes(df)
    entry.notes.extend(notes)
    entry.check()
    if ledger is not None:
        ledger.add(entry)
    return conform(df, AE_SCHEMA)
