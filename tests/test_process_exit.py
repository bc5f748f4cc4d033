"""The process entry point (`svtui.cli.run`) ends a command without tearing the interpreter down:
what the command wrote must still all arrive, exit codes must be the command's, and what was
registered to run at exit (temporary folders, logging) must still run."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(ROOT)})


def test_a_long_output_arrives_whole_and_exit_handlers_run(tmp_path):
    flag = tmp_path / "atexit-ran"
    r = _run(
        "import atexit, sys, tempfile\n"
        f"atexit.register(lambda: open({str(flag)!r}, 'w').write('yes'))\n"
        "kept = tempfile.TemporaryDirectory()\n"  # removed at exit by its finaliser
        f"open({str(tmp_path / 'tmpdir')!r}, 'w').write(kept.name)\n"
        "sys.argv = ['svtui', 'hotspots', '--json']\n"
        "from svtui.cli import run\n"
        "run()\n"
        "print('not reached')\n",
        tmp_path)
    assert r.returncode == 0, r.stderr[-800:]
    out = json.loads(r.stdout)  # the whole object: nothing lost in a buffer
    assert len(out["rows"]) > 10 and "not reached" not in r.stdout
    assert flag.read_text() == "yes"
    assert not Path((tmp_path / "tmpdir").read_text()).exists()


def test_a_failing_command_keeps_its_exit_code_and_one_line(tmp_path):
    r = _run("import sys\nsys.argv = ['svtui', 'check', '--crimes', 'no/such/folder']\n"
             "from svtui.cli import run\nrun()\n", tmp_path)
    assert r.returncode == 3, (r.returncode, r.stderr)  # 3: a source cannot be read
    assert r.stderr.count("\n") == 1 and "no/such/folder" in r.stderr


def test_a_usage_error_exits_2(tmp_path):
    r = _run("import sys\nsys.argv = ['svtui', 'hotspots', '--from', '2024-13']\n"
             "from svtui.cli import run\nrun()\n", tmp_path)
    assert r.returncode == 2 and r.stdout == ""
