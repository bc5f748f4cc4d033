"""The 'what' section: the parts of the definition, the markers, and what the data cannot see."""
from __future__ import annotations

import re
from typing import Iterable

import polars as pl

from svtui import disclosure as dc
from svtui.briefing.context import _Ctx
from svtui.briefing.model import Ref, Section
from svtui.briefing.words import _cap, _is_null, _num_words, join_words
from svtui.briefing.writer import _W, _between, _key, _merge_refs


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
        w.p(f"Of the {total} in {unit}, {join_words(items)}.")
    else:
        items = []
        top = 3 if ctx.kind == "area" else 2
        for cid, lab, n, ref in shown[:top]:
            cnt = w.count(n, ref)
            pc = w.pct(n, n_total, ref, ctx.n_ref)
            items.append(f"{cnt}{'' if pc == 'withheld' else f' ({pc})'} {'were ' if not items else ''}{w.label(_label_mid(lab))}")
        s = f"Of the {total} in {unit}, {join_words(items)}"
        rest = shown[top:]
        if rest:
            s += f"; {_num_words(len(rest))} other {dc.plural(len(rest), 'part')} held fewer"
        w.p(s + ".")
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
    if items:
        w.p(f"Of these offences, {join_words(items)}.")
    cannot = _cannot_flags(ctx, ("domestic_abuse", "knife", "sexual"))
    if cannot and not v.proxy:  # police.uk's blind spots are said once, in the data notes
        w.p(f"The data cannot show {join_words(cannot)}.")
    _context(w, ctx)
    _outcomes(w, ctx)
    return w.done("")


#: hotspot.context's columns, in words (the same place and window as the subject's violence).
CONTEXT_WORDS = (
    ("asb_n", "anti-social behaviour incident"),
    ("public_order_n", "public order offence"),
    ("drugs_n", "drugs offence"),
    ("criminal_damage_n", "criminal damage or arson offence"),
)


def _subject_row(ctx: _Ctx, table):
    """(level, key column, frame, the subject's row or None) from a per-area/per-locality table."""
    level = "locality" if ctx.kind == "locality" else ctx.level
    frame = table(level)
    keycol = "locality_id" if ctx.kind == "locality" else "code"
    if frame is None or frame.height == 0 or keycol not in frame.columns:
        return level, keycol, frame, None
    row = frame.filter(pl.col(keycol) == ctx.code)
    return level, keycol, frame, (row.row(0, named=True) if row.height else None)


def _context(w: _W, ctx: _Ctx) -> None:
    """Anti-social behaviour, public order, drugs and criminal damage in the same place and months."""
    level, keycol, frame, cr = _subject_row(ctx, ctx.eng.context)
    if cr is None:
        return
    if all(_is_null(cr.get(c)) or not cr.get(c) for c, _ in CONTEXT_WORDS):
        return
    if not ctx.voice.proxy and not frame["asb_n"].sum():  # a record extract without the context types
        return
    src = f"context:{level}"
    parts = [w.count(cr[c], Ref(src, c, _key(**{keycol: ctx.code})), noun) for c, noun in CONTEXT_WORDS
             if not _is_null(cr.get(c))]
    w.p(f"In the same place and months, police.uk also recorded {join_words(parts)}.")


#: hotspot.context.OUTCOME_CLASSES in words.
OUTCOME_WORDS = (
    ("charged_summonsed", "led to a charge or summons"),
    ("no_suspect", "closed with no suspect identified"),
    ("under_investigation", "were still under investigation"),
)


def _outcomes(w: _W, ctx: _Ctx) -> None:
    """police.uk outcomes as plain-word shares of the offences with a recorded outcome."""
    level, keycol, frame, orow = _subject_row(ctx, ctx.eng.outcomes)
    if orow is None:
        return
    known = orow.get("outcomes_known")
    if orow.get("outcomes_reason") == "no_outcomes" or _is_null(known) or not known:
        return
    src = f"outcomes:{level}"
    k = _key(**{keycol: ctx.code})
    parts = []
    for cls, words in OUTCOME_WORDS:
        pc = w.pct(orow[f"{cls}_n"], known, Ref(src, f"{cls}_n", k), Ref(src, "outcomes_known", k))
        if pc not in ("withheld", "not known"):
            parts.append(f"{pc} {words}")
    if parts:
        w.p(f"Of the offences with a recorded police.uk outcome, {join_words(parts)}.")


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
