"""Charts and maps for the pack, drawn offline with matplotlib (Agg; imported only here).

Every count that reaches a picture goes through :func:`shown` first, the same rule as the
text (svtui.disclosure): a count of 1 to 4 is not drawn (partner and public), counts are
rounded to 5 under public. A month with no data is NaN and drawn as a gap, never as 0.

Palettes are viridis / cividis (colour-blind safe, monotone in lightness, so they print in
greyscale); lines and bars are dark with hatching where a second series must be told apart.
Maps are in British National Grid metres, so north is up and the scale bar is exact.
"""
from __future__ import annotations

import io
import math
from datetime import date

import numpy as np

from svtui import disclosure as dc

DPI = 110
INK = "#222222"
MUTED = "#9a9a9a"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _plt():
    """matplotlib with the pack's style (no pyplot: figures are made with _figure)."""
    import matplotlib

    matplotlib.rcParams.update({"font.size": 8, "axes.titlesize": 9, "font.family": "DejaVu Sans",
                                "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none"})
    return matplotlib


def shown(counts, level) -> np.ndarray:
    """Counts as a reader may see them: NaN where missing or withheld (1..small_max), rounded to
    the rule's multiple otherwise (svtui.disclosure.count, vectorised)."""
    rule = dc.rule_for(level)
    c = np.asarray(counts, dtype=float)
    out = c.copy()
    small = (c > 0) & (c <= rule.small_max)
    out[small] = np.nan
    if rule.round_to > 1:
        big = np.isfinite(c) & ~small & (c > 0)
        out[big] = np.floor(c[big] / rule.round_to + 0.5) * rule.round_to
    return out


def _figure(figsize, *args, **kw):
    """A figure outside pyplot's registry (nothing to close, no global state), with its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _plt()  # the rcParams above
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(*args, **kw)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # a fixed layout (no bbox_inches="tight"): one draw per figure instead of two
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 3})
    return buf.getvalue()


def month_axis(start: date, end: date) -> list[date]:
    """Every calendar month from start to end inclusive."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# ----------------------------------------------------------------------------------- charts


_MONTHLY: dict = {}  # (months, width, height) -> [fig, ax, line, artists of the last chart]


def monthly_chart(months: list[date], counts: np.ndarray, level, *, limits=None, width_in=6.3,
                  height_in=1.45) -> tuple[bytes, dict]:
    """Monthly counts as a line with gaps. counts: float, NaN = no data that month.

    limits: (centre, lower, upper) of a c-chart (hotspot.rates.c_chart), drawn as dashed lines.
    Returns (png, facts) where facts counts the gap and withheld months for the caption.

    A pack draws one of these per CSP and per locality on the same month axis, so the figure,
    its axes, ticks and labels are made once per axis and size; each chart only swaps the line,
    the limit lines and the shaded months (about a third of the time of a new figure)."""
    raw = np.asarray(counts, dtype=float)
    vals = shown(raw, level)
    withheld = np.isfinite(raw) & ~np.isfinite(vals)
    nodata = ~np.isfinite(raw)
    x = np.arange(len(months))
    key = (tuple(months), width_in, height_in)
    if key not in _MONTHLY:
        if len(_MONTHLY) >= 8:
            _MONTHLY.clear()
        fig, ax = _figure((width_in, height_in))
        (line,) = ax.plot(x, vals, color=INK, lw=1.4, marker="o", ms=2.2)
        ax.set_xlim(-0.6, len(months) - 0.4)
        ticks = [i for i, m in enumerate(months) if m.month in (1, 4, 7, 10)] or [0]
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{months[i]:%b %y}" for i in ticks])
        ax.set_ylabel("offences")
        ax.grid(axis="y", color="#eeeeee", lw=0.6)
        fig.subplots_adjust(left=0.08, right=0.99, bottom=0.17, top=0.96)
        _MONTHLY[key] = [fig, ax, line, []]
    fig, ax, line, old = _MONTHLY[key]
    for art in old:
        art.remove()
    old.clear()
    line.set_ydata(vals)
    top = np.nanmax(vals) if np.isfinite(vals).any() else 5.0
    has_limits = limits is not None and all(np.isfinite(limits))
    if has_limits:
        c, lo, hi = limits
        old.append(ax.axhline(c, color=MUTED, lw=0.8))
        old.append(ax.axhline(hi, color=MUTED, lw=0.8, ls="--"))
        if lo > 0:
            old.append(ax.axhline(lo, color=MUTED, lw=0.8, ls="--"))
        top = max(top, hi)
    for i in np.flatnonzero(withheld):
        old.append(ax.axvspan(i - 0.5, i + 0.5, color="#d9d9d9", lw=0, hatch="///", ec="#8c8c8c"))
    for i in np.flatnonzero(nodata):
        old.append(ax.axvspan(i - 0.5, i + 0.5, color="white", lw=0, hatch="...", ec="#bdbdbd"))
    ax.set_ylim(0, top * 1.15 + 1)
    ax.set_xlim(-0.6, len(months) - 0.4)  # axvspan would otherwise widen it
    return _png(fig), {"withheld": int(withheld.sum()), "nodata": int(nodata.sum()), "limits": has_limits}


