"""Risk factors per area and hotspot locality, and a risk terrain model over venue types.

`risk_factors` compares each area (or locality) with the force on the curated default risk
factors of hotspot/data/risk_factors.csv (IMD income, employment, education, health and
living-environment domains, IDACI, the share of residents aged 10-24, rurality, licensed-venue
density from a venue file) and, on request, every other indicator the study supplies (never
crime-domain columns or counts): the value, the force average, their ratio, the standardised
difference from the force, whether it stands out (STANDOUT_SD), and the strongest risks in
words.

`risk_terrain` is Caplan and Kennedy's risk terrain modelling on the engine grid: each venue
type is coded per cell as proximity (a feature within d metres of the cell centre) and as
density (a quartic kernel density with bandwidth d, standardised), at several d; each factor
keeps the operationalisation that best explains the serious violence on its own; a Poisson
regression with an L1 (lasso) penalty, fitted by iteratively reweighted least squares with
coordinate descent and its penalty chosen by BIC, picks the factors; relative risk is exp(beta)
and a cell's risk score exp(sum beta x), scaled so the lowest cell is 1. See docs/needs.md.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from hotspot.analysis import Prepared
from hotspot.area_profiles import LEVEL_NAMES, _hierarchy, area_table, attach_area, population_column
from hotspot.kde import kde_from_counts

__all__ = [
    "Factor",
    "lsoa_factors",
    "risk_factors",
    "risk_summary",
    "risk_terrain",
    "poisson_lasso",
    "RTM_MIN_FEATURES",
    "STANDOUT_SD",
    "factor_catalogue",
    "indicator_label",
    "classify_indicator",
]

#: A unit "stands out" on a factor when it differs from the force by at least this many standard
#: deviations of the force's LSOA values, on the risky side (a documented threshold, not a
#: rank: with five CSPs one is always "the highest of 5"). Half a standard deviation is
#: Cohen's "medium" standardised difference.
STANDOUT_SD = 0.5
#: Venue types with fewer features than this are not risk-terrain factors.
RTM_MIN_FEATURES = 5

_LOW_IS_RISK = re.compile(r"(rank|decile|quintile|vigintile)$", re.I)
_STEM = re.compile(r"_?(score|rank|decile|quintile|vigintile)$", re.I)
_COUNT_LIKE = re.compile(r"(numerator|denominator|population|count|number|households|persons|people|residents"
                         r"|^age|^aged|^n_|total|males|females|^pop|_pop)", re.I)
_RATE_LIKE = re.compile(r"(rate|per_?1|per_?10|density|percent|pct|proportion|ratio|score|rank|decile|quintile"
                        r"|vigintile|mean|average|median|avg|index|indicator|share|prop)", re.I)


@dataclass(frozen=True)
class Factor:
    id: str
    label: str
    direction: int  # +1: a higher value is more risk; -1: a lower value is; 0: not known
    headline: bool  # may be flagged as a strongest risk (context factors are shown, not flagged)
    source: str  # "indicator", "population", "venues", "areas"
    kind: str = "indicator"  # risk (curated default), context, indicator (on request), crime, count
    column: str | None = None  # the indicator column it comes from
    estimated: bool = False  # derived from figures of different years (e.g. IDACI over 2019 ages)
    reference: str | None = None  # where the figure comes from (risk_factors.csv `source`)


@functools.lru_cache(maxsize=1)
def factor_catalogue() -> pl.DataFrame:
    """hotspot/data/risk_factors.csv: id, label, kind, default, direction, columns, source, note.

    The curated default risk factors for violence (kind "risk") and a human label, kind and
    expected direction for every indicator the shipped data knows (IMD 2025 domains, their
    underlying indicators, counts and crime-domain columns), so no face shows a column name.
    """
    with resources.files("hotspot").joinpath("data", "risk_factors.csv").open("rb") as fh:
        cat = pl.read_csv(fh, schema_overrides={"columns": pl.Utf8, "note": pl.Utf8, "direction": pl.Int8})
    return cat.with_columns(pl.col("columns").fill_null(""))


@functools.lru_cache(maxsize=1)
def _by_column() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in factor_catalogue().iter_rows(named=True):
        for c in row["columns"].split("|"):
            if c:
                out[c.lower()] = row
    return out


_RANKISH = re.compile(r"^(.*?)_?(rank|decile|quintile|vigintile)$", re.I)


def classify_indicator(col: str) -> dict:
    """{id, label, kind, default, direction, source} for an indicator column.

    From the catalogue by column name; a rank or decile of a catalogued domain gets the
    domain's label and kind ("crime" for the crime domain, else "indicator", shown on request:
    the score says it already); other columns: "count" when they count people (numerator, denominator, age
    bands), else "indicator" of unknown direction, labelled from the name.
    """
    low = col.lower()
    row = _by_column().get(low)
    if row is not None:
        return {k: row[k] for k in ("id", "label", "kind", "default", "direction", "source")}
    m = _RANKISH.match(low)
    if m:
        base = _by_column().get(m.group(1) + "_score") or _by_column().get(m.group(1) + "_domain_score")
        if base is None and m.group(1) in ("imd", "index_of_multiple_deprivation"):
            base = _by_column().get("imd_score")
        if base is not None:
            what = "national rank, 1 = most deprived" if m.group(2) == "rank" else f"national {m.group(2)}, 1 = most deprived"
            label = re.sub(r" score\)$", ")", base["label"]).rstrip(")") + f"; {what})" if "(" in base["label"] else (
                f"{base['label']} ({what})")
            return {"id": f"{base['id']}_{m.group(2)}", "label": label,
                    "kind": "crime" if base["kind"] == "crime" else "indicator", "default": False, "direction": -1,
                    "source": base["source"]}
    if re.search(r"numerator|denominator", low) or (_COUNT_LIKE.search(col) and not _RATE_LIKE.search(col)):
        return {"id": col, "label": _label(col), "kind": "count", "default": False, "direction": 0, "source": None}
    crime = re.search(r"crime|violen|burglar|theft|robbery|criminal_damage|anti_social|public_order|weapon|stalking", low)
    return {"id": col, "label": _label(col), "kind": "crime" if crime else "indicator", "default": False,
            "direction": 0, "source": None}


def indicator_label(col: str) -> str:
    """The human label of an indicator column, for every face (never the raw column name
    where the catalogue knows it)."""
    return classify_indicator(col)["label"]


def _label(col: str) -> str:
    words = col.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _find(cols: list[str], *names: str) -> str | None:
    low = {c.lower(): c for c in cols}
    for n in names:
        if n in low:
            return low[n]
    return None


def _rurality_expr(ind: pl.DataFrame) -> tuple[pl.Expr | None, str | None]:
    """1.0 for a rural LSOA, 0.0 for urban, from a numeric 'rural' column or an RUC code/label."""
    for c, t in ind.schema.items():
        n = c.lower()
        if "rural" in n and t.is_numeric():
            return pl.col(c).cast(pl.Float64).clip(0, 1), c
    for c, t in ind.schema.items():
        n = c.lower()
        if t == pl.Utf8 and (n.startswith("ruc") or n in ("urban_rural", "rural_urban", "classification")):
            v = pl.col(c).str.strip_chars().str.to_uppercase()
            # labels ("Larger rural: ...", "Urban: ...", "Rural"); 2021 codes UN1/UF1 urban,
            # RLN1/RSF1 rural; 2011 codes A1-C2 urban, D1-E2 rural
            is_rural = (pl.when(v.str.contains("RURAL")).then(True)
                        .when(v.str.contains("URBAN")).then(False)
                        .otherwise(v.str.slice(0, 1).is_in(["R", "D", "E"])))
            return pl.when(v.is_null() | (v == "")).then(None).otherwise(is_rural.cast(pl.Float64)), c
    return None, None


def lsoa_factors(prep: Prepared, indicators: pl.DataFrame | None, areas=None,
                 notes: list[str] | None = None) -> tuple[pl.DataFrame, list[Factor]]:
    """Per study LSOA, each factor as a numerator and denominator (`<id>__num`, `<id>__den`).

    A unit's value is sum(num) / sum(den) over its LSOAs, so indicator scores are
    population-weighted means, the youth share is residents aged 10-24 over residents, and
    densities are venues (or people) over km².
    """
    notes = notes if notes is not None else []
    h = _hierarchy(prep).select("lsoa_code").drop_nulls().unique(maintain_order=True)
    ind = indicators if indicators is not None and "lsoa_code" in indicators.columns else pl.DataFrame(schema={"lsoa_code": pl.Utf8})
    frame = h.join(ind, on="lsoa_code", how="left")
    cols = [c for c in ind.columns if c != "lsoa_code"]
    pop_col = population_column(ind)
    factors: list[Factor] = []
    exprs: list[pl.Expr] = []
    if pop_col:
        mean_pop = frame[pop_col].cast(pl.Float64).mean() or 1.0
        w = pl.col(pop_col).cast(pl.Float64).fill_null(mean_pop)
    else:
        w = pl.lit(1.0)
        notes.append("No population indicator: area averages weight every LSOA equally.")
    pop = pl.col(pop_col).cast(pl.Float64) if pop_col else None

    _, rural_source = _rurality_expr(ind)
    numeric = [c for c in cols if ind.schema[c].is_numeric() and c not in (pop_col, rural_source)]
    for c in numeric:
        info = classify_indicator(c)
        if info["kind"] in ("count", "crime") or info["id"] in ("youth_share", "rural_share", "licensed_venue_density"):
            continue  # counts grow with the area; crime-domain columns measure crime itself
        if frame[c].null_count() == frame.height:
            continue
        if any(f.id == info["id"] for f in factors):
            continue  # two columns naming one factor: the first is kept
        headline = info["kind"] == "risk" and info["direction"] != 0
        factors.append(Factor(info["id"], info["label"], int(info["direction"]), headline, "indicator",
                              info["kind"], c, False, info["source"]))
        v = pl.col(c).cast(pl.Float64)
        exprs += [(v * w).alias(f"{info['id']}__num"), pl.when(v.is_not_null()).then(w).alias(f"{info['id']}__den")]
    if not any(f.id == "idaci_rate" for f in factors):
        # IDACI rate estimated from its numerator over residents aged 0-15, flagged estimated
        num_col = next((c for c in numeric if classify_indicator(c)["id"] == "idaci_numerator"), None)
        kids = [_find(cols, "age_0_9"), _find(cols, "age_10_15")]
        if num_col and all(kids):
            cat = _by_column()["idaci_score"]
            factors.append(Factor("idaci_rate", cat["label"], 1, True, "indicator", "risk", num_col, True, cat["source"]))
            den = pl.col(kids[0]).cast(pl.Float64) + pl.col(kids[1]).cast(pl.Float64)
            ok = pl.col(num_col).is_not_null() & den.is_not_null()
            exprs += [pl.when(ok).then(pl.col(num_col).cast(pl.Float64)).alias("idaci_rate__num"),
                      pl.when(ok).then(den).alias("idaci_rate__den")]

    if pop is not None:
        youth = _find(cols, "age_10_24")
        parts = [_find(cols, p) for p in ("age_10_15", "age_16_17", "age_18_24")]
        y_expr = pl.col(youth).cast(pl.Float64) if youth else (
            pl.sum_horizontal([pl.col(p).cast(pl.Float64) for p in parts]) if all(parts) else None)
        if y_expr is not None:
            factors.append(Factor("youth_share", "Share of residents aged 10-24", 1, True, "population", "risk",
                                  youth or "age_10_15+age_16_17+age_18_24", False,
                                  "ONS small area population estimates (age bands)"))
            exprs += [y_expr.alias("youth_share__num"), pl.when(y_expr.is_not_null()).then(pop).alias("youth_share__den")]
        else:
            notes.append("No age bands (age_10_24 or age_10_15, age_16_17, age_18_24): the youth share of residents is not known.")
    imd_dec = _find(cols, "imd_decile", "index_of_multiple_deprivation_decile", "imd_decile_2019", "imd19_decile", "imd25_decile")
    if imd_dec:
        d = pl.col(imd_dec).cast(pl.Float64)
        factors.append(Factor("imd_most_deprived_share", "Share of residents in the most deprived 20% of LSOAs nationally",
                              1, False, "indicator", "context", imd_dec, False, "MHCLG, English Indices of Deprivation"))
        exprs += [pl.when(d.is_not_null()).then(w * (d <= 2).cast(pl.Float64)).alias("imd_most_deprived_share__num"),
                  pl.when(d.is_not_null()).then(w).alias("imd_most_deprived_share__den")]
    rural, rural_col = _rurality_expr(ind)
    if rural is None and prep.hierarchy.height:
        # a rurality lookup the areas carry beside the hierarchy (e.g. ruc21_code)
        extra = prep.hierarchy.select([c for c in prep.hierarchy.columns
                                       if c == "lsoa_code" or not c.endswith(("_code", "_name")) or c.startswith("ruc")])
        rural, rural_col = _rurality_expr(extra.drop("lsoa_code"))
        if rural is not None:
            frame = frame.join(extra.select("lsoa_code", rural_col).unique("lsoa_code"), on="lsoa_code", how="left")
    if rural is not None:
        factors.append(Factor("rural_share", "Share of residents in rural LSOAs", -1, True, "indicator", "risk", rural_col,
                              False, "ONS Rural-Urban Classification"))
        exprs += [(rural * w).alias("rural_share__num"), pl.when(rural.is_not_null()).then(w).alias("rural_share__den")]
    frame = frame.with_columns(exprs) if exprs else frame

    if areas is not None and len(getattr(areas, "geometry", [])):
        import shapely

        geo = pl.DataFrame({"lsoa_code": areas.codes,
                            "_km2": shapely.area(areas.geometry) / 1e6})
        frame = frame.join(geo, on="lsoa_code", how="left")
        if pop is not None:
            factors.append(Factor("population_density", "Residents per km²", 1, False, "areas", "context"))
            frame = frame.with_columns(pop.alias("population_density__num"), pl.col("_km2").alias("population_density__den"))
        if rural is None:
            notes.append("No rurality classification in the indicators (a numeric 'rural' column or an RUC code): "
                         "population density stands in for it.")
        counts = _venue_counts(prep, areas)
        if counts is not None:
            frame = frame.join(counts, on="lsoa_code", how="left").with_columns(pl.col("_venues").fill_null(0))
            factors.append(Factor("licensed_venue_density", "Licensed venues per km² (from the venue file)", 1, True,
                                  "venues", "risk", None, False, "The study's venue file"))
            frame = frame.with_columns(pl.col("_venues").cast(pl.Float64).alias("licensed_venue_density__num"),
                                       pl.col("_km2").alias("licensed_venue_density__den"))
            if pop is not None:
                factors.append(Factor("licensed_venues_per_1000", "Licensed venues per 1,000 residents (from the venue file)",
                                      1, False, "venues", "context"))
                frame = frame.with_columns((pl.col("_venues") * 1000.0).alias("licensed_venues_per_1000__num"),
                                           pop.alias("licensed_venues_per_1000__den"))
        else:
            notes.append("No venue file with located licensed venues: venue density is not known "
                         "(it is never built from crime location labels).")
    else:
        notes.append("No boundaries: licensed-venue and population densities are not known.")
        if rural is None:
            notes.append("No rurality classification in the indicators: rurality is not known.")
    keep = ["lsoa_code"] + [c for f in factors for c in (f"{f.id}__num", f"{f.id}__den")]
    return frame.select(keep), factors


def _licensed(prep: Prepared) -> pl.DataFrame:
    v = prep.venues
    if v is None or v.height == 0:
        return pl.DataFrame(schema={"easting": pl.Float64, "northing": pl.Float64})
    keep = pl.col("licensed").fill_null(False) & pl.col("easting").is_not_null() & pl.col("northing").is_not_null()
    if "origin" in v.columns:
        # venues inferred from police.uk location labels come from the crimes themselves:
        # a density of them measures crime, not a risk for it
        keep = keep & ~pl.col("origin").fill_null("").str.starts_with("police.uk")
    return v.filter(keep)


def _venue_counts(prep: Prepared, areas) -> pl.DataFrame | None:
    from geodata.areas import locate_points

    lic = _licensed(prep)
    if lic.height == 0:
        return None
    placed = locate_points(lic.select("easting", "northing").with_columns(pl.lit(None, dtype=pl.Utf8).alias("lsoa_code")), areas)
    return placed.filter(pl.col("lsoa_code").is_not_null()).group_by("lsoa_code").agg(pl.len().alias("_venues"))


def _aggregate(frame: pl.DataFrame, factors: list[Factor], by: str) -> pl.DataFrame:
    aggs = []
    for f in factors:
        num, den = pl.col(f"{f.id}__num").sum(), pl.col(f"{f.id}__den").sum()
        aggs.append(pl.when(den > 0).then(num / den).alias(f.id))
    return frame.group_by(by).agg(aggs)


def _long(wide: pl.DataFrame, factors: list[Factor]) -> pl.DataFrame:
    ids = [f.id for f in factors]
    if not ids:
        return pl.DataFrame(schema={"code": pl.Utf8, "factor": pl.Utf8, "value": pl.Float64})
    return wide.unpivot(on=ids, index="code", variable_name="factor", value_name="value").with_columns(
        pl.col("value").cast(pl.Float64))


def _top_share(values: np.ndarray, reference: np.ndarray, direction: int) -> np.ndarray:
    """Share of reference units at least as risky as each value (nan where value is nan)."""
    ref = np.sort(direction * reference[np.isfinite(reference)])
    out = np.full(len(values), np.nan)
    ok = np.isfinite(values)
    if len(ref) == 0 or not ok.any():
        return out
    at_least = len(ref) - np.searchsorted(ref, direction * values[ok] - 1e-12 * np.maximum(1.0, np.abs(values[ok])), side="left")
    out[ok] = np.clip(at_least, 1, None) / len(ref)
    return out


def _percentile(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Share (0-100) of reference units with a value at or below each value."""
    ref = np.sort(reference[np.isfinite(reference)])
    out = np.full(len(values), np.nan)
    ok = np.isfinite(values)
    if len(ref) and ok.any():
        out[ok] = 100.0 * np.searchsorted(ref, values[ok], side="right") / len(ref)
    return out


