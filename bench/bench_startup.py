"""Cold start of the workbench: `python -m svtui` to its first screen, and to a loaded study.

Run:  python bench/bench_startup.py [--runs 5] [--size 120x40] [-- extra svtui args]

Each run starts a fresh Python process on a pseudo-terminal (as an analyst's SSH session
would), reads what it draws, and times:

  first screen  the screen bar ("1 Overview ... 6 Data") is on the terminal: the workbench is
                up and showing load progress (the study loads in a worker after this paint);
  loaded        the overview shows the analysis ("serious incidents · ..."): the study has
                been read, prepared and analysed;
  csp table     the overview's CSP table shows its rows: on the screen as the terminal shows
                it, the lines between the "Community Safety Partnerships" heading and the next
                heading hold at least three of the study's CSP names (all of them when it has
                fewer; names read from the sample's areas file, or --csp NAME ...). Read off
                the screen, not the byte stream: a CSP name drawn elsewhere (the top hotspots'
                CSP column) does not count;
  quit          from pressing q to the process ending.

Issue 14's targets on the sample: first screen (the loading badge) within 0.5 s, CSP table
within 1.5 s. With --reference, each run is preceded by a `python -c "import polars"` process,
and the medians are also given as a ratio to its median (the machine is shared, so compare
ratios between runs, not seconds). Prints the median and the worst of each; exits 1 if the
median first screen is over --budget seconds.
Not a test: run it by hand.
"""
from __future__ import annotations

import argparse
import codecs
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import termios
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIRST = ("Overview", "Hotspots", "Briefing")
LOADED = "serious incidents ·"
CSP_HEADING = "Community Safety Partnerships"
NEXT_HEADING = "Serious Violence Duty measures"
TOKEN = re.compile(r"(\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[P^_][^\x1b]*\x1b\\|\x1b.)")
COMPLETE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[P^_][^\x1b]*\x1b\\|[^\[\]P^_])")
CUP = re.compile(r"\x1b\[(\d*)(?:;(\d*))?H")


class Screen:
    """Just enough of a terminal to read what Textual draws: cursor moves (CUP), CR, LF and
    text; colours and modes are ignored. Bytes are fed as they arrive (an escape sequence split
    between two reads is kept for the next)."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.cells = [[" "] * cols for _ in range(rows)]
        self.y = self.x = 0
        self.pending = ""

    def feed(self, text: str) -> None:
        text = self.pending + text
        cut = text.rfind("\x1b")
        if cut >= 0 and not COMPLETE.match(text, cut):  # an unfinished escape sequence: wait for the rest
            text, self.pending = text[:cut], text[cut:]
        else:
            self.pending = ""
        for part in TOKEN.split(text):
            if not part:
                continue
            if part[0] == "\x1b":
                m = CUP.fullmatch(part)
                if m:
                    self.y = max(0, int(m.group(1) or 1) - 1)
                    self.x = max(0, int(m.group(2) or 1) - 1)
                continue
            for ch in part:
                if ch == "\r":
                    self.x = 0
                elif ch == "\n":
                    self.y += 1
                elif ch >= " ":
                    if 0 <= self.y < self.rows and 0 <= self.x < self.cols:
                        self.cells[self.y][self.x] = ch
                    self.x += 2 if unicodedata.east_asian_width(ch) in "WF" else 1

    def lines(self) -> list[str]:
        return ["".join(row) for row in self.cells]


def csp_rows_shown(lines: list[str], csps: list[str], want: int) -> bool:
    """At least `want` CSP names on the lines under the CSP heading (up to the next heading)."""
    for i, line in enumerate(lines):
        if CSP_HEADING in line:
            below = []
            for later in lines[i + 1:]:
                if NEXT_HEADING in later:
                    break
                below.append(later)
            block = "\n".join(below)
            return sum(name in block for name in csps) >= want
    return False


def sample_csp_names() -> list[str]:
    """The sample study's CSP names (csp24_name in its areas file); [] when not generated."""
    import json

    path = REPO / "sample_data" / "study" / "areas.geojson"
    try:
        feats = json.loads(path.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError):
        return []
    return sorted({f["properties"].get("csp24_name") for f in feats} - {None, ""})


