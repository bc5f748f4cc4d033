"""Workspace cache (geodata.cache) and the fast CSV path (geodata.fastscan).

The cache must give exactly what the uncached path gives (read_police_uk, then assign_areas):
the same frame and the same ledger, on clean files and on damaged ones; a changed source must
be noticed and a damaged cache file rebuilt, never trusted and never fatal.
"""
from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import polars as pl
import pytest

from geodata import cache, fastscan, policeuk
from geodata.areas import assign_areas, build_areas
from geodata.ledger import Ledger
from geodata.policeuk import STREET_COLUMNS, read_police_uk
from geodata.schema import INCIDENT_SCHEMA
from sample_data import national

HEADER = ",".join(STREET_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Fixtures: a tiny synthetic England and Wales (two forces, both LSOA vintages) plus a folder of
# the damage real downloads show.


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national")
    national.generate(out, years=2, end_year=2022, scale=0.02, seed=7, n_lsoas=600,
                      forces=["west-mercia", "warwickshire"])
    return out


@pytest.fixture(scope="module")
def areas(world):
    return build_areas(world / "lsoa21_ew_synthetic.geojson",
                       [world / "lad_csp_pfa_synthetic.csv", world / "lsoa11_lsoa21_synthetic.csv"])


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str], newline="\r\n", encoding="utf-8", bom=False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (newline.join(lines) + newline).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