def _compare(long: pl.DataFrame, reference: pl.DataFrame, force: dict[str, float], factors: list[Factor],
             ref_name: str, sd: dict[str, float] | None = None, is_force: bool = False) -> pl.DataFrame:
    """Add force_value, ratio, top_pct, percentile, std_diff, comparison, flagged, rank and text.

    std_diff = direction x (value - force) / sd, sd the standard deviation of the force's LSOA
    values; comparison "higher_risk"/"lower_risk" when |std_diff| >= STANDOUT_SD, else
    "similar"; null with comparison_reason "is_force" for the force itself (never compared
    with itself) and "direction_unknown" for a factor of unknown direction. flagged = a
    headline factor (curated default, direction known) that stands out on the risky side.
    """
    sd = sd or {}
    meta = pl.DataFrame({
        "factor": [f.id for f in factors], "label": [f.label for f in factors],
        "direction": [f.direction for f in factors], "headline": [f.headline for f in factors],
        "force_value": [force.get(f.id) for f in factors],
        "kind": [f.kind for f in factors], "column": [f.column for f in factors],
        "estimated": [f.estimated for f in factors], "reference": [f.reference for f in factors],
        "lsoa_sd": [sd.get(f.id) for f in factors],
    }, schema={"factor": pl.Utf8, "label": pl.Utf8, "direction": pl.Int8, "headline": pl.Boolean, "force_value": pl.Float64,
               "kind": pl.Utf8, "column": pl.Utf8, "estimated": pl.Boolean, "reference": pl.Utf8, "lsoa_sd": pl.Float64})
    long = long.join(meta, on="factor", how="left")
    parts = []
    for f in factors:
        sub = long.filter(pl.col("factor") == f.id)
        ref = reference.filter(pl.col("factor") == f.id)["value"].to_numpy().astype(float)
        vals = sub["value"].to_numpy().astype(float)
        parts.append(sub.with_columns(pl.Series("top_pct", _top_share(vals, ref, f.direction)),
                                      pl.Series("percentile", _percentile(vals, ref))))
    out = pl.concat(parts, how="vertical_relaxed") if parts else long.with_columns(
        pl.lit(None, dtype=pl.Float64).alias("top_pct"), pl.lit(None, dtype=pl.Float64).alias("percentile"))
    out = out.with_columns(pl.col("top_pct").fill_nan(None), pl.col("percentile").fill_nan(None)).with_columns(
        pl.when(pl.col("force_value").abs() > 0).then(pl.col("value") / pl.col("force_value")).alias("ratio"))
    # A ratio only reads sensibly between positive quantities (IMD health and crime scores are
    # z-scores around 0); elsewhere the text gives the value against the force average.
    as_ratio = (pl.col("direction") > 0) & (pl.col("force_value") > 0) & (pl.col("value") >= 0)
    out = out.with_columns(pl.when(as_ratio & pl.lit(not is_force)).then(pl.col("ratio")).alias("ratio"))
    std = pl.when(pl.col("lsoa_sd") > 0).then(
        pl.col("direction").cast(pl.Float64) * (pl.col("value") - pl.col("force_value")) / pl.col("lsoa_sd"))
    out = out.with_columns((pl.lit(None, dtype=pl.Float64) if is_force else std).alias("std_diff"))
    out = out.with_columns(
        pl.when(pl.lit(is_force)).then(None)
        .when(pl.col("direction") == 0).then(None)
        .when(pl.col("std_diff").is_null()).then(None)
        .when(pl.col("std_diff") >= STANDOUT_SD).then(pl.lit("higher_risk"))
        .when(pl.col("std_diff") <= -STANDOUT_SD).then(pl.lit("lower_risk"))
        .otherwise(pl.lit("similar")).alias("comparison"),
        pl.when(pl.lit(is_force)).then(pl.lit("is_force"))
        .when(pl.col("direction") == 0).then(pl.lit("direction_unknown"))
        .when(pl.col("value").is_null()).then(pl.lit("not_known"))
        .when(pl.col("std_diff").is_null()).then(pl.lit("no_spread"))
        .alias("comparison_reason"),
    )
    out = out.with_columns(
        (pl.col("headline") & (pl.col("comparison") == "higher_risk")).fill_null(False).alias("flagged"))
    top_int = (pl.col("top_pct") * 100).ceil().clip(1, 100).cast(pl.Int64).cast(pl.Utf8)
    fmt = lambda e: pl.when(e.abs() >= 100).then(e.round(0).cast(pl.Int64).cast(pl.Utf8)).otherwise(  # noqa: E731
        e.round(2).cast(pl.Utf8))
    text = (
        pl.when(pl.col("value").is_null()).then(pl.concat_str([pl.col("label"), pl.lit(": not known")]))
        .when(pl.lit(is_force)).then(pl.concat_str([pl.col("label"), pl.lit(" "), fmt(pl.col("value"))]))
        .when(pl.col("ratio").is_not_null()).then(pl.concat_str([
            pl.col("label"), pl.lit(" "), pl.col("ratio").round(1).cast(pl.Utf8), pl.lit("x the force average (top "),
            top_int, pl.lit(f"% of {ref_name})")]))
        .otherwise(pl.concat_str([
            pl.col("label"), pl.lit(" "), fmt(pl.col("value")), pl.lit(" against a force average of "),
            fmt(pl.col("force_value")), pl.lit(" (top "), top_int, pl.lit(f"% of {ref_name} for risk)")]))
    )
    out = out.with_columns(text.alias("text"))
    out = out.with_columns((-(pl.col("ratio").fill_null(1.0) - 1.0).abs()).alias("_dev")).sort(
        ["code", "flagged", "top_pct", "_dev", "factor"], descending=[False, True, False, False, False], nulls_last=True)
    rank = pl.when(pl.col("flagged")).then(pl.int_range(1, pl.len() + 1).over(["code", "flagged"]))
    return out.with_columns(rank.cast(pl.Int32).alias("rank")).drop("_dev")


