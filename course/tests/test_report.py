"""The instructor's report without grading: similarity on known answers, a gradebook with no
submission yet, and a 500-student synthetic class (course/tests/synthetic_class.py) that must
render in under 10 s and stay readable."""
from __future__ import annotations

import csv
import os
import time
from html.parser import HTMLParser
from unittest import mock

import nbformat
import pytest

from autograders.bank import answer_cells, bank_entries
from course.classroom import renamed_variables
from course.course_dir import REPO, Course, assignments, nbgrader_env, source_notebook
from course.report import PER_TEST_CSV, build_report
from course.report.similarity import document, similar_pairs

from .synthetic_class import make_class

CHAPTER = assignments()[0]
COLLAPSE_AFTER = 12  # names a list shows before it folds into <details> (the template's people())


def _answers(correct_pick):
    entries = [e for e in bank_entries(CHAPTER) if e.correct]
    exercises = list(answer_cells(nbformat.read(source_notebook(CHAPTER), as_version=4)))
    return {x: correct_pick([e for e in entries if e.exercise == x]).path.read_text() for x in exercises}, exercises


def test_a_renamed_copy_is_flagged_and_independent_correct_answers_are_not():
    source = nbformat.read(source_notebook(CHAPTER), as_version=4)
    released = nbformat.read(REPO / "release" / CHAPTER / f"{source_notebook(CHAPTER).stem}.ipynb", as_version=4)
    own, exercises = _answers(lambda found: found[-1])
    copied = {x: renamed_variables(text) for x, text in own.items()}
    other, _ = _answers(lambda found: found[0])
    reference = {x: cell.source for x, cell in answer_cells(source).items()}
    assert copied != own, "the copy must differ from the original"
    stubs = document({x: cell.source for x, cell in answer_cells(released).items()}, exercises)
    found = similar_pairs({"own": document(own, exercises), "copy": document(copied, exercises),
                           "other": document(other, exercises), "reference": document(reference, exercises)}, stubs)
    pairs = {frozenset((p.first, p.second)): p for p in found.pairs}
    assert frozenset(("own", "copy")) in pairs
    assert pairs[frozenset(("own", "copy"))].score > 0.9
    assert "<mark>" in pairs[frozenset(("own", "copy"))].first_html
    assert frozenset(("other", "reference")) not in pairs


def test_starter_code_alone_is_never_similar():
    released = nbformat.read(REPO / "release" / CHAPTER / f"{source_notebook(CHAPTER).stem}.ipynb", as_version=4)
    stubs = {x: cell.source for x, cell in answer_cells(released).items()}
    text = document(stubs, list(stubs))
    assert similar_pairs({"a": text, "b": text}, text).pairs == []


def test_a_course_with_no_gradebook_yet_says_so(tmp_path):
    course = Course.create(tmp_path / "course", [CHAPTER])
    page = build_report(course).read_text()
    assert "No submissions have been graded yet" in page
    assert not (course.root / PER_TEST_CSV).exists()


def test_a_gradebook_with_no_submissions_says_so(tmp_path):
    from nbgrader.api import Gradebook

    course = Course.create(tmp_path / "course", [CHAPTER])
    with mock.patch.dict(os.environ, nbgrader_env()), Gradebook(course.db_url()) as gb:
        gb.add_assignment(CHAPTER)
        gb.add_student("alice")
    page = build_report(course).read_text()
    assert "No submissions have been graded yet" in page
    assert f"The gradebook knows {CHAPTER}, with no graded submission" in page


class NameLists(HTMLParser):
    """The longest list of names the page shows without folding it into <details>."""

    def __init__(self):
        super().__init__()
        self.details, self.in_names, self.count, self.longest_open = 0, 0, 0, 0

    def handle_starttag(self, tag, attrs):
        if tag == "details":
            self.details += 1
        if tag == "span" and ("class", "names") in attrs:
            self.in_names, self.count = 1, 0
        elif self.in_names and tag in ("a", "span"):
            self.count += 1

    def handle_endtag(self, tag):
        if tag == "details":
            self.details -= 1
        if tag == "span" and self.in_names and self.details == 0:
            self.longest_open = max(self.longest_open, self.count)


@pytest.fixture(scope="module")
def large_class(tmp_path_factory):
    return make_class(tmp_path_factory.mktemp("large") / "course", 500)


def test_a_class_of_500_renders_in_under_10_s_and_stays_readable(large_class):
    start = time.monotonic()
    page = build_report(large_class)
    seconds = time.monotonic() - start
    print(f"report of 500 students: {seconds:.1f} s")
    assert seconds < 10, f"the report took {seconds:.1f} s"
    html = page.read_text()
    assert "500 students in the gradebook" in html
    assert len(html) < 4_000_000, "the page must stay light enough to open"
    lists = NameLists()
    lists.feed(html)
    assert lists.longest_open <= COLLAPSE_AFTER, "a long list of names must be folded"
    figures = sorted(p.name for p in (page.parent / "figures").glob("*.png"))
    assert len(figures) == 2 * len(assignments()) + 1
    rows = list(csv.DictReader(open(large_class.root / PER_TEST_CSV)))
    graded = sum(1 for _ in large_class.root.glob("autograded/*/*/*.ipynb"))
    assert len({(r["student_id"], r["assignment"]) for r in rows}) == graded
    assert {r["verdict"] for r in rows} == {"passed", "failed"}
    assert "CellTimeoutError" in html and "late" in html
