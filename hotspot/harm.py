"""Harm weights per incident (ONS Crime Severity Score style).

Each incident gets a ``harm`` weight: the weight of its Home Office Counting Rules offence code
where the code is in ``hotspot/data/offences.csv`` and has a weight, otherwise the default for
its police.uk crime type from ``hotspot/data/harm_police_uk.csv`` (the crime type is looked up
from the offence code when the row has none). Rows with neither stay null: nothing is silently
given a weight it may not deserve; pass ``default=`` to choose one.

The ONS Crime Severity Score weights each offence by the average sentence it attracts, in days.
Every weight here carries its basis, source and year, and ``provisional = true`` unless it has
been checked against the current ONS workbook (none has yet; see docs/definition.md).
"""

from __future__ import annotations

import functools
from importlib import resources

import polars as pl

from hotspot.definition import (
    POLICE_UK_CRIME_TYPES,
    DefinitionError,
    fill_crime_type,
    normalise_code_expr,
    offence_table,
)

__all__ = [
    "offence_weights",
    "police_uk_weights",
    "weights_table",
    "harm_expr",
    "harm_weights",
    "with_harm",
    "add_harm",
    "calibrate_police_uk_defaults",
]

_POLICE_UK_CSV = "harm_police_uk.csv"


@functools.lru_cache(maxsize=1)
def _police_uk_cached() -> pl.DataFrame:
    res = resources.files("hotspot").joinpath("data", _POLICE_UK_CSV)
    with res.open("rb") as fh:
        df = pl.read_csv(
            fh,
            schema_overrides={
                "crime_type": pl.Utf8,
                "harm_weight": pl.Float64,
                "weight_basis": pl.Utf8,
                "weight_source": pl.Utf8,
                "weight_year": pl.Int32,
                "provisional": pl.Boolean,
                "rationale": pl.Utf8,
            },
        )
    bad = set(df["crime_type"].to_list()) - set(POLICE_UK_CRIME_TYPES)
    if bad:
        raise DefinitionError(f"{_POLICE_UK_CSV}: unknown police.uk crime types {sorted(bad)}")
    if df["crime_type"].is_duplicated().any():
        raise DefinitionError(f"{_POLICE_UK_CSV}: a crime type is listed twice")
    if df["harm_weight"].is_null().any() or (df["harm_weight"] < 0).any():
        raise DefinitionError(f"{_POLICE_UK_CSV}: every crime type needs a non-negative weight")
    return df


def offence_weights() -> pl.DataFrame:
    """Weights by offence code: ``offence_code, description, police_uk_type, harm_weight,
    weight_basis, weight_source, weight_year, provisional, code_status``. A null weight means
    no figure was found; such codes fall back to their crime type's default."""
    return offence_table()


def police_uk_weights() -> pl.DataFrame:
    """Default weights by police.uk crime type: ``crime_type, harm_weight, weight_basis,
    weight_source, weight_year, provisional, rationale``."""
    return _police_uk_cached()


def weights_table() -> pl.DataFrame:
    """Every weight svtui uses, for display: one row per offence code, then one per police.uk
    crime type. Columns: ``level`` (``offence`` / ``police.uk type``), ``key`` (the code or the
    crime type), ``description``, ``police_uk_type``, ``harm_weight``, ``weight_basis``,
    ``weight_source``, ``weight_year``, ``provisional``, ``note`` (code status, or the rationale
    of a crime-type default)."""
    off = offence_weights().select(
        pl.lit("offence").alias("level"),
        pl.col("offence_code").alias("key"),
        "description",
        "police_uk_type",
        "harm_weight",
        "weight_basis",
        "weight_source",
        "weight_year",
        "provisional",
        pl.col("code_status").alias("note"),
    )
    typ = police_uk_weights().select(
        pl.lit("police.uk type").alias("level"),
        pl.col("crime_type").alias("key"),
        pl.lit("default for the crime type").alias("description"),
        pl.col("crime_type").alias("police_uk_type"),
        "harm_weight",
        "weight_basis",
        "weight_source",
        "weight_year",
        "provisional",
        pl.col("rationale").alias("note"),
    )
    return pl.concat([off, typ], how="vertical_relaxed")


def _lookups():
    off = offence_weights().filter(pl.col("harm_weight").is_not_null())
    typ = police_uk_weights()
    return (
        off["offence_code"].to_list(), off["harm_weight"].to_list(), off["provisional"].to_list(),
        typ["crime_type"].to_list(), typ["harm_weight"].to_list(), typ["provisional"].to_list(),
    )


