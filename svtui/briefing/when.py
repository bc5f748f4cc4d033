"""The 'when' section: busiest day, hours and month."""
from __future__ import annotations

import polars as pl

from svtui import disclosure as dc
from svtui.briefing.context import _Ctx
from svtui.briefing.model import MIN_TIMED, Ref, Section, WEEKDAY_NAMES
from svtui.briefing.what import _flag_values
from svtui.briefing.words import _cap, _is_null, _num_words, join_words
from svtui.briefing.writer import _W


def _when(ctx: _Ctx) -> Section:
    w = _W("when", "When", ctx.rule)
    v = ctx.voice
    untimed = ""
    peak = ctx.peak() or {}
    timed = peak.get("timed_n")
    if not _is_null(timed) and 0 < timed < MIN_TIMED:
        tt = w.count(timed, ctx.peak_ref("timed_n"), v.noun)
        w.p(f"Only {tt} here {'has' if tt.startswith('1 ') else 'have'} a recorded time, too few to show a busiest "
            "day or hour.")
    elif _is_null(timed) or not timed:
        untimed = (" Police.uk gives the month only, so no day or hour (see the data notes)." if v.proxy
                   else " No offence here has a recorded time of day, so days and hours cannot be shown.")
    else:
        pref = ctx.peak_ref
        bits = []
        wd = peak.get("peak_weekday")
        if not _is_null(wd):
            day = w.fig(WEEKDAY_NAMES[int(wd) - 1], int(wd), "weekday", pref("peak_weekday"))
            pd = w.pct(peak["peak_weekday_n"], timed, pref("peak_weekday_n"), pref("timed_n"))
            bits.append(f"busiest day: {day}" + ("" if pd == "withheld" else f" ({pd} of offences with a time)"))
        hr = peak.get("peak_hour_from")
        if not _is_null(hr):
            h0 = int(hr)
            band = w.fig(f"{h0:02d}:00 and {(h0 + 2) % 24:02d}:59", h0, "hour band", pref("peak_hour_from"))
            ph = w.pct(peak["peak_hour_n"], timed, pref("peak_hour_n"), pref("timed_n"))
            bits.append(f"busiest three hours: between {band}" + ("" if ph == "withheld" else f" ({ph})"))
        if bits:
            w.p(_cap("; ".join(bits)) + ".")
        parts = []
        for flag in ("night", "nte"):
            share, known, nf, sref, nref, n = _flag_values(ctx, flag)
            if _is_null(share) or not known:
                continue
            pc = w.pct(nf, int(round(known * n)), sref)
            if pc == "withheld":
                continue
            if flag == "night":
                parts.append(f"{pc} happened at night")
            else:
                parts.append(f"{pc} in the night-time economy")
        if parts:
            bits_p = join_words(parts)
            w.p(f"{_cap(bits_p)}.")
    frame, msrc, mkey = ctx.monthly()
    covered = frame.filter(pl.col("n").is_not_null()) if frame.height else frame  # a missing month is a gap, not 0
    said = False
    if covered.height and int(covered["n"].sum()) > 0:
        top = covered.sort(["n", "month"], descending=[True, False]).row(0, named=True)
        if not dc.is_small(top["n"], ctx.rule):
            mref = lambda col: Ref(msrc, col, mkey + (("month", top["month"]),))  # noqa: E731
            s = f"The busiest month was {w.month(top['month'], mref('month'))} ({w.count(top['n'], mref('n'), v.noun)}"
            if ctx.kind == "area" and not _is_null(ctx.row.get("per_month")):
                pm = ctx.row["per_month"]
                s += f", against an average of {w.number(pm, ctx.ref('per_month'), 0 if pm >= 10 else 1)} a month"
            s += ")"
            gaps = frame.height - covered.height
            if gaps:
                cov_ref = Ref(msrc, "n", mkey, agg="count_covered")
                s += (f", over the {w.fig(str(covered.height), covered.height, 'count', cov_ref)} months with data "
                      f"only: {_num_words(gaps) if gaps <= 10 else w.fig(str(gaps), gaps, 'count', Ref(msrc, 'n', mkey, agg='count_null'))} "
                      f"{dc.plural(gaps, 'month')} in the period "
                      f"{'is' if gaps == 1 else 'are'} missing")
            w.p(s + "." + untimed)
            said = True
    if untimed and not said:
        w.p(untimed.strip())
    return w.done(f"No {v.thing} in the period, so there is no pattern in time to describe.")
