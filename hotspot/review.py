"""What changed at each reviewed place: the figures a monthly hotspot review meeting reads.

Per place (adopted localities and the partnership's own places, reviewed the same way), for a
period of one month or one quarter:
- this period against the previous period, against the same period a year before, and the last
  3 months against the 3 before; counts and harm of the serious violence; each count change with
  the exact conditional test for two Poisson counts (hotspot.rates.change_test: given a + b, the
  after count is Binomial(a + b, 1/2) for equal exposures; Przyborowski & Wilenski 1940);
- a Shewhart c-chart flag (hotspot.rates.c_chart, limits c̄ ± 3√c̄) from the place's own recent
  periods (the 12 months, or 8 quarters, before this one);
- the other crime recorded in the place (anti-social behaviour, public order, drugs);
- new candidate places: current hotspot localities overlapping no reviewed place.
A window with a month the data do not cover is a gap (null), never a zero; an offence type no
source records is null, never zero. Returns frames of numbers and reason codes.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import shapely

from hotspot.evaluate import month_add, months_between
from hotspot.rates import c_chart, change_test

ALPHA = 0.05
OTHER_TYPES = {"asb": "Anti-social behaviour", "public_order": "Public order", "drugs": "Drugs"}
CHART_PERIODS = {1: 12, 3: 8}  # c-chart baseline: 12 months, or 8 quarters
COMPARISONS = ("prev", "year", "3m")


def period_months(period: date, quarter: bool = False) -> tuple[date, date]:
    """The months of a review period: the month itself, or the calendar quarter holding it."""
    p = date(period.year, period.month, 1)
    if not quarter:
        return p, p
    q0 = date(p.year, 3 * ((p.month - 1) // 3) + 1, 1)
    return q0, month_add(q0, 2)


def membership(x: np.ndarray, y: np.ndarray, geoms) -> tuple[np.ndarray, np.ndarray]:
    """(place index, point index) for every point inside each place (a point may be in several)."""
    ok = np.isfinite(x) & np.isfinite(y)
    pi, ri = [], []
    for i, g in enumerate(geoms):  # one vectorised test per place (a few dozen), not per row
        minx, miny, maxx, maxy = shapely.bounds(g)
        cand = np.flatnonzero(ok & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        if len(cand):
            shapely.prepare(g)
            hit = cand[shapely.contains_xy(g, x[cand], y[cand])]
            pi.append(np.full(len(hit), i))
            ri.append(hit)
    if not pi:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(pi).astype(np.int64), np.concatenate(ri).astype(np.int64)


def _window_sum(monthly: pl.DataFrame, lo: date, hi: date, known: set, col: str, n_places: int) -> np.ndarray:
    """Per place, the sum of `col` over months lo..hi; NaN when any month is not in the data."""
    months = [month_add(lo, i) for i in range(months_between(lo, hi))]
    if not all(m in known for m in months):
        return np.full(n_places, np.nan)
    sub = monthly.filter(pl.col("month").is_between(lo, hi)).group_by("place").agg(pl.col(col).sum())
    out = np.zeros(n_places)
    out[sub["place"].to_numpy()] = sub[col].to_numpy()
    return out


def review(incidents: pl.DataFrame, places, period: date, quarter: bool = False,
           known_months=None, alpha: float = ALPHA) -> pl.DataFrame:
    """One row per place with the three comparisons, their tests, the c-chart and other crime.

    incidents: every located incident of the study (Prepared.incidents: easting, northing,
    month, harm, serious, crime_type). places: a GeoDataFrame from geodata.places (place_id,
    name, kind, geometry in BNG). known_months: the months the data cover (default: the months
    with any incident).

    Columns: place_id, name, kind, period_from, period_to; n_now, harm_now; for each comparison
    c in (prev, year, 3m): n_<c>_before, n_<c>_after, harm_<c>_before, harm_<c>_after, p_<c>,
    sig_<c> (p < alpha; null when a window is a gap); c_centre, c_lower, c_upper,
    c_periods (known baseline periods), c_flag ("above" | "below" | "within" | null);
    other_<type>_now for asb, public_order, drugs (null when no source records the type).
    """
    n = len(places)
    p0, p1 = period_months(period, quarter)
    L = months_between(p0, p1)
    if known_months is None:
        known_months = incidents["month"].drop_nulls().unique().to_list()
    known = set(known_months)
    x = incidents["easting"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    y = incidents["northing"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    pidx, ridx = membership(x, y, list(places.geometry.values))
    inside = incidents.select("month", "harm", "serious", "crime_type")[ridx].with_columns(
        pl.Series("place", pidx))
    serious = inside.filter(pl.col("serious").fill_null(False))
    monthly = serious.group_by("place", "month").agg(pl.len().alias("n"), pl.col("harm").sum().alias("harm"))

    def both(lo, hi):
        return (_window_sum(monthly, lo, hi, known, "n", n), _window_sum(monthly, lo, hi, known, "harm", n))

    n_now, h_now = both(p0, p1)
    cols: dict[str, object] = {
        "place_id": places["place_id"].astype(str).to_list(), "name": places["name"].astype(str).to_list(),
        "kind": places["kind"].astype(str).to_list(),
        "period_from": [p0] * n, "period_to": [p1] * n, "n_now": n_now, "harm_now": h_now,
    }
    windows = {
        "prev": ((month_add(p0, -L), month_add(p1, -L)), (p0, p1)),
        "year": ((month_add(p0, -12), month_add(p1, -12)), (p0, p1)),
        "3m": ((month_add(p1, -5), month_add(p1, -3)), (month_add(p1, -2), p1)),
    }
    for c, ((b0, b1), (a0, a1)) in windows.items():
        nb, hb = both(b0, b1)
        na, ha = both(a0, a1)
        p = change_test(nb, na)
        cols[f"n_{c}_before"], cols[f"n_{c}_after"] = nb, na
        cols[f"harm_{c}_before"], cols[f"harm_{c}_after"] = hb, ha
        cols[f"p_{c}"] = p
        cols[f"sig_{c}"] = [None if not np.isfinite(pv) else bool(pv < alpha) for pv in p]
        cols[f"{c}_from"], cols[f"{c}_to"] = [b0] * n, [b1] * n

    # c-chart on the place's own previous periods (the same length as this one)
    k = CHART_PERIODS.get(L, 12)
    base = np.column_stack([_window_sum(monthly, month_add(p0, -L * j), month_add(p1, -L * j), known, "n", n)
                            for j in range(1, k + 1)]) if n else np.zeros((0, k))
    centre, lower, upper, known_n = (np.full(n, np.nan) for _ in range(4))
    for i in range(n):  # a c-chart per place (a few dozen)
        centre[i], lower[i], upper[i] = c_chart(base[i])
        known_n[i] = np.isfinite(base[i]).sum()
    flag = np.where(~np.isfinite(n_now) | ~np.isfinite(upper), None,
                    np.where(n_now > upper, "above", np.where((lower > 0) & (n_now < lower), "below", "within")))
    cols.update({"c_centre": centre, "c_lower": lower, "c_upper": upper, "c_periods": known_n.astype(int),
                 "c_flag": flag.tolist()})

    # other crime in the place this period (null when no source has the type at all)
    recorded = set(incidents["crime_type"].drop_nulls().unique().to_list())
    now_rows = inside.filter(pl.col("month").is_between(p0, p1))
    for key, label in OTHER_TYPES.items():
        counts = np.bincount(now_rows.filter(pl.col("crime_type") == label)["place"].to_numpy(), minlength=n)[:n].astype(float)
        gap = label not in recorded or not np.isfinite(n_now).all()
        cols[f"other_{key}_now"] = np.full(n, np.nan) if gap else counts
    df = pl.DataFrame(cols, nan_to_null=True)
    return df


def candidates(localities: pl.DataFrame, places) -> pl.DataFrame:
    """Hotspot localities (Analysis.localities: locality_id, name, n_incidents, harm,
    geometry_wkb) that overlap no reviewed place: new candidates for adoption."""
    cols = ["locality_id", "name", "n_incidents", "harm"]
    if localities.height == 0:
        return pl.DataFrame(schema={"locality_id": pl.Utf8, "name": pl.Utf8, "n_incidents": pl.Int64, "harm": pl.Float64})
    geoms = shapely.from_wkb(localities["geometry_wkb"].to_numpy())
    taken = np.zeros(localities.height, dtype=bool)
    if len(places):
        union = shapely.union_all(np.asarray(places.geometry.values))
        shapely.prepare(union)
        taken = shapely.intersects(union, geoms)
        ids = set(places["place_id"].astype(str))
        taken |= localities["locality_id"].is_in(list(ids)).to_numpy()
    return localities.filter(pl.Series(~taken)).select(cols).sort("harm", descending=True)


__all__ = ["review", "candidates", "period_months", "membership", "OTHER_TYPES", "COMPARISONS"]
