"""Minutes of a hotspot review meeting, in markdown, with disclosure control applied.

Sections: the places table (this period and the three comparisons), what changed (in words),
new candidate places, open and new actions, and the evaluations of completed actions. Every
count goes through svtui.disclosure at the chosen level; every data string through
svtui.safe.markdown_safe, so a place name can never become a link or a heading.
"""
from __future__ import annotations

from datetime import date

import polars as pl

from svtui import disclosure
from svtui.review_text import VERDICT, chart_words, change_cell, change_words, evaluation_words
from svtui.safe import markdown_safe as md


def _cnt(n, level) -> str:
    try:
        import math

        if n is None or (isinstance(n, float) and math.isnan(n)):
            return "gap"
    except TypeError:
        pass
    return disclosure.count(n, level).text


def minutes(study, r: dict, level: str = "partner") -> str:
    p0, p1 = r["period"]
    label = f"{p0:%B %Y}" if p0 == p1 else f"{p0:%B}–{p1:%B %Y}"
    out = [f"# Hotspot review: {label}", ""]
    if study.synthetic:
        out += ["**SYNTHETIC sample data — not real; do not use for decisions.**", ""]
    out += [f"Study: {md(study.name)}. Written {date.today():%d %B %Y}. {disclosure.rule_for(level).describe()}", ""]
    out += ["## Places", "",
            "Serious violence offences. *prev*: the previous period; *year*: the same period a year before; "
            "*3m*: the last 3 months against the 3 before. `*` marks a significant change (exact test for two "
            "Poisson counts, 5%); *gap* means a month without data (never read as zero).", "",
            "| place | now | prev | year | 3m | control chart |", "|---|---:|---:|---:|---:|---|"]
    t = r["table"]
    for row in t.iter_rows(named=True):
        out.append(f"| {md(row['name'], 80)} | {_cnt(row['n_now'], level)} | "
                   f"{change_cell(row['n_prev_before'], row['n_prev_after'], row['p_prev'], level)} | "
                   f"{change_cell(row['n_year_before'], row['n_year_after'], row['p_year'], level)} | "
                   f"{change_cell(row['n_3m_before'], row['n_3m_after'], row['p_3m'], level)} | "
                   f"{chart_words(row['c_flag']).split(':')[0]} |")
    out += ["", "## What changed", ""]
    for row in t.iter_rows(named=True):
        out.append(f"- **{md(row['name'], 80)}**: against the previous period "
                   f"{change_words(row['n_prev_before'], row['n_prev_after'], row['p_prev'], level=level)}; "
                   f"against a year before {change_words(row['n_year_before'], row['n_year_after'], row['p_year'], level=level)}; "
                   f"{chart_words(row['c_flag'])}.")
    c = r["candidates"]
    out += ["", "## New candidate places", ""]
    if c.height:
        shown = c.filter(pl.col("n_incidents") >= disclosure.rule_for(level).locality_min)
        out += [f"- {md(row['name'], 80)} ({md(row['locality_id'], 20)}): {_cnt(row['n_incidents'], level)} offences in 12 months"
                for row in shown.head(10).iter_rows(named=True)]
    else:
        out.append("None: every current hotspot locality is already reviewed.")
    acts = r["actions"]
    out += ["", "## Actions", ""]
    if acts is None or acts.height == 0:
        out.append("No actions recorded.")
    else:
        open_ = acts.filter(pl.col("status").is_in(["planned", "running"]))
        new = acts.filter(pl.col("start").is_not_null() & (pl.col("start") >= p0.isoformat())
                          & (pl.col("start") <= date(p1.year + (p1.month == 12), p1.month % 12 + 1, 1).isoformat()))
        for title, df in (("Open", open_), ("New this period", new)):
            out += [f"**{title}:**", ""]
            if df.height == 0:
                out += ["None.", ""]
                continue
            out += ["| id | place | action | owner | start | review by | status |", "|---:|---|---|---|---|---|---|"]
            out += [f"| {a['action_id']} | {md(a['place_name'] or a['place_id'], 60)} | {md(a['what'], 120)} | "
                    f"{md(a['owner'] or '', 40)} | {a['start'] or ''} | {a['review_by'] or ''} | {a['status']} |"
                    for a in df.iter_rows(named=True)]
            out.append("")
    out += ["## Evaluations of completed actions", ""]
    if not r["evaluations"]:
        out.append("None completed.")
    for e in r["evaluations"]:
        out.append(f"- **Action {e['action_id']}: {md(e['what'], 120)}** ({md(e.get('name') or e['place_id'], 80)}).")
        if "T0" not in e:
            out.append(f"  Not evaluated ({e['verdict']}).")
            continue
        counts = ", ".join(f"{lab} {_cnt(e[k + '0'], level)}→{_cnt(e[k + '1'], level)}"
                           for k, lab in (("T", "place"), ("D", "ring"), ("Ct", "control")))
        out.append(f"  {e['before_from']:%b %Y}–{e['before_to']:%b %Y} against {e['after_from']:%b %Y}–{e['after_to']:%b %Y}: "
                   f"{counts}. {evaluation_words(e) if not any(disclosure.is_small(e[k], level) for k in ('T0', 'T1')) else VERDICT[e['verdict']].capitalize() + '.'}")
    out.append("")
    return "\n".join(out)
