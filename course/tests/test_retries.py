"""What a worker does when nbgrader gives up on a submission (``course.retries``), with a fake
nbgrader API: no kernel runs here."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from course.course_dir import Course
from course.retries import RetryPolicy, last_error

ASSIGNMENT, STUDENT, NOTEBOOK = "01_toy", "alice", "toy"


class FakeAPI:
    """nbgrader's API, failing the first ``failures`` autogrades with ``log``."""

    def __init__(self, failures: int, log: str = "Traceback …\nUnicodeEncodeError: 'utf-8' codec can't encode\n"):
        self.failures, self.log, self.calls = failures, log, 0

    def autograde(self, assignment, student, force, create):
        self.calls += 1
        if self.calls <= self.failures:
            return {"success": False, "error": None, "log": self.log}
        return {"success": True, "error": None, "log": ""}


def _course(tmp_path: Path) -> Course:
    for folder in (tmp_path / "source" / ASSIGNMENT, tmp_path / "release" / ASSIGNMENT,
                   tmp_path / "submitted" / STUDENT / ASSIGNMENT):
        folder.mkdir(parents=True)
        nbformat.write(new_notebook(cells=[new_code_cell("x = 1\n")]), folder / f"{NOTEBOOK}.ipynb")
    return Course(tmp_path)


def test_a_submission_nbgrader_grades_at_once_is_graded_once(tmp_path):
    api = FakeAPI(failures=0)
    result = RetryPolicy().grade_submission(api, _course(tmp_path), ASSIGNMENT, STUDENT)
    assert (result.success, result.replaced, result.error, api.calls) == (True, "", "", 1)


def test_one_failure_is_tried_again_and_the_submission_is_kept(tmp_path):
    api = FakeAPI(failures=1)
    result = RetryPolicy().grade_submission(api, _course(tmp_path), ASSIGNMENT, STUDENT)
    assert (result.success, result.replaced, api.calls) == (True, "", 2)
    assert not list((tmp_path / "submitted" / STUDENT / ASSIGNMENT).glob("*.unreadable"))


def test_after_every_attempt_an_empty_copy_is_graded_with_the_errors_name(tmp_path):
    api = FakeAPI(failures=2)
    result = RetryPolicy().grade_submission(api, _course(tmp_path), ASSIGNMENT, STUDENT)
    assert (result.success, result.replaced, api.calls) == (True, "the grader could not run it (UnicodeEncodeError)", 3)
    submitted = tmp_path / "submitted" / STUDENT / ASSIGNMENT
    assert "could not run it (UnicodeEncodeError)" in (submitted / f"{NOTEBOOK}.ipynb").read_text()
    assert (submitted / f"{NOTEBOOK}.ipynb.unreadable").is_file()  # the submission is kept beside it


def test_the_number_of_attempts_is_the_courses_setting(tmp_path):
    config = Config()
    config.RetryPolicy.nbgrader_attempts = 3
    api = FakeAPI(failures=2)
    result = RetryPolicy(config=config).grade_submission(api, _course(tmp_path), ASSIGNMENT, STUDENT)
    assert (result.success, result.replaced, api.calls) == (True, "", 3)
    assert RetryPolicy.class_traits()["nbgrader_attempts"].help  # documented, as every setting is


def test_a_copy_nbgrader_cannot_grade_either_fails_with_its_error(tmp_path):
    result = RetryPolicy().grade_submission(FakeAPI(failures=3), _course(tmp_path), ASSIGNMENT, STUDENT)
    assert (result.success, result.replaced) == (False, "the grader could not run it (UnicodeEncodeError)")
    assert result.error.startswith("UnicodeEncodeError: ")


def test_the_last_error_nbgrader_logs_is_the_reason():
    log = "[AutogradeApp] ValueError: first\n  more\nnbconvert.CellExecutionError: second\nnot an error line\n"
    assert last_error(log) == "nbconvert.CellExecutionError: second"
    assert last_error("nothing failed here") == "unknown error"
    assert len(last_error("KeyError: " + "x" * 500)) == 200
