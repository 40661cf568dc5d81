"""Intake: make every submitted notebook gradable before nbgrader sees it, losing nothing.

nbgrader stops on a notebook it cannot read, rejects one whose graded cells repeat an id or
whose locked cells changed type, and grades a renamed notebook as a stranger. Here repeated cells
are dropped and locked cells restored (the original is kept as ``*.original``); a submission that
is not valid JSON (or empty) is kept beside as ``*.unreadable`` and replaced by the released
notebook with a note saying why, so it scores 0 with a reason, and so is a notebook of the
assignment that is missing; a single notebook under another name is renamed to the expected
name, where the assignment has one.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell


def _reason(error: Exception) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text.splitlines()[0][:200] if text else 'unreadable'}"


def _read(path: Path):
    """``(notebook, None)`` when the file reads and validates, else ``(None, the reason)``."""
    invalid: dict = {}
    try:
        nb = nbformat.read(path, as_version=4, capture_validation_error=invalid)
    except Exception as exc:  # noqa: BLE001 - any reason a file is not a notebook
        return None, _reason(exc)
    if "ValidationError" in invalid:
        return None, _reason(invalid["ValidationError"])
    return nb, None


def _drop_duplicate_cells(nb) -> list[str]:
    """nbgrader rejects a notebook whose graded cells repeat an id: keep each id's first cell."""
    seen, kept, dropped = set(), [], []
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in seen:
            dropped.append(grade_id)
            continue
        if grade_id:
            seen.add(grade_id)
        kept.append(cell)
    nb.cells = kept
    return [f"removed repeated copies of cells {', '.join(sorted(set(dropped)))}"] if dropped else []


def _role(cell) -> tuple:
    meta = cell.metadata.nbgrader
    return tuple(meta.get(key) for key in ("grade", "solution", "locked", "points"))


def locked_cells(release_folder: Path, notebook: str) -> dict:
    """The released notebook's locked cells (tests, setup), by grade id."""
    released = nbformat.read(release_folder / f"{notebook}.ipynb", as_version=4)
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in released.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("locked")}


def _restore_locked_cells(nb, locked: dict) -> list[str]:
    """A locked cell (a test, the setup) whose type or metadata was changed makes nbgrader reject
    the whole notebook; put back the released cell, as nbgrader itself restores locked sources."""
    restored = []
    for index, cell in enumerate(nb.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        original = locked.get(grade_id)
        if original is not None and (cell.cell_type != original.cell_type
                                     or _role(cell) != _role(original)):
            nb.cells[index] = nbformat.from_dict(original)
            restored.append(grade_id)
    return [f"restored the locked cells {', '.join(restored)}"] if restored else []


def intake_submission(folder: Path, expected: str, release_folder: Path, locked: dict,
                      may_rename: bool = True) -> list[str]:
    """Repair one notebook of one student's submission folder (``locked``: the released
    notebook's locked cells; ``may_rename``: the assignment has this notebook alone, so a single
    notebook of another name is it); return what was done."""
    notes = []
    target = folder / f"{expected}.ipynb"
    notebooks = sorted(folder.glob("*.ipynb"))
    if not target.exists() and len(notebooks) == 1 and may_rename:
        notebooks[0].rename(target)
        notes.append(f"renamed {notebooks[0].name} to {target.name}")
    if not target.exists():
        reason = "no notebook named " + target.name + " was submitted"
    else:
        nb, reason = _read(target)
        if reason is None:
            repairs = _drop_duplicate_cells(nb) + _restore_locked_cells(nb, locked)
            if repairs:
                shutil.copy2(target, target.with_suffix(".ipynb.original"))
                nbformat.write(nb, target)
            return notes + repairs
    replace_with_release(folder, expected, release_folder, reason)
    notes.append(f"{target.name}: {reason}; graded as an empty submission")
    return notes


REPLACED_NOTE = "**Your submission could not be graded as it was:"


def replace_with_release(folder: Path, notebook: str, release_folder: Path, reason: str) -> None:
    """Grade the released notebook in place of a submission, keeping the submission beside it
    (as ``*.unreadable``, or ``*.unreadable.N`` when an earlier one is there)."""
    target = folder / f"{notebook}.ipynb"
    if target.exists() and REPLACED_NOTE not in target.read_text(errors="replace"):
        kept = target.with_suffix(".ipynb.unreadable")
        number = 0
        while kept.exists():
            number += 1
            kept = target.with_suffix(f".ipynb.unreadable.{number}")
        shutil.copy2(target, kept)
    nb = nbformat.read(release_folder / f"{notebook}.ipynb", as_version=4)
    nb.cells.insert(0, new_markdown_cell(
        f"{REPLACED_NOTE} {reason}.** It is kept by the instructor; this empty copy of the "
        "assignment was graded in its place."))
    nbformat.write(nb, target)


def intake(course_root: Path, assignment: str, notebooks: list[str]) -> dict[str, list[str]]:
    """Intake every submission of ``assignment``, whose notebooks are ``notebooks``; ``{student:
    notes}`` for those that needed it. A notebook missing from a submission is graded as an empty
    copy, so that it costs only its own points."""
    released = Path(course_root) / "release" / assignment
    locked = {notebook: locked_cells(released, notebook) for notebook in notebooks}
    done = {}
    for folder in sorted(Path(course_root).glob(f"submitted/*/{assignment}")):
        notes = [note for notebook in notebooks
                 for note in intake_submission(folder, notebook, released, locked[notebook], len(notebooks) == 1)]
        if notes:
            done[folder.parent.name] = notes
    return done
