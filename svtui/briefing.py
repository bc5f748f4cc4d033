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
from svtui.safe import markdown_safe, plain

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


def _md_inline(raw: str) -> str:
    out = _DATA_RE.sub(lambda m: markdown_safe(m.group(1), None), raw)
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
        lines += [f"# {markdown_safe(b.title, None)}", "", f"*{markdown_safe(b.subtitle, None)}*", ""]
        if b.synthetic:
            lines += ["> **SYNTHETIC sample data.** Every area, venue and offence in this briefing is made up. "
                      "Do not use it for decisions.", ""]
        for s in b.sections:
            lines += [f"## {markdown_safe(s.title, None)}", ""]
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


def _d(value: object, max_len: int = 160) -> str:
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
    def label(self, value: object) -> str:
        out = _d(value)
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
        if n_part is not None and n_whole is not None and dc._reveals(n_part, n_whole, self.rule):
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
        text = f"{dc.round_half_up(v, 1):.1f}"
        return self.fig(text, v, "ratio", ref, per)

    def number(self, v, ref: Ref | None, digits: int = 0, kind: str = "number") -> str:
        text = f"{dc.round_half_up(v, digits):,.{digits}f}" if digits else f"{int(dc.round_half_up(v)):,}"
        return self.fig(text, v, kind, ref)

    def date_end(self, m: date, ref: Ref | None) -> str:
        return self.fig(month_end_text(m), m, "date", ref)

    def month(self, m: date, ref: Ref | None) -> str:
        return self.fig(month_text(m), m, "month", ref)

    def breakdown(self, items: list[tuple[str, int]], ref_of, other_label: str = "other") -> list[dc.Part]:
        """dc.breakdown with each line's count and percentage recorded as figures."""
        parts = dc.breakdown(items, self.rule, other_label)
        total = sum(p.n for p in parts)
        for p in parts:
            self.fig(p.count.text, p.n, "count", ref_of(p))
            self.fig(p.percent.text, p.n / total if total else None, "breakdown", ref_of(p),
                     note="largest-remainder rounding over the lines shown")
        return parts

    def done(self, fallback: str) -> Section:
        if self.empty:
            self.p(fallback)
        return self.s


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

    Raises ValueError naming the study's CSPs when nothing matches.
    """
    h = prep.hierarchy
    want = str(area).strip()
    if not want:
        raise ValueError("give an area name or code")
    found: list[tuple[str, str, str]] = []
    for level in LEVEL_PREFERENCE:
        code_c, name_c = f"{level}_code", f"{level}_name"
        if code_c not in h.columns:
            continue
        sub = h.select(code_c, *([name_c] if name_c in h.columns else [])).drop_nulls(code_c).unique(code_c)
        hit = sub.filter(pl.col(code_c).str.to_uppercase() == want.upper())
        if hit.height == 0 and name_c in sub.columns:
            target = _norm_name(want)
            names = sub[name_c].to_list()
            idx = [i for i, n in enumerate(names) if n is not None and _norm_name(n) == target]
            hit = sub[idx] if idx else hit
        if hit.height:
            code = hit[code_c][0]
            name = hit[name_c][0] if name_c in hit.columns and hit[name_c][0] else code
            found.append((level, code, name))
            if hit[code_c][0].upper() == want.upper():
                return level, code, name
    if found:
        return found[0]
    if want.lower() in ("study", "all", "force") or _norm_name(want) == _norm_name(prep.study_name):
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


def _voice(definition) -> _Voice:
    if getattr(definition, "applies_to", "records") == "police.uk":
        return _Voice(
            "Violence, robbery and weapon possession recorded on police.uk",
            "offence",
            "violence, robbery and weapon possession (the police.uk proxy for serious violence)",
            True,
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
    e.g. ``L-SO850550``), or, with neither, the whole study area."""
    if area and hotspot:
        raise ValueError("brief on an area or a hotspot, not both")
    rule = dc.rule_for(disclosure)
    eng = _Engine(prep, analysis, study)
    voice = _voice(prep.definition)
    if hotspot:
        return _locality_briefing(eng, rule, voice, hotspot)
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
    return f"{month_text(start)} to {month_text(end)}"


def _n_months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _subtitle(level_word: str, start, end, study_name: str, rule: dc.Rule) -> str:
    parts = [level_word, _window_text(start, end), plain(study_name, 120), f"{rule.level} disclosure"]
    return " · ".join(p for p in parts if p)


# ----------------------------------------------------------------------------- area briefing


