"""The grading service (``python -m course serve``) as the instructor starts it, for the tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course.course_dir import REPO, nbgrader_env


class Service:
    """``python -m course serve`` on a course folder, as the instructor starts it."""

    def __init__(self, course, log: Path | None = None):
        """``log``: where the service writes, emptied first (a restart appends to it)."""
        self.course, self.log = course, log or course.root / "service.log"
        self.log.unlink(missing_ok=True)
        self.process = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "course", "serve", "--jobs", "2", "--course",
                                             str(self.course.root)], cwd=REPO, env=nbgrader_env(),
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for("grading service ready", 180)

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def wait_for(self, needle: str, timeout: float, count: int = 1) -> None:
        deadline = time.time() + timeout
        while self.text().count(needle) < count:
            if self.process.poll() is not None:
                pytest.fail(f"the service stopped (exit {self.process.returncode}):\n{self.text()[-3000:]}")
            if time.time() > deadline:
                pytest.fail(f"no {needle!r} in the service's log after {timeout} s:\n{self.text()[-3000:]}")
            time.sleep(0.1)

    def stop(self, sig=signal.SIGINT, group: bool = False) -> None:
        """Send ``sig`` to the service (``group``: and its workers, as Ctrl-C in its terminal does) and wait."""
        if self.process and self.process.poll() is None:
            if group:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
            try:
                self.process.wait(120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
