"""Grading a chapter's bank of known answers through the real pipeline, and checking each one.

A bank entry ``autograders/banks/<assignment>/<exercise>/<name>.py`` is the whole source of
that exercise's answer cell. ``correct_*`` entries must get full marks everywhere; every other
entry is a known-wrong answer that must lose points on its own exercise and on no other.

``grade_bank`` grades the bank as a class, with one course's secret (one seed). ``sweep_seeds``
judges each entry's own test cells for many seeds, in one process: a hidden input that lets a
mistake through for some seeds would otherwise be found only by the luck of a course's secret.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import course_probe
import nbformat
from nbgrader import utils

from course import operations
from course.course_dir import Course, source_notebook

from .hidden import is_test_cell
from .judge import judge_cell

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


def run_cell_in_process(source: str, namespace: dict, filename: str = "<cell>") -> str | None:
    """Run a code cell's code (IPython's magics and shell lines left out, its output discarded)
    in ``namespace``, in this process; the name of the exception it raised, or None. For the
    course's own code (the seed sweep) and for the benchmark's floor, never for a student's."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - see the docstring
        except BaseException as exc:  # noqa: BLE001 - an answer's error is part of its result
            return type(exc).__name__
    return None


def _run_cell(source: str, namespace: dict) -> str | None:
    """``run_cell_in_process``, then every figure closed: the sweep runs thousands of cells."""
    try:
        return run_cell_in_process(source, namespace)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


def _probe_of(cell, namespace: dict):
    """The probe a test cell reports, or None when the cell fails before reporting."""
    reported = []
    with mock.patch.object(course_probe, "report", reported.append):
        failed = _run_cell(cell.source, namespace)
    return reported[0] if reported and not failed else None


def _passes(probe, reference: dict) -> bool:
    """The judge's verdict on ``probe``'s report, published as a grading kernel publishes it."""
    if probe is None:
        return False
    data = course_probe.published(course_probe.observe(probe))
    cell = {"outputs": [{"output_type": "display_data", "data": data}]}
    return judge_cell(cell, reference).passed


def sweep_seeds(assignment: str, seeds: list[int]) -> dict[str, list[str]]:
    """``{student_id: problems}`` for the reference and every bank entry, judged for each seed.
    The reference must report cleanly in every test cell; a correct variant must pass every
    test cell of its exercise, and a known-wrong answer fail at least one; and each test cell
    must give an entry the same verdict for every seed, so that what a known answer scores
    never depends on a course's secret.

    Runs the source notebook, then each entry's answer and its exercise's test cells (in a copy
    of the notebook's namespace, once per seed), in this process: they are the course's own
    code, never a student's. Sets ``COURSE_PROBE_SEED`` while it runs.
    """
    source = nbformat.read(source_notebook(assignment), as_version=4)
    exercises = list(answer_cells(source))
    tests = {cell.metadata.nbgrader["grade_id"]: cell for cell in source.cells if is_test_cell(cell)}
    namespace = {"__name__": "__main__"}
    reference_probes = {}
    for cell in source.cells:
        if cell.cell_type == "code":
            if is_test_cell(cell):
                reference_probes[cell.metadata.nbgrader["grade_id"]] = _probe_of(cell, namespace)
            else:
                _run_cell(cell.source, namespace)
    entries = bank_entries(assignment)
    answers = {entry: entry.path.read_text() for entry in entries}
    found: dict[str, list[str]] = {"reference": [], **{entry.student_id: [] for entry in entries}}
    verdicts: dict[tuple[str, str], dict[bool, list[int]]] = {}
    saved = os.environ.get("COURSE_PROBE_SEED")
    try:
        for seed in seeds:
            os.environ["COURSE_PROBE_SEED"] = str(seed)
            references = {}
            for grade_id, probe in reference_probes.items():
                references[grade_id] = course_probe.observe(probe) if probe else None
                if probe is None or references[grade_id]["error"]:
                    found["reference"].append(f"seed {seed}: {grade_id} does not report cleanly")
            for entry in entries:
                own = [g for g in tests if exercise_of(g, exercises) == entry.exercise and references[g]]
                answered = dict(namespace)
                _run_cell(answers[entry], answered)
                passed = {g: _passes(_probe_of(tests[g], answered), references[g]) for g in own}
                for grade_id, ok in passed.items():
                    verdicts.setdefault((entry.student_id, grade_id), {}).setdefault(ok, []).append(seed)
                if entry.correct and not all(passed.values()):
                    failed = ", ".join(g for g, ok in passed.items() if not ok)
                    found[entry.student_id].append(f"seed {seed}: a correct variant fails {failed}")
                elif not entry.correct and all(passed.values()):
                    found[entry.student_id].append(f"seed {seed}: this wrong answer keeps full marks on "
                                                   f"{entry.exercise!r}")
    finally:
        if saved is None:
            os.environ.pop("COURSE_PROBE_SEED", None)
        else:
            os.environ["COURSE_PROBE_SEED"] = saved
    for (student, grade_id), by_verdict in verdicts.items():
        if len(by_verdict) > 1:
            found[student].append(f"{grade_id} passes it for seeds {by_verdict[True]} and fails it for "
                                  f"seeds {by_verdict[False]}: its inputs must show the mistake whatever the seed")
    return found


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
