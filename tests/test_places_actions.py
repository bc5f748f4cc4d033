"""Places to review (any format, any CRS, any name spelling, repaired or refused) and the
action log (versions never overwritten, migrations, newer files refused, two writers at once)."""
from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3

import geopandas as gpd
import pytest
import shapely

from geodata.actions import SCHEMA_VERSION, ActionInputError, open_log
from geodata.errors import SourceError
from geodata.places import all_places, find_place, read_adopted, read_places, write_adopted

ZONE = shapely.box(384800, 254450, 385250, 255400)  # BNG
BOWTIE = shapely.Polygon([(383000, 276000), (383400, 276400), (383400, 276000), (383000, 276400)])


def _write(gdf, path, driver=None):
    gdf.to_file(path, driver=driver) if driver else gdf.to_file(path)
    return path


@pytest.mark.parametrize("fname,driver,crs,col", [
    ("p.geojson", "GeoJSON", "EPSG:4326", "Place_Name"),
    ("p.gpkg", "GPKG", "EPSG:3857", "ZONE NAME"),
    ("p.shp", None, "EPSG:27700", "name"),
])
def test_places_in_any_format_and_crs_come_back_in_bng_with_their_names(tmp_path, fname, driver, crs, col):
    g = gpd.GeoDataFrame({col: ["Night-time zone", "PSPO area"]},
                         geometry=[ZONE, shapely.box(371000, 237500, 371400, 237900)], crs="EPSG:27700").to_crs(crs)
    places = read_places(_write(g, tmp_path / fname, driver))
    assert places["name"].tolist() == ["Night-time zone", "PSPO area"]
    assert places["place_id"].tolist() == ["night-time-zone", "pspo-area"]
    assert places.crs.to_epsg() == 27700
    assert places.geometry.iloc[0].area == pytest.approx(ZONE.area, rel=1e-3)
    assert find_place(places, "pspo AREA") == 1 and find_place(places, "night-time-zone") == 0


def test_a_self_intersecting_place_is_repaired_and_noted(tmp_path):
    g = gpd.GeoDataFrame({"name": ["Zone", "Bow tie"]}, geometry=[ZONE, BOWTIE], crs="EPSG:27700")
    places = read_places(_write(g, tmp_path / "p.gpkg", "GPKG"))
    assert places.geometry.is_valid.all()
    assert places.geometry.iloc[1].area == pytest.approx(80000)  # two triangles of 40,000 m²
    assert {"code": "geometry_repaired", "feature": "Bow tie"} in places.attrs["notes"]


def test_a_place_that_is_not_a_polygon_is_refused_by_name(tmp_path):
    g = gpd.GeoDataFrame({"name": ["Zone", "High Street"]},
                         geometry=[ZONE, shapely.LineString([(383000, 276000), (383400, 276400)])], crs="EPSG:27700")
    with pytest.raises(SourceError, match=r"feature 2 \('High Street'\) is a LineString"):
        read_places(_write(g, tmp_path / "p.gpkg", "GPKG"))


def test_a_places_file_without_names_is_refused(tmp_path):
    g = gpd.GeoDataFrame({"value": [1]}, geometry=[ZONE], crs="EPSG:27700")
    with pytest.raises(SourceError, match="no name column"):
        read_places(_write(g, tmp_path / "p.gpkg", "GPKG"))
    g = gpd.GeoDataFrame({"name": ["A", None]}, geometry=[ZONE, ZONE], crs="EPSG:27700")
    with pytest.raises(SourceError, match="feature 2 has no name"):
        read_places(_write(g, tmp_path / "q.gpkg", "GPKG"))


