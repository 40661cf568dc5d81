"""Grading a class in parallel: worker processes, each running nbgrader's autograde in-process.

Each submission is graded once per run, by one worker (by a second one only if the first died
in the middle), in a fresh sandboxed kernel of its own (no state crosses from one submission to
the next). The workers serve every chapter of the run, and each keeps a kernel pool
(``autograders.sandbox.pool``): its kernels are forked, torch already imported, by a zygote in a
sandbox that is cleared between submissions, instead of each starting Python afresh. A rerun
skips submissions whose files, source notebook and config are unchanged since they were last
graded (resumable). The gradebook is nbgrader's: SQLite by default (short write transactions,
serialised by SQLite's lock), or PostgreSQL through ``db_url``.
"""
from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .deploy.postgres import wait_for_database
from .intake import replace_with_release
from .pipeline import Course, PipelineError, nbgrader_env, source_notebooks

STAMPS = Path(".grading_cache") / "stamps"
WORKER_DIED = "the grading process died"
DATABASE_LOST = "OperationalError"  # SQLAlchemy's error for a database it cannot reach or use
DATABASE_RETRIES, DATABASE_WAIT = 3, 120.0  # gradings of a submission, seconds to wait for the database before each


@dataclass
class GradingRun:
    chapter: str
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged since last graded
    failed: list[str] = field(default_factory=list)   # nbgrader gave up twice; graded as empty copies
    seconds: float = 0.0      # the workers' time on this chapter (they grade chapters side by side)
    pooled_kernels: int = 0  # kernels forked by the workers' kernel pools
    pools_started: int = 0   # one per worker, and one for each pool a kernel broke


def fingerprint(course: Course, chapter: str, student: str) -> str:
    """What a grade depends on: the submission's files, the source notebooks and the config."""
    digest = hashlib.sha256()
    folder = course.root / "submitted" / student / chapter
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    for notebook in source_notebooks(chapter, course.root):
        digest.update(notebook.read_bytes())
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


def observe_reference(course: Course, chapter: str, config) -> None:
    """Run the chapter's reference once (cached), before its submissions are judged against it."""
    from autograders.execute import SandboxedExecute
    from autograders.reference import grading_seed, reference_reports

    for notebook in source_notebooks(chapter, course.root):
        seed = grading_seed(course.root, chapter, notebook.stem)
        reference_reports(course.root, notebook, seed, SandboxedExecute(config=config).preprocess)


def grade_submission(api, course: Course, chapter: str, student: str) -> dict:
    """Autograde one submission with nbgrader's API. Where nbgrader gives up on it, try once
    more, then grade an empty copy of each of the chapter's notebooks in its place with
    nbgrader's reason, so that
    every submission gets a score and a reason (the submission is kept beside it)."""
    def autograde() -> str | None:
        """None once graded, else the last error nbgrader's log names. Where the gradebook's
        database could not be reached (its server restarting), wait for it and grade again."""
        for _ in range(DATABASE_RETRIES):
            graded = api.autograde(chapter, student, force=True, create=True)
            error = None if graded.get("success") else last_error((graded.get("error") or "") + (graded.get("log") or ""))
            if not (error and DATABASE_LOST in error and wait_for_database(api.coursedir.db_url, DATABASE_WAIT)):
                break
        return error

    error = autograde()
    if error is not None:
        error = autograde()
    if error is not None and DATABASE_LOST in error:  # not the submission's fault: left for the next run
        return {"success": False, "replaced": False, "error": f"the gradebook's database is unreachable: {error}"}
    replaced = error is not None
    if replaced:
        # the error's name only: its message can quote the submission's outputs, which may
        # carry hidden tests
        for notebook in course.notebook_names(chapter):
            replace_with_release(course.root / "submitted" / student / chapter, notebook,
                                 course.root / "release" / chapter, f"the grader could not run it ({error.split(':')[0]})")
        error = autograde()
    return {"success": error is None, "replaced": replaced, "error": error or ""}


def last_error(log: str) -> str:
    """The last exception nbgrader's log names (``SomeError: message``)."""
    errors = re.findall(r"^\s*([A-Za-z_.]*(?:Error|Exception): .*)$", log, re.MULTILINE)
    return errors[-1].strip()[:200] if errors else "unknown error"


