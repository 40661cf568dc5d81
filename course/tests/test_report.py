"""The instructor's report without grading: similarity on known answers, a gradebook with no
submission yet, and a 500-student synthetic class (course/tests/synthetic_class.py) that must
render in under 10 s and stay readable."""
from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path
from unittest import mock

import nbformat
import pytest

from autograders.bank import answer_cells, bank_entries
from course.classroom import renamed_variables
from course.course_dir import REPO, Course, assignments, nbgrader_env, source_notebook
from course.report import PER_TEST_CSV, build_report
from course.report.similarity import filter_python, similar_pairs

from .synthetic_class import define, graded_notebook, make_class

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
    stubs = {x: cell.source for x, cell in answer_cells(released).items()}
    found = similar_pairs({"own": own, "copy": copied, "other": other, "reference": reference}, stubs, exercises)
    pairs = {(p.first, p.second): p for p in found.pairs}
    assert ("copy", "own") in pairs
    assert pairs["copy", "own"].score > 0.9
    assert [e.name for e in pairs["copy", "own"].exercises] == exercises
    assert all("<mark>" in e.first_html and "<mark>" in e.second_html for e in pairs["copy", "own"].exercises)
    assert ("other", "reference") not in pairs


def test_a_renamed_copy_renames_locals_and_still_runs_as_the_original():
    source = ("SCALE = 2  # module level\n"
              "def grow(x):\n    total = x * SCALE\n    return total\n"
              "def shrink(x):\n    SCALE = 3  # a local of the same name\n    return x / SCALE\n"
              "def count(items):\n    len = 0\n    for item in items:\n        len += 1\n    return len\n"
              "def size(items):\n    return len(items)\n")
    copy = renamed_variables(source)
    assert "total" not in copy and "item " not in copy and "#" not in copy
    original, renamed = {}, {}
    exec(source, original)
    exec(copy, renamed)
    for name, argument in [("grow", 5), ("shrink", 6), ("count", [1, 2]), ("size", [1, 2, 3])]:
        assert renamed[name](argument) == original[name](argument), f"the copy's {name} differs:\n{copy}"
        assert renamed[name](**{"x" if name in ("grow", "shrink") else "items": argument}) == original[name](argument)


SCORES = """import json, sys
from course.report.similarity import similar_pairs
answers, stubs, exercises = json.load(sys.stdin)
found = similar_pairs(answers, stubs, exercises)
print(json.dumps([found.total, [[p.first, p.second, p.score, p.shares] for p in found.pairs]]))
"""


