"""Disclosure control for figures that leave the building: pure functions, no I/O.

Three levels, chosen per briefing or export:

``none``
    Internal use: every count and percentage as computed.
``partner`` (the default)
    For partners under an information-sharing agreement. A count of 1 to 4 is written
    "fewer than 5". A percentage is withheld when it would let a reader work such a count out:
    when its numerator, its denominator, or the rest of the denominator (denominator minus
    numerator) is 1 to 4. Rates and changes built on such a count are withheld too.
``public``
    For papers that may be published. As ``partner``, and every count of 5 or more is rounded to
    the nearest 5; percentages are whole numbers and are withheld below 10 (numerator,
    denominator or rest); localities with fewer than 10 offences are left out altogether.

Zero is never suppressed: "no offences" discloses nothing about a person.

Every function returns a :class:`Shown`: the text to print, the value a reader sees (``None``
when withheld), and whether anything was held back, so callers (the briefing, exports, the
workbench) can record what they showed and say in the data notes which rule applied.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from svtui import fmt

LEVELS = ("none", "partner", "public")
DEFAULT_LEVEL = "partner"


@dataclass(frozen=True)
class Rule:
    """The numbers behind a disclosure level."""

    level: str
    small_max: int  # counts 1..small_max are written "fewer than small_max+1"
    round_to: int  # counts of small_max+1 or more are rounded to a multiple of this
    share_min: int  # a percentage needs numerator, denominator and rest of 0 or >= share_min
    locality_min: int  # localities with fewer offences are left out

    @property
    def threshold(self) -> int:
        return self.small_max + 1

    def describe(self) -> str:
        """One sentence for a briefing's data notes."""
        if self.level == "none":
            return (
                "Disclosure control: none (internal use). Counts and percentages are shown as "
                "computed, including counts of 1 to 4; do not share this text outside the "
                "analytical team."
            )
        if self.level == "partner":
            return (
                f"Disclosure control: partner. Counts of 1 to {self.small_max} are shown as "
                f"\"fewer than {self.threshold}\", and percentages, rates and changes that would "
                "reveal such a count are withheld."
            )
        return (
            f"Disclosure control: public. Counts of 1 to {self.small_max} are shown as \"fewer "
            f"than {self.threshold}\" and other counts are rounded to the nearest "
            f"{self.round_to}; percentages that rest on fewer than {self.share_min} offences "
            f"are withheld; localities with fewer than {self.locality_min} offences are left "
            "out. Percentages are worked out from the unrounded counts, so they may differ "
            "slightly from the rounded counts shown."
        )


RULES = {
    "none": Rule("none", small_max=0, round_to=1, share_min=0, locality_min=0),
    "partner": Rule("partner", small_max=4, round_to=1, share_min=5, locality_min=0),
    "public": Rule("public", small_max=4, round_to=5, share_min=10, locality_min=10),
}


def rule_for(level: str | Rule | None) -> Rule:
    """The Rule for a level name (None = the default, partner)."""
    if isinstance(level, Rule):
        return level
    key = DEFAULT_LEVEL if level is None else str(level).strip().lower()
    if key not in RULES:
        raise ValueError(f"unknown disclosure level {level!r}: choose one of {', '.join(LEVELS)}")
    return RULES[key]


@dataclass(frozen=True)
class Shown:
    """A figure as a reader will see it."""

    text: str  # e.g. "412", "fewer than 5", "13%", "withheld"
    value: float | int | None  # what the text states (rounded), None when withheld
    withheld: bool = False  # true when the exact figure was held back (suppressed or rounded away)

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------------------------
# Plain formatting (no disclosure)
# --------------------------------------------------------------------------------------------

def fmt_int(n: int | float) -> str:
    """12345 -> '12,345' (whole numbers only; svtui.fmt.count)."""
    return fmt.count(n)


def round_half_up(x: float, digits: int = 0) -> float:
    """Round halves away from zero (svtui.fmt.round_half_up; Python's round() goes to even)."""
    return fmt.round_half_up(x, digits)


