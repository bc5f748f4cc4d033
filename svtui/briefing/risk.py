"""The 'risk factors' section, phrased from hotspot.risk's table."""
from __future__ import annotations

import polars as pl

from svtui import disclosure as dc
from svtui.briefing.context import _Ctx
from svtui.briefing.model import LEVEL_SHORT, Ref, Section
from svtui.briefing.words import _is_null, _ordinal
from svtui.briefing.writer import _W, _key


def _risk(ctx: _Ctx) -> Section:
    w = _W("risk", "Risk factors", ctx.rule)
    name = w.label(ctx.name) if ctx.kind == "area" else "the locality"
    if ctx.is_force:
        w.p("Risk factors compare an area with the force average, so they are given in the briefing for each CSP, "
            "not for the force area as a whole.")
        return w.done("")
    frame = ctx.eng.risk("locality" if ctx.kind == "locality" else ctx.level)
    rows = frame.filter(pl.col("code") == ctx.code) if frame.height and "code" in frame.columns else frame.head(0)
    if rows.height == 0 or "value" not in rows.columns or rows["value"].drop_nulls().len() == 0:
        w.p(f"None found: the study holds no deprivation, population or venue indicators for {name}, so it cannot "
            "be compared with the force average. Add the IMD and population files to the study to see them.")
        return w.done("")
    src = "risk_factors:" + ("locality" if ctx.kind == "locality" else ctx.level)
    if ctx.kind == "area":
        units = LEVEL_SHORT[ctx.level] + "s" if ctx.level != "lsoa" else "LSOAs"
    else:
        units = "LSOAs"
    flagged = rows.filter(pl.col("flagged")).sort("rank")
    if flagged.height:
        w.p(f"Against the force average, {name} stands out on:")
        for fr in flagged.head(4).iter_rows(named=True):
            w.li(_risk_line(w, ctx, fr, src, units, frame))
    else:
        above = (pl.when(pl.col("ratio").is_not_null()).then(pl.col("ratio") > 1)
                 .otherwise((pl.col("value") - pl.col("force_value")) * pl.col("direction") > 0))
        near = rows.filter(pl.col("headline") & pl.col("value").is_not_null() & above.fill_null(False)).sort(
            ["top_pct", "factor"]).head(3)
        w.p(f"None of the risk factors the study holds puts {name} among the riskiest quarter of {units}"
            + ("; the closest are:" if near.height else ", and none is above the force average."))
        for fr in near.iter_rows(named=True):
            w.li(_risk_line(w, ctx, fr, src, units, frame))
    said = set(flagged.head(4)["factor"].to_list())
    dep = rows.filter(pl.col("factor") == "imd_most_deprived_share")
    if dep.height and "imd_most_deprived_share" not in said:
        d = dep.row(0, named=True)
        if not _is_null(d["value"]) and not _is_null(d["force_value"]):
            k = _key(code=ctx.code, factor="imd_most_deprived_share")
            val = w.fig(dc.pct_text(d["value"]), d["value"], "percent", Ref(src, "value", k))
            fv = w.fig(dc.pct_text(d["force_value"]), d["force_value"], "percent", Ref(src, "force_value", k))
            where = "the LSOAs this locality's offences fall in" if ctx.kind == "locality" else name
            w.p(f"For context, {val} of residents of {where} live in the most deprived "
                f"{w.const('20%', 'IMD deciles 1 and 2')} of neighbourhoods in England, against {fv} across the force area.")
    w.p("These are associations, not causes: they show where conditions linked to violence are concentrated.")
    return w.done("")


def _risk_line(w: _W, ctx: _Ctx, fr: dict, src: str, units: str, frame: pl.DataFrame) -> str:
    k = _key(code=fr["code"], factor=fr["factor"])
    label = w.label(fr["label"])
    if ctx.kind == "locality" and fr["factor"] == "licensed_venue_density":
        label += " inside the locality"
    if not _is_null(fr.get("ratio")):
        s = f"{label}: {w.ratio(fr['ratio'], Ref(src, 'ratio', k))} times the force average"
    else:
        s = (f"{label}: {w.number(fr['value'], Ref(src, 'value', k), 2)}, against a force average of "
             f"{w.number(fr['force_value'], Ref(src, 'force_value', k), 2)}")
    tp = fr.get("top_pct")
    if _is_null(tp):
        return s + "."
    if ctx.kind == "area":
        n_units = frame.filter((pl.col("factor") == fr["factor"]) & pl.col("value").is_not_null())["code"].n_unique()
        if n_units <= 20:
            pos = max(1, int(round(tp * n_units)))
            nu = w.number(n_units, Ref(src, "code", _key(factor=fr["factor"]), agg="count_units"))
            if pos == 1:
                return s + f" (the {'highest' if fr.get('direction', 1) > 0 else 'riskiest'} of {nu} {units})."
            pt = w.fig(f"{pos}{_ordinal(pos).strip()[len(str(pos)):]}", tp, "rank", Ref(src, "top_pct", k),
                       note=f"position = top_pct x {n_units}")
            return s + f" ({pt} of {nu} {units} for risk)."
    pct = max(1, min(100, int(-(-tp * 100 // 1))))
    return s + f" (among the riskiest {w.fig(f'{pct}%', tp, 'top share', Ref(src, 'top_pct', k))} of {units})."
