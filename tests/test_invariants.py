"""The grading design's invariants (docs/grading.md), each as a test."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograders.bank import with_answers
from autograders.tests import leaks, toy
from autograders.tests.toy import make_toy_course
from course import operations
from course.course_dir import PipelineError

REPO = Path(__file__).resolve().parents[1]


def _reference(course):
    return nbformat.read(course.root / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb", as_version=4)


def _grade(course):
    operations.autograde(course, toy.ASSIGNMENT)
    return course.scores(toy.ASSIGNMENT)


def test_1_without_the_judge_no_test_cell_gives_points():
    # The stock pipeline with the sandbox but without the judge: even the reference gets nothing,
    # because an unjudged probe report always scores 0.
    course = make_toy_course(
        "c.Autograde.autograde_preprocessors = [p for p in c.Autograde.autograde_preprocessors "
        "if p.__name__ != 'JudgeProbeReports']\n")
    course.submit_notebook("reference", toy.ASSIGNMENT, _reference(course))
    course.nbgrader("autograde", toy.ASSIGNMENT)
    scores = course.scores(toy.ASSIGNMENT)["reference"]
    assert scores and all(score == 0 for score, _ in scores.values()), scores


def test_2_released_notebooks_hold_no_hidden_test_code():
    released = list((REPO / "release").glob("*/*.ipynb"))
    assert released, "nothing in release/"
    for path in released:
        text = path.read_text()
        for marker in ("HIDDEN TESTS", "course_probe", "cp.report"):
            assert marker not in text, f"{marker} in {path}"


def test_2_feedback_holds_no_hidden_test_code_in_any_encoding(toy_course):
    # correct answers that carry the hidden tests out: through the batch not yet run, through
    # IPython's history in a later cell, and through a display updated while the tests run
    channels = ("pending_batch", "history", "display_update")
    for name in channels:
        toy_course.submit_notebook(name, toy.ASSIGNMENT, with_answers(_reference(toy_course), leaks.CHANNELS[name][0]))
    scores = _grade(toy_course)
    operations.feedback(toy_course, toy.ASSIGNMENT)
    for name in channels:
        assert sum(score for score, _ in scores[name].values()) == 5, scores[name]
        html = (toy_course.root / "feedback" / name / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html").read_text()
        assert not leaks.hidden_code_in(html) and not leaks.smuggled(html), name


def test_6_grading_twice_gives_the_same_scores(toy_course):
    reference = _reference(toy_course)
    toy_course.submit_notebook("right", toy.ASSIGNMENT, reference)
    toy_course.submit_notebook("wrong", toy.ASSIGNMENT, with_answers(reference, {"halve": "def halve(x):\n    return x"}))
    first = _grade(toy_course)
    toy_course.nbgrader("autograde", toy.ASSIGNMENT, "--force")
    assert toy_course.scores(toy.ASSIGNMENT) == first
    assert sum(s for s, _ in first["right"].values()) == 5
    assert first["wrong"]["halve_hidden"][0] == 0


@pytest.mark.parametrize("broken_config, reason", [
    ("this is not python", "broken"),
    ("c.SandboxedExecute.kernel_name = 'python3'\n", "kernel"),
    ("c.Autograde.autograde_preprocessors = []\n", "pipeline"),
])
def test_7_grading_fails_closed(toy_course, broken_config, reason):
    with open(toy_course.root / "nbgrader_config.py", "a") as config:
        config.write("\n" + broken_config + "\n")
    toy_course.submit_notebook("someone", toy.ASSIGNMENT, _reference(toy_course))
    with pytest.raises(PipelineError, match=reason):
        operations.autograde(toy_course, toy.ASSIGNMENT)
    assert not (toy_course.root / "autograded").exists()


def test_7_the_judge_refuses_an_unsandboxed_kernel_even_under_plain_nbgrader(toy_course):
    with open(toy_course.root / "nbgrader_config.py", "a") as config:
        config.write("\nc.SandboxedExecute.kernel_name = 'python3'\n")
    toy_course.submit_notebook("someone", toy.ASSIGNMENT, _reference(toy_course))
    result = toy_course.nbgrader("autograde", toy.ASSIGNMENT, check=False)
    assert result.returncode != 0
    assert "refusing to judge" in result.stdout + result.stderr
