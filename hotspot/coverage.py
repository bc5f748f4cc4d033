"""Intervention coverage: which interventions reach each hotspot locality and area, and which
needs nothing reaches.

Each serious incident is tested against each intervention: does its place fall inside the
intervention's footprint (areas, everywhere, polygons, points with a radius), does its time fall
in the intervention's hours, and is its victim or suspect of an age the intervention works
with. A unit (a locality or an area) *needs* knife, youth, night-time-economy, domestic-abuse or
sexual-violence provision when the share of its serious violence with that feature passes a
documented threshold; the need is *met* for an incident when an intervention with a matching
theme reaches that incident in place, time and age. The unmet share is the harm of the unit's
need that no matching intervention reaches; a need with at least GAP_UNMET of its harm unmet
is a gap, and gap_score = the need's harm x its unmet share ranks the gaps. Thresholds and
rules: docs/needs.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from geodata.interventions import reaches_point, unknown_areas
from hotspot.analysis import Prepared
from hotspot.area_profiles import area_table, attach_area

__all__ = ["Need", "NEEDS", "NEED_LABELS", "Needs", "needs", "MIN_FLAGGED", "MIN_KNOWN", "GAP_UNMET", "YOUTH_MAX_AGE", "coverage", "incident_reach"]

#: A need needs at least this many incidents with the feature ...
MIN_FLAGGED = 5
#: ... and the feature known for at least this share of the unit's incidents.
MIN_KNOWN = 0.5
#: A present need is a gap when at least this share of its harm is unreached.
GAP_UNMET = 0.5
#: An intervention whose oldest age is at most this is youth provision even without the theme.
YOUTH_MAX_AGE = 24


@dataclass(frozen=True)
class Need:
    id: str
    flag: str  # the incident flag (hotspot.profiles.add_flags)
    themes: tuple[str, ...]  # intervention themes that meet it
    threshold: float | None  # fixed share; None = the force's own share
    phrase: str  # "... of serious violence <phrase>"
    provision: str  # "no <provision> intervention reaches it"
    label: str  # for tables


NEEDS = (
    Need("knife", "knife", ("knife",), None, "involves a knife or sharp instrument", "knife", "knife"),
    Need("youth", "youth", ("youth",), None, "involves a victim or suspect under 25", "youth", "youth (under 25)"),
    Need("night_time_economy", "nte", ("night_time_economy",), 0.25, "is in the night-time economy", "night-time",
         "night-time economy"),
    Need("domestic_abuse", "domestic_abuse", ("domestic_abuse",), 0.30, "is domestic abuse", "domestic-abuse",
         "domestic abuse"),
    Need("sexual_violence", "sexual", ("sexual_violence",), None, "is sexual offending", "sexual-violence",
         "sexual violence"),
)
NEED_LABELS = {n.id: n.label for n in NEEDS}


def _meets(iv, need: Need) -> bool:
    themes = set(iv.themes)
    if themes & set(need.themes):
        return True
    return need.id == "youth" and iv.ages is not None and iv.ages[1] <= YOUTH_MAX_AGE


def _limits(iv) -> str:
    parts = []
    if iv.ages is not None:
        parts.append(f"ages {iv.ages[0]}-{iv.ages[1]}")
    if iv.times is not None:
        parts.append(", ".join(iv.times_text))
    return "; ".join(parts)


def incident_reach(prep: Prepared, inc: pl.DataFrame, iv) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per incident: (place, time, age, age_known) Booleans for one intervention.

    Time is true where the time of day is unknown or the intervention runs at any time; age is
    true where neither age is known or the intervention is for all ages.
    """
    x = inc["easting"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    y = inc["northing"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    place = reaches_point(iv, x, y, inc["lsoa_code"], prep.area_index)
    hour = inc["hour"].cast(pl.Int64)
    timed = hour.is_not_null().to_numpy()
    wd = (inc["weekday"].cast(pl.Int64) - 1).fill_null(0).to_numpy()
    hr = hour.fill_null(0).to_numpy()
    time = np.where(timed, iv.active_mask(wd, hr), True)
    va, sa = inc["victim_age"], inc["suspect_age"]
    age_known = (va.is_not_null() | sa.is_not_null()).to_numpy()
    age = np.where(age_known, iv.age_mask(va, unknown=False) | iv.age_mask(sa, unknown=False), True)
    return place, time, age, age_known


def _unit_frames(prep: Prepared, analysis, level: str) -> list[tuple[str, pl.DataFrame, pl.DataFrame]]:
    """[(unit kind, incidents with `code`, names (code, name))] for the localities and the areas."""
    inc = analysis.incidents
    if "night" in inc.columns and "nte" in inc.columns:
        inc = inc.with_columns(pl.when(pl.col("night").is_not_null()).then(pl.col("nte")).alias("nte"))
    out = []
    loc = analysis.localities
    if loc.height and "locality_id" in inc.columns:
        li = inc.filter(pl.col("locality_id").is_not_null()).with_columns(pl.col("locality_id").alias("code"))
        names = loc.select(pl.col("locality_id").alias("code"), "name")
        out.append(("locality", li, names))
    ai = attach_area(inc, prep, level).filter(pl.col("code").is_not_null())
    out.append((level, ai, area_table(prep, level).select("code", "name")))
    return out


def coverage(prep: Prepared, analysis, interventions: list, level: str = "csp", *, all_needs: bool = False,
             notes: list[str] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(reach, gaps) for the analysis's localities and the areas of `level`.

    reach: one row per unit and intervention: unit, code, name, intervention, provider, themes,
      place_share (share of the unit's serious-violence harm inside the footprint), reaches
      ("yes" at >= 50%, "partly", "no"), time_share (share of the unit's timed incidents in
      the intervention's hours; null when none is timed), night_share of the unit, age_share
      (share of its incidents with a known age where the victim or suspect is in the age range;
      null for all-ages interventions or no known ages), youth_share of the unit, needs_met
      (the unit's needs this intervention meets for at least one incident), limits.
    gaps: one row per unit and need that is a gap (every unit and need with all_needs=True):
      unit, code, name, need, status ("gap", "partly met", "met", "no need", "not known"),
      share, threshold, known, n_flagged, need_harm, covered_share, unmet_share, gap_score
      (need_harm x unmet_share), harm (the unit's), providers (what reaches part of it),
      near_misses (matching interventions that work in the place but whose hours or ages leave
      these incidents out), text.
    """
    notes = notes if notes is not None else []
    interventions = list(interventions or [])
    for iv in interventions:
        missing = unknown_areas(iv, prep.area_index)
        if missing:
            notes.append(f"Intervention '{iv.name}' names areas the study does not know: {', '.join(missing)}.")
    inc_all = analysis.incidents
    if "night" in inc_all.columns:
        inc_all = inc_all.with_columns(pl.when(pl.col("night").is_not_null()).then(pl.col("nte")).alias("nte"))
    force_share = {}
    for need in NEEDS:
        col = inc_all[need.flag]
        known = col.is_not_null().sum()
        force_share[need.id] = float(col.cast(pl.Float64).sum() / known) if known else None
    if inc_all.height and all(v is None for v in force_share.values()):
        notes.append("Needs cannot be judged from this data: it has no markers, ages or times of day "
                     "(police.uk data has none), so no gaps can be found.")

    reach_parts, need_parts = [], []
    for kind, inc, names in _unit_frames(prep, analysis, level):
        if inc.height == 0:
            continue
        cols: dict[str, np.ndarray] = {}
        for i, iv in enumerate(interventions):
            place, time, age, age_known = incident_reach(prep, inc, iv)
            cols[f"_p{i}"], cols[f"_t{i}"], cols[f"_a{i}"] = place, time, age
            cols["_age_known"] = age_known
            for need in NEEDS:
                if _meets(iv, need):
                    cols[f"_m{i}_{need.id}"] = place & time & age
        flags = sorted({n.flag for n in NEEDS} | {"night"})
        frame = inc.select("code", "harm", "hour", *flags).with_columns(
            [pl.Series(k, v) for k, v in cols.items()])
        reach_parts.append(_reach(frame, interventions, names, kind))
        need_parts.append(_needs(frame, interventions, names, kind, force_share))

    reach = pl.concat(reach_parts, how="vertical_relaxed") if reach_parts else pl.DataFrame()
    needs_frame = pl.concat(need_parts, how="vertical_relaxed") if need_parts else pl.DataFrame()
    if needs_frame.height == 0:
        return reach, needs_frame
    if not all_needs:
        needs_frame = needs_frame.filter(pl.col("status") == "gap")
    return reach, needs_frame.sort(["gap_score", "unit", "code"], descending=[True, False, False], nulls_last=True)


def _reach(frame: pl.DataFrame, interventions: list, names: pl.DataFrame, kind: str) -> pl.DataFrame:
    if not interventions:
        return pl.DataFrame()
    h = pl.col("harm")
    aggs = [h.sum().alias("_harm"), pl.len().alias("_n"), pl.col("hour").is_not_null().sum().alias("_timed"),
            pl.col("_age_known").sum().alias("_aged")]
    for i, iv in enumerate(interventions):
        aggs += [
            (h * pl.col(f"_p{i}")).sum().alias(f"place_{i}"),
            (pl.col(f"_t{i}") & pl.col("hour").is_not_null()).sum().alias(f"time_{i}"),
            (pl.col(f"_a{i}") & pl.col("_age_known")).sum().alias(f"age_{i}"),
        ]
    agg = frame.group_by("code").agg(aggs)
    parts = []
    for i, iv in enumerate(interventions):
        met = [n.id for n in NEEDS if f"_m{i}_{n.id}" in frame.columns]
        flags = {n.id: n.flag for n in NEEDS}
        met_any = frame.group_by("code").agg(
            [(pl.col(f"_m{i}_{m}") & pl.col(flags[m]).fill_null(False)).any().alias(m) for m in met]
        ) if met else frame.select("code").unique()
        met_list = met_any.select(
            "code",
            (pl.concat_list([pl.when(pl.col(m)).then(pl.lit(m)) for m in met]).list.drop_nulls().list.join(", ")
             if met else pl.lit("")).alias("needs_met"))
        part = agg.select(
            "code",
            pl.lit(iv.name).alias("intervention"),
            pl.lit(iv.provider).alias("provider"),
            pl.lit(", ".join(iv.themes)).alias("themes"),
            pl.when(pl.col("_harm") > 0).then(pl.col(f"place_{i}") / pl.col("_harm")).alias("place_share"),
            pl.when(pl.col("_timed") > 0).then(pl.col(f"time_{i}") / pl.col("_timed")).alias("time_share"),
            (pl.when(pl.col("_aged") > 0).then(pl.col(f"age_{i}") / pl.col("_aged")) if iv.ages is not None
             else pl.lit(None, dtype=pl.Float64)).alias("age_share"),
            pl.lit(_limits(iv)).alias("limits"),
        ).join(met_list, on="code", how="left")
        parts.append(part)
    out = pl.concat(parts, how="vertical_relaxed")
    shares = frame.group_by("code").agg(
        (pl.col("night").cast(pl.Float64).sum() / pl.col("night").is_not_null().sum()).alias("night_share")
        if "night" in frame.columns else pl.lit(None, dtype=pl.Float64).alias("night_share"),
        (pl.col("youth").cast(pl.Float64).sum() / pl.col("youth").is_not_null().sum()).alias("youth_share"),
    )
    out = out.join(shares, on="code", how="left").with_columns(
        pl.col("night_share").fill_nan(None), pl.col("youth_share").fill_nan(None),
        pl.when(pl.col("place_share") >= 0.5).then(pl.lit("yes"))
        .when(pl.col("place_share") > 0).then(pl.lit("partly")).otherwise(pl.lit("no")).alias("reaches"),
    )
    return names.join(out, on="code", how="inner").select(
        pl.lit(kind).alias("unit"), "code", "name", "intervention", "provider", "themes", "reaches", "place_share",
        "time_share", "night_share", "age_share", "youth_share", "needs_met", "limits",
    ).sort(["code", "intervention"])


def _needs(frame: pl.DataFrame, interventions: list, names: pl.DataFrame, kind: str,
           force_share: dict[str, float | None]) -> pl.DataFrame:
    h = pl.col("harm")
    parts = []
    for need in NEEDS:
        f = pl.col(need.flag)
        meeting = [i for i in range(len(interventions)) if f"_m{i}_{need.id}" in frame.columns]
        covered = pl.any_horizontal([pl.col(f"_m{i}_{need.id}") for i in meeting]) if meeting else pl.lit(False)
        flagged = f.fill_null(False)
        agg = frame.group_by("code").agg(
            h.sum().alias("harm"),
            pl.len().alias("n"),
            f.is_not_null().sum().alias("_known_n"),
            flagged.sum().alias("n_flagged"),
            (h * flagged).sum().alias("need_harm"),
            (h * (flagged & covered)).sum().alias("_covered_harm"),
            (flagged & covered).sum().alias("_covered_n"),
        )
        threshold = need.threshold if need.threshold is not None else force_share.get(need.id)
        agg = agg.with_columns(
            pl.lit(need.id).alias("need"),
            (pl.col("_known_n") / pl.col("n")).alias("known"),
            pl.when(pl.col("_known_n") > 0).then(pl.col("n_flagged") / pl.col("_known_n")).alias("share"),
            pl.lit(threshold, dtype=pl.Float64).alias("threshold"),
        ).with_columns(
            pl.when(pl.col("need_harm") > 0).then(pl.col("_covered_harm") / pl.col("need_harm"))
            .when(pl.col("n_flagged") > 0).then(pl.col("_covered_n") / pl.col("n_flagged"))
            .alias("covered_share"),
        ).with_columns((1 - pl.col("covered_share")).alias("unmet_share"))
        present = (
            (pl.col("known") >= MIN_KNOWN) & (pl.col("n_flagged") >= MIN_FLAGGED)
            & pl.col("threshold").is_not_null() & (pl.col("share") >= pl.col("threshold"))
        )
        status = (
            pl.when((pl.col("known") < MIN_KNOWN) | pl.col("threshold").is_null()).then(pl.lit("not known"))
            .when(~present).then(pl.lit("no need"))
            .when(pl.col("unmet_share") >= GAP_UNMET).then(pl.lit("gap"))
            .when(pl.col("unmet_share") > 0).then(pl.lit("partly met"))
            .otherwise(pl.lit("met"))
        )
        agg = agg.with_columns(status.alias("status"), pl.when(present).then(pl.col("need_harm") * pl.col("unmet_share"))
                               .otherwise(0.0).alias("gap_score"))
        # which meeting interventions reach part of it, and which reach the place but not these
        # incidents (their hours or ages leave them out)
        if meeting:
            prov = frame.group_by("code").agg(
                [(h * (flagged & pl.col(f"_m{i}_{need.id}"))).sum().alias(f"_c{i}") for i in meeting]
                + [(h * (flagged & pl.col(f"_p{i}"))).sum().alias(f"_q{i}") for i in meeting])
            long = pl.concat([
                prov.select("code", pl.lit(i).alias("_i"), pl.col(f"_c{i}").alias("_c"), pl.col(f"_q{i}").alias("_q"))
                for i in meeting])
            lab = pl.DataFrame({
                "_i": meeting,
                "_label": [interventions[i].name + (f" ({_limits(interventions[i])})" if _limits(interventions[i]) else "")
                           for i in meeting],
                "_near": [f"{interventions[i].name} works here, but "
                          + (f"only {_limits(interventions[i])}" if _limits(interventions[i]) else "not for these incidents")
                          for i in meeting],
            }, schema={"_i": pl.Int32, "_label": pl.Utf8, "_near": pl.Utf8})
            long = long.with_columns(pl.col("_i").cast(pl.Int32)).join(lab, on="_i").sort(
                ["code", "_c", "_q", "_i"], descending=[False, True, True, False])
            providers = (
                long.filter(pl.col("_c") > 0).group_by("code", maintain_order=True)
                .agg(pl.col("_label").str.join(", ").alias("providers"))
            )
            near = (
                long.filter((pl.col("_c") <= 0) & (pl.col("_q") > 0)).group_by("code", maintain_order=True)
                .agg(pl.col("_near").str.join("; ").alias("near_misses"))
            )
            agg = agg.join(providers, on="code", how="left").join(near, on="code", how="left")
        else:
            agg = agg.with_columns(pl.lit(None, dtype=pl.Utf8).alias("providers"),
                                   pl.lit(None, dtype=pl.Utf8).alias("near_misses"))
        pct = lambda e: (e * 100 + 0.5).floor().cast(pl.Int64).cast(pl.Utf8)  # noqa: E731
        text = (
            pl.when(pl.col("covered_share").fill_null(0) <= 0).then(pl.concat_str([
                pl.col("name"), pl.lit(": "), pct(pl.col("share")), pl.lit(f"% of serious violence {need.phrase}, "
                                                                           f"and no {need.provision} intervention reaches it"),
                pl.when(pl.col("near_misses").is_not_null()).then(pl.format(" ({})", pl.col("near_misses")))
                .otherwise(pl.lit(""))]))
            .otherwise(pl.concat_str([
                pl.col("name"), pl.lit(": "), pct(pl.col("share")), pl.lit(f"% of serious violence {need.phrase}, "
                                                                           f"and {need.provision} provision ("),
                pl.col("providers"), pl.lit(") reaches only "), pct(pl.col("covered_share")), pl.lit("% of it")]))
        )
        agg = names.join(agg, on="code", how="inner").with_columns(text.alias("text"))
        parts.append(agg.select(
            pl.lit(kind).alias("unit"), "code", "name", "need", "status", "share", "threshold", "known", "n_flagged",
            "need_harm", "covered_share", "unmet_share", "gap_score", "harm", "providers", "near_misses", "text"))
    out = pl.concat(parts, how="vertical_relaxed")
    return out.with_columns(pl.when(pl.col("status").is_in(["gap", "partly met"])).then(pl.col("text")).alias("text"))



# --------------------------------------------------------------------------------------------
# Everything together
# --------------------------------------------------------------------------------------------


@dataclass
class Needs:
    """The needs assessment of one analysis at one level, as plain frames."""

    level: str
    profiles: pl.DataFrame  # hotspot.area_profiles.area_profiles
    monthly: pl.DataFrame  # hotspot.area_profiles.area_monthly
    measures: pl.DataFrame  # hotspot.measures.duty_measures
    risk: pl.DataFrame  # hotspot.risk.risk_factors at the level
    risk_localities: pl.DataFrame  # hotspot.risk.risk_factors for the localities
    reach: pl.DataFrame  # coverage()[0]
    gaps: pl.DataFrame  # coverage()[1]
    terrain: tuple[pl.DataFrame, pl.DataFrame] | None = None  # hotspot.risk.risk_terrain, when asked for
    notes: list[str] | None = None


def needs(prep: Prepared, analysis, study, level: str = "csp", *, terrain: bool = False) -> Needs:
    """Profiles, Duty measures, risk factors, reach and gaps for `analysis` at `level`.

    study gives the A&E attendances, indicators, boundaries and interventions. The risk
    terrain model runs only with terrain=True (it takes seconds on a large grid).
    """
    from hotspot.area_profiles import area_monthly, area_profiles
    from hotspot.measures import duty_measures
    from hotspot.risk import risk_factors, risk_terrain

    notes: list[str] = []
    indicators = getattr(study, "indicators", None)
    areas = getattr(study, "areas", None)
    prof = area_profiles(prep, analysis, level, indicators=indicators, notes=notes)
    monthly = area_monthly(prep, analysis, level)
    meas = duty_measures(prep, getattr(study, "ae", None), analysis, level, indicators=indicators, notes=notes)
    risk = risk_factors(prep, indicators, level, areas=areas, notes=notes)
    risk_loc = risk_factors(prep, indicators, analysis, areas=areas)
    reach, gaps = coverage(prep, analysis, getattr(study, "interventions", []), level, notes=notes)
    rtm = risk_terrain(prep, analysis, notes=notes) if terrain else None
    seen: set[str] = set()
    unique = [n for n in notes if not (n in seen or seen.add(n))]
    return Needs(level, prof, monthly, meas, risk, risk_loc, reach, gaps, rtm, unique)
