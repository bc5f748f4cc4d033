"""The 'where' section: hotspot localities, sub-areas, public place against home."""
from __future__ import annotations

import polars as pl

from svtui import disclosure as dc
from svtui.briefing.context import _row, _Ctx, _area_localities
from svtui.briefing.model import PATTERN_WORDS, Ref, Section
from svtui.briefing.what import _flag_values
from svtui.briefing.words import _cap, _is_null, _num_words, join_words, spoken_name
from svtui.briefing.writer import _W, _count_words, _key


def _area_where(ctx: _Ctx) -> Section:
    w = _W("where", "Where", ctx.rule)
    analysis = ctx.eng.analysis
    area = w.label(ctx.name)
    loc_all = _area_localities(ctx)
    loc = loc_all.filter(pl.col("n_incidents") >= ctx.rule.locality_min) if loc_all.height and ctx.rule.locality_min else loc_all
    dropped = loc_all.height - loc.height
    if loc_all.height == 0:
        share = float(analysis.params.area_share)
        st = w.fig(f"{share:g}%", share, "constant", Ref("constant", "Params.area_share"))
        w.p(f"No hotspot locality lies in {area}: none of the places that together make up the {st} of the "
            "study area with the highest hotspot map score is in it.")
    elif loc.height == 0:
        lm = w.fig(str(ctx.rule.locality_min), ctx.rule.locality_min, "constant", Ref("constant", "disclosure locality_min"))
        w.p(f"Hotspot localities were found in {area}, but each has fewer than {lm} {dc.plural(2, ctx.voice.noun)}, so "
            "none is named under the public disclosure rule.")
    else:
        # a CSP holds hundreds of budget cells: name only the few significant ones with most harm
        csp_sig = ctx.level == "csp" and "significant" in loc.columns and loc.height > CSP_SHOWN
        listed = loc.filter(pl.col("significant").fill_null(False)) if csp_sig else loc
        if csp_sig and listed.height == 0:
            listed, csp_sig = loc, False
        top = listed.head(CSP_SHOWN if csp_sig else 5)
        ids = tuple(top["locality_id"].to_list())
        n_loc = loc.height
        n_top = int(top["n_incidents"].sum())
        if ctx.level == "csp":
            whole = "the CSP's harm"
            total = w.share_of(float(top["share_of_area_harm"].sum()), n_top, ctx.n,
                               Ref("localities", "share_of_area_harm", _key(locality_id=ids), agg="sum"))
        elif ctx.is_force:
            whole = f"the harm in {ctx.short}"
            frac = float(top["harm"].sum()) / ctx.row["harm"] if ctx.row.get("harm") else None
            total = w.share_of(frac, n_top, ctx.n, Ref("localities", "harm", _key(locality_id=ids), agg="sum"),
                               ctx.ref("harm"))
        else:  # a ward, district or LSOA: only the part of each locality inside it counts
            whole = f"the harm in {ctx.short}"
            total = "not known"
            ov = ctx.eng.overlap(ctx.level, ctx.code)
            sel = ov.filter(pl.col("locality_id").is_in(list(ids))) if ov is not None else None
            if sel is not None and sel.height and sel["area_harm"][0]:
                src = f"locality_overlap:{ctx.level}"
                total = w.share_of(float(sel["harm"].sum()) / sel["area_harm"][0], int(sel["n"].sum()), ctx.n,
                                   Ref(src, "harm", _key(locality_id=tuple(sel["locality_id"].to_list()), code=ctx.code),
                                       agg="sum"),
                                   Ref(src, "area_harm", _key(locality_id=sel["locality_id"][0], code=ctx.code)))
        cnt_ref = (Ref("localities", "locality_id", _key(locality_id=tuple(loc["locality_id"].to_list())), agg="count")
                   if dropped else  # some withheld (public rule): the count is of the ids shown
                   Ref("localities", "locality_id", () if ctx.is_force else _key(**{f"{ctx.level}_code": ctx.code}),
                       agg="count"))
        how_many = f"{_count_words(n_loc, cnt_ref, w)} hotspot {dc.plural(n_loc, 'locality', 'localities')}"
        if ctx.is_force:
            lead = f"The analysis found {how_many} in {area}"
        else:
            lead = f"{how_many} {'lies' if n_loc == 1 else 'lie'} in {area}"
        if csp_sig:
            n_sig = listed.height
            sig_txt = w.count(n_sig, Ref("localities", "locality_id",
                                         _key(locality_id=tuple(listed["locality_id"].to_list())), agg="count"))
            lead += f"; of its {sig_txt} significant concentrations"
            k = top.height
            if total not in ("withheld", "not known"):
                lead += (f", the {_num_words(k)} with most harm hold {total} of its harm" if k > 1
                         else f", the one with most harm holds {total} of its harm")
            else:
                lead += f", the {_num_words(k)} with most harm" if k > 1 else ", the one with most harm"
        elif total not in ("withheld", "not known"):
            if n_loc > 5:
                lead += f"; the five with most harm hold {total} of {whole}"
            elif n_loc > 1:
                lead += f", together holding {total} of {whole}"
            else:
                lead += f", holding {total} of {whole}"
        w.p(lead + ":")
        for lr in top.iter_rows(named=True):
            w.li(_locality_line(w, ctx, lr, say_significance=not csp_sig))
        if dropped:
            lm = w.fig(str(ctx.rule.locality_min), ctx.rule.locality_min, "constant", Ref("constant", "disclosure locality_min"))
            shown = set(loc["locality_id"].to_list())
            hidden = tuple(i for i in loc_all["locality_id"].to_list() if i not in shown)
            many = w.fig(dc.count(dropped, ctx.rule).text, dropped, "count",
                         Ref("localities", "locality_id", _key(locality_id=hidden), agg="count"))
            w.p(f"{_cap(_num_words(dropped)) if dropped <= 10 else many} more "
                f"{dc.plural(dropped, 'locality', 'localities')} with fewer than {lm} {dc.plural(2, ctx.voice.noun)} "
                f"{'is' if dropped == 1 else 'are'} not named (public disclosure rule).")
        if ctx.is_force:
            share = analysis.locality_area_share()
            if share:
                txt = w.fig(_small_pct(share), share, "small percent", Ref("analysis", "locality_area_share()"))
                w.p(f"Together the localities cover {txt} of the study area.")

    # where in the area: sub-areas by harm
    sub_level = {"force": "csp", "csp": "ward", "district": "ward"}.get(ctx.level)
    if sub_level and ctx.row.get("harm"):
        sub = _sub_areas(ctx, sub_level)
        if sub is not None and sub.height > 1:
            parts = []
            for sr in sub.head(3).iter_rows(named=True):
                pt = w.share_of(sr["harm"] / ctx.row["harm"], sr["n"], ctx.n,
                                Ref(f"area_profiles:{sub_level}", "harm", _key(code=sr["code"])), ctx.ref("harm"))
                if pt not in ("withheld", "not known"):
                    parts.append(f"{w.label(sr['name'])} ({pt})")
            if parts:
                w.p(f"The {'CSPs' if sub_level == 'csp' else 'wards'} with most harm: {join_words(parts)}.")
    _repeats(w, ctx)
    _place_mix(w, ctx)
    return w.done(f"There is no {ctx.voice.thing} in {area} in the period, so there is nowhere to describe.")


