"""The pack's words: one adapter over the briefing module, and the pack's own editing rules.

:func:`subject_text` is the ONE place the pack asks svtui.briefing for text. When the briefing
becomes a "choose and phrase" package over a Session, re-point this function and nothing else.

The editing rules are applied here, after the briefing has chosen its figures (so every figure
stays one the briefing traced to an engine table; the pack only leaves sentences out):

* each caveat is said once, in the data notes; where a caveat sentence is taken out of a
  paragraph the paragraph keeps a short pointer "(see data notes)";
* method asides ("Mann-Kendall test", "Getis-Ord Gi*") move to the data notes too;
* a paragraph that would be identical in every briefing of a kind is said once in the notes;
* a word budget per briefing (CSP about 550, locality about 400, before the data notes): blocks
  are taken round-robin across sections (the first block of every section, then the second, ...)
  until the next block would overrun, so every section keeps its lead before any gets detail.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from svtui.safe import plain

CSP_WORDS = 550
LOCALITY_WORDS = 225  # the issue allows about 400; 225 keeps a locality to one A4 page with its map and chart
SUMMARY_WORDS = 550
POINTER = "(see data notes)"

# (pattern found in a sentence, the one note said instead). Patterns are matched per sentence.
CAVEATS: tuple[tuple[str, str], ...] = (
    (r"undercount",
     "Most A&E attendances carry no location, so they count only in the force total: A&E figures for a CSP or "
     "a locality are undercounts."),
    (r"add up to more than 100%",
     "An offence can meet more than one part of the definition, so the shares of the parts can add up to more "
     "than 100%."),
    (r"^Each share is of the offences where",
     "Each share (domestic abuse, knife, alcohol) is of the offences where that fact is recorded; offences "
     "without the marker are left out of the share, never counted as 'no'."),
    (r"associations, not causes",
     "Risk factors are associations, not causes: they show where conditions linked to violence are "
     "concentrated."),
    (r"^These suggestions follow rules",
     "Suggested focus follows rules from the figures and the public health approach (primary prevention for "
     "places and whole populations, secondary for people at risk, tertiary for people already involved). It "
     "is a starting point for the partnership, not a decision."),
    (r"starting point for the partnership, not a decision", ""),  # said with the rule above
    (r"over-count",
     "The police.uk proxy counts all violence and sexual offences, robbery and weapon possession, so it "
     "over-counts serious violence."),
)
# Parenthetical method asides removed from sentences, with the note said once instead.
ASIDES: tuple[tuple[str, str], ...] = (
    (r"\s*\(Mann-Kendall test at the [^)]*\)",
     "Trends are tested on the monthly counts with the Mann-Kendall test at the 5% level."),
    (r"\s*\(Getis-Ord Gi\*[^)]*\)",
     "Hotspot localities are clusters of harm found significant by the Getis-Ord Gi* statistic with a 5% "
     "false discovery rate."),
    (r"\s*\(offences weighted by the ONS Crime Severity Score\)",
     "Harm is offences weighted by the ONS Crime Severity Score."),
)
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class SubjectText:
    """One subject's briefing as the pack uses it: sections of (kind "p"|"li", text) blocks."""

    kind: str  # "area" | "locality"
    level: str  # csp, force, ..., locality
    code: str
    name: str
    title: str
    subtitle: str
    sections: list[tuple[str, str, list[tuple[str, str]]]]  # (id, title, blocks) before the notes
    notes: list[str]
    dropped: list[str] = field(default_factory=list)  # paragraphs left out by the budget

    @property
    def words(self) -> int:
        return sum(len(t.split()) for _sid, _t, bl in self.sections for _k, t in bl)


def subject_text(results, subject: tuple[str, str | None], disclosure: str) -> SubjectText:
    """THE adapter: the briefing for subject ("locality", id) | (level, code) | ("force", None),
    from svtui.briefing.build_briefing over one hotspot.session.Results.

    The engine tables behind the text (profiles, coverage, risk) live in the Results' session
    cache, so a pack of many briefings computes each table once."""
    from svtui.briefing import build_briefing

    kind, key = subject
    if kind == "locality":
        b = build_briefing(results, hotspot=key, disclosure=disclosure)
    elif kind == "force":
        b = build_briefing(results, disclosure=disclosure)
    else:
        b = build_briefing(results, area=key, disclosure=disclosure)
    body, notes = [], []
    for s in b.sections:
        blocks = [(k, plain(t[2:] if k == "li" and t.startswith("- ") else t, None))
                  for (k, _raw), t in zip(s.blocks, s.paragraphs)]
        if s.id == "notes":
            notes = [t for _k, t in blocks]
        else:
            body.append((s.id, plain(s.title, None), blocks))
    return SubjectText("locality" if kind == "locality" else "area", b.subject_level, b.subject_code,
                       plain(b.subject_name, 120), plain(b.title, None), plain(b.subtitle, None), body, notes)