def test_the_same_answers_give_the_same_pairs_and_scores_every_time():
    """Each ``make report`` is a new process, in which Python seeds its ``hash`` anew."""
    own, exercises = _answers(lambda found: found[-1])
    answers = {"own": own, "copy": {x: renamed_variables(t) for x, t in own.items()},
               "half": {x: (t if i % 2 else renamed_variables(t)) for i, (x, t) in enumerate(own.items())},
               "other": _answers(lambda found: found[0])[0]}
    given = json.dumps([answers, {}, exercises])
    runs = {subprocess.run([sys.executable, "-c", SCORES], input=given, capture_output=True, text=True, check=True,
                           cwd=REPO, env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(runs) == 1, f"the pairs differ from one run to the next: {runs}"


def test_starter_code_alone_is_never_similar():
    released = nbformat.read(REPO / "release" / CHAPTER / f"{source_notebook(CHAPTER).stem}.ipynb", as_version=4)
    stubs = {x: cell.source for x, cell in answer_cells(released).items()}
    assert similar_pairs({"a": stubs, "b": dict(stubs)}, stubs, list(stubs)).pairs == []


SHARED = (  # HTML's special characters, an entity's text, control and line-separator characters
    'def compare(left, right):\n'
    '    """Is <left> & "right" in order?"""\n'
    '    if left < right and right > 0 and left != "&amp;":\n'
    '        return left & right | (left << 2) >> 1\n'
    "    tag = '<b class=\"x\">&lt;\x01\x00</b>'\n"
    '    return [v for v in range(left) if v <= right and "&" in tag] + [total_of_things]')


def _shown(html_text: str) -> tuple[str, list[tuple[int, int]]]:
    """What a browser shows of an answer's HTML, and where in it the marks are."""
    text, marks = "", []
    for index, piece in enumerate(re.split(r"</?mark>", html_text)):
        start, text = len(text), text + html.unescape(piece)
        if index % 2:
            marks.append((start, len(text)))
    return text, marks


def test_the_two_answers_are_shown_as_written_with_only_the_shared_code_marked():
    own = {"ann": 'x = "<i>" if 1 < 2 & 3 else \'\u2028\x0c\'\n' + SHARED,
           "bob": "y = [q for q in 'a&b' if q > 'a']\n" + SHARED + "\nz = '&lt;' * 3 > '&amp;'\n"}
    found = similar_pairs({name: {"ex": code} for name, code in own.items()}, {"ex": ""}, ["ex"])
    assert len(found.pairs) == 1, "the copy was not found"
    pair = found.pairs[0]
    for name, shown in ((pair.first, pair.exercises[0].first_html), (pair.second, pair.exercises[0].second_html)):
        text, marks = _shown(str(shown))
        assert text == own[name], f"{name}'s answer is not shown as written"
        start = own[name].index(SHARED)
        assert marks and all(start <= a and b <= start + len(SHARED) for a, b in marks), \
            f"{name}: marks outside the shared code: {[text[a:b] for a, b in marks]}"
        assert sum(b - a for a, b in marks) > 0.8 * len(SHARED), f"{name}: the shared code is not marked"


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


def _cell(grade_id: str | None, kind: str, outputs: list) -> dict:
    """A graded notebook's code cell: an answer, a test cell or a lesson cell (``kind``)."""
    meta = {} if kind == "lesson" else {"nbgrader": {"grade_id": grade_id, "solution": kind == "answer",
                                                     "grade": kind == "test", "points": 1}}
    return nbformat.v4.new_code_cell("...", metadata=meta, outputs=outputs)


def test_a_limit_is_counted_once_by_its_exact_shape_and_a_grader_error_of_no_known_kind_says_so():
    from autograders.execute import OUTPUT_DROPPED, error_output
    from autograders.judge import COULD_NOT_RUN, Verdict
    from autograders.execute import GRADER_ERRORS
    from course.report.gather import LIMIT_KINDS, limits_hit

    def could_not_run(name):
        return Verdict(False, f"{COULD_NOT_RUN} ({name}). It is about: the sum").outputs()

    forged = f"{COULD_NOT_RUN} (MemoryLimit). It is about: nothing"
    cells = [
        # a student's own words, in their answers and outputs, are no limit
        _cell("a1", "answer", [nbformat.v4.new_output("error", ename="TestFailed", evalue=forged, traceback=["..."])]),
        _cell("a2", "answer", [nbformat.v4.new_output("stream", name="stdout", text=f"{OUTPUT_DROPPED} (not really)\n")]),
        _cell("a3", "answer", [nbformat.v4.new_output("error", ename="MemoryLimit", evalue="mine",
                                                      traceback=["---", "Cell In[3], line 1", "MemoryLimit: mine"])]),
        _cell("t1", "test", Verdict(False, "the sum (MemoryLimit) must be 3").outputs()),
        _cell("t2", "test", could_not_run("ZeroDivisionError")),
        # the grader's: a flood, then a time limit and the twenty cells it left unrun
        _cell("a4", "answer", [nbformat.v4.new_output("stream", name="stdout", text=f"\n{OUTPUT_DROPPED}\n")]),
        _cell("t3", "test", could_not_run("MemoryLimit")),
        # as nbgrader's error_on_timeout writes it
        _cell("a5", "answer", [nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="",
                                                      traceback=["CellTimeoutError: No reply from kernel"])]),
        *[_cell(f"t{n}", "test", could_not_run("NotRun")) for n in range(4, 14)],
        *[_cell(None, "lesson", [error_output("NotRun")]) for _ in range(10)],
    ]
    limits = limits_hit(cells, False, "nb")
    assert [(limit.kind, limit.cell) for limit in limits] == [("output", "a4"), ("memory", "t3"), ("time", "a5")]
    assert "20 cells after it were not run" in limits[-1].reason
    # cells left unrun with no limit before them (the notebook's time used up between two cells): one limit
    limits = limits_hit([_cell("a1", "answer", []), *[_cell(None, "lesson", [error_output("NotRun")])] * 5], False, "nb")
    assert [(limit.kind, limit.cell) for limit in limits] == [("time", "cell 2")]
    assert "5 cells" in limits[0].reason
    # each error the grader records has its kind; one the report has no kind for is the grader's, not a kernel's
    assert set(GRADER_ERRORS) <= set(LIMIT_KINDS)
    with mock.patch.dict("autograders.execute.GRADER_ERRORS", {"DiskFull": "the grader's disk was full"}):
        [limit] = limits_hit([_cell("a1", "answer", [error_output("DiskFull")])], False, "nb")
    assert (limit.kind, limit.reason) == ("grader", "DiskFull: the grader's disk was full")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [value for name, value in attrs if name in ("href", "src")]


ODD_NAMES = ["ana maría", "bo#1", "cy?x=1&y", "dee%20e"]  # student ids a URL must quote


@pytest.fixture(scope="module")
def odd_class(tmp_path_factory):
    course = make_class(tmp_path_factory.mktemp("odd") / "course", 0, names=ODD_NAMES, chapters=[CHAPTER])
    for graded in course.root.glob(f"autograded/*/{CHAPTER}/*.ipynb"):
        feedback = course.root / "feedback" / graded.parent.parent.name / CHAPTER / f"{graded.stem}.html"
        feedback.parent.mkdir(parents=True, exist_ok=True)
        feedback.write_text("<p>feedback</p>")
    return course


def test_each_link_to_feedback_opens_the_students_own_file_offline(odd_class):
    page = build_report(odd_class)
    links = Links()
    links.feed(page.read_text())
    opened = set()
    for href in (h for h in links.hrefs if not h.startswith("#")):  # not the page's own sections
        url = urllib.parse.urlsplit(urllib.parse.urljoin(page.as_uri(), href))  # as a browser reads it
        assert url.scheme == "file" and not url.query and not url.fragment, f"{href!r} is not a file's address"
        path = Path(urllib.parse.unquote(url.path))
        assert path.is_file(), f"{href!r} opens {path}, which does not exist"
        if "feedback" in path.parts:
            opened.add(path.relative_to(odd_class.root / "feedback").parts[0])
    assert opened == {p.name for p in (odd_class.root / "feedback").iterdir()} and len(opened) >= 3


def test_the_scores_are_nbgraders_own(odd_class):
    """The report reads the grades as plain rows (course.report.gather._grades): each one's score
    is nbgrader's, a manual score and extra credit included."""
    from nbgrader.api import Gradebook

    from course.report.gather import gather

    with mock.patch.dict(os.environ, nbgrader_env()), Gradebook(odd_class.db_url()) as gb:
        graded = gb.find_submission(CHAPTER, ODD_NAMES[0]).notebooks[0].grades
        graded[0].manual_score, graded[1].extra_credit = 0.5, 2.0
        gb.db.commit()
        expected = {s.student.id: (s.score, s.max_score) for s in gb.assignment_submissions(CHAPTER)}
    [chapter] = gather(odd_class).chapters
    assert set(chapter.submissions) == set(expected)
    for name, submission in chapter.submissions.items():
        assert (submission.score, submission.max_score) == pytest.approx(expected[name]), name


def test_only_tests_missing_from_a_notebook_that_was_read_count_as_deleted(tmp_path):
    """A chapter of two notebooks, one graded with a test cell deleted, the other missing from
    autograded/ (not graded): only the first one's test is deleted from the submission."""
    from nbgrader.api import Gradebook

    from course.report.gather import DELETED, gather

    course = Course.create(tmp_path / "course", [CHAPTER])
    source = nbformat.read(source_notebook(CHAPTER), as_version=4)
    with mock.patch.dict(os.environ, nbgrader_env()), Gradebook(course.db_url()) as gb:
        for notebook in ("first", "second"):
            define(gb, "two", source, notebook)
        gb.add_student("amy")
        gb.add_submission("two", "amy")
    graded = graded_notebook(source, {}, {}, [], limit=False)
    tests = [i for i, c in enumerate(graded.cells) if c.metadata.get("nbgrader", {}).get("grade")
             and not c.metadata.nbgrader.get("solution") and c.cell_type == "code"]
    deleted = graded.cells.pop(tests[0]).metadata.nbgrader["grade_id"]
    (course.root / "autograded" / "amy" / "two").mkdir(parents=True)
    nbformat.write(graded, course.root / "autograded" / "amy" / "two" / "first.ipynb")
    [chapter] = gather(course).chapters
    submission = chapter.submissions["amy"]
    assert [t.grade_id for t in submission.tests if t.message == DELETED] == [f"first/{deleted}"]
    assert any(f"first/{deleted}" in note for note in submission.repairs)
    assert not any("second/" in note for note in submission.repairs), submission.repairs


def test_a_submission_the_last_run_could_not_grade_is_shown_as_not_graded_with_its_reason(tmp_path):
    from course.intake import REPLACED_NOTE
    from course.report.records import record_grading

    course = make_class(tmp_path / "course", 0, names=["ann", "ben", "cat", "dan"], chapters=[CHAPTER])
    assert len(list(course.root.glob(f"autograded/*/{CHAPTER}/*.ipynb"))) == 4
    for student in ("ann", "cat", "eve"):
        (folder := course.root / "submitted" / student / CHAPTER).mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-11-01 11:00:00.000000 UTC")
    # ann's resubmission failed (her graded notebook is the last run's but one); eve's, her first, too
    record_grading(course.root, CHAPTER, "ann", 3.0, error="nbgrader: the notebook could not be read")
    record_grading(course.root, CHAPTER, "eve", 2.0, replaced=True, error="the grader could not run it (OSError)")
    # ben's graded notebook is gone; cat's is the empty copy graded in its place, which is graded
    shutil.rmtree(course.root / "autograded" / "ben")
    graded = next((course.root / "autograded" / "cat" / CHAPTER).glob("*.ipynb"))
    notebook = nbformat.read(graded, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f"{REPLACED_NOTE} the file was not JSON.** Kept."))
    nbformat.write(notebook, graded)
    record_grading(course.root, CHAPTER, "cat", 1.0, replaced=True, error="the file was not JSON")
    page = build_report(course).read_text()
    glance = page[page.index('id="glance"'):page.index('id="mistakes"')]
    text = re.sub(r"<[^>]+>", "", glance)
    assert re.search(r"(\d+) graded submissions", text).group(1) == "2", "cat's and dan's only"
    assert "Not graded by the last grading run: 3" in text
    for student, reason in [("ann", "nbgrader: the notebook could not be read"), ("ben", "no graded notebook"),
                            ("eve", "the grader could not run it (OSError)")]:
        row = re.search(rf"<tr><td><span class=\"names\">(<a [^>]*>|<span>){student}<.*?</tr>", glance)
        assert row and reason in html.unescape(row.group(0)), f"{student} not shown as not graded, with {reason!r}"
    assert "Missing (no submission): none" in glance
    graded_rows = {r["student_id"] for r in csv.DictReader(open(course.root / PER_TEST_CSV))}
    assert graded_rows == {"cat", "dan"}


