"""`svtui check`: the ledger a new user sees first, on the real data and the sample study."""
import json
import subprocess
import sys

import pytest

from svtui.cli import main


def test_check_json_accounts_for_every_real_row(real_dir, capsys):
    code = main([
        "check", "--crimes", str(real_dir / "police-uk" / "west-mercia"),
        "--areas", str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"), "--json",
    ])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    crimes = [s for s in out["sources"] if s["kind"] == "crimes"]
    assert sum(s["read"] for s in crimes) == 32_423
    for s in out["sources"]:
        assert s["read"] == s["accepted"] + sum(s["quarantined"].values())
    assert crimes[0]["quarantined"]["no coordinates"] > 0
    assert crimes[0]["quarantined"]["outside the study area"] > 0
    assert out["definition"]["name"] == "police-uk-proxy"
    assert any("cannot see" in line for line in out["definition"]["sees"])


@pytest.fixture(scope="module")
def session(sample_session):
    """conftest's session-scoped sample Session (the sample is read once for the run)."""
    return sample_session


def test_check_on_the_sample_study_balances_and_is_labelled_synthetic(session, capsys):
    assert main(["check", "--json"], session=session) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["study"]["synthetic"] is True
    kinds = {s["kind"] for s in out["sources"]}
    assert {"records", "ae", "venues", "indicators"} <= kinds
    for s in out["sources"]:
        assert s["read"] == s["accepted"] + sum(s["quarantined"].values())
    assert out["totals"]["quarantined"] > 0  # the sample carries a few bad rows on purpose


def test_unreadable_source_is_one_line_naming_the_file(tmp_path):
    missing = tmp_path / "nope.csv"
    r = subprocess.run([sys.executable, "-m", "svtui", "check", "--crimes", str(missing)],
                       capture_output=True, text=True)
    assert r.returncode == 3  # 3: a source cannot be read (svtui/errors.py)
    assert "Traceback" not in r.stderr
    assert str(missing) in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_check_window_counts_the_accepted_incidents_in_it(session, capsys):
    import polars as pl

    assert main(["check", "--json", "--from", "2023-01", "--to", "2023-03"], session=session) == 0
    out = json.loads(capsys.readouterr().out)
    inc = session.study.incidents
    by_hand = inc.filter(pl.col("month").dt.strftime("%Y-%m").is_in(["2023-01", "2023-02", "2023-03"])).height
    assert out["window"] == {"from": "2023-01", "to": "2023-03", "incidents": by_hand} and 0 < by_hand < inc.height
    assert main(["check"], session=session) == 0
    assert "Window" not in capsys.readouterr().out  # no window asked, none reported


def test_quarantine_rows_can_be_written_out(tmp_path, capsys, session):
    assert main(["check", "--quarantine", str(tmp_path / "q")], session=session) == 0
    files = list((tmp_path / "q").glob("*.csv"))
    assert files, "the sample's bad rows should be written out"
    text = files[0].read_text()
    assert "reason" in text.splitlines()[0]


def test_study_through_the_workspace_cache_matches_the_direct_read(real_dir, tmp_path):
    from geodata.study import load_study, spec_from_options

    spec = spec_from_options(crimes=[str(real_dir / "police-uk" / "west-mercia")],
                             areas=str(real_dir / "boundaries" / "lsoa21_westmercia_bsc.geojson"))
    direct = load_study(spec, cache=False)
    built = load_study(spec, cache=tmp_path / "cache")
    reopened = load_study(spec, cache=tmp_path / "cache")
    for s in (built, reopened):
        assert s.ledger.to_dict() == direct.ledger.to_dict()
        key = ["source_file", "source_row"]
        assert s.incidents.sort(key).equals(direct.incidents.sort(key))
    assert any((tmp_path / "cache").rglob("*.parquet"))
