"""One way to print a number, for every face (workbench, CLI, briefing, exports' text).

Rules (docs/needs.md; issue 12):

* rounding is half away from zero on the number as written (0.125 -> "13%", 2.5 -> "3"), never
  Python's round-half-to-even, and never the binary float's accident (0.145 -> "15%");
* a share above 0 and under 1% reads "<1%" (0.005 too: "1%" would double it, "0%" deny it), one
  above 99% and under 100% reads ">99%";
* a missing value is "not known", never 0 and never "nan";
* a rate carries its 95% interval: "4.2 per 1,000 (3.9-4.6)";
* a change below a base of ``hotspot.rates.SMALL_BASE`` is given in counts ("from 4 to 7"),
  never as a percentage; with its exact test (``hotspot.rates.change_test``) p >= 0.05 reads
  "no significant change";
* a value held back by disclosure control reads "withheld" (counts: "fewer than 5",
  svtui.disclosure).

Plain strings only, except :func:`change_text` and :func:`cell`, which give Rich ``Text`` for
the workbench (Rich is imported only when they are called). Data strings go through
:mod:`svtui.safe` (the one sanitiser), never through here.
"""
from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from svtui.safe import plain

NOT_KNOWN = "not known"
WITHHELD = "withheld"
DASH = "—"  # a missing value in a narrow table cell (dimmed; the column header says what it is)
SPARK = "▁▂▃▄▅▆▇█"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SIGNIFICANCE = 0.05  # a change with p >= this is "no significant change"