#: Why a curated default factor has no value (reason codes; the faces phrase them).
NOT_KNOWN_REASONS = {
    "licensed_venue_density": "no_venue_file",
    "youth_share": "no_age_bands",
    "rural_share": "no_rurality",
}


def _select(factors: list[Factor], include: str) -> list[Factor]:
    if include not in ("default", "all"):
        raise ValueError("include must be 'default' (curated factors and context) or 'all'")
    keep = ("risk", "context") if include == "default" else ("risk", "context", "indicator")
    return [f for f in factors if f.kind in keep]


def _missing_defaults(factors: list[Factor], areas) -> pl.DataFrame:
    """One row per curated default factor the study cannot give: factor, label, reason."""
    have = {f.id for f in factors}
    cat = factor_catalogue().filter((pl.col("kind") == "risk") & pl.col("default"))
    rows = []
    for r in cat.iter_rows(named=True):
        if r["id"] in have:
            continue
        if r["id"] == "licensed_venue_density" and (areas is None or not len(getattr(areas, "lsoa", []))):
            reason = "no_boundaries"
        else:
            reason = NOT_KNOWN_REASONS.get(r["id"], "not_in_indicators")
        rows.append({"factor": r["id"], "label": r["label"], "reason": reason, "direction": r["direction"],
                     "reference": r["source"]})
    return pl.DataFrame(rows, schema={"factor": pl.Utf8, "label": pl.Utf8, "reason": pl.Utf8, "direction": pl.Int8,
                                      "reference": pl.Utf8})