def category_chart(labels: list[str], counts: list[int], level, width_in=6.3) -> tuple[bytes, list[str]]:
    """Horizontal bars of offences per part of the definition; withheld parts are not drawn and
    are returned so the caption can name them."""
    vals = shown(counts, level)
    keep = np.isfinite(vals) & (vals > 0)
    hidden = [lab for lab, k, c in zip(labels, keep, counts) if not k and c > 0]
    labs = [lab for lab, k in zip(labels, keep) if k]
    v = vals[keep]
    order = np.argsort(v)
    fig, ax = _figure((width_in, 0.28 * max(len(v), 1) + 0.5))
    if v.size:
        ax.barh(np.arange(v.size), v[order], color="#31688e", height=0.65)
        ax.set_yticks(np.arange(v.size))
        ax.set_yticklabels([_short(labs[i], 44) for i in order])
        for y, val in enumerate(v[order]):
            ax.text(val, y, f" {int(val):,}", va="center", fontsize=7, color=INK)
        ax.set_xlim(0, v.max() * 1.15)
    ax.set_xlabel("offences (an offence can count in more than one part)")
    fig.subplots_adjust(left=0.47, right=0.97, bottom=0.42 / fig.get_figheight(), top=1 - 0.08 / fig.get_figheight())
    return _png(fig), hidden


def time_chart(hour_counts: np.ndarray, weekday_counts: np.ndarray, level, width_in=6.3) -> bytes:
    """Offences by hour of day and by day of week, side by side (counts with a recorded time)."""
    h = shown(hour_counts, level)
    d = shown(weekday_counts, level)
    fig, (a1, a2) = _figure((width_in, 1.8), 1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    a1.bar(np.arange(24), np.nan_to_num(h, nan=0.0), color="#35b779", width=0.8, ec="#1f6f47", lw=0.4)
    a1.set_xticks([0, 3, 6, 9, 12, 15, 18, 21])
    a1.set_xticklabels(["00", "03", "06", "09", "12", "15", "18", "21"])
    a1.set_xlabel("hour the offence began")
    a1.set_ylabel("offences")
    a2.bar(np.arange(7), np.nan_to_num(d, nan=0.0), color="#443983", width=0.7)
    a2.set_xticks(np.arange(7))
    a2.set_xticklabels([w[:2] for w in WEEKDAYS], fontsize=7)
    a2.set_xlabel("day of week")
    for ax, vals in ((a1, h), (a2, d)):
        for i in np.flatnonzero(~np.isfinite(vals)):
            ax.text(i, 0, "<5", ha="center", va="bottom", fontsize=5.5, color=MUTED)
    fig.subplots_adjust(left=0.08, right=0.99, bottom=0.24, top=0.96, wspace=0.22)
    return _png(fig)


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


# ------------------------------------------------------------------------------------- maps


def _nice(length: float) -> float:
    """A round scale-bar length near `length` metres (1, 2 or 5 times a power of ten)."""
    if length <= 0:
        return 100.0
    p = 10 ** math.floor(math.log10(length))
    for m in (5, 2, 1):
        if m * p <= length:
            return m * p
    return p


def _furniture(ax, xmin, xmax, ymin, ymax) -> None:
    """North arrow (top right) and scale bar (bottom left), in data units (metres)."""
    w, h = xmax - xmin, ymax - ymin
    L = _nice(w / 5)
    x0, y0 = xmin + 0.04 * w, ymin + 0.05 * h
    t = 0.012 * h
    ax.add_patch(_rect(x0, y0, L / 2, t, "black"))
    ax.add_patch(_rect(x0 + L / 2, y0, L / 2, t, "white"))
    label = f"{L / 1000:g} km" if L >= 1000 else f"{L:g} m"
    ax.text(x0 + L / 2, y0 + 2.2 * t, label, ha="center", va="bottom", fontsize=7,
            bbox=dict(fc="white", ec="none", alpha=0.7, pad=0.5))
    nx, ny = xmax - 0.06 * w, ymax - 0.16 * h
    ax.annotate("N", xy=(nx, ny + 0.1 * h), xytext=(nx, ny), ha="center", va="top", fontsize=9, weight="bold",
                arrowprops=dict(arrowstyle="-|>", color="black", lw=1.2))


def _rect(x, y, w, h, fc):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, fc=fc, ec="black", lw=0.6, zorder=6)


