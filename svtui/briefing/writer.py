"""The section writer `_W`: every figure a section prints goes through it and is recorded with its source."""
from __future__ import annotations

from datetime import date
import calendar
from typing import Any

from svtui import disclosure as dc
from svtui import fmt
from svtui.briefing.model import Figure, Ref, Section, _strip_marks
from svtui.briefing.words import _cap, _d, _is_null, _num_words, month_end_text, month_text, spoken_name


class _W:
    """Builds one section and records each figure it prints."""

    def __init__(self, sid: str, title: str, rule: dc.Rule) -> None:
        self.s = Section(sid, title)
        self.rule = rule

    # -- blocks
    def p(self, text: str) -> None:
        if text:
            self.s.blocks.append(("p", _cap(text)))

    def li(self, text: str) -> None:
        if text:
            self.s.blocks.append(("li", _cap(text)))

    @property
    def empty(self) -> bool:
        return not self.s.blocks

    # -- data strings
    def label(self, value: object, max_len: int | None = 160) -> str:
        out = _d(spoken_name(value) if isinstance(value, str) else value, max_len)
        self.s.labels.append(_strip_marks(out))
        return out

    # -- figures
    def fig(self, text: str, value: Any, kind: str, ref: Ref | None = None, per: Ref | None = None, note: str = "") -> str:
        self.s.figures.append(Figure(text, value, kind, ref, per, note))
        return text

    def const(self, text: str, what: str) -> str:
        return self.fig(text, text, "constant", Ref("constant", what))

    def count(self, n, ref: Ref | None, noun: str | None = None, plural_form: str | None = None,
              zero: str | None = None) -> str:
        """A count (with its noun when given) under the disclosure rule."""
        if _is_null(n):
            return f"an unknown number of {dc.plural(2, noun, plural_form)}" if noun else "not known"
        n = int(round(n))
        shown = dc.count(n, self.rule)
        self.fig(shown.text, n, "count", ref)
        if noun is None:
            return shown.text
        if n == 0:
            return zero if zero is not None else f"no {dc.plural(2, noun, plural_form)}"
        return f"{shown.text} {dc.plural(shown.value if shown.value is not None else 2, noun, plural_form)}"

    def pct(self, part, whole, ref: Ref | None, per: Ref | None = None, value: float | None = None) -> str:
        """part/whole as a percentage (disclosure-checked on the counts)."""
        shown = dc.share(part, whole, self.rule)
        v = value if value is not None else (None if _is_null(part) or _is_null(whole) or not whole else part / whole)
        if shown.value is None:
            return shown.text
        return self.fig(shown.text, v, "percent", ref, per)

    def share_of(self, frac, n_part, n_whole, ref: Ref | None, per: Ref | None = None) -> str:
        """A fraction (e.g. of harm) shown as a percentage; withheld when the counts behind it are small."""
        if _is_null(frac):
            return "not known"
        if n_part is not None and n_whole is not None and dc.reveals(n_part, n_whole, self.rule):
            return "withheld"
        text = dc.pct_text(frac)
        return self.fig(text, frac, "percent", ref, per)

    def change(self, now, before, ref_now: Ref, ref_before: Ref, p=None) -> tuple[str, int | None]:
        """('13%', -13) for a fall; ('withheld', None); ('not known', None); ('small base', None)
        below hotspot.rates.SMALL_BASE (say the counts); ('no significant change', None) when the
        exact test's p >= 0.05 (the rules of svtui.fmt.change)."""
        from hotspot.rates import SMALL_BASE

        shown = dc.change(now, before, self.rule)
        if shown.value is None:
            return shown.text, None
        if before < SMALL_BASE:
            return "small base", None
        if not _is_null(p) and p >= fmt.SIGNIFICANCE:
            return "no significant change", None
        self.fig(shown.text, (now - before) / before, "change", ref_now, ref_before)
        return shown.text, shown.value

    def rate(self, v, n, ref: Ref, digits: int = 1) -> str:
        if _is_null(v):
            return "not known"
        if n is not None and 0 < round(n) < self.rule.share_min:
            return "withheld"
        text = f"{dc.round_half_up(v, digits):,.{digits}f}"
        return self.fig(text, v, "rate", ref)

    def ratio(self, v, ref: Ref, per: Ref | None = None) -> str:
        text = f"{dc.round_half_up(v, 1):.1f}" if v < 10 else f"{int(dc.round_half_up(v)):,}"
        return self.fig(text, v, "ratio", ref, per)

    def number(self, v, ref: Ref | None, digits: int = 0, kind: str = "number") -> str:
        text = f"{dc.round_half_up(v, digits):,.{digits}f}" if digits else f"{int(dc.round_half_up(v)):,}"
        return self.fig(text, v, kind, ref)

    def date_end(self, m: date, ref: Ref | None) -> str:
        return self.fig(month_end_text(m), m, "date", ref)

    def month(self, m: date, ref: Ref | None) -> str:
        return self.fig(month_text(m), m, "month", ref)

    def breakdown(self, items: list[tuple[str, int]], ref_of, other_label: str = "other",
                  order: str = "size", per: Ref | None = None, min_lines: int = 1) -> list[dc.Part]:
        """dc.breakdown (percentages that add up to 100) with each percentage recorded as a figure.

        ref_of(part) gives the Ref of a line; a line that folds several parts together (part.merged)
        should name their columns joined by '+' with agg 'sum'.
        """
        parts = dc.breakdown(items, self.rule, other_label, order=order)
        if len(parts) < min_lines:
            return parts  # the caller will not print it: nothing recorded
        total = sum(p.n for p in parts)
        for p in parts:
            self.fig(p.percent.text, p.n / total if total else None, "breakdown", ref_of(p), per,
                     note="largest-remainder rounding: the percentages of one breakdown add up to 100")
        return parts

    def done(self, fallback: str) -> Section:
        if self.empty:
            self.p(fallback)
        return self.s


def _merge_refs(refs: list[Ref]) -> Ref:
    """One Ref for the sum of several: columns of one row joined with '+', or rows of one column
    named by a tuple key with agg 'sum'."""
    first = refs[0]
    if all(r.source == first.source and r.key == first.key for r in refs):
        return Ref(first.source, "+".join(r.column for r in refs), first.key)
    keys = [dict(r.key) for r in refs]
    merged = {k: (keys[0][k] if len({kk[k] for kk in keys}) == 1 else tuple(kk[k] for kk in keys)) for k in keys[0]}
    return Ref(first.source, first.column, tuple(merged.items()), agg="sum")


def _key(**kw) -> tuple[tuple[str, Any], ...]:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in kw.items())


def _between(w: "_W", a: date, b: date, ra: Ref | None, rb: Ref | None) -> str:
    """'between April 2021 and March 2024' / 'between January and April 2024' / 'in May 2024'."""
    if (a.year, a.month) == (b.year, b.month):
        return f"in {w.month(a, ra)}"
    w.month(a, ra)
    w.month(b, rb)
    if a.year == b.year:
        return f"between {calendar.month_name[a.month]} and {month_text(b)}"
    return f"between {month_text(a)} and {month_text(b)}"


def _count_words(n: int, ref: Ref | None, w: "_W") -> str:
    """Small counts of things that are not people or offences (localities, programmes) in words."""
    if n <= 10:
        return _num_words(n)
    if ref is None:  # a count of the items the sentence goes on to list
        return w.fig(f"{n:,}", n, "constant", Ref("constant", "number of items listed"))
    return w.number(n, ref)
