"""Whole-process wall time of svtui commands, against `python -c "import polars"` in the same run.

Run from the repository root:

  python bench/bench_commands.py                          # hotspots (West Mercia) + briefs, 3 rounds
  python bench/bench_commands.py --only hotspots-wm --rounds 5 --breakdown
  python bench/bench_commands.py --ref-tree /tmp/base     # the same commands in another checkout
  python bench/bench_commands.py --growth /tmp/fs         # 1x..8x force-scale rows (sample_data.forcescale)

Each round runs the reference process, then every command (this tree, then --ref-tree's), as
fresh processes, so imports are cold every time (as a user runs them). Both trees are
byte-compiled first (`compileall`), as an installed svtui is. Per command it prints
the median and worst wall time, median CPU seconds (user + system of the child) and the peak
resident set (the child's ru_maxrss), and `x ref`: median wall over the reference's median
wall in the same run. Two cores are shared with other people's work, so raw seconds swing;
the ratios are what to compare between runs. Not a test: it asserts nothing.

--breakdown adds, for the first command, the top imports by cumulative time
(`python -X importtime`) and the time spent in each engine step (load_study, prepare, analyse,
the printing that remains), measured by wrapping those functions in one extra process.

The West Mercia rows read ../shared/real in place (skipped when absent); nothing is copied.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "real"
WM_CRIMES = REAL / "police-uk" / "west-mercia"
WM_AREAS = REAL / "boundaries" / "lsoa21_westmercia_bsc.geojson"
REFERENCE = [sys.executable, "-c", "import polars"]


def commands(out: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (svtui args, target) for the issue-14 rows; {out} is a fresh folder per run."""
    wm = ["--crimes", str(WM_CRIMES), "--areas", str(WM_AREAS)]
    return {
        "hotspots-wm": (["hotspots", *wm], "<= 1.2 s"),
        "hotspots-sample": (["hotspots"], ""),
        "brief-sample": (["brief", "--all-csps", "--top", "10", "--out", "{out}"], "<= 10 s"),
        "brief-wm": (["brief", *wm, "--all-csps", "--top", "10", "--out", "{out}"], "<= 10 s"),
    }


def run_once(argv: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Wall, CPU and peak RSS of one child process (os.wait4's rusage is the child's own)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _pid, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "mb": ru.ru_maxrss / 1024,
            "rc": proc.returncode, "err": err.decode("utf-8", "replace")[-400:]}


def svtui_argv(args: list[str], out_root: Path) -> list[str]:
    out = Path(tempfile.mkdtemp(dir=out_root))
    shutil.rmtree(out)  # the brief command makes its own folder
    return [sys.executable, "-m", "svtui", *[a.replace("{out}", str(out)) for a in args]]


def summary(runs: list[dict]) -> tuple[float, float, float, float]:
    w = [r["wall"] for r in runs]
    return statistics.median(w), max(w), statistics.median(r["cpu"] for r in runs), max(r["mb"] for r in runs)


BREAKDOWN = r"""
import sys, time
t0 = time.perf_counter()
times = {}
import svtui  # first, as in a real run: it sets NumPy's allocation policy before NumPy loads
import geodata.study, hotspot.analysis
t_imp = time.perf_counter() - t0
def wrap(mod, name, label):
    f = getattr(mod, name)
    def w(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            times[label] = times.get(label, 0.0) + time.perf_counter() - t
    for m in list(sys.modules.values()):
        if getattr(m, name, None) is f:
            setattr(m, name, w)
wrap(geodata.study, "load_study", "load_study")
wrap(hotspot.analysis, "prepare", "prepare")
wrap(hotspot.analysis, "analyse", "analyse")
t1 = time.perf_counter()
import io, contextlib
from svtui.cli import main  # not `python -m svtui`: its fast exit would end this process
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
total = time.perf_counter() - t0
rest = total - t_imp - sum(times.values())
print(f"  engine imports (geodata.study, hotspot.analysis): {t_imp:6.2f} s")
for k in ("load_study", "prepare", "analyse"):
    print(f"  {k:<48}  {times.get(k, 0.0):6.2f} s")
print(f"  everything else (svtui imports, localities, print){rest:6.2f} s")
print(f"  total in process                                  {total:6.2f} s")
"""


def breakdown(args: list[str], out_root: Path) -> None:
    argv = svtui_argv(args, out_root)
    print(f"\nbreakdown of: svtui {' '.join(argv[3:])}")
    p = subprocess.run([sys.executable, "-X", "importtime", *argv[1:]], cwd=REPO,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rows = []
    for line in p.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)) // 2, m.group(4)))
    tops = [r for r in rows if r[1] <= 1]
    total = sum(r[0] for r in rows if r[1] == 0)
    print(f"  -X importtime: {total / 1e6:.2f} s of imports (top-level sum); top cumulative entries:")
    for us, depth, name in sorted(tops, reverse=True)[:12]:
        print(f"    {us / 1e6:6.3f} s  {'  ' * depth}{name}")
    heavy = ("geopandas", "pandas", "scipy.stats", "sklearn", "textual", "matplotlib", "rich", "docx", "openpyxl")
    present = [h for h in heavy if any(n == h for _, _, n in rows)]
    print(f"  heavy packages imported: {', '.join(present) or 'none'}")
    argv2 = [a for a in argv]
    q = subprocess.run([sys.executable, "-c", BREAKDOWN, *argv2[3:]], cwd=REPO, capture_output=True, text=True)
    print(q.stdout.rstrip() or q.stderr[-800:])


