"""How the parallel grader's parent hands out tasks when workers die (fake workers, no kernels)."""
from __future__ import annotations

import sys
from collections import Counter

import pytest

from autograders.tests import toy
from course import grading, operations
from course.grading import run_tasks
from course.worker_pipe import Task, WorkerResult
from course.course_dir import Course, PipelineError

# A worker that answers each task at once, and dies on a task named "kill…" (its reference when
# the assignment is named so), or after half an answer on one named "half…": it reads the JSON
# lines the real worker reads, and answers in kind.
FAKE_WORKER = """
import json, os, sys
for line in sys.stdin:
    task = json.loads(line)
    if (task["student"] or task["assignment"]).startswith("kill"):
        os._exit(1)
    if (task["student"] or "").startswith("half"):
        sys.stdout.write('{"success": tr')
        sys.stdout.flush()
        os._exit(1)
    print(json.dumps({"success": True, "error": "", "seconds": 0.0, "pooled_kernels": 0, "pools_started": 0}),
          flush=True)
"""


class FakeWorker(grading.Worker):
    started = 0

    @staticmethod
    def command(course, kernel_pool):
        FakeWorker.started += 1
        return [sys.executable, "-c", FAKE_WORKER]


@pytest.fixture
def fake_workers(monkeypatch, tmp_path):
    FakeWorker.started = 0
    monkeypatch.setattr(grading, "Worker", FakeWorker)
    return Course(tmp_path)


def _run(course, tasks, jobs):
    done = Counter()
    results = run_tasks(course, tasks, jobs, lambda task, result: done.update([task]))
    assert all(count == 1 for count in done.values()), f"a task was finished twice: {done}"
    assert set(done) == set(results)
    return results


@pytest.mark.parametrize("death", ["kill_me", "half_an_answer"])
def test_a_task_that_kills_its_worker_is_retried_once_and_the_others_are_all_graded(fake_workers, death):
    tasks = [Task("ch")] + [Task("ch", s) for s in ("a", death, "b", "c", "d")]
    results = _run(fake_workers, tasks, jobs=2)
    assert results[Task("ch", death)] == WorkerResult(success=False, error="the grading process died, twice")
    assert all(results[task].success for task in tasks if task.student != death)
    assert FakeWorker.started == 4  # two, and one in place of each that died


def test_workers_are_replaced_only_so_often_and_what_is_left_fails_plainly(fake_workers):
    tasks = [Task("ch")] + [Task("ch", s) for s in ("kill_1", "kill_2", "a")]
    results = _run(fake_workers, tasks, jobs=1)
    assert FakeWorker.started == 2  # one, and one replacement: then no worker is left
    assert results[Task("ch", "kill_1")].error == "the grading process died, twice"
    assert {results[Task("ch", s)].error for s in ("kill_2", "a")} == {"every grading process died"}


def test_a_reference_that_kills_its_workers_drops_its_chapter_only(fake_workers):
    tasks = [Task("kill_chapter"), Task("kill_chapter", "a"), Task("ok"), Task("ok", "b")]
    results = _run(fake_workers, tasks, jobs=2)
    assert results[Task("kill_chapter")].error == "the grading process died, twice"
    assert Task("kill_chapter", "a") not in results  # dropped: its reference could not be observed
    assert results[Task("ok")].success and results[Task("ok", "b")].success


def test_the_workers_start_before_intake_and_none_start_when_nothing_is_left_to_grade(monkeypatch, toy_course):
    FakeWorker.started = 0
    monkeypatch.setattr(grading, "Worker", FakeWorker)
    started_by_intake = []
    intake = operations.intake
    monkeypatch.setattr(operations, "intake", lambda *args: started_by_intake.append(FakeWorker.started)
                        or intake(*args))
    toy_course.submit_notebook("someone", toy.ASSIGNMENT, toy.toy_notebook())

    (run,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert run.graded == ["someone"] and started_by_intake == [2]
    (toy_course.root / "autograded" / "someone" / toy.ASSIGNMENT).mkdir(parents=True)  # what nbgrader writes

    (again,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert again.skipped == ["someone"] and FakeWorker.started == 2  # a resumed run with no work starts none



def test_every_chapters_reference_is_handed_out_before_any_submission(monkeypatch, tmp_path):
    """A chapter's submissions wait for its reference: were it handed out only after the
    submissions of the chapters before it, a worker would sit idle while another observes it."""
    given = []

    class RecordingCrew:
        def __init__(self, *args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def run(self, tasks, on_done):
            given.extend(tasks)
            return {task: WorkerResult(success=task.student is None, error="not graded in this test") for task in tasks}

    monkeypatch.setattr(grading, "Crew", RecordingCrew)
    for chapter in ("ch1", "ch2"):
        for student in ("a", "b"):
            (tmp_path / "submitted" / student / chapter).mkdir(parents=True)
    with pytest.raises(PipelineError, match="could not be graded"):
        grading.grade_assignments(Course(tmp_path), ["ch1", "ch2"], jobs=2, resume=False)
    assert given == [Task("ch1"), Task("ch2"), Task("ch1", "a"), Task("ch1", "b"), Task("ch2", "a"), Task("ch2", "b")]


def test_the_configs_jobs_set_the_workers_when_the_run_names_none(monkeypatch, toy_course):
    FakeWorker.started = 0
    monkeypatch.setattr(grading, "Worker", FakeWorker)
    with open(toy_course.root / "nbgrader_config.py", "a") as config:
        config.write("\nc.ParallelGrading.jobs = 3\n")
    toy_course.submit_notebook("someone", toy.ASSIGNMENT, toy.toy_notebook())
    (run,) = operations.autograde(toy_course, toy.ASSIGNMENT)
    assert run.graded == ["someone"] and FakeWorker.started == 3