def _plot_polys(ax, geoms, **kw) -> None:
    """Draw shapely polygons fast: one PolyCollection of all exterior rings."""
    from matplotlib.collections import PolyCollection

    rings = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for p in getattr(g, "geoms", [g]):
            if p.geom_type == "Polygon":
                rings.append(np.asarray(p.exterior.coords)[:, :2])
    if rings:
        ax.add_collection(PolyCollection(rings, **kw))


def _frame(ax, bounds, pad=0.06, aspect: float | None = None):
    """Set the view to bounds plus pad; with aspect (height / width), widen the short side so
    the map fills its box at true scale."""
    xmin, ymin, xmax, ymax = bounds
    w, h = max(xmax - xmin, 200.0), max(ymax - ymin, 200.0)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    if aspect:
        if h / w > aspect:
            w = h / aspect
        else:
            h = w * aspect
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(True)
        s.set_color("#777777")
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def partnership_map(units, localities, width_in=6.3) -> bytes:
    """The partnership: its CSP outlines (units: list of (name, geometry)), its localities shaded
    by harm (cividis: dark = most harm) and labelled by id.

    localities: list of dicts with locality_id, geometry (shapely), x, y, harm."""
    import matplotlib as mpl

    from shapely.ops import unary_union

    allg = unary_union([g for _n, g in units if g is not None]) if units else None
    bounds = allg.bounds if allg is not None and not allg.is_empty else (0, 0, 1000, 1000)
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    fig, ax = _figure((width_in, min(width_in * h / max(w, 1), 5.4)))
    _plot_polys(ax, [g for _n, g in units], facecolor="#f4f4f4", edgecolor="#555555", linewidths=0.8)
    xmin, xmax, ymin, ymax = _frame(ax, bounds, 0.03)
    taken: list[tuple[float, float, float, float]] = []  # boxes already used by labels and markers
    if localities:
        harms = np.array([lr["harm"] for lr in localities], float)
        norm = mpl.colors.Normalize(vmin=float(np.nanmin(harms)) * 0.9, vmax=float(np.nanmax(harms)))
        cmap = mpl.colormaps["cividis_r"]
        _plot_polys(ax, [lr["geometry"] for lr in localities], facecolor=[cmap(norm(v)) for v in harms],
                    edgecolor="black", linewidths=0.5, zorder=4)
        ax.scatter([lr["x"] for lr in localities], [lr["y"] for lr in localities], s=46,
                   c=[cmap(norm(v)) for v in harms], edgecolors="black", linewidths=0.6, zorder=5)
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        cb = fig.colorbar(sm, ax=ax, fraction=0.03, pad=0.01)
        cb.set_label("harm (CSS-weighted offences)", fontsize=7)
        cb.ax.tick_params(labelsize=6)
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.01, top=0.99)
    ax.apply_aspect()
    per_in = (xmax - xmin) / (ax.get_position().width * width_in)  # data metres per inch of paper
    if localities:
        dot = 0.06 * per_in
        taken += [(lr["x"] - dot, lr["y"] - dot, lr["x"] + dot, lr["y"] + dot) for lr in localities]
        for lr in sorted(localities, key=lambda r: -r["harm"]):
            w, h = _text_box(lr["locality_id"], 6.5, per_in, pad_pt=2.5)
            box = _free_spot(lr["x"], lr["y"], w, h, dot, taken, (xmin, ymin, xmax, ymax))
            taken.append(box)
            ax.text((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, lr["locality_id"], fontsize=6.5, ha="center",
                    va="center", zorder=7, bbox=dict(fc="white", ec="#555555", lw=0.4, alpha=0.9, pad=0.6))
    # CSP names last, each where it covers no locality label or marker (searched over points
    # inside its own area, nearest its centre first)
    for name, g in units:
        if g is None or g.is_empty:
            continue
        w, h = _text_box(name, 7.5, per_in, pad_pt=2.0)
        spot = _name_spot(g, w, h, taken)
        if spot is None:
            continue
        taken.append((spot[0] - w / 2, spot[1] - h / 2, spot[0] + w / 2, spot[1] + h / 2))
        ax.text(spot[0], spot[1], name, fontsize=7.5, color="#444444", ha="center", va="center", style="italic",
                zorder=6, bbox=dict(fc="white", ec="none", alpha=0.55, pad=0.4))
    _furniture(ax, xmin, xmax, ymin, ymax)
    return _png(fig)


def _text_box(text: str, size_pt: float, per_in: float, pad_pt: float = 2.0) -> tuple[float, float]:
    """Width and height in data units of a one-line label (DejaVu Sans averages ~0.6 em a character)."""
    return ((len(text) * 0.6 * size_pt + 2 * pad_pt) / 72 * per_in, (1.25 * size_pt + 2 * pad_pt) / 72 * per_in)


def _hits(box, taken) -> bool:
    return any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken)