def _area_briefing(eng: _Engine, rule: dc.Rule, voice: _Voice, level: str, code: str, name: str) -> Briefing:
    prep, analysis = eng.prep, eng.analysis
    prof = eng.profiles(level)
    row = _row(prof, code=code)
    if row is None:
        raise ValueError(f"area {code} has no profile (is it in the study's boundaries?)")
    force_prof = eng.profiles("force")
    force_row = force_prof.row(0, named=True) if force_prof.height == 1 else None
    start, end = row.get("period_start"), row.get("period_end")
    src = f"area_profiles:{level}"
    ctx = _AreaCtx(eng, rule, voice, level, code, name, row, force_row, src)

    sections = [
        _area_headline(ctx),
        _area_where(ctx),
        _what(ctx, ctx.cat_rows(), row["n"], Ref(src, "n", _key(code=code))),
        _who(ctx),
        _when(ctx),
        _risk(ctx, eng.risk(level), code, LEVEL_SHORT[level] + "s" if level != "lsoa" else "LSOAs"),
        _interventions(ctx, unit=level, unit_code=code),
        _focus(ctx),
        _notes(ctx),
    ]
    title_noun = "Serious violence briefing" if not voice.proxy else "Violence briefing (police.uk proxy)"
    return Briefing(
        title=f"{title_noun}: {plain(name, 120)}",
        subtitle=_subtitle(LEVEL_WORDS[level] + (f" {code}" if level not in ("force",) and code != "study" else ""),
                           start, end, prep.study_name, rule),
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


@dataclass
class _AreaCtx:
    eng: _Engine
    rule: dc.Rule
    voice: _Voice
    level: str
    code: str
    name: str
    row: dict
    force_row: dict | None
    src: str
    kind: str = "area"

    @property
    def key(self):
        return _key(code=self.code)

    def ref(self, column: str) -> Ref:
        return Ref(self.src, column, self.key)

    @property
    def is_force(self) -> bool:
        return self.level == "force"

    @property
    def the_area(self) -> str:
        """How the area is named mid-sentence."""
        return _d(self.name)

    @property
    def short(self) -> str:
        return {"csp": "the CSP", "force": "the force area", "district": "the district", "ward": "the ward",
                "lsoa": "the LSOA"}[self.level]

    def cat_rows(self) -> list[tuple[str, str, int, Ref]]:
        """(id, label, n, ref) per definition category, from the profile's cat_<id>_n columns."""
        out = []
        for c in self.eng.prep.definition.categories:
            col = f"cat_{c.id}_n"
            if col in self.row and not _is_null(self.row[col]):
                out.append((c.id, c.label, int(self.row[col]), self.ref(col)))
        return out

    def localities(self) -> pl.DataFrame:
        loc = self.eng.analysis.localities
        if loc.height == 0:
            return loc
        if self.level == "force":
            return loc
        col = f"{self.level}_code"
        if col not in loc.columns:
            return loc.head(0)
        return loc.filter(pl.col(col) == self.code)


def _area_headline(ctx: _AreaCtx) -> Section:
    w = _W("headline", "Headline", ctx.rule)
    r, v = ctx.row, ctx.voice
    area = w.label(ctx.name)
    start, end = r.get("period_start"), r.get("period_end")
    if r["n"] is None or not start:
        w.p(f"{v.subject} in {area}: the study has no months with data for the chosen period, so nothing can be "
            "said about it.")
        return w.done("")
    latest, prev, base3 = r.get("latest_12m"), r.get("previous_12m"), r.get("base_3y_12m")
    months = int(r.get("months") or _n_months(start, end))
    noun = v.noun
    if not _is_null(latest) and not _is_null(prev):
        end_txt = w.date_end(end, ctx.ref("period_end"))
        ch, chv = w.change(latest, prev, ctx.ref("latest_12m"), ctx.ref("previous_12m"))
        now_txt = w.count(latest, ctx.ref("latest_12m"), noun)
        before_txt = w.count(prev, ctx.ref("previous_12m"))
        if chv is None:
            verb = "changed (the change is withheld under the disclosure rule)" if ch == "withheld" else "is not comparable"
            s = f"{v.subject} in {area} {verb} in the year to {end_txt} ({now_txt}, against {before_txt} the year before)"
        elif chv == 0:
            s = f"{v.subject} in {area} was unchanged in the year to {end_txt} ({now_txt}, against {before_txt} the year before)"
        else:
            s = (f"{v.subject} in {area} {'increased' if chv > 0 else 'decreased'} by {ch} in the year to {end_txt} "
                 f"({now_txt}, {'up' if chv > 0 else 'down'} from {before_txt})")
        if not _is_null(base3):
            ch3, ch3v = w.change(latest, base3, ctx.ref("latest_12m"), ctx.ref("base_3y_12m"))
            base_end = date(end.year - 2, end.month, 1)
            b3 = w.count(base3, ctx.ref("base_3y_12m"))
            b3_end = w.date_end(base_end, ctx.ref("period_end"))
            if ch3v is None:
                s += f"; the change over three years is {ch3} (against {b3} in the year to {b3_end})"
            elif ch3v == 0:
                s += f", and is unchanged over three years (against {b3} in the year to {b3_end})"
            else:
                s += (f", and {'rose' if ch3v > 0 else 'fell'} by {ch3} over three years "
                      f"(from {b3} in the year to {b3_end})")
        else:
            s += (f". The change over three years needs {w.const('36', 'months of data for a three-year change')} "
                  f"months of data; the study has {w.number(months, ctx.ref('months'))}")
        w.p(s + ".")
    else:
        n_txt = w.count(r["n"], ctx.ref("n"), noun)
        span = _window_text(start, end)
        w.fig(month_text(start), start, "month", ctx.ref("period_start"))
        w.fig(month_text(end), end, "month", ctx.ref("period_end"))
        if v.proxy:
            w.p(f"In {area}, police.uk recorded {n_txt} of violence, robbery or weapon possession between {span} "
                f"({w.number(months, ctx.ref('months'))} {dc.plural(months, 'month')}). This is the public proxy for "
                "serious violence: it counts all violence, so it over-counts serious violence.")
        else:
            w.p(f"{v.subject} in {area}: {n_txt} between {span} "
                f"({w.number(months, ctx.ref('months'))} {dc.plural(months, 'month')}).")
        w.p(f"A change over the year cannot be given yet: it needs {w.const('24', 'months of data for a 12-month change')} "
            f"months of data and this study has {w.number(months, ctx.ref('months'))}.")

    # Rate, share of the force, trend
    bits = []
    rate = r.get("rate_per_1000_year")
    if not _is_null(rate) and not _is_null(latest):
        rt = w.rate(rate, latest, ctx.ref("rate_per_1000_year"))
        if rt not in ("withheld", "not known"):
            s = f"That is {rt} {dc.plural(2, noun)} per {w.const('1,000', 'rate base')} residents in the latest year"
            fr = ctx.force_row
            if fr and not ctx.is_force and not _is_null(fr.get("rate_per_1000_year")):
                frt = w.rate(fr["rate_per_1000_year"], fr.get("latest_12m"), Ref("area_profiles:force", "rate_per_1000_year", _key(code=fr["code"])))
                s += f", against {frt} across {w.label(fr['name'])}"
            bits.append(s + ".")
    elif not _is_null(rate) or r.get("population_note"):
        pass
    if not ctx.is_force and not _is_null(r.get("share_of_total")) and ctx.force_row:
        fr = ctx.force_row
        sh = w.share_of(r["share_of_total"], r["n"], fr["n"], ctx.ref("share_of_total"))
        hs = w.share_of(r["harm_share_of_total"], r["n"], fr["n"], ctx.ref("harm_share_of_total"))
        if sh != "withheld":
            bits.append(f"{area} accounts for {sh} of the {v.noun}s in {w.label(fr['name'])} "
                        f"between {_window_text(start, end)} and {hs} of the {_harm_words()}.")
    trend = r.get("trend")
    if trend and months >= 3:
        mk = {"rising": "a rising trend", "falling": "a falling trend", "no clear trend": "no clear trend"}.get(trend)
        if mk:
            bits.append(f"Month by month, the series shows {mk} over the {w.number(months, ctx.ref('months'))} months "
                        f"(Mann-Kendall test at the {w.const('5%', 'significance level')} level).")
    if bits:
        w.p(" ".join(bits))
    if start:
        w.fig(month_text(start), start, "month", ctx.ref("period_start"))
        w.fig(month_text(end), end, "month", ctx.ref("period_end"))

    # Serious Violence Duty measures
    m = ctx.eng.measures(ctx.level)
    if m is not None and m.height:
        mrows = m.filter((pl.col("code") == ctx.code) & pl.col("duty"))
        said, missing = [], []
        for mr in mrows.iter_rows(named=True):
            mref = lambda col, mr=mr: Ref(f"duty_measures:{ctx.level}", col, _key(code=ctx.code, measure=mr["measure"]))  # noqa: E731
            label = _DUTY_PHRASE.get(mr["measure"], (mr["label"].lower(), mr["label"].lower()))
            if not mr["available"]:
                missing.append(label[1])
                continue
            val = mr["latest_12m"] if not _is_null(mr.get("latest_12m")) else mr["n"]
            col = "latest_12m" if not _is_null(mr.get("latest_12m")) else "n"
            said.append(_duty_phrase(w, mr["measure"], val, mref(col)))
        if said:
            when = (f"in the year to {w.date_end(end, ctx.ref('period_end'))}" if not _is_null(latest)
                    else f"between {_window_text(start, end)}")
            s = f"On the Serious Violence Duty's headline measures, {area} recorded {join_words(said)} {when}."
            if missing:
                s += f" The data cannot give {join_words(missing)}."
            w.p(s)
        elif missing:
            w.p(f"The Serious Violence Duty's headline measures cannot be given from this data: it cannot show "
                f"{join_words(missing)}.")
        ae_note = mrows.filter(pl.col("measure") == "ae_knife_assault")["note"].to_list() if mrows.height else []
        if ae_note and ae_note[0] and not ctx.is_force:
            w.p("Most A&E attendances carry no location, so they count only in the force total and the A&E figure "
                f"for {area} is an undercount.")
    return w.done("")


_DUTY_PHRASE = {
    "homicide": ("homicide", "homicides"),
    "ae_knife_assault": ("A&E attendance for assault with a knife or sharp object",
                         "A&E attendances for assault with a knife or sharp object"),
    "knife_crime": ("police-recorded knife or sharp-instrument offence", "police-recorded knife crime"),
}


def _duty_phrase(w: _W, measure: str, n, ref: Ref) -> str:
    if measure == "homicide":
        return w.count(n, ref, "homicide")
    if measure == "ae_knife_assault":
        return w.count(n, ref, "A&E attendance", "A&E attendances") + " for assault with a knife or sharp object"
    if measure == "knife_crime":
        return w.count(n, ref, "police-recorded knife or sharp-instrument offence")
    return w.count(n, ref, "event")


def _area_where(ctx: _AreaCtx) -> Section:
    w = _W("where", "Where", ctx.rule)
    eng, analysis = ctx.eng, ctx.eng.analysis
    loc_all = ctx.localities()
    dropped = 0
    loc = loc_all
    if loc_all.height and ctx.rule.locality_min:
        loc = loc_all.filter(pl.col("n_incidents") >= ctx.rule.locality_min)
        dropped = loc_all.height - loc.height
    area = w.label(ctx.name)
    if loc_all.height == 0:
        from hotspot.localities import min_incidents_for

        n_all = analysis.incidents.height
        w.p(f"No hotspot localities were found in {area}: none of its {ctx.voice.thing} forms a statistically "
            f"significant cluster (Getis-Ord Gi* on harm, false discovery rate {w.const('5%', 'FDR alpha')}) of at least "
            f"{w.fig(str(min_incidents_for(n_all)), min_incidents_for(n_all), 'constant', Ref('constant', 'hotspot.localities.min_incidents_for(n)'))} "
            f"{dc.plural(2, ctx.voice.noun)} within {w.const('250', 'DBSCAN eps in metres')} metres of each other.")
    else:
        top = loc.head(5)
        ids = top["locality_id"].to_list()
        n_loc = loc.height
        if ctx.level == "csp":
            share_col, whole = "share_of_area_harm", "the CSP's harm"
            frac = float(top[share_col].sum())
            total = w.share_of(frac, int(top["n_incidents"].sum()), ctx.row["n"],
                               Ref("localities", share_col, _key(locality_id=ids), agg="sum"))
        else:
            whole = f"the harm in {ctx.short}"
            area_harm = ctx.row["harm"]
            frac = float(top["harm"].sum()) / area_harm if area_harm else None
            total = w.share_of(frac, int(top["n_incidents"].sum()), ctx.row["n"],
                               Ref("localities", "harm", _key(locality_id=ids), agg="sum"), ctx.ref("harm"))
        how_many = (f"{_num_words(n_loc).capitalize()} hotspot {dc.plural(n_loc, 'locality')}" if n_loc <= 10
                    else f"{w.number(n_loc, Ref('localities', 'locality_id', agg='count'))} hotspot localities")
        if n_loc == 0:
            w.p(f"Hotspot localities were found in {area}, but each has fewer than "
                f"{w.fig(str(ctx.rule.locality_min), ctx.rule.locality_min, 'constant', Ref('constant', 'disclosure locality_min'))} "
                f"{dc.plural(2, ctx.voice.noun)}, so none is named under the public disclosure rule.")
        else:
            lead = (f"{how_many} {'lies' if n_loc == 1 else 'lie'} in {area}" if ctx.level != "force"
                    else f"The analysis found {how_many.lower() if n_loc <= 10 else how_many}")
            if n_loc > 5:
                lead += f"; the five with most {_harm_words()} hold {total} of {whole}"
            elif total not in ("withheld", "not known"):
                lead += (f", holding {total} of {whole}" if n_loc > 1 else f", holding {total} of {whole}")
            w.p(lead + ":")
            for lr in top.iter_rows(named=True):
                w.li(_locality_line(w, ctx, lr))
        if dropped:
            w.p(f"{_num_words(dropped).capitalize()} more {dc.plural(dropped, 'locality', 'localities')} with fewer than "
                f"{w.fig(str(ctx.rule.locality_min), ctx.rule.locality_min, 'constant', Ref('constant', 'disclosure locality_min'))} "
                f"{dc.plural(2, ctx.voice.noun)} {'is' if dropped == 1 else 'are'} not named (public disclosure rule).")
        if ctx.level == "force":
            share = analysis.locality_area_share()
            if share:
                txt = w.fig(_small_pct(share), share, "percent", Ref("analysis", "locality_area_share()"))
                w.p(f"Together the localities cover {txt} of the study area.")

    # Sub-areas: wards in a CSP or district, CSPs in the force.
    sub_level = {"force": "csp", "csp": "ward", "district": "ward"}.get(ctx.level)
    if sub_level:
        sub = _sub_areas(ctx, sub_level)
        if sub is not None and sub.height:
            top = sub.head(3)
            whole_harm = ctx.row["harm"]
            parts = []
            for sr in top.iter_rows(named=True):
                frac = sr["harm"] / whole_harm if whole_harm else None
                pt = w.share_of(frac, sr["n"], ctx.row["n"], Ref(f"area_profiles:{sub_level}", "harm", _key(code=sr["code"])),
                                ctx.ref("harm"))
                if pt in ("withheld", "not known"):
                    continue
                parts.append(f"{w.label(sr['name'])} ({pt})")
            if parts:
                lvl = "CSP" if sub_level == "csp" else "ward"
                w.p(f"By {lvl}, the most harm was in {join_words(parts)}.")
    return w.done(f"Nothing to say about where {ctx.voice.thing} happens in {_d(ctx.name)}: it has none in the period.")


def _small_pct(frac: float) -> str:
    """A small share with one decimal when under 10% (0.4%), else whole."""
    v = frac * 100
    if 0 < v < 0.1:
        return "less than 0.1%"
    if v < 10:
        return f"{dc.round_half_up(v, 1):.1f}%"
    return f"{int(dc.round_half_up(v))}%"


def _sub_areas(ctx: _AreaCtx, sub_level: str) -> pl.DataFrame | None:
    try:
        prof = ctx.eng.profiles(sub_level)
    except ValueError:
        return None
    if ctx.level != "force":
        col = f"{ctx.level}_code"
        if col not in prof.columns:
            return None
        prof = prof.filter(pl.col(col) == ctx.code)
    if ctx.rule.locality_min:
        prof = prof.filter(pl.col("n") >= ctx.rule.locality_min)
    return prof.filter(pl.col("n") > 0).sort(["harm", "code"], descending=[True, False])


def _locality_line(w: _W, ctx, lr: dict) -> str:
    lid = lr["locality_id"]
    lk = _key(locality_id=lid)
    n = w.count(lr["n_incidents"], Ref("localities", "n_incidents", lk), ctx.voice.noun)
    bits = [n]
    if ctx.level == "csp" and not _is_null(lr.get("share_of_area_harm")):
        sh = w.share_of(lr["share_of_area_harm"], lr["n_incidents"], ctx.row["n"],
                        Ref("localities", "share_of_area_harm", lk))
        if sh not in ("withheld", "not known"):
            bits.append(f"{sh} of the CSP's harm")
    elif ctx.level != "csp" and ctx.row.get("harm"):
        sh = w.share_of(lr["harm"] / ctx.row["harm"], lr["n_incidents"], ctx.row["n"], Ref("localities", "harm", lk),
                        ctx.ref("harm"))
        if sh not in ("withheld", "not known"):
            bits.append(f"{sh} of the harm in {ctx.short}")
    pattern = lr.get("pattern")
    if pattern and pattern in PATTERN_WORDS:
        bits.append(PATTERN_WORDS[pattern].split(" (")[0])
    trend = lr.get("trend")
    if trend in ("rising", "falling"):
        bits.append(f"{trend} month by month")
    return f"{w.label(lr['name'])} ({w.label(lid)}): {join_words(bits[:1] + [', '.join(bits[1:])] if len(bits) > 1 else bits, ';') if False else '; '.join(bits)}"


# ----------------------------------------------------------------------------- what / who / when


def _what(ctx, cats: list[tuple[str, str, int, Ref]], n_total, n_ref: Ref) -> Section:
    w = _W("what", "What", ctx.rule)
    v = ctx.voice
    unit = w.label(ctx.name) if ctx.kind == "area" else "the locality"
    if not n_total:
        return w.done(f"No {v.thing} was recorded in {unit} in the period, so there is no mix to describe.")
    total = w.count(n_total, n_ref, v.noun)
    shown = [(cid, lab, n, ref) for cid, lab, n, ref in cats if n > 0]
    shown.sort(key=lambda t: -t[2])
    if v.proxy:
        items = []
        for cid, lab, n, ref in shown:
            items.append(f"{w.count(n, ref, None)} {_d(lab.lower())}".replace(_d(lab.lower()), w.label(lab.lower()))
                         + f" ({w.pct(n, n_total, ref, n_ref)})")
        w.p(f"Of the {total} in {unit}, {join_words(items)}. police.uk cannot tell serious violence from "
            "other violence: the violence type holds everything from common assault and harassment to "
            "grievous bodily harm and homicide, so this mix cannot be read as a serious-violence mix.")
    else:
        items = []
        for cid, lab, n, ref in shown[:6]:
            pc = w.pct(n, n_total, ref, n_ref)
            cnt = w.count(n, ref)
            items.append(f"{w.label(_label_mid(lab))} {cnt}" + (f" ({pc})" if pc not in ("withheld",) else ""))
        rest = shown[6:]
        s = f"Of the {total} in {unit}, the largest parts of the definition were {join_words(items)}"
        if rest:
            s += f"; {_num_words(len(rest))} smaller {dc.plural(len(rest), 'category', 'categories')} made up the rest"
        s += ". An offence can meet more than one part of the definition, so these shares add up to more than 100%."
        w.fig("100%", 1.0, "constant", Ref("constant", "whole"))
        w.p(s)
    # marker shares
    marks = []
    for flag, words in (("domestic_abuse", "linked to domestic abuse"), ("sexual", "sexual offences"),
                        ("knife", "involved a knife or sharp instrument"), ("alcohol", "involved alcohol")):
        phrase = _flag_phrase(w, ctx, flag, words)
        if phrase:
            marks.append(phrase)
    if marks:
        w.p(_cap(join_words(marks[:2])) + "." + (f" {_cap(join_words(marks[2:]))}." if marks[2:] else ""))
    cannot = _cannot_flags(ctx, ("domestic_abuse", "sexual", "knife"))
    if cannot:
        w.p(f"The data cannot show {join_words(cannot)}.")
    return w.done("")


def _label_mid(label: str) -> str:
    """A category label mid-sentence: lower-case first letter unless it is an acronym or proper noun."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


_FLAG_NOTES = {
    "domestic_abuse": "whether an offence was domestic abuse",
    "sexual": "which offences were sexual",
    "knife": "whether a knife or sharp instrument was involved",
    "alcohol": "whether alcohol was involved",
    "youth": "victim or suspect ages",
    "night": "the time of day",
    "nte": "night-time economy links (no times of day)",
    "public_place": "the type of place",
}


def _flag_values(ctx, flag: str) -> tuple[float | None, float | None, int | None, Ref, Ref, int]:
    """(share, known fraction, n with flag, share ref, n ref, unit n) from the profile or locality row."""
    r = ctx.row
    return (r.get(f"{flag}_share"), r.get(f"{flag}_known"), r.get(f"{flag}_n"), ctx.ref(f"{flag}_share"),
            ctx.ref(f"{flag}_n"), int(r.get("n") if ctx.kind == "area" else r.get("n_incidents")))


def _flag_phrase(w: _W, ctx, flag: str, words: str) -> str | None:
    share, known, nf, sref, nref, n = _flag_values(ctx, flag)
    if _is_null(share) or _is_null(known) or not known:
        return None
    known_n = int(round(known * n))
    pc = w.pct(nf, known_n, sref)
    if pc == "withheld":
        pc_txt = f"{w.count(nf, nref)} {dc.plural(2 if dc.is_small(nf, ctx.rule) else nf, ctx.voice.noun)} (share withheld)"
        return f"{pc_txt} {'were' if words.startswith('sexual') else ''} {words}".replace("  ", " ") if not words.startswith("sexual") else f"{pc_txt} were sexual offences"
    if known < 0.995:
        kn = w.share_of(known, known_n, n, ctx.ref(f"{flag}_known"))
        qual = f" (where recorded: {kn} of offences)"
    else:
        qual = ""
    if words.startswith("sexual"):
        return f"{pc} were sexual offences{qual}"
    return f"{pc} {'were' if words.startswith('linked') else ''} {words}{qual}".replace("  ", " ")


def _cannot_flags(ctx, flags: Iterable[str]) -> list[str]:
    out = []
    for f in flags:
        share, known = ctx.row.get(f"{f}_share"), ctx.row.get(f"{f}_known")
        if _is_null(share) and (_is_null(known) or known == 0):
            out.append(_FLAG_NOTES[f])
    return out


def _who(ctx) -> Section:
    w = _W("who", "Who", ctx.rule)
    v = ctx.voice
    share, known, nf, sref, nref, n = _flag_values(ctx, "youth")
    under = w.const("25", "hotspot.profiles.YOUTH_UNDER")
    if _is_null(share) or not known:
        w.p(f"The data holds no victim or suspect ages, so it cannot show how much {v.thing} involves young people "
            f"(under {under}, the Serious Violence Duty's focus).")
        return w.done("")
    known_n = int(round(known * n))
    pc = w.pct(nf, known_n, sref)
    kn = w.share_of(known, known_n, n, ctx.ref("youth_known"))
    if pc == "withheld":
        w.p(f"{w.count(nf, nref, v.noun)} involved a victim or suspect under {under} (share withheld under the "
            f"disclosure rule); an age is recorded for {kn} of offences.")
    else:
        force = ctx.force_row
        cmp_txt = ""
        if force and ctx.kind == "area" and ctx.level != "force" and not _is_null(force.get("youth_share")):
            fk = int(round(force["youth_known"] * force["n"]))
            fpc = w.pct(force["youth_n"], fk, Ref("area_profiles:force", "youth_share", _key(code=force["code"])))
            cmp_txt = f", against {fpc} across {w.label(force['name'])}"
        elif force and ctx.kind == "locality" and not _is_null(force.get("youth_share")):
            fk = int(round(force["youth_known"] * force["n"]))
            fpc = w.pct(force["youth_n"], fk, Ref("area_profiles:force", "youth_share", _key(code=force["code"])))
            cmp_txt = f", against {fpc} across {w.label(force['name'])}"
        w.p(f"Where an age is recorded ({kn} of offences), {pc} involved a victim or suspect under {under}{cmp_txt}.")
    ages = ctx.ages()
    akey = ctx.age_key()
    for who, col in (("victims", "victim"), ("suspects", "suspect")):
        k = ages.get(f"{col}_known", 0)
        if not k:
            continue
        items = [(lab, ages.get(f"{col}_{lab.replace(' ', '_')}", 0)) for lab, _lo, _hi in AGE_BANDS]
        parts = w.breakdown(items, lambda p, col=col: Ref("ages", f"{col}_{p.label.replace(' ', '_')}" if not p.merged else f"{col}_other", akey),
                            other_label="other ages")
        if not parts:
            continue
        kn = w.count(k, Ref("ages", f"{col}_known", akey), dc.plural(1, who[:-1]))
        desc = join_words([f"{_age_label(w, p.label)} {p.percent.text}" for p in parts])
        w.p(f"Of the {kn} with a recorded age, {desc}.")
    if ages.get("either_known"):
        u18 = ages.get("either_under_18", 0)
        a1824 = ages.get("either_18_to_24", 0)
        ek = ages["either_known"]
        p18 = w.pct(u18, ek, Ref("ages", "either_under_18", akey), Ref("ages", "either_known", akey))
        p24 = w.pct(a1824, ek, Ref("ages", "either_18_to_24", akey), Ref("ages", "either_known", akey))
        if p18 not in ("withheld", "not known") and p24 not in ("withheld", "not known"):
            w.p(f"Someone under {w.const('18', 'age band')} was involved in {p18} of offences with a known age, and "
                f"someone aged {w.const('18', 'age band')} to {w.const('24', 'age band')} in {p24}.")
    return w.done("")


def _age_label(w: _W, label: str) -> str:
    if label == "other ages":
        return "other ages"
    nums = re.findall(r"\d+", label)
    for n in nums:
        w.const(n, "age band")
    return f"aged {label}" if label[0].isdigit() else label


def _when(ctx) -> Section:
    w = _W("when", "When", ctx.rule)
    v = ctx.voice
    peak = ctx.peak()
    timed = peak.get("timed_n") if peak else None
    n_all = ctx.row.get("n") if ctx.kind == "area" else ctx.row.get("n_incidents")
    if _is_null(timed) or not timed:
        if v.proxy or _is_null(ctx.row.get("night_share")):
            w.p("The data gives the month only (police.uk publishes no day or time), so days of the week, hours "
                "and the night-time economy cannot be shown.")
    else:
        pref = ctx.peak_ref
        wd = peak.get("peak_weekday")
        hr = peak.get("peak_hour_from")
        bits = []
        if wd:
            pd = w.pct(peak["peak_weekday_n"], timed, pref("peak_weekday_n"), pref("timed_n"))
            day = WEEKDAY_NAMES[int(wd) - 1]
            w.fig(day, int(wd), "label", pref("peak_weekday"))
            bits.append(f"the busiest day was {day}" + (f" ({pd} of offences with a time)" if pd not in ("withheld",) else ""))
        if hr is not None:
            h0 = int(hr)
            band = f"{h0:02d}:00 and {(h0 + 2) % 24:02d}:59"
            w.fig(band, h0, "hour band", pref("peak_hour_from"))
            ph = w.pct(peak["peak_hour_n"], timed, pref("peak_hour_n"), pref("timed_n"))
            bits.append(f"the busiest three hours were between {band}" + (f" ({ph})" if ph not in ("withheld",) else ""))
        if bits:
            w.p(_cap(join_words(bits, "and")) + ".")
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
                parts.append(f"{pc} in the night-time economy (at night within "
                             f"{w.const('100', 'hotspot.profiles.NEAR_VENUE_M')} metres of a licensed venue)")
        if parts:
            w.p(_cap(join_words(parts)) + ".")
    # months
    busiest = ctx.busiest_month()
    if busiest is not None:
        m, nm, mref, avg = busiest
        if nm and not dc.is_small(nm, ctx.rule):
            mt = w.month(m, mref("month"))
            cnt = w.count(nm, mref("n"), v.noun)
            s = f"The busiest month was {mt} ({cnt}"
            if avg:
                s += f", against an average of {w.number(avg, ctx.ref('per_month') if ctx.kind == 'area' else None, 0 if avg >= 10 else 1)} a month"
            w.p(s + ").")
    return w.done(f"No {v.thing} in the period, so there is no pattern in time to describe.")


# ----------------------------------------------------------------------------- risk factors


def _risk(ctx, frame: pl.DataFrame | None, code: str, ref_units: str) -> Section:
    w = _W("risk", "Risk factors", ctx.rule)
    name = w.label(ctx.name) if ctx.kind == "area" else "the locality"
    if frame is None:
        return w.done("Risk factors are not available in this version of svtui.")
    if ctx.kind == "area" and ctx.level == "force":
        w.p("Risk factors compare an area with the force average; for the force area as a whole see the briefing "
            "for each CSP.")
        return w.done("")
    rows = frame.filter(pl.col("code") == code) if frame.height else frame
    if rows.height == 0 or rows["value"].drop_nulls().len() == 0:
        w.p(f"None found: the study holds no deprivation, population or venue indicators for {name}, so it cannot "
            "be compared with the force average. Add the IMD and population files to the study to see them.")
        return w.done("")
    src = "risk_factors:" + ("locality" if ctx.kind == "locality" else ctx.level)
    n_ref_units = None
    if ctx.kind == "area":
        n_ref_units = frame.filter(pl.col("value").is_not_null()).select("code").n_unique()
    flagged = rows.filter(pl.col("flagged")).sort("rank")
    lines = []
    for fr in flagged.head(4).iter_rows(named=True):
        lines.append(_risk_line(w, fr, src, ref_units, n_ref_units, frame))
    if lines:
        w.p(f"Against the force average, {name} stands out on:")
        for ln in lines:
            w.li(ln)
    else:
        w.p(f"None of the risk factors the study holds puts {name} among the riskiest quarter of its "
            f"{ref_units}; the closest are:")
        near = rows.filter(pl.col("headline") & pl.col("value").is_not_null()).sort(["top_pct", "factor"]).head(3)
        for fr in near.iter_rows(named=True):
            w.li(_risk_line(w, fr, src, ref_units, n_ref_units, frame))
    # deprivation context when not already listed
    said = set(flagged.head(4)["factor"].to_list())
    dep = rows.filter(pl.col("factor") == "imd_most_deprived_share")
    if dep.height and "imd_most_deprived_share" not in said and not _is_null(dep["value"][0]):
        d = dep.row(0, named=True)
        k = _key(code=code, factor="imd_most_deprived_share")
        val = w.fig(dc.pct_text(d["value"]), d["value"], "percent", Ref(src, "value", k))
        fv = w.fig(dc.pct_text(d["force_value"]), d["force_value"], "percent", Ref(src, "force_value", k)) if not _is_null(d["force_value"]) else None
        if fv:
            w.p(f"For context, {val} of residents live in the most deprived {w.const('20%', 'IMD deciles 1-2')} of "
                f"neighbourhoods in England, against {fv} across the force area.")
    w.p("These are associations, not causes: they say where the conditions linked to violence are concentrated.")
    return w.done("")


def _risk_line(w: _W, fr: dict, src: str, ref_units: str, n_units: int | None, frame: pl.DataFrame) -> str:
    k = _key(code=fr["code"], factor=fr["factor"])
    label = w.label(fr["label"])
    where = ""
    if not _is_null(fr.get("top_pct")):
        if n_units and n_units <= 20:
            pos = int(round(fr["top_pct"] * n_units))
            pos_txt = w.fig(str(pos), fr["top_pct"], "rank", Ref(src, "top_pct", k), note=f"x {n_units} units") if pos > 1 else ""
            nu = w.number(n_units, Ref(src, "code", _key(factor=fr["factor"]), agg="count"))
            where = f"the {pos_txt}{_ordinal(pos)[len(str(pos)):] if pos > 1 else ''}{' ' if pos > 1 else ''}highest of {nu} {ref_units}".replace("  ", " ")
            if fr.get("direction", 1) < 0:
                where = where.replace("highest", "lowest")
        else:
            tp = int(min(100, max(1, -(-fr["top_pct"] * 100 // 1))))
            where = f"among the riskiest {w.fig(f'{tp}%', fr['top_pct'], 'top share', Ref(src, 'top_pct', k))} of {ref_units}"
    if not _is_null(fr.get("ratio")):
        rt = w.ratio(fr["ratio"], Ref(src, "ratio", k))
        s = f"{label}: {rt} times the force average"
    else:
        val = w.number(fr["value"], Ref(src, "value", k), 2)
        fv = w.number(fr["force_value"], Ref(src, "force_value", k), 2)
        s = f"{label}: {val}, against a force average of {fv}"
    return s + (f" ({where})" if where else "")


# ----------------------------------------------------------------------------- interventions and gaps


def _interventions(ctx, unit: str, unit_code: str) -> Section:
    w = _W("interventions", "Interventions and gaps", ctx.rule)
    study = ctx.eng.study
    ivs = list(getattr(study, "interventions", []) or [])
    name = w.label(ctx.name) if ctx.kind == "area" else "the locality"
    if not ivs:
        w.p("None found: the study lists no interventions, so coverage and gaps cannot be assessed. Add an "
            "interventions file (see docs/formats.md) to see which programmes reach this area.")
        return w.done("")
    level = ctx.level if ctx.kind == "area" else "csp"
    cov = ctx.eng.coverage(level)
    if cov is None:
        w.p("Coverage is not available in this version of svtui.")
        return w.done("")
    reach, gaps = cov
    ukind = "locality" if ctx.kind == "locality" else unit
    rr = reach.filter((pl.col("unit") == ukind) & (pl.col("code") == unit_code)) if reach.height else reach
    src_r, src_g = f"coverage.reach:{level}", f"coverage.gaps:{level}"
    reaching = rr.filter(pl.col("reaches") != "no").sort(["place_share", "intervention"], descending=[True, False]) if rr.height else rr
    if reaching.height == 0:
        w.p(f"None of the study's {_num_words(len(ivs)) if len(ivs) <= 10 else len(ivs)} interventions reaches {name}.")
    else:
        w.p(f"{_cap(_num_words(reaching.height)) if reaching.height <= 10 else reaching.height} of the study's "
            f"{_num_words(len(ivs)) if len(ivs) <= 10 else len(ivs)} interventions reach {name}:")
        for ir in reaching.iter_rows(named=True):
            k = _key(unit=ukind, code=unit_code, intervention=ir["intervention"])
            bits = []
            iv = next((i for i in ivs if i.name == ir["intervention"]), None)
            who = ""
            if iv is not None and iv.cohort:
                who = f" for {w.label(iv.cohort)}"
            if iv is not None and iv.ages is not None:
                a0, a1 = iv.ages
                w.fig(str(a0), a0, "constant", Ref("interventions", "ages", _key(name=iv.name)))
                w.fig(str(a1), a1, "constant", Ref("interventions", "ages", _key(name=iv.name)))
                if not iv.cohort:
                    who = f" for ages {a0} to {a1}"
            if ir["reaches"] == "partly":
                pc = w.share_of(ir["place_share"], None, None, Ref(src_r, "place_share", k))
                bits.append(f"its area covers {pc} of the harm")
            if iv is not None and not iv.any_time and not _is_null(ir.get("time_share")):
                ts = w.share_of(ir["time_share"], None, None, Ref(src_r, "time_share", k))
                times = "; ".join(iv.times_text)
                for num in re.findall(r"\d+", times):
                    w.const(num, "intervention hours")
                bits.append(f"it runs {w.label(times)}, when {ts} of timed offences happened")
            prov = f" ({w.label(ir['provider'])})" if ir.get("provider") else ""
            line = f"{_b(w.label(ir['intervention']))}{prov}{who}"
            if bits:
                line += ": " + "; ".join(bits)
            w.li(line + ".")
    g = gaps.filter((pl.col("unit") == ukind) & (pl.col("code") == unit_code)) if gaps.height else gaps
    real = g.filter(pl.col("status").is_in(["gap", "partly met"])) if g.height else g
    if real.height:
        w.p("Gaps, largest first (needs where most of the harm is reached by no matching intervention):")
        for gr in real.sort(["gap_score", "need"], descending=[True, False]).iter_rows(named=True):
            w.li(_gap_line(w, ctx, gr, src_g, ukind, unit_code))
    else:
        statuses = {r["need"]: r["status"] for r in g.iter_rows(named=True)} if g.height else {}
        if statuses and all(s == "not known" for s in statuses.values()):
            w.p("None found, because none can be judged: the data has no markers, ages or times of day (police.uk "
                "has none), so svtui cannot tell which needs an area has.")
        else:
            met = [NEED_WORDS.get(k, k) for k, s in statuses.items() if s == "met"]
            w.p("No gaps found: " + (f"the {join_words(met)} provision that {name} needs reaches it"
                                     if met else f"no need passes its threshold in {name}") + ".")
    return w.done("")


def _gap_line(w: _W, ctx, gr: dict, src: str, ukind: str, code: str) -> str:
    k = _key(unit=ukind, code=code, need=gr["need"])
    need = NEED_WORDS.get(gr["need"], gr["need"].replace("_", " "))
    n_unit = ctx.row.get("n") if ctx.kind == "area" else ctx.row.get("n_incidents")
    known_n = int(round((gr.get("known") or 0) * (n_unit or 0)))
    sh = w.pct(gr["n_flagged"], known_n, Ref(src, "share", k), value=gr["share"]) if known_n else "not known"
    base = f"{_cap(need)}: {sh} of {ctx.voice.thing}" if sh not in ("withheld", "not known") else f"{_cap(need)}"
    cov = gr.get("covered_share")
    if _is_null(cov) or cov <= 0:
        return base + f"; no {_provision(gr['need'])} intervention reaches it."
    cs = w.share_of(cov, None, None, Ref(src, "covered_share", k))
    provs = gr.get("providers") or ""
    names = [p.split(" (")[0] for p in provs.split("), ")] if provs else []
    names = [n.rstrip(")") for n in names]
    who = join_words([w.label(n) for n in names if n])
    return base + f"; {who or 'the provision there'} {'reaches' if len(names) <= 1 else 'reach'} only {cs} of its harm."


def _provision(need: str) -> str:
    return {"knife": "knife-crime", "youth": "youth", "night_time_economy": "night-time economy",
            "domestic_abuse": "domestic-abuse", "sexual_violence": "sexual-violence"}.get(need, need)


# ----------------------------------------------------------------------------- suggested focus


def _focus(ctx) -> Section:
    w = _W("focus", "Suggested focus", ctx.rule)
    eng = ctx.eng
    r = ctx.row
    ivs = list(getattr(eng.study, "interventions", []) or [])
    level = ctx.level if ctx.kind == "area" else "csp"
    cov = eng.coverage(level) if ivs else None
    ukind = "locality" if ctx.kind == "locality" else ctx.level
    code = ctx.code
    reach = gaps = None
    if cov is not None:
        reach, gaps = cov
        reach = reach.filter((pl.col("unit") == ukind) & (pl.col("code") == code)) if reach.height else reach
        gaps = gaps.filter((pl.col("unit") == ukind) & (pl.col("code") == code)) if gaps.height else gaps
    status = {g["need"]: g for g in gaps.iter_rows(named=True)} if gaps is not None and gaps.height else {}
    reaching = set(reach.filter(pl.col("reaches") != "no")["intervention"].to_list()) if reach is not None and reach.height else set()

    def ivs_for(theme: str, reaching_only: bool = True) -> list[str]:
        return [iv.name for iv in ivs if theme in iv.themes and (iv.name in reaching or not reaching_only)]

    def names(lst: list[str]) -> str:
        return join_words([_b(w.label(n)) for n in lst])

    n_unit = r.get("n") if ctx.kind == "area" else r.get("n_incidents")
    items: list[str] = []

    # Primary prevention: place
    if ctx.kind == "area":
        loc = ctx.localities()
        if ctx.rule.locality_min:
            loc = loc.filter(pl.col("n_incidents") >= ctx.rule.locality_min)
        if loc.height:
            top = loc.head(2)
            places = join_words([w.label(x) for x in top["name"].to_list()])
            items.append(f"{_b('Primary prevention, place.')} Concentrate problem-solving partnership work on {places}, "
                         "where the harm is most concentrated: guardianship, lighting and CCTV, licensing conditions "
                         "and patrols at the busiest times protect everyone who uses these places.")
    else:
        items.append(f"{_b('Primary prevention, place.')} Put this locality on the tasking agenda for problem-solving "
                     "partnership work (an agreed problem profile, licensing and environmental changes, patrols at "
                     "the peak times in this briefing), reviewed against its monthly count.")
    nte = status.get("night_time_economy")
    nte_share = r.get("nte_share")
    if nte and nte["status"] in ("gap", "partly met"):
        have = ivs_for("night_time_economy", reaching_only=False)
        model = f" The {names(have[:2])} {'model' if len(have[:2]) == 1 else 'models'} elsewhere in the study could be extended here." if have else ""
        items.append(f"{_b('Primary prevention, night-time economy.')} No night-time scheme reaches most of the "
                     f"night-time harm here. Work with licensees, door staff and taxi marshals on the busiest nights.{model}")
    elif not _is_null(nte_share) and nte_share >= 0.25 and ivs_for("night_time_economy"):
        items.append(f"{_b('Primary prevention, night-time economy.')} Keep {names(ivs_for('night_time_economy'))} "
                     "running on the peak nights and check their hours against the peak times above.")

    # Secondary: people at risk
    youth = status.get("youth")
    yshare = r.get("youth_share")
    youth_ivs = ivs_for("youth")
    if youth and youth["status"] in ("gap", "partly met") or (not _is_null(yshare) and ctx.force_row
                                                             and not _is_null(ctx.force_row.get("youth_share"))
                                                             and yshare >= ctx.force_row["youth_share"]):
        s = f"{_b('Secondary prevention, young people.')} "
        if youth_ivs:
            s += f"Make sure young people involved are referred to {names(youth_ivs)}"
            max_age = max((iv.ages[1] for iv in ivs if iv.name in youth_ivs and iv.ages), default=None)
            if max_age is not None and max_age < 18:
                a = ctx.ages()
                if a.get("either_known") and a.get("either_18_to_24"):
                    s += (f". The youth offer here stops at {w.const(str(max_age), 'oldest age of the youth interventions')}, "
                          f"but many offences involve someone aged {w.const('18', 'age band')} to "
                          f"{w.const('24', 'age band')}: consider transition-age provision (through colleges, "
                          "probation and employment support)")
            s += "."
        else:
            s += ("No youth intervention reaches this area. Consider extending a programme such as "
                  f"{names(ivs_for('youth', reaching_only=False)[:2]) or 'a youth diversion scheme'} here.")
        items.append(s)
    da = status.get("domestic_abuse")
    if da and da["status"] in ("gap", "partly met"):
        elsewhere = ivs_for("domestic_abuse", reaching_only=False)
        items.append(f"{_b('Secondary prevention, domestic abuse.')} Domestic abuse is a large part of the violence "
                     "here and no domestic-abuse service reaches most of it"
                     + (f": extending {names(elsewhere)} here would close the gap." if elsewhere else
                        ": commission outreach and IDVA capacity through the domestic abuse partnership."))
    sx = status.get("sexual_violence")
    if sx and sx["status"] in ("gap", "partly met"):
        items.append(f"{_b('Secondary prevention, sexual violence.')} Sexual offences are above the force share here. "
                     "Bring in vulnerability training for licensed premises and safe spaces on the busiest nights"
                     + (f" (as {names(ivs_for('sexual_violence', reaching_only=False)[:2])} do elsewhere)."
                        if ivs_for("sexual_violence", reaching_only=False) else "."))

    # Tertiary: people already involved
    kn = status.get("knife")
    knife_ivs = ivs_for("knife")
    if (kn and kn["status"] in ("gap", "partly met")) or knife_ivs:
        if knife_ivs:
            items.append(f"{_b('Tertiary prevention, knife crime.')} Use {names(knife_ivs)} for those already "
                         "involved in knife crime, and pair enforcement with support so that an arrest is also a "
                         "referral.")
        else:
            items.append(f"{_b('Tertiary prevention, knife crime.')} No knife-crime programme reaches this area; "
                         "agree a referral route for people found with or using a knife.")

    # Trend
    ch = r.get("change_12m")
    if ctx.kind == "area" and not _is_null(ch) and ch >= 0.10:
        items.append(f"{_b('Priority.')} Violence here rose over the latest year: bring this area to the next "
                     "strategic group meeting and set a review date.")

    # Data (cooperation in data and intelligence sharing)
    if ctx.voice.proxy:
        items.append(f"{_b('Data.')} This briefing rests on public police.uk data. Ask the force for a "
                     "record-level extract (offence codes, markers, dates and times) and bring in A&E assault data "
                     "(Cardiff Model): together they show the serious violence this proxy cannot.")
    elif getattr(eng.study, "ae", None) is None or eng.study.ae.height == 0:
        items.append(f"{_b('Data.')} Add A&E assault data (Cardiff Model, ISTV) to the study: most assault victims "
                     "seen in emergency departments never report to the police.")

    w.p("Rule-based suggestions from the figures above, framed by the public health approach: primary prevention "
        "for places and whole populations, secondary prevention for people at risk, tertiary prevention for people "
        "already involved. They are a starting point for the partnership, not a decision.")
    if items:
        for it in items:
            w.li(it)
    else:
        w.p("None found: no need passes its threshold and no gap was found, so there is no rule-based suggestion "
            "beyond keeping current provision under review.")
    w.p("Deliver them through the 5Cs: collaboration between partners, co-production with communities and young "
        "people, cooperation in data and intelligence sharing, counter-narrative development, and community consent.")
    w.const("5", "the 5Cs")
    return w.done("")


# ----------------------------------------------------------------------------- data notes


def _notes(ctx) -> Section:
    w = _W("notes", "Data notes", ctx.rule)
    eng = ctx.eng
    prep, analysis, study = eng.prep, eng.analysis, eng.study
    d = prep.definition
    if prep.synthetic:
        w.li(f"{_b('SYNTHETIC.')} The study {w.label(prep.study_name)} is a made-up sample: every area, venue, "
             "offence and intervention is fictional. Do not use these figures for decisions.")
    # sources
    if study is not None and getattr(study, "ledger", None) is not None:
        parts = []
        for s in study.ledger.sources:
            if s.kind not in ("crimes", "records", "ae"):
                continue
            fname = s.path.replace("\\", "/").rstrip("/").split("/")[-1]
            kind = {"crimes": "police.uk", "records": "police records", "ae": "A&E assaults"}[s.kind]
            lk = _key(path=s.path)
            txt = (f"{kind} {w.label(fname)}: {w.count(s.read, Ref('ledger', 'read', lk), 'row')} read, "
                   f"{w.count(s.accepted, Ref('ledger', 'accepted', lk))} used")
            if s.n_quarantined:
                txt += f", {w.count(s.n_quarantined, Ref('ledger', 'quarantined', lk))} set aside (see svtui check)"
            parts.append(txt)
        if parts:
            w.li("Sources: " + "; ".join(parts) + ".")
    win = getattr(analysis, "window", None)
    if win:
        a0, a1 = win
        w.fig(month_text(a0), a0, "month", Ref("analysis", "window[0]"))
        w.fig(month_text(a1), a1, "month", Ref("analysis", "window[1]"))
        nm = _n_months(a0, a1)
        w.li(f"Period: {month_text(a0)} to {month_text(a1)} ({w.number(nm, Ref('analysis', 'months'))} months). "
             f"Year-on-year changes compare the latest {w.const('12', 'months in a year')} months with the "
             f"{w.const('12', 'months in a year')} before; the three-year change compares them with the "
             f"{w.const('12', 'months in a year')} months ending two years earlier.")
    ver = w.fig(str(d.version), str(d.version), "constant", Ref("definition", "version"))
    w.li(f"Definition: {w.label(d.title)} ({w.label(d.name)}, version {ver}). A record counts once however many "
         "parts of the definition it meets.")
    w.li("Harm weights are ONS Crime Severity Score weights (average sentence in days). All are provisional until "
         "checked against the current ONS workbook; see docs/definition.md.")
    # what the data cannot show
    cannot = list(d.cannot_see)
    if d.applies_to == "police.uk" or ctx.voice.proxy:
        w.li(f"{_b('What police.uk cannot show.')} It has no markers (no knife, domestic-abuse, hate-crime, "
             "alcohol or county-lines flags), no offence codes, and no victim or suspect ages; it gives the month "
             "only, never the day or time; and it snaps every location to an anonymous map point (a street "
             "centre or a public place), so small-scale patterns are blurred. The proxy definition counts every "
             "violence and sexual offence, robbery and weapon possession, so it over-counts serious violence "
             "(our rough estimate: about a fifth of it would meet a record-level definition).")
    elif cannot:
        w.li("What the data cannot show: " + "; ".join(w.label(c) for c in cannot) + ".")
    for note in d.notes:
        w.li(w.label(note))
    # partly known markers
    partly = []
    r = ctx.row
    for flag in ("domestic_abuse", "knife", "youth", "alcohol"):
        known = r.get(f"{flag}_known")
        if not _is_null(known) and 0 < known < 0.95:
            n_unit = r.get("n") if ctx.kind == "area" else r.get("n_incidents")
            kn = w.share_of(1 - known, None, None, ctx.ref(f"{flag}_known"))
            partly.append(f"{_FLAG_NOTES[flag]} is not recorded for {kn} of offences")
    if partly:
        w.li("Shares are worked out over the offences where the fact is recorded: " + join_words(partly) + ".")
    w.li(ctx.rule.describe().replace("Disclosure control:", _b("Disclosure control:")) if ctx.rule.level else "")
    for n in re.findall(r"\d+", ctx.rule.describe()):
        w.const(n, "disclosure rule")
    # engine notes
    enotes = list(dict.fromkeys(list(analysis.notes) + eng.notes))
    if enotes:
        if ctx.rule.level == "none":
            for n in enotes:
                w.li("Engine note: " + w.label(n))
        else:
            w.li(f"The engine recorded {_num_words(len(enotes)) if len(enotes) <= 10 else len(enotes)} data-quality "
                 f"{dc.plural(len(enotes), 'note')} for this analysis; run svtui check to read them.")
    w.li(f"Written by svtui {w.label(_version())} from the engine's tables; every figure in this briefing is "
         "listed with its source in the briefing object.")
    return w.done("")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("svtui")
    except Exception:  # noqa: BLE001
        pass
    try:
        import tomllib
        from pathlib import Path

        pp = Path(__file__).resolve().parents[1] / "pyproject.toml"
        return tomllib.loads(pp.read_text(encoding="utf-8"))["project"]["version"]
    except Exception:  # noqa: BLE001
        return "unknown"
