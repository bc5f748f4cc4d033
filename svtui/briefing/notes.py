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
    w.li("Harm is offences weighted by the ONS Crime Severity Score (the average sentence in days for each "
         "offence); docs/definition.md gives each weight's source and year, and which are provisional.")
    w.li(f"{_b('Statistics.')} Rates carry {w.const('95%', 'confidence level')} confidence intervals (Byar's method, "
         "exact Poisson for small counts); an area is called higher or lower than the force only when its interval "
         "excludes the force's rate, else similar. A change between two years is tested (exact test for two Poisson "
         f"counts) and called no significant change when p is {w.const('0.05', 'significance level')} or more; below "
         f"a base of {w.const('10', 'hotspot.rates.SMALL_BASE')} it is given in counts. Trends use the Mann-Kendall "
         f"test and need at least {w.const('10', 'hotspot.trend.MIN_STEPS')} months. A hotspot locality is "
         "significant when it holds more offences than a random spread over the study area would put there, after "
         "allowing for testing every place (false discovery rate "
         f"{w.const('5%', 'FDR alpha')}). A figure that needs a missing month is not known; a missing month is "
         "never counted as zero.")
    if not ctx.voice.proxy:
        w.li(f"Night is {w.const('21:00', 'hotspot.profiles.NIGHT_START')} to "
             f"{w.const('03:59', 'hotspot.profiles.NIGHT_END')}; the night-time economy is offences at night within "
             f"{w.const('100', 'hotspot.profiles.NEAR_VENUE_M')} metres of a licensed venue. A marker's share is of the "
             "offences where it is recorded, and an offence can meet several parts of the definition, so the parts' "
             "shares can add up to more than 100%.")
    w.li("Offences with no location count in the force total but in no area below it; a briefing says how many "
         f"when they are more than {w.const('1%', 'UNPLACED_SAY')} of the total.")
    w.li("Risk factors are associations, not causes: they show where conditions linked to violence are "
         "concentrated. Only curated factors are used (docs/needs.md); venue density needs a venue file and is "
         "never guessed from crimes' location labels.")
    if ctx.eng.study is not None and getattr(ctx.eng.study, "ae", None) is not None and ctx.eng.study.ae.height:
        w.li("Most A&E attendances carry no location, so they count only in the force total: below the force the "
             "A&E figure is an undercount.")
    w.li(f"{_b('Suggested focus.')} The suggestions follow rules from the figures and the public health approach: "
         "primary prevention for places and whole populations, secondary for people at risk, tertiary for people "
         "already involved. They are a starting point for the partnership, not a decision, delivered through the "
         f"{w.const('5', 'the 5Cs')}Cs: collaboration, co-production with communities and young people, "
         "cooperation in data and intelligence sharing, counter-narrative development and community consent.")
    if d.applies_to == "police.uk" or ctx.voice.proxy:
        w.li(f"{_b('What police.uk cannot show.')} It has no markers (knife, domestic abuse, hate crime, alcohol, "
             "county lines), no offence codes and no ages. It gives the month only, never the day or time. It snaps "
             "every location to an anonymous map point (a street centre or a public place), so fine-grained patterns "
             "are blurred. The proxy definition counts all violence and sexual offences, robbery and weapon "
             "possession, so it over-counts serious violence: our rough estimate is that about a fifth of it would "
             "meet a record-level definition. It does not say whether an offence happened in a home or a public "
             "place, and it cannot give the Serious Violence Duty's headline measures (homicides, A&E knife "
             "assaults, police-recorded knife crime). A record-level extract from the force and A&E assault data "
             "(Cardiff Model) would show the serious violence this proxy cannot.")
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