def _free_spot(x, y, w, h, gap, taken, frame):
    """A label box beside a marker at (x, y): above, below, right, left, then further out, the
    first that overlaps nothing already placed and stays in the frame."""
    cands = []
    for k in (1, 2, 3, 4):
        d = gap + (k - 1) * h
        cands += [(x - w / 2, y + d, x + w / 2, y + d + h), (x - w / 2, y - d - h, x + w / 2, y - d),
                  (x + d, y - h / 2, x + d + w, y + h / 2), (x - d - w, y - h / 2, x - d, y + h / 2)]
    inside = [c for c in cands if c[0] >= frame[0] and c[2] <= frame[2] and c[1] >= frame[1] and c[3] <= frame[3]]
    for c in inside:
        if not _hits(c, taken):
            return c
    return (inside or cands)[0]


def _name_spot(geom, w, h, taken):
    """Where an area's name goes: the point inside the area, nearest its representative point,
    whose label box overlaps no label or marker already placed (None when there is no room:
    the name is then left off rather than drawn over a locality)."""
    import shapely

    p = geom.representative_point()
    b = geom.bounds
    xs, ys = np.meshgrid(np.linspace(b[0], b[2], 25), np.linspace(b[1], b[3], 25))
    xs, ys = np.append(xs.ravel(), p.x), np.append(ys.ravel(), p.y)
    ok = shapely.contains_xy(geom, xs, ys)
    xs, ys = xs[ok], ys[ok]
    order = np.argsort((xs - p.x) ** 2 + (ys - p.y) ** 2)
    boxes = [(xs[i] - w / 2, ys[i] - h / 2, xs[i] + w / 2, ys[i] + h / 2) for i in order]
    free = [(i, b) for i, b in zip(order, boxes) if not _hits(b, taken)]
    for i, box in free:  # the whole name inside its own area first
        if shapely.contains_xy(geom, np.array([box[0], box[2]]), np.array([ys[i], ys[i]])).all():
            return xs[i], ys[i]
    return (xs[free[0][0]], ys[free[0][0]]) if free else None