class NameLists(HTMLParser):
    """The longest list of names the page shows unfolded: outside any closed <details>."""

    def __init__(self):
        super().__init__()
        self.details, self.spans, self.names_at, self.count, self.longest_open = [], 0, None, 0, 0

    def handle_starttag(self, tag, attrs):
        if tag == "details":
            self.details.append(any(name == "open" for name, _ in attrs))
        elif tag == "span":
            self.spans += 1
            if self.names_at is None and ("class", "names") in attrs:
                self.names_at, self.count, self.folded = self.spans, 0, not all(self.details)
                return
        if self.names_at is not None and tag in ("a", "span"):
            self.count += 1

    def handle_endtag(self, tag):
        if tag == "details":
            self.details.pop()
        elif tag == "span":
            if self.spans == self.names_at:
                if not self.folded:
                    self.longest_open = max(self.longest_open, self.count)
                self.names_at = None
            self.spans -= 1


@pytest.fixture(scope="module")
def large_class(tmp_path_factory):
    return make_class(tmp_path_factory.mktemp("large") / "course", 500)


def test_a_class_of_500_renders_in_under_10_s_and_stays_readable(large_class):
    """Timed in CPU seconds: the report runs in one process, so on a machine of its own that is
    its wall time, where on a shared one (CI's, this project's) the wall clock counts the others."""
    start, cpu = time.monotonic(), time.process_time()
    page = build_report(large_class)
    seconds, cpu = time.monotonic() - start, time.process_time() - cpu
    print(f"report of 500 students: {cpu:.1f} s of CPU, {seconds:.1f} s of wall time")
    assert cpu < 10, f"the report took {cpu:.1f} s of CPU"
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
    # a limit hit in an answer cell and one in a test cell, and late submissions
    assert "CellTimeoutError: " in html and "MemoryLimit: " in html
    assert " late</td>" in html


