"""Issue 7: files are written atomically, never overwrite silently, and go only where asked.

`svtui check --quarantine DIR` writes inside DIR and nowhere else (not the working folder, the
temporary folder or HOME); a second run refuses to replace the files unless --force; a failure
half-way through a write (a full disk, an interrupt) leaves neither a partial file nor a
temporary file behind; quarantine CSVs cannot run as spreadsheet formulas.
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest

from geodata.atomic import WouldOverwrite, write_atomic, write_csv_atomic, write_text_atomic
from hostile_corpus import POLICE_HEADER, RECORDS_HEADER, police_row, records_row, write_areas
from svtui.cli import main

REPO = Path(__file__).resolve().parents[1]


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Inputs with bad rows, and a private cwd, HOME and temporary folder to watch."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    areas = write_areas(inputs / "areas.geojson")
    crimes = inputs / "2024-01-x-street.csv"
    crimes.write_text("\n".join([POLICE_HEADER, police_row(1), police_row(2, lon="0", lat="0"),
                                 police_row(3, lon="", lat=""), police_row(4, month="2024-13")]) + "\n")
    records = inputs / "records.csv"
    records.write_text("\n".join([RECORDS_HEADER, records_row(1),
                                  records_row(2, x="", y="", location='=HYPERLINK("https://evil.example","x")'),
                                  records_row(3, location="@SUM(A1)", when="garbage")]) + "\n")
    for d in ("work", "home", "systmp"):
        (tmp_path / d).mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "systmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "systmp"))
    args = ["--crimes", str(crimes), str(records), "--areas", str(areas)]
    return tmp_path, args


def test_quarantine_goes_only_into_dir(sandbox, capsys):
    root, args = sandbox
    qdir = root / "out" / "q"
    before = listing(root)
    assert main(["check", "--quarantine", str(qdir), *args]) == 0
    out = capsys.readouterr().out
    new = listing(root) - before
    assert new, "nothing written"
    outside = [p for p in new if not (root / p).resolve().is_relative_to(qdir.resolve())
               and not qdir.resolve().is_relative_to((root / p).resolve())]
    assert outside == [], outside
    files = sorted(p.name for p in qdir.iterdir())
    assert files and all(f.endswith(".quarantine.csv") for f in files), files
    assert "Quarantined rows written to" in out


def test_quarantine_goes_only_into_dir_as_a_process(sandbox):
    root, args = sandbox
    qdir = root / "q"
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(root / "home"), "TMPDIR": str(root / "systmp")}
    before = listing(root)
    p = subprocess.run([sys.executable, "-m", "svtui", "check", "--quarantine", str(qdir), *args],
                       capture_output=True, text=True, cwd=root / "work", env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    new = listing(root) - before
    assert all(Path(n).parts[0] == "q" for n in new), sorted(new)


def test_quarantine_never_overwrites_silently(sandbox, capsys):
    root, args = sandbox
    qdir = root / "q"
    assert main(["check", "--quarantine", str(qdir), *args]) == 0
    capsys.readouterr()
    files = sorted(qdir.iterdir())
    stamp = {f.name: (f.stat().st_ino, f.read_bytes()) for f in files}
    rc = main(["check", "--quarantine", str(qdir), *args])
    _, err = capsys.readouterr()
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "already exists" in err and "--force" in err
    assert {f.name: (f.stat().st_ino, f.read_bytes()) for f in sorted(qdir.iterdir())} == stamp
    assert main(["check", "--quarantine", str(qdir), "--force", *args]) == 0
    after = {f.name: f.stat().st_ino for f in sorted(qdir.iterdir())}
    assert set(after) == set(stamp)
    assert all(after[n] != stamp[n][0] for n in after)  # replaced by rename, not rewritten in place
    assert not [f for f in qdir.iterdir() if f.name.startswith(".") or f.suffix == ".tmp"]


def test_full_disk_mid_write_leaves_nothing(sandbox, capsys, monkeypatch):
    root, args = sandbox
    qdir = root / "q"
    real = pl.DataFrame.write_csv

    def half_then_full(self, file=None, *a, **kw):
        Path(file).write_text(real(self.head(1)))  # some bytes reach the disk...
        raise OSError(errno.ENOSPC, "No space left on device")  # ...then it is full

    monkeypatch.setattr(pl.DataFrame, "write_csv", half_then_full)
    rc = main(["check", "--quarantine", str(qdir), *args])
    _, err = capsys.readouterr()
    assert rc == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "No space left on device" in err and ".quarantine.csv" in err and "(fix: " in err
    assert not qdir.exists() or list(qdir.iterdir()) == []


def test_interrupt_mid_write_leaves_nothing(tmp_path):
    target = tmp_path / "export.csv"

    def interrupted(p: Path) -> None:
        p.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, interrupted)
    assert list(tmp_path.iterdir()) == []


def test_no_overwrite_even_when_the_file_appears_mid_write(tmp_path):
    target = tmp_path / "brief.md"

    def racing_writer(p: Path) -> None:
        p.write_text("mine")
        target.write_text("someone else's")  # appears after the existence check

    with pytest.raises(WouldOverwrite):
        write_atomic(target, racing_writer, force=False)
    assert target.read_text() == "someone else's"
    assert [p.name for p in tmp_path.iterdir()] == ["brief.md"]


def test_write_helpers_refuse_then_replace(tmp_path):
    p = write_text_atomic("one", tmp_path / "a.md", force=False)
    with pytest.raises(FileExistsError):
        write_text_atomic("two", p, force=False)
    assert p.read_text() == "one"
    write_text_atomic("two", p, force=True)
    assert p.read_text() == "two"
    with pytest.raises(WouldOverwrite):
        write_csv_atomic(pl.DataFrame({"a": [1]}), p, force=False)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.md"]


def test_quarantine_csv_cells_cannot_run_as_formulas(sandbox, capsys):
    root, args = sandbox
    qdir = root / "q"
    assert main(["check", "--quarantine", str(qdir), *args]) == 0
    rec = [f for f in qdir.iterdir() if "records" in f.name][0]
    df = pl.read_csv(rec, infer_schema=False)
    values = [v for c in df.columns for v in df[c].drop_nulls().to_list()]
    assert "'=HYPERLINK(\"https://evil.example\",\"x\")" in values
    assert "'@SUM(A1)" in values
    assert not [v for v in values if v[:1] in ("=", "+", "@")]


def test_workbench_briefing_export_never_overwrites(tmp_path, monkeypatch):
    from svtui.screens import adapt

    monkeypatch.chdir(tmp_path)
    first = Path(adapt.export_briefing(None, ("locality", "L-1"), "one\n"))
    second = Path(adapt.export_briefing(None, ("locality", "L-1"), "two\n"))
    assert first != second
    assert first.read_text() == "one\n" and second.read_text() == "two\n"
    assert all(p.parent.resolve() == tmp_path.resolve() for p in (first, second))
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp" or p.name.startswith(".")]


def test_quarantine_dir_that_is_a_file(sandbox, capsys):
    root, args = sandbox
    f = root / "q.txt"
    f.write_text("keep me")
    assert main(["check", "--quarantine", str(f), *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a folder" in err and "(fix: " in err
    assert f.read_text() == "keep me"
