"""Issue 7: terminal injection. Data is shown inert, never obeyed.

Text fields come from members of the public (A&E free text), partner systems and file names.
They may hold ANSI/OSC escape sequences (OSC 52 writes the clipboard, OSC 8 plants a link),
8-bit C1 controls, DCS strings, Rich/Textual markup, Markdown, bidi overrides, spreadsheet
formulas and very long strings. This file builds a tiny study whose location labels, location
descriptions, LSOA and CSP names, venue names, intervention names and file names carry such
payloads, and pushes it through `svtui.safe`, the engine, every CLI command, the exports, the
briefing and every screen of the workbench.

Contract: the engine keeps raw data; every face (svtui) makes it inert at the last moment.
"""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile_corpus import ORIGIN, POLICE_HEADER, lonlat, police_row, tiny_study
from svtui import safe
from svtui.cli import main

CSI = "\x1b[31mRED\x1b[0m\x1b[2J\x1b[1;1H"
OSC52 = "\x1b]52;c;ZXZpbA==\x07"
OSC52_ST = "\x1b]52;c;ZXZpbA==\x1b\\"
OSC8 = "\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07"
OSC_OPEN = "\x1b]0;window title"
DCS = "\x1bP1$tx\x1b\\"
C1 = "\x9b31m\x9d52;c;ZXZpbA==\x9c\x90q\x9c"
CTRL = "\x07\x08\x7f\x00\x1a"
MARKUP = "[bold]B[/bold][link=https://evil.example]L[/link][@click=app.quit]Q[/]"
MARKDOWN = "[click](https://evil.example/md) <b>html</b> ![img](https://evil.example/i.png)"
BIDI = "\u202egnp.exe\u202c\u2066x\u2069"
FORMULA = '=HYPERLINK("https://evil.example/f","x")'
LONG = "W" * 5000

# Every payload at once (no NUL: a CSV with NUL bytes is refused as binary before any row is read).
PAYLOAD = f"{MARKUP} {CSI}{OSC52}{OSC8}{DCS}{C1}\x07\x08{BIDI} {MARKDOWN}"
# File names cannot hold '/' or NUL.
FILE_PAYLOAD = "[bold]F[red]\x1b]52;c;ZXZpbA==\x07\x1b[31m\u202eq"

# What must never reach a terminal: C0 controls except new line and tab, DEL, C1, bidi controls.
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def unsafe(text: str) -> list[str]:
    return sorted({repr(m) for m in UNSAFE.findall(text)})


# ------------------------------------------------------------------------------ svtui.safe


@pytest.mark.parametrize("payload", [CSI, OSC52, OSC52_ST, OSC8, OSC_OPEN, DCS, C1, CTRL, BIDI,
                                     "\x1bP" + "x" * 50, "\x1b_apc\x1b\\", "\x1b^pm\x1b\\", "\x1bXsos\x1b\\",
                                     "\x1b[", "\x1b", "\x9b", "\x9d", "a\x1b\nb"])
def test_plain_leaves_nothing_a_terminal_would_obey(payload):
    out = safe.plain("before " + payload + " after", None)
    assert not unsafe(out), out
    assert out.startswith("before ")


def test_plain_removes_whole_sequences_not_just_the_escape():
    assert safe.plain(f"a{OSC52}b") == "ab"  # the clipboard payload goes too
    assert safe.plain(f"a{OSC52_ST}b") == "ab"
    assert safe.plain(f"a{CSI}b") == "aREDb"
    assert safe.plain(f"a{OSC8}b") == "alinkb"
    assert safe.plain(f"a{DCS}b") == "ab"
    assert safe.plain("a\x9b31mb") == "ab"
    assert safe.plain("a\x9d52;c;eA==\x9cb") == "ab"
    # An OSC that is never terminated swallows the rest: better lost than obeyed.
    assert safe.plain("a" + OSC_OPEN) == "a"