def test_python_filtering_matches_copydetects_and_maps_back_to_the_code():
    from copydetect.utils import filter_code

    from course.report.similarity import _filter_other

    code = 'class Net(nn.Module):\n    def forward(self, X):  # a comment\n        return torch.cat([X, X], dim=-1) + len("ab")\n'
    filtered, spans = filter_python(code)
    assert filtered == filter_code(code, "a.py", "python")[0].replace('"S"', "S")
    assert filtered.startswith("classO(V.V):defF(self,V):return")
    # every filtered character maps back to itself in the code, a letter to its whole name or string
    for char, (start, end) in zip(filtered, spans.tolist()):
        assert code[start:end] == char or (char in "VFOS" and code[start:end].isidentifier() or code[start] == '"')
    assert code[slice(*spans[filtered.index("O")])] == "Net"
    # where Python cannot tokenize the code, pygments filters it as copydetect does, with the same spans
    broken = code + "    x = '\n"
    other, spans = _filter_other(broken)
    assert other == filter_code(broken, "a.py", "python")[0]
    for char, (start, end) in zip(other, spans.tolist()):
        assert broken[start:end] == char or char in "VFOS\""


def test_what_intake_and_grading_recorded_shows_in_the_report(large_class):
    from course.report.records import record_grading, record_intake

    (folder := large_class.root / "submitted" / "student001" / CHAPTER).mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-11-01 11:00:00.000000 UTC")
    record_intake(large_class.root, CHAPTER, "student001", ["renamed my_notebook.ipynb to the expected name"])
    record_grading(large_class.root, CHAPTER, "student001", 987.6)
    html = build_report(large_class).read_text()
    assert "renamed my_notebook.ipynb to the expected name" in html
    assert "987.6" in html, "the slowest submission, as the grading run timed it"
    # a resubmission since makes the records stale
    (folder / "timestamp.txt").write_text("2026-11-02 09:00:00.000000 UTC")
    html = build_report(large_class).read_text()
    assert "renamed my_notebook.ipynb" not in html and "987.6" not in html


