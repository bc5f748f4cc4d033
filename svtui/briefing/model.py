"""The structured briefing (Ref, Figure, Section, Briefing), its vocabulary constants and the renderer to Markdown or plain text."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
import re
from typing import Any

from svtui.safe import plain


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


# Data strings are wrapped in private-use delimiters while a paragraph is built, so that the
# renderer can escape exactly them (and tests can tell data from prose).
_DO, _DC = "\ue000", "\ue001"


_BO, _BC = "\ue002", "\ue003"  # strong emphasis (bold in Markdown, plain in text)


_DATA_RE = re.compile(f"{_DO}(.*?){_DC}", re.S)


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
