"""The gradebook on a real PostgreSQL server: the same scores as on SQLite, and a server restarted
in the middle of grading loses no grade and doubles none.

A small class of the demo's synthetic students (``course.classroom``) hands in chapter 1 through
the exchange, and the course's whole grading path (intake, the sandbox and its kernel pool, the
judge, feedback, export) grades it once on SQLite and once on a private PostgreSQL server
(``course.deploy.postgres``: Debian's server binaries, a folder of its own, a role and a database).
"""
from __future__ import annotations

import csv
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from course import operations
from course.classroom import RECIPES, load_assignment
from course.course_dir import Course, assignments
from course.demo import submit
from course.deploy.postgres import GradebookServer

CHAPTER = assignments()[0]
STUDENTS = ["ada_perfect", "ben_untouched", "cyd_partial", "dan_typical_mistakes", "fay_different_but_right",
            "gus_broken_json"]
JOBS = 2


def handed_in_class(root: Path, db_url: str | None = None) -> Course:
    """A course whose students have submitted ``CHAPTER`` and whose submissions are collected;
    its gradebook at ``db_url`` (default: SQLite in the course)."""
    course = Course.create(root, [CHAPTER])
    if db_url:
        with (course.root / "nbgrader_config.py").open("a") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    operations.release(course, CHAPTER)
    chapter = load_assignment(CHAPTER, course.root / "release")
    for student in STUDENTS:
        submit(course, student, CHAPTER, RECIPES[student](chapter, 0))
    operations.collect(course, CHAPTER)
    return course


def grade(course: Course) -> dict:
    """The whole grading path; what it gave: scores per cell, the exported table, the feedback."""
    operations.autograde(course, CHAPTER, jobs=JOBS)
    feedback = operations.feedback(course, CHAPTER)
    exported = operations.export(course)
    rows = {row["student_id"]: (row["raw_score"], row["score"], row["max_score"])
            for row in csv.DictReader(exported.open())}
    return {"scores": course.scores(CHAPTER), "export": rows,
            "feedback": sorted(str(path.relative_to(course.root)) for path in feedback)}


def server_folder() -> Path:
    """A folder PostgreSQL's own account can reach (pytest's temporary folder is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def sqlite_grades(tmp_path_factory):
    return grade(handed_in_class(tmp_path_factory.mktemp("sqlite") / "course"))


@pytest.fixture
def postgres():
    folder = server_folder()
    server = GradebookServer(folder / "postgres")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def gradebook_rows(db_url: str) -> dict[str, int]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return {
                "submissions": connection.execute(text("SELECT count(*) FROM submitted_assignment")).scalar(),
                "grades": connection.execute(text("SELECT count(*) FROM grade")).scalar(),
                "distinct grades": connection.execute(text(
                    "SELECT count(DISTINCT (notebook_id, cell_id)) FROM grade")).scalar(),
                # graded cells (tests and free answers) and tasks, each graded once per submission
                "graded cells": connection.execute(text(
                    "SELECT (SELECT count(*) FROM grade_cells) + (SELECT count(*) FROM task_cells)")).scalar(),
            }
    finally:
        engine.dispose()


def test_postgres_gives_the_scores_sqlite_gives(sqlite_grades, postgres, tmp_path):
    assert sqlite_grades["scores"]["ada_perfect"] and all(
        score == top for score, top in sqlite_grades["scores"]["ada_perfect"].values())
    course = handed_in_class(tmp_path / "course", postgres.db_url)
    assert course.db_url() == postgres.db_url
    graded = grade(course)
    assert graded == sqlite_grades
    assert not (course.root / "gradebook.db").exists(), "the gradebook went to SQLite, not PostgreSQL"
    rows = gradebook_rows(postgres.db_url)
    assert rows["submissions"] == len(STUDENTS)
    assert rows["grades"] == rows["distinct grades"] == rows["submissions"] * rows["graded cells"] > 0


def test_a_database_restart_in_the_middle_of_grading_loses_and_doubles_no_grade(sqlite_grades, postgres, tmp_path):
    course = handed_in_class(tmp_path / "course", postgres.db_url)
    def graded_so_far() -> int:  # nbgrader writes a graded notebook once its grades are saved
        return len(list((course.root / "autograded").glob(f"*/{CHAPTER}/*.ipynb")))

    outcome = {}

    def grading():
        try:
            outcome["graded"] = grade(course)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = error

    thread = threading.Thread(target=grading)
    thread.start()
    deadline = time.monotonic() + 600
    while not graded_so_far() and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    graded_before = graded_so_far()
    assert thread.is_alive() and 0 < graded_before < len(STUDENTS), "the restart did not fall in mid-grading"
    postgres.stop()
    time.sleep(10)  # every worker finishes its submission and finds the server gone
    postgres.start()
    thread.join(600)
    assert "error" not in outcome, f"grading did not resume after the restart: {outcome.get('error')}"
    assert outcome["graded"] == sqlite_grades
    rows = gradebook_rows(postgres.db_url)
    assert rows["submissions"] == len(STUDENTS)
    assert rows["grades"] == rows["distinct grades"] == rows["submissions"] * rows["graded cells"] > 0
