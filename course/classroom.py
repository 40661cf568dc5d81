"""A synthetic class: students whose answers are built from the source notebooks and the banks.

Each student is a recipe: for every assignment, which answer each exercise gets (the reference,
the released stub, a known-wrong or correct entry of the bank) or a damaged file.
"""
from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from autograders.bank import answer_cells, bank_entries, with_answers
from nbgrader import utils

from .course_dir import source_notebook


@dataclass(frozen=True)
class LoadedAssignment:
    """What a synthetic student's notebook can be made from, for one assignment."""

    name: str
    source: object    # the source notebook (reference answers)
    released: object  # the student version (stubs)

    @property
    def exercises(self) -> list[str]:
        return list(answer_cells(self.source))

    def stub_answers(self, exercises) -> dict[str, str]:
        stubs = answer_cells(self.released)
        return {e: stubs[e].source for e in exercises}

    def bank_answers(self, correct: bool, pick: Callable[[list], object]) -> dict[str, str]:
        """One bank entry per exercise (wrong or correct ones), chosen by ``pick``."""
        answers = {}
        for exercise in self.exercises:
            entries = [e for e in bank_entries(self.name) if e.exercise == exercise and e.correct == correct]
            if entries:
                answers[exercise] = pick(entries).path.read_text()
        return answers


def load_assignment(name: str, release_root: Path) -> LoadedAssignment:
    source = nbformat.read(source_notebook(name), as_version=4)
    released_path = Path(release_root) / name / f"{source_notebook(name).stem}.ipynb"
    return LoadedAssignment(name, source, nbformat.read(released_path, as_version=4))


def _without_first_test_cell(nb):
    nb = nbformat.from_dict(nb)
    for index, cell in enumerate(nb.cells):
        if utils.is_grade(cell) and not utils.is_solution(cell):
            del nb.cells[index]
            break
    return nb


def renamed_variables(source: str) -> str:
    """``source`` as a student hides a copied answer: each name a function assigns renamed
    (``v1``, ``v2``, ..., one new name per old one, wherever a function body uses it), the
    comments gone and the code laid out again by ``ast.unparse``. Kept as they are, so that the
    copy runs as the original: every function's parameters (a test may pass them by keyword),
    names the module level binds or uses, the names of functions, classes and imports,
    builtins, names declared ``global`` or ``nonlocal``, and attributes."""
    tree = ast.parse(source)
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    bodies = [node for f in functions for part in (f.body if isinstance(f.body, list) else [f.body])
              for node in ast.walk(part)]
    inside = {id(node) for node in bodies}
    kept = set(dir(builtins))
    kept |= {arg.arg for function in functions for arg in ast.walk(function.args) if isinstance(arg, ast.arg)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in inside:
            kept.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kept.add(node.name)
        elif isinstance(node, ast.alias):
            kept.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            kept.update(node.names)
    local = {}
    for node in bodies:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in kept:
            local.setdefault(node.id, f"v{len(local) + 1}")
    for node in bodies:
        if isinstance(node, ast.Name) and node.id in local:
            node.id = local[node.id]
    return ast.unparse(tree) + "\n"


def _copied_and_renamed(ch: "LoadedAssignment") -> dict[str, str]:
    return {exercise: renamed_variables(answer) for exercise, answer in ch.bank_answers(True, _last).items()}


def _first(entries):
    return entries[0]


def _last(entries):
    return entries[-1]


# Each recipe turns an assignment into the text of the file that student submits (None: no file).
RECIPES: dict[str, Callable[[LoadedAssignment, int], str | None]] = {
    "ada_perfect": lambda ch, i: nbformat.writes(ch.source),
    "ben_untouched": lambda ch, i: nbformat.writes(ch.released),
    "cyd_partial": lambda ch, i: nbformat.writes(with_answers(
        ch.source, ch.stub_answers(ch.exercises[len(ch.exercises) // 2:]))),
    "dan_typical_mistakes": lambda ch, i: nbformat.writes(with_answers(ch.source, ch.bank_answers(False, _first))),
    "eve_other_mistakes": lambda ch, i: nbformat.writes(with_answers(ch.source, ch.bank_answers(False, _last))),
    "fay_different_but_right": lambda ch, i: nbformat.writes(with_answers(ch.source, ch.bank_answers(True, _first))),
    "gus_broken_json": lambda ch, i: nbformat.writes(ch.source)[: len(nbformat.writes(ch.source)) // 2],
    "hal_deleted_test_cell": lambda ch, i: nbformat.writes(_without_first_test_cell(ch.source)),
    "ivy_skips_chapter_1": lambda ch, i: None if i == 0 else nbformat.writes(ch.source),
    # a pair that copied: jon's own correct answers, and kim's copy of them with the variables renamed
    "jon_writes_his_own": lambda ch, i: nbformat.writes(with_answers(ch.source, ch.bank_answers(True, _last))),
    "kim_copies_jon_renamed": lambda ch, i: nbformat.writes(with_answers(ch.source, _copied_and_renamed(ch))),
}
