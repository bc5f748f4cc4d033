"""Did a place-based action work? Weighted Displacement Difference and Quotient.

Four areas, each counted in equal before (0) and after (1) windows:
  T  the treated place;  D  its displacement ring (a buffer of `ring_m` around T, less T);
  Ct the control for T;  Cd the control for D.

Weighted Displacement Difference (Wheeler, A. P. & Ratcliffe, J. H. (2018) "A simple weighted
displacement difference test to evaluate place based crime interventions", Crime Science 7:11):
  WDD = ΔT − ΔCt + ΔD − ΔCd,  Δ = after − before,
  Var(WDD) = T0+T1+Ct0+Ct1+D0+D1+Cd0+Cd1 (each count Poisson, areas independent),
  z = WDD / sqrt(Var), two-sided p from the normal. Negative WDD = less crime than expected.
Harm-weighted form (their "weighted" extension): each incident counts its harm w, so
  WDD_h = Σ w·WDD by offence type, Var = Σ w²·Var, i.e. the sum of w² over the incidents.

A control much larger than the place (the default: the rest of the place's Community Safety
Partnership) would swamp the raw difference, so it is scaled to the place's before count:
ΔCt becomes k·ΔCt with k = T0/Ct0 (and k_D = D0/Cd0), the change T would have had if it had
followed the control's trend; its variance k²(Ct0+Ct1). With k = 1 this is Wheeler &
Ratcliffe's formula exactly (a named control place of similar size is used raw). When the same
area controls both T and D, its variance is counted once: (k_T+k_D)²(C0+C1).

Weighted Displacement Quotient (Bowers, K. J. & Johnson, S. D. (2003) "Measuring the
geographical displacement and diffusion of benefit effects of crime prevention activity",
Journal of Quantitative Criminology 19(3):275-301), with a = after, b = before, C = Ct:
  WDQ = (Da/Ca − Db/Cb) / (Ta/Ca − Tb/Cb),
meaningful only when the treated place improved relative to the control (denominator < 0):
WDQ > 0 diffusion of benefit, < 0 displacement, < −1 displacement larger than the direct effect.

Everything here returns numbers and reason codes; the faces say them in words.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import shapely
from hotspot.tails import normal_tail

from hotspot.rates import SMALL_BASE

DEFAULT_RING_M = 200.0
ALPHA = 0.05
ZONES = ("T", "D", "Ct", "Cd")

# Reason codes (faces phrase them)
VERDICTS = ("too_small", "worked", "displaced", "diffusion", "rose", "no_significant_change", "months_missing")
RING_CODES = ("ring_rose", "ring_fell", "no_sign", "ring_too_small")


def month_add(m: date, k: int) -> date:
    y, mm = divmod(m.year * 12 + (m.month - 1) + k, 12)
    return date(y, mm + 1, 1)


def months_between(a: date, b: date) -> int:
    """Number of months from a to b inclusive."""
    return (b.year - a.year) * 12 + b.month - a.month + 1


def windows_for(start: date, end: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """Equal before/after windows: after = start..end (months, inclusive), before = the same
    number of months immediately before."""
    s, e = date(start.year, start.month, 1), date(end.year, end.month, 1)
    n = months_between(s, e)
    if n < 1:
        raise ValueError("end_before_start")
    return (month_add(s, -n), month_add(s, -1)), (s, e)


def zones(x: np.ndarray, y: np.ndarray, place, ring_m: float = DEFAULT_RING_M, control=None,
          control_mask: np.ndarray | None = None) -> np.ndarray:
    """Zone code per point: "T", "D", "Ct", "Cd" or "" (none).

    `control` (a polygon) = a named control place: Ct inside it, Cd in its own ring (the same
    `ring_m`), neither overlapping T or D. Otherwise `control_mask` (e.g. the points in the
    place's CSP) less T and D is the shared control, coded "C".
    """
    ring = shapely.difference(shapely.buffer(place, ring_m), place)
    shapely.prepare(place)
    shapely.prepare(ring)
    ok = np.isfinite(x) & np.isfinite(y)
    xs, ys = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    in_t = ok & shapely.contains_xy(place, xs, ys)
    in_d = ok & ~in_t & shapely.contains_xy(ring, xs, ys)
    out = np.full(len(x), "", dtype=object)
    out[in_t] = "T"
    out[in_d] = "D"
    free = ok & ~in_t & ~in_d
    if control is not None:
        cring = shapely.difference(shapely.buffer(control, ring_m), control)
        shapely.prepare(control)
        shapely.prepare(cring)
        in_ct = free & shapely.contains_xy(control, xs, ys)
        in_cd = free & ~in_ct & shapely.contains_xy(cring, xs, ys)
        out[in_ct] = "Ct"
        out[in_cd] = "Cd"
    elif control_mask is not None:
        out[free & np.asarray(control_mask, dtype=bool)] = "C"
    return out


def _p(z):
    z = np.asarray(z, dtype=float)
    return np.where(np.isfinite(z), 2 * normal_tail(z), np.nan)


def wdd(T0, T1, D0, D1, Ct0, Ct1, Cd0, Cd1, k_t: float = 1.0, k_d: float = 1.0, shared: bool = False,
        var_t=None, var_d=None, var_ct=None, var_cd=None) -> dict:
    """The WDD with its components (see the module docstring for the formulas).

    Counts or harm sums. `var_*` are the variances of each area's before+after total (default:
    the total itself, Poisson counts; for harm pass Σ w²). With `shared`, Ct and Cd are one
    area (pass its counts in both) and its variance is counted once, scaled by (k_t + k_d)².
    Returns: wdd, var, z, p; effect_t (ΔT − k_t ΔCt) with its var, z, p; effect_d likewise.
    """
    vt = T0 + T1 if var_t is None else var_t
    vd = D0 + D1 if var_d is None else var_d
    vct = Ct0 + Ct1 if var_ct is None else var_ct
    vcd = Cd0 + Cd1 if var_cd is None else var_cd
    dt, dd, dct, dcd = T1 - T0, D1 - D0, Ct1 - Ct0, Cd1 - Cd0
    w = dt - k_t * dct + dd - k_d * dcd
    var = vt + vd + ((k_t + k_d) ** 2 * vct if shared else k_t ** 2 * vct + k_d ** 2 * vcd)
    eff_t, var_et = dt - k_t * dct, vt + k_t ** 2 * vct
    eff_d, var_ed = dd - k_d * dcd, vd + k_d ** 2 * vcd
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.divide(w, np.sqrt(var)) if var > 0 else float("nan")
        z_t = np.divide(eff_t, np.sqrt(var_et)) if var_et > 0 else float("nan")
        z_d = np.divide(eff_d, np.sqrt(var_ed)) if var_ed > 0 else float("nan")
    return {
        "wdd": float(w), "var": float(var), "z": float(z), "p": float(_p(z)),
        "effect_t": float(eff_t), "var_t": float(var_et), "z_t": float(z_t), "p_t": float(_p(z_t)),
        "effect_d": float(eff_d), "var_d": float(var_ed), "z_d": float(z_d), "p_d": float(_p(z_d)),
    }


def wdq(T0, T1, D0, D1, C0, C1) -> tuple[float, str | None]:
    """Bowers & Johnson's WDQ and a reason code when it is not meaningful (else None)."""
    if not (C0 > 0 and C1 > 0):
        return float("nan"), "control_empty"
    success = T1 / C1 - T0 / C0
    if not success < 0:
        return float("nan"), "treated_not_improved"
    return float((D1 / C1 - D0 / C0) / success), None