def test_plain_one_line_and_truncated():
    assert safe.plain("a\nb\r\nc\td\u2028e\u2029f\x85g", None) == "a b c d e f g"
    assert safe.plain(LONG, 80) == "W" * 79 + "…"
    assert len(safe.plain(LONG)) == 200
    assert safe.plain(None) == ""
    assert safe.plain(3.5) == "3.5"


def test_bidi_overrides_stripped_rtl_text_and_joiners_kept():
    """Decision (documented in svtui/safe.py): embedding, override and isolate controls
    (U+202A-U+202E, U+2066-U+2069) are stripped, because they reorder what the analyst sees
    ('Trojan Source'). Right-to-left scripts and ZWJ/ZWNJ are text and stay."""
    assert safe.plain("invoice\u202egnp.exe") == "invoicegnp.exe"
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert ch not in safe.plain(f"x{ch}y")
    arabic = "\u0634\u0627\u0631\u0639 \u0627\u0644\u0645\u0644\u0643"
    assert safe.plain(arabic) == arabic
    assert safe.plain("family \U0001f468\u200d\U0001f469\u200d\U0001f467") == "family \U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert safe.plain("a\u200cb") == "a\u200cb"


def test_plain_survives_file_names_that_are_not_utf8():
    name = b"caf\xe9-\xff.csv".decode("utf-8", "surrogateescape")
    out = safe.plain(name)
    out.encode("utf-8")  # a lone surrogate would raise here, and in print()
    assert out == "caf\ufffd-\ufffd.csv"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.integers(1, 80))
def test_plain_property(s, n):
    out = safe.plain(s, n)
    assert not unsafe(out)
    assert len(out) <= n
    out.encode("utf-8")


_MARKUPISH = st.text(alphabet="[]/\\=@$#:ab ,.\x1b\n", max_size=30)


@settings(max_examples=300, deadline=None)
@given(_MARKUPISH)
def test_markup_safe_is_literal_in_rich_markup(s):
    from rich.markup import render

    shown = render(f"[bold]{safe.markup_safe(s, None)}[/bold]", emoji=False).plain
    assert shown == safe.plain(s, None)


@settings(max_examples=300, deadline=None)
@given(_MARKUPISH)
def test_textual_markup_safe_is_literal_in_textual_markup(s):
    from textual.content import Content

    shown = Content.from_markup(f"[bold]{safe.textual_markup_safe(s, None)}[/bold]").plain
    assert shown.replace("\u200b", "") == safe.plain(s, None)


def test_rich_escape_is_not_enough_for_textual():
    """Why textual_markup_safe exists: Textual reads [$x] and [ x] as tags, Rich does not."""
    from textual.content import Content

    assert Content.from_markup(safe.textual_markup_safe("[$x]t [ y]u")).plain == "[$x]t [ y]u"


def test_text_cells_are_literal():
    t = safe.text(PAYLOAD)
    assert "[bold]B[/bold]" in t.plain and not unsafe(t.plain)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="[]()<>!#*_`\\-+.|~ahttps:/ \n", max_size=40))
def test_markdown_safe_makes_no_links_headings_or_html(s):
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse("Place: " + safe.markdown_safe(s, None))
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    assert not kinds & {"link_open", "image", "html_inline", "html_block", "heading_open", "fence",
                        "code_block", "bullet_list_open", "ordered_list_open", "hr", "blockquote_open"}, kinds