def _parts(columns) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(weight by code, weight by type, provisional by code, provisional by type)."""
    codes, cw, cp, types, tw, tp = _lookups()
    code = (normalise_code_expr(pl.col("offence_code")) if "offence_code" in columns
            else pl.lit(None, dtype=pl.Utf8))
    # crime type: given, else looked up from the code (same rule as fill_crime_type)
    if "crime_type" in columns:
        ctype = pl.col("crime_type").cast(pl.Utf8)
    else:
        ctype = pl.lit(None, dtype=pl.Utf8)
    t = offence_table().filter(pl.col("police_uk_type").is_not_null())
    ctype = pl.coalesce(
        ctype,
        code.replace_strict(t["offence_code"].to_list(), t["police_uk_type"].to_list(),
                            default=None, return_dtype=pl.Utf8),
    )
    w_code = code.replace_strict(codes, cw, default=None, return_dtype=pl.Float64)
    p_code = code.replace_strict(codes, cp, default=None, return_dtype=pl.Boolean)
    w_type = ctype.replace_strict(types, tw, default=None, return_dtype=pl.Float64)
    p_type = ctype.replace_strict(types, tp, default=None, return_dtype=pl.Boolean)
    return w_code, w_type, p_code, p_type


def harm_expr(columns=("offence_code", "crime_type"), default: float | None = None) -> pl.Expr:
    """A Polars expression for ``harm`` (Float64) over a frame with the given columns.

    ``columns`` names the columns the frame has (pass ``df.columns``); either of
    ``offence_code`` and ``crime_type`` may be absent. ``default`` fills rows that neither
    lookup can weigh (left null when None).
    """
    w_code, w_type, _, _ = _parts(set(columns))
    h = pl.coalesce(w_code, w_type)
    if default is not None:
        h = h.fill_null(float(default))
    return h.cast(pl.Float64).alias("harm")


def harm_weights(incidents: pl.DataFrame, default: float | None = None) -> pl.Series:
    """The ``harm`` weight of every incident (a Float64 Series named ``harm``, same length and
    order as ``incidents``): by offence code where known, else by police.uk crime type."""
    return incidents.select(harm_expr(incidents.columns, default=default)).to_series()


def with_harm(incidents: pl.DataFrame, default: float | None = None) -> pl.DataFrame:
    """``incidents`` with ``harm`` (Float64), ``harm_basis`` (``offence code`` / ``crime type`` /
    ``default`` / null) and ``harm_provisional`` (Boolean) added or replaced."""
    w_code, w_type, p_code, p_type = _parts(set(incidents.columns))
    basis = (
        pl.when(w_code.is_not_null()).then(pl.lit("offence code"))
        .when(w_type.is_not_null()).then(pl.lit("crime type"))
        .otherwise(pl.lit("default") if default is not None else pl.lit(None, dtype=pl.Utf8))
    )
    prov = (
        pl.when(w_code.is_not_null()).then(p_code)
        .when(w_type.is_not_null()).then(p_type)
        .otherwise(pl.lit(True) if default is not None else pl.lit(None, dtype=pl.Boolean))
    )
    return incidents.with_columns(
        harm_expr(incidents.columns, default=default),
        basis.alias("harm_basis"),
        prov.alias("harm_provisional"),
    )


def add_harm(incidents: pl.DataFrame, default: float | None = None) -> pl.DataFrame:
    """Same as :func:`with_harm`. Rows neither lookup can weigh keep a null ``harm``: sum
    with Polars (nulls skipped) or fill them before handing ``harm`` to NumPy."""
    return with_harm(incidents, default=default)


def calibrate_police_uk_defaults(records: pl.DataFrame) -> pl.DataFrame:
    """Mean offence-level harm per police.uk crime type in a partnership's own record-level data.

    This is the volume-weighted mean that ``harm_police_uk.csv`` approximates nationally, but
    with the local offence mix. Columns: ``crime_type, incidents, weighted, harm_weight``
    (mean over the rows whose code has a weight), ``shipped_weight`` (the shipped default).
    """
    df = fill_crime_type(records)
    w_code, _, _, _ = _parts(set(df.columns))
    out = (
        df.select(pl.col("crime_type"), w_code.alias("__w"))
        .filter(pl.col("crime_type").is_not_null())
        .group_by("crime_type")
        .agg(
            pl.len().alias("incidents"),
            pl.col("__w").is_not_null().sum().alias("weighted"),
            pl.col("__w").mean().alias("harm_weight"),
        )
        .join(
            police_uk_weights().select("crime_type", pl.col("harm_weight").alias("shipped_weight")),
            on="crime_type", how="left",
        )
        .sort("crime_type")
    )
    return out
