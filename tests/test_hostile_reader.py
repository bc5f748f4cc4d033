"""Hostile and unlucky police.uk inputs at the reader level (issue 17): the same file or month
arriving twice, entries a folder or zip holds that are not CSVs, special files, zip expansion and
size limits, and Longitude/Latitude swapped in some rows.

Each case builds its files in a temporary folder. Each asserts what a user of `svtui check` would
see: the accepted count of a clean input, a ledger note naming every entry not read, or a refusal
in one line that names the file and the fix.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from geodata.errors import SourceError
from geodata.ledger import Ledger
from geodata.policeuk import STREET_COLUMNS, read_police_uk

HEADER = ",".join(STREET_COLUMNS)
REPO = Path(__file__).resolve().parents[1]


def row(cid="c1", month="2024-01", lon="-2.2213", lat="52.1936", ctype="Violence and sexual offences",
        loc="On or near High Street"):
    return ",".join([cid, month, "West Mercia Police", "West Mercia Police", lon, lat, loc,
                     "E01032295", "Worcester 013C", ctype, "Under investigation", ""])


def asb(loc="On or near High Street"):
    return row(cid="", ctype="Anti-social behaviour", loc=loc)


MONTH = [HEADER, row("a"), row("b"), asb(), asb(), asb("On or near Park Road")]  # 2 genuine ASB repeats
CLEAN_ACCEPTED = 5


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def check(paths) -> tuple[int, Ledger]:
    led = Ledger()
    df = read_police_uk(paths, led)
    assert led.balanced
    assert df.height == sum(s.accepted for s in led.sources)
    return df.height, led


def notes(led: Ledger) -> str:
    return "\n".join(n for s in led.sources for n in s.notes)


def month_folder(root: Path) -> Path:
    return write(root / "2024-01" / "2024-01-west-mercia-street.csv", MONTH)


# --------------------------------------------------------------------------------------------
# The same file or month twice


def test_genuine_repeats_inside_one_file_stay(tmp_path):
    n, _ = check([month_folder(tmp_path)])
    assert n == CLEAN_ACCEPTED


def test_overlapping_paths_read_each_file_once(tmp_path):
    f = month_folder(tmp_path / "data")
    n, led = check([tmp_path / "data", f])
    assert n == CLEAN_ACCEPTED
    assert "named twice" in notes(led)


def test_browser_redownload_is_read_once(tmp_path):
    f = month_folder(tmp_path)
    shutil.copy(f, f.with_name("2024-01-west-mercia-street (1).csv"))
    n, led = check([tmp_path])
    assert n == CLEAN_ACCEPTED
    assert "identical to" in notes(led)


def test_redownload_with_a_new_row_keeps_only_the_new_rows(tmp_path):
    """A later download of the same month with one more ASB row: the copied ASB rows (no Crime
    ID) are repeats of the first file's, the new one is a crime."""
    month_folder(tmp_path)
    write(tmp_path / "2024-01" / "2024-01-west-mercia-street (1).csv",
          MONTH + [asb("On or near New Lane")])
    n, led = check([tmp_path])
    assert n == CLEAN_ACCEPTED + 1
    q = led.sources[0].quarantined
    assert q == {"duplicate id": 2, "duplicate row": 3}


def test_zip_beside_its_extracted_folder(tmp_path):
    f = month_folder(tmp_path / "police")
    with zipfile.ZipFile(tmp_path / "police" / "download.zip", "w") as z:
        z.write(f, "2024-01/2024-01-west-mercia-street.csv")
    n, led = check([tmp_path / "police"])
    assert n == CLEAN_ACCEPTED
    assert "identical to" in notes(led)


def test_zip_member_name_repeated(tmp_path):
    z = tmp_path / "x.zip"
    data = ("\r\n".join(MONTH) + "\r\n").encode()
    with pytest.warns(UserWarning), zipfile.ZipFile(z, "w") as zf:
        zf.writestr("2024-01/2024-01-west-mercia-street.csv", data)
        zf.writestr("2024-01/2024-01-west-mercia-street.csv", data)
    n, led = check([z])
    assert n == CLEAN_ACCEPTED


# --------------------------------------------------------------------------------------------
# No silent skip


def test_symlinked_month_folder_is_read(tmp_path):
    real = tmp_path / "elsewhere"
    month_folder(real)
    (tmp_path / "data").mkdir()
    os.symlink(real / "2024-01", tmp_path / "data" / "2024-01")
    n, _ = check([tmp_path / "data"])
    assert n == CLEAN_ACCEPTED