def test_csv_cells_never_run_as_formulas():
    assert safe.csv_cell(FORMULA) == "'" + FORMULA
    for v in ("+1+1", "-1+cmd", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe.csv_cell(v).startswith("'")
    for v in ("-2.2", "+44", "1e5", "Street", "", None, 3):
        assert safe.csv_cell(v) == v
    df = safe.csv_frame(pl.DataFrame({"name": [FORMULA, "ok", None], "=col": [1, 2, 3]}))
    assert df["name"].to_list() == ["'" + FORMULA, "ok", None]
    assert df.columns == ["name", "'=col"]


# ------------------------------------------------------------------------- the payload study


@pytest.fixture(scope="module")
def evil(tmp_path_factory):
    root = tmp_path_factory.mktemp("evil")
    st_ = tiny_study(
        root, location="On or near " + PAYLOAD + LONG,
        venue_names=(PAYLOAD + " Arms", "Velvet Lounge"),
        intervention_names=(PAYLOAD + " scheme",),
        area_name=FORMULA + " " + PAYLOAD, csp_name="Tiny Test CSP",
        crimes_name=f"2024-01-{FILE_PAYLOAD}-street.csv",
    )
    # A row far outside the study, so the quarantine (and the data screen) carries the payload.
    far_lon, far_lat = lonlat(325000, 673000)
    with open(st_.crimes, "a", encoding="utf-8") as fh:
        fh.write(police_row(99_999, lon=f"{far_lon:.5f}", lat=f"{far_lat:.5f}", lsoa="S01008000",
                            location="On or near " + PAYLOAD) + "\n")
    return st_


def run_cli(argv, capsys) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_engine_keeps_the_raw_text(evil):
    """The engine does not clean data (it would hide what the file said); faces must."""
    from geodata.study import load_study
    from hotspot.analysis import Params, analyse, prepare

    study = load_study(evil.spec())
    a = analyse(prepare(study, params=Params(permutations=0)), params=Params(permutations=0))
    assert a.localities.height >= 1
    name = a.localities["name"][0]
    assert "\x1b]52" in name and "[bold]" in name
    assert any("\x1b" in iv.name for iv in study.interventions)


def test_check_output_is_inert(evil, capsys):
    rc, out, err = run_cli(["check", *evil.args()], capsys)
    assert rc == 0, err
    assert not unsafe(out) and not unsafe(err)
    assert "[bold]F[red]" in out  # the file name, shown as typed
    rc, out, err = run_cli(["check", "--json", *evil.args()], capsys)
    assert rc == 0 and not unsafe(out)
    assert json.loads(out)["sources"]


def test_error_naming_a_hostile_file_is_inert(tmp_path, capsys):
    bad = tmp_path / f"{FILE_PAYLOAD}.csv"
    bad.write_bytes(b"")
    rc, out, err = run_cli(["check", "--crimes", str(bad)], capsys)
    assert rc == 3  # a source cannot be read
    assert not unsafe(err), err
    assert len(err.strip().splitlines()) == 1
    assert "[bold]F[red]" in err


@pytest.mark.parametrize("command", [
    ["hotspots"], ["brief"], ["brief", "--format", "txt"], ["trends"], ["trends", "--level", "lsoa"],
    ["trends", "--table", "monthly"], ["gaps"], ["gaps", "--reach"], ["gaps", "--all", "--level", "lsoa"],
    ["backtest", "--train", "2024-01:2024-02", "--test", "2024-03:2024-04"],
])
def test_cli_commands_print_inert_text(evil, capsys, command):
    from svtui.cli import COMMANDS, build_parser

    build_parser()
    if command[0] not in COMMANDS:
        pytest.xfail(f"svtui {command[0]} is not written yet")
    rc, out, err = run_cli([*command, *evil.args()], capsys)
    assert rc == 0, err
    assert "Traceback" not in err
    assert not unsafe(out), unsafe(out)
    assert not unsafe(err), unsafe(err)


def test_hotspots_table_shows_markup_literally_and_truncated(evil, capsys):
    rc, out, err = run_cli(["hotspots", *evil.args()], capsys)
    assert rc == 0, err
    assert "[bold]B[/bold]" in out
    assert max(len(line) for line in out.splitlines()) < 400  # the 5,000-character label is cut


def _export(evil, tmp_path, capsys, command, name):
    out = tmp_path / name
    rc, _, err = run_cli([*command, *evil.args(), "--out", str(out)], capsys)
    assert rc == 0, err
    return out


@pytest.mark.parametrize("command,name", [
    (["hotspots"], "hotspots.csv"),
    (["trends", "--level", "lsoa"], "trends.csv"),
    (["gaps", "--reach", "--level", "lsoa"], "reach.csv"),
])
def test_csv_exports_neutralise_formulas(evil, tmp_path, capsys, command, name):
    out = _export(evil, tmp_path, capsys, command, name)
    df = pl.read_csv(out, infer_schema=False)
    for col in df.columns:
        assert not re.match(r"^[=+@]", col)
        for v in df[col].drop_nulls().to_list():
            assert not re.match(r"^[=+@\t\r]", v) and not re.match(r"^-[^\d.]", v), (col, v)



@pytest.mark.parametrize("command,name", [
    (["hotspots"], "hotspots.csv"),
    (["hotspots"], "hotspots.geojson"),
    (["trends"], "trends.csv"),
])
def test_export_files_hold_no_terminal_controls(evil, tmp_path, capsys, command, name):
    out = _export(evil, tmp_path, capsys, command, name)
    text = out.read_text(encoding="utf-8")
    assert not unsafe(text), unsafe(text)


def test_briefing_markdown_has_no_links_or_html_from_data(evil, tmp_path, capsys):
    from markdown_it import MarkdownIt

    out = _export(evil, tmp_path, capsys, ["brief"], "brief.md")
    text = out.read_text(encoding="utf-8")
    assert not unsafe(text), unsafe(text)
    tokens = MarkdownIt("commonmark").parse(text)
    flat = [c for t in tokens for c in (t.children or [])] + tokens
    hrefs = [t.attrs.get("href") or t.attrs.get("src") for t in flat if t.type in ("link_open", "image")]
    assert not [h for h in hrefs if h and "evil.example" in h], hrefs
    assert not [t for t in flat if t.type in ("html_inline", "html_block")]


# ------------------------------------------------------------------------------ the workbench


from tui_helpers import screen_text, settle  # noqa: E402



def test_every_screen_shows_payloads_inert_and_literal(evil, tmp_path, monkeypatch):
    from hotspot.analysis import Params
    from svtui.app import SvtuiApp

    monkeypatch.chdir(tmp_path)
    app = SvtuiApp(evil.spec(), params=Params(permutations=0), animations=False)
    seen: dict[str, str] = {}

    async def go():
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot, rounds=400)
            assert app.load_error is None, app.load_error
            for mode in app.MODES:
                await app.switch_mode(mode)
                await settle(pilot)
                seen[mode] = screen_text(app)
            # Secondary views: the data screen's quarantine tab, help, filters, the palette.
            await app.switch_mode("data")
            await settle(pilot)
            await pilot.press("u")
            await settle(pilot)
            seen["data/quarantine"] = screen_text(app)
            await app.switch_mode("hotspots")
            await settle(pilot)
            await pilot.press("c")
            await settle(pilot)
            seen["clipboard"] = app.clipboard or ""
            app.action_help()
            await settle(pilot)
            seen["help"] = screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            app.action_filters()
            await settle(pilot)
            seen["filters"] = screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            await app.switch_mode("briefing")
            await settle(pilot)
            await pilot.press("s")  # the subject picker lists hotspot and area names
            await settle(pilot)
            seen["briefing/picker"] = screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*list("Tiny"))
            await pilot.pause(0.5)
            await settle(pilot)
            seen["palette"] = screen_text(app)
            await pilot.press("escape")

    asyncio.run(go())
    for where, text in seen.items():
        assert not unsafe(text), (where, unsafe(text))
        assert "\x1b" not in text
    assert "[bold]B[/bold]" in seen["hotspots"], "markup in data must show as typed"
    assert "[bold]B[/bold]" in seen["briefing/picker"]
    assert any("[bold]" in seen[m] for m in ("areas", "overview"))