def plural(n: int | float | None, noun: str, plural_form: str | None = None) -> str:
    """The noun for n: 1 offence, 2 offences (plural_form for irregulars)."""
    many = plural_form or (noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s")
    return noun if n == 1 else many


# --------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------

def _missing(*values) -> bool:
    """Whether any value is None or NaN (nothing to show)."""
    return any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values)


def count(n: int | float | None, level: str | Rule = DEFAULT_LEVEL) -> Shown:
    """A count under the rule: exact, "fewer than 5", or rounded to the nearest 5."""
    rule = rule_for(level)
    if _missing(n):
        return Shown("not known", None, False)
    n = int(round(n))
    if n < 0:
        raise ValueError(f"a count cannot be negative: {n}")
    if n == 0:
        return Shown("0", 0)
    if n <= rule.small_max:
        return Shown(f"fewer than {rule.threshold}", None, True)
    if rule.round_to > 1:
        r = int(round_half_up(n / rule.round_to)) * rule.round_to
        return Shown(fmt_int(r), r, r != n)
    return Shown(fmt_int(n), n)


def count_phrase(
    n: int | float | None,
    noun: str,
    level: str | Rule = DEFAULT_LEVEL,
    plural_form: str | None = None,
    zero: str | None = None,
) -> Shown:
    """A count with its noun: '1 offence', '412 offences', 'fewer than 5 offences', 'no offences'."""
    c = count(n, level)
    if c.value is None and not c.withheld:  # not known
        return Shown(f"an unknown number of {plural(2, noun, plural_form)}", None)
    if c.value == 0:
        return Shown(zero if zero is not None else f"no {plural(2, noun, plural_form)}", 0)
    shown_n = c.value if c.value is not None else 2  # "fewer than 5" takes the plural
    return Shown(f"{c.text} {plural(shown_n, noun, plural_form)}", c.value, c.withheld)


def is_small(n: int | float | None, level: str | Rule = DEFAULT_LEVEL) -> bool:
    """Whether a count would be suppressed (1..small_max) under the rule."""
    rule = rule_for(level)
    return n is not None and 0 < n <= rule.small_max


def keep_locality(n_incidents: int | float, level: str | Rule = DEFAULT_LEVEL) -> bool:
    """Whether a locality with this many offences may be named at all under the rule."""
    return n_incidents >= rule_for(level).locality_min


# --------------------------------------------------------------------------------------------
# Percentages, rates and changes
# --------------------------------------------------------------------------------------------

def reveals(part: float, whole: float, level: str | Rule = DEFAULT_LEVEL) -> bool:
    """Whether showing part out of whole would let a reader work out a small count: the part, the
    whole or the rest (whole minus part) is between 1 and the rule's threshold."""
    rule = rule_for(level)
    if rule.share_min <= 0 or _missing(part, whole):
        return False
    rest = whole - part
    return any(0 < round(v) < rule.share_min for v in (part, whole, rest))


def pct_text(p: float, digits: int = 0) -> str:
    """0.1234 -> '12%'; a non-zero share that rounds to 0 reads '<1%' (never '0%'): svtui.fmt.pct."""
    return fmt.pct(p, digits)


def share(part: int | float | None, whole: int | float | None, level: str | Rule = DEFAULT_LEVEL,
          digits: int = 0) -> Shown:
    """part/whole as a percentage, or withheld ("withheld") when it would reveal a small count.

    A share of nothing (whole 0 or unknown) is "not known", never "NaN%".
    """
    rule = rule_for(level)
    if _missing(part, whole) or whole <= 0:
        return Shown("not known", None)
    if reveals(part, whole, rule):
        return Shown("withheld", None, True)
    p = part / whole
    return Shown(pct_text(p, digits), round_half_up(p * 100, digits))


def change(now: int | float | None, before: int | float | None, level: str | Rule = DEFAULT_LEVEL) -> Shown:
    """Percentage change from `before` to `now`: '13%' with value -13 for a fall.

    Withheld when either count would be suppressed (the change would reveal it), "not known"
    when there is nothing to compare with (before is 0 or missing).
    """
    rule = rule_for(level)
    if _missing(now, before) or before <= 0:
        return Shown("not known", None)
    if any(0 < round(v) < rule.share_min for v in (now, before)):
        return Shown("withheld", None, True)
    v = round_half_up((now - before) / before * 100)
    return Shown(f"{abs(int(v))}%", int(v))