def one_run(args: list[str], cols: int, rows: int, timeout: float, csps: list[str] = ()) -> dict:
    env = dict(os.environ, TERM=os.environ.get("TERM", "xterm-256color"), COLUMNS=str(cols), LINES=str(rows))
    env.pop("NO_COLOR", None)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.chdir(REPO)
        os.execvpe(sys.executable, [sys.executable, "-m", "svtui", *args], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    screen = Screen(cols, rows)
    seen: dict[str, float] = {}
    deadline = t0 + timeout
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        want_csp = min(3, len(csps))
        while time.perf_counter() < deadline and not ("loaded" in seen and ("csp" in seen or not want_csp)):
            r, _, _ = select.select([fd], [], [], 0.02)
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen.feed(decoder.decode(chunk))
            lines = screen.lines()
            text = "\n".join(lines)
            now = time.perf_counter() - t0
            if "first" not in seen and all(w in text for w in FIRST):
                seen["first"] = now
            if "first" in seen and LOADED in text and "loaded" not in seen:
                seen["loaded"] = now
            if want_csp and "csp" not in seen and csp_rows_shown(lines, csps, want_csp):
                seen["csp"] = now
            if "Could not load the study" in text:
                seen["error"] = now
                break
        tq = time.perf_counter()
        os.write(fd, b"q")
        end = tq + 10
        while time.perf_counter() < end:
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                seen["quit"] = time.perf_counter() - tq
                break
            r, _, _ = select.select([fd], [], [], 0.02)
            if r:
                try:
                    os.read(fd, 65536)
                except OSError:
                    pass
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return seen


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--size", default="120x40", help="terminal COLSxROWS (default 120x40)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--budget", type=float, default=1.5, help="seconds allowed to the first screen (median)")
    p.add_argument("--csp", nargs="*", help="CSP names to wait for (default: the sample study's)")
    p.add_argument("--reference", action="store_true", help='time `python -c "import polars"` before each run')
    p.add_argument("svtui_args", nargs="*", help="arguments for svtui (after --); none = the sample study")
    a = p.parse_args(argv)
    cols, rows = (int(v) for v in a.size.lower().split("x"))
    csps = a.csp if a.csp is not None else (sample_csp_names() if not a.svtui_args else [])
    results, refs = [], []
    for i in range(a.runs):
        if a.reference:
            import subprocess

            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import polars"], check=True)
            refs.append(time.perf_counter() - t)
        r = one_run(a.svtui_args, cols, rows, a.timeout, csps)
        results.append(r)
        parts = [f"{k} {v:.2f} s" for k, v in r.items()]
        print(f"run {i + 1}: " + (", ".join(parts) or "nothing drawn"), flush=True)
    firsts = [r["first"] for r in results if "first" in r]
    loads = [r["loaded"] for r in results if "loaded" in r]
    quits = [r["quit"] for r in results if "quit" in r]
    tables = [r["csp"] for r in results if "csp" in r]
    ref = statistics.median(refs) if refs else None

    def rel(v: float) -> str:
        return f" ({v / ref:.1f}x `import polars`, {ref:.2f} s)" if ref else ""

    if not firsts:
        print("the workbench never drew its first screen")
        return 1
    print(f"first screen: median {statistics.median(firsts):.2f} s, worst {max(firsts):.2f} s ({len(firsts)}/{a.runs} runs)"
          + rel(statistics.median(firsts)))
    if tables:
        print(f"csp table:    median {statistics.median(tables):.2f} s, worst {max(tables):.2f} s ({len(tables)}/{a.runs} runs)"
              + rel(statistics.median(tables)))
    if loads:
        print(f"loaded:       median {statistics.median(loads):.2f} s, worst {max(loads):.2f} s" + rel(statistics.median(loads)))
    if quits:
        print(f"quit:         median {statistics.median(quits):.2f} s, worst {max(quits):.2f} s")
    ok = statistics.median(firsts) <= a.budget
    print(f"budget {a.budget:.2f} s to the first screen: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
