"""Intake's replacement of a submission that cannot be graded: nothing the student sent is lost."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from course.intake import REPLACED_NOTE, replace_with_release


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