@pytest.fixture(scope="module")
def damaged(world, tmp_path_factory) -> Path:
    """A folder of street files with every kind of damage the exact reader handles."""
    src = world / "police-uk"
    jan = _lines(src / "2022-01" / "2022-01-west-mercia-street.csv")
    feb = _lines(src / "2022-02" / "2022-02-warwickshire-street.csv")
    old = _lines(src / "2021-06" / "2021-06-west-mercia-street.csv")
    rows, frows, orows = jan[1:], feb[1:], old[1:]
    crimes = [r for r in rows if not r.startswith(",")]
    d = tmp_path_factory.mktemp("damaged") / "police-uk"
    # Clean, plus a crime repeated within the file and one repeated in another file.
    _write(d / "2022-01" / "2022-01-west-mercia-street.csv", [HEADER, *rows, crimes[0]])
    _write(d / "2022-01" / "2022-01-copy-street.csv", [HEADER, crimes[1], crimes[2]], newline="\n")
    # Same Crime ID in another month is not a duplicate.
    moved = crimes[3].replace("2022-01", "2022-02")
    _write(d / "2022-02" / "2022-02-warwickshire-street.csv", [HEADER, *frows, moved])
    # 2011 codes; padded fields and lower-case codes; a BOM.
    padded = [",".join(f" {f} " if i in (6, 9) else f.lower() if i == 7 else f
                       for i, f in enumerate(r.split(","))) for r in orows[:20]]
    _write(d / "2021-06" / "2021-06-west-mercia-street.csv", [HEADER, *orows[20:], *padded],
           bom=True)
    # Truncated last line, a row with an extra field, blank lines, a row of empty fields.
    _write(d / "2022-03" / "2022-03-broken-street.csv",
           [HEADER, frows[0], frows[1] + ",extra", "", ",,,,,,,,,,,", frows[2], frows[3][:40]])
    # A quote that never closes, and a quoted comma.
    f4 = frows[4].split(",")
    f4[6] = '"On or near Foo, Bar"'
    _write(d / "2022-03" / "2022-03-quoted-street.csv", [HEADER, ",".join(f4), frows[5],
                                                         frows[6].replace("On or near", '"On')])
    # Semicolons with decimal commas (European Excel), and cp1252 text.
    semi = [HEADER.replace(",", ";")] + [
        ";".join(f.replace(".", ",") if i in (4, 5) else f for i, f in enumerate(r.split(",")))
        for r in frows[7:15]]
    _write(d / "2022-04" / "2022-04-semicolon-street.csv", semi)
    cp = [r.replace("On or near", "On or near Caf\u00e9") for r in frows[15:20]]
    _write(d / "2022-04" / "2022-04-cp1252-street.csv", [HEADER, *cp], encoding="cp1252")
    # Longitude and Latitude swapped for a whole file; a lone CR inside a row.
    sw = []
    for r in frows[20:30]:
        f = r.split(",")
        f[4], f[5] = f[5], f[4]
        sw.append(",".join(f))
    _write(d / "2022-05" / "2022-05-swapped-street.csv", [HEADER, *sw])
    _write(d / "2022-05" / "2022-05-cr-street.csv",
           [HEADER, frows[30], frows[31] + "\r" + frows[32]])
    # Outcomes for January, a stop-and-search file, a CSV that is not police.uk, and a zip.
    oc_head = ",".join(STREET_COLUMNS[:9]) + ",Outcome type"
    oc = [",".join(r.split(",")[:9] + ["Offender sent to prison"]) for r in crimes[5:9]]
    _write(d / "2022-01" / "2022-01-west-mercia-outcomes.csv", [oc_head, *oc])
    _write(d / "2022-01" / "2022-01-west-mercia-stop-and-search.csv", ["Type,Date", "Person,2022"])
    _write(d / "notes.csv", ["x,y", "1,2"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("2022-06/2022-06-zipped-street.csv",
                   "\r\n".join([HEADER, *frows[40:60]]) + "\r\n")
    (d / "archive.zip").write_bytes(buf.getvalue())
    # Rows assign_areas writes notes about: a study code with a point far outside (in
    # Scotland), and a split 2011 code whose point is outside every LSOA.
    lk = pl.read_csv(world / "lsoa11_lsoa21_synthetic.csv")
    split = lk.filter(pl.col("change_code") == "S")["lsoa11_code"][0]
    far = rows[-1].split(",")
    far[0], far[4], far[5] = "far1", "-3.2", "55.95"
    odd = rows[-2].split(",")
    odd[0], odd[4], odd[5], odd[7] = "odd1", "-3.2", "55.9", split
    _write(d / "2022-07" / "2022-07-odd-street.csv", [HEADER, ",".join(far), ",".join(odd)])
    return d


@pytest.fixture(scope="module")
def force_areas(areas):
    """Only West Mercia's LSOAs: a force-only study of the same files."""
    from geodata.areas import Areas

    codes = areas.hierarchy.filter(pl.col("force_name") == "West Mercia")["lsoa_code"]
    keep = areas.lsoa["lsoa_code"].isin(codes.to_list()).to_numpy()
    return Areas(lsoa=areas.lsoa[keep].reset_index(drop=True),
                 hierarchy=areas.hierarchy.filter(pl.col("lsoa_code").is_in(codes.implode())),
                 lsoa11_to_21=areas.lsoa11_to_21)


def _uncached(paths, areas):
    led = Ledger()
    df = read_police_uk(paths, ledger=led)
    if areas is not None:
        df = assign_areas(df, areas, led.sources)
    return df, led


def _assert_same_ledger(a: Ledger, b: Ledger) -> None:
    assert len(a.sources) == len(b.sources)
    for x, y in zip(a.sources, b.sources):
        assert x.to_dict() == y.to_dict()
        assert x.notes == y.notes
        assert (x.rows is None) == (y.rows is None)
        if x.rows is not None:
            assert x.rows.columns == y.rows.columns
            assert x.rows.equals(y.rows)


# ---------------------------------------------------------------------------------------------
# The fast reader gives the exact reader's table


def test_fast_table_matches_exact_reader(world, damaged):
    files = sorted((world / "police-uk" / "2022-01").glob("*.csv"))
    files += sorted(damaged.rglob("*-street.csv"))
    n_fast = 0
    for f in files:
        data = f.read_bytes()
        fast = fastscan.fast_table(data, str(f))
        exact = policeuk._parse_csv(data, str(f))
        if fast is None:
            continue
        n_fast += 1
        assert fast.frame.equals(exact.frame), f
        assert fast.malformed.equals(exact.malformed), f
        assert (fast.header, fast.original_header, fast.notes) == (
            exact.header, exact.original_header, exact.notes)
    assert n_fast >= 5
    # A file whose only damage is in whole lines (truncated, extra field, blank) is split by
    # line: its good lines by Polars, the others quarantined one by one.
    (broken,) = damaged.rglob("2022-03-broken-street.csv")
    ranged = fastscan.fast_table(broken.read_bytes(), str(broken))
    assert ranged is not None and ranged.malformed.height == 2
    # Other damage is left to the exact reader.
    for name in ("2022-03-quoted-street.csv",
                 "2022-04-semicolon-street.csv", "2022-04-cp1252-street.csv",
                 "2022-05-cr-street.csv"):
        (path,) = damaged.rglob(name)
        assert fastscan.fast_table(path.read_bytes(), name) is None, name


# ---------------------------------------------------------------------------------------------
# Cache: same as uncached, hit, stale, corrupt


@pytest.mark.parametrize("which", ["clean", "damaged", "force"])
def test_cache_equals_uncached_then_hits(world, damaged, areas, force_areas, tmp_path, which):
    paths = ([damaged, world / "police-uk" / "2021-01"] if which == "damaged"
             else [world / "police-uk"])
    areas = force_areas if which == "force" else areas
    ref, ref_led = _uncached(paths, areas)
    rep, led = {}, Ledger()
    got = cache.cached_police_uk(paths, areas, cache_dir=tmp_path, ledger=led, lazy=False,
                                 report=rep)
    assert rep["status"] == "built"
    assert got.schema == ref.schema
    assert got.equals(ref)
    _assert_same_ledger(ref_led, led)
    assert rep["assign"].startswith("per row" if which == "damaged" else "per distinct")
    q = {k for e in led.sources for k in e.quarantined}
    if which == "damaged":
        assert {"duplicate id", "malformed row", "no coordinates", "outside the study area"} <= q
        assert any("swapped back" in n for n in led.sources[0].notes)
        assert any("split 2011 LSOA code" in n for n in led.sources[0].notes)
    if which == "force":
        assert led.sources[0].quarantined["outside the study area"] > 100
    rep2, led2 = {}, Ledger()
    lf = cache.cached_police_uk(paths, areas, cache_dir=tmp_path, ledger=led2, report=rep2)
    assert rep2["status"] == "hit"
    assert isinstance(lf, pl.LazyFrame)
    assert lf.collect().equals(ref)
    _assert_same_ledger(ref_led, led2)


def test_touched_source_is_stale_and_rebuilt(world, areas, tmp_path):
    src = tmp_path / "src"
    for f in sorted((world / "police-uk").glob("2022-0[12]/*.csv")):
        dst = src / f.parent.name / f.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(f.read_bytes())
    cdir = tmp_path / "cache"
    cache.cached_police_uk([src], areas, cache_dir=cdir)
    # Change one file: drop its last row.
    target = sorted(src.rglob("*.csv"))[1]
    target.write_bytes(b"\r\n".join(target.read_bytes().split(b"\r\n")[:-2]) + b"\r\n")
    rep, led = {}, Ledger()
    got = cache.cached_police_uk([src], areas, cache_dir=cdir, ledger=led, lazy=False, report=rep)
    assert rep["status"] == "rebuilt"
    assert target.name in rep["reason"]
    assert rep["parts_built"] == 1 and rep["parts_reused"] == 3
    ref, ref_led = _uncached([src], areas)
    assert got.equals(ref)
    _assert_same_ledger(ref_led, led)
    # Touching without changing the bytes is also a change (mtime is part of the fingerprint).
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    rep = {}
    cache.cached_police_uk([src], areas, cache_dir=cdir, report=rep)
    assert rep["status"] == "rebuilt"
    # A new month is a change too.
    new = src / "2022-03" / "2022-03-west-mercia-street.csv"
    new.parent.mkdir()
    new.write_bytes((world / "police-uk" / "2022-03" / new.name).read_bytes())
    rep = {}
    got = cache.cached_police_uk([src], areas, cache_dir=cdir, report=rep, lazy=False)
    assert rep["status"] == "rebuilt" and rep["parts_built"] == 1
    assert got.equals(_uncached([src], areas)[0])


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete", "manifest"])
def test_corrupt_cache_file_is_rebuilt(world, areas, tmp_path, damage):
    paths = [world / "police-uk" / "2022-02"]
    ref, ref_led = _uncached(paths, areas)
    rep = {}
    cache.cached_police_uk(paths, areas, cache_dir=tmp_path, report=rep)
    rdir = Path(rep["result_dir"])
    inc = sorted(rdir.glob("incidents-*.parquet"))[0]
    if damage == "truncate":
        inc.write_bytes(inc.read_bytes()[: inc.stat().st_size // 2])
    elif damage == "garbage":
        data = bytearray(inc.read_bytes())
        data[-100:] = b"\x00" * 100
        inc.write_bytes(bytes(data))
    elif damage == "delete":
        inc.unlink()
    else:
        (rdir / "manifest.json").write_text("{not json")
    # Damage a part too: it must be rebuilt, not trusted.
    part = next((tmp_path / f"policeuk-v{cache.CACHE_FORMAT}" / "parts").glob("*.good.parquet"))
    part.write_bytes(b"PAR1 not really")
    rep2, led = {}, Ledger()
    got = cache.cached_police_uk(paths, areas, cache_dir=tmp_path, ledger=led, lazy=False,
                                 report=rep2)
    assert rep2["status"] == "rebuilt"
    assert rep2["parts_built"] >= 1
    assert got.equals(ref)
    _assert_same_ledger(ref_led, led)


def test_areas_and_reader_version_are_part_of_the_key(world, areas, tmp_path):
    paths = [world / "police-uk" / "2022-02"]
    rep_a, rep_b = {}, {}
    a = cache.cached_police_uk(paths, areas, cache_dir=tmp_path, lazy=False, report=rep_a)
    b = cache.cached_police_uk(paths, None, cache_dir=tmp_path, lazy=False, report=rep_b)
    assert rep_a["result_dir"] != rep_b["result_dir"]
    assert rep_b["parts_reused"] > 0  # the per-file parts do not depend on the areas
    assert b["lsoa_code"].null_count() == b.height and a["lsoa_code"].null_count() == 0
    assert b.equals(read_police_uk(paths))


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SVTUI_CACHE", str(tmp_path / "x"))
    assert cache.default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("SVTUI_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_cache_dir() == tmp_path / "xdg" / "svtui"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.default_cache_dir() == Path.home() / ".cache" / "svtui"


def test_force_filter_is_pushed_down(world, areas, tmp_path):
    lf = cache.cached_police_uk([world / "police-uk"], areas, cache_dir=tmp_path)
    wm = lf.filter(pl.col("force") == "West Mercia Police").collect()
    assert wm.height and (wm["force"] == "West Mercia Police").all()
    # The predicate reaches the Parquet scan (row groups are one source file each, so their
    # statistics let the reader skip other forces' files).
    plan = lf.filter(pl.col("force") == "West Mercia Police").explain()
    scan = plan[plan.upper().index("PARQUET SCAN"):]
    assert "SELECTION" in scan.upper() and "force" in scan


def test_one_reader_fast_and_exact_agree(world, damaged):
    """The per-file reader gives the same rows, quarantine and notes whether a file is split by
    Polars (proved well-formed) or by the csv module, on good and damaged files."""
    n_fast = 0
    for src in policeuk.list_sources([world / "police-uk" / "2022-01", damaged]):
        for m in src.members:
            try:
                fast = policeuk.read_file(m, src.single, fast=True)
            except Exception as exc:  # noqa: BLE001 - both must fail alike
                with pytest.raises(type(exc)):
                    policeuk.read_file(m, src.single, fast=False)
                continue
            exact = policeuk.read_file(m, src.single, fast=False)
            n_fast += fast.fast
            assert not exact.fast
            assert (fast.kind, fast.read, fast.n_good, fast.table_notes, fast.entry_notes,
                    fast.columns, fast.digest) == (
                exact.kind, exact.read, exact.n_good, exact.table_notes, exact.entry_notes,
                exact.columns, exact.digest), m.name
            for role, frame in exact.frames.items():
                assert fast.frames[role].equals(frame), (m.name, role)
    assert n_fast >= 5


def test_cache_built_by_the_exact_splitter_equals_uncached(damaged, areas, tmp_path):
    ref, ref_led = _uncached([damaged], areas)
    rep, led = {}, Ledger()
    got = cache.cached_police_uk([damaged], areas, cache_dir=tmp_path, ledger=led, lazy=False,
                                 report=rep, fast=False)
    assert got.equals(ref)
    _assert_same_ledger(ref_led, led)
    rep2, led2 = {}, Ledger()
    assert cache.cached_police_uk([damaged], areas, cache_dir=tmp_path, ledger=led2,
                                  report=rep2).collect().equals(ref)
    assert rep2["status"] == "hit"
    _assert_same_ledger(ref_led, led2)


# ---------------------------------------------------------------------------------------------
# svtui check on the cache: a reopen counts from a LazyFrame over the cached Parquet and must
# say exactly what the direct read says (ledger, months, what the definition sees, window).


@pytest.fixture(scope="module")
def check_folder(damaged, tmp_path_factory) -> Path:
    """The damaged folder plus a month the study quarantines as out of range (2099)."""
    import shutil

    d = tmp_path_factory.mktemp("check") / "police-uk"
    shutil.copytree(damaged, d)
    rows = _lines(d / "2022-02" / "2022-02-warwickshire-street.csv")[1:6]
    _write(d / "2099-01" / "2099-01-future-street.csv",
           [HEADER, *[r.replace("2022-02", "2099-01") for r in rows]])
    return d


def _check_out(argv: list[str], capsys):
    import json

    from svtui.cli import main

    assert main(["check", *argv]) == 0
    out = capsys.readouterr().out
    if "--json" in argv:
        obj = json.loads(out)
        obj["study"].pop("load_seconds")  # the one timing field
        return obj
    return [line for line in out.splitlines() if not line.startswith("Loaded in ")]


@pytest.mark.parametrize("fmt", [["--json"], []], ids=["json", "text"])
@pytest.mark.parametrize("with_areas", [False, True], ids=["no-areas", "areas"])
def test_check_is_the_same_direct_built_and_reopened(check_folder, world, tmp_path, capsys, fmt,
                                                     with_areas):
    argv = ["--crimes", str(check_folder)]
    if with_areas:
        argv += ["--areas", str(world / "lsoa21_ew_synthetic.geojson"), "--lookup",
                 str(world / "lad_csp_pfa_synthetic.csv"), str(world / "lsoa11_lsoa21_synthetic.csv")]
    cached = argv + ["--cache", str(tmp_path / "cache")]
    direct = _check_out(argv + fmt, capsys)
    assert _check_out(cached + fmt, capsys) == direct  # first build
    assert _check_out(cached + fmt, capsys) == direct  # reopen (a hit)
    window = ["--from", "2022-02", "--to", "2022-04"]
    assert _check_out(cached + window + fmt, capsys) == _check_out(argv + window + fmt, capsys)
    if fmt:
        totals = direct["totals"]
        assert totals["read"] == totals["accepted"] + totals["quarantined"]
        crimes = direct["sources"][0]
        assert crimes["quarantined"]["month out of range"] == 5
        assert {"duplicate id", "malformed row", "no coordinates"} <= set(crimes["quarantined"])


def test_lazy_reopen_holds_the_direct_rows_ledger_months_and_types(check_folder, tmp_path):
    from geodata.study import load_study, spec_from_options

    spec = spec_from_options(crimes=[str(check_folder)])
    direct = load_study(spec, cache=False)
    load_study(spec, cache=tmp_path)  # build
    lazy = load_study(spec, cache=tmp_path, lazy=True)
    eager = load_study(spec, cache=tmp_path)
    assert isinstance(lazy.incidents, pl.LazyFrame) and isinstance(eager.incidents, pl.DataFrame)
    assert lazy.incidents.collect().equals(direct.incidents)
    assert eager.incidents.equals(direct.incidents)  # other commands still get one frame
    assert lazy.venues.collect().equals(direct.venues)
    assert lazy.notes == direct.notes
    _assert_same_ledger(direct.ledger, lazy.ledger)
    # The same months per source, counted from the scan and from the frame.
    direct.ledger.record_months(direct.incidents)
    lazy.ledger.record_months(lazy.incidents)
    for a, b in zip(direct.ledger.sources, lazy.ledger.sources):
        assert a.month_counts == b.month_counts and a.month_counts
        assert a.to_dict() == b.to_dict()
    # The same count per crime type.
    by_type = lambda f: f.lazy().group_by("crime_type").len().sort("crime_type").collect()  # noqa: E731
    assert by_type(lazy.incidents).equals(by_type(direct.incidents))


def test_check_never_uses_a_stale_cache(check_folder, tmp_path, capsys, monkeypatch):
    import shutil

    src = tmp_path / "src"
    shutil.copytree(check_folder, src)
    argv = ["--crimes", str(src), "--json"]
    cached = argv + ["--cache", str(tmp_path / "cache")]
    before = _check_out(cached, capsys)
    # Drop the last three rows of one file: the reopen must count the file as it is now.
    target = src / "2022-02" / "2022-02-warwickshire-street.csv"
    target.write_bytes(b"\r\n".join(target.read_bytes().split(b"\r\n")[:-4]) + b"\r\n")
    after = _check_out(cached, capsys)
    assert after == _check_out(argv, capsys)
    assert after["totals"]["read"] == before["totals"]["read"] - 3
    # A change to the reader's code is a change too: the entry is rebuilt, not reused.
    rep = {}
    cache.cached_police_uk([src], None, cache_dir=tmp_path / "cache", report=rep)
    assert rep["status"] == "hit"
    monkeypatch.setattr(cache, "_VERSION", "another-reader")
    rep = {}
    cache.cached_police_uk([src], None, cache_dir=tmp_path / "cache", report=rep)
    assert rep["status"] == "built" and rep["parts_reused"] == 0


def test_definition_sees_the_same_from_counts(sample_study):
    """`what_definition_sees` on the distinct inputs with their counts (what check passes)
    says what it says on the rows: records with codes and markers, and police.uk rows."""
    from hotspot.definition import what_definition_sees
    from svtui.check_counts import COUNTS, definition_inputs, has_records

    inc = sample_study.incidents
    inputs = definition_inputs(inc.lazy())
    assert inputs.height < inc.height and int(inputs[COUNTS].sum()) == inc.height
    assert has_records(inputs) == sample_study.has_records()
    for name in ("west-mercia", "police-uk-proxy"):
        assert what_definition_sees(name, inputs, counts=COUNTS) == what_definition_sees(name, inc)
    empty = inc.head(0)
    assert (what_definition_sees("west-mercia", definition_inputs(empty), counts=COUNTS)
            == what_definition_sees("west-mercia", empty))


def test_rows_stored_once_without_areas(world, tmp_path):
    """Without areas or outcomes files, a file with no repeats is stored once: the result lists
    its part's file (in result form) instead of writing the rows again; the rows, their order
    and the ledger are the uncached reader's. A damaged part file makes the result rebuild."""
    src = tmp_path / "street"  # street files only (outcomes files would change the rows)
    src.mkdir()
    for f in sorted((world / "police-uk" / "2022-01").glob("*-street.csv")):
        (src / f.name).write_bytes(f.read_bytes())
    # A re-download short of its last row: its rows are repeats, so that file is written.
    first = sorted(src.glob("*.csv"))[0]
    lines = first.read_bytes().splitlines(keepends=True)
    (src / first.name.replace(".csv", " (1).csv")).write_bytes(b"".join(lines[:-1]))
    paths = [src]
    ref, ref_led = _uncached(paths, None)
    rep, led = {}, Ledger()
    got = cache.cached_police_uk(paths, None, cache_dir=tmp_path, ledger=led, lazy=False,
                                 report=rep)
    assert got.equals(ref)
    _assert_same_ledger(ref_led, led)
    man = json.loads((Path(rep["result_dir"]) / "manifest.json").read_text())
    listed = [f["name"] for k, f in man["files"].items() if k.startswith("incidents-")]
    assert any(n.endswith(".good.parquet") for n in listed)  # a part's file, not a copy
    assert any(n.startswith("incidents-") for n in listed)  # the file with repeats: written
    assert sum(led.sources[0].quarantined.values()) >= len(lines) - 2
    lazy_got = cache.cached_police_uk(paths, None, cache_dir=tmp_path, report=(rep2 := {}))
    assert rep2["status"] == "hit" and lazy_got.collect().equals(ref)
    assert lazy_got.collect_schema().names() == list(INCIDENT_SCHEMA)
    part = next(Path(n) for n in listed if n.endswith(".good.parquet"))
    part.write_bytes(b"PAR1 not really")
    rep3, led3 = {}, Ledger()
    again = cache.cached_police_uk(paths, None, cache_dir=tmp_path, ledger=led3, lazy=False,
                                   report=rep3)
    assert rep3["status"] == "rebuilt" and rep3["parts_built"] >= 1
    assert again.equals(ref)
    _assert_same_ledger(ref_led, led3)


@pytest.mark.parametrize("data, plain", [
    (b"a,b\r\n1,2\r\n", True),
    (b"a,b\n1,2\n", True),
    (b"a,b\r\n1,2\n", False),  # mixed line ends
    (b"a,b\r\n1\r,2\n", False),  # as many CRs as LFs, but one is not a line end
    (b"a,b\r\n1,2\r", False),  # a lone CR at the end
    (b"\r\na,b\r\n", False),  # a blank first line
    (b"a,b\n1,,2\n", False),  # a line with a field too many
])
def test_well_formed_line_ends(data, plain):
    assert fastscan.well_formed(data, 2)[0] is plain