def test_adopted_localities_file_per_the_contract(tmp_path):
    path = tmp_path / "adopted_localities.geojson"
    rec = {"id": "L-SO850550", "name": "Worcester Central", "adopted": "2024-04-02",
           "window_from": "2023-04", "window_to": "2024-03", "cell_size_m": 200}
    write_adopted(path, [rec], [ZONE])
    data = json.loads(path.read_text())
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0]
    assert -3 < lon < -2 and 52 < lat < 53  # EPSG:4326 on disk
    a = read_adopted(path)
    assert a["place_id"].tolist() == ["L-SO850550"] and a["kind"].tolist() == ["adopted"]
    assert a["window_to"].tolist() == ["2024-03"]
    assert a.geometry.iloc[0].symmetric_difference(ZONE).area < 1e-5 * ZONE.area  # mm-level round trip
    assert len(read_adopted(tmp_path / "missing.geojson")) == 0  # nothing adopted yet
    g = gpd.GeoDataFrame({"name": ["Worcester Central"]}, geometry=[ZONE], crs="EPSG:27700")
    both = all_places(path, _write(g, tmp_path / "p.gpkg", "GPKG"))
    assert both["kind"].tolist() == ["adopted", "place"] and both["place_id"].is_unique


# -- the action log ----------------------------------------------------------------------------

def test_every_change_is_kept_with_who_and_when(tmp_path):
    with open_log(tmp_path / "actions.sqlite") as log:
        aid = log.add("L-SO850550", "Licensing visits", owner="Licensing", start="2023-06-01",
                      review_by="2023-12-01", who="alice")
        log.update(aid, status="running", who="bob")
        log.update(aid, status="done", notes="six visits", who="carol")
        cur = log.get(aid)
        assert (cur["status"], cur["version"], cur["created_by"], cur["updated_by"]) == ("done", 3, "alice", "carol")
        h = log.history(aid)
        assert h["status"].to_list() == ["planned", "running", "done"]
        assert h["who"].to_list() == ["alice", "bob", "carol"]
        assert h["changed"].to_list() == ["created", "status", "status,notes"]
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            log.conn.execute("UPDATE action_versions SET status = 'dropped'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            log.conn.execute("DELETE FROM action_versions")
        with pytest.raises(ActionInputError) as e:
            log.update(aid, status="finished")
        assert e.value.code == "bad_status"
        with pytest.raises(ActionInputError) as e:
            log.add("X", "thing", start="2023-06-01", review_by="2023-01-01")
        assert e.value.code == "review_before_start"
    # reopened: the same history
    with open_log(tmp_path / "actions.sqlite") as log:
        assert log.history(aid).height == 3
        assert log.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_old_log_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "actions.sqlite"
    with open_log(path, target=1) as log:
        assert log.conn.execute("PRAGMA user_version").fetchone()[0] == 1
        log.conn.execute("INSERT INTO actions (created_by, created_at) VALUES ('old', '2023-01-01')")
        log.conn.execute("INSERT INTO action_versions (action_id, version, place_id, what, status, who, at) "
                         "VALUES (1, 1, 'P1', 'Old action', 'planned', 'old', '2023-01-01')")
    with open_log(path) as log:
        assert log.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert log.get(1)["what"] == "Old action"
        log.update(1, control="Kidderminster town centre", ring_m=150)
        assert log.get(1)["ring_m"] == 150.0


def test_a_log_from_a_newer_svtui_is_refused(tmp_path):
    path = tmp_path / "actions.sqlite"
    open_log(path).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(SourceError, match="newer svtui"):
        open_log(path)


def _writer(path, who, n, q):
    try:
        with open_log(path) as log:
            for i in range(n):
                aid = log.add(f"P{i}", f"{who} action {i}", who=who)
                log.update(aid, status="running", who=who)
        q.put("ok")
    except Exception as exc:  # noqa: BLE001  (reported to the test)
        q.put(repr(exc))


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "actions.sqlite"
    open_log(path).close()
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(path, who, 40, q)) for who in ("alice", "bob")]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == ["ok", "ok"]
    with open_log(path) as log:
        cur = log.current()
        assert cur.height == 80
        assert sorted(cur["what"].str.split(" ").list.first().value_counts().sort("what")["count"].to_list()) == [40, 40]
        assert (cur["status"] == "running").all()
        assert log.history().height == 160
