"""Assignments written the ordinary nbgrader way, graded by the course as stock nbgrader grades
them: same scores, computed here in the same run, in the course's sandbox, without hidden tests
in the feedback; and a notebook with probe cells and plain cells side by side."""
from __future__ import annotations

import csv
import shutil

import nbformat
import pytest

from autograders.bank import with_answers
from autograders.tests import leaks, plain, toy
from autograders.tests.toy import make_toy_course
from course import operations
from course.course_dir import Course, PipelineError

STOCK_CONFIG = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "stock"
c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
"""
HIDDEN = ("squares(3) == [1, 4, 9]", "score += squares(2)", 'total("numbers.txt") == 60', "BEGIN HIDDEN TESTS")


def _hand_in(course: Course) -> None:
    source = course.root / "source" / plain.ASSIGNMENT
    reference = {name: nbformat.read(source / f"{name}.ipynb", as_version=4) for name in plain.notebooks()}
    for student in plain.SUBMISSIONS:
        folder = course.root / "submitted" / student / plain.ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / plain.DATA_FILE, folder / plain.DATA_FILE)
        for name, nb in plain.submission(student, reference).items():
            nbformat.write(nb, folder / f"{name}.ipynb")


def _graded(course: Course) -> dict:
    course.nbgrader("generate_assignment", plain.ASSIGNMENT, "--force")
    _hand_in(course)
    course.nbgrader("autograde", plain.ASSIGNMENT)
    return course.scores(plain.ASSIGNMENT)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    stock = Course(tmp_path_factory.mktemp("stock"))
    (stock.root / "nbgrader_config.py").write_text(STOCK_CONFIG.format(root=str(stock.root)))
    plain.write_plain(stock.root)
    ours = Course.scratch(names=[])
    plain.write_plain(ours.root)
    return {"stock": _graded(stock), "ours": _graded(ours), "course": ours}


def test_a_plain_assignment_gets_the_scores_stock_nbgrader_gives(both):
    assert both["ours"] == both["stock"]
    right, wrong, partly = (both["ours"][s] for s in ("right", "wrong", "partly"))
    assert all(score == top for score, top in right.values()), right
    assert wrong == {"squares_tests": (0.0, 2.0), "squares_partial": (1.0, 3.0), "total_tests": (0.0, 2.0)}
    assert partly["squares_partial"] == (2.0, 3.0) and partly["total_tests"] == (0.0, 2.0), partly
    assert both["ours"]["noisy"]["squares_tests"] == (0.0, 2.0)  # stderr in a test cell scores 0


def test_a_missing_notebook_costs_only_its_own_points(both):
    scores = both["ours"]["no_second_notebook"]
    assert scores["squares_tests"] == (2.0, 2.0) and scores["squares_partial"] == (3.0, 3.0)
    assert not scores.get("total_tests", (0, 2))[0]


def test_plain_verdicts_say_where_they_were_decided_and_hide_the_hidden_tests(both):
    course = both["course"]
    course.nbgrader("generate_feedback", plain.ASSIGNMENT)
    pages = list((course.root / "feedback").rglob("*.html"))
    assert len(pages) == 2 * len(plain.SUBMISSIONS) - 1
    for page in pages:
        html = page.read_text()
        assert not [line for line in HIDDEN if line in html], page
        assert "decided in your kernel" in html
    wrong = (course.root / "feedback" / "wrong" / plain.ASSIGNMENT / "problem1.html").read_text()
    assert "this test failed: AssertionError" in wrong


PLAIN_HALVE = nbformat.v4.new_code_cell(
    "assert halve(4) == 2\n### BEGIN HIDDEN TESTS\nassert halve(-3) == -1.5\n### END HIDDEN TESTS",
    metadata={"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "halve_plain",
                           "points": 1, "schema_version": 3}})


def _mixed_course(extra_config=""):
    course = make_toy_course(extra_config)
    path = course.root / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(len(nb.cells) - 1, PLAIN_HALVE)
    nbformat.write(nb, path)
    course.nbgrader("generate_assignment", toy.ASSIGNMENT, "--force")
    return course, nb


def test_probe_cells_and_plain_cells_in_one_notebook(capsys):
    course, reference = _mixed_course()
    course.submit_notebook("right", toy.ASSIGNMENT, reference)
    course.submit_notebook("wrong_halve", toy.ASSIGNMENT, with_answers(reference, {"halve": "def halve(x):\n    return x // 2"}))
    course.submit_notebook("smuggler", toy.ASSIGNMENT, with_answers(reference, leaks.CHANNELS["history"][0]))
    operations.autograde(course, toy.ASSIGNMENT)
    assert "1 test cells assert in the student's kernel" in capsys.readouterr().err
    scores = course.scores(toy.ASSIGNMENT)
    assert all(score == top for score, top in scores["right"].values()), scores["right"]
    assert all(score == top for score, top in scores["smuggler"].values()), scores["smuggler"]
    wrong = scores["wrong_halve"]
    assert wrong["halve_plain"] == (0.0, 1.0) and wrong["halve_hidden"] == (0.0, 2.0)
    assert wrong["double_hidden"] == (2.0, 2.0)
    operations.feedback(course, toy.ASSIGNMENT)
    html = (course.root / "feedback" / "smuggler" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html").read_text()
    assert not leaks.hidden_code_in(html) and "halve(-3) == -1.5" not in html


def test_a_course_can_refuse_plain_test_cells():
    course, reference = _mixed_course("c.JudgeProbeReports.plain_tests = 'refuse'\n")
    course.submit_notebook("right", toy.ASSIGNMENT, reference)
    with pytest.raises(PipelineError, match="halve_plain assert in the student's kernel"):
        operations.autograde(course, toy.ASSIGNMENT)
    assert not (course.root / "autograded").exists()
    result = course.nbgrader("autograde", toy.ASSIGNMENT, check=False)  # plain nbgrader refuses too
    assert "refusing to judge" in result.stdout + result.stderr
    assert not course.scores(toy.ASSIGNMENT).get("right", {}).get("halve_plain", (0,))[0]


def test_the_courses_commands_name_what_they_cannot_grade_yet():
    course = Course.scratch(names=[])
    plain.write_plain(course.root)
    with pytest.raises(PipelineError, match=r"has 2 notebooks \(problem1.ipynb, problem2.ipynb\)"):
        course.notebook_name(plain.ASSIGNMENT)
    with pytest.raises(PipelineError, match=r"unknown assignment 'nothing_here' \(chapters: 00_plain\)"):
        course.notebook_name("nothing_here")


def test_a_multi_notebook_assignment_through_the_courses_commands(both):
    # released, submitted through the exchange, collected, graded, fed back, exported, tabled
    from rich.console import Console

    from course.demo import DemoResult, class_table

    course = Course.scratch(names=[])
    plain.write_plain(course.root)
    operations.release(course, plain.ASSIGNMENT)
    released = course.root / "release" / plain.ASSIGNMENT
    assert sorted(p.name for p in released.iterdir()) == [plain.DATA_FILE, "problem1.ipynb", "problem2.ipynb"]
    reference = {name: nbformat.read(course.root / "source" / plain.ASSIGNMENT / f"{name}.ipynb", as_version=4)
                 for name in plain.notebooks()}
    for student in plain.SUBMISSIONS:  # each hands in what they have, through the exchange
        folder = course.root / "students" / student / plain.ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(released / plain.DATA_FILE, folder / plain.DATA_FILE)
        for name, nb in plain.submission(student, reference).items():
            nbformat.write(nb, folder / f"{name}.ipynb")
        course.nbgrader("submit", plain.ASSIGNMENT, "--student", student, f"--Exchange.root={course.root / 'exchange'}",
                        "--CourseDirectory.course_id=dl-computation", cwd=folder.parent)
    assert operations.collect(course, plain.ASSIGNMENT) == {plain.ASSIGNMENT: len(plain.SUBMISSIONS)}
    (run,) = operations.autograde(course, plain.ASSIGNMENT)
    assert sorted(run.graded) == sorted(plain.SUBMISSIONS)
    scores = course.scores(plain.ASSIGNMENT)
    assert scores == both["stock"]
    operations.feedback(course, plain.ASSIGNMENT)
    missing = (course.root / "feedback" / "no_second_notebook" / plain.ASSIGNMENT / "problem2.html").read_text()
    assert "no notebook named problem2.ipynb was submitted" in missing
    rows = list(csv.DictReader(open(operations.export(course))))
    assert {row["student_id"]: float(row["score"]) for row in rows if row["assignment"] == plain.ASSIGNMENT} == {
        student: sum(score for score, _ in cells.values()) for student, cells in scores.items()}
    table = Console(record=True, width=200)
    table.print(class_table(DemoResult(course, [plain.ASSIGNMENT], sorted(scores), {plain.ASSIGNMENT: scores})))
    assert "7 / 7" in table.export_text()
