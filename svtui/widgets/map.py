"""A terminal map: area boundaries, hotspot polygons, Gi* cells, incidents and venues.

The canvas is drawn in Unicode braille (2 x 4 dots per character cell, so dots are square on a
terminal whose cells are twice as tall as wide). Everything is rasterised with NumPy: polygon
edges are clipped (vectorised Liang-Barsky) and sampled all at once, points are binned with
``np.bitwise_or.at``, shaded cells are looked up by array indexing. There is no Python loop
per point or per edge; the only loops are over layers, hotspot polygons and output runs.

Colour: shading is a background colour; lines and points are braille dots in a foreground
colour (one per character cell: the layer with the highest priority wins). Under NO_COLOR, and
in 16 colours, the shading is also drawn as characters (hot ░ ▒ ▓, cold - = ≡) so the classes
still read.

Keys (when the map has focus): arrows pan, + and - zoom, 0 fits, g switches the shading
between Gi* class and hotspot harm, i and p hide or show incidents and venues (places).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

# Braille dot bits by [row % 4, col % 2] within a character cell.
BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)
BRAILLE_BASE = 0x2800

# Foreground priorities (higher wins within a character cell).
FG_NONE, FG_LSOA, FG_AREA, FG_INCIDENT, FG_VENUE, FG_HOTSPOT, FG_SELECTED, FG_LABEL = range(8)
FG_PLACE = FG_AREA  # ward and town names: the boundary colour, so they read as base map, not as data
FG_STYLES = {
    FG_NONE: Style(),
    FG_LSOA: Style(color="color(240)"),
    FG_AREA: Style(color="color(250)"),
    FG_INCIDENT: Style(color="color(214)"),
    FG_VENUE: Style(color="color(45)"),
    FG_HOTSPOT: Style(color="color(226)"),
    FG_SELECTED: Style(color="color(231)", bold=True),
    FG_LABEL: Style(color="color(231)", bold=True),
}
# Background shading classes: Gi* bins -3..3 and hotspot harm tiers 1..3 (stored as 11..13).
BG_STYLES = {
    0: None,
    1: "color(52)",
    2: "color(88)",
    3: "color(160)",
    -1: "color(17)",
    -2: "color(18)",
    -3: "color(20)",
    11: "color(58)",
    12: "color(94)",
    13: "color(130)",
}
# Without colour (NO_COLOR, or 16 colours where the classes collapse): hot ░▒▓, cold - = ≡.
SHADE_CHARS = {1: "░", 2: "▒", 3: "▓", -1: "-", -2: "=", -3: "≡", 11: "░", 12: "▒", 13: "▓"}
GI_LEGEND = [(3, "99%"), (2, "95%"), (1, "90%")]
COLD_LEGEND = [(-3, "cold 99%")]


# --------------------------------------------------------------------------------------------
# Geometry helpers (vectorised)
# --------------------------------------------------------------------------------------------


def boundary_segments(geoms) -> np.ndarray:
    """All polygon edges of `geoms` (shapely geometries) as an (m, 4) array x0, y0, x1, y1."""
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return np.zeros((0, 4))
    lines = shapely.get_parts(shapely.boundary(geoms[~shapely.is_empty(geoms)]))
    if len(lines) == 0:
        return np.zeros((0, 4))
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    if len(coords) < 2:
        return np.zeros((0, 4))
    same = idx[1:] == idx[:-1]
    return np.column_stack([coords[:-1][same], coords[1:][same]])


def clip_segments(seg: np.ndarray, xmin: float, ymin: float, xmax: float, ymax: float):
    """Clip (m, 4) segments to a box (Liang-Barsky, vectorised). Returns the kept, clipped rows."""
    if len(seg) == 0:
        return seg
    x0, y0, x1, y1 = seg.T
    dx, dy = x1 - x0, y1 - y0
    p = np.stack([-dx, dx, -dy, dy])
    q = np.stack([x0 - xmin, xmax - x0, y0 - ymin, ymax - y0])
    parallel_out = ((p == 0) & (q < 0)).any(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = q / p
    t0 = np.max(np.where(p < 0, r, 0.0), axis=0, initial=0.0)
    t0 = np.maximum(t0, 0.0)
    t1 = np.min(np.where(p > 0, r, 1.0), axis=0, initial=1.0)
    t1 = np.minimum(t1, 1.0)
    keep = ~parallel_out & (t0 <= t1)
    out = np.column_stack([x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy])
    return out[keep]


def sample_segments(seg: np.ndarray, max_samples: int = 2_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Points every <= 1 unit along each (m, 4) segment (in dot units), all at once."""
    if len(seg) == 0:
        return np.zeros(0), np.zeros(0)
    dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
    n = np.ceil(np.maximum(np.abs(dx), np.abs(dy))).astype(np.int64) + 1
    total = int(n.sum())
    if total > max_samples:  # a pathological view: thin the samples rather than stall
        n = np.maximum(2, (n * (max_samples / total)).astype(np.int64))
        total = int(n.sum())
    which = np.repeat(np.arange(len(seg)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    t = (np.arange(total) - start) / np.maximum(n[which] - 1, 1)
    return seg[which, 0] + t * dx[which], seg[which, 1] + t * dy[which]


def nice_distance(max_m: float) -> float:
    """The largest 1, 2 or 5 x 10^k metres not above `max_m`."""
    if max_m <= 0 or not math.isfinite(max_m):
        return 0.0
    k = 10 ** math.floor(math.log10(max_m))
    for f in (5, 2, 1):
        if f * k <= max_m:
            return f * k
    return k


def format_distance(m: float) -> str:
    if m >= 1000:
        km = m / 1000
        return f"{km:g} km"
    return f"{m:g} m"


# --------------------------------------------------------------------------------------------
# The scene and the viewport
# --------------------------------------------------------------------------------------------


@dataclass
class MapScene:
    """What to draw, in British National Grid metres. Built once per analysis."""

    lsoa_segments: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    area_segments: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    hotspots: list = field(default_factory=list)  # (id, label, shapely geometry, harm tier 1..3)
    cells_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    cells_bin: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    cell_size: float = 0.0
    incidents_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    venues_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    bounds: tuple[float, float, float, float] | None = None
    caption: str = ""
    # Ward or town names: (name, x, y, width_m) at a representative point inside the area;
    # drawn only when the area is at least as wide on screen as its name (see rasterise).
    places: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self._hotspot_segments: dict = {}
        self._cell_grid = None

    def extent(self) -> tuple[float, float, float, float]:
        if self.bounds is not None:
            return self.bounds
        parts = []
        for seg in (self.area_segments, self.lsoa_segments):
            if len(seg):
                parts.append(np.concatenate([seg[:, [0, 1]], seg[:, [2, 3]]]))
        for xy in (self.incidents_xy, self.cells_xy):
            if len(xy):
                parts.append(xy)
        if not parts:
            return (0.0, 0.0, 1000.0, 1000.0)
        allxy = np.concatenate(parts)
        ok = np.isfinite(allxy).all(axis=1)
        if not ok.any():
            return (0.0, 0.0, 1000.0, 1000.0)
        lo, hi = allxy[ok].min(axis=0), allxy[ok].max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))

    def hotspot_segments(self, i: int) -> np.ndarray:
        if i not in self._hotspot_segments:
            self._hotspot_segments[i] = boundary_segments([self.hotspots[i][2]])
        return self._hotspot_segments[i]

    def cell_grid(self):
        """The Gi* bins as a dense 2-D array on the analysis grid (built once)."""
        if self._cell_grid is None:
            if len(self.cells_xy) == 0 or self.cell_size <= 0:
                self._cell_grid = (0.0, 0.0, np.zeros((0, 0), dtype=np.int8))
            else:
                s = self.cell_size
                x0 = float(self.cells_xy[:, 0].min()) - s / 2
                y0 = float(self.cells_xy[:, 1].min()) - s / 2
                ci = np.floor((self.cells_xy[:, 0] - x0) / s).astype(np.int64)
                ri = np.floor((self.cells_xy[:, 1] - y0) / s).astype(np.int64)
                g = np.zeros((ri.max() + 1, ci.max() + 1), dtype=np.int8)
                g[ri, ci] = self.cells_bin
                self._cell_grid = (x0, y0, g)
        return self._cell_grid


