"""Grading a class in parallel: worker processes, each running nbgrader's autograde in-process.

Each submission is graded exactly once per run, by one worker, in a fresh sandboxed kernel of
its own (no state crosses from one submission to the next). Each worker keeps a kernel pool
(``autograders.sandbox.pool``): its kernels are forked, torch already imported, by a zygote in a
sandbox that is cleared between submissions, instead of each starting Python afresh. A rerun skips submissions whose
files, source notebook and config are unchanged since they were last graded (resumable). The
gradebook is nbgrader's: SQLite by default (short write transactions, serialised by SQLite's
lock), or PostgreSQL through ``db_url``.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .pipeline import Course, nbgrader_env, source_notebook

STAMPS = Path(".grading_cache") / "stamps"


@dataclass
class GradingRun:
    chapter: str
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged since last graded
    failed: list[str] = field(default_factory=list)   # nbgrader gave up; graded as empty copies
    pooled_kernels: int = 0  # kernels forked by the workers' kernel pools
    pools_started: int = 0   # one per worker, and one for each pool a kernel broke
    seconds: float = 0.0


def fingerprint(course: Course, chapter: str, student: str) -> str:
    """What a grade depends on: the submission's files, the source notebook and the config."""
    digest = hashlib.sha256()
    folder = course.root / "submitted" / student / chapter
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    digest.update(source_notebook(chapter, course.root).read_bytes())
    digest.update((course.root / "nbgrader_config.py").read_bytes())
    return digest.hexdigest()


def _stamp(course: Course, chapter: str, student: str) -> Path:
    return course.root / STAMPS / chapter / student


def is_current(course: Course, chapter: str, student: str) -> bool:
    stamp = _stamp(course, chapter, student)
    return ((course.root / "autograded" / student / chapter).is_dir() and stamp.is_file()
            and stamp.read_text() == fingerprint(course, chapter, student))


def mark_graded(course: Course, chapter: str, student: str) -> None:
    stamp = _stamp(course, chapter, student)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint(course, chapter, student))


def warm_reference(course: Course, chapter: str) -> None:
    """Observe the reference once, before the workers start, so they share one cached run."""
    from autograders.execute import SandboxedExecute
    from autograders.reference import grading_seed, reference_reports

    config = course.config()
    notebook = source_notebook(chapter, course.root)
    seed = grading_seed(course.root, chapter, notebook.stem)
    reference_reports(course.root, notebook, seed, SandboxedExecute(config=config).preprocess)


class Worker:
    """One grading process, fed one student at a time over a pipe."""

    def __init__(self, course: Course, chapter: str, kernel_pool: bool):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "course.grading", str(course.root), chapter,
             "pool" if kernel_pool else "no-pool"], cwd=course.root,
            env=nbgrader_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1)
        self.student: str | None = None

    def give(self, student: str) -> None:
        self.student = student
        self.process.stdin.write(student + "\n")
        self.process.stdin.flush()

    def result(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            return {"student": self.student, "success": False, "error": "the grading process died"}
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def grade_in_parallel(course: Course, chapter: str, students: list[str], jobs: int, on_done,
                      kernel_pool: bool = True) -> dict[str, dict]:
    """Grade ``students`` with ``jobs`` workers; ``on_done(result)`` after each; results by student."""
    import selectors

    queue = list(students)
    workers = [Worker(course, chapter, kernel_pool) for _ in range(max(1, min(jobs, len(queue))))]
    results = {}
    selector = selectors.DefaultSelector()
    try:
        for worker in workers:
            if queue:
                worker.give(queue.pop(0))
                selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
        while len(results) < len(students):
            for key, _ in selector.select():
                worker = key.data
                result = worker.result()
                results[result["student"]] = result
                on_done(result)
                if queue:
                    worker.give(queue.pop(0))
                elif result["student"] == worker.student:
                    selector.unregister(worker.process.stdout)
    finally:
        for worker in workers:
            worker.close()
    return results


def grade_chapter(course: Course, chapter: str, jobs: int | None = None, resume: bool = True,
                  progress: Progress | None = None, kernel_pool: bool = True) -> GradingRun:
    """Grade every submission of ``chapter`` (intake already done), in parallel and resumably."""
    from .operations import grade_despite_failure

    start = time.monotonic()
    run = GradingRun(chapter)
    submitted = sorted(p.parent.name for p in (course.root / "submitted").glob(f"*/{chapter}"))
    run.skipped = [s for s in submitted if resume and is_current(course, chapter, s)]
    pending = [s for s in submitted if s not in run.skipped]
    if pending:
        warm_reference(course, chapter)
        owned = progress is None
        progress = progress or Progress(TextColumn("{task.description:24s}"), BarColumn(), MofNCompleteColumn(),
                                        TimeRemainingColumn(), transient=True)
        task = progress.add_task(f"autograde {chapter}", total=len(pending))
        with progress if owned else nullcontext():
            results = grade_in_parallel(course, chapter, pending, jobs or os.cpu_count() or 1,
                                        lambda result: progress.advance(task), kernel_pool)
        run.pooled_kernels = sum(result.get("pooled_kernels", 0) for result in results.values())
        run.pools_started = sum(result.get("pools_started", 0) for result in results.values())
        for student in pending:
            if not results.get(student, {}).get("success"):
                run.failed.append(student)
                grade_despite_failure(course, chapter, student)
            mark_graded(course, chapter, student)
            run.graded.append(student)
    run.seconds = time.monotonic() - start
    return run


def worker_main(root: str, chapter: str, pool: str = "pool") -> int:
    """A worker: grade each student id read from stdin; one JSON line per result on stdout."""
    from nbgrader.apps.api import NbGraderAPI

    from autograders.sandbox.pool import KernelPool

    os.chdir(root)
    api = NbGraderAPI(config=Course(Path(root)).config())
    with KernelPool() if pool == "pool" else nullcontext() as kernels:
        for line in sys.stdin:
            student = line.strip()
            if kernels is not None:
                served, started = kernels.kernels_served, kernels.pools_started
                kernels.ready()
            result = api.autograde(chapter, student, force=True, create=True)
            if kernels is not None:
                kernels.ready()  # cleared for the next submission, or replaced
            print(json.dumps({"student": student, "success": bool(result.get("success")),
                              "error": (result.get("error") or "")[-2000:],
                              "pooled_kernels": kernels.kernels_served - served if kernels else 0,
                              "pools_started": kernels.pools_started - started if kernels else 0}),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(*sys.argv[1:4]))