def lift_caveats(st: SubjectText, said: dict[str, None]) -> None:
    """Take caveat sentences and method asides out of the body; record their one note in `said`."""
    out = []
    for sid, title, blocks in st.sections:
        kept = []
        for kind, text in blocks:
            for pat, note in ASIDES:
                if re.search(pat, text):
                    text = re.sub(pat, "", text)
                    said.setdefault(note, None)
            sentences = _SENT.split(text)
            keep = []
            for s in sentences:
                hit = next((note for pat, note in CAVEATS if re.search(pat, s)), None)
                if hit is not None:
                    if hit:
                        said.setdefault(hit, None)
                else:
                    keep.append(s)
            if not keep:
                continue
            new = " ".join(keep)
            if len(keep) < len(sentences):
                new = new.rstrip() + " " + POINTER
            kept.append((kind, new))
        out.append((sid, title, kept))
    st.sections = out


def lift_common(texts: list[SubjectText], said: dict[str, None]) -> None:
    """A running paragraph found word for word in every briefing of a kind (3 or more of them) is
    said once in the notes and left out of each briefing."""
    by_kind: dict[str, list[SubjectText]] = {}
    for t in texts:
        by_kind.setdefault(t.kind, []).append(t)
    for group in by_kind.values():
        if len(group) < 3:
            continue
        # running paragraphs: said once in the notes. A list's lead-in found in every briefing
        # ("Against the force average, the locality stands out on:") says nothing the section's
        # heading does not: it is left out, and its items stand under the heading.
        sets = [{txt for _s, _t, bl in t.sections for k, txt in bl if k == "p"} for t in group]
        common = set.intersection(*sets)
        where = {txt: title for _s, title, bl in group[0].sections for _k, txt in bl}
        for txt in sorted(common, key=lambda x: list(where).index(x) if x in where else 0):
            if not txt.endswith(":"):  # said with the heading it sat under, so "them" still reads
                said.setdefault(f"{where.get(txt, 'In every briefing')}: {txt}", None)
        for t in group:
            # a dropped lead-in leaves a "sep" mark, so its items never join the list before it
            t.sections = [(sid, title, [("sep", "") if k == "p" and x in common and x.endswith(":") else (k, x)
                                        for k, x in bl if not (k == "p" and x in common and not x.endswith(":"))])
                          for sid, title, bl in t.sections]


def fit_budget(st: SubjectText, budget: int) -> None:
    """Cut the briefing to `budget` words (see _select); the "and N more" lines count too, so a
    cut that overshoots is redone with the overshoot taken off."""
    import copy

    want = budget
    for _ in range(8):
        trial = copy.deepcopy(st)
        _select(trial, want)
        if trial.words <= budget:
            break
        want -= trial.words - budget + 3
    st.sections, st.dropped = trial.sections, st.dropped + trial.dropped


def _select(st: SubjectText, budget: int) -> None:
    """Keep blocks round-robin across sections until the next would overrun the budget.

    A paragraph ending in ":" travels with its first bullet, and a bullet whose lead paragraph
    was left out is left out too, so no list loses its heading and no heading its list."""
    units: list[list[list[int]]] = []  # per section: units, each a list of block indexes
    for _sid, _title, bl in st.sections:
        su: list[list[int]] = []
        for i, (kind, text) in enumerate(bl):
            if kind == "li" and su and bl[su[-1][-1]][0] == "p" and bl[su[-1][-1]][1].endswith(":"):
                su[-1].append(i)
            else:
                su.append([i])
        units.append(su)
    head_of: dict[tuple[int, int], tuple[int, int]] = {}  # bullet -> its lead paragraph
    for si, (_sid, _t, bl) in enumerate(st.sections):
        lead = None
        for i, (kind, text) in enumerate(bl):
            if kind in ("p", "sep"):
                lead = i if kind == "p" and text.endswith(":") else None
            elif lead is not None:
                head_of[(si, i)] = (si, lead)
    keep: set[tuple[int, int]] = set()
    used = 0
    depth = max((len(u) for u in units), default=0)
    for j in range(depth):
        for si, su in enumerate(units):
            if j >= len(su):
                continue
            idx = su[j]
            blocks = [st.sections[si][2][i] for i in idx]
            n = sum(len(t.split()) for _k, t in blocks)
            lead = head_of.get((si, idx[0]))
            orphan = lead is not None and lead not in keep and lead[1] not in idx
            if used + n <= budget and not orphan:
                keep.update((si, i) for i in idx)
                used += n
            else:
                st.dropped.extend(t for _k, t in blocks)
    # a list cut short says so, so "Six interventions reach the locality:" never shows one silently
    more: dict[tuple[int, int], int] = {}
    for item, lead in head_of.items():
        if item not in keep and lead in keep:
            more[lead] = more.get(lead, 0) + 1
    out = []
    for si, (sid, title, bl) in enumerate(st.sections):
        kept, last_lead = [], None
        for i, b in enumerate(bl):
            if (si, i) in keep:
                kept.append(b)
            if (si, i) in more and last_lead != (si, i):
                last_lead = (si, i)
            nxt = i + 1
            ends_list = nxt >= len(bl) or bl[nxt][0] != "li"
            if b[0] == "sep":
                continue
            lead = head_of.get((si, i), (si, i) if (si, i) in more else None)
            if ends_list and lead in more:
                n = more.pop(lead)
                kept.append(("li", f"and {n} more ({'svtui brief lists it' if n == 1 else 'svtui brief lists them'})."))
        out.append((sid, title, kept))
    st.sections = [x for x in out if any(k != "sep" for k, _t in x[2])]  # no heading left without text
