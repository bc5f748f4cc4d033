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

The package: ``model`` (Briefing, Section, Figure, Ref, render), ``words`` and ``writer`` (phrasing
and the figure-recording section writer), ``context`` (the Results behind a briefing), ``build``
(build_briefing, briefing), and one module per section: ``headline``, ``where``, ``what``,
``who``, ``when``, ``risk``, ``interventions``, ``focus``, ``notes``.
"""
from svtui.briefing.build import briefing, build_briefing
from svtui.briefing.model import SECTION_IDS, WEEKDAY_NAMES, Briefing, Figure, Ref, Section, md_data, render
from svtui.briefing.words import spoken_name
from svtui.briefing.writer import _W

__all__ = [
    "Ref",
    "Figure",
    "Section",
    "Briefing",
    "build_briefing",
    "render",
    "briefing",
    "md_data",
    "spoken_name",
    "SECTION_IDS",
    "WEEKDAY_NAMES",
    "_W",
]
