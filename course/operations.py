"""The instructor's operations on a course folder, each one nbgrader command per assignment."""
from __future__ import annotations

import os
import stat
import sys
from contextlib import contextmanager
from pathlib import Path

from .course_dir import Course, PipelineError, assignments
from .intake import intake
from .report.records import record_intake

MISSING_EXCHANGE_HELP = "nothing has been released yet: run `make release` first"


def covered_assignments(course: Course, assignment: str | None) -> list[str]:
    """The assignments an operation covers: one named assignment (checked), or all of them."""
    known = assignments(course.root)
    if assignment is None:
        if not known:
            raise PipelineError(f"no chapters under {course.root / 'source'}")
        return known
    if assignment not in known:
        raise PipelineError(f"unknown assignment {assignment!r}; the chapters are: {', '.join(known)}")
    return [assignment]


def ensure_exchange(course: Course) -> Path:
    """The exchange folder, made with the permissions nbgrader requires (world-writable, sticky)."""
    exchange = course.root / "exchange"
    exchange.mkdir(exist_ok=True)
    os.chmod(exchange, 0o777 | stat.S_ISVTX)
    return exchange


def generate(course: Course, assignment: str | None = None) -> list[str]:
    for name in covered_assignments(course, assignment):
        course.nbgrader("generate_assignment", name, "--force")
    return covered_assignments(course, assignment)


def in_gradebook(course: Course, assignment: str) -> bool:
    """Whether the course's gradebook knows ``assignment`` (its cells, from ``generate_assignment``)."""
    from nbgrader.api import Gradebook, MissingEntry

    url = course.db_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return False
    with Gradebook(url) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            return False
    return True


def ensure_generated(course: Course, assignment: str) -> None:
    """``generate_assignment`` where the student version or the gradebook's record of the chapter
    is missing: a fresh clone holds ``release/`` but no gradebook, and nbgrader grades only the
    chapters its gradebook knows."""
    if not (course.root / "release" / assignment).is_dir() or not in_gradebook(course, assignment):
        course.nbgrader("generate_assignment", assignment, "--force")


def release(course: Course, assignment: str | None = None) -> list[str]:
    ensure_exchange(course)
    for name in covered_assignments(course, assignment):
        ensure_generated(course, name)
        course.nbgrader("release_assignment", name, "--force")
    return covered_assignments(course, assignment)


def collect(course: Course, assignment: str | None = None) -> dict[str, int]:
    """Collect every assignment's submissions; ``{assignment: submissions collected so far}``."""
    if not (course.root / "exchange").is_dir():
        raise PipelineError(MISSING_EXCHANGE_HELP)
    counts = {}
    for name in covered_assignments(course, assignment):
        course.nbgrader("collect", name, "--update")
        counts[name] = len(list((course.root / "submitted").glob(f"*/{name}")))
    return counts


def zip_collect(course: Course, assignment: str | None = None) -> dict[str, int]:
    """Collect submissions downloaded from an LMS into ``downloaded/<assignment>/archive/``."""
    counts = {}
    for name in covered_assignments(course, assignment):
        archive = course.root / "downloaded" / name / "archive"
        if not archive.is_dir() or not any(archive.iterdir()):
            counts[name] = 0
            continue
        course.nbgrader("zip_collect", name, "--force")
        counts[name] = len(list((course.root / "submitted").glob(f"*/{name}")))
    return counts


def submitted_assignments(course: Course, assignment: str | None = None) -> list[str]:
    return [name for name in covered_assignments(course, assignment)
            if any((course.root / "submitted").glob(f"*/{name}"))]


def check_grading_config(course: Course):
    """Fail closed: refuse to grade unless the course's config assembles the sandbox and the judge.

    nbgrader only logs a broken ``nbgrader_config.py`` and then grades with its defaults (the
    student's own kernel, assertions decided inside it); this course stops instead. Returns the
    config, as loaded.
    """
    from autograders.execute import SANDBOX_KERNEL, SandboxedExecute
    from autograders.judge import ChooseProbeSeed, JudgeProbeReports

    try:
        config = course.config()
    except Exception as exc:  # noqa: BLE001 - any way the file can be broken
        raise PipelineError(f"nbgrader_config.py is broken, so grading would not be sandboxed or judged: "
                            f"{type(exc).__name__}: {exc}") from exc
    steps = list(config.Autograde.get("autograde_preprocessors", []))
    for required in (ChooseProbeSeed, SandboxedExecute, JudgeProbeReports):
        if required not in steps:
            raise PipelineError(f"nbgrader_config.py does not put {required.__name__} in the autograde pipeline")
    if config.SandboxedExecute.get("kernel_name", SANDBOX_KERNEL) != SANDBOX_KERNEL:
        raise PipelineError(f"submissions must run in the {SANDBOX_KERNEL!r} kernel")
    return config


