"""A grading host's side of a run: a Dask worker with the course's ``GradingPlugin``.

The plugin, sent by the instructor's process when a run begins, keeps the worker's kernel pool
(``autograders.sandbox.pool``) warm from one submission to the next, and the chapters it was
sent, each unpacked once into a course folder of its own under the worker's local directory.
``observe`` runs a chapter's reference there; ``grade`` grades one submission there and sends
back the graded folder and the gradebook's rows for it: nothing is written where the instructor's
course lives. A worker running other course code than the run's, or whose host lacks a protection
the sandbox is configured to demand, or whose kernel pool cannot start, refuses every task and is
never given one: the run asks each worker's ``plugin_state`` first.
"""
from __future__ import annotations

import asyncio
import gc
import hashlib
import shutil
import threading
import time
import warnings
from dataclasses import replace
from functools import cache
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from .course_dir import REPO, Course
from .portable import Chapter, Graded, Submission, pack, unpack

PLUGIN = "course-grading"  # the prefix of each run's plugin name


@cache
def code_version() -> str:
    """A digest of the course code this process runs (its engine, its commands and its pins)."""
    hashed = hashlib.sha256()
    files = sorted(p for folder in ("autograders", "course") for p in (REPO / folder).rglob("*.py")
                   if "tests" not in p.relative_to(REPO).parts)
    for path in [*files, REPO / "requirements.txt"]:
        hashed.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return hashed.hexdigest()[:16]


class WrongCode(RuntimeError):
    """This worker runs other course code than the run that sent the task."""


class ScratchCourse:
    """One chapter, unpacked on this worker: a course folder with its own SQLite gradebook."""

    def __init__(self, chapter: Chapter, root: Path):
        from nbgrader.apps.api import NbGraderAPI

        from .retries import RetryPolicy

        self.chapter, self.root = chapter, root
        shutil.rmtree(root, ignore_errors=True)
        unpack(chapter.files, root)
        (root / "gradebook.db").write_bytes(chapter.gradebook)
        self.db_url = f"sqlite:///{root / 'gradebook.db'}"
        self.course = Course(root)
        self.config = self.course.config()
        self.config.CourseDirectory.root = str(root)
        self.config.CourseDirectory.db_url = self.db_url
        self.api = NbGraderAPI(config=self.config)
        self.retries = RetryPolicy(config=self.config)
        self.observed = False  # the reference's reports are here

    def observe(self) -> dict[str, bytes]:
        """The reference's reports for this chapter, observed here: their cache files."""
        from autograders.execute import SandboxedExecute
        from autograders.reference import grading_seed, reference_reports

        for notebook in self.chapter.notebooks:
            seed = grading_seed(self.root, self.chapter.assignment, notebook)
            source = self.root / "source" / self.chapter.assignment / f"{notebook}.ipynb"
            reference_reports(self.root, source, seed, SandboxedExecute(config=self.config).preprocess)
        return pack(self.root / ".grading_cache" / "reference")

    def grade(self, submission: Submission) -> Graded:
        # on this process's engine for the scratch gradebook, as the pipeline's own steps open it:
        # nbgrader's Gradebook builds an engine and checks every table each time it opens
        from autograders.gradebook import SharedGradebook

        from .gradebook_rows import prepare_submission, submission_rows

        assignment, student = submission.assignment, submission.student
        for folder in ("submitted", "autograded"):
            shutil.rmtree(self.root / folder, ignore_errors=True)
        unpack(submission.files, self.root / "submitted" / student / assignment)
        with SharedGradebook(self.db_url) as gb:
            if _submitted(gb, assignment, student):  # graded here before, in an earlier run
                gb.remove_submission(assignment, student)
            prepare_submission(gb, assignment, student, submission.extension_s)
        graded = self.retries.grade_submission(self.api, self.course, assignment, student)
        if not graded.success:
            return graded
        with SharedGradebook(self.db_url) as gb:
            rows = submission_rows(gb, assignment, student)
        return Graded(success=True, error=graded.error, replaced=graded.replaced, rows=rows,
                      files=pack(self.root / "autograded" / student / assignment))


def _submitted(gb, assignment: str, student: str) -> bool:
    from nbgrader.api import MissingEntry

    try:
        gb.find_submission(assignment, student)
    except MissingEntry:
        return False
    return True


