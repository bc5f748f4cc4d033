"""The 'when' section: busiest day, hours and month."""
from __future__ import annotations

from svtui import disclosure as dc
from svtui.briefing.context import _Ctx
from svtui.briefing.model import MIN_TIMED, Ref, Section, WEEKDAY_NAMES
from svtui.briefing.what import _flag_values
from svtui.briefing.words import _is_null, join_words
from svtui.briefing.writer import _W


def _when(ctx: _Ctx) -> Section:
    w = _W("when", "When", ctx.rule)
    v = ctx.voice
    peak = ctx.peak() or {}
    timed = peak.get("timed_n")
    if not _is_null(timed) and 0 < timed < MIN_TIMED:
        tt = w.count(timed, ctx.peak_ref("timed_n"), v.noun)
        w.p(f"Only {tt} here {'has' if tt.startswith('1 ') else 'have'} a recorded time, too few to show a busiest "
            "day or hour.")
    elif _is_null(timed) or not timed:
        w.p("The data gives the month only (police.uk publishes no day or time), so days of the week, hours and "
            "the night-time economy cannot be shown." if v.proxy or _is_null(ctx.row.get("night_share")) else
            "No offence here has a recorded time of day, so days and hours cannot be shown.")
    else:
        pref = ctx.peak_ref
        bits = []
        wd = peak.get("peak_weekday")
        if not _is_null(wd):
            day = w.fig(WEEKDAY_NAMES[int(wd) - 1], int(wd), "weekday", pref("peak_weekday"))
            pd = w.pct(peak["peak_weekday_n"], timed, pref("peak_weekday_n"), pref("timed_n"))
            bits.append(f"the busiest day was {day}" + ("" if pd == "withheld" else f" ({pd} of offences with a time)"))
        hr = peak.get("peak_hour_from")
        if not _is_null(hr):
            h0 = int(hr)
            band = w.fig(f"{h0:02d}:00 and {(h0 + 2) % 24:02d}:59", h0, "hour band", pref("peak_hour_from"))
            ph = w.pct(peak["peak_hour_n"], timed, pref("peak_hour_n"), pref("timed_n"))
            bits.append(f"the busiest three hours were between {band}" + ("" if ph == "withheld" else f" ({ph})"))
        if bits:
            w.p(join_words(bits) + ".")
        parts = []
        for flag in ("night", "nte"):
            share, known, nf, sref, nref, n = _flag_values(ctx, flag)
            if _is_null(share) or not known:
                continue
            pc = w.pct(nf, int(round(known * n)), sref)
            if pc == "withheld":
                continue
            if flag == "night":
                parts.append(f"{pc} happened at night ({w.const('21:00', 'hotspot.profiles.NIGHT_START')} to "
                             f"{w.const('03:59', 'hotspot.profiles.NIGHT_END')})")
            else:
                parts.append(f"{pc} were in the night-time economy (at night and within "
                             f"{w.const('100', 'hotspot.profiles.NEAR_VENUE_M')} metres of a licensed venue)")
        if parts:
            w.p(f"Of all offences here, {join_words(parts)}.")
    frame, msrc, mkey = ctx.monthly()
    if frame.height and int(frame["n"].sum()) > 0:
        top = frame.sort(["n", "month"], descending=[True, False]).row(0, named=True)
        if not dc.is_small(top["n"], ctx.rule):
            mref = lambda col: Ref(msrc, col, mkey + (("month", top["month"]),))  # noqa: E731
            s = f"The busiest month was {w.month(top['month'], mref('month'))} ({w.count(top['n'], mref('n'), v.noun)}"
            if ctx.kind == "area" and not _is_null(ctx.row.get("per_month")):
                pm = ctx.row["per_month"]
                s += f", against an average of {w.number(pm, ctx.ref('per_month'), 0 if pm >= 10 else 1)} a month"
            w.p(s + ").")
    return w.done(f"No {v.thing} in the period, so there is no pattern in time to describe.")
