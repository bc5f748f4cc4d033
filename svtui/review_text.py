"""Plain words for the hotspot review: changes, control-chart flags, evaluations, action errors.

The engine (hotspot.review, hotspot.evaluate) returns numbers and reason codes; this module is
the only place they become sentences, for the CLI, the minutes and the Review screen alike.
Counts go through svtui.disclosure when a level is given (minutes, exports).
"""
from __future__ import annotations

import math

from svtui import disclosure

ALPHA = 0.05
CRIME = "serious violence"


def _known(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def n_text(n, level: str = "none") -> str:
    return disclosure.count(n, level).text if _known(n) else "gap"


def change_cell(before, after, p, level: str = "none") -> str:
    """A short table cell: '12→7 ↓' with '*' when significant; 'gap' when a window is missing."""
    if not (_known(before) and _known(after)):
        return "gap"
    arrow = "↑" if after > before else "↓" if after < before else "="
    star = "*" if _known(p) and p < ALPHA else ""
    return f"{n_text(before, level)}→{n_text(after, level)} {arrow}{star}"


def change_words(before, after, p, what: str = f"{CRIME} offences", level: str = "none") -> str:
    """'up from 8 to 15 (p = 0.03, a significant rise)' / '... no significant change'."""
    if not (_known(before) and _known(after)):
        return "not known: a month in the window has no data (a gap, not a zero)"
    b, a = n_text(before, level), n_text(after, level)
    if what.endswith("offences") and after == 1 and a == "1":
        what = what[:-1]
    if after == before:
        core = f"unchanged at {a} {what}"
    else:
        core = f"{'up' if after > before else 'down'} from {b} to {a} {what}"
    if not _known(p):
        return core
    if p < ALPHA:
        return f"{core} (p = {p:.3f}: a significant {'rise' if after > before else 'fall'})"
    return f"{core} (p = {p:.2f}: no significant change)"


CHART = {
    "above": "above the control-chart upper limit: unusually high for this place",
    "below": "below the control-chart lower limit: unusually low for this place",
    "within": "within the place's usual range (c-chart)",
    None: "no control chart: too few earlier periods with data",
}


def chart_words(flag, centre=None, upper=None) -> str:
    s = CHART.get(flag, CHART[None])
    if flag is not None and _known(centre) and _known(upper):
        s += f" (usual {centre:.1f}, upper limit {upper:.1f})"
    return s


def chart_cell(flag) -> str:
    return {"above": "HIGH", "below": "low", "within": "ok"}.get(flag, "–")


VERDICT = {
    "worked": "it worked",
    "displaced": "crime fell in the place but moved to the streets around it (displacement)",
    "diffusion": "it worked, and the streets around it improved too (diffusion of benefit)",
    "rose": "crime rose in the place relative to the control",
    "no_significant_change": "no significant change",
    "too_small": "too few offences to judge",
    "months_missing": "cannot be judged: a month in the windows has no data",
}
VERDICT_SHORT = {"worked": "worked", "displaced": "displaced", "diffusion": "worked+", "rose": "rose",
                 "no_significant_change": "no change", "too_small": "too small", "months_missing": "gap"}


def _by(x: float) -> str:
    return f"{abs(x):,.0f}" if abs(x) >= 1 else f"{abs(x):.1f}"


def evaluation_words(ev: dict, what: str = CRIME, control_name: str | None = None) -> str:
    """The evaluation in plain words, e.g. 'Serious violence in the place fell by 14 offences
    more than in the control; no sign of displacement to the ring; significant at 5%.'"""
    v = ev["verdict"]
    if v == "months_missing":
        return "This action cannot be judged yet: " + ", ".join(ev.get("missing_months", [])) + " have no data."
    if v == "too_small":
        return (f"Too few offences to judge: {ev['T0']} {what} offences in the place before and {ev['T1']} after "
                "(at least 10 before are needed for a fair test).")
    if ev.get("control_kind") == "place":
        ctl = f"in {control_name or 'the control place'}"
    else:
        ctl = "the trend in the rest of the CSP would give"
    eff = ev["effect_t"]
    if abs(eff) < 0.5:
        s = f"{what.capitalize()} in the place changed about as much as {ctl.removeprefix('the trend in ').removesuffix(' would give')}"
    else:
        s = f"{what.capitalize()} in the place {'fell' if eff < 0 else 'rose'} by {_by(eff)} offences more than {ctl}"
    ring = {
        "ring_rose": f"but it rose by {_by(ev['effect_d'])} in the {ev['ring_m']:.0f} m around it: displacement",
        "ring_fell": f"and it fell by {_by(ev['effect_d'])} in the {ev['ring_m']:.0f} m around it: a diffusion of benefit",
        "no_sign": "no sign of displacement to the surrounding streets",
        "ring_too_small": "too few offences around the place to tell whether any moved there",
    }[ev["ring_code"]]
    sig = "statistically significant at 5%" if ev["p"] < ALPHA else "not statistically significant at 5%"
    out = f"{s}; {ring}; overall (WDD {ev['wdd']:+.1f}, z = {ev['z']:.2f}, {_p_text(ev['p'])}) {sig}."
    if _known(ev.get("wdq")):
        out += f" WDQ {ev['wdq']:.2f} ({'diffusion of benefit' if ev['wdq'] > 0 else 'displacement larger than the direct effect' if ev['wdq'] < -1 else 'some displacement' if ev['wdq'] < 0 else 'no displacement'})."
    out += f" Verdict: {VERDICT[v]}."
    return out


ACTION_ERRORS = {
    "bad_date": "is not a date: write YYYY-MM-DD",
    "bad_status": "must be one of planned, running, done, dropped",
    "bad_number": "must be a positive number of metres",
    "missing": "is needed",
    "no_such_action": "no action has this id (see `svtui actions list`)",
    "review_before_start": "the review-by date is before the start date",
    "unknown_field": "is not a field of an action",
}


def action_error(exc) -> str:
    what = ACTION_ERRORS.get(exc.code, exc.code)
    if exc.code == "no_such_action":
        return f"action {exc.value}: {what}"
    return f"{exc.field.replace('_', '-')} {exc.value!r}: {what}" if exc.value not in (None, "") else f"{exc.field.replace('_', '-')}: {what}"


def _p_text(p) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