def risk_factors(prep: Prepared, indicators: pl.DataFrame | None, level_or_localities="csp", *,
                 areas=None, notes: list[str] | None = None, include: str = "default") -> pl.DataFrame:
    """Long frame: one row per unit (area of a level, or hotspot locality) and risk factor.

    level_or_localities: a level name ("lsoa", "ward", "district", "csp", "force"), or an
    Analysis whose localities are profiled (each through the LSOAs its incidents fall in, and
    its own polygon for venue density), or a localities frame (each through its main
    `lsoa_code`).
    areas: the study's geodata Areas, for densities (venues, residents per km²).
    include: "default" gives the curated risk factors of hotspot/data/risk_factors.csv (kind
    "risk": IMD income, employment, education, health and living-environment domains, IDACI,
    share aged 10-24, rurality, licensed-venue density from a venue file) and context rows
    (kind "context", never flagged); "all" adds every other indicator (kind "indicator";
    those of unknown direction have direction 0 and comparison_reason "direction_unknown").
    Crime-domain columns and counts are never factors.
    Columns: unit, code, name, factor, label, kind, column, reference (source), estimated,
    direction, headline, value, force_value, ratio, top_pct (share of the reference units at
    least as risky: LSOAs for localities, else the areas of the level), percentile, lsoa_sd,
    std_diff, comparison (higher_risk / lower_risk / similar), comparison_reason, flagged (a
    curated factor at least STANDOUT_SD standard deviations of the LSOAs on the risky side of
    the force), rank (1 = strongest flagged risk), reason (why a curated factor has no value:
    no_venue_file, not_in_indicators, no_age_bands, no_rurality, no_boundaries), text.
    """
    notes = notes if notes is not None else []
    frame, factors = lsoa_factors(prep, indicators, areas, notes)
    factors = _select(factors, include)
    frame = frame.select(["lsoa_code"] + [c for f in factors for c in (f"{f.id}__num", f"{f.id}__den")])
    missing = _missing_defaults(factors, areas)
    frame_force = attach_area(frame, prep, "force")
    force_vals = _aggregate(frame_force.with_columns(pl.lit("all").alias("code")), factors, "code")
    force = {f.id: force_vals[f.id][0] for f in factors} if force_vals.height else {}
    lsoa_wide = _aggregate(frame.rename({"lsoa_code": "code"}), factors, "code")
    reference = _long(lsoa_wide, factors)
    sd = {f.id: float(np.nanstd(reference.filter(pl.col("factor") == f.id)["value"].drop_nulls().to_numpy()))
          if reference.filter(pl.col("factor") == f.id)["value"].drop_nulls().len() > 1 else None for f in factors}

    def finish(out: pl.DataFrame, units: pl.DataFrame, unit: str) -> pl.DataFrame:
        if missing.height:
            gaps = units.join(missing, how="cross").with_columns(
                pl.lit(False).alias("headline"), pl.lit("risk").alias("kind"), pl.lit(False).alias("flagged"),
                pl.lit("not_known").alias("comparison_reason"),
                pl.concat_str([pl.col("label"), pl.lit(": not known")]).alias("text"))
            out = pl.concat([out, gaps.drop("name")], how="diagonal_relaxed")
        if "reason" not in out.columns:
            out = out.with_columns(pl.lit(None, dtype=pl.Utf8).alias("reason"))
        return units.join(out, on="code", how="left").with_columns(pl.lit(unit).alias("unit")).select(
            "unit", "code", "name", *[c for c in out.columns if c not in ("code", "name")])

    if isinstance(level_or_localities, str):
        level = level_or_localities
        table = area_table(prep, level).select("code", "name")
        wide = _aggregate(attach_area(frame, prep, level).filter(pl.col("code").is_not_null()), factors, "code")
        wide = table.join(wide, on="code", how="left")
        long = _long(wide, factors)
        out = _compare(long, long, force, factors, LEVEL_NAMES[level] + "s" if level != "lsoa" else "LSOAs",
                       sd, is_force=level == "force")
        return finish(out, table, level)
    if isinstance(level_or_localities, pl.DataFrame):
        # a localities frame alone: each locality through its main LSOA
        loc = level_or_localities
        members = loc.select("locality_id", "lsoa_code").drop_nulls() if loc.height else None
    else:
        analysis = level_or_localities
        loc = analysis.localities
        members = (analysis.incidents.filter(pl.col("locality_id").is_not_null() & pl.col("lsoa_code").is_not_null())
                   .select("locality_id", "lsoa_code").unique())
    if loc.height == 0:
        return pl.DataFrame(schema={"unit": pl.Utf8, "code": pl.Utf8, "name": pl.Utf8, "factor": pl.Utf8})
    wide = _aggregate(members.join(frame, on="lsoa_code", how="inner").rename({"locality_id": "code"}), factors, "code")
    if any(f.id == "licensed_venue_density" for f in factors):
        wide = wide.drop("licensed_venue_density").join(_locality_venue_density(prep, loc), on="code", how="left")
    wide = loc.select(pl.col("locality_id").alias("code")).join(wide, on="code", how="left")
    out = _compare(_long(wide, factors), reference, force, factors, "LSOAs", sd)
    names = loc.select(pl.col("locality_id").alias("code"), "name")
    return finish(out, names, "locality")


