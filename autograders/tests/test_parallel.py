"""Grading a class in parallel: no grade lost or counted twice, resumable, no state shared."""
from __future__ import annotations

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograders.bank import with_answers
from autograders.sandbox.pool import pool_possible
from autograders.tests import toy
from course import operations
from course.pipeline import PipelineError

WRONG_HALVE = "def halve(x):\n    return x\n"
LEAKER = ("import os, torch\nopen('/tmp/course-leak', 'w').write('x')\ntorch.leaked_state = 1\n"
          "os.environ['LEAK'] = '1'\ndef double(x):\n    return 2 * x\n")
VICTIM = ("import os, torch\nLEAK = os.path.exists('/tmp/course-leak') or hasattr(torch, 'leaked_state') "
          "or 'LEAK' in os.environ\ndef double(x):\n    return 3 * x if LEAK else 2 * x\n")


def _reference(course):
    return nbformat.read(course.root / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb", as_version=4)


def test_parallel_grading_counts_every_grade_once_and_resumes(toy_course):
    reference = _reference(toy_course)
    expected = {}
    for index in range(6):
        wrong = index % 2 == 1
        nb = with_answers(reference, {"halve": WRONG_HALVE}) if wrong else reference
        toy_course.submit_notebook(f"student{index}", toy.ASSIGNMENT, nb)
        expected[f"student{index}"] = 3.0 if wrong else 5.0

    (first,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert sorted(first.graded) == sorted(expected) and not first.failed
    # each kernel (the reference's, then one per submission) forked by a worker's kernel pool,
    # one pool per worker, where the sandbox runs
    assert (first.pooled_kernels, first.pools_started) == ((7, 2) if pool_possible() else (0, 0))
    scores = toy_course.scores(toy.ASSIGNMENT)
    assert {s: sum(v for v, _ in cells.values()) for s, cells in scores.items()} == expected
    with Gradebook(f"sqlite:///{toy_course.root / 'gradebook.db'}") as gb:
        submissions = gb.assignment_submissions(toy.ASSIGNMENT)
        assert sorted(s.student.id for s in submissions) == sorted(expected)  # one each, none twice
        assert all(len(s.notebooks) == 1 and len(s.notebooks[0].grades) == 4 for s in submissions)

    (again,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert again.graded == [] and sorted(again.skipped) == sorted(expected)

    toy_course.submit_notebook("student0", toy.ASSIGNMENT, with_answers(reference, {"halve": WRONG_HALVE}))
    (changed,) = operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2, kernel_pool=False)
    assert changed.graded == ["student0"]
    assert changed.pooled_kernels == changed.pools_started == 0  # every kernel started afresh
    assert sum(v for v, _ in toy_course.scores(toy.ASSIGNMENT)["student0"].values()) == 3.0


def test_one_submissions_state_is_invisible_to_the_next(toy_course):
    reference = _reference(toy_course)
    toy_course.submit_notebook("a_leaker", toy.ASSIGNMENT, with_answers(reference, {"double": LEAKER}))
    toy_course.submit_notebook("b_victim", toy.ASSIGNMENT, with_answers(reference, {"double": VICTIM}))
    operations.autograde(toy_course, toy.ASSIGNMENT, jobs=1)  # one worker: the victim runs right after
    scores = toy_course.scores(toy.ASSIGNMENT)
    assert all(score == top for score, top in scores["b_victim"].values()), scores["b_victim"]
    assert all(score == top for score, top in scores["a_leaker"].values())


def test_a_reference_that_fails_its_own_tests_stops_its_chapter(toy_course):
    toy_course.submit_notebook("student0", toy.ASSIGNMENT, _reference(toy_course))
    source = toy_course.root / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb"
    source.write_text(source.read_text().replace("return 2 * x", "raise RuntimeError('broken reference')"))
    with pytest.raises(PipelineError, match=f"(?s){toy.ASSIGNMENT}.*reference.*fails its own test"):
        operations.autograde(toy_course, toy.ASSIGNMENT, jobs=2)
    assert not (toy_course.root / "autograded" / "student0").exists()  # no grade from a broken reference
