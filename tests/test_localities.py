"""Localities: density clusters of serious incidents, named and with stable ids."""
import numpy as np
import polars as pl
import shapely
from sklearn.cluster import DBSCAN

from hotspot.localities import ClusterParams, find_localities
from hotspot.osgrid import os_grid_ref


def _incidents(seed=0):
    rng = np.random.default_rng(seed)
    # Two snapped clusters (few distinct points, many incidents each) and sparse noise.
    a = np.repeat(np.array([[384_900, 255_100], [385_000, 255_150], [384_950, 255_000]]), 20, axis=0)
    b = np.repeat(np.array([[370_000, 260_000], [370_120, 260_050]]), 15, axis=0)
    noise = rng.uniform([360_000, 240_000], [400_000, 280_000], size=(40, 2)).round(-1)
    xy = np.vstack([a, b, noise])
    n = len(xy)
    return pl.DataFrame(
        {
            "easting": xy[:, 0].astype(float),
            "northing": xy[:, 1].astype(float),
            "harm": np.where(np.arange(n) < 60, 184.0, 127.0),
            "location": ["On or near The Foregate"] * 60 + ["On or near Castle Street"] * 30 + ["On or near Lane"] * 40,
            "location_type": ["street"] * n,
            "lsoa_code": ["E01000001"] * 60 + ["E01000002"] * 30 + ["E01000003"] * 40,
        }
    )


HIER = pl.DataFrame(
    {
        "lsoa_code": ["E01000001", "E01000002", "E01000003"],
        "lsoa_name": ["Worcester 001A", "Malvern Hills 002A", "Wychavon 003A"],
        "ward_name": ["Cathedral", "Tenbury", "Elsewhere"],
        "district_name": ["Worcester", "Malvern Hills", "Wychavon"],
    }
)


def test_two_clusters_found_and_named():
    loc, members = find_localities(_incidents(), hierarchy=HIER, params=ClusterParams(min_incidents=10))
    assert loc.height == 2
    top = loc.row(0, named=True)
    assert top["n_incidents"] == 60
    assert top["name"] == "Cathedral, Worcester - The Foregate"
    assert top["locality_id"] == "L-" + os_grid_ref(np.array([top["x"]]), np.array([top["y"]]))[0]
    # Every member counted once, and counts match the table.
    assert members.height == loc["n_incidents"].sum()
    poly = shapely.from_wkb(top["geometry_wkb"])
    assert poly.contains(shapely.Point(384_950, 255_050))
    assert top["area_m2"] > 0


def test_venue_names_win_over_streets():
    venues = pl.DataFrame(
        {"name": ["The Swan"], "type": ["pub"], "easting": [384_910.0], "northing": [255_090.0], "origin": ["file"]}
    )
    loc, _ = find_localities(_incidents(), venues=venues, hierarchy=HIER, params=ClusterParams(min_incidents=10))
    assert loc.row(0, named=True)["name"] == "Cathedral, Worcester - The Swan"


def test_weighted_unique_points_equal_dbscan_on_all_points():
    inc = _incidents(1)
    loc, members = find_localities(inc, params=ClusterParams(min_incidents=10, eps_m=250))
    X = inc.select("easting", "northing").to_numpy()
    ref = DBSCAN(eps=250, min_samples=10).fit(X).labels_
    assert (ref >= 0).sum() == members.height
    assert len(set(ref[ref >= 0])) == loc.height


def test_ids_stable_across_runs_and_row_order():
    inc = _incidents(2)
    a, _ = find_localities(inc, params=ClusterParams(min_incidents=10))
    b, _ = find_localities(inc.sample(fraction=1.0, shuffle=True, seed=5), params=ClusterParams(min_incidents=10))
    assert a["locality_id"].to_list() == b["locality_id"].to_list()
    assert a["n_incidents"].to_list() == b["n_incidents"].to_list()


def test_gi_star_filter_drops_clusters_not_significant():
    def hot(x, y):
        return x > 380_000  # only the first cluster sits in hot cells

    loc, _ = find_localities(_incidents(), hot_mask_fn=hot, params=ClusterParams(min_incidents=10))
    assert loc.height == 1 and loc["n_incidents"][0] == 60


def test_no_points_gives_empty_tables():
    inc = _incidents().filter(pl.lit(False))
    loc, members = find_localities(inc)
    assert loc.height == 0 and members.height == 0


def test_os_grid_refs_known_places():
    refs = os_grid_ref(np.array([384_900.0, 529_090, 216_000]), np.array([255_100.0, 179_645, 771_000]))
    assert refs.tolist() == ["SO849551", "TQ290796", "NN160710"]