def locality_map(loc_geom, lsoas, wards, venues, repeats, lid: str, width_in=6.3) -> bytes:
    """One locality on its LSOAs (thin) and wards (thick, named), its licensed venues (triangles,
    named) and top repeat locations (numbered circles, named in a key box).

    lsoas: list of geometries; wards: list of (name, geometry); venues: list of (name, x, y);
    repeats: list of (label, x, y, shown count text).

    Labels never cover each other or the map's furniture: repeat numbers first, then venue
    names beside their triangles, then ward names where they fit; a label with no free spot is
    left off (the triangle stays)."""
    b = loc_geom.bounds
    pad = max(b[2] - b[0], b[3] - b[1]) * 0.3 + 150
    bounds = (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
    fig, ax = _figure((width_in, width_in * 0.52))
    xmin, xmax, ymin, ymax = _frame(ax, bounds, 0.0, aspect=0.52 * 0.98 / 0.98)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    ax.apply_aspect()
    per_in = (xmax - xmin) / (ax.get_position().width * width_in)
    W, H = xmax - xmin, ymax - ymin
    from shapely.geometry import box

    view = box(xmin, ymin, xmax, ymax)
    # the furniture's corners: legend (top left), north arrow (top right), scale bar (bottom left)
    taken = [(xmin, ymax - 0.3 * per_in, xmin + 1.25 * per_in, ymax),
             (xmax - 0.1 * W, ymax - 0.2 * H, xmax, ymax),
             (xmin, ymin, xmin + 0.04 * W + _nice(W / 5) + 0.2 * per_in, ymin + 0.05 * H + 0.25 * per_in)]
    _plot_polys(ax, lsoas, facecolor="none", edgecolor="#b0b0b0", linewidths=0.5, linestyles=":")
    _plot_polys(ax, [g for _n, g in wards], facecolor="none", edgecolor="#555555", linewidths=1.1)
    _plot_polys(ax, [loc_geom], facecolor="#fde725", edgecolor="black", linewidths=1.2, alpha=0.55, zorder=2)
    key = []
    r_mark = 0.08 * per_in
    for i, (label, x, y, n_txt) in enumerate(repeats, start=1):
        ax.scatter([x], [y], s=120, c="white", edgecolors="black", linewidths=1.0, zorder=7)
        ax.text(x, y, str(i), fontsize=7, ha="center", va="center", weight="bold", zorder=8)
        taken.append((x - r_mark, y - r_mark, x + r_mark, y + r_mark))
        key.append(f"{i}  {_short(label, 34)} ({n_txt})")
    if key:
        kw, kh = _text_box(max(key, key=len), 6.3, per_in, 4)[0], (len(key) + 1) * 1.25 * 6.3 / 72 * per_in + 0.1 * per_in
        taken.append((xmax - 0.01 * W - kw, ymin + 0.02 * H, xmax, ymin + 0.02 * H + kh))
        ax.text(0.99, 0.02, "Repeat locations\n" + "\n".join(key), transform=ax.transAxes, fontsize=6.3,
                ha="right", va="bottom", zorder=9, bbox=dict(fc="white", ec="#555555", lw=0.5, pad=3))
    if venues:
        ax.scatter([v[1] for v in venues], [v[2] for v in venues], marker="^", s=26, c="#21918c",
                   edgecolors="black", linewidths=0.5, zorder=5, label="licensed venue")
        tri = 0.05 * per_in
        taken += [(x - tri, y - tri, x + tri, y + tri) for _n, x, y in venues]
        for name, x, y in venues:
            text = _short(name, 24)
            w, h = _text_box(text, 6.3, per_in, 1.5)
            spot = next((c for c in ((x + tri, y - h / 2, x + tri + w, y + h / 2),
                                     (x - tri - w, y - h / 2, x - tri, y + h / 2),
                                     (x - w / 2, y + tri, x + w / 2, y + tri + h),
                                     (x - w / 2, y - tri - h, x + w / 2, y - tri))
                         if c[0] >= xmin and c[2] <= xmax and c[1] >= ymin and c[3] <= ymax and not _hits(c, taken)),
                        None)
            if spot is None:
                continue
            taken.append(spot)
            ax.text((spot[0] + spot[2]) / 2, (spot[1] + spot[3]) / 2, text, fontsize=6.3, va="center", ha="center",
                    zorder=6, bbox=dict(fc="white", ec="none", alpha=0.65, pad=0.2))
        ax.legend(loc="upper left", fontsize=6.5, frameon=True, framealpha=0.85)
    for name, g in wards:
        part = g.intersection(view)
        if part.is_empty or part.area < 0.02 * view.area:
            continue
        w, h = _text_box(name, 7.5, per_in, 1.5)
        spot = _name_spot(part, w, h, taken)
        if spot is None:
            continue
        taken.append((spot[0] - w / 2, spot[1] - h / 2, spot[0] + w / 2, spot[1] + h / 2))
        ax.text(spot[0], spot[1], name, fontsize=7.5, color="#333333", ha="center", va="center", style="italic",
                bbox=dict(fc="white", ec="none", alpha=0.6, pad=0.3), zorder=3)
    _furniture(ax, xmin, xmax, ymin, ymax)
    return _png(fig)
