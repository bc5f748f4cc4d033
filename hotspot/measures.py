"""The Serious Violence Duty's success measures, per area, with counts, rates and trend.

The Duty's three headline measures are homicides, hospital admissions for assault with a knife
or sharp object, and police-recorded knife or sharp-instrument crime. svtui counts:

* ``homicide``: offences coded murder, manslaughter or infanticide (1, 1/1, 1/2, 4/1, 4/2).
  Attempted murder (2) is serious violence but not a homicide. Needs offence codes, so
  police.uk data cannot show it.
* ``ae_knife_assault``: A&E assault attendances whose method is a sharp object
  (``assault_method == "sharp_object"``). These are emergency-department attendances (ISTV),
  not the admissions (HES) the Duty names; most attendances carry no location, so they count in
  the force total but not in a smaller area.
* ``knife_crime``: every police-recorded offence marked knife or sharp instrument, possession of
  a blade included. Needs the knife marker, so police.uk data cannot show it.

and, where the data allows, the partnership's own measures: serious violence under its
definition, knife crime involving someone under 25, possession of weapons offences (the nearest
police.uk proxy for knife crime) and all A&E assault attendances.

Counts run over the filters' window (start, end and areas; category, marker and night-time
filters do not apply to fixed measures); the 12-month change, three-year change and trend
look back from the window's end exactly as `hotspot.area_profiles` does. A measure the data
cannot give is a row with ``available = false`` and a reason ("not available: no A&E source"),
never a zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from hotspot.analysis import Filters, Prepared
from hotspot.area_profiles import (
    _dense,
    _filters_of,
    _window,
    area_population,
    area_table,
    attach_area,
    missing_months,
    period_stats,
)
from hotspot.definition import normalise_code_expr

__all__ = ["Measure", "MEASURES", "HOMICIDE_CODES", "duty_measures", "measure_events"]

#: Home Office Counting Rules codes that are homicide (attempted murder, 2, is not).
HOMICIDE_CODES = ("1", "1/1", "1/2", "4/1", "4/2")


@dataclass(frozen=True)
class Measure:
    id: str
    label: str
    source: str  # "police" or "A&E"
    duty: bool  # one of the Serious Violence Duty's three headline measures
    description: str


MEASURES = (
    Measure("homicide", "Homicides", "police", True,
            "murder, manslaughter and infanticide (codes 1, 1/1, 1/2, 4/1, 4/2); not attempted murder"),
    Measure("ae_knife_assault", "A&E attendances for assault with a knife or sharp object", "A&E", True,
            "emergency-department assault attendances with a sharp-object method (attendances, not admissions)"),
    Measure("knife_crime", "Police-recorded knife or sharp-instrument crime", "police", True,
            "every recorded offence marked knife or sharp instrument, possession included"),
    Measure("serious_violence", "Serious violence (the partnership's definition)", "police", False,
            "incidents meeting the study's serious-violence definition"),
    Measure("knife_crime_youth", "Knife or sharp-instrument crime involving someone under 25", "police", False,
            "knife-marked offences with a victim or suspect aged under 25"),
    Measure("weapon_possession", "Possession of weapons offences", "police", False,
            "police.uk crime type 'Possession of weapons' (the nearest public proxy for knife crime)"),
    Measure("ae_assault", "A&E attendances for assault (any method)", "A&E", False,
            "every emergency-department assault attendance"),
)


def _area_filter(prep: Prepared, filters: Filters) -> list[str] | None:
    if not filters.areas:
        return None
    codes: set[str] = set()
    for a in filters.areas:
        found = prep.area_index.get(a) or prep.area_index.get(a.lower())
        if not found:
            raise ValueError(f"unknown area {a!r}: give an ONS code or a name from the study's boundaries")
        codes |= found
    return sorted(codes)


def measure_events(prep: Prepared, study_ae: pl.DataFrame | None, measure: str,
                   filters: Filters = Filters(), level: str = "csp") -> tuple[pl.DataFrame | None, str | None, list[str]]:
    """(events with month and lsoa_code, or None; reason when not available; notes) for one measure.

    `level` only shapes the notes (unlocated A&E attendances matter below force level).
    """
    inc = prep.incidents
    codes = _area_filter(prep, filters)
    notes: list[str] = []
    records = inc.filter(pl.col("source") == "records")
    police_uk = inc.height - records.height
    if measure.startswith("ae_"):
        if study_ae is None or study_ae.height == 0:
            return None, "not available: no A&E source", notes
        ev = study_ae if measure == "ae_assault" else study_ae.filter(pl.col("assault_method") == "sharp_object")
        if codes is not None:
            ev = ev.filter(pl.col("lsoa_code").is_in(codes))
        unlocated = ev.filter(pl.col("lsoa_code").is_null()).height
        if unlocated and level != "force":
            notes.append(f"{unlocated:,} of {ev.height:,} attendances have no location: they count in the force "
                         "total only, so smaller areas are undercounted")
        return ev.select("month", "lsoa_code"), None, notes
    if codes is not None:
        inc = inc.filter(pl.col("lsoa_code").is_in(codes))
        records = records.filter(pl.col("lsoa_code").is_in(codes))
    if measure == "homicide":
        if records.height == 0:
            return None, ("not available: police.uk data has no offence codes, so homicides cannot be told "
                          "apart from other violence"), notes
        if police_uk:
            notes.append(f"{police_uk:,} police.uk rows cannot show homicides and are not counted")
        ev = records.filter(normalise_code_expr(pl.col("offence_code")).is_in(list(HOMICIDE_CODES)))
        return ev.select("month", "lsoa_code"), None, notes
    if measure in ("knife_crime", "knife_crime_youth"):
        known = inc.filter(pl.col("knife").is_not_null())
        if known.height == 0:
            return None, ("not available: the data has no knife or sharp-instrument marker (police.uk never "
                          "has one); see possession of weapons for the nearest proxy"), notes
        unknown = inc.height - known.height
        if unknown:
            notes.append(f"the knife marker is not known for {unknown:,} of {inc.height:,} offences "
                         f"({unknown / inc.height:.0%}); they are not counted")
        ev = known.filter(pl.col("knife"))
        if measure == "knife_crime_youth":
            if ev["youth"].is_not_null().sum() == 0:
                return None, "not available: the data has no victim or suspect ages", notes
            no_age = ev["youth"].null_count()
            if no_age:
                notes.append(f"{no_age:,} knife offences have no age for victim or suspect and are not counted")
            ev = ev.filter(pl.col("youth").fill_null(False))
        return ev.select("month", "lsoa_code"), None, notes
    if measure == "serious_violence":
        if prep.definition.applies_to == "police.uk":
            notes.append(f"counted with the '{prep.definition.name}' proxy, which over-counts serious violence")
        ev = inc.filter(pl.col("serious")).select("month", "lsoa_code")
        return _with_unplaced(prep, ev, codes, pl.col("serious")), None, notes
    if measure == "weapon_possession":
        if inc["crime_type"].is_not_null().sum() == 0:
            return None, "not available: the data has no crime types", notes
        ev = inc.filter(pl.col("crime_type") == "Possession of weapons").select("month", "lsoa_code")
        return _with_unplaced(prep, ev, codes, pl.col("crime_type") == "Possession of weapons"), None, notes
    raise ValueError(f"unknown measure {measure!r}; choose from {', '.join(m.id for m in MEASURES)}")


def _with_unplaced(prep: Prepared, ev: pl.DataFrame, codes, keep: pl.Expr) -> pl.DataFrame:
    """Add the rows without a place (`area_profiles.attach_unplaced`) that meet `keep`, with a
    null LSOA: they count in the force total only (docs/needs.md). Not under an area filter."""
    from hotspot.area_profiles import _UNPLACED_KEY

    un = prep.cache.get(_UNPLACED_KEY)
    if codes is not None or un is None or un.height == 0:
        return ev
    extra = un.filter(keep & pl.col("month").is_not_null()).select(
        "month", pl.lit(None, dtype=pl.Utf8).alias("lsoa_code"))
    return pl.concat([ev, extra])


def duty_measures(prep: Prepared, study_ae: pl.DataFrame | None = None, filters=None, level: str = "csp", *,
                  indicators: pl.DataFrame | None = None, measures: tuple[str, ...] | None = None,
                  notes: list[str] | None = None) -> pl.DataFrame:
    """Long frame: one row per area and measure.

    Columns: level, code, name, measure, label, source, duty, available, reason, n (window),
    per_month, latest_12m, previous_12m, base_3y_12m, change_12m(_text), change_3y(_text),
    trend, trend_tau, trend_p, population, rate_per_100k_year (latest 12 months per 100,000
    residents), rate_per_100k_annualised (the window's count scaled to a year), months (in the
    window), note. Rates are per 100,000 because homicide counts are small.
    """
    filters = _filters_of(filters)
    out_notes = notes if notes is not None else []
    areas = area_table(prep, level).select("level", "code", "name")
    months, ws, we, wnotes = _window(prep, filters)
    out_notes.extend(wnotes)
    if filters.categories or filters.markers or filters.night_time:
        out_notes.append("The Duty's measures are fixed: category, marker and night-time filters do not apply to them.")
    pop, _ = area_population(prep, indicators, level)
    frames = []
    wanted = [m for m in MEASURES if measures is None or m.id in measures]
    for m in wanted:
        ev, reason, mnotes = measure_events(prep, study_ae, m.id, filters, level)
        head = areas.with_columns(
            pl.lit(m.id).alias("measure"), pl.lit(m.label).alias("label"), pl.lit(m.source).alias("source"),
            pl.lit(m.duty).alias("duty"), pl.lit(reason is None).alias("available"),
            pl.lit(reason, dtype=pl.Utf8).alias("reason"),
            pl.lit("; ".join(mnotes) if mnotes else None, dtype=pl.Utf8).alias("note"),
        )
        if ev is None or not months:
            blank = pl.DataFrame(
                {"n": [None] * areas.height}, schema={"n": pl.Int64}
            ).with_columns(
                pl.lit(None, dtype=pl.Float64).alias("per_month"),
                *[pl.lit(None, dtype=pl.Int64).alias(c) for c in ("latest_12m", "previous_12m", "base_3y_12m")],
                pl.lit(None, dtype=pl.Float64).alias("change_12m"),
                pl.lit(reason or "not available: no months with data").alias("change_12m_text"),
                pl.lit(None, dtype=pl.Float64).alias("change_3y"),
                pl.lit(reason or "not available: no months with data").alias("change_3y_text"),
                pl.lit(reason or "not available", dtype=pl.Utf8).alias("trend"),
                pl.lit(None, dtype=pl.Float64).alias("trend_tau"),
                pl.lit(None, dtype=pl.Float64).alias("trend_p"),
            )
            frames.append(pl.concat([head, blank], how="horizontal"))
            continue
        ev = attach_area(ev.filter(pl.col("month").is_not_null()), prep, level)
        M = _dense(ev.filter(pl.col("code").is_not_null()), areas["code"], months)
        stats = period_stats(M, months, ws, we, missing_months(prep))
        frames.append(pl.concat([head, stats.select(
            "n", "per_month", "latest_12m", "previous_12m", "base_3y_12m", "change_12m", "change_12m_text",
            "change_3y", "change_3y_text", "trend", "trend_tau", "trend_p",
            # uncertainty and gaps (period_stats): p-values, significance, reason codes
            "change_12m_p", "change_12m_significant", "change_12m_small_base", "change_12m_reason",
            "change_12m_missing", "change_3y_p", "change_3y_significant", "change_3y_small_base",
            "change_3y_reason", "change_3y_missing", "trend_reason", "n_covered_only",
            "window_missing_months")], how="horizontal"))
    out = pl.concat(frames, how="diagonal_relaxed") if frames else areas.head(0)
    n_months = max(0, we - ws + 1)
    out = out.join(pop.select("code", "population"), on="code", how="left").with_columns(
        pl.when(pl.col("population") > 0).then(pl.col("latest_12m") / pl.col("population") * 100_000)
        .alias("rate_per_100k_year"),
        (pl.when(pl.col("population") > 0).then(pl.col("n") / n_months * 12 / pl.col("population") * 100_000)
         if n_months else pl.lit(None, dtype=pl.Float64)).alias("rate_per_100k_annualised"),
        pl.lit(n_months).alias("months"),
    )
    # 95% interval of the yearly rate per 100,000 (Byar / exact Poisson, rates.rate_ci)
    from hotspot.rates import rate_ci

    _, lo, hi = rate_ci(out["latest_12m"].cast(pl.Float64).fill_null(float("nan")).to_numpy(),
                        out["population"].cast(pl.Float64).fill_null(float("nan")).to_numpy(), per=100_000)
    out = out.with_columns(pl.Series("rate_per_100k_year_lower", lo).fill_nan(None),
                           pl.Series("rate_per_100k_year_upper", hi).fill_nan(None))
    order = {m.id: i for i, m in enumerate(MEASURES)}
    return out.with_columns(pl.col("measure").replace_strict(order, return_dtype=pl.Int32).alias("_o")).sort(
        ["code", "_o"]).drop("_o")