CSP_SHOWN = 2  # significant localities named in a CSP briefing (word budget, issue 16)
REPEATS_SHOWN = 3  # repeat locations named in a briefing (the table in svtui trends has more)


def _repeats(w: _W, ctx: _Ctx) -> None:
    """The area's most frequent snapped locations ("On or near X") with their counts, so a town
    that never reaches the locality threshold still shows where its violence concentrates."""
    frame = ctx.eng.repeats(ctx.level)
    if frame is None or frame.height == 0:
        return
    rows = frame.filter(pl.col("code") == ctx.code).sort("rank")
    floor = max(ctx.rule.locality_min or 0, 5)  # a handful at one point is no pattern to name
    rows = rows.filter(pl.col("n") >= floor)
    rows = rows.filter(pl.col("location").str.len_chars() > 0).head(REPEATS_SHOWN)
    if rows.height == 0:
        return
    src = f"repeat_locations:{ctx.level}"
    parts = []
    for i, rr in enumerate(rows.iter_rows(named=True)):
        ref = Ref(src, "n", _key(code=ctx.code, rank=rr["rank"]))
        parts.append(f"{w.label(rr['location'])} ({w.count(rr['n'], ref, ctx.voice.noun if i == 0 else None)})")
    w.p(f"The most frequent locations were {join_words(parts)}.")


