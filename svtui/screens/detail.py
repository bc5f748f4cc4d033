"""The hotspot detail text: what, who, when, where, trend and venues of one locality.

Lays out fields the engine computed (Analysis.localities, .locality_monthly,
.locality_categories); computes nothing itself.
"""
from __future__ import annotations

from rich.text import Text

from svtui.safe import plain
from svtui.widgets import fmt

SHARES = (
    ("domestic_abuse", "domestic abuse"),
    ("knife", "knife"),
    ("youth", "under-25s"),
    ("sexual", "sexual"),
    ("alcohol", "alcohol"),
    ("public_place", "public place"),
    ("night", "night-time"),
    ("nte", "night-time economy"),
)


def _share(rec: dict, key: str) -> str:
    """A share with how much of it is known (`<flag>_known` is the known fraction)."""
    share = rec.get(f"{key}_share")
    known = rec.get(f"{key}_known")
    if key == "nte" and not rec.get("night_known"):
        # The night-time economy needs the time of day; without it the engine's 0% means nothing.
        return "not known"
    if fmt.is_missing(share) or (not fmt.is_missing(known) and known <= 0):
        return "not known"
    s = fmt.pct(share)
    if not fmt.is_missing(known) and known < 0.995:
        s += f" ({fmt.pct(known)} known)"
    return s


def locality_text(app, rec: dict, rank: int | None = None) -> Text:
    a = app.analysis
    t = Text()
    title = f"#{rank} " if rank else ""
    t.append(title + plain(rec.get("name"), 120), style="bold")
    trend = rec.get("trend")
    if trend:
        style = "bold red" if trend == "rising" else "bold green" if trend == "falling" else "dim"
        t.append(f"  [{plain(trend, 30)}]", style=style)
    t.append("\n")

    t.append("Where  ", style="bold")
    where = [rec.get("ward_name"), rec.get("district_name"), rec.get("csp_name")]
    t.append(" · ".join(plain(w, 60) for w in where if w) or fmt.DASH)
    if rec.get("lsoa_code"):
        t.append(f" · LSOA {plain(rec.get('lsoa_code'), 12)}")
    focus = rec.get("focus")
    if focus:
        t.append(f"\n       focus: {plain(focus, 80)}")
    area = rec.get("area_m2")
    if not fmt.is_missing(area):
        t.append(f" · {float(area) / 1e6:.2f} km²" if area >= 1e5 else f" · {float(area):,.0f} m²")
    try:
        from hotspot.osgrid import os_grid_ref
        import numpy as np

        ref = os_grid_ref(np.array([rec["x"]]), np.array([rec["y"]]))[0]
        t.append(f" · grid ref {plain(ref, 20)}")
    except Exception:  # noqa: BLE001
        pass
    t.append("\n")

    t.append("What   ", style="bold")
    t.append(f"{fmt.num(rec.get('n_incidents'))} serious incidents · harm {fmt.num(rec.get('harm'))}")
    soh = rec.get("share_of_area_harm")
    if not fmt.is_missing(soh):
        t.append(f" ({fmt.pct(soh)} of the CSP's harm)")
    z = rec.get("gi_max_z")
    if not fmt.is_missing(z):
        t.append(f" · Gi* max z {float(z):.1f}")
    mix = a.locality_categories
    lid = rec.get("locality_id")
    if mix is not None and mix.height:
        import polars as pl

        m = mix.filter(pl.col("locality_id") == lid).sort("n", descending=True).head(4)
        if m.height:
            labels = {c.id: c.label for c in a.definition.categories}
            parts = [f"{plain(labels.get(c, c), 40)} {fmt.pct(s)}" for c, s in zip(m["category"].to_list(), m["share"].to_list())]
            t.append("\n       " + " · ".join(parts))
    t.append("\n")

    t.append("Who    ", style="bold")
    t.append(" · ".join(f"{label} {_share(rec, key)}" for key, label in SHARES[:5]))
    t.append("\n")

    t.append("When   ", style="bold")
    wd, hr = rec.get("peak_weekday"), rec.get("peak_hour_from")
    if fmt.is_missing(wd) and fmt.is_missing(hr):
        t.append("peak day and hour not known (no times in the data)")
    else:
        t.append(f"peak {fmt.weekday(wd)} {fmt.hours(hr)}")
    t.append(" · " + " · ".join(f"{label} {_share(rec, key)}" for key, label in SHARES[5:]))
    monthly = a.locality_monthly
    if monthly is not None and monthly.height:
        import polars as pl

        m = monthly.filter(pl.col("locality_id") == lid).sort("month")
        if m.height:
            t.append("\n       monthly ")
            t.append(fmt.sparkline(m["n"].to_list(), 48), style="bold")
            t.append(f"  {fmt.month(m['month'][0])} – {fmt.month(m['month'][-1])}", style="dim")
    t.append("\n")

    venues = rec.get("top_venues")
    t.append("Venues ", style="bold")
    if venues:
        t.append(", ".join(plain(v, 60) for v in venues if v))
    else:
        t.append("none named nearby", style="dim")
    return t
