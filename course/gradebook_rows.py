"""The gradebook's side of grading on hosts that share no filesystem with the instructor.

A grading host grades each submission into a gradebook of its own: a SQLite ``snapshot`` of the
instructor's, with the assignments, their cells and the course but nobody's submissions. What
nbgrader's autograde wrote there for the submission (``submission_rows``) comes back with the
graded notebook, and the instructor's process writes it into the real gradebook
(``record_rows``), as nbgrader's own steps would have: the timestamp, each graded cell's
automatic score, each answer's automatic comment, each notebook's late penalty. A score given by
hand stays; a cell that has one is marked for review again, as nbgrader's ``SaveAutoGrades``
marks it.
"""
from __future__ import annotations

import datetime
import sqlite3
import tempfile
from pathlib import Path

from nbgrader.api import Base, Gradebook, MissingEntry
from sqlalchemy import create_engine, insert, select, text

# nbgrader's tables that hold someone's work; the snapshot leaves them (and the students) out
SUBMISSION_TABLES = {"submitted_assignment", "submitted_notebook", "grade", "comment", "student"}


def snapshot(db_url: str) -> bytes:
    """The gradebook at ``db_url`` without anyone's work: a SQLite file's bytes."""
    source = create_engine(db_url)
    with tempfile.TemporaryDirectory(prefix="course-snapshot-") as folder:
        path = Path(folder) / "gradebook.db"
        target = create_engine(f"sqlite:///{path}")
        Base.metadata.create_all(target)
        with source.connect() as reading, target.begin() as writing:
            for table in Base.metadata.sorted_tables:
                if table.name not in SUBMISSION_TABLES:
                    rows = [dict(row) for row in reading.execute(select(table)).mappings()]
                    if rows:
                        writing.execute(insert(table), rows)
            # present, it tells nbgrader the schema is current (a new gradebook runs alembic)
            version = reading.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            writing.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            writing.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
        target.dispose()
        source.dispose()
        # one file, whatever journal mode the copy used
        with sqlite3.connect(path) as db:
            db.execute("VACUUM")
        return path.read_bytes()


def prepare_submission(gb: Gradebook, assignment: str, student: str, extension_s: float | None) -> None:
    """Before grading on a host: the student, and the extension the instructor gave them."""
    gb.update_or_create_student(student)
    if extension_s is not None:
        gb.update_or_create_submission(assignment, student,
                                       extension=datetime.timedelta(seconds=extension_s))


def extension_seconds(gb: Gradebook, assignment: str, student: str) -> float | None:
    try:
        extension = gb.find_submission(assignment, student).extension
    except MissingEntry:
        return None
    return extension.total_seconds() if extension is not None else None


def submission_rows(gb: Gradebook, assignment: str, student: str) -> dict:
    """What autograde wrote for one submission, by notebook and cell name."""
    submission = gb.find_submission(assignment, student)
    return {
        "timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
        "notebooks": {
            notebook.name: {
                "late_penalty": notebook.late_submission_penalty,
                "grades": {grade.name: [grade.auto_score, grade.needs_manual_grade] for grade in notebook.grades},
                "comments": {comment.name: comment.auto_comment for comment in notebook.comments},
            }
            for notebook in submission.notebooks
        },
    }


def record_rows(gb: Gradebook, assignment: str, student: str, rows: dict) -> None:
    """Write a submission's rows, graded elsewhere, into this gradebook, in one transaction."""
    try:
        gb.update_or_create_student(student)
        timestamp = rows["timestamp"]
        # nbgrader builds a new submission's rows before adding them: flushing half-built ones
        # in the middle only warns
        with gb.db.no_autoflush:
            submission = (gb.update_or_create_submission(assignment, student,
                                                         timestamp=datetime.datetime.fromisoformat(timestamp))
                          if timestamp else gb.update_or_create_submission(assignment, student))
        for notebook in submission.notebooks:
            graded = rows["notebooks"].get(notebook.name)
            if graded is None:
                raise ValueError(f"the graded submission has no notebook {notebook.name!r}: "
                                 "the grading host's gradebook snapshot is not this one's")
            notebook.late_submission_penalty = graded["late_penalty"]
            for grade in notebook.grades:
                grade.auto_score, needs_review = graded["grades"][grade.name]
                grade.needs_manual_grade = bool(needs_review or grade.manual_score is not None)
            for comment in notebook.comments:
                comment.auto_comment = graded["comments"][comment.name]
        gb.db.commit()
    except Exception:
        gb.db.rollback()
        raise