def test_the_grading_services_decisions_are_counted_in_grading_health(tmp_path):
    """What make serve decided for each chapter, as its ledger holds it: how many graded on
    submission, kept for the deadline, replaced, late, not runnable, and the wait for feedback."""
    from course.serve.ledger import DEFERRED, FAILED, GRADED, SUPERSEDED, Decision, Ledger

    course = make_class(tmp_path / "course", 0, names=ODD_NAMES, chapters=[CHAPTER])
    ledger = Ledger(course.root)
    for index, (state, latency) in enumerate([(GRADED, 2.0), (GRADED, 3.0), (GRADED, 9.5), (DEFERRED, 0.2),
                                              (SUPERSEDED, 0.1), (FAILED, 4.0)]):
        ledger.record(Decision(f"entry{index}", ODD_NAMES[index % len(ODD_NAMES)], CHAPTER, state, 0.0, "2026-12-03",
                               latency_s=latency))
    ledger.record(Decision("other", ODD_NAMES[0], "not_a_chapter_of_this_course", GRADED, 0.0, "2026-12-03"))
    text = html.unescape(re.sub(r"<[^>]+>", "", build_report(course).read_text()))
    health = text[text.index("5. Grading health"):]
    line = health[health.index("The grading service"):].split("\n")[0]
    assert line == ("The grading service (make serve): 3 submissions graded on submission, 1 submission kept for "
                    "the deadline (over the day's limit), 1 submission replaced by a newer one before they were "
                    "graded, 1 submission that the grader could not run; from submit to feedback, 3.0 s at the "
                    "median and 9.5 s at the longest."), line
    assert text.count("The grading service (make serve)") == 1, "a chapter the course lacks was reported"


def test_without_the_grading_service_grading_health_does_not_mention_it(odd_class):
    assert "The grading service" not in build_report(odd_class).read_text()
