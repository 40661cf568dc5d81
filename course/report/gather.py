"""What the instructor's report is made of: the gradebook (nbgrader's API, SQLite or PostgreSQL),
the graded notebooks (each test cell's verdict, as the judge wrote it), the feedback files,
and what intake and grading recorded (``records``)."""
from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from autograders.bank import exercise_of
from autograders.execute import GRADER_ERRORS, OUTPUT_DROPPED
from autograders.judge import COULD_NOT_RUN

from ..course_dir import Course
from ..intake import REPLACED_NOTE
from ..serve.ledger import Decision, Ledger
from .records import grading_record, intake_notes

# What kind of limit each error the grader records stands for; one it does not name is a
# failure of the grader ("grader")
LIMIT_KINDS = {"CellTimeoutError": "time", "CellTimeout": "time", "NotRun": "time", "MemoryLimit": "memory",
               "KernelDied": "kernel", "KernelLost": "kernel"}
# a test cell's verdict where the cell could not run (``judge_cell``): the error's name, then the topic
COULD_NOT_RUN_SHAPE = re.compile(re.escape(COULD_NOT_RUN) + r" \((\w+)\)\. It is about: .*", re.DOTALL)
EMPTY_NOTE = "graded as an empty submission"  # how intake's note on an unreadable file ends
DELETED = "this test cell was deleted from the submission"


@dataclass
class Test:
    """One student's result on one test cell."""
    grade_id: str
    exercise: str
    score: float
    max_score: float
    message: str  # the verdict as the student's feedback shows it
    notebook: str = ""

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class FreeAnswer:
    grade_id: str
    score: float | None  # None: not graded yet in formgrader
    max_score: float


@dataclass
class Limit:
    """A limit the grader stopped a cell at (time, memory, output), a kernel that died or was
    lost (kernel), or an error of the grader's of no kind the report knows (grader)."""
    kind: str
    cell: str
    reason: str


@dataclass
class Submission:
    student: str
    score: float = 0.0
    max_score: float = 0.0
    seconds_late: float = 0.0
    tests: list[Test] = field(default_factory=list)
    free: list[FreeAnswer] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)  # what intake did to make it gradable
    empty_copy: str | None = None                      # why an empty copy was graded in its place
    limits: list[Limit] = field(default_factory=list)
    grading_error: str = ""       # what the last grading run recorded as its error, if anything
    seconds: float | None = None  # time grading took
    timed_by: str = ""            # "worker": the grading run's record; "cells": the notebook's cell timestamps
    feedback: list[Path] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # exercise -> the answer cell's source

    def exercise_points(self, exercise: str) -> tuple[float, float]:
        own = [t for t in self.tests if t.exercise == exercise]
        return sum(t.score for t in own), sum(t.max_score for t in own)


@dataclass
class Chapter:
    name: str
    notebooks: list[str]
    exercises: list[str]
    stubs: dict[str, str]  # exercise -> the released answer cell's source
    max_score: float
    submissions: dict[str, Submission] = field(default_factory=dict)  # those the last grading run graded
    # student -> why the last grading run left their collected submission ungraded: in no score
    ungraded: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # students with no submission
    service: list[Decision] = field(default_factory=list)  # the grading service's decisions (make serve)


@dataclass
class ClassData:
    root: Path
    students: list[str]
    chapters: list[Chapter]