class GradingPlugin(WorkerPlugin):
    """The course on one Dask worker: its kernel pool, with the run's sandbox settings, and the
    chapters it was sent. ``sandbox`` is the run's config for ``SandboxSettings``."""

    def __init__(self, code: str, sandbox: dict, kernel_pool: bool = True):
        self.code, self.sandbox, self.kernel_pool = code, sandbox, kernel_pool

    async def setup(self, worker) -> None:
        self.state = "starting"
        # nbgrader's autograde adds a submission's rows after building them, and SQLAlchemy warns
        # of each on the way: noise in the run's terminal, which a worker's output reaches
        warnings.filterwarnings("ignore", message=".*not in session, add operation along.*")
        self.address = worker.address
        self.folder = Path(worker.local_directory) / "course"
        self.chapters: dict[str, ScratchCourse] = {}
        self.pool = None
        self._reported = (0, 0)  # the pool's counters in the last result
        self._starter = None
        # never raises: a worker that cannot grade says why (plugin_state), and the run grades on the others
        try:
            self.refusal = self._refusal(worker.address)
        except Exception as error:  # noqa: BLE001 - the reason goes to the run
            self.refusal = f"at {worker.address} cannot check its course code or sandbox: {type(error).__name__}: {error}"
        if self.refusal is None and self.kernel_pool:
            failed: list[BaseException] = []

            def start():
                try:
                    self.pool = self._new_pool()
                    self.pool.ready()
                except Exception as error:  # noqa: BLE001 - the reason goes to the run
                    failed.append(error)

            # started in a thread of its own, which a worker told to close while the pool starts waits for
            self._starter = threading.Thread(target=start, daemon=True)
            self._starter.start()
            await asyncio.to_thread(self._starter.join)
            if failed:
                self.refusal = (f"at {worker.address} could not start its kernel pool: "
                                f"{type(failed[0]).__name__}: {failed[0]}")
        self.state = self.refusal or "ready"

    def _refusal(self, address: str) -> str | None:
        """Why this worker cannot grade for the run, or None."""
        from autograders.sandbox import protections

        mine = code_version()
        if mine != self.code:
            return (f"at {address} runs course code {mine}, the run's is {self.code}: check out the "
                    "instructor's commit there and run `make setup`")
        refused = protections().memory_refused
        return f"at {address} cannot sandbox a kernel: {refused}" if refused else None

    def _new_pool(self):
        from nbgrader.apps.api import NbGraderAPI  # noqa: F401 - imported once, before the first task
        from traitlets.config import Config

        from autograders.sandbox.config import SandboxSettings
        from autograders.sandbox.pool import KernelPool

        # nbgrader, nbconvert and SQLAlchemy, imported, are kept for good: frozen, the full garbage
        # collections that grading's churn sets off no longer walk them
        gc.freeze()
        return KernelPool(sandbox=SandboxSettings(config=Config({"SandboxSettings": self.sandbox})))

    async def teardown(self, worker) -> None:
        if self._starter is not None:
            await asyncio.to_thread(self._starter.join)
        if self.pool is not None:
            await asyncio.to_thread(self.pool.close)
        shutil.rmtree(self.folder, ignore_errors=True)

    def scratch(self, chapter: Chapter, reference: Graded | None) -> ScratchCourse:
        if self.refusal is not None:
            raise WrongCode(self.refusal)
        if chapter.code != self.code or (reference is not None and reference.code != self.code):
            raise WrongCode(f"a chapter or reference from course code other than {self.code} was sent "
                            f"to the worker at {self.address}")
        if chapter.key not in self.chapters:
            self.chapters[chapter.key] = ScratchCourse(chapter, self.folder / chapter.key)
        scratch = self.chapters[chapter.key]
        if reference is not None and not scratch.observed:
            unpack(reference.files, scratch.root / ".grading_cache" / "reference")
            scratch.observed = True
        return scratch

    def counted(self, work) -> Graded:
        """``work()``'s result, with the worker's time and what its kernel pool did since the last
        result (the pool's first start is in the first); the pool is made ready for the next task
        (cleared, or replaced) before the result goes back."""
        start = time.monotonic()
        result = work()
        served = started = 0
        if self.pool is not None:
            self.pool.ready()
            served, started = (self.pool.kernels_served - self._reported[0], self.pool.pools_started - self._reported[1])
            self._reported = (self.pool.kernels_served, self.pool.pools_started)
        return replace(result, seconds=time.monotonic() - start, pooled_kernels=served, pools_started=started,
                       worker=self.address, code=self.code)


def plugin_state(name: str, dask_worker) -> str:
    """``client.run``'s question to a worker: "ready", "starting", or why it refuses the run."""
    plugin = dask_worker.plugins.get(name)
    return getattr(plugin, "state", "starting")


def _plugin(name: str) -> GradingPlugin:
    plugin = get_worker().plugins.get(name)
    if plugin is None:
        raise WrongCode(f"the worker at {get_worker().address} has no course plugin: it joined after the run began")
    return plugin


def observe(name: str, chapter: Chapter) -> Graded:
    """A Dask task of the run whose plugin is ``name``: observe the chapter's reference (one
    worker does, for all); its reports' files."""
    plugin = _plugin(name)
    scratch = plugin.scratch(chapter, None)
    return plugin.counted(lambda: Graded(success=True, files=scratch.observe()))


def grade(name: str, chapter: Chapter, reference: Graded, submission: Submission) -> Graded:
    """A Dask task of the run whose plugin is ``name``: grade one submission against its chapter's reference."""
    plugin = _plugin(name)
    scratch = plugin.scratch(chapter, reference)
    return plugin.counted(lambda: scratch.grade(submission))