def plain_test_cells(course: Course, assignment: str) -> list[str]:
    """The assignment's test cells that assert in the student's kernel (no probes): nbgrader's way,
    whose verdicts a submission can forge from inside its kernel."""
    import nbformat

    from autograders.hidden import is_plain_test_cell

    return [cell.metadata.nbgrader["grade_id"] for path in sorted((course.root / "source" / assignment).glob("*.ipynb"))
            for cell in nbformat.read(path, as_version=4).cells if is_plain_test_cell(cell)]


def say_how_tests_are_decided(course: Course, assignments: list[str], config) -> None:
    """Name the assignments whose verdicts are decided inside the student's kernel, or refuse to
    grade them where the config says so (``c.JudgeProbeReports.plain_tests = 'refuse'``)."""
    refuse = config.JudgeProbeReports.get("plain_tests", "grade").lower() == "refuse"
    for assignment in assignments:
        plain = plain_test_cells(course, assignment)
        if plain and refuse:
            raise PipelineError(f"{assignment}: test cells {', '.join(plain)} assert in the student's kernel, and "
                                "c.JudgeProbeReports.plain_tests = 'refuse': rewrite them as probes "
                                "(docs/authoring.md) or grade them with 'grade'")
        if plain:
            print(f"{assignment}: {len(plain)} test cells assert in the student's kernel, as nbgrader's do "
                  f"({', '.join(plain)}): a submission can forge their verdicts from inside it (the sandbox "
                  "still keeps the course, the gradebook and other students out of its reach)", file=sys.stderr)


def refuse_missing_protections() -> None:
    """Grading stops where the configuration asks for a protection this machine cannot give (a
    memory cgroup); where it only lacks a sandbox layer, it still runs, but says so loudly."""
    from autograders.sandbox import protections, warnings_for

    info = protections()
    if info.memory_refused:
        raise PipelineError(f"refusing to grade: {info.memory_refused}")
    for line in warnings_for(info):
        print(line, file=sys.stderr)


@contextmanager
def grading_session(course: Course, jobs: int | None = None, scheduler: str | None = None,
                    kernel_pool: bool = True, needed: bool = True):
    """``(config, grader)``: the course's config, checked to sandbox and judge, and a ``Grader``
    on a Dask cluster (this machine's own, of ``jobs`` workers, or the one at ``scheduler``;
    None: as ``c.ParallelGrading`` says), or None where nothing is ``needed``. Refuses, before
    starting anything, where the config or this machine cannot grade safely."""
    from .cluster import grading_client
    from .grading import Grader, ParallelGrading

    config = check_grading_config(course)
    settings = ParallelGrading(config=config)
    scheduler = settings.scheduler if scheduler is None else scheduler
    if not scheduler:
        refuse_missing_protections()
    if not needed:
        yield config, None
        return
    with grading_client(jobs or settings.workers, scheduler, course.root / settings.certificates) as client, \
            Grader(course, client, dict(config.get("SandboxSettings", {})), kernel_pool) as grader:
        yield config, grader


def take_in(course: Course, assignment: str) -> None:
    """Make the assignment's submissions gradable (``intake``), saying what was done to which."""
    ensure_generated(course, assignment)
    for student, notes in intake(course.root, assignment, course.notebook_names(assignment)).items():
        print(f"{student}/{assignment}: " + "; ".join(notes))
        record_intake(course.root, assignment, student, notes)


def autograde(course: Course, assignment: str | None = None, jobs: int | None = None, resume: bool = True,
              progress=None, kernel_pool: bool = True, scheduler: str | None = None) -> list:
    """Grade every collected submission (on a Dask cluster: this machine's own, of ``jobs``
    workers, or the one at ``scheduler``; skipping those graded and unchanged; with
    ``kernel_pool``, in kernels forked from a warm zygote rather than started afresh). None:
    as ``c.ParallelGrading`` says."""
    from .grading import grade_assignments, work_expected

    to_grade = submitted_assignments(course, assignment)
    if not to_grade:
        raise PipelineError("there are no submissions to grade: run `make collect` first")
    # the workers start first: they import nbgrader and warm their kernel pools while the
    # submissions are taken in
    with grading_session(course, jobs, scheduler, kernel_pool, work_expected(course, to_grade, resume)) \
            as (config, grader):
        say_how_tests_are_decided(course, to_grade, config)
        for name in to_grade:
            take_in(course, name)
        return grade_assignments(course, grader, to_grade, resume, progress)


def feedback(course: Course, assignment: str | None = None) -> list[Path]:
    done = [name for name in covered_assignments(course, assignment) if any((course.root / "autograded").glob(f"*/{name}"))]
    if not done:
        raise PipelineError("nothing is graded yet: run `make autograde` first")
    for name in done:
        course.nbgrader("generate_feedback", name, "--force")
    return sorted(path for name in done for path in (course.root / "feedback").glob(f"*/{name}/*.html"))


def export(course: Course, path: str = "grades.csv") -> Path:
    url = course.db_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise PipelineError("there is no gradebook yet: run `make autograde` first")
    course.nbgrader("export", "--to", path)
    return course.root / path
