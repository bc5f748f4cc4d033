"""The 'who' section: ages of victims and suspects."""
from __future__ import annotations

import re

from hotspot.session import AGE_BANDS
from svtui import disclosure as dc
from svtui.briefing.context import _Ctx
from svtui.briefing.model import Ref, Section
from svtui.briefing.what import _flag_values
from svtui.briefing.words import _cap, _is_null, join_words
from svtui.briefing.writer import _W


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
