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


def _warm_process() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import torch  # noqa: F401 - imported once, as a warm kernel would have it


def all_core_floor_seconds(notebooks: list[Path], processes: int) -> float:
    """The same cells on every core: the notebooks dealt out to one warm process per core, side by
    side; the wall time from the moment all are warm."""
    import multiprocessing

    chunks = [notebooks[index::processes] for index in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_warm_process) as pool:
        pool.map(abs, range(processes))  # every process started and warm
        start = time.monotonic()
        pool.map(floor_seconds, chunks)
        return time.monotonic() - start


def _trivial(job):
    return job


def engine_overhead_seconds(jobs: int, tasks: int = 400) -> float:
    """Dask's and the run's own cost per task: trivial tasks handed out one per worker, as
    submissions are (``course.dispatch``), on a local cluster like the one a run starts."""
    from .cluster import grading_client
    from .dispatch import Dispatcher

    with grading_client(jobs) as client:
        workers = set(client.scheduler_info(n_workers=-1)["workers"])
        start = time.monotonic()
        Dispatcher(lambda: workers, lambda job, worker: client.submit(_trivial, job, workers=[worker], pure=False),
                   lambda job, result, error: None).run({"trivial": [str(i) for i in range(tasks)]},
                                                        observed={"trivial"})
        return (time.monotonic() - start) / tasks


def run_bench(assignments: list[str] | None = None, jobs: int | None = None) -> dict:
    from .cluster import separate_hosts

    assignments = assignments or course_assignments()
    jobs = jobs or os.cpu_count() or 1
    stock = Course.create(REPO / "bench" / "stock", assignments)
    ours = Course.create(REPO / "bench" / "course", assignments)
    remote = Course.create(REPO / "bench" / "hosts", assignments)
    for course in (ours, remote):
        share_grading_secret(stock, course)
    for course in (stock, ours, remote):
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
    with separate_hosts(REPO / "bench" / "cluster", workers=jobs) as (address, certificates):
        with open(remote.root / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.ParallelGrading.scheduler = {address!r}\n"
                         f"c.ParallelGrading.certificates = {str(certificates)!r}\n")
        with MemoryPeak() as remote_memory:
            start = time.monotonic()
            operations.autograde(remote, resume=False)
            remote_seconds = time.monotonic() - start
    floor = floor_seconds(notebooks)
    all_core_floor = all_core_floor_seconds(notebooks, jobs)
    overhead = engine_overhead_seconds(jobs)
    same = all(stock.scores(ch) == ours.scores(ch) == remote.scores(ch) for ch in assignments)
    return {"notebooks": len(notebooks), "jobs": jobs, "stock_s": stock_seconds, "ours_s": our_seconds,
            "remote_s": remote_seconds, "floor_s": floor, "all_core_floor_s": all_core_floor,
            "overhead_s": overhead, "stock_peak": stock_memory.peak, "ours_peak": our_memory.peak,
            "remote_peak": remote_memory.peak, "same_scores": same}


def main() -> int:
    figures = run_bench()
    n = figures["notebooks"]
    # the target is 1.5x the floor: two decimals, so that 1.54 does not show as 1.5
    table = Table(title=f"Grading {n} notebooks on {os.cpu_count()} cores")
    for column in ("", "wall time", "per notebook", "× floor", "× all-core floor", "peak memory"):
        table.add_column(column, justify="right")
    gib = 1024 ** 3
    floor, all_core = figures["floor_s"], figures["all_core_floor_s"]
    jobs = figures["jobs"]
    for label, seconds, peak in [
            ("stock nbgrader (serial)", figures["stock_s"], f"{figures['stock_peak'] / gib:.2f} GiB"),
            (f"course, local cluster of {jobs}", figures["ours_s"], f"{figures['ours_peak'] / gib:.2f} GiB"),
            (f"course, scheduler + {jobs} separate workers", figures["remote_s"], f"{figures['remote_peak'] / gib:.2f} GiB"),
            ("floor (one warm process)", floor, ""),
            (f"all-core floor ({jobs} warm processes)", all_core, "")]:
        table.add_row(label, f"{seconds:.1f} s", f"{seconds / n:.2f} s", f"{seconds / floor:.2f}",
                      f"{seconds / all_core:.2f}", peak)
    console = Console()
    console.print(table)
    console.print(f"speed-up over stock: {figures['stock_s'] / figures['ours_s']:.2f}× (local cluster), "
                  f"{figures['stock_s'] / figures['remote_s']:.2f}× (separate workers); the engine's own cost per "
                  f"task: {figures['overhead_s'] * 1000:.1f} ms; same scores from all three: "
                  f"{'yes' if figures['same_scores'] else 'NO'}")
    return 0 if figures["same_scores"] else 1
