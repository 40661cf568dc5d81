"""`make bench`: grade one synthetic class with stock serial nbgrader and with the course's
parallel grading, in one run, and print the figures side by side (never a timed test)."""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import nbformat
from rich.console import Console
from rich.table import Table

from autograders.bank import in_process_probes, run_cell_in_process
from autograders.reference import course_secret

from . import operations
from .classroom import RECIPES, load_assignment
from .intake import intake
from .course_dir import REPO, Course, assignments as course_assignments

STUDENTS_PER_RECIPE = 2


class MemoryPeak:
    """The machine's peak memory in use above the baseline, sampled from /proc/meminfo."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()

    @staticmethod
    def _available() -> int:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
        return 0

    def __enter__(self):
        self.baseline = self._available()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.baseline - self._available())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def build_class(course: Course, assignments: list[str]) -> list[str]:
    """Submissions of the demo's mix of answers, each recipe several times, placed as collected."""
    loaded = {ch: load_assignment(ch, course.root / "release") for ch in assignments}
    students = []
    for copy in range(STUDENTS_PER_RECIPE):
        for recipe, make in RECIPES.items():
            student = f"{recipe}_{copy}"
            students.append(student)
            for index, assignment in enumerate(assignments):
                text = make(loaded[assignment], index)
                if text is not None:
                    folder = course.root / "submitted" / student / assignment
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / f"{course.notebook_name(assignment)}.ipynb").write_text(text)
    for assignment in assignments:
        intake(course.root, assignment, course.notebook_names(assignment))
    return students


def share_grading_secret(source: Course, target: Course) -> None:
    """Give ``target`` the grading secret of ``source``: each submission then meets the same
    hidden inputs in both, as it must for their scores to be comparable (a wrong answer can
    pass for some inputs, such as a lazy layer that is right only when two widths drawn from
    the seed are equal)."""
    secret = course_secret(source.root)
    shutil.copy2(secret, target.root / secret.name)


def notebooks_of(course: Course) -> list[Path]:
    return sorted((course.root / "submitted").glob("*/*/*.ipynb"))


def floor_seconds(notebooks: list[Path]) -> float:
    """The same cells executed in one already-running Python process: the cost of the code alone."""
    import matplotlib

    matplotlib.use("Agg")
    import torch  # noqa: F401 - imported once, as a warm kernel would have it

    start = time.monotonic()
    with in_process_probes(mode="grade"):
        for path in notebooks:
            namespace: dict = {"__name__": "__main__"}
            cwd = os.getcwd()
            os.chdir(path.parent)
            try:
                for cell in nbformat.read(path, as_version=4).cells:
                    if cell.cell_type != "code":
                        continue
                    run_cell_in_process(cell.source, namespace, str(path))  # an error is part of the work
            finally:
                os.chdir(cwd)
    return time.monotonic() - start


def run_bench(assignments: list[str] | None = None, jobs: int | None = None) -> dict:
    assignments = assignments or course_assignments()
    jobs = jobs or os.cpu_count() or 1
    stock = Course.create(REPO / "bench" / "stock", assignments)
    ours = Course.create(REPO / "bench" / "course", assignments)
    share_grading_secret(stock, ours)
    for course in (stock, ours):
        operations.generate(course)
        build_class(course, assignments)
    notebooks = notebooks_of(ours)

    with MemoryPeak() as stock_memory:
        start = time.monotonic()
        for assignment in assignments:
            stock.nbgrader("autograde", assignment)
        stock_seconds = time.monotonic() - start
    with MemoryPeak() as our_memory:
        start = time.monotonic()
        operations.autograde(ours, jobs=jobs, resume=False)
        our_seconds = time.monotonic() - start
    floor = floor_seconds(notebooks)
    same = all(stock.scores(ch) == ours.scores(ch) for ch in assignments)
    return {"notebooks": len(notebooks), "jobs": jobs, "stock_s": stock_seconds, "ours_s": our_seconds,
            "floor_s": floor, "stock_peak": stock_memory.peak, "ours_peak": our_memory.peak, "same_scores": same}


def main() -> int:
    figures = run_bench()
    n = figures["notebooks"]
    # the target is 1.5x the floor: two decimals, so that 1.54 does not show as 1.5
    table = Table(title=f"Grading {n} notebooks on {os.cpu_count()} cores")
    for column in ("", "wall time", "per notebook", "× floor", "peak memory"):
        table.add_column(column, justify="right")
    gib = 1024 ** 3
    floor_per = figures["floor_s"] / n
    for label, seconds, peak in [("stock nbgrader (serial)", figures["stock_s"], figures["stock_peak"]),
                                 (f"course (--jobs {figures['jobs']})", figures["ours_s"], figures["ours_peak"])]:
        table.add_row(label, f"{seconds:.1f} s", f"{seconds / n:.2f} s", f"{seconds / n / floor_per:.2f}",
                      f"{peak / gib:.2f} GiB")
    table.add_row("floor (one warm process)", f"{figures['floor_s']:.1f} s", f"{floor_per:.2f} s", "1.00", "")
    console = Console()
    console.print(table)
    console.print(f"speed-up over stock: {figures['stock_s'] / figures['ours_s']:.2f}×; "
                  f"same scores from both: {'yes' if figures['same_scores'] else 'NO'}")
    return 0 if figures["same_scores"] else 1