def _cell_id(notebook: str, grade_id: str, several: bool) -> str:
    return f"{notebook}/{grade_id}" if several else grade_id


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_test(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _is_answer(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and meta.get("solution") and not meta.get("grade")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def verdict(cell: dict) -> str:
    """What the judge wrote in a graded test cell, as the student's feedback shows it."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            text = _text(output.get("text")).strip()
            for prefix in ("Passed: ", "Partly passed: "):
                if text.startswith(prefix):
                    return text[len(prefix):]
        if output.get("output_type") == "error":
            return _text(output.get("evalue")) if output.get("ename") == "TestFailed" else \
                f"{output.get('ename')}: {_text(output.get('evalue'))}"
    return "no verdict (the cell did not run)"


def _grader_error(output: dict) -> str | None:
    """The grader's error an output is, by the shape the grader writes (``error_output``, and
    nbgrader's ``error_on_timeout``): a known name and a one-line traceback, where an exception
    raised in the kernel has its frames."""
    if output.get("output_type") != "error" or output.get("ename") not in GRADER_ERRORS:
        return None
    traceback = output.get("traceback")
    return output["ename"] if isinstance(traceback, list) and len(traceback) == 1 else None


def _could_not_run(cell: dict) -> str | None:
    """The grader's error a test cell's verdict names, where the judge wrote that the cell could
    not run because of it (its outputs that one error, ``judge_cell``'s words)."""
    outputs = cell.get("outputs") or []
    if len(outputs) != 1 or outputs[0].get("output_type") != "error" or outputs[0].get("ename") != "TestFailed":
        return None
    found = COULD_NOT_RUN_SHAPE.fullmatch(_text(outputs[0].get("evalue")))
    return found.group(1) if found and found.group(1) in GRADER_ERRORS else None


def _errors(cell: dict) -> list[str]:
    """The grader's errors in a cell with outputs, in order ("output" for a flood it cut): a test
    cell's only from the judge's verdict (the judge writes all of its outputs), another's from its outputs."""
    if is_test(cell):
        name = _could_not_run(cell)
        return [name] if name else []
    found = []
    for output in cell["outputs"]:
        if output.get("output_type") == "stream" and _text(output.get("text")) == f"\n{OUTPUT_DROPPED}\n":
            found.append("output")
        elif (name := _grader_error(output)) is not None:
            found.append(name)
    return found


def limits_hit(cells: list[dict], several: bool, notebook: str) -> list[Limit]:
    """The limits the grader stopped the notebook's cells at, in order, each once: the cells it
    then did not run (NotRun) count with the limit before them, or as one limit where there was none."""
    found, not_run = [], []
    for index, cell in enumerate(cells):
        # most cells have no outputs (markdown has none): passed over without a call
        errors = _errors(cell) if cell.get("outputs") else ()
        if errors:
            where = _cell_id(notebook, _grade_id(cell) or f"cell {index + 1}", several)
        for name in errors:
            if name == "NotRun" and found:
                not_run[-1] += 1
                continue
            if name == "output":
                found.append(Limit("output", where, "an output flood: the grader dropped the rest of it"))
            else:
                found.append(Limit(LIMIT_KINDS.get(name, "grader"), where, f"{name}: {GRADER_ERRORS[name]}"))
            not_run.append(1 if name == "NotRun" else 0)
    for limit, count in zip(found, not_run):
        if limit.reason.startswith("NotRun"):
            limit.reason += f" ({count} cells)"
        elif count:
            limit.reason += f"; the {count} cells after it were not run"
    return found


def replaced_reason(cells: list[dict]) -> str | None:
    """Why the graded notebook is an empty copy of the release, from the note intake or a worker put first."""
    if cells and cells[0].get("cell_type") == "markdown":
        text = _text(cells[0].get("source"))
        if text.startswith(REPLACED_NOTE):
            return text[len(REPLACED_NOTE):].split(".**")[0].strip()
    return None


def cell_seconds(cells: list[dict]) -> float | None:
    """Seconds from the first cell's reply to the last one's: the kernel's run, without its start."""
    times = []
    for cell in cells:
        # the grader stamps the code cells it runs; another cell's stamp, if any, is the student's
        execution = cell.get("metadata", {}).get("execution") if cell.get("cell_type") == "code" else None
        stamp = execution.get("shell.execute_reply") if isinstance(execution, dict) else None
        try:
            times.append(datetime.fromisoformat(stamp))
        except (TypeError, ValueError):  # none, or not a time
            pass
    times.sort()
    return (times[-1] - times[0]).total_seconds() if len(times) > 1 else None


def _read_graded(root: Path, chapter: Chapter, submission: Submission, messages: dict) -> set[str]:
    """Fill in what the graded notebooks hold: verdict messages, answers, limits, an empty
    copy's reason, the time grading took; the notebooks there were to read."""
    several = len(chapter.notebooks) > 1
    seconds, read = [], set()
    for notebook in chapter.notebooks:
        # os.path: a class's thousands of paths made by pathlib cost a tenth of a second
        path = os.path.join(root, "autograded", submission.student, chapter.name, f"{notebook}.ipynb")
        try:
            with open(path, encoding="utf-8") as file:
                cells = json.loads(file.read()).get("cells", [])
        except (OSError, ValueError, AttributeError):  # missing, not JSON, JSON but no notebook
            continue
        read.add(notebook)
        for cell in cells:
            if cell.get("cell_type") != "code":  # answers and verdicts are in code cells
                continue
            grade_id = _grade_id(cell)
            if grade_id is None:
                continue
            key = _cell_id(notebook, grade_id, several)
            if _is_answer(cell):
                submission.answers[key] = _text(cell.get("source"))
            elif key in messages:
                messages[key] = verdict(cell)
        submission.limits += limits_hit(cells, several, notebook)
        submission.empty_copy = submission.empty_copy or replaced_reason(cells)
        seconds.append(cell_seconds(cells))
        feedback = os.path.join(root, "feedback", submission.student, chapter.name, f"{notebook}.html")
        if os.path.isfile(feedback):
            submission.feedback.append(Path(feedback))
    record = grading_record(root, chapter.name, submission.student)
    if record is not None:
        submission.seconds, submission.timed_by = record["seconds"], "worker"
        submission.grading_error = str(record.get("error") or "")
    elif seconds and None not in seconds:
        submission.seconds, submission.timed_by = sum(seconds), "cells"
    return read


def _released(root: Path, assignment: str, notebooks: list[str]) -> tuple[list[str], dict[str, str]]:
    """The exercises in the order the release has them, and their stubs."""
    exercises, stubs = [], {}
    for notebook in notebooks:
        path = root / "release" / assignment / f"{notebook}.ipynb"
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):  # missing, not JSON, JSON but no notebook
            continue
        for cell in cells:
            if _is_answer(cell):
                key = _cell_id(notebook, _grade_id(cell), len(notebooks) > 1)
                exercises.append(key)
                stubs[key] = _text(cell.get("source"))
    return exercises, stubs


def _grades(gb) -> dict[str, list[tuple]]:
    """Every grade in the gradebook, by assignment id: (student, notebook, cell, cell type,
    score, max score, needs manual grading), scored as nbgrader's ``Grade.score``. Read as plain
    rows, with each cell's type and points read once: nbgrader's ``Grade`` computes them by a
    subquery per grade, which made this query most of the report's time on the gradebook."""
    from nbgrader.api import BaseCell, Grade, GradeCell, Notebook, SubmittedAssignment, SubmittedNotebook, TaskCell
    from sqlalchemy import select

    connection = gb.db.connection()
    cells = {}
    for model in (TaskCell, GradeCell):  # a grade cell's type and points first, as nbgrader's
        rows = connection.execute(select(model.id, model.cell_type, model.max_score))
        cells.update({row[0]: row[1:] for row in rows})
    rows = connection.execute(
        select(SubmittedAssignment.assignment_id, SubmittedAssignment.student_id, Notebook.name, BaseCell.name,
               Grade.cell_id, Grade.auto_score, Grade.manual_score, Grade.extra_credit, Grade.needs_manual_grade)
        .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
        .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
        .join(BaseCell, Grade.cell_id == BaseCell.id)).all()  # at once: row by row costs a tenth of a second
    found = defaultdict(list)
    for assignment, student, notebook, name, cell, auto, manual, extra, ungraded in rows:
        cell_type, max_score = cells.get(cell, (None, 0.0))
        score = manual if manual is not None else auto
        score = 0.0 if score is None else score + (extra or 0.0)
        found[assignment].append((student, notebook, name, cell_type, score, max_score or 0.0, ungraded))
    return found


def _chapter(gb, root: Path, assignment, students: list[str], grades: list[tuple]) -> Chapter:
    from nbgrader.api import SubmittedAssignment

    notebooks = [nb.name for nb in assignment.notebooks]
    several = len(notebooks) > 1
    exercises, stubs = _released(root, assignment.name, notebooks)
    chapter = Chapter(assignment.name, notebooks, exercises, stubs, float(assignment.max_score or 0))
    for record in gb.db.query(SubmittedAssignment).filter(SubmittedAssignment.assignment_id == assignment.id):
        chapter.submissions[record.student_id] = Submission(record.student_id, seconds_late=record.total_seconds_late)
    exercise_of_test: dict[str, str] = {}
    for student, notebook, grade_id, cell_type, score, max_score, ungraded in grades:
        submission = chapter.submissions[student]
        key = _cell_id(notebook, grade_id, several)
        submission.score += score or 0
        submission.max_score += max_score or 0
        if cell_type == "code":
            if key not in exercise_of_test:
                exercise_of_test[key] = exercise_of(key, exercises) or key
            submission.tests.append(Test(key, exercise_of_test[key], float(score or 0), float(max_score or 0), "",
                                         notebook))
        else:
            submission.free.append(FreeAnswer(key, None if ungraded else float(score or 0), float(max_score or 0)))
    for submission in list(chapter.submissions.values()):
        submission.tests.sort(key=lambda t: t.grade_id)
        messages = {t.grade_id: "" for t in submission.tests}
        read = _read_graded(root, chapter, submission, messages)
        # a test is deleted when the notebook it belongs to was read without it
        deleted = [t.grade_id for t in submission.tests if t.notebook in read and not messages[t.grade_id]]
        for test in submission.tests:
            test.message = messages[test.grade_id] or (DELETED if test.notebook in read else "no graded notebook")
        # an unreadable file's note is the empty copy's reason, shown with the empty copies
        submission.repairs = [note for note in intake_notes(root, chapter.name, submission.student)
                              if not note.endswith(EMPTY_NOTE)]
        if deleted:
            submission.repairs.append(f"test cells deleted from the submission, scored 0: {', '.join(deleted)}")
        # an error with no empty copy graded in its place: the run failed, and what the gradebook and
        # autograded/ hold, if anything, is an earlier run's, of an earlier submission
        if submission.grading_error and submission.empty_copy is None:
            chapter.ungraded[submission.student] = submission.grading_error
        elif not read:
            chapter.ungraded[submission.student] = "no graded notebook of it in autograded/"
        if submission.student in chapter.ungraded:
            del chapter.submissions[submission.student]
    for folder in sorted((root / "submitted").glob(f"*/{chapter.name}")):
        student = folder.parent.name
        if folder.is_dir() and student not in chapter.submissions and student not in chapter.ungraded:
            record = grading_record(root, chapter.name, student)
            chapter.ungraded[student] = str(record and record.get("error") or "collected, not in the gradebook")
    # a test of no exercise the release names (a plain nbgrader assignment, no release folder) is its own
    owners = sorted({t.exercise for s in chapter.submissions.values() for t in s.tests} - set(chapter.exercises))
    chapter.exercises += owners
    chapter.missing = [s for s in students if s not in chapter.submissions and s not in chapter.ungraded]
    return chapter


def gather(course: Course) -> ClassData:
    """Everything the report shows, read once. A gradebook that does not exist yet is an empty class."""
    from nbgrader.api import Gradebook

    url = course.db_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return ClassData(course.root, [], [])
    with Gradebook(url) as gb:
        students = sorted(s.id for s in gb.students)
        grades = _grades(gb)
        chapters = [_chapter(gb, course.root, a, students, grades.get(a.id, []))
                    for a in sorted(gb.assignments, key=lambda a: a.name)]
    by_chapter = {chapter.name: chapter for chapter in chapters}
    for decision in Ledger(course.root).decisions.values():
        if decision.assignment in by_chapter:
            by_chapter[decision.assignment].service.append(decision)
    return ClassData(course.root, students, chapters)