def rate(n: int | float | None, population: int | float | None, per: int = 1000,
         level: str | Rule = DEFAULT_LEVEL, digits: int = 1) -> Shown:
    """n per `per` people, withheld when n would be suppressed."""
    rule = rule_for(level)
    if _missing(n, population) or population <= 0:
        return Shown("not known", None)
    if 0 < round(n) < rule.share_min:
        return Shown("withheld", None, True)
    v = round_half_up(n / population * per, digits)
    return Shown(fmt.num(v, digits), v)


# --------------------------------------------------------------------------------------------
# Breakdowns that must add up to 100
# --------------------------------------------------------------------------------------------

def largest_remainder(values: Sequence[float], total: int = 100) -> list[int]:
    """Whole numbers proportional to `values` that sum exactly to `total` (Hamilton's method).

    Each value gets the floor of its quota; the units left over go to the largest remainders
    (ties to the earlier item, so the result is deterministic). All-zero input gives zeros.
    """
    vals = [max(0.0, float(v)) for v in values]
    s = sum(vals)
    if s <= 0:
        return [0] * len(vals)
    quotas = [v / s * total for v in vals]
    floors = [int(math.floor(q)) for q in quotas]
    left = total - sum(floors)
    order = sorted(range(len(vals)), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


@dataclass(frozen=True)
class Part:
    """One line of a breakdown as shown."""

    label: str
    n: int  # the exact count (for the record; show `count.text`)
    count: Shown
    percent: Shown  # sums to 100 across the parts shown
    merged: tuple[str, ...] = ()  # labels folded into this line (the "other" line)


def breakdown(items: Sequence[tuple[str, int]], level: str | Rule = DEFAULT_LEVEL,
              other_label: str = "other", order: str = "size") -> list[Part]:
    """Mutually exclusive parts of one whole, with percentages that add up to exactly 100.

    Parts whose count would be suppressed are folded into one `other_label` line so that no
    small count can be worked out by subtraction; if that line is itself still small, the next
    smallest part is folded in too. Zero parts are dropped. Percentages use largest-remainder
    rounding over the lines shown. order: "size" (largest first) or "given" (the items' order, with
    the "other" line last).
    """
    if order not in ("size", "given"):
        raise ValueError("order must be 'size' or 'given'")
    rule = rule_for(level)
    parts = [(str(lbl), int(n)) for lbl, n in items if n and n > 0]
    if not parts:
        return []
    keep = sorted(parts, key=lambda kv: -kv[1])
    folded: list[tuple[str, int]] = []
    if rule.share_min > 0:
        folded = [kv for kv in keep if kv[1] < rule.share_min]
        keep = [kv for kv in keep if kv[1] >= rule.share_min]
        while folded and 0 < sum(n for _, n in folded) < rule.share_min and keep:
            folded.append(keep.pop())  # the smallest kept part joins "other"
        if folded and not keep:  # everything is small: one line, nothing to split
            total = sum(n for _, n in folded)
            return [Part(other_label if len(folded) > 1 else folded[0][0], total, count(total, rule),
                         Shown("100%", 100), tuple(l for l, _ in folded) if len(folded) > 1 else ())]
    lines = list(keep)
    if order == "given":
        pos = {lbl: i for i, (lbl, _n) in enumerate(parts)}
        lines.sort(key=lambda kv: pos[kv[0]])
    merged_labels: tuple[str, ...] = ()
    if folded:
        if len(folded) == 1:
            lines.append(folded[0])
        else:
            merged_labels = tuple(l for l, _ in folded)
            lines.append((other_label, sum(n for _, n in folded)))
    pcts = largest_remainder([n for _, n in lines])
    out = []
    for (lbl, n), p in zip(lines, pcts):
        is_other = bool(merged_labels) and lbl == other_label and n == sum(m for _, m in folded)
        out.append(Part(lbl, n, count(n, rule), Shown(f"{p}%", p), merged_labels if is_other else ()))
    return out
