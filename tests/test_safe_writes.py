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
    assert rc == 4  # a file could not be written (svtui/errors.py)
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
    assert main(["check", "--quarantine", str(f), *args]) == 3  # the ledger raises it as a SourceError
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a folder" in err and "(fix: " in err
    assert f.read_text() == "keep me"


# ============================================================================ issue 17, round two

import signal  # noqa: E402
import stat  # noqa: E402
import time  # noqa: E402

from hostile_corpus import tiny_study  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_study(tmp_path_factory.mktemp("tiny"))  # 160 rows, one hotspot


def _limited(limit: int):
    """preexec_fn: a file-size limit, so every write past `limit` bytes fails as on a full disk
    (EFBIG, 'File too large'), whichever library writes."""
    import resource

    def go():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    return go


def _svtui(argv, cwd, limit=None, env_extra=None):
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1", **(env_extra or {})}
    env.pop("SVTUI_DEBUG", None)
    env.pop("SVTUI_CACHE", None)
    return subprocess.run([sys.executable, "-m", "svtui", *argv], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300, preexec_fn=_limited(limit) if limit else None)


@pytest.mark.parametrize("name", ["hotspots.gpkg", "hotspots.parquet", "hotspots.csv", "hotspots.geojson"])
def test_full_disk_during_an_export_is_one_line_naming_the_file(tiny, tmp_path, name):
    """A full disk while writing a GeoPackage or Parquet file was 'internal error' without the
    file's name. Now: exit 4, one line naming the export, and nothing left in the folder."""
    out = tmp_path / "out"
    out.mkdir()
    p = _svtui(["hotspots", *tiny.args(extras=False), "--out", str(out / name)], tmp_path, limit=200)
    assert p.returncode == 4, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    assert name in lines[0] and "could not be written" in lines[0] and "(fix: " in lines[0], lines[0]
    assert list(out.iterdir()) == []


def test_full_disk_while_building_the_cache_names_the_file(tiny, tmp_path):
    cache = tmp_path / "cache"
    p = _svtui(["check", *tiny.args(extras=False), "--cache", str(cache)], tmp_path, limit=2000)
    assert p.returncode == 4, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" not in p.stderr, p.stderr
    assert str(cache) in lines[0] and "could not be written" in lines[0], lines[0]
    assert not [f for f in cache.rglob("*") if f.name.endswith(".tmp")]


_SLOW_EXPORT = r"""
import sys, time
sys.argv[0] = "svtui"  # as the console script
sys.path.insert(0, {repo!r})
import polars as pl
import pyarrow.parquet as pq

def slow_csv(self, file=None, *a, **kw):
    open(file, "w").write("half a file")
    time.sleep(60)

def slow_parquet(table, where, *a, **kw):
    open(where, "wb").write(b"PAR1 half")
    time.sleep(60)

pl.DataFrame.write_csv = slow_csv
pq.write_table = slow_parquet
from svtui.cli import main
sys.exit(main({argv!r}))
"""


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("name", ["hotspots.csv", "hotspots.parquet"])
def test_interrupt_or_sigterm_during_an_export_leaves_no_temporary_file(tiny, tmp_path, sig, code, name):
    """ctrl-C left a complete hidden temporary file, SIGTERM an empty one. Now the export's
    folder is as it was, the exit code says what happened, and one line says so."""
    out = tmp_path / "out"
    out.mkdir()
    script = _SLOW_EXPORT.format(repo=str(REPO), argv=["hotspots", *tiny.args(extras=False), "--out", str(out / name)])
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not [f for f in out.iterdir() if f.read_bytes()]:
        time.sleep(0.05)
    assert list(out.iterdir()), "the export never started"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert list(out.iterdir()) == []


def test_force_never_replaces_a_fifo_or_a_folder(tiny, tmp_path, capsys):
    fifo = tmp_path / "hotspots.csv"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    for target in (fifo, folder):
        rc = main(["hotspots", *tiny.args(extras=False), "--out", str(target), "--force"])
        err = capsys.readouterr().err
        assert rc == 2, err
        assert len(err.strip().splitlines()) == 1 and "never replaced" in err, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.csv", "hotspots.csv"]


def test_force_never_replaces_a_character_device(tmp_path, monkeypatch):
    """--force onto /dev/null replaced the device node. The test cannot make a device without
    root, so it shows the writer a target whose stat says 'character device' (as /dev/null's)."""
    import geodata.atomic as atomic

    target = tmp_path / "null"
    target.write_text("stands in for a device")
    real_stat = os.stat
    dev_mode = os.stat("/dev/null").st_mode
    assert stat.S_ISCHR(dev_mode)

    def fake_stat(p, *a, **kw):
        st = real_stat(p, *a, **kw)
        if Path(p) == target:
            return os.stat_result((dev_mode,) + tuple(st)[1:])
        return st

    monkeypatch.setattr(atomic.os, "stat", fake_stat)
    with pytest.raises(atomic.NotAFile, match="is a device"):
        write_text_atomic("x", target, force=True)
    assert target.read_text() == "stands in for a device"
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_exports_follow_the_umask(tmp_path, umask, mode):
    """Exports were always 0600 (mkstemp's mode) whatever the umask; a colleague in the same
    group could not open them. Now they get 0666 & ~umask, like any other tool."""
    old = os.umask(umask)
    try:
        p = write_csv_atomic(pl.DataFrame({"a": [1]}), tmp_path / "a.csv", force=False)
        q = write_text_atomic("x", tmp_path / "b.md", force=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == mode
    assert stat.S_IMODE(q.stat().st_mode) == mode


def test_an_export_under_a_file_is_one_line_exit_4(tiny, tmp_path, capsys):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where a folder was expected")
    rc = main(["hotspots", *tiny.args(extras=False), "--out", str(blocker / "h.csv")])
    err = capsys.readouterr().err
    assert rc == 4, err
    assert len(err.strip().splitlines()) == 1 and "h.csv" in err and "not a folder" in err, err
    assert blocker.read_text() == "a file where a folder was expected"