def is_missing(v) -> bool:
    """None, NaN or infinite: nothing to show (and never to be shown as 0)."""
    if v is None:
        return True
    try:
        return not math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def round_half_up(x: float, digits: int = 0) -> float:
    """Round halves away from zero, on the decimal the number prints as (repr), not the binary
    float: 0.145 -> 0.15 and 12.5 -> 13, as a reader rounding by hand would."""
    try:
        d = Decimal(repr(float(x)))
        q = Decimal(1).scaleb(-digits)
        return float(d.quantize(q, rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError, OverflowError):
        return float(x)


def _fixed(x: float, digits: int) -> str:
    v = round_half_up(x, digits)
    if v == 0:
        v = 0.0  # never "-0"
    return f"{v:,.{digits}f}"


def count(n, missing: str = NOT_KNOWN) -> str:
    """12345 -> '12,345'; missing -> 'not known'."""
    if is_missing(n):
        return missing
    return _fixed(float(n), 0)


def num(v, digits: int = 0, missing: str = NOT_KNOWN) -> str:
    """A number with thousands separators and `digits` decimals (half away from zero)."""
    if is_missing(v):
        return missing
    try:
        return _fixed(float(v), digits)
    except (TypeError, ValueError):
        return plain(v, 20)


def pct(v, digits: int = 0, missing: str = NOT_KNOWN) -> str:
    """A share in 0..1 as a percentage: 0.125 -> '13%', 0.005 -> '<1%', 0.998 -> '>99%'."""
    if is_missing(v):
        return missing
    p = float(Decimal(repr(float(v))) * 100)  # 0.145 -> 14.5 exactly, as written (not 14.4999...)
    step = 10.0 ** -digits
    if 0 < p < step:  # 0.5% is not "1%" (twice the truth) nor "0%" (none): under one unit
        return f"<{step:g}%"
    if 100 - step < p < 100:
        return f">{100 - step:g}%"
    if -step < p < 0:
        return f">-{step:g}%"
    return f"{_fixed(p, digits)}%"


def signed_pct(v, digits: int = 0, missing: str = NOT_KNOWN) -> str:
    """A relative change (0.12 = +12%) with its sign: '+12%', '-3%', '0%'."""
    if is_missing(v):
        return missing
    text = pct(abs(float(v)), digits)
    if text in ("0%", f"{0:.{digits}f}%"):
        return text
    return ("+" if float(v) > 0 else "-") + text


def rate(value, lower=None, upper=None, per: int | str = 1000, digits: int = 1, missing: str = NOT_KNOWN) -> str:
    """'4.2 per 1,000 (3.9-4.6)': a rate with its 95% interval (hotspot.rates.rate_ci)."""
    if is_missing(value):
        return missing
    per_txt = per if isinstance(per, str) else f"{int(per):,}"
    text = f"{_fixed(float(value), digits)} per {per_txt}"
    if not is_missing(lower) and not is_missing(upper):
        text += f" ({_fixed(float(lower), digits)}-{_fixed(float(upper), digits)})"
    return text


def interval(lower, upper, digits: int = 1, as_pct: bool = False) -> str:
    """'3.9-4.6' (or '12%-15%' for shares); 'not known' when either end is missing."""
    if is_missing(lower) or is_missing(upper):
        return NOT_KNOWN
    if as_pct:
        return f"{pct(lower, digits)}-{pct(upper, digits)}"
    return f"{_fixed(float(lower), digits)}-{_fixed(float(upper), digits)}"


def change(now, before, p_value=None, missing: str = NOT_KNOWN) -> str:
    """A change between two counts, by the public-health conventions of docs/needs.md.

    'not known' when either count is missing; 'from 4 to 7' below a base of SMALL_BASE (a
    percentage of a handful misleads); 'no significant change (from 52 to 47)' when the exact
    test gives p >= 0.05; otherwise 'increased by 12% (from 100 to 112)'.
    """
    from hotspot.rates import SMALL_BASE

    if is_missing(now) or is_missing(before):
        return missing
    counts = f"from {count(before)} to {count(now)}"
    if float(before) < SMALL_BASE:
        return counts
    if not is_missing(p_value) and float(p_value) >= SIGNIFICANCE:
        return f"no significant change ({counts})"
    rel = (float(now) - float(before)) / float(before)
    if rel == 0:
        return f"unchanged ({counts})"
    return f"{'increased' if rel > 0 else 'decreased'} by {pct(abs(rel))} ({counts})"


def change_text(rel, now=None, before=None, p_value=None):
    """The workbench's coloured change cell (Rich Text): rises red, falls green, and the same
    words as :func:`change` when the counts are known."""
    from rich.text import Text

    if now is not None or before is not None:
        words = change(now, before, p_value)
        if words == NOT_KNOWN:
            return Text(DASH, style="dim")
        small = words.startswith("from ") or words.startswith("no significant")
        style = "" if small else ("bold red" if float(now) > float(before) * 1.1 else "red" if float(now) > float(before)
                                  else "green" if float(now) < float(before) else "")
        return Text(words if small else words.split(" (")[0], style=style)
    if is_missing(rel):
        return Text(DASH, style="dim")
    p = 100.0 * float(rel)
    style = "bold red" if p >= 10 else "red" if p > 0 else "green" if p < 0 else ""
    return Text(signed_pct(rel), style=style)


def withheld_or(shown_value, text: str) -> str:
    """`text`, or 'withheld' when disclosure control held the value back (value None)."""
    return WITHHELD if shown_value is None else text


def sparkline(values, width: int | None = None) -> str:
    """Unicode block sparkline; a missing month is a space (a gap), never the bottom bar (zero)."""
    vals = [None if is_missing(v) else float(v) for v in values]
    if width is not None and len(vals) > width > 0:
        vals = vals[-width:]
    if not vals:
        return ""
    known = [v for v in vals if v is not None]
    if not known:
        return " " * len(vals)
    lo, hi = min(known), max(known)
    k = len(SPARK) - 1
    out = []
    for v in vals:
        if v is None:
            out.append(" ")
        elif hi <= lo:
            out.append(SPARK[0] if hi == 0 else SPARK[3])
        else:
            out.append(SPARK[int(round_half_up((v - lo) / (hi - lo) * k))])
    return "".join(out)


def month(d) -> str:
    if d is None:
        return DASH
    if isinstance(d, date):
        return d.strftime("%b %Y")
    return plain(d, 20)


def month_runs(months, most: int | None = None) -> list[str]:
    """'YYYY-MM' months as runs, in order: ['2022-05 to 2023-12', '2024-02'] (at most `most`)."""
    idx = sorted({int(str(m)[:4]) * 12 + int(str(m)[5:7]) - 1 for m in months
                  if len(str(m)) >= 7 and str(m)[:4].isdigit() and str(m)[5:7].isdigit()})
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    ym = lambda i: f"{i // 12}-{i % 12 + 1:02d}"  # noqa: E731
    out = [ym(a) if a == b else f"{ym(a)} to {ym(b)}" for a, b in runs]
    return out if most is None else out[:most]


def window(w) -> str:
    if not w:
        return "no incidents"
    a, b = w
    return f"{month(a)} – {month(b)}"


def weekday(i) -> str:
    if is_missing(i):
        return DASH
    return WEEKDAYS[(int(i) - 1) % 7]


def hours(h) -> str:
    if is_missing(h):
        return DASH
    h = int(h)
    return f"{h:02d}:00–{(h + 1) % 24:02d}:00"


def cell(v, max_len: int = 60):
    """Any data value as an inert Rich Text cell (DataTable would read a str as markup)."""
    from rich.text import Text

    if isinstance(v, Text):
        return v
    if is_missing(v):
        return Text(DASH, style="dim")
    if isinstance(v, bool):
        return Text("yes" if v else "no")
    if isinstance(v, float):
        return Text(num(v, 2) if abs(v) < 100 else num(v, 0), justify="right")
    if isinstance(v, int):
        return Text(count(v), justify="right")
    if isinstance(v, (list, tuple)):
        return Text(plain(", ".join(plain(x, 60) for x in v if x is not None), max_len))
    if isinstance(v, date):
        return Text(v.isoformat())
    return Text(plain(v, max_len))


def value(v, digits: int = 2) -> str:
    """Any value as plain text for a CLI table or an export's prose (missing -> 'not known')."""
    if is_missing(v):
        return NOT_KNOWN
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return count(v)
    if isinstance(v, float):
        return num(v, digits) if abs(v) < 100 else num(v, 0)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return ", ".join(plain(x, 60) for x in v if x is not None)
    return plain(v, 200)