def _locality_venue_density(prep: Prepared, loc: pl.DataFrame) -> pl.DataFrame:
    """Licensed venues per km² inside each locality's polygon."""
    import shapely

    lic = _licensed(prep)
    ids = loc["locality_id"]
    dens = np.zeros(loc.height)
    if lic.height and "geometry_wkb" in loc.columns:
        geoms = shapely.from_wkb(loc["geometry_wkb"].to_numpy())
        pts = shapely.points(lic["easting"].to_numpy(), lic["northing"].to_numpy())
        tree = shapely.STRtree(pts)
        poly_i, _pt_i = tree.query(geoms, predicate="contains")
        counts = np.bincount(poly_i, minlength=loc.height).astype(float)
        area = loc["area_m2"].to_numpy().astype(float) / 1e6
        dens = np.where(area > 0, counts / np.where(area > 0, area, 1.0), np.nan)
    return pl.DataFrame({"code": ids, "licensed_venue_density": dens}).with_columns(pl.col("licensed_venue_density").fill_nan(None))


def risk_summary(frame: pl.DataFrame, k: int = 3) -> pl.DataFrame:
    """Per unit: its k strongest flagged risks in words ("; "-joined), and how many were flagged."""
    return (
        frame.filter(pl.col("flagged")).sort(["code", "rank"])
        .group_by("code", maintain_order=True)
        .agg(pl.col("text").head(k).str.join("; ").alias("strongest_risks"), pl.len().alias("n_flagged"))
    )