def compiled(tree: Path) -> None:
    """Byte-compile a tree's packages first, as `pip install` does for a user: otherwise, with
    PYTHONDONTWRITEBYTECODE set (as on the development machine) or after an edit, every run
    compiles the changed modules again and times that too."""
    dirs = [str(tree / d) for d in ("svtui", "hotspot", "geodata", "sample_data") if (tree / d).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *dirs], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", action="append", help="command name(s) to run (default: all)")
    ap.add_argument("--ref-tree", type=Path, help="another checkout: run the same commands there too")
    ap.add_argument("--breakdown", action="store_true")
    ap.add_argument("--growth", type=Path, metavar="DIR",
                    help="time `svtui hotspots` on 1x,2x,4x,8x force-scale sets made under DIR")
    ap.add_argument("--base-rows", type=int, default=100_000)
    a = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {os.cpu_count()} cores; "
          f"{a.rounds} rounds", flush=True)
    out_root = Path(tempfile.mkdtemp(prefix="svtui-bench-"))
    try:
        if a.growth:
            return growth(a, out_root)
        cmds = {k: v for k, v in commands(out_root).items() if not a.only or k in a.only}
        if not WM_CRIMES.is_dir():
            cmds = {k: v for k, v in cmds.items() if not k.endswith("-wm")}
            print("(../shared/real absent: West Mercia rows skipped)")
        trees = [("this", REPO)] + ([("ref", a.ref_tree.resolve())] if a.ref_tree else [])
        for _tname, tree in trees:
            compiled(tree)
        res: dict[tuple[str, str], list[dict]] = {}
        ref: list[dict] = []
        for i in range(a.rounds):
            ref.append(run_once(REFERENCE, REPO))
            for name, (args, _t) in cmds.items():
                for tname, tree in trees:
                    r = run_once(svtui_argv(args, out_root), tree)
                    if r["rc"] != 0:
                        print(f"  {tname} {name}: exit {r['rc']}: {r['err']}")
                    res.setdefault((name, tname), []).append(r)
            print(f"round {i + 1} done", flush=True)
        rm, rw, rc, rmb = summary(ref)
        print(f"\n{'command':<18} {'tree':<5} {'median s':>9} {'worst s':>8} {'cpu s':>7} {'peak MB':>8} "
              f"{'x ref':>6} {'vs ref-tree':>11}  target")
        print(f"{'import polars':<18} {'':<5} {rm:9.2f} {rw:8.2f} {rc:7.2f} {rmb:8.0f} {1:6.2f}")
        for name, (_args, target) in cmds.items():
            for tname, _tree in trees:
                m, w, c, mb = summary(res[(name, tname)])
                vs = ""
                if tname == "this" and a.ref_tree:
                    vs = f"{m / summary(res[(name, 'ref')])[0]:.2f}"
                print(f"{name:<18} {tname:<5} {m:9.2f} {w:8.2f} {c:7.2f} {mb:8.0f} {m / rm:6.2f} {vs:>11}  {target}")
        if a.breakdown and cmds:
            breakdown(next(iter(cmds.values()))[0], out_root)
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    return 0


def growth(a, out_root: Path) -> int:
    """`svtui hotspots` on force-scale sets of base x 1, 2, 4, 8 rows (made once under DIR)."""
    a.growth.mkdir(parents=True, exist_ok=True)
    print(f"{'rows':>10} {'median s':>9} {'cpu s':>7} {'peak MB':>8} {'x ref':>6} {'x 1x':>6}")
    base = None
    for k in (1, 2, 4, 8):
        rows = a.base_rows * k
        d = a.growth / f"fs{rows}"
        if not (d / "done").exists():
            subprocess.run([sys.executable, "-m", "sample_data.forcescale", "--out", str(d), "--rows", str(rows),
                            "--seed", "1"], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
            (d / "done").write_text("")
        crimes = next((p for p in d.iterdir() if p.is_dir()), d)
        areas = next(d.rglob("*.geojson"), None) or next(d.rglob("*.gpkg"))
        args = ["hotspots", "--crimes", str(crimes), "--areas", str(areas)]
        ref, runs = [], []
        for _ in range(a.rounds):
            ref.append(run_once(REFERENCE, REPO))
            r = run_once(svtui_argv(args, out_root), REPO)
            if r["rc"] != 0:
                print(f"  exit {r['rc']}: {r['err']}")
            runs.append(r)
        m, _w, c, mb = summary(runs)
        base = base or m
        print(f"{rows:>10,} {m:9.2f} {c:7.2f} {mb:8.0f} {m / summary(ref)[0]:6.2f} {m / base:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
