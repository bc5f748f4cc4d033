"""Briefing text for an area or a hotspot locality, written from the engine's tables.

``build_briefing(prep, analysis, study, area=None, hotspot=None, disclosure="partner")`` returns
a :class:`Briefing`: sections, each with a title, paragraphs, bullets and the list of every
figure it printed (the text shown, the engine value behind it, and where that value lives: table,
column and row key). ``render(briefing, "md" | "txt")`` turns it into Markdown or plain text.
The CLI (``svtui brief``) and the workbench (preview, copy, export) call the same two functions.

Rules the text keeps:

* every number printed is a :class:`Figure` taken from an engine table (``hotspot.area_profiles``,
  ``hotspot.measures``, ``hotspot.risk``, ``hotspot.coverage``, the Analysis's localities) or a
  documented constant, formatted through :mod:`svtui.disclosure`;
* plurals agree ("1 offence", "2 offences"); a share of nothing is "not known", never "NaN%";
  breakdowns that must add up to 100 use largest-remainder rounding;
* no section is ever empty: when there is nothing to say the section says so and why;
* data strings (area, venue and intervention names) stay data: control characters are removed
  and, in Markdown, they are escaped so they can never become links, headings or HTML.

Pure text generation: no Textual, no Rich, no files.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

import polars as pl

from svtui import disclosure as dc
from svtui.safe import plain

__all__ = [
    "Ref",
    "Figure",
    "Section",
    "Briefing",
    "build_briefing",
    "render",
    "briefing",
    "resolve_area",
    "area_incidents",
    "age_table",
    "SECTION_IDS",
]

SECTION_IDS = ("headline", "where", "what", "who", "when", "risk", "interventions", "focus", "notes")
LEVEL_WORDS = {
    "csp": "Community Safety Partnership",
    "force": "force area",
    "district": "district",
    "ward": "ward",
    "lsoa": "LSOA",
}
LEVEL_SHORT = {"csp": "CSP", "force": "force area", "district": "district", "ward": "ward", "lsoa": "LSOA"}
# Preferred level when a name is used at several levels ("Telford and Wrekin" is a district and a CSP).
LEVEL_PREFERENCE = ("csp", "force", "district", "ward", "lsoa")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PATTERN_WORDS = {
    "New Hot Spot": "a new hot spot (hot only in the latest month)",
    "Consecutive Hot Spot": "a consecutive hot spot (hot in an unbroken run of recent months)",
    "Intensifying Hot Spot": "an intensifying hot spot (hot in most months and getting hotter)",
    "Persistent Hot Spot": "a persistent hot spot (hot in at least nine months in ten, with no clear trend)",
    "Diminishing Hot Spot": "a diminishing hot spot (hot in most months but cooling)",
    "Sporadic Hot Spot": "a sporadic hot spot (on and off)",
    "Oscillating Hot Spot": "an oscillating hot spot (hot now, cold at times before)",
    "Historical Hot Spot": "a historical hot spot (hot in most months, but not the latest)",
}
NEED_WORDS = {
    "knife": "knife crime",
    "youth": "violence involving young people",
    "night_time_economy": "night-time economy violence",
    "domestic_abuse": "domestic abuse",
    "sexual_violence": "sexual violence",
}
MIN_TIMED = 20  # fewer offences with a time than this: no busiest day or hour
AGE_BANDS = (("under 18", 0, 17), ("18 to 24", 18, 24), ("25 to 34", 25, 34), ("35 to 49", 35, 49), ("50 and over", 50, 200))

# Data strings are wrapped in private-use delimiters while a paragraph is built, so that the
# renderer can escape exactly them (and tests can tell data from prose).
_DO, _DC = "\ue000", "\ue001"
_BO, _BC = "\ue002", "\ue003"  # strong emphasis (bold in Markdown, plain in text)
_DATA_RE = re.compile(f"{_DO}(.*?){_DC}", re.S)


# --------------------------------------------------------------------------------------------
# The structured briefing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """Where a value lives: an engine table (see Briefing.sources), a column, and the row key.

    key: ((column, value), ...) naming one row; a value that is a tuple names several rows,
    whose column values are summed (agg "sum").
    """

    source: str
    column: str
    key: tuple[tuple[str, Any], ...] = ()
    agg: str = "value"

    def describe(self) -> str:
        k = ", ".join(f"{c}={v}" for c, v in self.key)
        return f"{self.source}.{self.column}" + (f"[{k}]" if k else "") + (f" ({self.agg})" if self.agg != "value" else "")


@dataclass(frozen=True)
class Figure:
    """One figure as printed: its text, the exact engine value, and where the value came from.

    kind: count | percent (value is a fraction) | change (fraction) | rate | ratio | number |
    date | month | constant | label (a data string that happens to contain digits).
    per: for a percent or ratio computed from two engine values, the denominator's Ref.
    """

    text: str
    value: Any
    kind: str
    ref: Ref | None = None
    per: Ref | None = None
    note: str = ""

    @property
    def source(self) -> str | None:
        return self.ref.source if self.ref else None

    @property
    def column(self) -> str | None:
        return self.ref.column if self.ref else None

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "value": self.value if isinstance(self.value, (int, float, str, type(None))) else str(self.value),
            "kind": self.kind,
            "source": self.ref.describe() if self.ref else None,
            "per": self.per.describe() if self.per else None,
            "note": self.note,
        }


@dataclass
class Section:
    id: str
    title: str
    blocks: list[tuple[str, str]] = field(default_factory=list)  # ("p" | "li", raw text)
    figures: list[Figure] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # data strings inserted into the text

    @property
    def paragraphs(self) -> list[str]:
        """Plain paragraphs (bullets prefixed with '- ')."""
        return [("- " if kind == "li" else "") + _strip_marks(raw) for kind, raw in self.blocks]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class Briefing:
    title: str
    subtitle: str
    subject_kind: str  # "area" or "hotspot"
    subject_level: str  # csp, district, ..., force, or "locality"
    subject_code: str
    subject_name: str
    study_name: str
    synthetic: bool
    disclosure: str
    window: tuple[date, date] | None
    definition: str
    sections: list[Section]
    sources: dict[str, str] = field(default_factory=dict)  # source name -> how it was computed

    def section(self, sid: str) -> Section:
        for s in self.sections:
            if s.id == sid:
                return s
        raise KeyError(sid)

    @property
    def figures(self) -> list[Figure]:
        return [f for s in self.sections for f in s.figures]

    @property
    def markdown(self) -> str:
        return render(self, "md")

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "subtitle": self.subtitle,
            "subject": {"kind": self.subject_kind, "level": self.subject_level, "code": self.subject_code,
                        "name": self.subject_name},
            "study": self.study_name,
            "synthetic": self.synthetic,
            "disclosure": self.disclosure,
            "window": [str(self.window[0]), str(self.window[1])] if self.window else None,
            "definition": self.definition,
            "sections": [
                {"id": s.id, "title": s.title, "paragraphs": s.paragraphs,
                 "figures": [f.to_dict() for f in s.figures]}
                for s in self.sections
            ],
        }


def _strip_marks(raw: str) -> str:
    return raw.replace(_DO, "").replace(_DC, "").replace(_BO, "").replace(_BC, "")


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


_MD_ANYWHERE = re.compile(r"([\\`*_{}\[\]<>|~#])")
_MD_LEADING = re.compile(r"^(\s*(?:\*\*)?)([-+=>]|\d+[.)])")


def md_data(value: object) -> str:
    """A data string for Markdown: every character that could start inline markup is escaped (so no
    link, image, emphasis, code or HTML can form); other punctuation stays readable."""
    return _MD_ANYWHERE.sub(r"\\\1", plain(value, None))


def _md_inline(raw: str) -> str:
    out = _DATA_RE.sub(lambda m: md_data(m.group(1)), raw)
    if raw.lstrip(_BO).startswith(_DO):  # data at the start of a line could make a list or a quote
        out = _MD_LEADING.sub(lambda m: m.group(1) + "\\" + m.group(2), out, count=1)
    return out.replace(_BO, "**").replace(_BC, "**")


def render(b: Briefing, fmt: str = "md", width: int | None = None) -> str:
    """The briefing as Markdown ("md") or plain text ("txt").

    Paragraphs are single lines (they paste cleanly into a document); `width` wraps plain text
    for a terminal.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt in ("markdown",):
        fmt = "md"
    if fmt in ("text", "plain"):
        fmt = "txt"
    if fmt not in ("md", "txt"):
        raise ValueError(f"unknown briefing format {fmt!r}: use md or txt")
    lines: list[str] = []
    if fmt == "md":
        lines += [f"# {md_data(b.title)}", "", f"*{md_data(b.subtitle)}*", ""]
        if b.synthetic:
            lines += ["> **SYNTHETIC sample data.** Every area, venue and offence in this briefing is made up. "
                      "Do not use it for decisions.", ""]
        for s in b.sections:
            lines += [f"## {md_data(s.title)}", ""]
            prev = None
            for kind, raw in s.blocks:
                if kind == "li":
                    lines.append(f"- {_md_inline(raw)}")
                else:
                    if prev == "li":
                        lines.append("")
                    lines += [_md_inline(raw), ""]
                prev = kind
            if prev == "li":
                lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    import textwrap

    def wrap(text: str, indent: str = "", first: str = "") -> list[str]:
        if not width:
            return [first + text]
        return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=indent or " " * len(first),
                             break_long_words=False, break_on_hyphens=False) or [first]

    lines += [plain(b.title, None), "=" * min(len(plain(b.title, None)), width or 200), plain(b.subtitle, None), ""]
    if b.synthetic:
        lines += wrap("SYNTHETIC sample data: every area, venue and offence in this briefing is made up. "
                      "Do not use it for decisions.") + [""]
    for s in b.sections:
        title = plain(s.title, None)
        lines += [title, "-" * len(title)]
        prev = None
        for kind, raw in s.blocks:
            text = plain(_strip_marks(raw), None)
            if kind == "li":
                lines += wrap(text, first="  - ", indent="    ")
            else:
                if prev == "li":
                    lines.append("")
                lines += wrap(text) + [""]
            prev = kind
        if prev == "li":
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------------------------
# Small text helpers
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Section writer: every figure goes through here
# --------------------------------------------------------------------------------------------


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
        out = _d(value, max_len)
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

    def change(self, now, before, ref_now: Ref, ref_before: Ref) -> tuple[str, int | None]:
        """('13%', -13) for a fall; ('withheld', None); ('not known', None)."""
        shown = dc.change(now, before, self.rule)
        if shown.value is None:
            return shown.text, None
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


# --------------------------------------------------------------------------------------------
# Subjects
# --------------------------------------------------------------------------------------------


