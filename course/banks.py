"""`make bank ASSIGNMENT=…`: an assignment's bank of known answers graded as a class, through
the course's own grading (``operations.autograde``), and each entry's scores checked against
what it must score (``autograders.bank.problems``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograders.bank import answer_cells, bank_entries, problems, with_answers

from . import operations
from .course_dir import Course, source_notebook


@dataclass
class BankResult:
    problems: dict[str, list[str]]  # submission -> what is wrong with its scores (empty: as expected)
    scores: dict[str, dict]         # submission -> {grade_id: (score, max_score)}
    course_root: Path


def grade_bank(assignment: str, only: str | None = None, progress=None) -> BankResult:
    """Grade the reference, the released stub and the bank in a scratch course, with one
    course's secret (one seed)."""
    course = Course.scratch([assignment])
    course.nbgrader("generate_assignment", assignment, "--force")
    source = nbformat.read(source_notebook(assignment), as_version=4)
    exercises = list(answer_cells(source))
    release = nbformat.read(course.root / "release" / assignment / f"{course.notebook_name(assignment)}.ipynb",
                            as_version=4)
    kinds = {"reference": ("reference", None), "stub": ("stub", None)}
    course.submit_notebook("reference", assignment, source)
    course.submit_notebook("stub", assignment, release)
    for entry in bank_entries(assignment):
        if only and entry.exercise != only:
            continue
        course.submit_notebook(entry.student_id, assignment,
                               with_answers(source, {entry.exercise: entry.path.read_text()}))
        kinds[entry.student_id] = ("correct" if entry.correct else "wrong", entry.exercise)
    operations.autograde(course, assignment, resume=False, progress=progress)
    graded = course.scores(assignment)
    found = {student: problems(kind, exercise, graded[student], exercises) if student in graded else ["not graded"]
             for student, (kind, exercise) in kinds.items()}
    return BankResult(found, graded, course.root)


def print_bank(result: BankResult) -> int:
    """One line per submission, with what is wrong with its scores; the number not as expected."""
    failures = 0
    for student, found in result.problems.items():
        cells = result.scores.get(student, {})
        got = sum(s or 0 for s, _ in cells.values())
        total = sum(m for _, m in cells.values())
        print(f"{'ok  ' if not found else 'FAIL'} {student:55s} {got:5.1f}/{total:<5.1f}")
        for problem in found:
            print(f"       {problem}")
        failures += bool(found)
    print(f"\n{len(result.problems) - failures} as expected, {failures} not (graded in {result.course_root})")
    return failures
