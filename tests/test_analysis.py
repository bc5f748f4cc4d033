"""The engine's entry point on real police.uk data: determinism, filters, counts that add up,
emerging hot spots against the reference implementation, and the backtest promise."""
from datetime import date

import numpy as np
import polars as pl
import pytest

from hotspot.analysis import Filters, Params, analyse, select


def test_analysis_is_deterministic_and_counts_add_up(west_mercia_prep):
    p = Params(permutations=999)
    a = analyse(west_mercia_prep, Filters(), p)
    west_mercia_prep.cache.clear()
    b = analyse(west_mercia_prep, Filters(), p)
    assert a is not b
    assert a.localities.drop("geometry_wkb").equals(b.localities.drop("geometry_wkb"))
    # Every selected serious incident with coordinates sits in a study cell and is counted once.
    located = a.incidents.filter(pl.col("easting").is_not_null())
    assert (located["cell"] >= 0).all()
    assert a.cell_arrays["count"].sum() == located.height
    assert np.isclose(a.cell_arrays["harm"].sum(), located["harm"].sum())
    # Locality members add up to the localities' counts.
    assert a.incidents["locality_id"].drop_nulls().len() == a.localities["n_incidents"].sum()
    assert a.localities.height >= 5
    assert a.localities["locality_id"].n_unique() == a.localities.height


def test_cached_reanalysis_returns_the_same_object(west_mercia_prep):
    f = Filters(start=date(2024, 2, 1))
    assert analyse(west_mercia_prep, f) is analyse(west_mercia_prep, f)


def test_filters_window_area_and_unknown_markers(west_mercia_prep):
    jan, _ = select(west_mercia_prep, Filters(start=date(2024, 1, 1), end=date(2024, 1, 1)))
    assert jan.height > 0 and set(jan["month"].unique().to_list()) == {date(2024, 1, 1)}
    herefs, _ = select(west_mercia_prep, Filters(areas=("Herefordshire, County of",)))
    all_, _ = select(west_mercia_prep, Filters())
    assert 0 < herefs.height < all_.height
    with pytest.raises(ValueError, match="unknown area"):
        select(west_mercia_prep, Filters(areas=("Atlantis",)))
    knife, notes = select(west_mercia_prep, Filters(markers=("knife",)))
    assert knife.height == 0  # police.uk has no markers ...
    assert any("cannot say" in n for n in notes)  # ... and the user is told why


def test_sparse_emerging_matches_the_reference_over_all_cells(west_mercia_prep):
    from hotspot.emerging import emerging_hotspots
    from hotspot.gistar import gi_star

    from hotspot.analysis import _emerging

    prep = west_mercia_prep
    a = analyse(prep, Filters(), Params(permutations=0))
    inc = a.incidents
    months = prep.months
    pattern = _emerging(prep, inc, months, Params())
    step = ((inc["month"].dt.year() - months[0].year) * 12 + inc["month"].dt.month() - months[0].month).to_numpy()
    cube = np.zeros((prep.n_cells, len(months)))
    np.add.at(cube, (inc["cell"].to_numpy(), step), 1.0)

    def gi(v):
        r = gi_star(v, prep.W, permutations=0, alpha=0.05, fdr=True)
        return r.z, np.sign(r.z) * r.significant

    ref = emerging_hotspots(cube, gi)
    assert np.array_equal(ref.category, pattern)
    assert (ref.category != 0).any()


def test_four_months_give_no_trend_label_but_a_reason(west_mercia_prep):
    """4 monthly steps can never show a Mann-Kendall trend: no class, a reason code instead."""
    a = analyse(west_mercia_prep, Filters(), Params())
    loc = a.localities
    assert loc.height > 0
    assert loc["pattern"].null_count() == loc.height and loc["trend"].null_count() == loc.height
    assert set(loc["pattern_reason"].to_list()) == {"too_few_steps"}
    assert set(loc["trend_reason"].to_list()) == {"too_few_steps"}
    assert set(loc["n_steps"].to_list()) == {4} and set(loc["steps_needed"].to_list()) == {10}
    assert not (a.cell_arrays["pattern"] != 0).any()


@pytest.mark.parametrize("force,boundary", [
    ("west-mercia", "lsoa21_westmercia_bsc.geojson"),
    ("warwickshire", "lsoa21_warwickshire_bsc.geojson"),
])
def test_exported_localities_match_or_beat_every_100m_baseline(real_dir, force, boundary):
    """The localities themselves (their polygons), scored on later months, against pai_check's baselines."""
    from geodata.study import load_study, spec_from_options
    from hotspot.analysis import prepare
    from hotspot.backtest import locality_backtest

    study = load_study(spec_from_options(
        crimes=[str(real_dir / "police-uk" / force)], areas=str(real_dir / "boundaries" / boundary)))
    prep = prepare(study)
    for train, test in [((date(2024, 1, 1), date(2024, 2, 1)), (date(2024, 3, 1), date(2024, 4, 1))),
                        ((date(2024, 3, 1), date(2024, 3, 1)), (date(2024, 4, 1), date(2024, 4, 1)))]:
        t = locality_backtest(prep, train, test)
        assert t.height == 3
        for r in t.iter_rows(named=True):
            assert abs(r["achieved_share"] - r["area_share"]) < 0.05 * r["area_share"], r
            assert r["win"], (force, train, r)
