"""One CLI grammar: every command takes --from/--to (one strict month parser, one clear error),
--out writes provenance atomically and never overwrites without --force, --json prints tables,
and `brief` writes a batch from one load. Commands run on one shared sample Session."""
from __future__ import annotations

import json

import pytest

import svtui.commands  # noqa: F401  (registers every subcommand)
from svtui.cli import COMMANDS, build_parser, main, parse_month
from svtui.export import read_provenance, sidecar_path


@pytest.fixture(scope="module")
def session(sample_session):
    """conftest's session-scoped sample Session (the sample is read once for the run)."""
    return sample_session


def run(argv, session, capsys):
    try:
        code = main(argv, session=session)
    except SystemExit as exc:  # a usage error exits as argparse does
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("bad", ["2024-13", "2024-1", "24-01", "2024/01", "March 2024", "2024-00", "", "2024-0²",
                                 "２０２４-01", "2024-03\x1b[2J"])
def test_one_strict_month_parser(bad):
    with pytest.raises(ValueError, match="give a month as YYYY-MM"):
        parse_month(bad, "--from")


def test_month_parser_accepts_a_month():
    from datetime import date

    assert parse_month(" 2024-03 ", "--from") == date(2024, 3, 1)
    assert parse_month(None, "--from") is None


REQUIRED = {"backtest": ["--train", "2023-01:2023-02", "--test", "2023-03:2023-04"], "pack": ["--out", "pack"],
            "localities": ["adopt"]}


def test_every_command_takes_the_same_window_options():
    parser = build_parser()
    for name in COMMANDS:
        args = parser.parse_args([name, "--from", "2023-01", "--to", "2023-06", *REQUIRED.get(name, [])])
        assert (args.start, args.end) == ("2023-01", "2023-06"), name
        old = parser.parse_args([name, "--start", "2023-02", "--end", "2023-05", *REQUIRED.get(name, [])])
        assert (old.start, old.end) == ("2023-02", "2023-05"), f"{name}: --start/--end stay as hidden aliases"
    assert "--start" not in build_parser()._subparsers._group_actions[0].choices["trends"].format_help()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_bad_month_is_one_line_on_every_command(command, session, capsys):
    extra = REQUIRED.get(command, [])
    code, out, err = run([command, "--from", "2024-13", *extra], session, capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == ["svtui: --from '2024-13': give a month as YYYY-MM (e.g. 2024-03)"]
    code, out, err = run([command, "--from", "2024-03", "--to", "2024-01", *extra], session, capsys)
    assert code == 2 and "is before --from" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command,ext", [("trends", "csv"), ("gaps", "csv"), ("trends", "parquet"), ("gaps", "geojson")])
def test_trends_and_gaps_out_carry_provenance_and_never_overwrite(command, ext, session, capsys, tmp_path):
    path = tmp_path / f"t.{ext}"
    code, out, _ = run([command, "--from", "2023-04", "--to", "2024-03", "--out", str(path)], session, capsys)
    assert code == 0 and path.exists() and "provenance" in out
    prov = read_provenance(path)
    assert prov["kind"] == command and prov["window"] == ["2023-04-01", "2024-03-01"]
    assert prov["synthetic"] is True and len(prov["inputs"]["combined"]) == 64 and prov["level"] == "csp"
    before = path.read_bytes()
    code, _, err = run([command, "--out", str(path)], session, capsys)
    assert code == 2 and "already exists" in err and "--force" in err
    assert path.read_bytes() == before
    code, _, _ = run([command, "--out", str(path), "--force", "--from", "2023-10"], session, capsys)
    assert code == 0 and read_provenance(path)["window"][0] == "2023-10-01"
    if ext == "csv":
        assert sidecar_path(path).exists()
    assert not list(tmp_path.glob(".*"))


def test_trends_and_gaps_print_json(session, capsys):
    code, out, _ = run(["trends", "--json"], session, capsys)
    doc = json.loads(out)
    res = session.results()
    assert code == 0 and len(doc["rows"]) == res.profiles("csp").height
    assert {r["name"] for r in doc["rows"]} == set(res.profiles("csp")["name"])
    assert doc["provenance"]["kind"] == "trends"
    code, out, _ = run(["gaps", "--json", "--all"], session, capsys)
    doc = json.loads(out)
    assert code == 0 and len(doc["rows"]) == res.coverage("csp", all_needs=True).gaps.height


def test_trends_window_is_the_results_window(session, capsys):
    code, out, _ = run(["trends", "--json", "--from", "2023-04", "--to", "2024-03"], session, capsys)
    rows = json.loads(out)["rows"]
    assert code == 0 and all(r["period_start"] == "2023-04-01" and r["period_end"] == "2024-03-01" for r in rows)


def test_brief_out_writes_provenance(session, capsys, tmp_path):
    path = tmp_path / "b.md"
    code, out, _ = run(["brief", "--area", "Herefordshire", "--out", str(path)], session, capsys)
    assert code == 0 and path.read_text().startswith("# ")
    prov = read_provenance(path)
    assert prov["kind"] == "briefing" and prov["subject"]["name"] == "Herefordshire"
    assert prov["disclosure"] == "partner"
    code, _, err = run(["brief", "--area", "Herefordshire", "--out", str(path)], session, capsys)
    assert code == 2 and "already exists" in err


def test_brief_batch_from_one_load(session, capsys, tmp_path):
    res = session.results()
    csps = res.session.areas("csp").height
    top = min(3, res.localities.height)
    folder = tmp_path / "briefs"
    code, out, err = run(["brief", "--all-csps", "--top", str(top), "--out", str(folder)], session, capsys)
    assert code == 0, err
    texts = sorted(folder.glob("*.md"))
    assert len(texts) == csps + top
    assert all(sidecar_path(p).exists() for p in texts)
    kinds = [read_provenance(p)["subject"]["kind"] for p in texts]
    assert kinds.count("hotspot") == top and kinds.count("area") == csps
    heaviest = res.localities.sort("harm", descending=True)["locality_id"][0]
    assert any(read_provenance(p)["subject"]["code"] == heaviest for p in texts)
    # the same subjects one at a time give the same text
    one = tmp_path / "one.md"
    assert run(["brief", "--hotspot", heaviest, "--out", str(one)], session, capsys)[0] == 0
    match = [p for p in texts if read_provenance(p)["subject"]["code"] == heaviest][0]
    assert match.read_text() == one.read_text()
    stamp = {p: p.read_bytes() for p in texts}
    code, _, err = run(["brief", "--all-csps", "--out", str(folder)], session, capsys)
    assert code == 2 and "already exists" in err
    assert all(p.read_bytes() == b for p, b in stamp.items())


def test_brief_batch_needs_a_folder_and_known_subjects(session, capsys, tmp_path):
    code, _, err = run(["brief", "--all-csps"], session, capsys)
    assert code == 2 and "needs --out DIR" in err
    code, _, err = run(["brief", "--subjects", "Herefordshire", "Atlantis", "--out", str(tmp_path / "x")], session, capsys)
    assert code == 2 and "unknown area 'Atlantis'" in err
    assert not (tmp_path / "x").exists(), "nothing is written when one subject is wrong"
