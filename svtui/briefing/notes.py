"""The 'data notes' section: sources, period, definition, disclosure, engine notes."""
from __future__ import annotations

import re

from svtui import disclosure as dc
from svtui.briefing.context import _Ctx
from svtui.briefing.model import Ref, Section
from svtui.briefing.words import _b, _n_months, _version, _window_text
from svtui.briefing.writer import _W, _count_words, _key


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
