"""Grading a chapter's bank of known answers through the real pipeline, and checking each one.

A bank entry ``autograders/banks/<assignment>/<exercise>/<name>.py`` is the whole source of
that exercise's answer cell. ``correct_*`` entries must get full marks everywhere; every other
entry is a known-wrong answer that must lose points on its own exercise and on no other.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader import utils

from course import operations
from course.pipeline import Course, source_notebook

BANKS = Path(__file__).resolve().parent / "banks"


@dataclass(frozen=True)
class BankEntry:
    assignment: str
    exercise: str
    name: str
    path: Path

    @property
    def correct(self) -> bool:
        return self.name.startswith("correct_")

    @property
    def student_id(self) -> str:
        return f"{self.exercise}--{self.name}"

    @property
    def summary(self) -> str:
        first = self.path.read_text().splitlines()[:1]
        return first[0].lstrip("# ").strip() if first and first[0].startswith("#") else ""


def bank_entries(assignment: str) -> list[BankEntry]:
    folder = BANKS / assignment
    return [BankEntry(assignment, path.parent.name, path.stem, path)
            for path in sorted(folder.glob("*/*.py"))]


def answer_cells(nb) -> dict[str, object]:
    """``{exercise_id: cell}`` for the autograded answer cells of a notebook."""
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in nb.cells
            if cell.cell_type == "code" and utils.is_solution(cell) and not utils.is_grade(cell)}


def with_answers(nb, answers: dict[str, str]):
    """A copy of ``nb`` whose answer cells for the given exercises hold the given sources."""
    nb = nbformat.from_dict(nb)
    cells = answer_cells(nb)
    for exercise, source in answers.items():
        if exercise not in cells:
            raise KeyError(f"no answer cell {exercise!r} in the notebook (exercises: {', '.join(cells)})")
        cells[exercise].source = source
    return nb


def exercise_of(grade_id: str, exercises) -> str | None:
    """The exercise a test cell belongs to: the longest exercise id that prefixes ``<id>_``."""
    owners = [e for e in exercises if grade_id.startswith(e + "_")]
    return max(owners, key=len) if owners else None


def problems(entry_kind: str, exercise: str | None, scores: dict, exercises) -> list[str]:
    """What is wrong with one graded submission, given what it should score."""
    found = []
    for grade_id, (score, max_score) in sorted(scores.items()):
        owner = exercise_of(grade_id, exercises)
        full = score is not None and score >= max_score
        if entry_kind == "stub":
            if score:
                found.append(f"{grade_id}: the stub scored {score}/{max_score}")
        elif entry_kind == "wrong" and owner == exercise:
            continue
        elif not full:
            found.append(f"{grade_id}: {score}/{max_score}, expected full marks")
    if entry_kind == "wrong":
        own = [s for g, s in scores.items() if exercise_of(g, exercises) == exercise]
        if not own:
            found.append(f"no test cell of exercise {exercise!r}")
        elif all(score is not None and score >= max_score for score, max_score in own):
            found.append(f"this wrong answer keeps full marks on {exercise!r}")
    return found


@dataclass
class BankResult:
    problems: dict[str, list[str]]  # submission -> what is wrong with its scores (empty: as expected)
    scores: dict[str, dict]         # submission -> {grade_id: (score, max_score)}
    course_root: Path


def grade_bank(assignment: str, only: str | None = None, progress=None) -> BankResult:
    """Grade the reference, the released stub and the bank in a scratch course."""
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--only", help="grade only this exercise's bank entries")
    args = parser.parse_args(argv)
    result = grade_bank(args.assignment, args.only)
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
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
