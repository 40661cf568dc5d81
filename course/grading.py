"""Grading a class on a Dask cluster (``course.cluster``): the same path on one machine and on many.

A run sends each chapter to the workers once (``course.portable.Chapter``: config, source,
release, grading secret, a gradebook snapshot), has one worker observe the chapter's reference,
which then goes to every worker that grades the chapter, and sends each submission as its files.
Each worker grades one submission at a time, in a fresh sandboxed kernel forked by its warm kernel
pool (``course.worker``), and sends back the graded folder and the gradebook's rows for it; this
process alone writes ``autograded/``, the gradebook and the resume stamps (``course.stamps``),
each submission once, as its result comes. A submission whose worker died is graded by another;
one that two workers died on is reported and left for the next run, the rest finishes.
"""
from __future__ import annotations

import os
import threading
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from traitlets import Integer, Unicode
from traitlets.config import Configurable

from .course_dir import Course, PipelineError
from .stamps import is_current, mark_graded
from .portable import Graded
from .report.records import record_grading
from .submissions import GradedWriter, cached_reference, chapter_of, keep_reference, submission_of
from .dispatch import WORKER_DIED, Dispatcher, Job  # noqa: F401 - WORKER_DIED: the reason runs report
from .worker import PLUGIN, GradingPlugin, code_version, grade, observe, plugin_state


class ParallelGrading(Configurable):
    """Where and how widely a class is graded (``c.ParallelGrading`` in nbgrader_config.py)."""

    jobs = Integer(
        0, min=0,
        help="Worker processes of the local cluster, each grading one submission at a time in kernels of its "
        "own; 0: one per CPU core. `make autograde JOBS=n` (--jobs n) overrides it for one run. Not used "
        "with a scheduler: its workers are what its hosts started.").tag(config=True)
    scheduler = Unicode(
        "",
        help="The Dask scheduler to grade on, tls://host:8786 (`python -m course scheduler`), whose workers "
        "run `python -m course worker` from a checkout of this commit; empty: a cluster of this machine's "
        "own, started for the run. `make autograde SCHEDULER=…` (--scheduler) overrides it.").tag(config=True)
    certificates = Unicode(
        "certs",
        help="The folder of the grading cluster's certificates (`make certs`), relative to the course "
        "folder; only with a scheduler.").tag(config=True)

    @property
    def workers(self) -> int:
        return self.jobs or os.cpu_count() or 1


@dataclass
class GradingRun:
    assignment: str
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged since last graded
    failed: list[str] = field(default_factory=list)   # nbgrader gave up on them; graded as empty copies
    ungraded: dict[str, str] = field(default_factory=dict)  # student -> why not even an empty copy was graded
    seconds: float = 0.0      # the workers' time on this assignment (they grade assignments side by side)
    pooled_kernels: int = 0  # kernels forked by the workers' kernel pools
    pools_started: int = 0   # pools the workers started during the run (a broken one is replaced)


