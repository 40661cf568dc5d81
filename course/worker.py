"""A grading worker: ``python -m course.worker COURSE_ROOT pool|no-pool``, started by a grading
run (``course.worker_pipe.Worker``). It reads one task a line from stdin, observes an
assignment's reference or grades a submission (``retries.RetryPolicy``), and writes one result
a line, with its kernel pool's counters so far."""
from __future__ import annotations

import gc
import os
import signal
import sys
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

from .course_dir import Course, source_notebooks
from .retries import RetryPolicy
from .worker_pipe import Task, WorkerResult


def observe_reference(course: Course, assignment: str, config) -> None:
    """Run the assignment's reference once (cached), before its submissions are judged against it."""
    from autograders.execute import SandboxedExecute
    from autograders.reference import grading_seed, reference_reports

    for notebook in source_notebooks(assignment, course.root):
        seed = grading_seed(course.root, assignment, notebook.stem)
        reference_reports(course.root, notebook, seed, SandboxedExecute(config=config).preprocess)


def run_task(task: Task, api, course: Course, config, retries: RetryPolicy) -> WorkerResult:
    """One task's result; an exception is the result's error, and the worker goes on."""
    try:
        if task.student is None:
            observe_reference(course, task.assignment, config)
            return WorkerResult(success=True)
        return retries.grade_submission(api, course, task.assignment, task.student)
    except Exception as error:  # noqa: BLE001 - the parent reports it; the worker goes on
        return WorkerResult(success=False, error=f"{type(error).__name__}: {error}"[:2000])


def worker_main(root: str, pool: str = "pool") -> int:
    """A worker: run each task read from stdin (a JSON line); one JSON line per result on
    stdout, with the worker's kernel pool counters so far."""
    from nbgrader.apps.api import NbGraderAPI

    from autograders.sandbox.config import SandboxSettings
    from autograders.sandbox.pool import KernelPool

    # Results go to the parent on a private copy of stdout; the kernels and pools this process
    # starts inherit /dev/null instead, so that the parent sees the pipe close when it dies.
    results = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    # stopped (the run failed before it had work for this worker): close the kernel pool on the way out
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    os.chdir(root)
    course = Course(Path(root))
    config = course.config()
    api = NbGraderAPI(config=config)
    retries = RetryPolicy(config=config)
    # nbgrader, nbconvert and SQLAlchemy, imported, are kept for good: frozen, the full garbage
    # collections that grading's churn sets off no longer walk them
    gc.freeze()
    # the pool's sandbox has the limits the configuration gives the kernels it forks
    sandbox = SandboxSettings(config=config)
    with KernelPool(sandbox=sandbox) if pool == "pool" else nullcontext() as kernels:
        if kernels is not None:
            kernels.ready()  # warm while the first task is on its way; then after each task
        for line in sys.stdin:
            start = time.monotonic()
            result = run_task(Task.from_json(line), api, course, config, retries)
            if kernels is not None:
                kernels.ready()  # cleared for the next submission, or replaced
            counted = replace(result, seconds=time.monotonic() - start,
                              pooled_kernels=kernels.kernels_served if kernels else 0,
                              pools_started=kernels.pools_started if kernels else 0)
            print(counted.to_json(), file=results)
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(*sys.argv[1:3]))