@dataclass(frozen=True)
class Task:
    """One job for a worker: observe a chapter's reference (``student`` None), or grade a submission."""
    chapter: str
    student: str | None = None


class Worker:
    """One grading process, fed one task at a time over a pipe; it keeps its kernel pool warm
    from one task to the next, whatever the chapter."""

    def __init__(self, course: Course, kernel_pool: bool):
        self.process = subprocess.Popen(
            self.command(course, kernel_pool), cwd=course.root, env=nbgrader_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.task: Task | None = None
        self.dead = False
        self.counters = {"pooled_kernels": 0, "pools_started": 0}

    @staticmethod
    def command(course: Course, kernel_pool: bool) -> list[str]:
        return [sys.executable, "-m", "course.grading", str(course.root), "pool" if kernel_pool else "no-pool"]

    def give(self, task: Task) -> None:
        self.task = task
        try:
            self.process.stdin.write(json.dumps({"chapter": task.chapter, "student": task.student}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:  # it just died: its end of output, read next, gives the task back
            pass

    def result(self) -> tuple[Task | None, dict]:
        """The task it was given and its result, with what the worker's kernel pool did for it;
        the worker is idle again, or dead."""
        task, self.task = self.task, None
        line = self.process.stdout.readline()
        try:
            result = json.loads(line) if line.endswith("\n") else None
        except ValueError:
            result = None
        if not isinstance(result, dict):  # the end of its output, or half a line: it died
            self.dead = True
            return task, {"success": False, "error": WORKER_DIED}
        for counter, before in self.counters.items():
            self.counters[counter] = result[counter]
            result[counter] -= before
        return task, result

    def close(self) -> None:
        """No more tasks: it ends once its kernel pool is down."""
        try:
            self.process.stdin.close()
        except BrokenPipeError:  # it died with input unread
            pass

    def wait(self) -> None:
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


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

    def run(self, tasks: list[Task], on_done) -> dict[Task, dict]:
        """Run ``tasks``; ``on_done(task, result)`` after each. A chapter's submissions wait until
        a worker has observed its reference, so that no two workers run it, and are dropped when
        it could not be observed (each would fail the same way). A task whose worker died is
        given once more, to another worker; a dead worker is replaced, up to as many times as
        the crew has workers."""
        pending = list(tasks)
        observing = {task.chapter for task in tasks if task.student is None}
        results: dict[Task, dict] = {}
        retried: set[Task] = set()

        def finish(task: Task, result: dict) -> None:
            nonlocal pending
            results[task] = result
            on_done(task, result)
            if task.student is None:
                observing.discard(task.chapter)
                if not result["success"]:
                    pending = [t for t in pending if t.chapter != task.chapter]

        while True:
            while self.idle and (task := next((t for t in pending if t.student is None or t.chapter not in observing),
                                              None)):
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
                self._bury(worker)
                if task is None:
                    continue
                if task not in retried and self.workers:
                    retried.add(task)
                    pending.insert(0, task)
                else:
                    finish(task, {"success": False, "error": f"{WORKER_DIED}, twice" if task in retried
                                  else WORKER_DIED})
        while pending:  # left when every worker died
            finish(pending.pop(0), {"success": False, "error": "every grading process died"})
        return results

    def _bury(self, worker: Worker) -> None:
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


def run_tasks(course: Course, tasks: list[Task], jobs: int, on_done, kernel_pool: bool = True) -> dict[Task, dict]:
    """Run ``tasks`` on at most ``jobs`` new workers (``Crew.run``)."""
    with Crew(course, min(jobs, len(tasks)), kernel_pool) as crew:
        return crew.run(tasks, on_done)


def submitted_students(course: Course, chapter: str) -> list[str]:
    return sorted(p.parent.name for p in (course.root / "submitted").glob(f"*/{chapter}"))


def work_expected(course: Course, chapters: list[str], resume: bool) -> bool:
    """Whether grading ``chapters`` will likely give the workers something to do, judged before
    intake (which changes no submission it has already taken in)."""
    return not resume or not all(is_current(course, chapter, student)
                                 for chapter in chapters for student in submitted_students(course, chapter))


def grade_chapters(course: Course, chapters: list[str], jobs: int | None = None, resume: bool = True,
                   progress: Progress | None = None, kernel_pool: bool = True,
                   crew: Crew | None = None) -> list[GradingRun]:
    """Grade every submission of ``chapters`` (intake already done), in parallel and resumably:
    one set of workers for all of them (``crew`` when started already), each chapter's reference
    observed once first."""
    runs = {chapter: GradingRun(chapter) for chapter in chapters}
    observations, gradings = [], []
    for chapter, run in runs.items():
        submitted = submitted_students(course, chapter)
        run.skipped = [s for s in submitted if resume and is_current(course, chapter, s)]
        pending = [s for s in submitted if s not in run.skipped]
        if pending:
            observations.append(Task(chapter))
            gradings += [Task(chapter, student) for student in pending]
    # every reference first, so that no chapter's submissions wait for theirs while a worker is idle
    tasks = observations + gradings
    if not tasks:
        return list(runs.values())
    owned = progress is None
    progress = progress or Progress(TextColumn("{task.description:24s}"), BarColumn(), MofNCompleteColumn(),
                                    TimeRemainingColumn(), transient=True)
    bar = progress.add_task("autograde", total=sum(task.student is not None for task in tasks))

    def on_done(task: Task, result: dict) -> None:
        run = runs[task.chapter]
        run.seconds += result.get("seconds", 0.0)  # absent when the worker died
        run.pooled_kernels += result.get("pooled_kernels", 0)
        run.pools_started += result.get("pools_started", 0)
        if task.student is not None:
            progress.advance(bar)

    with progress if owned else nullcontext():
        if crew is not None:
            results = crew.run(tasks, on_done)
        else:
            results = run_tasks(course, tasks, jobs or os.cpu_count() or 1, on_done, kernel_pool)
    unobserved, ungraded = [], []
    for task, result in results.items():
        if task.student is None:
            if not result["success"]:
                unobserved.append(f"{task.chapter}: {result['error']}")
            continue
        if not result["success"]:
            ungraded.append(f"{task.student}/{task.chapter}: {result['error']}")
            continue
        run = runs[task.chapter]
        if result.get("replaced"):
            run.failed.append(task.student)
        mark_graded(course, task.chapter, task.student)
        run.graded.append(task.student)
    if unobserved:
        raise PipelineError("no submission of these chapters was graded, because their reference could "
                            "not be observed:\n  " + "\n  ".join(unobserved))
    if ungraded:
        raise PipelineError("these submissions could not be graded, not even as empty copies (the others "
                            "were; run autograde again to retry these):\n  " + "\n  ".join(ungraded))
    return list(runs.values())


def worker_main(root: str, pool: str = "pool") -> int:
    """A worker: run each task read from stdin (a JSON line); one JSON line per result on
    stdout, with the worker's kernel pool counters so far."""
    from nbgrader.apps.api import NbGraderAPI

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
    # nbgrader, nbconvert and SQLAlchemy, imported, are kept for good: frozen, the full garbage
    # collections that grading's churn sets off no longer walk them
    gc.freeze()
    with KernelPool() if pool == "pool" else nullcontext() as kernels:
        if kernels is not None:
            kernels.ready()  # warm while the first task is on its way; then after each task
        for line in sys.stdin:
            task = Task(**json.loads(line))
            start = time.monotonic()
            try:
                if task.student is None:
                    observe_reference(course, task.chapter, config)
                    result = {"success": True, "error": ""}
                else:
                    result = grade_submission(api, course, task.chapter, task.student)
            except Exception as error:  # noqa: BLE001 - the parent reports it; the worker goes on
                result = {"success": False, "error": f"{type(error).__name__}: {error}"[:2000]}
            if kernels is not None:
                kernels.ready()  # cleared for the next submission, or replaced
            print(json.dumps({**result, "seconds": time.monotonic() - start,
                              "pooled_kernels": kernels.kernels_served if kernels else 0,
                              "pools_started": kernels.pools_started if kernels else 0}), file=results)
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(*sys.argv[1:3]))