# --------------------------------------------------------------------------------------------
# Risk terrain modelling
# --------------------------------------------------------------------------------------------


def poisson_lasso(X: np.ndarray, y: np.ndarray, lam: float, *, beta0: tuple[float, np.ndarray] | None = None,
                  sample_weight: np.ndarray | None = None, max_outer: int = 100, max_inner: int = 5000,
                  tol: float = 1e-10) -> tuple[float, np.ndarray, bool]:
    """Poisson regression with an L1 penalty on the slopes (not the intercept).

    Minimises sum_i s_i (mu_i - y_i eta_i) / sum_i s_i + lam * ||beta||_1 with eta = b0 + X beta
    and s the sample weights (1 by default; rows sharing one X may be collapsed into their
    mean y with weight = their number, which gives the same fit). Each outer
    step is iteratively reweighted least squares: the deviance's quadratic approximation at the
    current fit, a weighted lasso solved by cyclic coordinate descent with soft-thresholding
    (Friedman, Hastie & Tibshirani 2010) on its p x p weighted Gram matrix, so the inner loop
    never touches the n cells; the step is halved while the true objective would rise.
    Returns (intercept, coefficients, converged).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    sw = sw / sw.sum() * n  # weights sum to n, so lam means what it means unweighted
    Xa = np.column_stack([np.ones(n), X])
    if beta0 is None:
        b = np.zeros(p + 1)
        b[0] = math.log(max(float((sw * y).sum() / n), 1e-12))
    else:
        b = np.concatenate([[float(beta0[0])], np.asarray(beta0[1], dtype=float)])
    pen = np.full(p + 1, float(lam))
    pen[0] = 0.0

    def objective(c):
        eta = np.clip(Xa @ c, -50, 50)
        return float((sw * (np.exp(eta) - y * eta)).mean() + lam * np.abs(c[1:]).sum())

    obj = objective(b)
    converged = False
    for _ in range(max_outer):
        eta = np.clip(Xa @ b, -50, 50)
        mu = np.maximum(np.exp(eta), 1e-10)
        z = eta + (y - mu) / mu
        w = sw * mu
        G = (Xa * w[:, None]).T @ Xa / n
        c = (Xa * w[:, None]).T @ z / n
        # Coordinate descent on the (p+1) x (p+1) problem, in plain floats: p is the number of
        # factors (a dozen), never the number of cells. grad = G nb is kept up to date.
        Gl, cl, pl_ = G.tolist(), c.tolist(), pen.tolist()
        nbl = b.tolist()
        grad = (G @ b).tolist()
        for _inner in range(max_inner):
            delta = 0.0
            for j in range(p + 1):
                d = Gl[j][j]
                if d <= 0:
                    continue
                old = nbl[j]
                rho = cl[j] - grad[j] + d * old
                a = abs(rho) - pl_[j]
                new = (a if rho > 0 else -a) / d if a > 0 else 0.0
                if new != old:
                    step = new - old
                    row = Gl[j]
                    for k in range(p + 1):
                        grad[k] += row[k] * step
                    nbl[j] = new
                    delta = max(delta, abs(step))
            if delta < tol:
                break
        nb = np.array(nbl)
        t, cand = 1.0, nb
        new_obj = objective(cand)
        while new_obj > obj + 1e-13 and t > 1e-4:
            t /= 2
            cand = b + t * (nb - b)
            new_obj = objective(cand)
        change = float(np.abs(cand - b).max())
        b = cand
        gain, obj = obj - new_obj, min(obj, new_obj)
        if change < 1e-8 or abs(gain) < 1e-12 * max(1.0, abs(obj)):
            converged = True
            break
    return float(b[0]), b[1:].copy(), converged


def _poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2.0 * (term - (y - mu)).sum())


def _fit_path(X: np.ndarray, y: np.ndarray, n_lambda: int = 25) -> tuple[float, float, np.ndarray, pl.DataFrame]:
    """Lasso path from lambda_max down to lambda_max/1000; (lambda, b0, beta) with the lowest BIC.

    Cells sharing one row of X are collapsed first (their mean count, weighted by how many
    there are): the fit is the same and most cells of a rural force share the all-zero row.
    """
    n, p = X.shape
    lam_max = float(np.abs(X.T @ (y - y.mean())).max() / n) if p else 0.0
    if lam_max <= 0:
        return 0.0, math.log(max(y.mean(), 1e-12)), np.zeros(p), pl.DataFrame()
    Xu, inv = np.unique(X, axis=0, return_inverse=True)
    inv = inv.ravel()
    m = np.bincount(inv, minlength=len(Xu)).astype(float)
    ysum = np.bincount(inv, weights=y, minlength=len(Xu))
    ymean = ysum / m
    with np.errstate(divide="ignore", invalid="ignore"):
        const = 2.0 * float(np.where(y > 0, y * np.log(y) - y, 0.0).sum())
    lams = lam_max * np.logspace(0, -3, n_lambda)
    b0, b = math.log(max(y.mean(), 1e-12)), np.zeros(p)
    best = (np.inf, lams[0], b0, b.copy())
    rows = []
    for lam in lams:
        b0, b, _ = poisson_lasso(Xu, ymean, float(lam), beta0=(b0, b), sample_weight=m)
        eta = np.clip(b0 + Xu @ b, -50, 50)
        dev = const - 2.0 * float((ysum * eta - m * np.exp(eta)).sum())
        df = int((np.abs(b) > 1e-10).sum())
        bic = dev + df * math.log(n)
        rows.append((float(lam), dev, df, bic))
        if bic < best[0] - 1e-9:
            best = (bic, float(lam), b0, b.copy())
    path = pl.DataFrame(rows, schema=["lambda", "deviance", "df", "bic"], orient="row")
    return best[1], best[2], best[3], path


def _univariate_poisson(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, deviance) of an unpenalised Poisson fit of y on x with an intercept.

    A 0/1 proximity has the closed form exp(b0) = mean y away, exp(b0 + b) = mean y near;
    a density is fitted by Newton's method on the 2 x 2 information matrix.
    """
    near = x > 0.5
    if np.all((x == 0) | (x == 1)):
        m0, m1 = y[~near].mean(), y[near].mean()
        if m0 <= 0 or m1 <= 0:
            return (np.inf if m0 <= 0 < m1 else -np.inf), np.inf
        mu = np.where(near, m1, m0)
        return float(math.log(m1 / m0)), _poisson_deviance(y, mu)
    # Cells sharing a value (most are 0, far from any venue) are collapsed: counts add up.
    xu, inv = np.unique(x, return_inverse=True)
    m = np.bincount(inv.ravel(), minlength=len(xu)).astype(float)
    ys = np.bincount(inv.ravel(), weights=y, minlength=len(xu))
    b0, b1 = math.log(max(y.mean(), 1e-12)), 0.0
    for _ in range(50):
        mu = m * np.exp(np.clip(b0 + b1 * xu, -50, 50))
        g = np.array([(ys - mu).sum(), ((ys - mu) * xu).sum()])
        H = np.array([[mu.sum(), (mu * xu).sum()], [(mu * xu).sum(), (mu * xu * xu).sum()]])
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        ll = (ys * (b0 + b1 * xu) - mu).sum()
        while t > 1e-4:
            c0, c1 = b0 + t * step[0], b1 + t * step[1]
            e = np.clip(c0 + c1 * xu, -50, 50)
            if (ys * e - m * np.exp(e)).sum() >= ll - 1e-9:
                break
            t /= 2
        b0, b1 = c0, c1
        if abs(step).max() * t < 1e-10:
            break
    mu = np.exp(np.clip(b0 + b1 * x, -50, 50))
    return float(b1), _poisson_deviance(y, mu)


