"""The reference's side of every comparison (``autograders.reference``): the course's secret,
the seeds drawn from it, and the reference's reports, observed once and cached. A fake executor
stands in for the sandboxed kernel: no kernel runs here."""
from __future__ import annotations

import json
import stat

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograders.reference import (CACHE_DIR, PLAIN, SECRET_FILE, UnobservableReferenceError, course_secret,
                                   grading_seed, reference_reports)
from course_probe import MIME_TYPE

PROBE_CELL = "import course_probe\ncourse_probe.report(probe)\n"


def _test_cell(grade_id, source=PROBE_CELL):
    return new_code_cell(source, metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": grade_id,
                                                        "points": 2}})


def _source(tmp_path, *cells):
    folder = tmp_path / "source" / "01_toy"
    folder.mkdir(parents=True)
    path = folder / "toy.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1\n"), *cells]), path)
    return path


class FakeExecute:
    """Gives each probe test cell the report ``reports[grade_id]`` (default: a clean one) and
    each plain test cell ``plain_outputs``; records what it was asked to run."""

    def __init__(self, reports=None, plain_outputs=()):
        self.reports, self.plain_outputs, self.calls = reports or {}, list(plain_outputs), []

    def __call__(self, nb, resources):
        self.calls.append(resources)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id and "course_probe" in cell.source:
                report = self.reports.get(grade_id, {"expectations": [{"name": grade_id}], "error": None})
                cell.outputs = [] if report is None else [new_output("display_data",
                                                                     data={MIME_TYPE: json.dumps(report)})]
            elif grade_id:
                cell.outputs = self.plain_outputs
        return nb, resources


def test_the_course_secret_is_made_once_and_readable_by_its_owner_alone(tmp_path):
    secret = course_secret(tmp_path)
    assert secret == tmp_path / SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text()) == 64  # 32 random bytes, in hex
    first = secret.read_text()
    assert course_secret(tmp_path).read_text() == first  # kept, not drawn again


def test_a_grading_seed_is_the_same_each_time_and_differs_by_assignment_notebook_and_course(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir(), theirs.mkdir()
    seed = grading_seed(ours, "01_toy", "toy")
    assert seed == grading_seed(ours, "01_toy", "toy")
    assert 0 <= seed < 2**31
    others = {grading_seed(ours, "02_toy", "toy"), grading_seed(ours, "01_toy", "other"),
              grading_seed(theirs, "01_toy", "toy")}
    assert seed not in others and len(others) == 3


def test_the_references_reports_are_observed_once_per_seed_and_then_read_from_the_cache(tmp_path):
    source = _source(tmp_path, _test_cell("a_test"), _test_cell("b_test"))
    execute = FakeExecute()
    reports = reference_reports(tmp_path, source, 7, execute)
    assert reports == {"a_test": {"expectations": [{"name": "a_test"}], "error": None},
                       "b_test": {"expectations": [{"name": "b_test"}], "error": None}}
    assert len(execute.calls) == 1 and execute.calls[0]["course_probe_seed"] == 7
    assert execute.calls[0]["metadata"]["path"] != str(source.parent)  # run in a copy of its folder
    assert reference_reports(tmp_path, source, 7, execute) == reports and len(execute.calls) == 1
    assert list((tmp_path / CACHE_DIR / "reference").glob("*.json"))
    reference_reports(tmp_path, source, 8, execute)  # another seed: observed again
    assert len(execute.calls) == 2 and execute.calls[1]["course_probe_seed"] == 8


def test_a_changed_source_notebook_is_observed_again(tmp_path):
    source = _source(tmp_path, _test_cell("a_test"))
    execute = FakeExecute()
    reference_reports(tmp_path, source, 7, execute)
    nb = nbformat.read(source, as_version=4)
    nb.cells.append(_test_cell("c_test"))
    nbformat.write(nb, source)
    assert set(reference_reports(tmp_path, source, 7, execute)) == {"a_test", "c_test"}
    assert len(execute.calls) == 2


def test_a_plain_test_cell_the_reference_passes_is_kept_as_plain(tmp_path):
    source = _source(tmp_path, _test_cell("plain_test", "assert x == 1\n"))
    assert reference_reports(tmp_path, source, 7, FakeExecute()) == {"plain_test": PLAIN}


@pytest.mark.parametrize("reports, plain_outputs, problem", [
    ({"a_test": {"expectations": [], "error": "ValueError"}}, (), "ValueError"),
    ({"a_test": None}, (), "no report"),
    ({}, [new_output("error", ename="AssertionError", evalue="", traceback=[])], "0 of 2 points"),
])
def test_a_reference_that_fails_its_own_test_stops_grading(tmp_path, reports, plain_outputs, problem):
    source = _source(tmp_path, _test_cell("a_test"), _test_cell("plain_test", "assert x == 2\n"))
    with pytest.raises(UnobservableReferenceError, match=f"fails its own test .*{problem}"):
        reference_reports(tmp_path, source, 7, FakeExecute(reports, plain_outputs))
    assert not list((tmp_path / CACHE_DIR).rglob("*.json"))  # nothing cached from a broken reference


def test_without_its_source_notebook_there_is_no_reference(tmp_path):
    with pytest.raises(UnobservableReferenceError, match="no source notebook"):
        reference_reports(tmp_path, tmp_path / "source" / "01_toy" / "missing.ipynb", 7, FakeExecute())
