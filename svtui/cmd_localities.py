"""`svtui localities adopt`: freeze the current hotspot localities into the study's workspace.

The file follows the adopted-localities contract (read by the review screens and by every later
analysis): ``<workspace>/adopted_localities.geojson``, an EPSG:4326 FeatureCollection whose
features carry ``id``, ``name``, ``adopted`` (ISO date), ``window_from``, ``window_to``
(``YYYY-MM``) and ``cell_size_m``, with the union of the locality's grid cells as geometry.
Once it exists, `svtui hotspots`, the briefing and the workbench report those same polygons (plus
any new candidate places, marked new), so a monthly review follows the same places.
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from svtui.cli import command
from svtui.safe import plain


def read_adopted(path: str | Path):
    """The adopted localities in a contract file as hotspot.localities.AdoptedLocality (BNG WKT)."""
    import geopandas as gpd
    import shapely

    from geodata.errors import SourceError
    from hotspot.localities import AdoptedLocality

    try:
        g = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - unreadable file: one line naming it
        raise SourceError(path, f"cannot read the adopted localities ({type(exc).__name__})",
                          "re-create it with: svtui localities adopt --force") from None
    for col in ("id", "name"):
        if col not in g.columns:
            raise SourceError(path, f"adopted localities have no '{col}' property",
                              "re-create it with: svtui localities adopt --force")
    if g.crs is None:
        g = g.set_crs(4326)
    g = g.to_crs(27700)
    when = g["adopted"] if "adopted" in g.columns else [None] * len(g)
    out = []
    for i, name, geom, d in zip(g["id"], g["name"], g.geometry, when):
        if geom is None or geom.is_empty:
            continue
        out.append(AdoptedLocality(id=str(i), name=str(name), wkt=shapely.to_wkt(geom, rounding_precision=3),
                                   adopted=None if d is None else str(d)[:10]))
    return tuple(out)


def adopted_for(args, study):
    """The adopted set for this study's workspace, or () when there is none (or no workspace)."""
    from geodata.errors import SourceError
    from geodata.workspace import adopted_path, resolve_workspace

    try:
        ws = resolve_workspace(study.spec, getattr(args, "workspace", None))
    except SourceError:
        if getattr(args, "workspace", None):
            raise
        return ()
    path = adopted_path(ws)
    return read_adopted(path) if path.is_file() else ()


DEFAULT_TOP = 20  # a monthly review group follows tens of places, not the thousands of cells at 1%


def choose(analysis, top: int | None = DEFAULT_TOP, every: bool = False):
    """Which localities to adopt: those already adopted, then the significant ones by harm (the
    places a review group can act on), up to `top` in all; every one with `every`."""
    import polars as pl

    loc = analysis.localities
    if every or loc.height == 0:
        return loc
    kept = loc.filter(pl.col("adopted")) if "adopted" in loc.columns else loc.head(0)
    sig = loc.filter(pl.col("significant") & ~pl.col("locality_id").is_in(kept["locality_id"].to_list()))
    room = max(0, (top or 0) - kept.height) if top is not None else sig.height
    return pl.concat([kept, sig.sort("harm", descending=True).head(room)], how="vertical")


def adopted_collection(analysis, today: date | None = None, loc=None) -> dict:
    """The contract FeatureCollection (EPSG:4326) for an analysis's localities (or `loc`, a
    selection of them)."""
    import geopandas as gpd
    import shapely

    loc = analysis.localities if loc is None else loc
    today = today or date.today()
    before = {a.id: a.adopted for a in analysis.params.adopted}
    w0, w1 = analysis.window if analysis.window else (None, None)
    ids = loc["locality_id"].to_list()
    props = {
        "id": ids,
        "name": loc["name"].to_list(),
        "adopted": [before.get(i) or today.isoformat() for i in ids],
        "window_from": [f"{w0:%Y-%m}" if w0 else None] * loc.height,
        "window_to": [f"{w1:%Y-%m}" if w1 else None] * loc.height,
        "cell_size_m": [float(analysis.grid.cell_size)] * loc.height,
    }
    geoms = shapely.from_wkb(loc["geometry_wkb"].to_numpy()) if loc.height else []
    g = gpd.GeoDataFrame(props, geometry=list(geoms), crs=27700).to_crs(4326)
    fc = json.loads(g.to_json(drop_id=True))
    fc.pop("crs", None)  # RFC 7946: GeoJSON is WGS84 by definition
    return fc


def _opts(p) -> None:
    from svtui.cmd_engine import add_locality_options, add_window_options

    p.add_argument("action", choices=["adopt"], help="adopt: freeze the current localities into the workspace")
    add_window_options(p)
    add_locality_options(p)
    p.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="N",
                   help=f"adopt the N significant localities with most harm (default {DEFAULT_TOP}; those already "
                        "adopted are kept and count towards N)")
    p.add_argument("--all", dest="every", action="store_true",
                   help="adopt every locality in the area budget, significant or not")
    p.add_argument("--out", metavar="FILE", help="write here instead of <workspace>/adopted_localities.geojson")
    p.add_argument("--force", action="store_true", help="replace an adopted set that is already there")


@command("localities", "Freeze the hotspot localities into the study's workspace so later reviews follow the same places.",
         _opts)
def localities_cmd(args) -> int:
    from geodata.atomic import write_text_atomic
    from geodata.errors import SourceError
    from geodata.workspace import adopted_path, resolve_workspace
    from svtui.cmd_engine import run_engine

    study, prep, analysis = run_engine(args)
    if args.out:
        path = Path(args.out)
    else:
        path = adopted_path(resolve_workspace(study.spec, args.workspace, create=True))
    if args.top is not None and args.top < 1:
        raise SystemExit("svtui: --top must be 1 or more (or use --all)")
    loc = choose(analysis, args.top, args.every)
    if loc.height == 0:
        raise SourceError(path, "there are no significant localities to adopt in this window",
                          "choose another window with --from/--to, or adopt every locality with --all")
    fc = adopted_collection(analysis, loc=loc)
    write_text_atomic(json.dumps(fc), path, force=args.force)
    n_new = int(loc["new"].sum()) if "new" in loc.columns else 0
    kept = int(loc["adopted"].sum()) if "adopted" in loc.columns else 0
    print(f"Adopted {loc.height} {'locality' if loc.height == 1 else 'localities'} "
          f"({kept} already adopted, {n_new} new) into {plain(str(path), 300)}", file=sys.stdout)
    return 0