def _place_mix(w: _W, ctx: _Ctx) -> None:
    """Public place against home, as a breakdown that adds up to 100."""
    share, known, nf, sref, nref, n = _flag_values(ctx, "public_place")
    if _is_null(share) or not known:
        return  # police.uk's blind spots are said once, in the data notes
    known_n = int(round(known * n))
    ncol = ctx.n_ref.column
    whole = ctx.ref(f"public_place_known*{ncol}")
    public, home = int(nf), known_n - int(nf)
    ref_public, ref_home = ctx.ref("public_place_n"), ctx.ref(f"public_place_known*{ncol}-public_place_n")
    parts = w.breakdown([("public", public), ("home", home)], lambda p: ref_public if p.label == "public" else ref_home,
                        per=whole, min_lines=2)
    pc = {p.label: p.percent.text for p in parts}
    if len(parts) == 2:
        w.p(f"Where the place is recorded, {pc['public']} were in a public place and {pc['home']} in a home.")
    elif public == 0 or home == 0:
        w.p("Every offence with a recorded place happened " + ("in a home." if public == 0 else "in a public place."))
    else:  # one side is too small for a percentage: counts only
        w.p(f"Of the offences with a recorded place, {w.count(public, ref_public)} happened in a public place and "
            f"{w.count(home, ref_home)} in a home.")


def _small_pct(frac: float) -> str:
    """A small share with one decimal under 10% ('0.4%'), whole above."""
    v = frac * 100
    if 0 < v < 0.1:
        return "less than 0.1%"
    if v < 10:
        return f"{dc.round_half_up(v, 1):.1f}%"
    return f"{int(dc.round_half_up(v))}%"


def _sub_areas(ctx: _Ctx, sub_level: str) -> pl.DataFrame | None:
    try:
        prof = ctx.eng.profiles(sub_level)
    except ValueError:
        return None
    if not ctx.is_force:
        col = f"{ctx.level}_code"
        if col not in prof.columns:
            return None
        prof = prof.filter(pl.col(col) == ctx.code)
    if ctx.rule.locality_min:
        prof = prof.filter(pl.col("n") >= ctx.rule.locality_min)
    return prof.filter(pl.col("n") > 0).sort(["harm", "code"], descending=[True, False])