@dataclass(frozen=True)
class View:
    """The centre of the view (BNG metres) and its scale in metres per braille dot."""

    cx: float
    cy: float
    m_per_dot: float

    def zoomed(self, factor: float) -> "View":
        return View(self.cx, self.cy, max(self.m_per_dot / factor, 0.5))

    def panned(self, fx: float, fy: float, cols: int, rows: int) -> "View":
        return View(self.cx + fx * cols * 2 * self.m_per_dot, self.cy + fy * rows * 4 * self.m_per_dot, self.m_per_dot)


def fit_view(bounds: tuple[float, float, float, float], cols: int, rows: int, margin: float = 1.08) -> View:
    minx, miny, maxx, maxy = bounds
    w, h = max(maxx - minx, 50.0), max(maxy - miny, 50.0)
    s = max(w / max(cols * 2, 1), h / max(rows * 4, 1)) * margin
    return View((minx + maxx) / 2, (miny + maxy) / 2, max(s, 0.5))


@dataclass
class Canvas:
    """A rasterised map: per character cell a braille bit pattern, fg layer, bg class, label."""

    bits: np.ndarray
    fg: np.ndarray
    bg: np.ndarray
    label: np.ndarray  # codepoint or 0

    @property
    def shape(self) -> tuple[int, int]:
        return self.bits.shape

    def chars(self, no_color: bool = False) -> np.ndarray:
        """Unicode codepoints per cell."""
        cp = (BRAILLE_BASE + self.bits.astype(np.uint32)).astype(np.uint32)
        empty = self.bits == 0
        cp[empty] = ord(" ")
        if no_color:
            for cls, ch in SHADE_CHARS.items():
                cp[empty & (self.bg == cls)] = ord(ch)
        has_label = self.label != 0
        cp[has_label] = self.label[has_label]
        return cp