# ==================================================================== issue 17: bytes, not text
#
# The tests above read the text Textual rendered. These read the BYTES a terminal receives: the
# workbench runs under a pseudo-terminal (`python -m svtui`, TERM=xterm-256color) and every CLI
# command runs in one too, on a study whose data carries payloads with recognisable bytes. The
# app's own escapes (SGR colours, cursor moves, mode switches, OSC 22 pointer shapes, OSC 52
# clipboard writes whose base64 is decoded and checked) are told apart from data's: a data
# escape carries a marker no part of svtui ever writes.

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ATTACK = "attacker.example"
MARK_CSI = "\x1b[5;66;166m"  # an SGR no style of svtui's makes
MARK_OSC52 = "\x1b]52;c;QVRUQUNL\x07"  # base64("ATTACK"): would overwrite the clipboard
MARK_OSC8 = f"\x1b]8;;https://{ATTACK}/\x07"
MARK_DCS = "\x1bP1$tDCSMARK\x1b\\"
MARK_C1 = "\x9b66;166m\x9d52;c;QVRUQUNL\x9c"
MARK_BEL = "\x07"
MARK_BIDI = "\u202eBIDIMARK\u202c"
BYTES_PAYLOAD = f"CSIMARK{MARK_CSI}x{MARK_OSC52}{MARK_OSC8}link{MARK_DCS}{MARK_C1}{MARK_BEL}{MARK_BIDI}"
# What survives plain(): shows that the data DID reach the screen (the test can fail).
VISIBLE = "CSIMARK"