def _norm_name(s: str) -> str:
    s = s.lower().replace("&", " and ")
    s = re.sub(r",?\s*county of$", "", s)
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def resolve_area(prep, area: str) -> tuple[str, str, str]:
    """(level, code, name) for an ONS code or a name at any level (CSP preferred for shared names).

    Raises ValueError naming the study's CSPs when nothing matches, and listing the codes when a
    name is held by several areas of one level (ward names repeat across districts).
    """
    h = prep.hierarchy
    want = str(area).strip()
    if not want:
        raise ValueError("give an area name or code")
    by_name: list[tuple[str, str, str]] = []
    target = _norm_name(want)
    for level in LEVEL_PREFERENCE:
        code_c, name_c = f"{level}_code", f"{level}_name"
        if code_c not in h.columns:
            continue
        cols = [code_c] + ([name_c] if name_c in h.columns else [])
        sub = h.select(cols).drop_nulls(code_c).unique(code_c).sort(code_c)
        hit = sub.filter(pl.col(code_c).str.to_uppercase() == want.upper())
        if hit.height:
            row = hit.row(0, named=True)
            return level, row[code_c], row.get(name_c) or row[code_c]
        if name_c in sub.columns and not by_name:
            rows = [r for r in sub.iter_rows(named=True) if r[name_c] is not None and _norm_name(r[name_c]) == target]
            if len(rows) > 1:
                parent = next((p for p in ("district", "csp") if f"{p}_name" in h.columns and p != level), None)
                where = []
                for r in rows:
                    pn = None
                    if parent:
                        pn = h.filter(pl.col(code_c) == r[code_c])[f"{parent}_name"].drop_nulls()
                        pn = pn[0] if len(pn) else None
                    where.append(f"{r[code_c]}" + (f" ({pn})" if pn else ""))
                raise ValueError(f"{want!r} names {len(rows)} {LEVEL_SHORT[level]}s: {', '.join(where)}; give the code")
            by_name = [(level, r[code_c], r[name_c]) for r in rows]
    if by_name:
        return by_name[0]
    if want.lower() in ("study", "all", "force") or target == _norm_name(prep.study_name):
        return "force", _force_code(prep), _force_name(prep)
    csps = []
    if "csp_name" in h.columns:
        csps = sorted(set(h["csp_name"].drop_nulls().to_list()))
    hint = f" CSPs in this study: {', '.join(csps)}." if csps else ""
    raise ValueError(f"unknown area {area!r}: give an ONS code or a name from the study's boundaries.{hint}")


def _force_code(prep) -> str:
    h = prep.hierarchy
    if "force_code" in h.columns and h["force_code"].drop_nulls().len():
        vals = h["force_code"].drop_nulls().unique()
        if vals.len() == 1:
            return vals[0]
    return "study"


def _force_name(prep) -> str:
    h = prep.hierarchy
    if "force_name" in h.columns and h["force_name"].drop_nulls().len():
        vals = h["force_name"].drop_nulls().unique()
        if vals.len() == 1:
            return vals[0]
    return prep.study_name


def area_incidents(prep, analysis, level: str, code: str) -> pl.DataFrame:
    """The analysis's serious incidents in one area (by their LSOA), window as the analysis."""
    inc = analysis.incidents
    if level == "force":
        return inc
    col = f"{level}_code"
    h = prep.hierarchy
    if col not in h.columns:
        return inc.head(0)
    lsoas = h.filter(pl.col(col) == code)["lsoa_code"].drop_nulls().unique().to_list()
    return inc.filter(pl.col("lsoa_code").is_in(lsoas))


def age_table(inc: pl.DataFrame) -> dict[str, int]:
    """Counts for the 'who' section: offences with a known victim/suspect age and in each band.

    Keys: victim_known, suspect_known, either_known, victim_<band>, suspect_<band> (bands in
    AGE_BANDS, keyed by their label with spaces as underscores), either_under_18, either_18_to_24.
    (A plain count over the analysis's incidents; see the report: the engine could own it.)
    """
    out: dict[str, int] = {}
    va, sa = pl.col("victim_age"), pl.col("suspect_age")
    exprs = [
        va.is_not_null().sum().alias("victim_known"),
        sa.is_not_null().sum().alias("suspect_known"),
        (va.is_not_null() | sa.is_not_null()).sum().alias("either_known"),
        ((va < 18) | (sa < 18)).fill_null(False).sum().alias("either_under_18"),
        (va.is_between(18, 24) | sa.is_between(18, 24)).fill_null(False).sum().alias("either_18_to_24"),
    ]
    for label, lo, hi in AGE_BANDS:
        k = label.replace(" ", "_")
        exprs.append(va.is_between(lo, hi).fill_null(False).sum().alias(f"victim_{k}"))
        exprs.append(sa.is_between(lo, hi).fill_null(False).sum().alias(f"suspect_{k}"))
    if inc.height == 0 or "victim_age" not in inc.columns:
        return {e: 0 for e in ["victim_known", "suspect_known", "either_known"]}
    row = inc.select(exprs).row(0, named=True)
    out.update({k: int(v or 0) for k, v in row.items()})
    return out


# --------------------------------------------------------------------------------------------
# The engine behind the briefing (one place that calls it; cached per analysis)
# --------------------------------------------------------------------------------------------


