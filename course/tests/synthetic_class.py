"""A large synthetic class for the report, made without grading: the gradebook filled through
nbgrader's API and graded notebooks written as the judge leaves them (each test cell's outputs
one verdict), from the course's own release and source notebooks and the banks' answers."""
from __future__ import annotations

import json
import os
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import nbformat
from nbgrader import utils
from sqlalchemy import text

from autograders.bank import answer_cells, bank_entries, exercise_of, with_answers
from autograders.execute import error_output
from autograders.judge import COULD_NOT_RUN, Verdict
from course.course_dir import REPO, Course, nbgrader_env, source_notebook

DUE = datetime(2026, 11, 1, 12, 0)


def define(gb, assignment: str, released, notebook: str | None = None) -> None:
    """The assignment's notebook (by default the chapter's own) and its cells in the gradebook,
    as ``generate_assignment`` records them."""
    notebook = notebook or source_notebook(assignment).stem
    gb.update_or_create_assignment(assignment, duedate=DUE)
    gb.update_or_create_notebook(notebook, assignment)
    for cell in released.cells:
        meta = cell.metadata.get("nbgrader", {})
        if utils.is_grade(cell):
            gb.update_or_create_grade_cell(meta["grade_id"], notebook, assignment, max_score=float(meta["points"]),
                                           cell_type=cell.cell_type)
        if utils.is_solution(cell):
            gb.update_or_create_solution_cell(meta["grade_id"], notebook, assignment)


def graded_notebook(source, answers: dict[str, str], failing: dict[str, str], exercises, limit: bool):
    """The source notebook with ``answers``, its test cells' outputs the verdicts (``failing``:
    grade id -> message), as the judge leaves a graded notebook."""
    nb = with_answers(source, answers)
    memory_in_a_test = limit
    for cell in nb.cells:
        if utils.is_grade(cell) and not utils.is_solution(cell) and cell.cell_type == "code":
            grade_id = cell.metadata.nbgrader["grade_id"]
            cell.outputs = Verdict(grade_id not in failing, failing.get(grade_id, "3 checks")).outputs()
            if memory_in_a_test:  # as the judge words a test cell the sandbox stopped
                cell.outputs = Verdict(False, f"{COULD_NOT_RUN} (MemoryLimit). It is about: memory").outputs()
                memory_in_a_test = False
        elif limit and utils.is_solution(cell) and cell.cell_type == "code":
            cell.outputs = [error_output("CellTimeoutError")]
            limit = False
    return nb


def make_class(root: Path, students: int, seed: int = 0, names: list[str] | None = None,
               chapters: list[str] | None = None) -> Course:
    """A course at ``root`` whose ``students`` students (``student000``, ..., or ``names``)
    submitted every chapter (or the ``chapters``), a few submissions missing, late or over a
    time limit, each exercise's answer the reference, a correct or a wrong bank entry, or the stub."""
    from nbgrader.api import Grade, Gradebook

    rng = random.Random(seed)
    chapters = chapters or sorted(p.name for p in (REPO / "release").iterdir() if p.is_dir())
    course = Course.create(root, chapters)
    shutil.copytree(REPO / "release", course.root / "release")
    names = names or [f"student{index:03d}" for index in range(students)]
    scores = []
    # a new gradebook is made by alembic, a command of the venv
    with mock.patch.dict(os.environ, nbgrader_env()), Gradebook(course.db_url()) as gb:
        gb.db.execute(text("PRAGMA synchronous = OFF"))  # a scratch gradebook: each commit need not reach the disk
        for name in names:
            gb.add_student(name)
        for chapter in chapters:
            notebook = source_notebook(chapter).stem
            source = nbformat.read(source_notebook(chapter), as_version=4)
            released = nbformat.read(course.root / "release" / chapter / f"{notebook}.ipynb", as_version=4)
            define(gb, chapter, released)
            exercises = list(answer_cells(source))
            stubs = {e: c.source for e, c in answer_cells(released).items()}
            tests = [c.metadata.nbgrader["grade_id"] for c in source.cells
                     if utils.is_grade(c) and not utils.is_solution(c) and c.cell_type == "code"]
            bank = bank_entries(chapter)
            for name in names:
                if rng.random() < 0.02:
                    continue  # no submission
                answers, failing = {}, {}
                for exercise in exercises:
                    draw = rng.random()
                    own = [t for t in tests if exercise_of(t, exercises) == exercise]
                    if draw < 0.1:
                        answers[exercise] = stubs[exercise]
                        failing.update({t: f"your code raised NotImplementedError; it is about: {t}" for t in own})
                    elif draw < 0.5:
                        entry = rng.choice([e for e in bank if e.exercise == exercise and not e.correct])
                        answers[exercise] = entry.path.read_text()
                        failing.update({t: f"{entry.summary} ({t})" for t in own[1:2] or own})
                    elif draw < 0.75:
                        answers[exercise] = rng.choice([e for e in bank if e.exercise == exercise and e.correct]).path.read_text()
                graded = graded_notebook(source, answers, failing, exercises, limit=rng.random() < 0.01)
                folder = course.root / "autograded" / name / chapter
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{notebook}.ipynb").write_text(json.dumps(graded))
                late = timedelta(hours=rng.choice([0] * 9 + [30]))
                submission = gb.add_submission(chapter, name, timestamp=DUE - timedelta(hours=1) + late)
                for grade in submission.notebooks[0].grades:
                    if grade.cell_type == "code":
                        scores.append({"id": grade.id, "auto_score": 0.0 if grade.name in failing else grade.max_score,
                                       "needs_manual_grade": False})
                    elif rng.random() < 0.5:
                        scores.append({"id": grade.id, "manual_score": float(rng.randint(0, int(grade.max_score))),
                                       "needs_manual_grade": False})
        gb.db.bulk_update_mappings(Grade, scores)
        gb.db.commit()
    return course