def rasterise(
    scene: MapScene,
    view: View,
    cols: int,
    rows: int,
    *,
    shading: str = "gi",
    show_incidents: bool = True,
    show_venues: bool = True,
    selected: int | None = None,
    labels: bool = True,
    highlight: np.ndarray | None = None,
    lsoa_max_width_m: float = 40_000.0,
) -> Canvas:
    """Draw `scene` seen through `view` onto a cols x rows character canvas."""
    W, H = cols * 2, rows * 4
    s = view.m_per_dot
    left = view.cx - W * s / 2
    top = view.cy + H * s / 2
    bits = np.zeros((rows, cols), dtype=np.uint8)
    fg = np.zeros((rows, cols), dtype=np.int8)
    bg = np.zeros((rows, cols), dtype=np.int8)
    label = np.zeros((rows, cols), dtype=np.uint32)
    if cols <= 0 or rows <= 0:
        return Canvas(bits, fg, bg, label)

    def to_dots_seg(seg: np.ndarray) -> np.ndarray:
        out = np.empty_like(seg)
        out[:, 0] = (seg[:, 0] - left) / s
        out[:, 2] = (seg[:, 2] - left) / s
        out[:, 1] = (top - seg[:, 1]) / s
        out[:, 3] = (top - seg[:, 3]) / s
        return out

    def plot(i: np.ndarray, j: np.ndarray, prio: int) -> None:
        i = np.floor(i).astype(np.int64)
        j = np.floor(j).astype(np.int64)
        ok = (i >= 0) & (i < W) & (j >= 0) & (j < H)
        i, j = i[ok], j[ok]
        if len(i) == 0:
            return
        r, c = j // 4, i // 2
        np.bitwise_or.at(bits, (r, c), BRAILLE_BITS[j % 4, i % 2])
        np.maximum.at(fg, (r, c), prio)

    def draw_segments(seg: np.ndarray, prio: int) -> None:
        if len(seg) == 0:
            return
        d = clip_segments(to_dots_seg(seg), 0.0, 0.0, W - 1e-6, H - 1e-6)
        i, j = sample_segments(d)
        plot(i, j, prio)

    def draw_points(xy: np.ndarray, prio: int) -> None:
        if len(xy) == 0:
            return
        ok = np.isfinite(xy).all(axis=1)
        plot((xy[ok, 0] - left) / s, (top - xy[ok, 1]) / s, prio)

    # Character-cell centres in BNG, for area lookups.
    ccx = left + (np.arange(cols) + 0.5) * 2 * s
    ccy = top - (np.arange(rows) + 0.5) * 4 * s

    # Shading.
    if shading == "gi" and len(scene.cells_xy):
        x0, y0, g = scene.cell_grid()
        if g.size:
            gc = np.floor((ccx - x0) / scene.cell_size).astype(np.int64)
            gr = np.floor((ccy - y0) / scene.cell_size).astype(np.int64)
            okc = (gc >= 0) & (gc < g.shape[1])
            okr = (gr >= 0) & (gr < g.shape[0])
            sub = np.zeros((rows, cols), dtype=np.int8)
            sub[np.ix_(okr, okc)] = g[np.ix_(gr[okr], gc[okc])]
            bg = sub
            # Zoomed out, several analysis cells fall in one character cell: keep the strongest.
            if scene.cell_size < 2 * s * 2:
                ci = np.floor((scene.cells_xy[:, 0] - left) / (2 * s)).astype(np.int64)
                ri = np.floor((top - scene.cells_xy[:, 1]) / (4 * s)).astype(np.int64)
                ok = (ci >= 0) & (ci < cols) & (ri >= 0) & (ri < rows) & (scene.cells_bin != 0)
                strength = np.zeros((rows, cols), dtype=np.int8)
                np.maximum.at(strength, (ri[ok], ci[ok]), np.abs(scene.cells_bin[ok]).astype(np.int8))
                sign = np.zeros((rows, cols), dtype=np.int8)
                np.maximum.at(sign, (ri[ok], ci[ok]), (scene.cells_bin[ok] > 0).astype(np.int8))
                splat = np.where(sign > 0, strength, -strength).astype(np.int8)
                bg = np.where(np.abs(splat) > np.abs(bg), splat, bg).astype(np.int8)
    elif shading == "harm" and scene.hotspots:
        import shapely

        for geom_i in range(len(scene.hotspots)):
            _id, _lab, geom, tier = scene.hotspots[geom_i]
            if geom is None:
                continue
            minx, miny, maxx, maxy = geom.bounds
            cmask = (ccx >= minx - s) & (ccx <= maxx + s)
            rmask = (ccy >= miny - s) & (ccy <= maxy + s)
            if not cmask.any() or not rmask.any():
                continue
            cidx, ridx = np.flatnonzero(cmask), np.flatnonzero(rmask)
            gx, gy = np.meshgrid(ccx[cidx], ccy[ridx])
            inside = shapely.contains_xy(geom, gx, gy)
            code = 10 + int(tier)
            rr, cc = np.nonzero(inside)
            bg[ridx[rr], cidx[cc]] = code
            # A polygon smaller than a character cell still shows at its centre.
            if not inside.any():
                c = geom.centroid
                ci = int((c.x - left) // (2 * s))
                ri = int((top - c.y) // (4 * s))
                if 0 <= ci < cols and 0 <= ri < rows:
                    bg[ri, ci] = code

    # Lines and points, lowest priority first (maximum.at keeps the highest).
    if W * s <= lsoa_max_width_m:  # LSOA lines only where they do not fill the view
        draw_segments(scene.lsoa_segments, FG_LSOA)
    draw_segments(scene.area_segments, FG_AREA)
    if show_incidents:
        draw_points(scene.incidents_xy, FG_INCIDENT)
    if show_venues:
        draw_points(scene.venues_xy, FG_VENUE)
    for i in range(len(scene.hotspots)):
        draw_segments(scene.hotspot_segments(i), FG_SELECTED if i == selected else FG_HOTSPOT)
    if highlight is not None:
        draw_segments(highlight, FG_SELECTED)

    if labels:
        # Draw the selected label last so it is never hidden; skip labels that would touch another.
        order = [i for i in range(len(scene.hotspots)) if i != selected] + ([selected] if selected is not None and 0 <= selected < len(scene.hotspots) else [])
        for i in order:
            _id, lab, geom, _tier = scene.hotspots[i]
            if geom is None or not lab:
                continue
            c = geom.centroid
            ci = int((c.x - left) // (2 * s))
            ri = int((top - c.y) // (4 * s))
            lab = str(lab)
            for dr in (0, -1, 1):
                r = ri + dr
                a, b = ci - 1, ci + len(lab) + 1
                if not (0 <= r < rows and 0 <= ci and ci + len(lab) <= cols):
                    continue
                if (label[r, max(a, 0):min(b, cols)] != 0).any() and i != selected:
                    continue
                for k, ch in enumerate(lab):
                    label[r, ci + k] = ord(ch)
                    fg[r, ci + k] = FG_SELECTED if i == selected else FG_LABEL
                break
        _place_labels(scene.places, label, fg, left, top, s, cols, rows)
    return Canvas(bits, fg, bg, label)


def _place_labels(places, label: np.ndarray, fg: np.ndarray, left: float, top: float, s: float,
                  cols: int, rows: int) -> None:
    """Ward or town names where they fit: the area is at least as wide on screen as its name plus
    a space either side, the name lies wholly in the view, and it touches no other label
    (hotspot labels are drawn first and win). Widest areas are named first, so zoomed out the
    big wards or towns are named and zooming in adds the small ones."""
    if not places:
        return
    cell_m = 2 * s  # metres per character column
    for name, x, y, width_m in sorted(places, key=lambda p: -p[3]):
        text = "".join(ch for ch in str(name) if ch.isprintable())[:40]
        if not text or width_m / cell_m < len(text) + 2:
            continue
        ci = int((x - left) // cell_m) - len(text) // 2
        ri = int((top - y) // (4 * s))
        if not (0 <= ri < rows and 0 <= ci and ci + len(text) <= cols):
            continue
        a, b = max(ci - 1, 0), min(ci + len(text) + 1, cols)
        if (label[max(ri - 1, 0):min(ri + 2, rows), a:b] != 0).any():
            continue
        label[ri, ci:ci + len(text)] = [ord(ch) for ch in text]
        fg[ri, ci:ci + len(text)] = FG_PLACE


def place_labels(areas, level: str = "ward") -> list:
    """(name, x, y, width_m) for each area of `level` (ward by default; geodata.areas.level_polygons),
    at a point inside it, for MapScene.places. Empty when the study has no such level."""
    if areas is None:
        return []
    try:
        from geodata.areas import level_polygons

        g = level_polygons(areas, level)
    except Exception:  # noqa: BLE001 - no codes at this level: no names
        return []
    if len(g) == 0:
        return []
    pts = g.geometry.representative_point()
    b = g.geometry.bounds
    names = g[f"{level}_name"].fillna("").astype(str).tolist()
    return [(n, float(px), float(py), float(w)) for n, px, py, w in
            zip(names, pts.x.values, pts.y.values, (b["maxx"] - b["minx"]).values) if n]


def _style_for(fg: int, bg: int, no_color: bool) -> Style:
    base = FG_STYLES.get(fg, Style())
    if no_color:
        return Style(bold=base.bold or fg >= FG_HOTSPOT)
    colour = BG_STYLES.get(bg)
    return base + Style(bgcolor=colour) if colour else base


def canvas_strips(canvas: Canvas, no_color: bool = False, base: Style | None = None, shade: bool | None = None) -> list[Strip]:
    """One Strip per row, with one Segment per run of identical style (found with NumPy).

    `base` is the widget's own style (its background), under every cell's style. `shade` draws
    ░▒▓ in shaded cells (always under NO_COLOR; also in 16 colours, where the hot classes would
    otherwise collapse into one red).
    """
    rows, cols = canvas.shape
    chars = canvas.chars(no_color if shade is None else shade)
    key = canvas.fg.astype(np.int32) * 64 + (canvas.bg.astype(np.int32) + 16)
    strips = []
    cache: dict[int, Style] = {}
    for r in range(rows):
        text = chars[r].astype("<u4").tobytes().decode("utf-32-le")
        k = key[r]
        cuts = np.flatnonzero(k[1:] != k[:-1]) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [cols]])
        segs = []
        for a, b in zip(starts.tolist(), ends.tolist()):
            kk = int(k[a])
            st = cache.get(kk)
            if st is None:
                st = cache[kk] = _style_for(kk // 64, kk % 64 - 16, no_color)
                if base is not None:
                    st = cache[kk] = base + st
            segs.append(Segment(text[a:b], st))
        strips.append(Strip(segs, cols))
    return strips


# --------------------------------------------------------------------------------------------
# The widget
# --------------------------------------------------------------------------------------------


class MapView(Widget, can_focus=True):
    """A pannable, zoomable braille map that fits whatever space it is given."""

    DEFAULT_CSS = """
    MapView { height: 1fr; min-height: 6; background: $surface; }
    MapView:focus { background: $surface-lighten-1; }
    """

    BINDINGS = [
        Binding("left", "pan(-1, 0)", "Pan", show=False),
        Binding("right", "pan(1, 0)", "Pan", show=False),
        Binding("up", "pan(0, 1)", "Pan", show=False),
        Binding("down", "pan(0, -1)", "Pan", show=False),
        Binding("plus,equals_sign", "zoom(2)", "Zoom in", key_display="+", tooltip="Zoom in"),
        Binding("minus,underscore", "zoom(0.5)", "Zoom out", key_display="-", tooltip="Zoom out"),
        Binding("0", "fit", "Fit map", tooltip="Fit the map to the selection; again for the whole study"),
        Binding("g", "toggle_shading", "Shading", tooltip="Shade by Gi* hot/cold class or by hotspot harm"),
        Binding("i", "toggle('incidents')", "Incidents", show=False),
        Binding("p", "toggle('venues')", "Venues", show=False),
    ]

    shading: reactive[str] = reactive("gi")
    show_incidents: reactive[bool] = reactive(True)
    show_venues: reactive[bool] = reactive(True)

    class Moved(Message):
        def __init__(self, view: View) -> None:
            super().__init__()
            self.view = view

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.scene: MapScene | None = None
        self.view: View | None = None
        self.selected: int | None = None
        self.highlight: np.ndarray | None = None
        self._focus_bounds = None
        self._user_moved = False
        self._strips: list[Strip] | None = None
        self._strips_key = None
        self.empty_message = "No map yet."

    # -- public API ------------------------------------------------------------------------
    def set_scene(self, scene: MapScene | None, focus_bounds=None, keep_view: bool = False) -> None:
        self.scene = scene
        self.selected = None
        if not keep_view or self.view is None:
            self._focus_bounds = focus_bounds
            self.view = None
            self._user_moved = False
        self._invalidate()

    def select(self, index: int | None, zoom: bool = True) -> None:
        """Highlight hotspot `index` of the scene and (optionally) zoom to it."""
        self.selected = index
        if zoom and self.scene is not None and index is not None and 0 <= index < len(self.scene.hotspots):
            geom = self.scene.hotspots[index][2]
            if geom is not None:
                minx, miny, maxx, maxy = geom.bounds
                pad = max(maxx - minx, maxy - miny, 400.0) * 1.5
                cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
                # Fitted when drawn, at whatever size the map has then.
                self._focus_bounds = (cx - pad, cy - pad, cx + pad, cy + pad)
                self.view = None
                self._user_moved = False
        self._invalidate()

    def set_highlight(self, segments: np.ndarray | None, bounds=None) -> None:
        """Outline an area (segments in BNG) and zoom to `bounds` if given."""
        self.highlight = segments
        if bounds is not None:
            self.zoom_to(bounds)
        self._invalidate()

    def zoom_to(self, bounds) -> None:
        self._focus_bounds = bounds
        self.view = None
        self._user_moved = False
        self._invalidate()

    # -- actions -----------------------------------------------------------------------------
    def action_pan(self, fx: float, fy: float) -> None:
        if self.view is None:
            return
        cols, rows = self._canvas_size()
        self._set_view(self.view.panned(fx * 0.25, fy * 0.25, cols, rows))

    def action_zoom(self, factor: float) -> None:
        if self.view is not None:
            self._set_view(self.view.zoomed(factor))

    def action_fit(self) -> None:
        """Fit to the selection; pressed again (or with nothing selected), the whole study."""
        if not self._user_moved:
            self._focus_bounds = None
        self.view = None
        self._user_moved = False
        self._invalidate()

    def action_toggle_shading(self) -> None:
        self.shading = "harm" if self.shading == "gi" else "gi"

    def action_toggle(self, what: str) -> None:
        if what == "incidents":
            self.show_incidents = not self.show_incidents
        elif what == "venues":
            self.show_venues = not self.show_venues

    def watch_shading(self) -> None:
        self._invalidate()

    def watch_show_incidents(self) -> None:
        self._invalidate()

    def watch_show_venues(self) -> None:
        self._invalidate()

    # -- mouse (optional) ----------------------------------------------------------------------
    def on_mouse_scroll_up(self, event) -> None:
        self.action_zoom(1.5)
        event.stop()

    def on_mouse_scroll_down(self, event) -> None:
        self.action_zoom(1 / 1.5)
        event.stop()

    def on_click(self, event) -> None:
        if self.view is None:
            return
        cols, rows = self._canvas_size()
        if event.y >= rows:
            return
        s = self.view.m_per_dot
        dx = (event.x + 0.5 - cols / 2) * 2 * s
        dy = (rows / 2 - event.y - 0.5) * 4 * s
        self._set_view(View(self.view.cx + dx, self.view.cy + dy, s))

    # -- rendering ---------------------------------------------------------------------------
    def _canvas_size(self) -> tuple[int, int]:
        w, h = self.size.width, self.size.height
        return max(w, 1), max(h - 1, 1)  # the last line holds the legend and scale bar

    def _set_view(self, view: View) -> None:
        self.view = view
        self._user_moved = True
        self._invalidate()
        self.post_message(self.Moved(view))

    def _invalidate(self) -> None:
        self._strips = None
        self.refresh()

    def on_resize(self) -> None:
        if not self._user_moved:
            self.view = None  # refit to the selection (or everything) at the new size
        self._invalidate()

    def _no_color(self) -> bool:
        try:
            return bool(getattr(self.app, "no_color", False))
        except Exception:  # noqa: BLE001  (no app: unit tests)
            return False

    def _few_colors(self) -> bool:
        try:
            return str(getattr(self.app.console, "color_system", "")) in ("standard", "windows")
        except Exception:  # noqa: BLE001
            return False

    def _build(self) -> list[Strip]:
        cols, rows = self._canvas_size()
        if self.scene is None:
            return []
        if self.view is None:
            bounds = self._focus_bounds or self.scene.extent()
            self.view = fit_view(bounds, cols, rows)
            self._strips_key = None
        canvas = rasterise(
            self.scene,
            self.view,
            cols,
            rows,
            shading=self.shading,
            show_incidents=self.show_incidents,
            show_venues=self.show_venues,
            selected=self.selected,
            highlight=self.highlight,
        )
        base = self.rich_style
        strips = canvas_strips(canvas, self._no_color(), base, shade=self._no_color() or self._few_colors())
        strips.append(self._legend_strip(cols).apply_style(base))
        return strips

    def _legend_strip(self, cols: int) -> Strip:
        no_color = self._no_color()
        segs: list[Segment] = []
        dim = Style(dim=True)

        shade = no_color or self._few_colors()

        def key(cls: int, text: str) -> None:
            ch = SHADE_CHARS[cls] if shade else " "
            st = Style() if no_color else Style(bgcolor=BG_STYLES[cls])
            segs.append(Segment(ch * 2, st))
            segs.append(Segment(f"{text} ", dim))

        if self.shading == "gi":
            segs.append(Segment("Gi* hot ", dim))
            for cls, t in GI_LEGEND:
                key(cls, t)
            key(-3, "cold")
        else:
            segs.append(Segment("hotspot harm ", dim))
            for cls, t in ((13, "high"), (12, "mid"), (11, "low")):
                key(cls, t)
        if self.show_incidents:
            segs.append(Segment("⠂", FG_STYLES[FG_INCIDENT] if not no_color else Style()))
            segs.append(Segment("incident ", dim))
        if self.show_venues:
            segs.append(Segment("⠂", FG_STYLES[FG_VENUE] if not no_color else Style()))
            segs.append(Segment("venue ", dim))
        left_len = sum(len(s.text) for s in segs)
        # Scale bar: a nice distance that fits in about a sixth of the width.
        bar = ""
        if self.view is not None:
            m_per_col = self.view.m_per_dot * 2
            d = nice_distance(m_per_col * max(4, cols // 6))
            if d > 0:
                n = max(1, round(d / m_per_col))
                bar = "├" + "─" * max(n - 2, 0) + "┤ " + format_distance(d) + " N↑"
        room = cols - left_len
        if bar and room >= len(bar) + 1:
            segs.append(Segment(" " * (room - len(bar))))
            segs.append(Segment(bar, Style(bold=True)))
        elif bar and cols >= len(bar):
            segs = [Segment(bar.rjust(cols), Style(bold=True))]
        return Strip(segs).adjust_cell_length(cols)

    def _key(self):
        return (self.size, self.view, self.shading, self.show_incidents, self.show_venues, self.selected, id(self.scene), id(self.highlight), self.has_focus)

    def render_line(self, y: int) -> Strip:
        if self._strips is None or self._strips_key != self._key():
            self._strips = self._build()
            self._strips_key = self._key()
        width = self.size.width
        if self.scene is None:
            if y == self.size.height // 2:
                return Strip([Segment(self.empty_message.center(width)[:width], self.rich_style + Style(dim=True))], width)
            return Strip.blank(width, self.rich_style)
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(container.height, 6)
