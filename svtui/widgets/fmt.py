"""Small display helpers: numbers, shares, sparklines. Presentation only (no statistics)."""
from __future__ import annotations

import math
from datetime import date

from rich.text import Text

from svtui.safe import plain

SPARK = "▁▂▃▄▅▆▇█"
DASH = "—"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v))


def num(v, digits: int = 0) -> str:
    if is_missing(v):
        return DASH
    try:
        return f"{float(v):,.{digits}f}"
    except (TypeError, ValueError):
        return plain(v, 20)


def pct(v, digits: int = 0) -> str:
    """A share in 0..1 as a percentage; missing (not known) as a dash."""
    if is_missing(v):
        return DASH
    p = 100.0 * float(v)
    if 0 < p < 1 and digits == 0:
        return "<1%"
    return f"{p:.{digits}f}%"


def change(v) -> Text:
    """A relative change (0.12 = +12%), coloured: rises red, falls green."""
    if is_missing(v):
        return Text(DASH, style="dim")
    p = 100.0 * float(v)
    style = "bold red" if p >= 10 else "red" if p > 0 else "green" if p < 0 else ""
    return Text(f"{p:+.0f}%", style=style)


def sparkline(values, width: int | None = None) -> str:
    """Unicode block sparkline of a sequence of numbers (scaled to its own min..max)."""
    vals = [0.0 if is_missing(v) else float(v) for v in values]
    if width is not None and len(vals) > width > 0:
        # keep the most recent values
        vals = vals[-width:]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi <= lo:
        return SPARK[0] * len(vals) if hi == 0 else SPARK[3] * len(vals)
    k = len(SPARK) - 1
    return "".join(SPARK[int(round((v - lo) / (hi - lo) * k))] for v in vals)


def month(d) -> str:
    if d is None:
        return DASH
    if isinstance(d, date):
        return d.strftime("%b %Y")
    return plain(d, 20)


def window(w) -> str:
    if not w:
        return "no incidents"
    a, b = w
    return f"{month(a)} – {month(b)}"


def weekday(i) -> str:
    if is_missing(i):
        return DASH
    i = int(i)
    return WEEKDAYS[(i - 1) % 7]


def hours(h) -> str:
    if is_missing(h):
        return DASH
    h = int(h)
    return f"{h:02d}:00–{(h + 1) % 24:02d}:00"


def cell(v, max_len: int = 60) -> Text:
    """Any data value as an inert Text cell (DataTable would read a str as markup)."""
    if isinstance(v, Text):
        return v
    if is_missing(v):
        return Text(DASH, style="dim")
    if isinstance(v, bool):
        return Text("yes" if v else "no")
    if isinstance(v, float):
        return Text(f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}", justify="right")
    if isinstance(v, int):
        return Text(f"{v:,}", justify="right")
    if isinstance(v, (list, tuple)):
        return Text(plain(", ".join(plain(x, 60) for x in v if x is not None), max_len))
    if isinstance(v, date):
        return Text(v.isoformat())
    return Text(plain(v, max_len))
