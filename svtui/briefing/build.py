"""Entry points: build_briefing (area or hotspot) and briefing (rendered text for the workbench)."""
from __future__ import annotations

from svtui import disclosure as dc
from svtui.safe import plain
from svtui.briefing.context import _Ctx, _Source, _Voice, _area_ctx, _row, _voice
from svtui.briefing.focus import _focus
from svtui.briefing.headline import _area_headline, _loc_headline
from svtui.briefing.interventions import _interventions
from svtui.briefing.model import Briefing, LEVEL_WORDS, render
from svtui.briefing.notes import _notes
from svtui.briefing.risk import _risk
from svtui.briefing.what import _what
from svtui.briefing.when import _when
from svtui.briefing.where import _area_where, _loc_where
from svtui.briefing.who import _who
from svtui.briefing.words import _subtitle, _window_text, spoken_name


def build_briefing(results, area: str | None = None, hotspot: str | None = None,
                   disclosure: str = dc.DEFAULT_LEVEL) -> Briefing:
    """Write the briefing for an area (name or ONS code at any level), a hotspot locality (its id
    or name, e.g. ``L-SO850550``), or, with neither, the whole study area.

    results: a ``hotspot.session.Results`` (the window and filters are its own); every figure
    comes from it. disclosure: none | partner | public (svtui.disclosure). Raises ValueError for
    an unknown area or hotspot, or a hotspot the disclosure rule forbids.
    """
    if area and hotspot:
        raise ValueError("brief on an area or a hotspot, not both")
    rule = dc.rule_for(disclosure)
    src = _Source(results)
    voice = _voice(results.prep.definition)
    if hotspot:
        return _locality_briefing(src, rule, voice, _find_locality(results, hotspot))
    a = _find_area(results, area) if area else results.session.force()
    return _area_briefing(src, rule, voice, a.level, a.code, spoken_name(a.name))


def _find_area(results, text: str):
    """Session.find_area, its NotFound said for a briefing's reader (the study's CSPs listed)."""
    from hotspot.session import NotFound

    try:
        return results.session.find_area(text)
    except NotFound as exc:
        if exc.ambiguous:
            raise ValueError(f"{plain(text, 80)!r} names {len(exc.ambiguous)} areas: "
                             f"{', '.join(exc.ambiguous)}; give the code") from None
        csps = sorted(set(results.session.areas("csp")["name"].drop_nulls().to_list()))
        near = f" Closest: {', '.join(plain(c, 80) for c in exc.close)}." if exc.close else ""
        hint = f" CSPs in this study: {', '.join(csps)}." if csps else ""
        raise ValueError(f"unknown area {plain(text, 80)!r}: give an ONS code or a name from the study's "
                         f"boundaries.{near}{hint}") from None


def _find_locality(results, text: str) -> str:
    """The locality id for an id or a name (Results.find_locality), said for a briefing's reader."""
    from hotspot.session import NotFound

    try:
        return results.find_locality(str(text).strip()).locality_id
    except NotFound as exc:
        if exc.ambiguous:
            raise ValueError(f"{plain(text, 80)!r} names {len(exc.ambiguous)} hotspots: "
                             f"{', '.join(exc.ambiguous)}; give the id") from None
        ids = results.localities["locality_id"].head(5).to_list() if results.localities.height else []
        hint = f" Hotspots in this analysis include {', '.join(ids)}." if ids else " This analysis found no hotspots."
        raise ValueError(f"unknown hotspot {plain(text, 80)!r}: give a locality id from svtui hotspots.{hint}") from None


def briefing(results, subject=None, disclosure: str = dc.DEFAULT_LEVEL, fmt: str = "md") -> str:
    """Rendered briefing text for the workbench: subject is ("locality", id), (level, code) or
    None (the whole study)."""
    kind, key = subject if subject else ("force", None)
    if kind == "locality":
        b = build_briefing(results, hotspot=key, disclosure=disclosure)
    elif kind == "force" and key in (None, "study"):
        b = build_briefing(results, disclosure=disclosure)
    else:
        b = build_briefing(results, area=key, disclosure=disclosure)
    return render(b, fmt)


def _area_briefing(eng: _Source, rule: dc.Rule, voice: _Voice, level: str, code: str, name: str) -> Briefing:
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
        level_word += f" in {spoken_name(ctx.row['district_name'])}"
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


def _locality_ctx(eng: _Source, rule, voice, lid: str) -> _Ctx:
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


def _locality_briefing(eng: _Source, rule: dc.Rule, voice: _Voice, lid: str) -> Briefing:
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
