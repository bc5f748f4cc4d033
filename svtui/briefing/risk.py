"""The 'risk factors' section, phrased from hotspot.risk's table."""
from __future__ import annotations

import polars as pl

from svtui import disclosure as dc
from svtui.briefing.context import _Ctx
from svtui.briefing.model import Ref, Section
from svtui.briefing.words import _is_null
from svtui.briefing.writer import _W, _key


def _risk(ctx: _Ctx) -> Section:
    w = _W("risk", "Risk factors", ctx.rule)
    name = w.label(ctx.name) if ctx.kind == "area" else f"the locality {w.label(ctx.code)}"
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
    curated = rows.filter(pl.col("kind") == "risk") if "kind" in rows.columns else rows
    flagged = curated.filter(pl.col("flagged")).sort("rank")
    rule = ("from the force" if "std_diff" in rows.columns else "against the force average")
    if flagged.height:
        w.p(f"Against the force average, {name} stands out on:")
        for fr in flagged.head(3 if ctx.kind == "area" else 2).iter_rows(named=True):
            w.li(_risk_line(w, ctx, fr, src))
    else:
        if "comparison" in curated.columns:  # the engine's own judgement of higher risk
            above = pl.col("comparison") == "higher_risk"
        else:
            above = (pl.when(pl.col("ratio").is_not_null()).then(pl.col("ratio") > 1)
                     .otherwise((pl.col("value") - pl.col("force_value")) * pl.col("direction") > 0))
        near = curated.filter(pl.col("headline") & pl.col("value").is_not_null() & above.fill_null(False)).sort(
            ["top_pct", "factor"]).head(3)
        if near.height:
            tail = "; those on the risky side of the force are:"
        elif "comparison" in curated.columns:
            tail = ": on each it is similar to the force or at lower risk."
        else:
            tail = ", and none is on the risky side of the force average."
        venue = (" Venue density not known (no venue file)." if "reason" in rows.columns
                 and (rows["reason"] == "no_venue_file").any() and not near.height else "")
        w.p(f"None of the risk factors the study holds makes {name} stand out {rule}{tail}{venue}")
        for fr in near.iter_rows(named=True):
            w.li(_risk_line(w, ctx, fr, src))
        if near.height and venue:
            w.p(f"Venue density in {name}: not known (no venue file).")
    if flagged.height and "reason" in rows.columns and (rows["reason"] == "no_venue_file").any():
        w.p(f"Venue density in {name}: not known (no venue file).")
    said = set(flagged.head(3 if ctx.kind == "area" else 2)["factor"].to_list())
    dep = rows.filter(pl.col("factor") == "imd_most_deprived_share")
    if dep.height and "imd_most_deprived_share" not in said and ctx.kind == "area":
        d = dep.row(0, named=True)
        if not _is_null(d["value"]) and not _is_null(d["force_value"]):
            k = _key(code=ctx.code, factor="imd_most_deprived_share")
            val = w.fig(dc.pct_text(d["value"]), d["value"], "percent", Ref(src, "value", k))
            fv = w.fig(dc.pct_text(d["force_value"]), d["force_value"], "percent", Ref(src, "force_value", k))
            where = "the LSOAs around it" if ctx.kind == "locality" else name
            w.p(f"{val} of residents of {where} live in England's most deprived "
                f"{w.const('20%', 'IMD deciles 1 and 2')} of neighbourhoods (the force: {fv}).")
    return w.done("")


def _risk_line(w: _W, ctx: _Ctx, fr: dict, src: str) -> str:
    """One factor against the force (no rank among a handful of areas: that is no difference)."""
    k = _key(code=fr["code"], factor=fr["factor"])
    label = w.label(_human_label(fr))
    if ctx.kind == "locality" and fr["factor"] == "licensed_venue_density":
        label += " inside the locality"
    if not _is_null(fr.get("ratio")):
        s = f"{label}: {w.ratio(fr['ratio'], Ref(src, 'ratio', k))} times the force average"
    else:
        s = (f"{label}: {w.number(fr['value'], Ref(src, 'value', k), 2)}, against a force average of "
             f"{w.number(fr['force_value'], Ref(src, 'force_value', k), 2)}")
    return s + "."


def _human_label(fr: dict) -> str:
    """The factor's human label (hotspot.risk.indicator_label for an indicator column), never a
    raw column name."""
    label = fr.get("label") or ""
    col = fr.get("column") or fr.get("factor") or ""
    if not label or label == col or "_" in label:
        try:
            from hotspot.risk import indicator_label

            return indicator_label(col)
        except ImportError:
            return label.replace("_", " ")
    return label
