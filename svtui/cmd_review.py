"""CLI for hotspot review sessions: review, actions, evaluate.

    svtui review --period YYYY-MM [--quarter] [--json] [--out FILE] [--minutes FILE.md]
                 [--places FILE] [--workspace DIR] [--disclosure none|partner|public] [--force]
    svtui actions add --place ID --action TEXT [--owner ..] [--start DATE] [--review DATE] ...
    svtui actions list [--status S] [--json]      svtui actions update ID [--status done] ...
    svtui actions history [ID] [--json]
    svtui evaluate --action ID | --place NAME --start YYYY-MM --end YYYY-MM [--ring-m 200]
                   [--control NAME] [--json]

Places reviewed: the adopted localities (`<workspace>/adopted_localities.geojson`) and the
partnership's places (`--places FILE`, else study.toml `[sources] places`). The action log is
`<workspace>/actions.sqlite` (geodata.workspace). For the SYNTHETIC sample study the first
`svtui actions`/`review`/`evaluate` that opens a workspace with no action log yet seeds it with
the sample's three recorded actions (sample_data/study/planted_actions.toml), so
`svtui evaluate --action 1..3` works on a clean clone; the package folder is never written.

Registered with `add_parsers(subparsers, add_study_options)` (one call in svtui/cli.py); each
parser carries its handler as `_handler`.
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from svtui.safe import plain

EXIT_USAGE = 2


# -- shared ------------------------------------------------------------------------------------
def _month(value: str, what: str = "--period") -> date:
    try:
        parts = str(value).strip().split("-")
        y, m = int(parts[0]), int(parts[1])
        return date(y, m, 1)
    except (ValueError, TypeError, IndexError):
        raise _Usage(f"{what} {value!r} is not a month: write YYYY-MM") from None


def _date(value: str, what: str) -> date:
    try:
        s = str(value).strip()
        return date.fromisoformat(s + "-01" if len(s) == 7 else s)
    except ValueError:
        raise _Usage(f"{what} {value!r} is not a date: write YYYY-MM-DD or YYYY-MM") from None


class _Usage(Exception):
    pass


def _say(msg: str) -> None:
    print(f"svtui: {plain(msg, 2000)}", file=sys.stderr)


def _workspace(args, spec, create: bool = True) -> Path:
    from geodata.workspace import resolve_workspace

    return resolve_workspace(spec, getattr(args, "workspace", None), create=create)


def _places(args, spec, ws: Path):
    from geodata.places import all_places
    from geodata.workspace import adopted_path

    places_file = getattr(args, "places", None) or spec.places
    return all_places(adopted_path(ws), places_file)


def is_sample(spec) -> bool:
    from geodata.study import SAMPLE_DIR

    origin = Path(getattr(spec, "origin", "") or "")
    return bool(spec.synthetic) and origin.is_file() and origin.parent.resolve() == SAMPLE_DIR.resolve()


def open_actions(spec, ws: Path, places=None):
    """Open the workspace's action log; for the sample study, seed the recorded actions the
    first time (when the log does not exist yet)."""
    from geodata.actions import open_log
    from geodata.workspace import actions_path

    path = actions_path(ws)
    fresh = not path.exists()
    log = open_log(path)
    if fresh and is_sample(spec):
        seed_sample(log, places)
    return log


def seed_sample(log, places) -> int:
    """Record the sample study's planted actions (as the review group's own entries)."""
    import tomllib

    from geodata.places import find_place
    from geodata.study import SAMPLE_DIR

    f = SAMPLE_DIR / "planted_actions.toml"
    if not f.exists():
        return 0
    n = 0
    for a in tomllib.loads(f.read_text(encoding="utf-8")).get("action", []):
        i = find_place(places, a["place"]) if places is not None and len(places) else None
        pid = str(places["place_id"].iloc[i]) if i is not None else a["place"]
        log.add(pid, a["what"], place_name=a["place"], owner=a.get("owner"), start=a.get("start"),
                review_by=a.get("review_by"), status=a.get("status", "planned"), notes=a.get("notes"),
                who="svtui-sample")
        n += 1
    return n


def _spec(args):
    from svtui.cli import spec_from_args

    return spec_from_args(args)


def _common(p, json_flag: bool = True) -> None:
    p.add_argument("--workspace", metavar="DIR", help="the study's workspace folder (adopted localities, "
                   "action log); default beside study.toml, or ./svtui-sample-workspace for the sample")
    p.add_argument("--places", metavar="FILE", help="the partnership's own places (GeoJSON, GeoPackage or "
                   "Shapefile, any CRS, with a name column); default: study.toml [sources] places")
    if json_flag:
        p.add_argument("--json", action="store_true", help="print one JSON object")


def _jsonable(v):
    import math

    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, date):
        return v.isoformat()
    return v


def _rows(df) -> list[dict]:
    return [{k: _jsonable(v) for k, v in r.items()} for r in df.iter_rows(named=True)]


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=_jsonable, allow_nan=False))


def _guard(fn):
    def run(args):
        from geodata.actions import ActionInputError
        from svtui.review_text import action_error

        try:
            return fn(args)
        except _Usage as exc:
            _say(str(exc))
            return EXIT_USAGE
        except ActionInputError as exc:
            _say(action_error(exc))
            return EXIT_USAGE
    return run


# -- review --------------------------------------------------------------------------------------
def _review_opts(p) -> None:
    p.add_argument("--period", metavar="YYYY-MM", required=True, help="the month reviewed (with --quarter: "
                   "the calendar quarter holding it)")
    p.add_argument("--quarter", action="store_true", help="review the quarter holding --period")
    _common(p)
    p.add_argument("--out", metavar="FILE", help="write the places table (.csv, .json or .parquet)")
    p.add_argument("--minutes", metavar="FILE.md", help="write the meeting's minutes (markdown)")
    p.add_argument("--disclosure", choices=("none", "partner", "public"), default="partner",
                   help="disclosure control for the minutes (default: partner)")
    p.add_argument("--force", action="store_true", help="replace --out / --minutes if they exist")


def build_review(study, prep, places, period: date, quarter: bool, log=None) -> dict:
    """Everything a review meeting reads, as plain data (also used by the Review screen)."""
    import polars as pl

    from hotspot.analysis import Filters, Params, analyse
    from hotspot.evaluate import month_add
    from hotspot.review import candidates, period_months, review

    table = review(prep.incidents, places, period, quarter, known_months=prep.months)
    p0, p1 = period_months(period, quarter)
    cand = pl.DataFrame()
    if prep.months and p1 >= prep.months[0]:
        window = Filters(start=max(month_add(p1, -11), prep.months[0]), end=min(p1, prep.months[-1]))
        cand = candidates(analyse(prep, window, Params()).localities, places)
    acts = log.current() if log is not None else None
    evals = []
    if acts is not None and acts.height:
        for a in acts.filter(pl.col("status") == "done").iter_rows(named=True):
            evals.append(evaluate_action(study, prep, places, a))
    return {"table": table, "candidates": cand, "actions": acts, "evaluations": evals,
            "period": (p0, p1), "quarter": quarter}


def evaluate_action(study, prep, places, a: dict, ring_m: float | None = None) -> dict:
    """Evaluate a recorded action: after = its start month to its review-by month (or the
    study's last month), before = as many months just before."""
    from geodata.places import find_place
    from hotspot.evaluate import DEFAULT_RING_M, evaluate_in_study

    i = find_place(places, a["place_id"])
    if i is None and a.get("place_name"):
        i = find_place(places, a["place_name"])
    out = {"action_id": a["action_id"], "place_id": a["place_id"], "place_name": a.get("place_name"),
           "what": a["what"], "status": a["status"]}
    if i is None:
        return {**out, "verdict": "place_not_found"}
    if not a.get("start"):
        return {**out, "verdict": "no_start_date"}
    start = date.fromisoformat(a["start"])
    end = date.fromisoformat(a["review_by"]) if a.get("review_by") else prep.months[-1]
    if prep.months and date(end.year, end.month, 1) > prep.months[-1]:
        end = prep.months[-1]
        out["after_cut_to_data"] = True
    control = None
    if a.get("control"):
        j = find_place(places, a["control"])
        if j is None:
            return {**out, "verdict": "control_not_found"}
        control = places.geometry.iloc[j]
    ring = ring_m or a.get("ring_m") or DEFAULT_RING_M
    try:
        ev = evaluate_in_study(prep, study.areas, places.geometry.iloc[i], start, end, ring, control)
    except ValueError as exc:
        return {**out, "verdict": str(exc)}
    return {**out, "name": str(places["name"].iloc[i]), **ev}


@_guard
def cmd_review(args) -> int:
    from hotspot.analysis import prepare
    from svtui.cli import load_from_args

    period = _month(args.period)
    spec = _spec(args)
    ws = _workspace(args, spec)
    places = _places(args, spec, ws)
    if len(places) == 0:
        raise _Usage("no places to review: adopt localities (`svtui localities adopt`) or give --places FILE")
    for path in (args.out, args.minutes):
        if path and Path(path).exists() and not args.force:
            raise _Usage(f"{path}: already exists (fix: choose another name or pass --force)")
    study = load_from_args(args, quiet=args.json)
    prep = prepare(study)
    with open_actions(spec, ws, places) as log:
        r = build_review(study, prep, places, period, args.quarter, log)
    if args.out:
        _write_table(r["table"], args.out)
    if args.minutes:
        from geodata.atomic import write_text_atomic
        from svtui.review_minutes import minutes

        write_text_atomic(minutes(study, r, args.disclosure), args.minutes, force=True)
    if args.json:
        _print_json({
            "study": {"name": study.name, "synthetic": study.synthetic, "workspace": str(ws)},
            "period": {"from": r["period"][0].isoformat(), "to": r["period"][1].isoformat(), "quarter": args.quarter},
            "places": _rows(r["table"]),
            "candidates": _rows(r["candidates"]) if r["candidates"].height else [],
            "actions": _rows(r["actions"]) if r["actions"] is not None else [],
            "evaluations": [{k: _jsonable(v) for k, v in e.items()} for e in r["evaluations"]],
            "notes": places.attrs.get("notes", []),
        })
        return 0
    _print_review(study, r)
    for path in (args.out, args.minutes):
        if path:
            print(f"Written: {plain(path, None)}")
    return 0


def _write_table(df, path) -> None:
    from geodata.atomic import write_atomic, write_csv_atomic

    ext = Path(path).suffix.lower()
    if ext == ".csv":
        write_csv_atomic(df, path, force=True)
    elif ext == ".parquet":
        write_atomic(path, lambda p: df.write_parquet(p), force=True)
    elif ext == ".json":
        write_atomic(path, lambda p: p.write_text(json.dumps(_rows(df), indent=1, default=_jsonable), encoding="utf-8"), force=True)
    else:
        raise _Usage(f"{path}: write .csv, .json or .parquet")


def _print_review(study, r) -> None:
    from svtui.review_text import chart_cell, change_cell, change_words

    p0, p1 = r["period"]
    label = f"{p0:%b %Y}" if p0 == p1 else f"{p0:%b}–{p1:%b %Y}"
    print(plain(f"Hotspot review, {label}: {study.name}" + ("  [SYNTHETIC sample data]" if study.synthetic else ""), None))
    print("Serious violence per place. prev = previous period, year = same period a year")
    print("before, 3m = last 3 months vs the 3 before; * = significant change (exact test,")
    print("5%); chart = this period against the place's c-chart limits.")
    print()
    print(f"{'place':<26} {'now':>4} {'prev':>10} {'year':>10} {'3m':>11} {'chart':>5}")
    t = r["table"]
    for row in t.iter_rows(named=True):
        print(f"{plain(row['name'], 26):<26} {_n(row['n_now']):>4} "
              f"{change_cell(row['n_prev_before'], row['n_prev_after'], row['p_prev']):>10} "
              f"{change_cell(row['n_year_before'], row['n_year_after'], row['p_year']):>10} "
              f"{change_cell(row['n_3m_before'], row['n_3m_after'], row['p_3m']):>11} {chart_cell(row['c_flag']):>5}")
    print()
    for row in t.iter_rows(named=True):
        print(plain(row["name"], 80))
        print(f"  vs previous:  {change_words(row['n_prev_before'], row['n_prev_after'], row['p_prev'])}")
        print(f"  vs last year: {change_words(row['n_year_before'], row['n_year_after'], row['p_year'])}")
        print(f"  last 3 months: {change_words(row['n_3m_before'], row['n_3m_after'], row['p_3m'])}")
        others = ", ".join(f"{lab} {_n(row[f'other_{k}_now'], 'not recorded')}" for k, lab in
                           (("asb", "ASB"), ("public_order", "public order"), ("drugs", "drugs")))
        print(f"  harm {_n(row['harm_now'])}; other crime: {others}")
    c = r["candidates"]
    if c.height:
        print()
        print("New candidate places (hotspot localities in the last 12 months, not yet reviewed):")
        for row in c.head(10).iter_rows(named=True):
            print(f"  {plain(row['locality_id'], 12):<12} {plain(row['name'], 48):<48} {row['n_incidents']:>5}")
    acts = r["actions"]
    if acts is not None and acts.height:
        import polars as pl

        open_ = acts.filter(pl.col("status").is_in(["planned", "running"]))
        print()
        print(f"Open actions: {open_.height}; done: {acts.filter(pl.col('status') == 'done').height} "
              "(`svtui actions list`)")
    for e in r["evaluations"]:
        from svtui.review_text import evaluation_words

        print()
        print(plain(f"Action {e['action_id']}: {e['what']} ({e.get('name') or e['place_id']})", 200))
        print("  " + (plain(evaluation_words(e), 2000) if "T0" in e else plain(e["verdict"], 80)))


def _n(v, missing: str = "gap") -> str:
    import math

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    return f"{v:,.0f}"


# -- actions -------------------------------------------------------------------------------------
def _action_fields(p, required: bool) -> None:
    p.add_argument("--place", required=required, metavar="ID|NAME", help="the place (an adopted locality id or a place's name)")
    p.add_argument("--action", dest="what", required=required, metavar="TEXT", help="what was agreed")
    p.add_argument("--owner", metavar="AGENCY", help="the owner agency")
    p.add_argument("--start", dest="starts_on", metavar="YYYY-MM-DD", help="start date")
    p.add_argument("--review", dest="review_by", metavar="YYYY-MM-DD", help="review-by date")
    p.add_argument("--status", choices=("planned", "running", "done", "dropped"), default=None)
    p.add_argument("--notes", metavar="TEXT")
    p.add_argument("--control", metavar="ID|NAME", help="a control place for the evaluation (default: the rest of the CSP)")
    p.add_argument("--ring-m", type=float, dest="ring_m", metavar="M", help="displacement ring width (default 200)")


def _actions_opts(p, add_study_options) -> None:
    sub = p.add_subparsers(dest="actions_command", metavar="add|list|update|history", required=True)
    a = sub.add_parser("add", help="record an agreed action")
    _action_fields(a, True)
    l_ = sub.add_parser("list", help="the actions, latest state")
    l_.add_argument("--status", choices=("planned", "running", "done", "dropped"))
    u = sub.add_parser("update", help="change an action (every change is kept)")
    u.add_argument("id", type=int)
    _action_fields(u, False)
    h = sub.add_parser("history", help="every change to the actions, who and when")
    h.add_argument("id", type=int, nargs="?")
    for sp in (a, l_, u, h):
        add_study_options(sp)
        _common(sp)


@_guard
def cmd_actions(args) -> int:
    spec = _spec(args)
    ws = _workspace(args, spec)
    places = _places(args, spec, ws)
    with open_actions(spec, ws, places) as log:
        cmd = args.actions_command
        if cmd in ("add", "update"):
            fields = {k: getattr(args, k) for k in ("what", "owner", "starts_on", "review_by", "status", "notes",
                                                     "control", "ring_m") if getattr(args, k, None) is not None}
            if "starts_on" in fields:  # (its own dest: --from/--to's `start` is the window every command takes)
                fields["start"] = fields.pop("starts_on")
            if getattr(args, "place", None):
                from geodata.places import find_place

                i = find_place(places, args.place)
                if i is None:
                    raise _Usage(f"--place {args.place!r}: no such place (adopted localities and places: "
                                 + ", ".join(places["place_id"].astype(str).head(12)) + ")")
                fields["place_id"] = str(places["place_id"].iloc[i])
                fields["place_name"] = str(places["name"].iloc[i])
            if "control" in fields:
                from geodata.places import find_place

                if find_place(places, fields["control"]) is None:
                    raise _Usage(f"--control {fields['control']!r}: no such place")
            if cmd == "add":
                aid = log.add(fields.pop("place_id"), fields.pop("what"), **fields)
                row = log.get(aid)
            else:
                log.update(args.id, **fields)
                row = log.get(args.id)
            if args.json:
                _print_json({k: _jsonable(v) for k, v in row.items()})
            else:
                print(f"Action {row['action_id']} (version {row['version']}) saved in {plain(log.path, None)}")
            return 0
        if cmd == "list":
            df = log.current(args.status)
            if args.json:
                _print_json({"workspace": str(ws), "actions": _rows(df)})
                return 0
            if df.height == 0:
                print("No actions recorded yet (`svtui actions add --place ... --action ...`).")
                return 0
            print(f"{'id':>3} {'status':<8} {'place':<24} {'start':<10} {'review':<10} action")
            for r in df.iter_rows(named=True):
                print(f"{r['action_id']:>3} {r['status']:<8} {plain(r['place_name'] or r['place_id'], 24):<24} "
                      f"{r['start'] or '':<10} {r['review_by'] or '':<10} {plain(r['what'], 60)}")
            return 0
        df = log.history(args.id)
        if args.json:
            _print_json({"workspace": str(ws), "history": _rows(df)})
            return 0
        for r in df.iter_rows(named=True):
            print(f"{r['at']}  {plain(r['who'], 20):<20} action {r['action_id']} v{r['version']}: "
                  f"{plain(r['changed'], 60)} -> status {r['status']}")
        return 0


# -- evaluate ------------------------------------------------------------------------------------
def _evaluate_opts(p) -> None:
    p.add_argument("--action", type=int, metavar="ID", help="evaluate a recorded action")
    p.add_argument("--place", metavar="ID|NAME", help="or a place, with --start and --end")
    p.add_argument("--start", metavar="YYYY-MM", help="first month of the after window")
    p.add_argument("--end", metavar="YYYY-MM", help="last month of the after window")
    p.add_argument("--ring-m", type=float, dest="ring_m", metavar="M", help="displacement ring width (default 200 m)")
    p.add_argument("--control", metavar="ID|NAME", help="a control place (default: the rest of the place's CSP)")
    _common(p)


@_guard
def cmd_evaluate(args) -> int:
    from hotspot.analysis import prepare
    from svtui.cli import load_from_args
    from svtui.review_text import evaluation_words

    if (args.action is None) == (args.place is None):
        raise _Usage("give --action ID, or --place NAME with --start and --end")
    if args.ring_m is not None and not args.ring_m > 0:
        raise _Usage("--ring-m must be a positive number of metres")
    spec = _spec(args)
    ws = _workspace(args, spec)
    places = _places(args, spec, ws)
    with open_actions(spec, ws, places) as log:
        if args.action is not None:
            a = log.get(args.action)
            if a is None:
                raise _Usage(f"action {args.action}: no action has this id (see `svtui actions list`)")
            if args.control:
                a["control"] = args.control
        else:
            if not (args.start and args.end):
                raise _Usage("--place needs --start YYYY-MM and --end YYYY-MM")
            a = {"action_id": None, "place_id": args.place, "place_name": args.place, "what": "",
                 "status": "", "start": _month(args.start, "--start").isoformat(),
                 "review_by": _month(args.end, "--end").isoformat(), "control": args.control}
    study = load_from_args(args, quiet=args.json)
    prep = prepare(study)
    ev = evaluate_action(study, prep, places, a, args.ring_m)
    if ev["verdict"] in ("place_not_found", "control_not_found", "no_start_date", "end_before_start", "unequal_windows"):
        raise _Usage({"place_not_found": f"place {a['place_id']!r} not found among the adopted localities and places",
                      "control_not_found": f"control place {a.get('control')!r} not found",
                      "no_start_date": "the action has no start date (`svtui actions update ID --start YYYY-MM-DD`)"}
                     .get(ev["verdict"], "the end is before the start"))
    words = evaluation_words(ev, control_name=a.get("control"))
    if args.json:
        _print_json({**{k: _jsonable(v) for k, v in ev.items()}, "words": words})
        return 0
    print(plain(f"{ev.get('name') or ev['place_id']}" + (f" — action {ev['action_id']}: {ev['what']}" if ev["action_id"] else ""), 200))
    print(f"Before {ev['before_from']:%b %Y}–{ev['before_to']:%b %Y}, after {ev['after_from']:%b %Y}–{ev['after_to']:%b %Y} "
          f"({ev['months']} months each); ring {ev['ring_m']:.0f} m")
    print(f"{'':<22}{'before':>8}{'after':>8}")
    for key, lab in (("T", "place"), ("D", "ring"), ("Ct", "control"), ("Cd", "ring control")):
        print(f"{lab:<22}{ev[key + '0']:>8}{ev[key + '1']:>8}")
    print(plain(words, 4000))
    return 0


# -- registration ----------------------------------------------------------------------------------
def add_parsers(sub, add_study_options) -> None:
    """Add review, actions and evaluate to the CLI's subparsers (their handler as `_handler`)."""
    r = sub.add_parser("review", help="hotspot review: what changed at each place, tested", description=__doc__.split("\n\n")[0])
    add_study_options(r)
    _review_opts(r)
    r.set_defaults(_handler=cmd_review)
    a = sub.add_parser("actions", help="the action log: what the review group agreed")
    _actions_opts(a, add_study_options)
    a.set_defaults(_handler=cmd_actions)
    e = sub.add_parser("evaluate", help="did an action work? WDD and WDQ with displacement")
    add_study_options(e)
    _evaluate_opts(e)
    e.set_defaults(_handler=cmd_evaluate)
