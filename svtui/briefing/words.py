"""Small phrasing helpers: data strings, lists, months, windows, numbers in words."""
from __future__ import annotations

from datetime import date
import calendar
import re

from svtui import disclosure as dc
from svtui.safe import plain
from svtui.briefing.model import _BC, _BO, _DC, _DO


def _d(value: object, max_len: int | None = 160) -> str:
    """A data string, made inert and marked as data."""
    s = plain(value, max_len).replace(_DO, "").replace(_DC, "").replace(_BO, "").replace(_BC, "")
    return f"{_DO}{s}{_DC}"


def _b(text: str) -> str:
    return f"{_BO}{text}{_BC}"


def join_words(items: list[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' (no Oxford comma)."""
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def _cap(s: str) -> str:
    """Capitalise the first visible letter (skipping data/bold markers)."""
    for i, ch in enumerate(s):
        if ch in (_DO, _DC, _BO, _BC):
            continue
        return s[:i] + ch.upper() + s[i + 1:]
    return s


def month_end_text(m: date) -> str:
    return f"{calendar.monthrange(m.year, m.month)[1]} {calendar.month_name[m.month]} {m.year}"


def month_text(m: date) -> str:
    return f"{calendar.month_name[m.month]} {m.year}"


def _num_words(n: int) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if 0 <= n < len(words) else f"{n:,}"


def _ordinal(n: int) -> str:
    if n == 1:
        return ""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} "


def _is_null(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def spoken_name(name: str) -> str:
    """An ONS name as a reader says it: "Herefordshire, County of" -> "Herefordshire"."""
    return re.sub(r",\s*County of$", "", str(name)) or str(name)


def _window_text(start: date | None, end: date | None) -> str:
    if not start or not end:
        return "no months with data"
    if (start.year, start.month) == (end.year, end.month):
        return month_text(start)
    if start.year == end.year:
        return f"{calendar.month_name[start.month]} to {month_text(end)}"
    return f"{month_text(start)} to {month_text(end)}"


def _n_months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _subtitle(parts: list[str], rule: dc.Rule) -> str:
    parts = [plain(p, 160) for p in parts if p] + [f"{rule.level} disclosure"]
    return " · ".join(p[:1].upper() + p[1:] for p in parts)


def _version() -> str:
    from hotspot.session import svtui_version

    return svtui_version()