class Grader:
    """A run's side of the cluster: the course's plugin on every worker, registered as soon as
    the run has a client, so that workers import nbgrader and warm their kernel pools while this
    process still takes the submissions in."""

    def __init__(self, course: Course, client, sandbox: dict, kernel_pool: bool = True, no_worker_s: float = 120.0):
        self.course, self.client, self.code, self.no_worker_s = course, client, code_version(), no_worker_s
        # a name of the run's own: another run on the same cluster has a plugin of its own
        self.name = f"{PLUGIN}-{uuid.uuid4().hex[:12]}"
        self.plugin = GradingPlugin(self.code, sandbox, kernel_pool)
        self.accepted: dict[str, bool] = {}  # worker address -> whether it grades for this run
        self._registering = threading.Thread(target=self._register, daemon=True)
        self._registered: BaseException | None = None
        self._told_dashboard = False  # a service grades many times on one cluster: said once
        self._registering.start()

    def _register(self) -> None:
        try:
            self.client.register_plugin(self.plugin, name=self.name)
        except BaseException as error:  # noqa: BLE001 - raised where the run waits for it
            self._registered = error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Take the plugin off every worker, each closing its kernel pool. Done here, not left to
        the workers' own closing: a worker that Dask closes is killed after a few seconds."""
        self._registering.join()
        try:
            self.client.unregister_worker_plugin(self.name)
        except Exception as error:  # noqa: BLE001 - a worker gone, or a plugin never registered
            print(f"the grading workers' plugin could not be removed cleanly: {error}")

    def workers(self) -> set[str]:
        """The workers alive now that grade for this run; a worker that refuses it (other course
        code) is named once, a worker still starting its plugin is asked again next time."""
        # asked of the scheduler each time: the client's cached list is refreshed without workers
        # a worker retiring is still listed but given nothing by the scheduler: not alive for the run
        listed = self.client.sync(self.client.scheduler.identity, n_workers=-1)["workers"]
        alive = {address for address, worker in listed.items() if worker.get("status") == "running"}
        unknown = sorted(alive - set(self.accepted))
        if unknown:
            states = self.client.run(plugin_state, self.name, workers=unknown, on_error="return")
            for address, state in states.items():
                if isinstance(state, (OSError, TimeoutError)):  # gone or going: asked again while listed
                    continue
                if isinstance(state, BaseException):
                    state = f"at {address} cannot run the course's plugin: {type(state).__name__}: {state}"
                if state == "ready":
                    self.accepted[address] = True
                elif state != "starting":
                    self.accepted[address] = False
                    print(f"refused grading worker {state}")
        return {address for address in alive if self.accepted.get(address)}

    def ready(self) -> None:
        """Wait for the plugin on every worker; raises when none grades for this run. A worker
        whose plugin failed to start is refused with its reason (``workers``); the others grade."""
        self._registering.join()
        if not self.workers():
            if self._registered is not None:
                raise PipelineError(f"the grading workers could not start: {self._registered}")
            raise PipelineError("no grading worker runs this checkout's course code, nothing was graded"
                                if self.accepted else "the grading cluster has no workers; nothing was graded")
        if not self._told_dashboard and "dashboard" in self.client.scheduler_info(n_workers=0).get("services", {}):
            print(f"Dask's dashboard: {self.client.dashboard_link}")
        self._told_dashboard = True

    def shared(self, data, worker: str):
        """``data`` (a chapter, a reference) sent to ``worker``, from which each worker that needs
        it fetches it, once (and then holds a copy others may fetch). Lost with every worker that
        held it, it is sent again (``grade``'s ``held``)."""
        return self.client.scatter(data, hash=False, workers=[worker])

    def grade(self, assignments: list[str], resume: bool, progress: Progress,
              only: dict[str, list[str]] | None = None, stopping=None) -> list[GradingRun]:
        """Grade every pending submission of ``assignments`` (intake done), or of the students
        ``only`` names per assignment, in that order. A submission that could not be graded at
        all is in its run's ``ungraded``, with why; once ``stopping()`` is true, every one not
        yet sent to a worker."""
        runs = {assignment: GradingRun(assignment) for assignment in assignments}
        pending = {}
        for assignment, run in runs.items():
            submitted = submitted_students(self.course, assignment)
            if only is not None:
                submitted = [s for s in only.get(assignment, []) if s in submitted]
            run.skipped = [s for s in submitted if resume and is_current(self.course, assignment, s)]
            if students := [s for s in submitted if s not in run.skipped]:
                pending[assignment] = students
        if not pending:
            return list(runs.values())
        self.ready()
        writer = GradedWriter(self.course)
        chapters = {a: chapter_of(self.course, a, writer.snapshot, self.code) for a in pending}
        references = {a: Graded(success=True, files=files, code=self.code) for a in pending
                      if (files := cached_reference(self.course, a, self.code)) is not None}
        on_workers: dict = {}  # (kind, assignment) -> the future holding it on the workers
        replaced_here: dict[Job, str] = {}  # submissions sent as empty copies (too large to carry)
        unobserved = {}
        bar = progress.add_task("autograde", total=sum(map(len, pending.values())))

        def held(kind: str, assignment: str, data, worker: str):
            future = on_workers.get((kind, assignment))
            if future is None or future.status != "finished":  # not sent yet, or lost with its workers
                future = on_workers[kind, assignment] = self.shared(data, worker)
            return future

        def submit(job: Job, worker: str):
            where = {"workers": [worker], "allow_other_workers": False, "pure": False}
            chapter = held("chapter", job.assignment, chapters[job.assignment], worker)
            if job.student is None:
                return self.client.submit(observe, self.name, chapter, **where)
            submission = submission_of(self.course, job.assignment, job.student, writer)
            if submission.replaced:
                replaced_here[job] = submission.replaced
            reference = held("reference", job.assignment, references[job.assignment], worker)
            return self.client.submit(grade, self.name, chapter, reference, submission, **where)

        def done(job: Job, result: Graded | None, error: str | None) -> None:
            run = runs[job.assignment]
            if result is not None:
                run.seconds += result.seconds
                run.pooled_kernels += result.pooled_kernels
                run.pools_started += result.pools_started
            if job.student is None:
                if error:
                    unobserved[job.assignment] = error
                else:
                    references[job.assignment] = result
                    keep_reference(self.course, job.assignment, result.files, result.code)
                return
            progress.advance(bar)
            replaced = bool(result is not None and result.replaced) or job in replaced_here
            if result is not None:
                record_grading(self.course.root, job.assignment, job.student, result.seconds, replaced,
                               result.error or replaced_here.get(job))
            if result is not None and result.success:
                writer.write(job.assignment, job.student, result)
                mark_graded(self.course, job.assignment, job.student)
                run.graded.append(job.student)
                if replaced:
                    run.failed.append(job.student)
            else:
                run.ungraded[job.student] = error or result.error

        try:
            Dispatcher(self.workers, submit, done, no_worker_s=self.no_worker_s,
                       stopping=stopping or (lambda: False)).run(pending, set(references))
        finally:
            writer.close()
        if unobserved:
            raise PipelineError("no submission of these chapters was graded, because their reference could not be "
                                "observed:\n  " + "\n  ".join(f"{a}: {e}" for a, e in unobserved.items()))
        return list(runs.values())