def _locality_line(w: _W, ctx: _Ctx, lr: dict, say_significance: bool = True) -> str:
    lid = lr["locality_id"]
    lk = _key(locality_id=lid)
    first = w.count(lr["n_incidents"], Ref("localities", "n_incidents", lk), ctx.voice.noun)
    if ctx.level == "csp" and not _is_null(lr.get("share_of_area_harm")):
        sh = w.share_of(lr["share_of_area_harm"], lr["n_incidents"], ctx.n, Ref("localities", "share_of_area_harm", lk))
        if sh not in ("withheld", "not known"):
            first += f", {sh} of the harm"
    elif ctx.is_force and ctx.row.get("harm"):
        sh = w.share_of(lr["harm"] / ctx.row["harm"], lr["n_incidents"], ctx.n, Ref("localities", "harm", lk),
                        ctx.ref("harm"))
        if sh not in ("withheld", "not known"):
            first += f" and {sh} of the harm in {ctx.short}"
    elif ctx.level != "csp":  # the locality's part inside this area, over the area's harm
        ov = ctx.eng.overlap(ctx.level, ctx.code)
        orow = _row(ov, locality_id=lid) if ov is not None else None
        if orow is not None and not _is_null(orow.get("share_of_area_harm")):
            ok = _key(locality_id=lid, code=ctx.code)
            src = f"locality_overlap:{ctx.level}"
            sh = w.share_of(orow["share_of_area_harm"], orow["n"], ctx.n, Ref(src, "share_of_area_harm", ok))
            if sh not in ("withheld", "not known"):
                inside = ("all of them" if orow["n"] == lr["n_incidents"]
                          else f"{w.count(orow['n'], Ref(src, 'n', ok))} of them")
                first += f", {inside} in {ctx.short}, holding {sh} of its harm"
    bits = [first]
    if say_significance and lr.get("significant") is not None:
        bits.append("a significant concentration" if lr["significant"] else "not a significant concentration")
    pattern = lr.get("pattern")
    kind = PATTERN_WORDS[pattern].split(" (")[0] if pattern in PATTERN_WORDS else ""
    if _too_few_steps(lr, ctx):
        kind = "too few months for a trend"
    elif lr.get("trend") in ("rising", "falling"):
        kind = (kind + ", " if kind else "") + f"{lr['trend']} month by month"
    if kind:
        bits.append(kind)
    name = lr["name"] or ""
    dist = spoken_name(lr["district_name"]) if lr.get("district_name") else ""
    if ctx.level == "csp" and dist and name.endswith(f", {dist}"):  # within a CSP the ward places it
        name = name[: -len(dist) - 2]
    return f"{w.label(name)} ({w.label(lid)}): " + "; ".join(bits) + "."


def _loc_where(ctx: _Ctx) -> Section:
    w = _W("where", "Where", ctx.rule)
    r = ctx.row
    lsoa = f", mainly in LSOA {w.label(r['lsoa_code'])}" if r.get("lsoa_code") else ""
    if r.get("focus"):
        w.p(f"Most of the harm centres on {w.label(r['focus'])}{lsoa}.")
    elif lsoa:
        w.p(f"It lies{lsoa[1:]}.")
    area = []
    if r.get("ward_name"):
        area.append(f"{w.label(r['ward_name'])} ward")
    if r.get("district_name"):
        area.append(w.label(spoken_name(r["district_name"])))
    venues = r.get("top_venues") or []
    counts = r.get("top_venue_n") or []
    if venues:
        parts = []
        for i, (vn, vc) in enumerate(zip(venues, counts)):
            ref = Ref("localities", "top_venue_n", _key(locality_id=ctx.code), agg=f"item{i}")
            parts.append(f"{w.label(vn)} ({w.count(vc, ref, ctx.voice.noun if i == 0 else None)})")
        near = w.const("100", "hotspot.profiles.NEAR_VENUE_M")
        w.p(f"Licensed venues with most harm within {near} metres: {join_words(parts)}.")
    elif not ctx.voice.proxy:
        w.p("No licensed venue lies within 100 metres of its offences.".replace("100", w.const("100", "hotspot.profiles.NEAR_VENUE_M")))
    _place_mix(w, ctx)
    return w.done("The data does not say more about where in the locality the harm falls.")


def _too_few_steps(lr: dict, ctx: _Ctx) -> bool:
    """The engine left the pattern out for want of months (reason "too_few_steps"), or, from an
    engine without that rule, the window has fewer than 10 months (issue 11 must 6)."""
    if "too_few_steps" in (lr.get("pattern_reason"), lr.get("trend_reason")):
        return True
    win = ctx.eng.analysis.window
    return "pattern_reason" not in lr and bool(win) and ((win[1].year - win[0].year) * 12 + win[1].month - win[0].month + 1) < 10