_APP_OSC = re.compile(rb"\x1b\](?:52;c;([A-Za-z0-9+/=]*)|22;[a-z-]+)\x07")


def data_escapes(raw: bytes) -> list[str]:
    """Every trace of a data escape in terminal output bytes; [] when the bytes are clean.

    The app's OSC 52 clipboard writes are decoded and their text checked as clipboard text."""
    import base64

    problems = []
    for m in _APP_OSC.finditer(raw):
        if m.group(1) is not None:
            clip = base64.b64decode(m.group(1)).decode("utf-8", "replace")
            problems += [f"clipboard: {u}" for u in unsafe(clip.replace("\t", " "))]
            if "ATTACK" in clip or "52;c;QVRUQUNL" in clip:  # the planted OSC 52 itself, or inside a copy
                problems.append("OSC 52 payload")
    rest = _APP_OSC.sub(b"", raw)
    text = rest.decode("utf-8", "replace")
    for name, needle in (("CSI marker", MARK_CSI), ("OSC 52 payload", "\x1b]52;c;QVRUQUNL"), ("OSC 8 link", "\x1b]8;;"),
                         ("DCS", "\x1bP"), ("APC/PM/SOS", "\x1b_"), ("OSC", "\x1b]"), ("BEL", "\x07")):
        if needle in text:
            problems.append(name)
    problems += [f"C1 {hex(ord(c))}" for c in set(re.findall(r"[\x80-\x9f]", text))]
    problems += [f"bidi {hex(ord(c))}" for c in set(re.findall(r"[\u202a-\u202e\u2066-\u2069]", text))]
    return sorted(set(problems))


def test_the_bytes_check_finds_every_planted_payload():
    """The harness's own check, on raw payload bytes: each kind is found (so a pass means clean)."""
    raw = ("\x1b[0m" + BYTES_PAYLOAD).encode("utf-8")
    found = data_escapes(raw)
    for kind in ("CSI marker", "OSC 52 payload", "OSC", "DCS", "BEL"):
        assert kind in found, found
    assert any(f.startswith("C1") for f in found) and any(f.startswith("bidi") for f in found)
    import base64

    app_copy = b"\x1b]52;c;" + base64.b64encode(("x" + MARK_CSI).encode()) + b"\x07"
    assert data_escapes(app_copy) == ["clipboard: '\\x1b'"]
    assert data_escapes(b"\x1b[38;2;1;2;3mok\x1b]22;default\x07\x1b]52;c;b2s=\x07") == []
    assert data_escapes(("On or near " + safe.plain(BYTES_PAYLOAD)).encode()) == []