def submitted_students(course: Course, assignment: str) -> list[str]:
    return sorted(p.parent.name for p in (course.root / "submitted").glob(f"*/{assignment}"))


def work_expected(course: Course, assignments: list[str], resume: bool) -> bool:
    """Whether grading ``assignments`` will likely give the workers something to do, judged
    before intake (which changes no submission it has already taken in)."""
    return not resume or not all(is_current(course, assignment, student) for assignment in assignments
                                 for student in submitted_students(course, assignment))


def new_progress() -> Progress:
    return Progress(TextColumn("{task.description:24s}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), transient=True)


def grade_assignments(course: Course, grader: Grader | None, assignments: list[str], resume: bool = True,
                      progress: Progress | None = None) -> list[GradingRun]:
    """Grade with ``grader``; None when nothing was left to grade (``work_expected``)."""
    if grader is None:
        return [GradingRun(a, skipped=submitted_students(course, a)) for a in assignments]
    owned = progress is None
    progress = progress or new_progress()
    with progress if owned else nullcontext():
        runs = grader.grade(assignments, resume, progress)
    ungraded = [f"{student}/{run.assignment}: {why}" for run in runs for student, why in run.ungraded.items()]
    if ungraded:
        raise PipelineError("these submissions could not be graded, not even as empty copies (the others were; "
                            "run autograde again to retry these):\n  " + "\n  ".join(ungraded))
    return runs
