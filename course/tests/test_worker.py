"""How a run hands out tasks and reports workers that die, on a real local Dask cluster with fake
tasks: no kernel runs here. A fake task kills its worker process on a student (or a chapter)
whose name starts with "kill", and records the order in which it ran."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from autograders.tests import toy
from course import cluster, grading, operations
from course.course_dir import PipelineError
from course.portable import Graded
from course.stamps import mark_graded

ORDER = Path(os.environ.get("COURSE_FAKE_ORDER", "/tmp/course-fake-order"))


def fake_observe(name, chapter):
    if chapter.assignment.startswith("kill"):
        os._exit(1)
    with open(ORDER, "a") as order:
        order.write(f"observe {chapter.assignment}\n")
    return Graded(success=True)


def fake_grade(name, chapter, reference, submission):
    if submission.student.startswith("kill"):
        os._exit(1)
    if submission.student.startswith("slow"):
        time.sleep(3)
    if submission.student.startswith("stuck") and "start" not in ORDER.read_text():  # the first time only
        with open(ORDER, "a") as order:
            order.write(f"start {submission.assignment}/{submission.student}\n")
        time.sleep(60)
    with open(ORDER, "a") as order:
        order.write(f"grade {submission.assignment}/{submission.student}\n")
    return Graded(success=False, error="not graded in this test")


@pytest.fixture
def fake_tasks(monkeypatch, toy_course):
    ORDER.unlink(missing_ok=True)
    monkeypatch.setattr(grading, "observe", fake_observe)
    monkeypatch.setattr(grading, "grade", fake_grade)
    yield toy_course
    ORDER.unlink(missing_ok=True)


def _add_chapter(course, name: str) -> None:
    shutil.copytree(course.root / "source" / toy.ASSIGNMENT, course.root / "source" / name)


def _submit(course, assignment: str, *students: str) -> None:
    for student in students:
        folder = course.root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        (folder / f"{toy.NOTEBOOK}.ipynb").write_text("{}")


def _ungraded(error: str) -> dict[str, str]:
    """``{student/assignment: reason}`` from a run's error."""
    lines = [line.strip() for line in error.splitlines()[1:]]
    return dict(line.split(": ", 1) for line in lines)


def _grading(course, jobs: int, assignment=None) -> str:
    with pytest.raises(PipelineError) as error:
        operations.autograde(course, assignment, jobs=jobs, kernel_pool=False)  # no kernel runs here
    return str(error.value)


def test_a_task_that_kills_its_worker_twice_is_reported_and_the_others_are_all_done(fake_tasks):
    _submit(fake_tasks, toy.ASSIGNMENT, "a", "kill_me", "b", "c", "d")
    ungraded = _ungraded(_grading(fake_tasks, jobs=2))
    assert ungraded == {f"{s}/{toy.ASSIGNMENT}": "not graded in this test" for s in "abcd"} | {
        f"kill_me/{toy.ASSIGNMENT}": grading.WORKER_DIED}
    done = ORDER.read_text().splitlines()
    assert sorted(done) == sorted(f"grade {toy.ASSIGNMENT}/{s}" for s in "abcd") + [f"observe {toy.ASSIGNMENT}"]


def test_a_worker_missing_from_a_stale_list_while_it_grades_costs_no_grade(monkeypatch, fake_tasks):
    # the scheduler's list, as a client that read it at the wrong moment sees it: every other
    # look finds no worker at all; a task whose worker is alive is not taken for dead
    seen = grading.Grader.workers
    looks = iter(range(10 ** 6))
    monkeypatch.setattr(grading.Grader, "workers", lambda self: set() if next(looks) % 2 else seen(self))
    _submit(fake_tasks, toy.ASSIGNMENT, "slow_a", "slow_b", "c")
    ungraded = _ungraded(_grading(fake_tasks, jobs=2))
    assert ungraded == {f"{s}/{toy.ASSIGNMENT}": "not graded in this test" for s in ("slow_a", "slow_b", "c")}
    assert sorted(ORDER.read_text().splitlines()).count(f"grade {toy.ASSIGNMENT}/slow_a") == 1