def evaluate(incidents: pl.DataFrame, place, before: tuple[date, date], after: tuple[date, date],
             ring_m: float = DEFAULT_RING_M, control=None, control_mask=None,
             scale_control: bool | None = None, known_months=None, alpha: float = ALPHA) -> dict:
    """Evaluate one place over equal before/after windows. Returns one flat dict of numbers
    and codes (see VERDICTS, RING_CODES).

    incidents: columns easting, northing (BNG m), month (Date), harm; the crimes the action
    targeted (e.g. the serious violence). `control_mask`: per incident, True where it lies in
    the default control (the rest of the place's CSP); ignored when `control` (a polygon) is
    given. `scale_control` None = scale the default control, not a named one. `known_months`:
    the months the data cover; a window with a month outside them gives "months_missing".
    """
    nb, na = months_between(*before), months_between(*after)
    if nb != na or nb < 1:
        raise ValueError("unequal_windows")
    missing = []
    if known_months is not None:
        known = set(known_months)
        for lo, hi in (before, after):
            missing += [month_add(lo, i) for i in range(months_between(lo, hi)) if month_add(lo, i) not in known]
    x = incidents["easting"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    y = incidents["northing"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    z = zones(x, y, place, ring_m, control, control_mask)
    month = incidents["month"].cast(pl.Date).to_numpy().astype("datetime64[D]")
    b0, b1, a0, a1 = (np.datetime64(d, "D") for d in (*before, *after))
    per = np.select([(month >= b0) & (month <= b1), (month >= a0) & (month <= a1)], [0, 1], -1)
    harm = incidents["harm"].cast(pl.Float64).fill_null(0.0).to_numpy()
    shared = control is None
    scale = (control is None) if scale_control is None else scale_control
    cnt, hsum, h2 = {}, {}, {}
    for zone in ("T", "D", "Ct", "Cd", "C"):
        for p in (0, 1):
            m = (z == zone) & (per == p)
            cnt[zone, p] = int(m.sum())
            hsum[zone, p] = float(harm[m].sum())
            h2[zone, p] = float((harm[m] ** 2).sum())
    if shared:
        for key in ("Ct", "Cd"):
            for p in (0, 1):
                cnt[key, p], hsum[key, p], h2[key, p] = cnt["C", p], hsum["C", p], h2["C", p]
    c = {f"{k}{p}": cnt[k, p] for k in ZONES for p in (0, 1)}
    h = {f"{k}{p}": hsum[k, p] for k in ZONES for p in (0, 1)}

    def k_of(num, den):
        return (num / den if den > 0 else float("nan")) if scale else 1.0

    k_t, k_d = k_of(c["T0"], c["Ct0"]), k_of(c["D0"], c["Cd0"])
    res = wdd(*(c[k] for k in ("T0", "T1", "D0", "D1", "Ct0", "Ct1", "Cd0", "Cd1")), k_t=k_t, k_d=k_d, shared=shared)
    kh_t, kh_d = k_of(h["T0"], h["Ct0"]), k_of(h["D0"], h["Cd0"])
    res_h = wdd(*(h[k] for k in ("T0", "T1", "D0", "D1", "Ct0", "Ct1", "Cd0", "Cd1")), k_t=kh_t, k_d=kh_d, shared=shared,
                var_t=h2["T", 0] + h2["T", 1], var_d=h2["D", 0] + h2["D", 1],
                var_ct=h2["Ct", 0] + h2["Ct", 1], var_cd=h2["Cd", 0] + h2["Cd", 1])
    q, q_code = wdq(c["T0"], c["T1"], c["D0"], c["D1"], c["Ct0"], c["Ct1"])

    if missing:
        verdict = "months_missing"
    elif c["T0"] < SMALL_BASE:
        verdict = "too_small"
    elif res["p_t"] < alpha and res["effect_t"] < 0:
        if res["p_d"] < alpha and res["effect_d"] > 0:
            verdict = "displaced"
        elif res["p_d"] < alpha and res["effect_d"] < 0:
            verdict = "diffusion"
        else:
            verdict = "worked"
    elif res["p_t"] < alpha and res["effect_t"] > 0:
        verdict = "rose"
    else:
        verdict = "no_significant_change"
    if c["D0"] + c["D1"] < SMALL_BASE:
        ring = "ring_too_small"
    elif res["p_d"] < alpha:
        ring = "ring_rose" if res["effect_d"] > 0 else "ring_fell"
    else:
        ring = "no_sign"
    out = {
        "before_from": before[0], "before_to": before[1], "after_from": after[0], "after_to": after[1],
        "months": nb, "ring_m": float(ring_m), "control_kind": "place" if control is not None else "csp_rest",
        "control_scaled": bool(scale), "k_t": k_t, "k_d": k_d,
        **c,
        **res,
        "significant": bool(res["p"] < alpha),
        **{f"harm_{k}": v for k, v in h.items()},
        **{f"harm_{k}": v for k, v in res_h.items()},
        "wdq": q, "wdq_code": q_code,
        "verdict": verdict, "ring_code": ring,
        "missing_months": [m.isoformat() for m in missing],
    }
    if verdict in ("months_missing",):
        for k in ("wdd", "z", "p", "effect_t", "z_t", "p_t", "effect_d", "z_d", "p_d", "wdq"):
            out[k] = float("nan")
    return out


__all__ = ["wdd", "wdq", "evaluate", "zones", "windows_for", "DEFAULT_RING_M", "VERDICTS", "RING_CODES"]


def place_csp(areas, geom) -> str | None:
    """The CSP code of the LSOA holding the place's representative point (None if outside)."""
    from geodata.areas import point_in_lsoa

    pt = shapely.point_on_surface(geom)
    i = int(point_in_lsoa(areas, np.array([shapely.get_x(pt)]), np.array([shapely.get_y(pt)]))[0])
    if i < 0:
        return None
    code = str(areas.codes[int(i)])
    h = areas.hierarchy
    if "csp_code" not in h.columns:
        return None
    hit = h.filter(pl.col("lsoa_code") == code)["csp_code"]
    return hit[0] if hit.len() and hit[0] is not None else None


def evaluate_in_study(prep, areas, place, start: date, end: date, ring_m: float = DEFAULT_RING_M,
                      control=None, alpha: float = ALPHA) -> dict:
    """Evaluate a place in a prepared study: the serious violence (Prepared.serious), windows
    from `start`..`end` (after) and the same number of months before, the default control the
    rest of the place's CSP (by LSOA) unless a control polygon is given."""
    before, after = windows_for(start, end)
    inc = prep.serious.filter(pl.col("easting").is_not_null())
    mask = None
    csp = None
    if control is None:
        csp = place_csp(areas, place) if areas is not None else None
        if csp is not None:
            codes = prep.hierarchy.filter(pl.col("csp_code") == csp)["lsoa_code"].to_list()
            mask = inc["lsoa_code"].is_in(codes).fill_null(False).to_numpy()
        else:
            mask = np.ones(inc.height, dtype=bool)  # no CSP known: the whole study is the control
    out = evaluate(inc, place, before, after, ring_m, control, mask, known_months=prep.months, alpha=alpha)
    out["control_csp"] = csp
    if control is None and csp is None:
        out["control_kind"] = "study_rest"
    return out