def risk_terrain(prep: Prepared, analysis, *, venue_types: tuple[str, ...] | None = None,
                 distances: tuple[float, ...] | None = None, outcome: str = "count",
                 notes: list[str] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Risk terrain model over venue types on the engine grid.

    Outcome: the analysis's serious incidents per study cell (`outcome="harm"` is not a count
    and is refused). Factors: venue types with at least RTM_MIN_FEATURES located venues
    (`venue_types` to choose). Distances default to 1, 2 and 3 cell widths (at least 100 m).
    Returns (cells, factors):
      cells: cell (grid flat id), x, y, observed, expected, score (exp(sum beta x), lowest cell
        = 1), and one column per selected factor (its operationalised value);
      factors: factor, n_features, operationalisation ("proximity" or "density"), distance_m,
        univariate slope and deviance of the chosen operationalisation, beta, relative_risk
        (exp(beta): for proximity, cells within distance_m against the rest; for density, per
        standard deviation), selected, cells_exposed (proximity) and why a type was left out.
    """
    notes = notes if notes is not None else []
    if outcome != "count":
        raise ValueError("risk terrain modelling needs counts: outcome must be 'count'")
    grid = prep.grid
    y = np.asarray(analysis.cell_arrays["count"], dtype=float)
    n = prep.n_cells
    cx, cy = grid.centres()
    cx, cy = cx[prep.cell_flat], cy[prep.cell_flat]
    cs = grid.cell_size
    if distances is None:
        distances = tuple(float(max(100.0, k * cs)) for k in (1, 2, 3))
    v = prep.venues if prep.venues is not None else pl.DataFrame(schema={"type": pl.Utf8})
    v = v.filter(pl.col("easting").is_not_null() & pl.col("northing").is_not_null()) if v.height else v
    types_all = v.group_by("type").len().sort(["len", "type"], descending=[True, False]) if v.height else pl.DataFrame(
        schema={"type": pl.Utf8, "len": pl.UInt32})
    if venue_types is not None:
        types_all = types_all.filter(pl.col("type").is_in(list(venue_types)))
    factor_rows = []
    centres = np.column_stack([cx, cy])
    columns: dict[str, np.ndarray] = {}
    chosen: list[str] = []
    for t, count in types_all.iter_rows():
        base = {"factor": t, "n_features": int(count)}
        if count < RTM_MIN_FEATURES:
            factor_rows.append({**base, "left_out": f"fewer than {RTM_MIN_FEATURES} venues"})
            continue
        pts = v.filter(pl.col("type") == t).select("easting", "northing").to_numpy()
        dist, _ = cKDTree(pts).query(centres, k=1, distance_upper_bound=max(distances) * 1.0001)
        full = grid.bin_counts(pts[:, 0], pts[:, 1])
        best = None
        for d in distances:
            prox = (dist <= d).astype(float)
            if 0 < prox.sum() < n:
                slope, dev = _univariate_poisson(prox, y)
                if slope > 0 and (best is None or dev < best[3]):
                    best = ("proximity", d, prox, dev, slope)
            dens = kde_from_counts(full, cs, d).ravel()[prep.cell_flat]
            sd = dens.std()
            if sd > 0:
                zd = (dens - dens.mean()) / sd
                slope, dev = _univariate_poisson(zd, y)
                if slope > 0 and (best is None or dev < best[3]):
                    best = ("density", d, zd, dev, slope)
        if best is None:
            factor_rows.append({**base, "left_out": "not more serious violence near it at any distance"})
            continue
        op, d, x, dev, slope = best
        columns[t] = x
        chosen.append(t)
        factor_rows.append({**base, "operationalisation": op, "distance_m": float(d), "univariate_slope": slope,
                            "univariate_deviance": dev,
                            "cells_exposed": int(x.sum()) if op == "proximity" else None, "left_out": None})
    schema = {"factor": pl.Utf8, "n_features": pl.Int64, "operationalisation": pl.Utf8, "distance_m": pl.Float64,
              "univariate_slope": pl.Float64, "univariate_deviance": pl.Float64, "cells_exposed": pl.Int64,
              "left_out": pl.Utf8}
    factors = pl.DataFrame(factor_rows, schema=schema) if factor_rows else pl.DataFrame(schema=schema)
    cells = pl.DataFrame({"cell": prep.cell_flat, "x": cx, "y": cy, "observed": y})
    if not chosen or y.sum() == 0:
        notes.append("Risk terrain: no venue type is related to more serious violence; every cell scores 1.")
        factors = factors.with_columns(pl.lit(None, dtype=pl.Float64).alias("beta"),
                                       pl.lit(None, dtype=pl.Float64).alias("relative_risk"), pl.lit(False).alias("selected"))
        return cells.with_columns(pl.lit(float(y.mean())).alias("expected"), pl.lit(1.0).alias("score")), factors
    X = np.column_stack([columns[t] for t in chosen])
    lam, b0, beta, _path = _fit_path(X, y)
    eta = X @ beta
    score = np.exp(eta - eta.min())
    coef = pl.DataFrame({"factor": chosen, "beta": beta})
    factors = factors.join(coef, on="factor", how="left").with_columns(
        pl.col("beta").exp().alias("relative_risk"), (pl.col("beta").fill_null(0).abs() > 1e-10).alias("selected"))
    factors = factors.with_columns(
        pl.when(pl.col("left_out").is_null() & ~pl.col("selected")).then(pl.lit("dropped by the lasso (BIC)"))
        .otherwise(pl.col("left_out")).alias("left_out")
    ).sort(["selected", "relative_risk"], descending=[True, True], nulls_last=True)
    cells = cells.with_columns(
        pl.Series("expected", np.exp(np.clip(b0 + eta, -50, 50))),
        pl.Series("score", score),
        *[pl.Series(f"x_{t}", columns[t]) for t, b in zip(chosen, beta) if abs(b) > 1e-10],
    )
    notes.append(f"Risk terrain: lasso penalty {lam:.3g} chosen by BIC; {int((np.abs(beta) > 1e-10).sum())} of "
                 f"{len(chosen)} venue types kept.")
    return cells, factors