def test_a_task_whose_worker_left_the_list_for_good_is_taken_back_and_given_to_another(monkeypatch, fake_tasks):
    # a worker retiring stays out of the run's list while Dask keeps its task waiting for it: the
    # task is taken back after the grace, given to the other worker, and no death is counted
    from course import dispatch

    monkeypatch.setattr(dispatch, "GONE_GRACE_S", 3)
    seen, hidden = grading.Grader.workers, []

    def workers(self):
        live = seen(self)
        if not hidden and ORDER.exists() and "start" in ORDER.read_text():  # stuck on the first worker
            hidden[:] = sorted(live)[:1]
        return live - set(hidden)

    monkeypatch.setattr(grading.Grader, "workers", workers)
    _submit(fake_tasks, toy.ASSIGNMENT, "stuck_a")
    start = time.monotonic()
    ungraded = _ungraded(_grading(fake_tasks, jobs=2))
    assert hidden and ungraded == {f"stuck_a/{toy.ASSIGNMENT}": "not graded in this test"}
    assert time.monotonic() - start < 45, "the task waited for the worker that left"


def test_a_reference_that_kills_its_workers_drops_its_chapter_only(fake_tasks):
    _add_chapter(fake_tasks, "kill_chapter")
    _submit(fake_tasks, "kill_chapter", "a")
    _submit(fake_tasks, toy.ASSIGNMENT, "b")
    error = _grading(fake_tasks, jobs=2)
    assert f"kill_chapter: {grading.WORKER_DIED}" in error and "reference could not be observed" in error
    assert f"grade {toy.ASSIGNMENT}/b" in ORDER.read_text() and "grade kill_chapter" not in ORDER.read_text()


def test_every_chapters_reference_runs_before_any_submission(fake_tasks):
    """A chapter's submissions wait for its reference: were it run only after the submissions
    of the chapters before it, a worker would sit idle while another observes it."""
    _add_chapter(fake_tasks, "01_toy")
    for chapter in (toy.ASSIGNMENT, "01_toy"):
        _submit(fake_tasks, chapter, "a", "b")
    _grading(fake_tasks, jobs=1)
    done = ORDER.read_text().splitlines()
    assert done[:2] == [f"observe {toy.ASSIGNMENT}", "observe 01_toy"] and len(done) == 6, done


def test_the_workers_start_before_intake_and_none_start_when_nothing_is_left_to_grade(monkeypatch, fake_tasks):
    clients, during_intake = [], []
    open_client = cluster.grading_client

    def recorded(jobs, *args):
        clients.append(jobs)
        return open_client(jobs, *args)

    monkeypatch.setattr(cluster, "grading_client", recorded)
    intake = operations.intake
    monkeypatch.setattr(operations, "intake", lambda *args: during_intake.append(len(clients)) or intake(*args))
    _submit(fake_tasks, toy.ASSIGNMENT, "someone")
    _grading(fake_tasks, jobs=2)
    assert clients == [2] and during_intake == [1]
    (fake_tasks.root / "autograded" / "someone" / toy.ASSIGNMENT).mkdir(parents=True)  # as if graded
    mark_graded(fake_tasks, toy.ASSIGNMENT, "someone")

    (again,) = operations.autograde(fake_tasks, toy.ASSIGNMENT, jobs=2, kernel_pool=False)
    assert again.skipped == ["someone"] and clients == [2]  # a resumed run with no work starts none


def test_the_configs_jobs_set_the_workers_when_the_run_names_none(monkeypatch, fake_tasks):
    clients = []
    open_client = cluster.grading_client
    monkeypatch.setattr(cluster, "grading_client", lambda jobs, *args: clients.append(jobs) or open_client(jobs, *args))
    with open(fake_tasks.root / "nbgrader_config.py", "a") as config:
        config.write("\nc.ParallelGrading.jobs = 3\n")
    _submit(fake_tasks, toy.ASSIGNMENT, "someone")
    with pytest.raises(PipelineError, match="not graded in this test"):
        operations.autograde(fake_tasks, toy.ASSIGNMENT, kernel_pool=False)
    assert clients == [3]