def test_dangling_link_and_other_entries_are_listed(tmp_path):
    month_folder(tmp_path)
    os.symlink(tmp_path / "gone.csv", tmp_path / "2024-02-west-mercia-street.csv")
    (tmp_path / "README.txt").write_text("hello")
    write(tmp_path / "2024-03-west-mercia-street.csv" / "inner-street.csv", [HEADER, row("z", "2024-03")])
    with zipfile.ZipFile(tmp_path / "outer.zip", "w") as zf:
        zf.writestr("inner.zip", b"PK\x05\x06" + b"\0" * 18)
        zf.writestr("2024-04/2024-04-west-mercia-street.csv", "\r\n".join([HEADER, row("y", "2024-04")]))
    n, led = check([tmp_path])
    text = notes(led)
    assert n == CLEAN_ACCEPTED + 2  # the folder named like a CSV is read as a folder
    assert "2024-02-west-mercia-street.csv: a broken link" in text
    assert "README.txt: not a CSV or zip; not read" in text
    assert "a folder named like a file; read as a folder" in text
    assert "outer.zip!inner.zip: a zip inside a zip; not opened" in text


def _in_thread(fn, timeout=20):
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "reading hung"
    return box


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_given_as_a_file_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "2024-01-west-mercia-street.csv"
    os.mkfifo(fifo)
    box = _in_thread(lambda: read_police_uk([fifo]))
    assert isinstance(box.get("error"), SourceError)
    assert "not a regular file" in str(box["error"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_inside_a_folder_is_listed(tmp_path):
    month_folder(tmp_path)
    os.mkfifo(tmp_path / "2024-02-west-mercia-street.csv")
    box = _in_thread(lambda: check([tmp_path]))
    n, led = box["value"]
    assert n == CLEAN_ACCEPTED
    assert "not a regular file (a pipe, device or socket); not read" in notes(led)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_cli_check_on_a_fifo_ends_in_one_line(tmp_path):
    fifo = tmp_path / "crimes.csv"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "svtui", "check", "--crimes", str(fifo)],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = [x for x in proc.stderr.splitlines() + proc.stdout.splitlines() if x.strip()]
    assert len(lines) == 1 and "not a regular file" in lines[0], lines


# --------------------------------------------------------------------------------------------
# Limits


def test_zip_bomb_is_refused_by_its_declared_ratio(tmp_path):
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-01/2024-01-west-mercia-street.csv", HEADER + "\r\n" + "," * 20_000_000)
    with pytest.raises(SourceError, match="SVTUI_MAX_ZIP_RATIO") as err:
        read_police_uk([z])
    assert "bomb.zip" in str(err.value)


def test_zip_member_larger_than_declared_is_stopped(tmp_path):
    """A member whose header understates its size: extraction stops at the declared size."""
    z = tmp_path / "liar.zip"
    body = ("\r\n".join(MONTH) + "\r\n").encode()
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("2024-01/2024-01-west-mercia-street.csv", body)
    data = bytearray(z.read_bytes())
    # Patch the declared uncompressed size (local header at 22, central directory) to 10 bytes.
    import struct
    struct.pack_into("<I", data, 22, 10)
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 10)
    z.write_bytes(bytes(data))
    with pytest.raises(SourceError) as err:
        read_police_uk([z])
    assert "liar.zip" in str(err.value)


def test_limits_are_settable(tmp_path, monkeypatch):
    month_folder(tmp_path)
    write(tmp_path / "2024-02" / "2024-02-west-mercia-street.csv", [HEADER, row("q", "2024-02")])
    monkeypatch.setenv("SVTUI_MAX_FILES", "1")
    with pytest.raises(SourceError, match="SVTUI_MAX_FILES"):
        read_police_uk([tmp_path])
    monkeypatch.setenv("SVTUI_MAX_FILES", "5")
    monkeypatch.setenv("SVTUI_MAX_FILE_MB", "0.0000001")  # not a positive whole number: default
    assert check([tmp_path])[0] == CLEAN_ACCEPTED + 1


# --------------------------------------------------------------------------------------------
# Longitude and Latitude swapped in some rows


def test_swap_is_decided_per_row(tmp_path):
    swapped = [row(f"s{i}", lon="52.19", lat="-2.22") for i in range(3)]
    ordered = [row(f"o{i}") for i in range(2)]
    n, led = check([write(tmp_path / "2024-01-x-street.csv", [HEADER, *swapped, *ordered])])
    assert n == 5
    assert led.sources[0].quarantined == {}
    assert "swapped back" in notes(led)


def _check_json(capsys, *paths) -> dict:
    import json

    from svtui.cli import main

    assert main(["check", "--crimes", *map(str, paths), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_svtui_check_counts_overlap_and_redownload_as_clean(tmp_path, capsys):
    f = month_folder(tmp_path / "clean")
    clean = _check_json(capsys, tmp_path / "clean")["totals"]["accepted"]
    assert clean == CLEAN_ACCEPTED
    assert _check_json(capsys, tmp_path / "clean", f)["totals"]["accepted"] == clean
    shutil.copy(f, f.with_name("2024-01-west-mercia-street (1).csv"))
    assert _check_json(capsys, tmp_path / "clean")["totals"]["accepted"] == clean
