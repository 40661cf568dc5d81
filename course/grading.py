"""Grading a class in parallel: the run's scheduler, ``Crew``, hands tasks to worker processes,
each running nbgrader's autograde in-process (``course.worker``, over ``course.worker_pipe``).

Each submission is graded once per run, by one worker (by a second one only if the first died
in the middle), in a fresh sandboxed kernel of its own (no state crosses from one submission to
the next). The workers serve every assignment of the run, and each keeps a kernel pool
(``autograders.sandbox.pool``): its kernels are forked, torch already imported, by a zygote in a
sandbox that is cleared between submissions, instead of each starting Python afresh. A rerun
skips submissions whose files, source notebook and config are unchanged since they were last
graded (``course.stamps``). The gradebook is nbgrader's: SQLite by default (short write
transactions, serialised by SQLite's lock), or PostgreSQL through ``db_url``.
"""
from __future__ import annotations

import os
import selectors
from contextlib import nullcontext
from dataclasses import dataclass, field

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from traitlets import Integer
from traitlets.config import Configurable

from .course_dir import Course, PipelineError
from .report.records import record_grading
from .stamps import is_current, mark_graded
from .worker_pipe import WORKER_DIED, Task, Worker, WorkerResult


class ParallelGrading(Configurable):
    """How many worker processes grade a class (``c.ParallelGrading`` in nbgrader_config.py)."""

    jobs = Integer(
        0, min=0,
        help="Worker processes that grade side by side, each one submission at a time in kernels of its "
        "own; 0: one per CPU core. `make autograde JOBS=n` (--jobs n) overrides it for one run.").tag(config=True)

    @property
    def workers(self) -> int:
        return self.jobs or os.cpu_count() or 1


@dataclass
class GradingRun:
    assignment: str
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged since last graded
    failed: list[str] = field(default_factory=list)   # nbgrader gave up on them; graded as empty copies
    seconds: float = 0.0      # the workers' time on this assignment (they grade assignments side by side)
    pooled_kernels: int = 0  # kernels forked by the workers' kernel pools
    pools_started: int = 0   # one per worker, and one for each pool a kernel broke


class Crew:
    """The worker processes of one grading run. They can start before their tasks are known: each
    imports nbgrader and warms its kernel pool (seconds of CPU) while the parent is still checking
    the configuration and taking the submissions in."""

    def __init__(self, course: Course, jobs: int, kernel_pool: bool = True):
        self.course, self.kernel_pool = course, kernel_pool
        self.selector = selectors.DefaultSelector()
        self.workers: list[Worker] = []
        self.idle: list[Worker] = []
        count = max(1, jobs)
        self.replacements = count  # a worker that cannot live is not started again and again
        for _ in range(count):
            self._start_worker()

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        self.close(abort=kind is not None)

    def _start_worker(self) -> None:
        worker = Worker(self.course, self.kernel_pool)
        self.workers.append(worker)
        self.idle.append(worker)
        self.selector.register(worker.process.stdout, selectors.EVENT_READ, worker)

    def run(self, tasks: list[Task], on_done) -> dict[Task, WorkerResult]:
        """Run ``tasks``; ``on_done(task, result)`` after each. An assignment's submissions wait until
        a worker has observed its reference, so that no two workers run it, and are dropped when
        it could not be observed (each would fail the same way). A task whose worker died is
        given once more, to another worker; a dead worker is replaced, up to as many times as
        the crew has workers."""
        pending = list(tasks)
        observing = {task.assignment for task in tasks if task.student is None}
        results: dict[Task, WorkerResult] = {}
        retried: set[Task] = set()

        def finish(task: Task, result: WorkerResult) -> None:
            nonlocal pending
            results[task] = result
            on_done(task, result)
            if task.student is None:
                observing.discard(task.assignment)
                if not result.success:
                    pending = [t for t in pending if t.assignment != task.assignment]

        while True:
            while self.idle and (task := next(
                    (t for t in pending if t.student is None or t.assignment not in observing), None)):
                pending.remove(task)
                self.idle.pop().give(task)
            if not any(worker.task for worker in self.workers):
                break
            for key, _ in self.selector.select():
                worker = key.data
                task, result = worker.result()
                if not worker.dead:
                    self.idle.append(worker)
                    finish(task, result)
                    continue
                self._replace_dead(worker)
                if task is None:
                    continue
                if task not in retried and self.workers:
                    retried.add(task)
                    pending.insert(0, task)
                else:
                    finish(task, WorkerResult.died(f"{WORKER_DIED}, twice" if task in retried else WORKER_DIED))
        while pending:  # left when every worker died
            finish(pending.pop(0), WorkerResult.died("every grading process died"))
        return results

    def _replace_dead(self, worker: Worker) -> None:
        """A worker died: forget it, and start another while replacements are left."""
        self.selector.unregister(worker.process.stdout)
        self.workers.remove(worker)
        if worker in self.idle:  # it died between tasks
            self.idle.remove(worker)
        worker.close()
        worker.wait()
        if self.replacements:
            self.replacements -= 1
            self._start_worker()

    def close(self, abort: bool = False) -> None:
        """No more tasks: each worker ends once its kernel pool is down. ``abort`` (the run
        failed): a worker still busy, or still starting, is stopped rather than waited for."""
        for worker in self.workers:
            if worker.task is not None:
                worker.process.kill()
            elif abort:
                worker.process.terminate()  # it closes its kernel pool and ends
            worker.close()
        for worker in self.workers:
            worker.wait()
        self.selector.close()


