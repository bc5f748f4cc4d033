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
        unit = w.label(ctx.name) if ctx.kind == "area" else f"the locality {w.label(ctx.code)}"
        w.p(f"How much of the {v.short} in {unit} involves young people (under {under}) is not known: the data "
            "holds no ages" + (" (see the data notes)." if v.proxy else "."))
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
    ek = ages.get("either_known", 0)
    if ek and ctx.kind == "area":
        p18 = w.pct(ages.get("either_under_18", 0), ek, Ref("ages", "either_under_18", ctx.age_key()),
                    Ref("ages", "either_known", ctx.age_key()))
        p24 = w.pct(ages.get("either_18_to_24", 0), ek, Ref("ages", "either_18_to_24", ctx.age_key()),
                    Ref("ages", "either_known", ctx.age_key()))
        if p18 not in ("withheld", "not known") and p24 not in ("withheld", "not known"):
            w.p(f"Someone under {w.const('18', 'age band')} was involved in {p18} of them, and someone aged "
                f"{w.const('18', 'age band')} to {w.const('24', 'age band')} in {p24}.")
    return w.done("")


def _age_words(w: _W, label: str) -> str:
    if label == "other ages":
        return "of other ages"
    for n in re.findall(r"\d+", label):
        w.const(n, "age band")
    return label if label.startswith("under") else f"aged {label}"