class _Engine:
    """Calls the engine's issue-4 modules once per briefing and hands out their frames."""

    def __init__(self, prep, analysis, study) -> None:
        self.prep, self.analysis, self.study = prep, analysis, study
        self.indicators = getattr(study, "indicators", None)
        self.areas = getattr(study, "areas", None)
        self.notes: list[str] = []
        self._cache: dict = {}
        self.sources: dict[str, str] = {}

    def _get(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def profiles(self, level: str) -> pl.DataFrame:
        from hotspot.area_profiles import area_profiles

        self.sources[f"area_profiles:{level}"] = f"hotspot.area_profiles.area_profiles(prep, analysis, {level!r}, indicators=study.indicators)"
        return self._get(("profiles", level), lambda: area_profiles(
            self.prep, self.analysis, level, indicators=self.indicators, notes=self.notes))

    def monthly(self, level: str) -> pl.DataFrame:
        from hotspot.area_profiles import area_monthly

        self.sources[f"area_monthly:{level}"] = f"hotspot.area_profiles.area_monthly(prep, analysis.filters, {level!r})"
        return self._get(("monthly", level), lambda: area_monthly(self.prep, self.analysis.filters, level))

    def measures(self, level: str) -> pl.DataFrame | None:
        self.sources[f"duty_measures:{level}"] = f"hotspot.measures.duty_measures(prep, study.ae, analysis, {level!r})"

        def run():
            try:
                from hotspot.measures import duty_measures
            except ImportError:
                return None
            return duty_measures(self.prep, getattr(self.study, "ae", None), self.analysis, level,
                                 indicators=self.indicators)
        return self._get(("measures", level), run)

    def risk(self, level_or_localities: str) -> pl.DataFrame | None:
        name = "locality" if level_or_localities == "locality" else level_or_localities
        self.sources[f"risk_factors:{name}"] = "hotspot.risk.risk_factors(prep, study.indicators, " + (
            "analysis" if name == "locality" else repr(name)) + ", areas=study.areas)"

        def run():
            try:
                from hotspot.risk import risk_factors
            except ImportError:
                return None
            target = self.analysis if name == "locality" else name
            return risk_factors(self.prep, self.indicators, target, areas=self.areas, notes=[])
        return self._get(("risk", name), run)

    def coverage(self, level: str) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        self.sources[f"coverage.reach:{level}"] = f"hotspot.coverage.coverage(prep, analysis, study.interventions, {level!r})[0]"
        self.sources[f"coverage.gaps:{level}"] = f"hotspot.coverage.coverage(prep, analysis, study.interventions, {level!r}, all_needs=True)[1]"

        def run():
            try:
                from hotspot.coverage import coverage
            except ImportError:
                return None
            return coverage(self.prep, self.analysis, getattr(self.study, "interventions", []) or [], level,
                            all_needs=True, notes=[])
        return self._get(("coverage", level), run)

    def peak(self, level: str, code: str) -> dict:
        from hotspot import profiles

        self.sources["peak_times"] = "hotspot.profiles.peak_times(area_incidents(prep, analysis, level, code), by=code)"

        def run():
            inc = area_incidents(self.prep, self.analysis, level, code).with_columns(pl.lit(code).alias("_code"))
            out = profiles.peak_times(inc, "_code")
            return out.row(0, named=True) if out.height else {}
        return self._get(("peak", level, code), run)

    def ages(self, level: str, code: str) -> dict:
        self.sources["ages"] = "svtui.briefing.age_table(area_incidents(prep, analysis, level, code))"
        return self._get(("ages", level, code), lambda: age_table(area_incidents(self.prep, self.analysis, level, code)))


def _row(frame: pl.DataFrame | None, **key) -> dict | None:
    if frame is None or frame.height == 0:
        return None
    f = frame
    for k, v in key.items():
        if k not in f.columns:
            return None
        f = f.filter(pl.col(k) == v)
    return f.row(0, named=True) if f.height else None


# --------------------------------------------------------------------------------------------
# Vocabulary that depends on the definition
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Voice:
    subject: str  # sentence subject: "Serious violence"
    noun: str  # "offence"
    thing: str  # "serious violence" (mid-sentence)
    proxy: bool
    short: str = "serious violence"  # a short mid-sentence name


def _voice(definition) -> _Voice:
    if getattr(definition, "applies_to", "records") == "police.uk":
        return _Voice(
            "Violence, robbery and weapon possession recorded on police.uk",
            "offence",
            "violence, robbery and weapon possession (the police.uk proxy for serious violence)",
            True,
            "violence",
        )
    return _Voice("Serious violence", "offence", "serious violence", False)


def _harm_words() -> str:
    return "harm (offences weighted by the ONS Crime Severity Score)"


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def build_briefing(prep, analysis, study=None, area: str | None = None, hotspot: str | None = None,
                   disclosure: str = dc.DEFAULT_LEVEL) -> Briefing:
    """Write the briefing for an area (name or ONS code at any level), a hotspot locality (its id,
    e.g. ``L-SO850550``), or, with neither, the whole study area.

    prep, analysis: ``hotspot.analysis.prepare`` / ``analyse`` results; study: the loaded
    ``geodata.study.Study`` (interventions, indicators, A&E, ledger; may be None, and those
    sections then say what is missing). disclosure: none | partner | public (svtui.disclosure).
    Raises ValueError for an unknown area or hotspot, or a hotspot the disclosure rule forbids.
    """
    if area and hotspot:
        raise ValueError("brief on an area or a hotspot, not both")
    rule = dc.rule_for(disclosure)
    eng = _Engine(prep, analysis, study)
    voice = _voice(prep.definition)
    if hotspot:
        return _locality_briefing(eng, rule, voice, str(hotspot).strip())
    if area:
        level, code, name = resolve_area(prep, area)
    else:
        level, code, name = "force", _force_code(prep), _force_name(prep)
    return _area_briefing(eng, rule, voice, level, code, name)


def briefing(study=None, prep=None, analysis=None, subject=None, disclosure: str = dc.DEFAULT_LEVEL,
             fmt: str = "md") -> str:
    """Rendered briefing text for the workbench: subject is ("locality", id) or (level, code)."""
    if prep is None or analysis is None:
        raise ValueError("the briefing needs the prepared study and its analysis")
    kind, key = subject if subject else ("force", None)
    if kind == "locality":
        b = build_briefing(prep, analysis, study, hotspot=key, disclosure=disclosure)
    elif kind == "force" and key in (None, "study"):
        b = build_briefing(prep, analysis, study, disclosure=disclosure)
    else:
        b = build_briefing(prep, analysis, study, area=key, disclosure=disclosure)
    return render(b, fmt)


def _window_text(start: date | None, end: date | None) -> str:
    if not start or not end:
        return "no months with data"
    if (start.year, start.month) == (end.year, end.month):
        return month_text(start)
    if start.year == end.year:
        return f"{calendar.month_name[start.month]} to {month_text(end)}"
    return f"{month_text(start)} to {month_text(end)}"


def _between(w: "_W", a: date, b: date, ra: Ref | None, rb: Ref | None) -> str:
    """'between April 2021 and March 2024' / 'between January and April 2024' / 'in May 2024'."""
    if (a.year, a.month) == (b.year, b.month):
        return f"in {w.month(a, ra)}"
    w.month(a, ra)
    w.month(b, rb)
    if a.year == b.year:
        return f"between {calendar.month_name[a.month]} and {month_text(b)}"
    return f"between {month_text(a)} and {month_text(b)}"


def _n_months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _subtitle(parts: list[str], rule: dc.Rule) -> str:
    parts = [plain(p, 160) for p in parts if p] + [f"{rule.level} disclosure"]
    return " · ".join(p[:1].upper() + p[1:] for p in parts)


def _count_words(n: int, ref: Ref | None, w: "_W") -> str:
    """Small counts of things that are not people or offences (localities, programmes) in words."""
    if n <= 10:
        return _num_words(n)
    if ref is None:  # a count of the items the sentence goes on to list
        return w.fig(f"{n:,}", n, "constant", Ref("constant", "number of items listed"))
    return w.number(n, ref)


# --------------------------------------------------------------------------------------------
# Contexts: what each section needs to know about its subject
# --------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    eng: _Engine
    rule: dc.Rule
    voice: _Voice
    kind: str  # "area" | "locality"
    level: str  # area level, or "locality"
    code: str
    name: str
    row: dict
    force_row: dict | None
    src: str

    @property
    def key(self):
        return _key(code=self.code) if self.kind == "area" else _key(locality_id=self.code)

    def ref(self, column: str) -> Ref:
        return Ref(self.src, column, self.key)

    @property
    def n(self) -> int:
        v = self.row.get("n") if self.kind == "area" else self.row.get("n_incidents")
        return int(v or 0)

    @property
    def n_ref(self) -> Ref:
        return self.ref("n" if self.kind == "area" else "n_incidents")

    @property
    def is_force(self) -> bool:
        return self.kind == "area" and self.level == "force"

    @property
    def short(self) -> str:
        if self.kind == "locality":
            return "the locality"
        return {"csp": "the CSP", "force": "the force area", "district": "the district", "ward": "the ward",
                "lsoa": "the LSOA"}[self.level]

    def force_ref(self, column: str) -> Ref:
        return Ref("area_profiles:force", column, _key(code=self.force_row["code"])) if self.force_row else None

    # -- who
    def ages(self) -> dict:
        if self.kind == "area":
            return self.eng.ages(self.level, self.code)
        self.eng.sources["ages"] = "svtui.briefing.age_table(incidents of the area or locality)"
        inc = self.eng.analysis.incidents
        if "locality_id" not in inc.columns:
            return age_table(inc.head(0))
        return self.eng._get(("ages", "locality", self.code),
                             lambda: age_table(inc.filter(pl.col("locality_id") == self.code)))

    def age_key(self):
        return self.key

    # -- when
    def peak(self) -> dict:
        if self.kind == "area":
            return self.eng.peak(self.level, self.code)
        return {k: self.row.get(k) for k in ("timed_n", "peak_weekday", "peak_weekday_n", "peak_hour_from", "peak_hour_n")}

    def peak_ref(self, column: str) -> Ref:
        if self.kind == "area":
            return Ref("peak_times", column, self.key)
        return self.ref(column)

    def monthly(self) -> tuple[pl.DataFrame, str, tuple]:
        """(monthly frame of this subject: month, n; source name; key prefix)."""
        if self.kind == "area":
            m = self.eng.monthly(self.level)
            return m.filter(pl.col("code") == self.code), f"area_monthly:{self.level}", (("code", self.code),)
        m = self.eng.analysis.locality_monthly
        return m.filter(pl.col("locality_id") == self.code), "locality_monthly", (("locality_id", self.code),)


def _area_ctx(eng: _Engine, rule, voice, level: str, code: str, name: str) -> _Ctx:
    prof = eng.profiles(level)
    row = _row(prof, code=code)
    if row is None:
        raise ValueError(f"area {code} has no profile (is it in the study's boundaries?)")
    force_prof = eng.profiles("force")
    force_row = force_prof.row(0, named=True) if force_prof.height == 1 else None
    return _Ctx(eng, rule, voice, "area", level, code, name, row, force_row, f"area_profiles:{level}")


def _area_localities(ctx: _Ctx) -> pl.DataFrame:
    loc = ctx.eng.analysis.localities
    if loc.height == 0 or ctx.level == "force":
        return loc
    col = f"{ctx.level}_code"
    if col not in loc.columns:
        return loc.head(0)
    return loc.filter(pl.col(col) == ctx.code)


# ----------------------------------------------------------------------------- area briefing


def _area_briefing(eng: _Engine, rule: dc.Rule, voice: _Voice, level: str, code: str, name: str) -> Briefing:
    prep = eng.prep
    ctx = _area_ctx(eng, rule, voice, level, code, name)
    start, end = ctx.row.get("period_start"), ctx.row.get("period_end")
    sections = [
        _area_headline(ctx),
        _area_where(ctx),
        _what(ctx),
        _who(ctx),
        _when(ctx),
        _risk(ctx),
        _interventions(ctx),
        _focus(ctx),
        _notes(ctx),
    ]
    title_noun = "Violence briefing (police.uk proxy)" if voice.proxy else "Serious violence briefing"
    level_word = LEVEL_WORDS[level] + ("" if level == "force" or code == "study" else f" {code}")
    if level in ("ward", "lsoa") and ctx.row.get("district_name"):
        level_word += f" in {re.sub(r', County of$', '', ctx.row['district_name'])}"
    return Briefing(
        title=f"{title_noun}: {plain(name, 120)}",
        subtitle=_subtitle([level_word, _window_text(start, end), prep.study_name], rule),
        subject_kind="area",
        subject_level=level,
        subject_code=code,
        subject_name=name,
        study_name=prep.study_name,
        synthetic=bool(prep.synthetic),
        disclosure=rule.level,
        window=(start, end) if start and end else None,
        definition=f"{prep.definition.name} v{prep.definition.version}",
        sections=sections,
        sources=dict(eng.sources),
    )


def _area_headline(ctx: _Ctx) -> Section:
    w = _W("headline", "Headline", ctx.rule)
    r, v = ctx.row, ctx.voice
    area = w.label(ctx.name)
    start, end = r.get("period_start"), r.get("period_end")
    if not start or not end:
        w.p(f"The study has no months with data for {area} in the chosen period, so there is nothing to report.")
        return w.done("")
    latest, prev, base3 = r.get("latest_12m"), r.get("previous_12m"), r.get("base_3y_12m")
    months = int(r.get("months") or _n_months(start, end))
    m_txt = w.number(months, ctx.ref("months"))
    span = _between(w, start, end, ctx.ref("period_start"), ctx.ref("period_end"))
    if not _is_null(latest) and not _is_null(prev):
        end_txt = w.date_end(end, ctx.ref("period_end"))
        ch, chv = w.change(latest, prev, ctx.ref("latest_12m"), ctx.ref("previous_12m"))
        now_txt = w.count(latest, ctx.ref("latest_12m"), v.noun)
        before_txt = w.count(prev, ctx.ref("previous_12m"))
        if chv is None:
            why = ("the counts are too small to show a change under the disclosure rule" if ch == "withheld"
                   else "there is nothing to compare with")
            s = f"{v.subject} in {area}: {now_txt} in the year to {end_txt}, against {before_txt} the year before; {why}"
        elif chv == 0:
            same = "the same as the year before" if latest == prev else f"against {before_txt} the year before"
            s = (f"{v.subject} in {area} was {'unchanged' if latest == prev else 'almost unchanged'} in the year to "
                 f"{end_txt} ({now_txt}, {same})")
        else:
            s = (f"{v.subject} in {area} {'increased' if chv > 0 else 'decreased'} by {ch} in the year to {end_txt} "
                 f"({now_txt}, {'up' if chv > 0 else 'down'} from {before_txt})")
        if not _is_null(base3):
            ch3, ch3v = w.change(latest, base3, ctx.ref("latest_12m"), ctx.ref("base_3y_12m"))
            b3 = w.count(base3, ctx.ref("base_3y_12m"))
            b3_end = w.fig(month_end_text(date(end.year - 2, end.month, 1)), date(end.year - 2, end.month, 1), "date",
                           Ref(ctx.src, "period_end", ctx.key, agg="minus_24_months"))
            if ch3v is None:
                s += f" ({b3} in the year to {b3_end})"
            elif ch3v == 0:
                s += f", and is unchanged over three years ({b3} in the year to {b3_end})"
            else:
                s += f", and {'rose' if ch3v > 0 else 'fell'} by {ch3} over three years (from {b3} in the year to {b3_end})"
            w.p(s + ".")
        else:
            w.p(s + f". A three-year change needs {w.const('36', 'months for a three-year change')} months of data; "
                f"this study has {m_txt}.")
    else:
        n_txt = w.count(ctx.n, ctx.n_ref, v.noun)
        if v.proxy:
            w.p(f"Police.uk recorded {n_txt} of violence, robbery or weapon possession in {area} {span} "
                f"({m_txt} {dc.plural(months, 'month')}). This is the public proxy for serious violence: it counts "
                "all violence, from common assault to homicide, so it over-counts serious violence.")
        else:
            w.p(f"{v.subject} in {area}: {n_txt} {span} ({m_txt} {dc.plural(months, 'month')}).")
        w.p(f"A change over the year cannot be given: it needs {w.const('24', 'months for a 12-month change')} "
            f"months of data and this study has {m_txt}.")

    # rate, share of the force, trend
    bits = []
    rate = r.get("rate_per_1000_year") if not _is_null(latest) else r.get("rate_per_1000")
    rate_col = "rate_per_1000_year" if not _is_null(latest) else "rate_per_1000"
    if not _is_null(rate):
        rt = w.rate(rate, latest if not _is_null(latest) else ctx.n, ctx.ref(rate_col))
        if rt not in ("withheld", "not known"):
            s = (f"That is {rt} {dc.plural(2, v.noun)} per {w.const('1,000', 'rate base')} residents "
                 + ("a year" if not _is_null(latest) else "over the period"))
            fr = ctx.force_row
            if fr and not ctx.is_force and not _is_null(fr.get(rate_col)):
                frt = w.rate(fr[rate_col], fr.get("latest_12m") if not _is_null(latest) else fr.get("n"),
                             ctx.force_ref(rate_col))
                if frt not in ("withheld", "not known"):
                    s += (f", the same as across {w.label(fr['name'])}" if frt == rt
                          else f", against {frt} across {w.label(fr['name'])}")
            bits.append(s + ".")
    elif r.get("population_note"):
        bits.append("A rate per head cannot be given: the study has no population figures for this area.")
    fr = ctx.force_row
    if not ctx.is_force and fr and not _is_null(r.get("share_of_total")):
        sh = w.share_of(r["share_of_total"], ctx.n, fr["n"], ctx.ref("share_of_total"))
        hs = w.share_of(r["harm_share_of_total"], ctx.n, fr["n"], ctx.ref("harm_share_of_total"))
        if sh not in ("withheld", "not known"):
            bits.append(f"Over the period, {area} accounts for {sh} of the {v.noun}s in {w.label(fr['name'])} and "
                        f"{hs} of the {_harm_words()}.")
    trend = r.get("trend")
    mk = {"rising": "a rising trend", "falling": "a falling trend", "no clear trend": "no clear trend"}.get(trend)
    if mk and months >= 12:
        bits.append(f"Month by month, the {m_txt}-month series shows {mk} (Mann-Kendall test at the "
                    f"{w.const('5%', 'significance level')} level).")
    if bits:
        w.p(" ".join(bits))

    # the Serious Violence Duty's headline measures
    m = ctx.eng.measures(ctx.level)
    if m is not None and m.height:
        mrows = m.filter((pl.col("code") == ctx.code) & pl.col("duty"))
        said, missing = [], []
        use_year = not _is_null(latest)
        for mr in mrows.iter_rows(named=True):
            if not mr["available"]:
                missing.append(_DUTY_MISSING.get(mr["measure"], mr["label"].lower()))
                continue
            col = "latest_12m" if use_year and not _is_null(mr.get("latest_12m")) else "n"
            ref = Ref(f"duty_measures:{ctx.level}", col, _key(code=ctx.code, measure=mr["measure"]))
            said.append(_duty_phrase(w, mr["measure"], mr[col], ref))
        when = f"in the year to {w.date_end(end, ctx.ref('period_end'))}" if use_year else span
        if said:
            s = f"On the Serious Violence Duty's headline measures, {area} recorded {join_words(said)} {when}."
            if missing:
                s += f" The data cannot give {join_words(missing)}."
            w.p(s)
            notes = [x for x in mrows.filter(pl.col("measure") == "ae_knife_assault")["note"].to_list() if x]
            if notes and not ctx.is_force:
                w.p("Most A&E attendances carry no location, so they count only in the force total: the A&E "
                    f"figure for {area} is an undercount.")
        elif missing:
            w.p(f"The Serious Violence Duty's headline measures cannot be given from this data: it cannot show "
                f"{join_words(missing)}.")
    return w.done("")


_DUTY_MISSING = {
    "homicide": "homicides",
    "ae_knife_assault": "A&E attendances for assault with a knife or sharp object",
    "knife_crime": "police-recorded knife crime",
}


def _duty_phrase(w: _W, measure: str, n, ref: Ref) -> str:
    if measure == "homicide":
        return w.count(n, ref, "homicide")
    if measure == "ae_knife_assault":
        return w.count(n, ref, "A&E attendance") + " for assault with a knife or sharp object"
    if measure == "knife_crime":
        return w.count(n, ref, "police-recorded knife or sharp-instrument offence")
    return w.count(n, ref, "event")


def _area_where(ctx: _Ctx) -> Section:
    w = _W("where", "Where", ctx.rule)
    analysis = ctx.eng.analysis
    area = w.label(ctx.name)
    loc_all = _area_localities(ctx)
    loc = loc_all.filter(pl.col("n_incidents") >= ctx.rule.locality_min) if loc_all.height and ctx.rule.locality_min else loc_all
    dropped = loc_all.height - loc.height
    if loc_all.height == 0:
        from hotspot.localities import min_incidents_for

        k = min_incidents_for(analysis.incidents.height)
        kt = w.fig(str(k), k, "constant", Ref("constant", "hotspot.localities.min_incidents_for(n)"))
        w.p(f"No hotspot localities were found in {area}: none of its {ctx.voice.thing} forms a statistically "
            f"significant cluster of harm (Getis-Ord Gi*, false discovery rate {w.const('5%', 'FDR alpha')}) holding "
            f"at least {kt} {dc.plural(2, ctx.voice.noun)}.")
    elif loc.height == 0:
        lm = w.fig(str(ctx.rule.locality_min), ctx.rule.locality_min, "constant", Ref("constant", "disclosure locality_min"))
        w.p(f"Hotspot localities were found in {area}, but each has fewer than {lm} {dc.plural(2, ctx.voice.noun)}, so "
            "none is named under the public disclosure rule.")
    else:
        top = loc.head(5)
        ids = tuple(top["locality_id"].to_list())
        n_loc = loc.height
        n_top = int(top["n_incidents"].sum())
        if ctx.level == "csp":
            whole = "the CSP's harm"
            total = w.share_of(float(top["share_of_area_harm"].sum()), n_top, ctx.n,
                               Ref("localities", "share_of_area_harm", _key(locality_id=ids), agg="sum"))
        else:
            whole = f"the harm in {ctx.short}"
            frac = float(top["harm"].sum()) / ctx.row["harm"] if ctx.row.get("harm") else None
            total = w.share_of(frac, n_top, ctx.n, Ref("localities", "harm", _key(locality_id=ids), agg="sum"),
                               ctx.ref("harm"))
        cnt_ref = (Ref("localities", "locality_id", _key(locality_id=tuple(loc["locality_id"].to_list())), agg="count") if dropped
                   else Ref("localities", "locality_id", () if ctx.is_force else _key(**{f"{ctx.level}_code": ctx.code}), agg="count"))
        how_many = f"{_count_words(n_loc, cnt_ref, w)} hotspot {dc.plural(n_loc, 'locality', 'localities')}"
        if ctx.is_force:
            lead = f"The analysis found {how_many} in {area}"
        else:
            lead = f"{how_many} {'lies' if n_loc == 1 else 'lie'} in {area}"
        if total not in ("withheld", "not known"):
            if n_loc > 5:
                lead += f"; the five with most harm hold {total} of {whole}"
            elif n_loc > 1:
                lead += f", together holding {total} of {whole}"
            else:
                lead += f", holding {total} of {whole}"
        w.p(lead + ":")
        for lr in top.iter_rows(named=True):
            w.li(_locality_line(w, ctx, lr))
        if dropped:
            lm = w.fig(str(ctx.rule.locality_min), ctx.rule.locality_min, "constant", Ref("constant", "disclosure locality_min"))
            w.p(f"{_cap(_num_words(dropped)) if dropped <= 10 else w.fig(dc.count(dropped, ctx.rule).text, dropped, 'count', Ref('localities', 'locality_id', _key(locality_id=tuple(set(loc_all['locality_id'].to_list()) - set(loc['locality_id'].to_list()))), agg='count'))} more "
                f"{dc.plural(dropped, 'locality', 'localities')} with fewer than {lm} {dc.plural(2, ctx.voice.noun)} "
                f"{'is' if dropped == 1 else 'are'} not named (public disclosure rule).")
        if ctx.is_force:
            share = analysis.locality_area_share()
            if share:
                txt = w.fig(_small_pct(share), share, "small percent", Ref("analysis", "locality_area_share()"))
                w.p(f"Together the localities cover {txt} of the study area.")

    # where in the area: sub-areas by harm
    sub_level = {"force": "csp", "csp": "ward", "district": "ward"}.get(ctx.level)
    if sub_level and ctx.row.get("harm"):
        sub = _sub_areas(ctx, sub_level)
        if sub is not None and sub.height > 1:
            parts = []
            for sr in sub.head(3).iter_rows(named=True):
                pt = w.share_of(sr["harm"] / ctx.row["harm"], sr["n"], ctx.n,
                                Ref(f"area_profiles:{sub_level}", "harm", _key(code=sr["code"])), ctx.ref("harm"))
                if pt not in ("withheld", "not known"):
                    parts.append(f"{w.label(sr['name'])} ({pt})")
            if parts:
                w.p(f"By {'CSP' if sub_level == 'csp' else 'ward'}, the most harm was in {join_words(parts)}.")
    _place_mix(w, ctx)
    return w.done(f"There is no {ctx.voice.thing} in {area} in the period, so there is nowhere to describe.")


def _place_mix(w: _W, ctx: _Ctx) -> None:
    """Public place against home, as a breakdown that adds up to 100."""
    share, known, nf, sref, nref, n = _flag_values(ctx, "public_place")
    if _is_null(share) or not known:
        if ctx.voice.proxy:
            w.p("police.uk does not say whether an offence happened in a home or a public place.")
        return
    known_n = int(round(known * n))
    ncol = ctx.n_ref.column
    whole = ctx.ref(f"public_place_known*{ncol}")
    public, home = int(nf), known_n - int(nf)
    ref_public, ref_home = ctx.ref("public_place_n"), ctx.ref(f"public_place_known*{ncol}-public_place_n")
    parts = w.breakdown([("public", public), ("home", home)], lambda p: ref_public if p.label == "public" else ref_home,
                        per=whole, min_lines=2)
    pc = {p.label: p.percent.text for p in parts}
    if len(parts) == 2:
        w.p(f"Of the offences with a recorded place, {pc['public']} happened in a public place and {pc['home']} in a home.")
    elif public == 0 or home == 0:
        w.p("Every offence with a recorded place happened " + ("in a home." if public == 0 else "in a public place."))
    else:  # one side is too small for a percentage: counts only
        w.p(f"Of the offences with a recorded place, {w.count(public, ref_public)} happened in a public place and "
            f"{w.count(home, ref_home)} in a home.")


def _small_pct(frac: float) -> str:
    """A small share with one decimal under 10% ('0.4%'), whole above."""
    v = frac * 100
    if 0 < v < 0.1:
        return "less than 0.1%"
    if v < 10:
        return f"{dc.round_half_up(v, 1):.1f}%"
    return f"{int(dc.round_half_up(v))}%"


def _sub_areas(ctx: _Ctx, sub_level: str) -> pl.DataFrame | None:
    try:
        prof = ctx.eng.profiles(sub_level)
    except ValueError:
        return None
    if not ctx.is_force:
        col = f"{ctx.level}_code"
        if col not in prof.columns:
            return None
        prof = prof.filter(pl.col(col) == ctx.code)
    if ctx.rule.locality_min:
        prof = prof.filter(pl.col("n") >= ctx.rule.locality_min)
    return prof.filter(pl.col("n") > 0).sort(["harm", "code"], descending=[True, False])


def _locality_line(w: _W, ctx: _Ctx, lr: dict) -> str:
    lid = lr["locality_id"]
    lk = _key(locality_id=lid)
    first = w.count(lr["n_incidents"], Ref("localities", "n_incidents", lk), ctx.voice.noun)
    if ctx.level == "csp" and not _is_null(lr.get("share_of_area_harm")):
        sh = w.share_of(lr["share_of_area_harm"], lr["n_incidents"], ctx.n, Ref("localities", "share_of_area_harm", lk))
        if sh not in ("withheld", "not known"):
            first += f" and {sh} of the CSP's harm"
    elif ctx.level != "csp" and ctx.row.get("harm"):
        sh = w.share_of(lr["harm"] / ctx.row["harm"], lr["n_incidents"], ctx.n, Ref("localities", "harm", lk),
                        ctx.ref("harm"))
        if sh not in ("withheld", "not known"):
            first += f" and {sh} of the harm in {ctx.short}"
    bits = [first]
    pattern = lr.get("pattern")
    kind = PATTERN_WORDS[pattern].split(" (")[0] if pattern in PATTERN_WORDS else ""
    if lr.get("trend") in ("rising", "falling"):
        kind = (kind + ", " if kind else "") + f"{lr['trend']} month by month"
    if kind:
        bits.append(kind)
    return f"{w.label(lr['name'])} ({w.label(lid)}): " + "; ".join(bits) + "."


# ----------------------------------------------------------------------------- what / who / when


def _what(ctx: _Ctx) -> Section:
    w = _W("what", "What", ctx.rule)
    v = ctx.voice
    unit = w.label(ctx.name) if ctx.kind == "area" else "the locality"
    n_total = ctx.n
    if not n_total:
        return w.done(f"No {v.thing} was recorded in {unit} in the period, so there is no mix to describe.")
    cats = _categories(ctx)
    total = w.count(n_total, ctx.n_ref, v.noun)
    shown = sorted([c for c in cats if c[2] > 0], key=lambda c: (-c[2], c[0]))
    exclusive = sum(c[2] for c in shown) == n_total
    if exclusive:
        # one category per offence (the police.uk proxy's crime types): a breakdown adding up to 100
        by_label = {c[1]: c for c in shown}
        parts = w.breakdown([(c[1], c[2]) for c in shown],
                            lambda p: (by_label[p.label][3] if p.label in by_label else
                                       _merge_refs([by_label[m][3] for m in p.merged])),
                            other_label="other categories", per=ctx.n_ref)
        items = []
        plain_label = lambda lab: _label_mid(re.sub(r"\s*\(all\)$", "", lab))  # noqa: E731
        for p in parts:
            if p.merged:
                lab = join_words([w.label(plain_label(m)) for m in p.merged], "or")
                ref = _merge_refs([by_label[m][3] for m in p.merged])
            else:
                lab, ref = w.label(plain_label(p.label)), by_label[p.label][3]
            cnt = w.count(p.n, ref)
            items.append(f"{cnt} ({p.percent.text}) {'were ' if not items else ''}{lab}")
        w.p(f"Of the {total} in {unit}{_period_words(w, ctx)}, {join_words(items)}.")
        if v.proxy:
            w.p("police.uk cannot tell serious violence from other violence: its violence type holds everything "
                "from common assault and harassment to grievous bodily harm and homicide.")
    else:
        items = []
        for cid, lab, n, ref in shown[:6]:
            cnt = w.count(n, ref)
            pc = w.pct(n, n_total, ref, ctx.n_ref)
            items.append(f"{cnt}{'' if pc == 'withheld' else f' ({pc})'} {'were ' if not items else ''}{w.label(_label_mid(lab))}")
        s = f"Of the {total} in {unit}{_period_words(w, ctx)}, {join_words(items)}"
        rest = shown[6:]
        if rest:
            s += f"; {_num_words(len(rest))} other {dc.plural(len(rest), 'part')} of the definition held fewer"
        w.fig("100%", 1.0, "constant", Ref("constant", "whole"))
        w.p(s + ". An offence can meet more than one part of the definition, so these shares add up to more than 100%.")
    # markers
    items, recorded = [], []
    for flag, phrase in (("domestic_abuse", "were linked to domestic abuse"), ("sexual", "were sexual offences"),
                         ("knife", "involved a knife or sharp instrument"), ("alcohol", "involved alcohol")):
        share, known, nf, sref, nref, n = _flag_values(ctx, flag)
        if _is_null(share) or _is_null(known) or not known:
            continue
        known_n = int(round(known * n))
        pc = w.pct(nf, known_n, sref)
        items.append(f"{w.count(nf, nref) if pc == 'withheld' else pc} {phrase}")
        if known < 0.995:
            kn = w.share_of(known, known_n, n, ctx.ref(f"{flag}_known"))
            if kn not in ("withheld", "not known"):
                recorded.append(f"the {_MARKER_NAME[flag]} for {kn}" + (" of offences" if not recorded else ""))
    if items:
        w.p(f"Of these offences, {join_words(items)}.")
    if recorded:
        w.p(f"Each share is of the offences where the fact is recorded: {join_words(recorded)}.")
    cannot = _cannot_flags(ctx, ("domestic_abuse", "knife", "sexual"))
    if cannot:
        w.p(f"The data cannot show {join_words(cannot)}.")
    return w.done("")


_MARKER_NAME = {
    "domestic_abuse": "domestic-abuse marker",
    "sexual": "offence code",
    "knife": "knife marker",
    "alcohol": "alcohol marker",
    "youth": "victim or suspect age",
}


def _categories(ctx: _Ctx) -> list[tuple[str, str, int, Ref]]:
    """(id, label, n, ref) for each category of the definition, from the profile or locality mix."""
    out = []
    d = ctx.eng.prep.definition
    if ctx.kind == "area":
        for c in d.categories:
            col = f"cat_{c.id}_n"
            if col in ctx.row and not _is_null(ctx.row[col]):
                out.append((c.id, c.label, int(ctx.row[col]), ctx.ref(col)))
        return out
    mix = ctx.eng.analysis.locality_categories
    mix = mix.filter(pl.col("locality_id") == ctx.code) if mix.height else mix
    got = {r["category"]: int(r["n"]) for r in mix.iter_rows(named=True)}
    for c in d.categories:
        out.append((c.id, c.label, got.get(c.id, 0),
                    Ref("locality_categories", "n", _key(locality_id=ctx.code, category=c.id))))
    return out


def _period_words(w: _W, ctx: _Ctx) -> str:
    """' between April 2021 and March 2024' for the subject's period (months registered as figures)."""
    if ctx.kind == "area":
        a, b = ctx.row.get("period_start"), ctx.row.get("period_end")
        ra, rb = ctx.ref("period_start"), ctx.ref("period_end")
    else:
        a, b = ctx.eng.analysis.window or (None, None)
        ra, rb = Ref("analysis", "window[0]"), Ref("analysis", "window[1]")
    if not a or not b:
        return ""
    return " " + _between(w, a, b, ra, rb)


def _short_place(w: _W, lr: dict) -> str:
    """A locality named for prose: 'Echo in Ashlow' (its focus in its ward), else its full name."""
    focus, ward = lr.get("focus"), lr.get("ward_name")
    if focus and ward and focus != ward:
        return f"{w.label(focus)} in {w.label(ward)}"
    return w.label(lr["name"])


def _label_mid(label: str) -> str:
    """A category label mid-sentence: lower-case first letter unless it looks like an acronym."""
    if len(label) > 1 and (label[1].isupper() or label[1].isdigit()):
        return label
    return label[:1].lower() + label[1:]


_FLAG_NOTES = {
    "domestic_abuse": "whether an offence was domestic abuse",
    "sexual": "which offences were sexual",
    "knife": "whether a knife or sharp instrument was involved",
    "alcohol": "whether alcohol was involved",
    "youth": "victim or suspect ages",
    "night": "the time of day",
    "nte": "links to the night-time economy",
    "public_place": "the type of place",
}


def _flag_values(ctx: _Ctx, flag: str):
    """(share, known fraction, n with flag, share ref, n ref, subject n)."""
    r = ctx.row
    return (r.get(f"{flag}_share"), r.get(f"{flag}_known"), r.get(f"{flag}_n"), ctx.ref(f"{flag}_share"),
            ctx.ref(f"{flag}_n"), ctx.n)


def _cannot_flags(ctx: _Ctx, flags: Iterable[str]) -> list[str]:
    out = []
    for f in flags:
        share, known = ctx.row.get(f"{f}_share"), ctx.row.get(f"{f}_known")
        if _is_null(share) and (_is_null(known) or known == 0):
            out.append(_FLAG_NOTES[f])
    return out


def _who(ctx: _Ctx) -> Section:
    w = _W("who", "Who", ctx.rule)
    v = ctx.voice
    share, known, nf, sref, nref, n = _flag_values(ctx, "youth")
    if _is_null(share) or not known:
        under = w.const("25", "hotspot.profiles.YOUTH_UNDER")
        w.p(f"The data holds no victim or suspect ages, so it cannot show how much of the {v.short} involves young "
            f"people (under {under}, the Serious Violence Duty's focus).")
        return w.done("")
    known_n = int(round(known * n))
    pc = w.pct(nf, known_n, sref)
    kn = w.share_of(known, known_n, n, ctx.ref("youth_known"))
    under = w.const("25", "hotspot.profiles.YOUTH_UNDER")
    if pc == "withheld":
        w.p(f"{_cap(w.count(nf, nref, v.noun))} involved a victim or suspect under {under} (the share is withheld "
            f"under the disclosure rule); an age is recorded for {kn} of offences.")
    else:
        cmp_txt = ""
        fr = ctx.force_row
        if fr and not ctx.is_force and not _is_null(fr.get("youth_share")):
            fk = int(round(fr["youth_known"] * fr["n"]))
            fpc = w.pct(fr["youth_n"], fk, ctx.force_ref("youth_share"))
            if fpc not in ("withheld", "not known"):
                cmp_txt = (f", the same share as across {w.label(fr['name'])}" if fpc == pc
                           else f", against {fpc} across {w.label(fr['name'])}")
        w.p(f"Where an age is recorded ({kn} of offences), {pc} involved a victim or suspect under {under}{cmp_txt}.")
    ages = ctx.ages()
    small: list[str] = []
    for who, col in (("victim", "victim"), ("suspect", "suspect")):
        k = ages.get(f"{col}_known", 0)
        if not k:
            continue
        items = [(lab, ages.get(f"{col}_{lab.replace(' ', '_')}", 0)) for lab, _lo, _hi in AGE_BANDS]
        parts = w.breakdown(
            items, order="given", per=Ref("ages", f"{col}_known", ctx.age_key()), min_lines=2,
            ref_of=lambda p, col=col: Ref("ages", "+".join(f"{col}_{m.replace(' ', '_')}" for m in (p.merged or (p.label,))),
                                          ctx.age_key()),
            other_label="other ages",
        )
        if len(parts) < 2:
            if parts:  # everything folded into one line: nothing to break down
                small.append(who)
            continue
        descs = [f"{p.percent.text} {_age_words(w, p.label)}" for p in parts]
        kt = w.count(k, Ref("ages", f"{col}_known", ctx.age_key()))
        w.p(f"By {who} age (recorded for {kt} {dc.plural(k, 'offence')}): {join_words(descs)}.")
    if small:
        w.p(f"Too few offences have a recorded {' or '.join(small)} age to break the ages down under the "
            "disclosure rule.")
    ek = ages.get("either_known", 0)
    if ek:
        p18 = w.pct(ages.get("either_under_18", 0), ek, Ref("ages", "either_under_18", ctx.age_key()),
                    Ref("ages", "either_known", ctx.age_key()))
        p24 = w.pct(ages.get("either_18_to_24", 0), ek, Ref("ages", "either_18_to_24", ctx.age_key()),
                    Ref("ages", "either_known", ctx.age_key()))
        if p18 not in ("withheld", "not known") and p24 not in ("withheld", "not known"):
            w.p(f"Someone under {w.const('18', 'age band')} (victim or suspect) was involved in {p18} of the offences "
                f"with a known age, and someone aged {w.const('18', 'age band')} to {w.const('24', 'age band')} in {p24}.")
    return w.done("")


def _age_words(w: _W, label: str) -> str:
    if label == "other ages":
        return "of other ages"
    for n in re.findall(r"\d+", label):
        w.const(n, "age band")
    return label if label.startswith("under") else f"aged {label}"


def _when(ctx: _Ctx) -> Section:
    w = _W("when", "When", ctx.rule)
    v = ctx.voice
    peak = ctx.peak() or {}
    timed = peak.get("timed_n")
    if not _is_null(timed) and 0 < timed < MIN_TIMED:
        tt = w.count(timed, ctx.peak_ref("timed_n"), v.noun)
        w.p(f"Only {tt} here {'has' if tt.startswith('1 ') else 'have'} a recorded time, too few to show a busiest "
            "day or hour.")
    elif _is_null(timed) or not timed:
        w.p("The data gives the month only (police.uk publishes no day or time), so days of the week, hours and "
            "the night-time economy cannot be shown." if v.proxy or _is_null(ctx.row.get("night_share")) else
            "No offence here has a recorded time of day, so days and hours cannot be shown.")
    else:
        pref = ctx.peak_ref
        bits = []
        wd = peak.get("peak_weekday")
        if not _is_null(wd):
            day = w.fig(WEEKDAY_NAMES[int(wd) - 1], int(wd), "weekday", pref("peak_weekday"))
            pd = w.pct(peak["peak_weekday_n"], timed, pref("peak_weekday_n"), pref("timed_n"))
            bits.append(f"the busiest day was {day}" + ("" if pd == "withheld" else f" ({pd} of offences with a time)"))
        hr = peak.get("peak_hour_from")
        if not _is_null(hr):
            h0 = int(hr)
            band = w.fig(f"{h0:02d}:00 and {(h0 + 2) % 24:02d}:59", h0, "hour band", pref("peak_hour_from"))
            ph = w.pct(peak["peak_hour_n"], timed, pref("peak_hour_n"), pref("timed_n"))
            bits.append(f"the busiest three hours were between {band}" + ("" if ph == "withheld" else f" ({ph})"))
        if bits:
            w.p(join_words(bits) + ".")
        parts = []
        for flag in ("night", "nte"):
            share, known, nf, sref, nref, n = _flag_values(ctx, flag)
            if _is_null(share) or not known:
                continue
            pc = w.pct(nf, int(round(known * n)), sref)
            if pc == "withheld":
                continue
            if flag == "night":
                parts.append(f"{pc} happened at night ({w.const('21:00', 'hotspot.profiles.NIGHT_START')} to "
                             f"{w.const('03:59', 'hotspot.profiles.NIGHT_END')})")
            else:
                parts.append(f"{pc} were in the night-time economy (at night and within "
                             f"{w.const('100', 'hotspot.profiles.NEAR_VENUE_M')} metres of a licensed venue)")
        if parts:
            w.p(f"Of all offences here, {join_words(parts)}.")
    frame, msrc, mkey = ctx.monthly()
    if frame.height and int(frame["n"].sum()) > 0:
        top = frame.sort(["n", "month"], descending=[True, False]).row(0, named=True)
        if not dc.is_small(top["n"], ctx.rule):
            mref = lambda col: Ref(msrc, col, mkey + (("month", top["month"]),))  # noqa: E731
            s = f"The busiest month was {w.month(top['month'], mref('month'))} ({w.count(top['n'], mref('n'), v.noun)}"
            if ctx.kind == "area" and not _is_null(ctx.row.get("per_month")):
                pm = ctx.row["per_month"]
                s += f", against an average of {w.number(pm, ctx.ref('per_month'), 0 if pm >= 10 else 1)} a month"
            w.p(s + ").")
    return w.done(f"No {v.thing} in the period, so there is no pattern in time to describe.")


# ----------------------------------------------------------------------------- risk factors


def _risk(ctx: _Ctx) -> Section:
    w = _W("risk", "Risk factors", ctx.rule)
    name = w.label(ctx.name) if ctx.kind == "area" else "the locality"
    if ctx.is_force:
        w.p("Risk factors compare an area with the force average, so they are given in the briefing for each CSP, "
            "not for the force area as a whole.")
        return w.done("")
    frame = ctx.eng.risk("locality" if ctx.kind == "locality" else ctx.level)
    if frame is None:
        return w.done("Risk factors are not available in this version of svtui.")
    rows = frame.filter(pl.col("code") == ctx.code) if frame.height and "code" in frame.columns else frame.head(0)
    if rows.height == 0 or "value" not in rows.columns or rows["value"].drop_nulls().len() == 0:
        w.p(f"None found: the study holds no deprivation, population or venue indicators for {name}, so it cannot "
            "be compared with the force average. Add the IMD and population files to the study to see them.")
        return w.done("")
    src = "risk_factors:" + ("locality" if ctx.kind == "locality" else ctx.level)
    if ctx.kind == "area":
        units = LEVEL_SHORT[ctx.level] + "s" if ctx.level != "lsoa" else "LSOAs"
    else:
        units = "LSOAs"
    flagged = rows.filter(pl.col("flagged")).sort("rank")
    if flagged.height:
        w.p(f"Against the force average, {name} stands out on:")
        for fr in flagged.head(4).iter_rows(named=True):
            w.li(_risk_line(w, ctx, fr, src, units, frame))
    else:
        above = (pl.when(pl.col("ratio").is_not_null()).then(pl.col("ratio") > 1)
                 .otherwise((pl.col("value") - pl.col("force_value")) * pl.col("direction") > 0))
        near = rows.filter(pl.col("headline") & pl.col("value").is_not_null() & above.fill_null(False)).sort(
            ["top_pct", "factor"]).head(3)
        w.p(f"None of the risk factors the study holds puts {name} among the riskiest quarter of {units}"
            + ("; the closest are:" if near.height else ", and none is above the force average."))
        for fr in near.iter_rows(named=True):
            w.li(_risk_line(w, ctx, fr, src, units, frame))
    said = set(flagged.head(4)["factor"].to_list())
    dep = rows.filter(pl.col("factor") == "imd_most_deprived_share")
    if dep.height and "imd_most_deprived_share" not in said:
        d = dep.row(0, named=True)
        if not _is_null(d["value"]) and not _is_null(d["force_value"]):
            k = _key(code=ctx.code, factor="imd_most_deprived_share")
            val = w.fig(dc.pct_text(d["value"]), d["value"], "percent", Ref(src, "value", k))
            fv = w.fig(dc.pct_text(d["force_value"]), d["force_value"], "percent", Ref(src, "force_value", k))
            where = "the LSOAs this locality's offences fall in" if ctx.kind == "locality" else name
            w.p(f"For context, {val} of residents of {where} live in the most deprived "
                f"{w.const('20%', 'IMD deciles 1 and 2')} of neighbourhoods in England, against {fv} across the force area.")
    w.p("These are associations, not causes: they show where conditions linked to violence are concentrated.")
    return w.done("")


def _risk_line(w: _W, ctx: _Ctx, fr: dict, src: str, units: str, frame: pl.DataFrame) -> str:
    k = _key(code=fr["code"], factor=fr["factor"])
    label = w.label(fr["label"])
    if ctx.kind == "locality" and fr["factor"] == "licensed_venue_density":
        label += " inside the locality"
    if not _is_null(fr.get("ratio")):
        s = f"{label}: {w.ratio(fr['ratio'], Ref(src, 'ratio', k))} times the force average"
    else:
        s = (f"{label}: {w.number(fr['value'], Ref(src, 'value', k), 2)}, against a force average of "
             f"{w.number(fr['force_value'], Ref(src, 'force_value', k), 2)}")
    tp = fr.get("top_pct")
    if _is_null(tp):
        return s + "."
    if ctx.kind == "area":
        n_units = frame.filter((pl.col("factor") == fr["factor"]) & pl.col("value").is_not_null())["code"].n_unique()
        if n_units <= 20:
            pos = max(1, int(round(tp * n_units)))
            nu = w.number(n_units, Ref(src, "code", _key(factor=fr["factor"]), agg="count_units"))
            if pos == 1:
                return s + f" (the {'highest' if fr.get('direction', 1) > 0 else 'riskiest'} of {nu} {units})."
            pt = w.fig(f"{pos}{_ordinal(pos).strip()[len(str(pos)):]}", tp, "rank", Ref(src, "top_pct", k),
                       note=f"position = top_pct x {n_units}")
            return s + f" ({pt} of {nu} {units} for risk)."
    pct = max(1, min(100, int(-(-tp * 100 // 1))))
    return s + f" (among the riskiest {w.fig(f'{pct}%', tp, 'top share', Ref(src, 'top_pct', k))} of {units})."


# ----------------------------------------------------------------------------- interventions and gaps


def _coverage(ctx: _Ctx):
    """(reach rows, gap rows, source level) for the subject, or None when not available."""
    level = ctx.level if ctx.kind == "area" else "csp"
    cov = ctx.eng.coverage(level)
    if cov is None:
        return None
    reach, gaps = cov
    unit = "locality" if ctx.kind == "locality" else ctx.level
    keep = lambda f: f.filter((pl.col("unit") == unit) & (pl.col("code") == ctx.code)) if f.height else f  # noqa: E731
    return keep(reach), keep(gaps), level, unit


def _interventions(ctx: _Ctx) -> Section:
    w = _W("interventions", "Interventions and gaps", ctx.rule)
    ivs = list(getattr(ctx.eng.study, "interventions", []) or [])
    name = w.label(ctx.name) if ctx.kind == "area" else "the locality"
    if not ivs:
        w.p("None found: the study lists no interventions, so coverage and gaps cannot be assessed. Add an "
            "interventions file (docs/formats.md) to see which programmes reach this area.")
        return w.done("")
    cov = _coverage(ctx)
    if cov is None:
        return w.done("Coverage is not available in this version of svtui.")
    reach, gaps, level, unit = cov
    src_r, src_g = f"coverage.reach:{level}", f"coverage.gaps:{level}"
    n_iv = len(ivs)
    reaching = reach.filter(pl.col("reaches") != "no").sort(["place_share", "intervention"], descending=[True, False]) if reach.height else reach
    if reaching.height == 0:
        w.p(f"None of the study's {_count_words(n_iv, Ref('interventions', 'name', agg='count'), w)} "
            f"{dc.plural(n_iv, 'intervention')} reaches {name}.")
    else:
        if reaching.height == n_iv:
            lead = (f"The study's one intervention reaches {name}:" if n_iv == 1 else
                    f"All {_count_words(n_iv, None, w)} of the study's interventions reach {name}:")
        else:
            lead = (f"{_cap(_count_words(reaching.height, None, w))} of the study's {_count_words(n_iv, None, w)} "
                    f"{dc.plural(n_iv, 'intervention')} {'reaches' if reaching.height == 1 else 'reach'} {name}:")
        w.p(lead)
        for ir in reaching.iter_rows(named=True):
            w.li(_reach_line(w, ctx, ir, ivs, src_r, unit))
    real = gaps.filter(pl.col("status").is_in(["gap", "partly met"])) if gaps.height else gaps
    if real.height:
        w.p("Gaps, largest first (a need where no matching intervention reaches most of its harm):")
        for gr in real.sort(["gap_score", "need"], descending=[True, False]).iter_rows(named=True):
            w.li(_gap_line(w, ctx, gr, src_g, unit))
    else:
        status = {r["need"]: r["status"] for r in gaps.iter_rows(named=True)} if gaps.height else {}
        if not status or all(s == "not known" for s in status.values()):
            w.p("Gaps: none can be judged. The data has no markers, ages or times of day (police.uk has none), so "
                "svtui cannot tell which needs an area has or whether provision meets them.")
        else:
            met = [_provision(k) for k, s in status.items() if s == "met"]
            w.p("Gaps: none found. " + (f"The {join_words(met)} provision that {name} needs reaches it, and no "
                                         "other need passes its threshold." if met
                                         else f"No need passes its threshold in {name}."))
    return w.done("")


def _reach_line(w: _W, ctx: _Ctx, ir: dict, ivs: list, src: str, unit: str) -> str:
    k = _key(unit=unit, code=ctx.code, intervention=ir["intervention"])
    iv = next((i for i in ivs if i.name == ir["intervention"]), None)
    line = _b(w.label(ir["intervention"]))
    if ir.get("provider"):
        line += f" ({w.label(ir['provider'])})"
    if iv is not None and iv.cohort:
        line += f", for {w.label(iv.cohort)}"
    elif iv is not None and iv.ages is not None:
        a0, a1 = iv.ages
        line += (f", for ages {w.fig(str(a0), a0, 'constant', Ref('interventions', 'ages[0]', _key(name=iv.name)))} to "
                 f"{w.fig(str(a1), a1, 'constant', Ref('interventions', 'ages[1]', _key(name=iv.name)))}")
    bits = []
    if ir["reaches"] == "partly":
        bits.append(f"its area covers only {w.share_of(ir['place_share'], None, None, Ref(src, 'place_share', k))} of the harm")
    if iv is not None and not iv.any_time and not _is_null(ir.get("time_share")):
        ts = w.share_of(ir["time_share"], None, None, Ref(src, "time_share", k))
        bits.append(f"it runs {w.label('; '.join(iv.times_text))}, when {ts} of the offences with a time happened")
    return line + (": " + "; ".join(bits) if bits else "") + "."


def _gap_line(w: _W, ctx: _Ctx, gr: dict, src: str, unit: str) -> str:
    k = _key(unit=unit, code=ctx.code, need=gr["need"])
    need = _cap(NEED_WORDS.get(gr["need"], gr["need"].replace("_", " ")))
    known_n = int(round((gr.get("known") or 0) * ctx.n))
    sh = w.share_of(gr["share"], gr["n_flagged"], known_n, Ref(src, "share", k)) if not _is_null(gr.get("share")) else "not known"
    base = f"{need}: {sh} of the {ctx.voice.thing}" if sh not in ("withheld", "not known") else need
    cov = gr.get("covered_share")
    if _is_null(cov) or cov <= 0:
        return base + f"; no {_provision(gr['need'])} intervention reaches it."
    cs = w.share_of(cov, None, None, Ref(src, "covered_share", k))
    names = _provider_names(gr.get("providers") or "")
    who = join_words([w.label(n) for n in names]) or "the provision there"
    return base + f"; {who} {'reaches' if len(names) <= 1 else 'reach'} only {cs} of its harm."


def _provider_names(text: str) -> list[str]:
    """Intervention names from coverage's 'Name (limits), Name (limits)' providers text."""
    names, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(cur)
            cur = ""
            continue
        if depth == 0 and ch not in "()":
            cur += ch
    names.append(cur)
    return [n.strip() for n in names if n.strip()]


def _provision(need: str) -> str:
    return {"knife": "knife-crime", "youth": "youth", "night_time_economy": "night-time economy",
            "domestic_abuse": "domestic-abuse", "sexual_violence": "sexual-violence"}.get(need, need)


# ----------------------------------------------------------------------------- suggested focus


def _focus(ctx: _Ctx) -> Section:
    w = _W("focus", "Suggested focus", ctx.rule)
    r = ctx.row
    ivs = list(getattr(ctx.eng.study, "interventions", []) or [])
    cov = _coverage(ctx) if ivs else None
    status: dict[str, dict] = {}
    reaching: set[str] = set()
    if cov is not None:
        reach, gaps, _level, _unit = cov
        status = {g["need"]: g for g in gaps.iter_rows(named=True)} if gaps.height else {}
        reaching = set(reach.filter(pl.col("reaches") != "no")["intervention"].to_list()) if reach.height else set()

    def ivs_for(theme: str, reaching_only: bool = True) -> list[str]:
        return [iv.name for iv in ivs if theme in iv.themes and (iv.name in reaching or not reaching_only)]

    def names(lst: list[str]) -> str:
        return join_words([w.label(n) for n in lst])

    def is_gap(need: str) -> bool:
        return need in status and status[need]["status"] in ("gap", "partly met")

    fr = ctx.force_row
    items: list[str] = []
    # primary prevention: places
    if ctx.kind == "area":
        loc = _area_localities(ctx)
        if ctx.rule.locality_min and loc.height:
            loc = loc.filter(pl.col("n_incidents") >= ctx.rule.locality_min)
        if loc.height:
            places = join_words([_short_place(w, lr) for lr in loc.head(2).iter_rows(named=True)])
            when = " at the peak times" if not _is_null(ctx.row.get("night_share")) else ""
            items.append(f"{_b('Primary prevention: places.')} Focus problem-solving partnership work on {places}, "
                         "where the harm is most concentrated: licensing conditions, guardianship, lighting and CCTV, "
                         f"and visible patrols{when} protect everyone who uses these places.")
    else:
        peak = " at the peak times above" if not _is_null(r.get("timed_n")) and r.get("timed_n") else ""
        items.append(f"{_b('Primary prevention: this place.')} Put the locality on the tasking agenda with a problem "
                     f"profile: licensing and environmental changes, and patrols{peak}, reviewed each month against "
                     "its count.")
    nte_share = r.get("nte_share")
    if is_gap("night_time_economy"):
        elsewhere = ivs_for("night_time_economy", reaching_only=False)
        s = (f"{_b('Primary prevention: the night-time economy.')} No night-time scheme reaches most of the "
             "night-time harm here. Work with licensees, door staff and taxi marshals on the busiest nights")
        s += f"; the model of {names(elsewhere[:2])} elsewhere in the study could be extended here." if elsewhere else "."
        items.append(s)
    elif not _is_null(nte_share) and nte_share >= 0.25 and ivs_for("night_time_economy"):
        items.append(f"{_b('Primary prevention: the night-time economy.')} Keep {names(ivs_for('night_time_economy'))} "
                     "running on the peak nights, and check its hours against the peak times above.")
    # secondary prevention: people at risk
    yshare = r.get("youth_share")
    youth_high = (not _is_null(yshare) and fr is not None and not _is_null(fr.get("youth_share"))
                  and yshare >= fr["youth_share"])
    if is_gap("youth") or youth_high:
        youth_ivs = ivs_for("youth")
        s = f"{_b('Secondary prevention: young people at risk.')} "
        if youth_ivs:
            s += f"Make sure young people involved in violence here are referred to {names(youth_ivs)}"
            oldest = max((iv.ages[1] for iv in ivs if iv.name in youth_ivs and iv.ages), default=None)
            ages = ctx.ages()
            a1824, ek = ages.get("either_18_to_24", 0), ages.get("either_known", 0)
            if oldest is not None and oldest < 18 and ek and a1824 >= max(ctx.rule.share_min, 5) and a1824 / ek >= 0.10:
                s += (f". The youth offer here stops at {w.const(str(oldest), 'oldest age of the youth interventions')}, "
                      f"yet young adults aged {w.const('18', 'age band')} to {w.const('24', 'age band')} are involved "
                      "in many offences: consider provision for that age through colleges, probation and employment "
                      "support")
            s += "."
        else:
            other = ivs_for("youth", reaching_only=False)
            s += ("No youth programme reaches this area"
                  + (f"; consider extending {names(other[:2])} here." if other else "; consider commissioning one."))
        items.append(s)
    if is_gap("domestic_abuse"):
        other = ivs_for("domestic_abuse", reaching_only=False)
        items.append(f"{_b('Secondary prevention: domestic abuse.')} Domestic abuse is a large part of the violence here "
                     "and no domestic-abuse service reaches most of it"
                     + (f": extending {names(other)} here would close the gap." if other else
                        ": raise it with the domestic abuse partnership board."))
    if is_gap("sexual_violence"):
        other = ivs_for("sexual_violence", reaching_only=False)
        items.append(f"{_b('Secondary prevention: sexual violence.')} The share of sexual offences is above the force "
                     "level and little of it is reached: vulnerability training for licensed premises and safe "
                     "spaces on the busiest nights"
                     + (f" (as {names(other[:2])} provide elsewhere)." if other else "."))
    # tertiary prevention: people already involved
    knife_ivs = ivs_for("knife")
    kshare = r.get("knife_share")
    knife_high = (not _is_null(kshare) and fr is not None and not _is_null(fr.get("knife_share"))
                  and kshare >= fr["knife_share"] and (r.get("knife_n") or 0) >= max(ctx.rule.share_min, 5))
    if is_gap("knife") or (knife_ivs and knife_high):
        if knife_ivs:
            items.append(f"{_b('Tertiary prevention: knife crime.')} Use {names(knife_ivs)} for people already "
                         "involved in knife crime, so that an arrest or a stop is also a referral.")
        else:
            items.append(f"{_b('Tertiary prevention: knife crime.')} No knife-crime programme reaches this area: agree a "
                         "referral route for people found carrying or using a knife.")
    # priority from the trend
    ch = r.get("change_12m") if ctx.kind == "area" else None
    if not _is_null(ch) and ch >= 0.10:
        items.append(f"{_b('Priority.')} Violence here rose over the latest year: take this area to the next "
                     "strategic group and set a date to review it.")
    if ctx.kind == "locality" and r.get("trend") == "rising":
        items.append(f"{_b('Priority.')} The monthly count here is rising: review it at the next tasking meeting.")
    # data
    if ctx.voice.proxy:
        items.append(f"{_b('Data.')} This briefing rests on public police.uk data. A record-level extract from the "
                     "force (offence codes, markers, dates and times) and A&E assault data (Cardiff Model) would show "
                     "the serious violence this proxy cannot.")
    elif ctx.eng.study is not None and (getattr(ctx.eng.study, "ae", None) is None or ctx.eng.study.ae.height == 0):
        items.append(f"{_b('Data.')} Add A&E assault data (Cardiff Model, ISTV) to the study: most assault victims seen "
                     "in emergency departments never report to the police.")

    w.p("These suggestions follow rules from the figures above and the public health approach: primary prevention "
        "for places and whole populations, secondary prevention for people at risk, tertiary prevention for people "
        "already involved. They are a starting point for the partnership, not a decision.")
    if items:
        for it in items:
            w.li(it)
    else:
        w.p("None found: no need passes its threshold and no gap was found, so the only suggestion is to keep "
            "current provision under review.")
    w.p(f"Deliver them through the {w.const('5', 'the 5Cs')}Cs: collaboration between partners, co-production with "
        "communities and young people, cooperation in data and intelligence sharing, counter-narrative development, "
        "and community consent.")
    return w.done("")


# ----------------------------------------------------------------------------- data notes


def _notes(ctx: _Ctx) -> Section:
    w = _W("notes", "Data notes", ctx.rule)
    eng = ctx.eng
    prep, analysis, study = eng.prep, eng.analysis, eng.study
    d = prep.definition
    if prep.synthetic:
        w.li(f"{_b('SYNTHETIC.')} The study {w.label(prep.study_name)} is made up: every area, venue, offence and "
             "intervention in it is fictional. Do not use these figures for decisions.")
    if study is not None and getattr(study, "ledger", None) is not None:
        parts = []
        for s in study.ledger.sources:
            if s.kind not in ("crimes", "records", "ae"):
                continue
            fname = str(s.path).replace("\\", "/").rstrip("/").split("/")[-1]
            kind = {"crimes": "police.uk", "records": "police records", "ae": "A&E assaults"}[s.kind]
            lk = _key(path=s.path)
            txt = (f"{kind} ({w.label(fname)}): {w.count(s.read, Ref('ledger', 'read', lk), 'row')} read, "
                   f"{w.count(s.accepted, Ref('ledger', 'accepted', lk))} used")
            if s.n_quarantined:
                txt += f", {w.count(s.n_quarantined, Ref('ledger', 'quarantined', lk))} set aside"
            parts.append(txt)
        others = []
        spec = getattr(study, "spec", None)
        for what, p in (("boundaries", getattr(spec, "areas", None)), ("venues", getattr(spec, "venues", None)),
                        ("interventions", getattr(spec, "interventions", None))):
            if p is not None:
                others.append(f"{what} ({w.label(str(p).replace(chr(92), '/').split('/')[-1])})")
        if parts or others:
            w.li("Sources: " + "; ".join(parts + others) + ". Rows set aside are listed by svtui check.")
    win = getattr(analysis, "window", None)
    if win:
        a0, a1 = win
        w.month(a0, Ref("analysis", "window[0]"))
        w.month(a1, Ref("analysis", "window[1]"))
        nm = w.number(_n_months(a0, a1), Ref("analysis", "window months"))
        twelve = "12"
        txt = f"Period: {_window_text(a0, a1)} ({nm} {dc.plural(_n_months(a0, a1), 'month')})."
        if _n_months(a0, a1) >= 24:
            w.const("12", "months in a year")
            txt += (f" The yearly change compares the latest {twelve} months with the {twelve} before; the three-year "
                    f"change compares them with the {twelve} months ending two years earlier.")
        w.li(txt)
    ver = w.fig(str(d.version), str(d.version), "constant", Ref("definition", "version"))
    w.li(f"Definition: {w.label(d.title)}, version {ver} ({w.label(d.name)}). An offence counts once however many "
         "parts of the definition it meets.")
    w.li("Harm weights are ONS Crime Severity Score weights (the average sentence in days for each offence). All are "
         "provisional until checked against the current ONS workbook (docs/definition.md).")
    if d.applies_to == "police.uk" or ctx.voice.proxy:
        w.li(f"{_b('What police.uk cannot show.')} It has no markers (knife, domestic abuse, hate crime, alcohol, "
             "county lines), no offence codes and no ages. It gives the month only, never the day or time. It snaps "
             "every location to an anonymous map point (a street centre or a public place), so fine-grained patterns "
             "are blurred. The proxy definition counts all violence and sexual offences, robbery and weapon "
             "possession, so it over-counts serious violence: our rough estimate is that about a fifth of it would "
             "meet a record-level definition.")
    elif d.cannot_see:
        w.li("What the data cannot show: " + "; ".join(w.label(c) for c in d.cannot_see) + ".")
    for note in d.notes:
        w.li(w.label(note, None))
    w.li(ctx.rule.describe().replace("Disclosure control:", _b("Disclosure control:"), 1))
    for n in re.findall(r"\d+", ctx.rule.describe()):
        w.const(n, "disclosure rule")
    enotes = list(dict.fromkeys(list(getattr(analysis, "notes", []) or []) + eng.notes))
    if enotes:
        if ctx.rule.level == "none":
            for n in enotes:
                w.li("Engine note: " + w.label(n))
        else:
            w.li(f"The engine recorded {_count_words(len(enotes), None, w)} data-quality "
                 f"{dc.plural(len(enotes), 'note')} for this analysis (svtui check shows them).")
    w.li(f"Written by svtui {w.label(_version())}. Every figure above is taken from the engine's tables; the "
         "briefing object lists each one with its source.")
    return w.done("")


# ----------------------------------------------------------------------------- locality briefing


def _locality_ctx(eng: _Engine, rule, voice, lid: str) -> _Ctx:
    loc = eng.analysis.localities
    row = _row(loc, locality_id=lid) if loc.height else None
    if row is None:
        ids = loc["locality_id"].head(5).to_list() if loc.height else []
        hint = f" Hotspots in this analysis include {', '.join(ids)}." if ids else " This analysis found no hotspots."
        raise ValueError(f"unknown hotspot {lid!r}: give a locality id from svtui hotspots.{hint}")
    if not dc.keep_locality(row["n_incidents"], rule):
        raise ValueError(f"hotspot {lid} has fewer than {rule.locality_min} offences: the {rule.level} disclosure rule "
                         "does not allow it to be described (use --disclosure partner for partners)")
    force_prof = eng.profiles("force")
    force_row = force_prof.row(0, named=True) if force_prof.height == 1 else None
    return _Ctx(eng, rule, voice, "locality", "locality", lid, row["name"], row, force_row, "localities")


def _locality_briefing(eng: _Engine, rule: dc.Rule, voice: _Voice, lid: str) -> Briefing:
    prep, analysis = eng.prep, eng.analysis
    ctx = _locality_ctx(eng, rule, voice, lid)
    win = analysis.window
    sections = [
        _loc_headline(ctx),
        _loc_where(ctx),
        _what(ctx),
        _who(ctx),
        _when(ctx),
        _risk(ctx),
        _interventions(ctx),
        _focus(ctx),
        _notes(ctx),
    ]
    eng.sources["localities"] = "analysis.localities"
    eng.sources["locality_categories"] = "analysis.locality_categories"
    eng.sources["locality_monthly"] = "analysis.locality_monthly"
    title_noun = "Hotspot briefing (police.uk proxy)" if voice.proxy else "Hotspot briefing"
    csp = ctx.row.get("csp_name")
    return Briefing(
        title=f"{title_noun}: {plain(ctx.name, 120)}",
        subtitle=_subtitle([f"Hotspot locality {lid}" + (f" in {csp}" if csp else ""),
                            _window_text(*win) if win else "", prep.study_name], rule),
        subject_kind="hotspot",
        subject_level="locality",
        subject_code=lid,
        subject_name=ctx.name,
        study_name=prep.study_name,
        synthetic=bool(prep.synthetic),
        disclosure=rule.level,
        window=win,
        definition=f"{prep.definition.name} v{prep.definition.version}",
        sections=sections,
        sources=dict(eng.sources),
    )


def _loc_headline(ctx: _Ctx) -> Section:
    w = _W("headline", "Headline", ctx.rule)
    r, v = ctx.row, ctx.voice
    analysis = ctx.eng.analysis
    win = analysis.window
    name, lid = w.label(ctx.name), w.label(ctx.code)
    where = []
    if r.get("ward_name"):
        where.append(f"{w.label(r['ward_name'])} ward")
    if r.get("csp_name"):
        where.append(f"{w.label(r['csp_name'])}")
    place = f" in {', '.join(where)}" if where else ""
    n_txt = w.count(r["n_incidents"], ctx.ref("n_incidents"), v.noun)
    s = f"{name} ({lid}) is a hotspot locality{place}. {_cap(_period_words(w, ctx).strip()) or 'Over the period'} it recorded {n_txt}"
    csp_share = r.get("share_of_area_harm")
    if not _is_null(csp_share) and r.get("csp_name"):
        sh = w.share_of(csp_share, r["n_incidents"], None, ctx.ref("share_of_area_harm"))
        if sh not in ("withheld", "not known"):
            s += f", {sh} of the {_harm_words()} in {w.label(r['csp_name'])}"
    km2 = w.fig(f"{r['area_m2'] / 1e6:.2f}", r["area_m2"], "km2", ctx.ref("area_m2"))
    w.p(s + f", in an area of {km2} km².")
    # the year against the year before, from the locality's monthly series
    m = analysis.locality_monthly
    m = m.filter(pl.col("locality_id") == ctx.code).sort("month") if m.height else m
    if m.height >= 24:
        last = m.tail(12)
        prev = m.slice(m.height - 24, 12)
        now_n, prev_n = int(last["n"].sum()), int(prev["n"].sum())
        ref_now = Ref("locality_monthly", "n", _key(locality_id=ctx.code, month=tuple(last["month"].to_list())), agg="sum")
        ref_prev = Ref("locality_monthly", "n", _key(locality_id=ctx.code, month=tuple(prev["month"].to_list())), agg="sum")
        end_txt = w.date_end(last["month"][-1], Ref("locality_monthly", "month", _key(locality_id=ctx.code), agg="max"))
        ch, chv = w.change(now_n, prev_n, ref_now, ref_prev)
        now_txt = w.count(now_n, ref_now, v.noun)
        prev_txt = w.count(prev_n, ref_prev)
        if chv is None:
            w.p(f"In the year to {end_txt} it recorded {now_txt}, against {prev_txt} the year before.")
        elif chv == 0:
            w.p(f"In the year to {end_txt} it recorded {now_txt}, the same as the year before.")
        else:
            w.p(f"In the year to {end_txt} it recorded {now_txt}, {'up' if chv > 0 else 'down'} {ch} on the year "
                f"before ({prev_txt}).")
    elif m.height:
        w.p(f"A change over the year needs {w.const('24', 'months for a 12-month change')} months of data; this "
            f"analysis has {w.number(m.height, Ref('locality_monthly', 'month', _key(locality_id=ctx.code), agg='count'))}.")
    bits = []
    pattern = r.get("pattern")
    if pattern in PATTERN_WORDS:
        bits.append(f"Emerging hot spot analysis classes it as {PATTERN_WORDS[pattern]}")
    trend = r.get("trend")
    if trend in ("rising", "falling") or (trend == "no clear trend" and pattern != "Persistent Hot Spot"):
        t = {"rising": "a rising trend", "falling": "a falling trend", "no clear trend": "no clear trend"}[trend]
        bits.append(f"its monthly count shows {t} (Mann-Kendall test at the {w.const('5%', 'significance level')} level)")
    if bits:
        w.p("; ".join(bits) + ".")
    return w.done("")


def _loc_where(ctx: _Ctx) -> Section:
    w = _W("where", "Where", ctx.rule)
    r = ctx.row
    if r.get("focus"):
        w.p(f"Most of the harm centres on {w.label(r['focus'])}.")
    area = []
    if r.get("ward_name"):
        area.append(f"{w.label(r['ward_name'])} ward")
    if r.get("district_name"):
        area.append(w.label(re.sub(r", County of$", "", r["district_name"])))
    if r.get("lsoa_code"):
        w.p(f"The locality lies mainly in LSOA {w.label(r['lsoa_code'])}" + (f" ({', '.join(area)})" if area else "") + ".")
    venues = r.get("top_venues") or []
    counts = r.get("top_venue_n") or []
    if venues:
        parts = []
        for i, (vn, vc) in enumerate(zip(venues, counts)):
            ref = Ref("localities", "top_venue_n", _key(locality_id=ctx.code), agg=f"item{i}")
            parts.append(f"{w.label(vn)} ({w.count(vc, ref, ctx.voice.noun if i == 0 else None)})")
        near = w.const("100", "hotspot.profiles.NEAR_VENUE_M")
        w.p(f"The licensed venues with most harm within {near} metres are {join_words(parts)}.")
    elif not ctx.voice.proxy:
        w.p("No licensed venue lies within 100 metres of its offences.".replace("100", w.const("100", "hotspot.profiles.NEAR_VENUE_M")))
    _place_mix(w, ctx)
    return w.done("The data does not say more about where in the locality the harm falls.")


def _version() -> str:
    """svtui's version (installed metadata, else pyproject.toml beside the package)."""
    try:
        from importlib.metadata import version

        return version("svtui")
    except Exception:  # noqa: BLE001 - not installed: read the source tree
        pass
    try:
        import tomllib
        from pathlib import Path

        pp = Path(__file__).resolve().parents[1] / "pyproject.toml"
        return tomllib.loads(pp.read_text(encoding="utf-8"))["project"]["version"]
    except Exception:  # noqa: BLE001
        return "unknown"