@pytest.fixture(scope="module")
def byte_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("bytes")
    st_ = tiny_study(
        root, location="On or near " + BYTES_PAYLOAD, venue_names=(BYTES_PAYLOAD + " Arms", "Velvet Lounge"),
        intervention_names=(BYTES_PAYLOAD + " scheme",), area_name=BYTES_PAYLOAD,
        crimes_name="2024-01-x\x1b]52;c;QVRUQUNL\x07\u202e-street.csv",
    )
    far_lon, far_lat = lonlat(325000, 673000)
    with open(st_.crimes, "a", encoding="utf-8") as fh:
        fh.write(police_row(99_999, lon=f"{far_lon:.5f}", lat=f"{far_lat:.5f}", lsoa="S01008000",
                            location="On or near " + BYTES_PAYLOAD) + "\n")
    definition = root / "def.toml"
    from importlib import resources

    text = resources.files("hotspot").joinpath("definitions/police-uk-proxy.toml").read_text(encoding="utf-8")
    definition.write_text(re.sub(r"(?m)^title = .*$", lambda m: "title = " + json.dumps("Def " + BYTES_PAYLOAD), text, count=1),
                          encoding="utf-8")
    st_.definition = definition
    return st_


def _pty_run(argv, cwd, keys=(), size=(50, 160), first=None, timeout=120.0) -> tuple[int, bytes]:
    """Run `python -m svtui argv` on a pseudo-terminal; send `keys` (bytes, seconds to wait
    after, or a callable run then); return (exit status, every byte the terminal received)."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color", "COLUMNS": str(size[1]),
           "LINES": str(size[0])}
    for k in ("NO_COLOR", "SVTUI_DEBUG", "SVTUI_CACHE", "TEXTUAL"):
        env.pop(k, None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: become svtui
        try:
            os.chdir(cwd)
            os.execvpe(sys.executable, [sys.executable, "-m", "svtui", *argv], env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    buf = bytearray()

    def pump(seconds: float, until: bytes | None = None) -> bool:
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return False
                if not chunk:
                    return False
                buf.extend(chunk)
                if until is not None and until in buf:
                    return True
        return until is None

    try:
        if first is not None:
            assert pump(timeout, first), f"never saw {first!r}: {bytes(buf[-2000:])!r}"
        for key, wait in keys:
            if callable(key):
                key()
            else:
                os.write(fd, key)
            if isinstance(wait, bytes):
                assert pump(timeout, wait), f"never saw {wait!r} after {key!r}"
            else:
                pump(wait)
        deadline = time.time() + timeout
        while time.time() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                pump(0.2)
                return os.waitstatus_to_exitcode(status), bytes(buf)
            pump(0.2)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError(f"svtui {argv} did not finish: {bytes(buf[-1000:])!r}")
    finally:
        os.close(fd)


def test_workbench_bytes_hold_no_escape_from_data(byte_study, tmp_path):
    """The whole journey through the real terminal driver: every screen, the quarantine, copying
    the hotspot table and a briefing (notification + OSC 52 clipboard text), help, filters, the
    palette, and ctrl+r after the crimes file's header was replaced by one full of escapes (the
    'Could not re-read the sources' notice)."""
    crimes = Path(byte_study.crimes)
    original = crimes.read_text(encoding="utf-8")

    def poison_header():
        crimes.write_text("Crime ID," + BYTES_PAYLOAD + ",Month\n1,2,3\n", encoding="utf-8")

    keys = [
        (b"3", 3.0), (b"c", b"Copied"), (b"4", 2.0), (b"2", 2.0), (b"1", 2.0),
        (b"5", 3.0), (b"c", b"Copied the briefing"), (b"s", 2.0), (b"\x1b", 1.0),
        (b"6", 2.0), (b"u", 2.0), (b"?", 2.0), (b"\x1b", 1.0), (b"f", 2.0), (b"\x1b", 1.0),
        (b"\x10", 1.0), (b"Tiny", 2.0), (b"\x1b", 1.0),
        (poison_header, 0.1), (b"\x12", b"Could not re-read"), (b"q", 1.0),
    ]
    try:
        code, raw = _pty_run([*byte_study.args(), "--definition", str(byte_study.definition)], tmp_path,
                             keys=[(b"", 2.0), *keys], first=VISIBLE.encode(), timeout=90)
    finally:
        crimes.write_text(original, encoding="utf-8")
    assert code == 0, raw[-2000:]
    assert b"\x1b]52;c;" in raw, "the copies never reached the terminal"
    assert VISIBLE.encode() in raw, "the payload data never reached the screen: the test would prove nothing"
    assert data_escapes(raw) == []


_CLI_COMMANDS = [
    ["check"], ["check", "--json"], ["hotspots"], ["brief"], ["brief", "--format", "txt"], ["trends"],
    ["trends", "--level", "lsoa"], ["gaps"], ["gaps", "--reach"],
    ["backtest", "--train", "2024-01:2024-02", "--test", "2024-03:2024-04"],
]


@pytest.mark.parametrize("command", _CLI_COMMANDS, ids=lambda c: " ".join(c))
def test_cli_bytes_hold_no_escape_from_data(byte_study, tmp_path, command):
    """Every command on a terminal (stdout and stderr are the pty, so styles are on)."""
    from svtui.cli import COMMANDS, build_parser

    build_parser()
    if command[0] not in COMMANDS:
        pytest.xfail(f"svtui {command[0]} is not written yet")
    code, raw = _pty_run([*command, *byte_study.args(), "--definition", str(byte_study.definition)], tmp_path)
    assert code == 0, raw[-2000:]
    assert b"Traceback" not in raw
    assert data_escapes(raw) == []
    if command == ["check"]:
        assert b"Def CSIMARK" in raw  # the definition's title, shown inert


@pytest.mark.parametrize("bad", ["header", "study"])
def test_cli_error_lines_hold_no_escape_from_data(byte_study, tmp_path, bad):
    """Error lines quote file names, header names and study keys: inert bytes too."""
    if bad == "header":
        f = tmp_path / ("\x1b]52;c;QVRUQUNL\x07\u202e.csv")
        f.write_text("Crime ID," + BYTES_PAYLOAD + ",Month\n1,2,3\n", encoding="utf-8")
        argv = ["check", "--crimes", str(f)]
    else:
        f = tmp_path / "study.toml"
        f.write_text("[study]\n" + json.dumps(BYTES_PAYLOAD) + ' = "x"\n', encoding="utf-8")
        argv = ["check", "--study", str(f)]
    code, raw = _pty_run(argv, tmp_path)
    assert code == 3, raw
    assert data_escapes(raw) == []
    # what stays on the screen: each line as the terminal leaves it after its carriage returns
    # (a progress line is overwritten, then cleared before the error)
    shown = [ln.rsplit(b"\r", 1)[-1] for ln in raw.replace(b"\r\n", b"\n").split(b"\n")]
    assert len([ln for ln in shown if ln.strip()]) == 1, raw


def test_notifications_and_clipboard_are_inert_in_the_app(byte_study, tmp_path, monkeypatch):
    """Pilot: the copy notification names the subject, the clipboard holds the briefing; both
    through svtui.safe (InertOutput), whatever the screen passed."""
    from hotspot.analysis import Params
    from svtui.app import SvtuiApp

    monkeypatch.chdir(tmp_path)
    app = SvtuiApp(byte_study.spec(), params=Params(permutations=0), animations=False)

    async def go():
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot, rounds=400)
            await app.switch_mode("briefing")
            await settle(pilot)
            await pilot.press("c")
            await settle(pilot)
            app.notify("Raw " + BYTES_PAYLOAD, title="T " + BYTES_PAYLOAD)  # any caller, any text
            await pilot.pause()

    asyncio.run(go())
    notes = [(str(n.title), str(n.message)) for n in app._notifications]
    assert any("Copied the briefing" in m for _, m in notes), notes
    for title, message in notes:
        assert not unsafe(title) and not unsafe(message.replace("\n", " ")), (title, message)
    assert app.clipboard and not unsafe(app.clipboard.replace("\n", " ").replace("\t", " "))
