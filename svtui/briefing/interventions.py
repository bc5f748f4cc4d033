"""The 'interventions and gaps' section, phrased from hotspot.coverage's reach and gap tables."""
from __future__ import annotations

import polars as pl

from svtui import disclosure as dc
from svtui.briefing.context import _Ctx
from svtui.briefing.model import NEED_WORDS, Ref, Section
from svtui.briefing.words import _b, _cap, _is_null, join_words
from svtui.briefing.writer import _W, _count_words, _key


def _coverage(ctx: _Ctx):
    """(reach rows, gap rows, source level, unit) for the subject."""
    level = ctx.level if ctx.kind == "area" else "csp"
    reach, gaps = ctx.eng.coverage(level)
    unit = "locality" if ctx.kind == "locality" else ctx.level
    keep = lambda f: f.filter((pl.col("unit") == unit) & (pl.col("code") == ctx.code)) if f.height else f  # noqa: E731
    return keep(reach), keep(gaps), level, unit


MAX_GAPS = {"area": 3, "locality": 2}  # the largest gaps (svtui gaps lists them all)


def _interventions(ctx: _Ctx) -> Section:
    w = _W("interventions", "Interventions and gaps", ctx.rule)
    ivs = list(getattr(ctx.eng.study, "interventions", []) or [])
    name = w.label(ctx.name) if ctx.kind == "area" else "it"
    if not ivs:
        w.p(f"Not known for {w.label(ctx.name)}: the study lists no interventions (see the data notes).")
        return w.done("")
    cov = _coverage(ctx)
    if cov is None:
        return w.done("Coverage is not available in this version of svtui.")
    reach, gaps, level, unit = cov
    src_r, src_g = f"coverage.reach:{level}", f"coverage.gaps:{level}"
    n_iv = len(ivs)
    reaching = reach.filter(pl.col("reaches") != "no").sort(["place_share", "intervention"], descending=[True, False]) if reach.height else reach
    if reaching.height == 0:
        w.p(f"None of the study's {_count_words(n_iv, Ref('interventions', 'name', agg='count'), w)} "
            f"{dc.plural(n_iv, 'intervention')} reaches {name}.")
    else:
        if reaching.height == n_iv:
            lead = (f"The study's one intervention reaches {name}:" if n_iv == 1 else
                    f"All {_count_words(n_iv, None, w)} of the study's interventions reach {name}:")
        else:
            lead = (f"{_cap(_count_words(reaching.height, None, w))} of the study's {_count_words(n_iv, None, w)} "
                    f"{dc.plural(n_iv, 'intervention')} {'reaches' if reaching.height == 1 else 'reach'} {name}:")
        lines = [_reach_line(w, ctx, ir, ivs, src_r, unit) for ir in reaching.iter_rows(named=True)]
        w.p(lead[:-1] + ": " + "; ".join(x.rstrip(".") for x in lines) + ".")
    real = gaps.filter(pl.col("status").is_in(["gap", "partly met"])) if gaps.height else gaps
    if real.height:
        ng, cap = real.height, MAX_GAPS[ctx.kind]
        at = "here" if ctx.kind == "locality" else f"in {w.label(ctx.name)}"  # a locality's long name is in the title
        w.p(f"{_cap(_count_words(ng, None, w))} {dc.plural(ng, 'gap')} {at}"
            + (", the largest first:" if ng > cap else (", largest first:" if ng > 1 else ":")))
        top = real.sort(["gap_score", "need"], descending=[True, False])
        for gr in top.head(cap).iter_rows(named=True):
            w.li(_gap_line(w, ctx, gr, src_g, unit))
    else:
        status = {r["need"]: r["status"] for r in gaps.iter_rows(named=True)} if gaps.height else {}
        if not status or all(s == "not known" for s in status.values()):
            w.p(f"Gaps in {w.label(ctx.name)}: none can be judged without markers, ages or times (see the data notes).")
        else:
            met = [_provision(k) for k, s in status.items() if s == "met"]
            w.p("Gaps: none found. " + (f"The {join_words(met)} provision that {name} needs reaches it, and no "
                                         "other need passes its threshold." if met
                                         else f"No need passes its threshold in {name}."))
    return w.done("")


def _reach_line(w: _W, ctx: _Ctx, ir: dict, ivs: list, src: str, unit: str) -> str:
    k = _key(unit=unit, code=ctx.code, intervention=ir["intervention"])
    iv = next((i for i in ivs if i.name == ir["intervention"]), None)
    line = _b(w.label(ir["intervention"]))  # provider and cohort are in the study's interventions file
    bits = []
    if ir["reaches"] == "partly":
        bits.append(f"its area covers only {w.share_of(ir['place_share'], None, None, Ref(src, 'place_share', k))} of the harm")
    if iv is not None and not iv.any_time and not _is_null(ir.get("time_share")):
        ts = w.share_of(ir["time_share"], None, None, Ref(src, "time_share", k))
        bits.append(f"its hours hold {ts} of the offences with a time")
    return line + (": " + "; ".join(bits) if bits else "") + "."


def _gap_line(w: _W, ctx: _Ctx, gr: dict, src: str, unit: str) -> str:
    k = _key(unit=unit, code=ctx.code, need=gr["need"])
    need = _cap(NEED_WORDS.get(gr["need"], gr["need"].replace("_", " ")))
    known_n = int(round((gr.get("known") or 0) * ctx.n))
    sh = w.share_of(gr["share"], gr["n_flagged"], known_n, Ref(src, "share", k)) if not _is_null(gr.get("share")) else "not known"
    base = f"{need} ({sh})" if sh not in ("withheld", "not known") else need
    cov = gr.get("covered_share")
    if _is_null(cov) or cov <= 0:
        return base + ": no intervention reaches it."
    cs = w.share_of(cov, None, None, Ref(src, "covered_share", k))
    names = _provider_names(gr.get("providers") or "")
    who = join_words([w.label(n) for n in names]) or "the provision there"
    return base + f": {who} {'reaches' if len(names) <= 1 else 'reach'} {cs} of its harm."


def _provider_names(text: str) -> list[str]:
    """Intervention names from coverage's 'Name (limits), Name (limits)' providers text."""
    names, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(cur)
            cur = ""
            continue
        if depth == 0 and ch not in "()":
            cur += ch
    names.append(cur)
    return [n.strip() for n in names if n.strip()]


def _provision(need: str) -> str:
    return {"knife": "knife-crime", "youth": "youth", "night_time_economy": "night-time economy",
            "domestic_abuse": "domestic-abuse", "sexual_violence": "sexual-violence"}.get(need, need)
