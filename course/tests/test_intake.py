"""Intake: every submission is made gradable, and nothing the student sent is lost."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from course.intake import REPLACED_NOTE, intake, replace_with_release


def _release(tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("# your answer here")]), folder / "hw.ipynb")
    return folder


def test_each_submission_replaced_is_kept_and_the_empty_copy_never_over_one(tmp_path):
    release, submitted = _release(tmp_path), tmp_path / "submitted"
    submitted.mkdir()
    notebook = submitted / "hw.ipynb"
    notebook.write_text("first, not a notebook")
    replace_with_release(submitted, "hw", release, "reason one")
    replace_with_release(submitted, "hw", release, "reason two")  # the empty copy failed too
    assert (submitted / "hw.ipynb.unreadable").read_text() == "first, not a notebook"
    assert not (submitted / "hw.ipynb.unreadable.1").exists()

    notebook.write_text("second, not a notebook either")  # resubmitted over the empty copy
    replace_with_release(submitted, "hw", release, "reason three")
    assert (submitted / "hw.ipynb.unreadable").read_text() == "first, not a notebook"
    assert (submitted / "hw.ipynb.unreadable.1").read_text() == "second, not a notebook either"
    graded = nbformat.read(notebook, as_version=4)
    assert graded.cells[0].source.startswith(REPLACED_NOTE) and "reason three" in graded.cells[0].source
    assert graded.cells[1].source == "# your answer here"


def _cell(source, grade_id, **role):
    cell = new_code_cell(source)
    cell.metadata.nbgrader = {"grade_id": grade_id, "grade": False, "solution": False, "locked": False,
                              "schema_version": 3, **role}
    return cell


def _chapter(tmp_path):
    """A released chapter (a locked setup cell, an answer, a locked test) and its submissions' folder."""
    release = tmp_path / "release" / "ch"
    release.mkdir(parents=True)
    released = new_notebook(cells=[_cell("import math", "setup", locked=True),
                                   _cell("# your answer here", "answer", solution=True),
                                   _cell("assert answer == 42", "test", grade=True, locked=True, points=1)])
    nbformat.write(released, release / "hw.ipynb")
    return released


def _submit(tmp_path, student, name, text):
    folder = tmp_path / "submitted" / student / "ch"
    folder.mkdir(parents=True)
    (folder / name).write_text(text)
    return folder


def test_intake_repairs_what_nbgrader_would_reject_and_keeps_the_original_as_sent(tmp_path):
    released = _chapter(tmp_path)
    submission = nbformat.from_dict(released)
    submission.cells[1].source = "answer = 42"
    twice = nbformat.from_dict(submission.cells[1])  # an answer cell twice
    twice.id = "answer-again"
    submission.cells.insert(2, twice)
    submission.cells[3].metadata.nbgrader.update(grade=False, solution=True, locked=False)  # the test made an answer
    sent = nbformat.writes(submission)
    folder = _submit(tmp_path, "ann", "hw.ipynb", sent)
    _submit(tmp_path, "bob", "homework (1).ipynb", nbformat.writes(released))
    _submit(tmp_path, "cy", "hw.ipynb", '{"cells": [')

    notes = intake(tmp_path, "ch", ["hw"])

    assert notes["ann"] == ["removed repeated copies of cells answer", "restored the locked cells test"]
    assert (folder / "hw.ipynb.original").read_text() == sent
    repaired = nbformat.read(folder / "hw.ipynb", as_version=4)
    assert [c.source for c in repaired.cells] == ["import math", "answer = 42", "assert answer == 42"]
    assert repaired.cells[2].metadata.nbgrader == released.cells[2].metadata.nbgrader
    assert notes["bob"] == ["renamed homework (1).ipynb to hw.ipynb"]
    assert notes["cy"][0].startswith("hw.ipynb: NotJSONError") and notes["cy"][0].endswith(
        "graded as an empty submission")
    assert (tmp_path / "submitted" / "cy" / "ch" / "hw.ipynb.unreadable").read_text() == '{"cells": ['
    assert intake(tmp_path, "ch", ["hw"]) == {}  # once repaired, nothing more to do


def test_a_notebook_that_is_json_but_not_a_valid_notebook_is_graded_as_an_empty_copy(tmp_path):
    _chapter(tmp_path)
    folder = _submit(tmp_path, "dee", "hw.ipynb", '{"cells": "none", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    notes = intake(tmp_path, "ch", ["hw"])
    assert notes["dee"][0].startswith("hw.ipynb: ValidationError")
    assert REPLACED_NOTE in (folder / "hw.ipynb").read_text()
