"""Smoke test in a real terminal: `python -m svtui` inside tmux (skipped without tmux).

Starts the Quick start's first command (the workbench on the sample study), reads the screen
with `tmux capture-pane`, moves to the hotspot table, and quits with q. A second run checks
that a hang-up (the SSH connection dropping: SIGHUP) stops the process instead of leaving it
spinning.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def _sample_exists() -> bool:
    return (REPO / "sample_data" / "study" / "study.toml").exists()


class Tmux:
    def __init__(self, cols: int = 100, rows: int = 30) -> None:
        self.name = f"svtui-test-{uuid.uuid4().hex[:8]}"
        self.socket = f"svtui-test-{os.getpid()}"
        self.cols, self.rows = cols, rows

    def run(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        if check and out.returncode != 0:
            raise RuntimeError(out.stderr)
        return out.stdout

    def start(self, command: str) -> None:
        env = f"PYTHONPATH={REPO} TERM=xterm-256color"
        self.run("new-session", "-d", "-s", self.name, "-x", str(self.cols), "-y", str(self.rows), f"cd {REPO} && env {env} {command}")
        self.run("set-option", "-t", self.name, "remain-on-exit", "on", check=False)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name, check=False)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def wait_for(self, text: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear within {timeout} s; the screen was:\n{screen}")

    def kill(self) -> None:
        self.run("kill-server", check=False)


@pytest.fixture
def tmux():
    t = Tmux()
    yield t
    t.kill()


@pytest.mark.skipif(not _sample_exists(), reason="sample study not generated")
def test_workbench_opens_on_the_sample_study_and_quits(tmux, tmp_path):
    marker = tmp_path / "exit-code"
    tmux.start(f"{sys.executable} -m svtui; echo $? > {marker}")
    first = tmux.wait_for("1 Overview", timeout=30)
    assert "SYNTHETIC" in first
    tmux.wait_for("serious incidents ·", timeout=120)
    screen = tmux.wait_for("North Worcestershire", timeout=60)  # the CSP table, from the engine
    assert "Community Safety Partnerships" in screen
    tmux.keys("3")
    screen = tmux.wait_for("rows 1–", timeout=30)
    assert "Hotspot" in screen and "Where" in screen
    tmux.keys("?")
    tmux.wait_for("svtui keys", timeout=10)
    tmux.keys("Escape")
    time.sleep(0.5)
    tmux.keys("q")
    end = time.monotonic() + 20
    while time.monotonic() < end and not marker.exists():
        time.sleep(0.2)
    assert marker.exists(), "the workbench did not exit on q:\n" + tmux.screen()
    assert marker.read_text().strip() == "0"


@pytest.mark.skipif(not _sample_exists(), reason="sample study not generated")
def test_hangup_stops_the_workbench(tmux, tmp_path):
    pidfile = tmp_path / "pid"
    tmux.start(f"sh -c 'echo $$ > {pidfile}; exec {sys.executable} -m svtui'")
    tmux.wait_for("1 Overview", timeout=30)
    pid = int(pidfile.read_text().strip())
    os.kill(pid, signal.SIGHUP)
    end = time.monotonic() + 10
    gone = False
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            gone = True
            break
        # a zombie (exited, not yet reaped by tmux) counts as stopped
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
            if state == "Z":
                gone = True
                break
        except OSError:
            gone = True
            break
        time.sleep(0.1)
    assert gone, "svtui kept running after SIGHUP"
