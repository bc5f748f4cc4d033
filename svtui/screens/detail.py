"""The hotspot detail: what, who, when, where, trend and venues of one locality.

Lays out fields the engine computed (Analysis.localities, .locality_monthly,
.locality_categories); computes nothing itself. `locality_detail` gives (label, Text) rows;
`Detail` lays them out as a two-column grid that wraps cleanly in a narrow pane.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Group
from rich.table import Table
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


@dataclass
class Detail:
    """A title line and labelled rows; renders as a grid, copies as plain text."""

    title: Text
    rows: list[tuple[str, Text]] = field(default_factory=list)
    footer: Text | None = None

    def add(self, label: str, value: Text | str) -> None:
        self.rows.append((label, value if isinstance(value, Text) else Text(value)))

    def __rich__(self):
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        for label, value in self.rows:
            grid.add_row(label, value)
        parts = [self.title, grid]
        if self.footer is not None:
            parts.append(self.footer)
        return Group(*parts)

    @property
    def plain(self) -> str:
        lines = [self.title.plain]
        lines += [f"{label}: {value.plain}" for label, value in self.rows]
        return "\n".join(lines) + "\n"


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


def locality_detail(app, rec: dict, rank: int | None = None) -> Detail:
    a = app.analysis
    title = Text()
    title.append((f"#{rank} " if rank else "") + plain(rec.get("name"), 120), style="bold")
    from svtui.screens import adapt

    trend = adapt.trend_words(rec)
    sig = adapt.significance_words(rec)
    if rec.get("significant") is not None:
        title.append("  significant" if rec["significant"] else "  not significant",
                     style="bold yellow" if rec["significant"] else "dim")
    d = Detail(title)
    if sig is not None:
        tests = sig[sig.find("(") + 1:-1]  # "p ..., q ..."
        d.add("Significant", Text(
            ("yes: more offences than chance would put there" if rec["significant"]
             else "no: no more offences than chance could put there") + f" (exact scan test, FDR 5%; {tests})"))
    if trend:
        style = "bold red" if trend.startswith("rising") else "bold green" if trend.startswith("falling") else "dim"
        d.add("Trend", Text(trend, style=style))

    where = Text(" · ".join(plain(w, 60) for w in (rec.get("ward_name"), rec.get("district_name"), rec.get("csp_name")) if w) or fmt.DASH)
    if rec.get("lsoa_code"):
        where.append(f" · LSOA {plain(rec.get('lsoa_code'), 12)}")
    try:
        import numpy as np

        from hotspot.osgrid import os_grid_ref

        where.append(f" · grid ref {plain(os_grid_ref(np.array([rec['x']]), np.array([rec['y']]))[0], 20)}")
    except Exception:  # noqa: BLE001
        pass
    d.add("Where", where)
    focus = Text(plain(rec.get("focus"), 80) if rec.get("focus") else fmt.DASH)
    area = rec.get("area_m2")
    if not fmt.is_missing(area):
        focus.append(f" · {float(area) / 1e6:.2f} km²" if area >= 1e5 else f" · {float(area):,.0f} m²")
    d.add("Focus", focus)

    what = Text(f"{fmt.num(rec.get('n_incidents'))} serious incidents · harm {fmt.num(rec.get('harm'))}")
    soh = rec.get("share_of_area_harm")
    if not fmt.is_missing(soh):
        what.append(f" ({fmt.pct(soh)} of the CSP's harm)")
    z = rec.get("gi_max_z")
    if not fmt.is_missing(z):
        what.append(f" · Gi* z up to {float(z):.1f}")
    d.add("What", what)
    lid = rec.get("locality_id")
    mix = a.locality_categories
    if mix is not None and mix.height:
        import polars as pl

        m = mix.filter(pl.col("locality_id") == lid).sort("n", descending=True).head(4)
        if m.height:
            labels = {c.id: c.label for c in a.definition.categories}
            d.add("Mix", " · ".join(f"{plain(labels.get(c, c), 40)} {fmt.pct(s)}" for c, s in zip(m["category"].to_list(), m["share"].to_list())))

    d.add("Who", " · ".join(f"{label} {_share(rec, key)}" for key, label in SHARES[:5]))
    wd, hr = rec.get("peak_weekday"), rec.get("peak_hour_from")
    when = Text("peak day and hour not known (no times in the data)" if fmt.is_missing(wd) and fmt.is_missing(hr) else f"peak {fmt.weekday(wd)} {fmt.hours(hr)}")
    when.append(" · " + " · ".join(f"{label} {_share(rec, key)}" for key, label in SHARES[5:]))
    d.add("When", when)
    monthly = a.locality_monthly
    if monthly is not None and monthly.height:
        import polars as pl

        m = monthly.filter(pl.col("locality_id") == lid).sort("month")
        if m.height:
            res = getattr(app, "results", None)
            gaps = set(res.missing_months()) if res is not None and hasattr(res, "missing_months") else set()
            values = [None if mo in gaps else n for mo, n in zip(m["month"].to_list(), m["n"].to_list())]
            spark = Text(fmt.sparkline(values, 36), style="bold")
            spark.append(f" {fmt.month(m['month'][max(0, m.height - 36)])} – {fmt.month(m['month'][-1])}", style="dim")
            missing = [mo for mo in m["month"].to_list() if mo in gaps]
            if missing:
                spark.append(f" · missing months (gaps): {adapt.months_list(missing)}", style="yellow")
            d.add("Monthly", spark)
    venues = rec.get("top_venues")
    d.add("Venues", Text(", ".join(plain(v, 60) for v in venues if v)) if venues else Text("none named nearby", style="dim"))
    return d