def run_tasks(course: Course, tasks: list[Task], jobs: int, on_done,
              kernel_pool: bool = True) -> dict[Task, WorkerResult]:
    """Run ``tasks`` on at most ``jobs`` new workers (``Crew.run``)."""
    with Crew(course, min(jobs, len(tasks)), kernel_pool) as crew:
        return crew.run(tasks, on_done)


def submitted_students(course: Course, assignment: str) -> list[str]:
    return sorted(p.parent.name for p in (course.root / "submitted").glob(f"*/{assignment}"))


def work_expected(course: Course, assignments: list[str], resume: bool) -> bool:
    """Whether grading ``assignments`` will likely give the workers something to do, judged
    before intake (which changes no submission it has already taken in)."""
    return not resume or not all(is_current(course, assignment, student) for assignment in assignments
                                 for student in submitted_students(course, assignment))


def grade_assignments(course: Course, assignments: list[str], jobs: int | None = None, resume: bool = True,
                      progress: Progress | None = None, kernel_pool: bool = True,
                      crew: Crew | None = None) -> list[GradingRun]:
    """Grade every submission of ``assignments`` (intake already done), in parallel and
    resumably: one set of workers for all of them (``crew`` when started already), each
    assignment's reference observed once first."""
    runs = {assignment: GradingRun(assignment) for assignment in assignments}
    observations, gradings = [], []
    for assignment, run in runs.items():
        submitted = submitted_students(course, assignment)
        run.skipped = [s for s in submitted if resume and is_current(course, assignment, s)]
        pending = [s for s in submitted if s not in run.skipped]
        if pending:
            observations.append(Task(assignment))
            gradings += [Task(assignment, student) for student in pending]
    # every reference first, so that no assignment's submissions wait for theirs while a worker is idle
    tasks = observations + gradings
    if not tasks:
        return list(runs.values())
    owned = progress is None
    progress = progress or Progress(TextColumn("{task.description:24s}"), BarColumn(), MofNCompleteColumn(),
                                    TimeRemainingColumn(), transient=True)
    bar = progress.add_task("autograde", total=sum(task.student is not None for task in tasks))

    def on_done(task: Task, result: WorkerResult) -> None:
        run = runs[task.assignment]
        run.seconds += result.seconds  # 0 when the worker died
        run.pooled_kernels += result.pooled_kernels
        run.pools_started += result.pools_started
        if task.student is not None:
            if result.success:  # the worker's time on it, for the instructor's report
                record_grading(course.root, task.assignment, task.student, result.seconds, result.replaced, result.error)
            progress.advance(bar)

    with progress if owned else nullcontext():
        if crew is not None:
            results = crew.run(tasks, on_done)
        else:
            results = run_tasks(course, tasks, jobs or ParallelGrading().workers, on_done, kernel_pool)
    unobserved, ungraded = [], []
    for task, result in results.items():
        if task.student is None:
            if not result.success:
                unobserved.append(f"{task.assignment}: {result.error}")
            continue
        if not result.success:
            ungraded.append(f"{task.student}/{task.assignment}: {result.error}")
            continue
        run = runs[task.assignment]
        if result.replaced:
            run.failed.append(task.student)
        mark_graded(course, task.assignment, task.student)
        run.graded.append(task.student)
    if unobserved:
        raise PipelineError("no submission of these chapters was graded, because their reference could "
                            "not be observed:\n  " + "\n  ".join(unobserved))
    if ungraded:
        raise PipelineError("these submissions could not be graded, not even as empty copies (the others "
                            "were; run autograde again to retry these):\n  " + "\n  ".join(ungraded))
    return list(runs.values())
