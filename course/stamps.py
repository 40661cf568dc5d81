"""Resume stamps: what each submission's grade depends on, written once it is graded, so that
a rerun of autograde skips the submissions whose files, source notebooks and config are
unchanged since."""
from __future__ import annotations

import hashlib
from pathlib import Path

from .course_dir import Course, source_notebooks

STAMPS = Path(".grading_cache") / "stamps"


def fingerprint(course: Course, assignment: str, student: str) -> str:
    """What a grade depends on: the submission's files, the source notebooks and the config."""
    digest = hashlib.sha256()
    folder = course.root / "submitted" / student / assignment
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    for notebook in source_notebooks(assignment, course.root):
        digest.update(notebook.read_bytes())
    digest.update((course.root / "nbgrader_config.py").read_bytes())
    return digest.hexdigest()


def stamp_path(course: Course, assignment: str, student: str) -> Path:
    return course.root / STAMPS / assignment / student


def is_current(course: Course, assignment: str, student: str) -> bool:
    """Whether the submission is graded and unchanged since."""
    stamp = stamp_path(course, assignment, student)
    return ((course.root / "autograded" / student / assignment).is_dir() and stamp.is_file()
            and stamp.read_text() == fingerprint(course, assignment, student))


def mark_graded(course: Course, assignment: str, student: str) -> None:
    stamp = stamp_path(course, assignment, student)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint(course, assignment, student))
