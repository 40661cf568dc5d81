"""release/ is what students get: exactly generated from source/, and it runs for a student."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader import utils

from course.course_dir import Course, assignments, source_notebook

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = assignments()


def _comparable(path: Path) -> dict:
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        cell.pop("id", None)
    return nb


@pytest.fixture(scope="module")
def generated() -> Course:
    course = Course.scratch(CHAPTERS)
    for chapter in CHAPTERS:
        course.nbgrader("generate_assignment", chapter, "--force")
    return course


def test_there_are_chapters():
    assert CHAPTERS, "no chapter under source/"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_is_exactly_what_generate_assignment_makes(generated, chapter):
    fresh = sorted(p.relative_to(generated.root / "release") for p in (generated.root / "release" / chapter).rglob("*")
                   if p.is_file())
    committed = sorted(p.relative_to(REPO / "release") for p in (REPO / "release" / chapter).rglob("*") if p.is_file())
    assert fresh == committed, "release/ has other files than generate_assignment makes: run `make generate`"
    for relative in fresh:
        if relative.suffix == ".ipynb":
            assert _comparable(REPO / "release" / relative) == _comparable(generated.root / "release" / relative), \
                f"release/{relative} is out of date: run `make generate`"


HIDDEN_CELL = "# Hidden tests run in this cell when your notebook is graded."


def _released(chapter: str) -> Path:
    return REPO / "release" / chapter / f"{source_notebook(chapter).stem}.ipynb"


def _test_cells(nb) -> list:
    return [cell for cell in nb.cells if utils.is_grade(cell) and not utils.is_solution(cell)]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_released_notebook_runs_for_a_student(chapter, tmp_path):
    """Run All on the untouched release runs the whole lesson to its last cell, as JupyterLab runs it:
    a cell's error stops the run unless the cell is tagged ``raises-exception``. Lesson cells succeed,
    and each unfinished exercise is reported by its own public checks."""
    released = _released(chapter)
    nb = nbformat.read(released, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=False,
                   resources={"metadata": {"path": str(released.parent)}}).execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code[-1].execution_count is not None, "Run All stopped before the last cell"
    failing = [cell for cell in code if any(o.output_type == "error" for o in cell.outputs)]
    lesson_failures = [cell.source[:80] for cell in failing if not (utils.is_grade(cell) and not utils.is_solution(cell))]
    assert not lesson_failures, f"lesson or answer cells fail in the released notebook: {lesson_failures}"
    # hidden-only test cells hold one line that says what they are; every public check fails on the stubs
    tests = _test_cells(nb)
    public = [cell for cell in tests if cell.source.strip() != HIDDEN_CELL]
    assert public and all(cell in failing for cell in public), "a public check passes on the untouched stub"
    assert all("public checks" in cell.source.lower() for cell in public), "a test cell of the release is neither a public check nor a hidden one"
    for cell in failing:
        assert "public checks" in cell.source.lower() or "NotImplementedError" in str(cell.outputs), \
            "a failing check must say it is a public check"
        assert "NotImplementedError" in str(cell.outputs), "an unfinished exercise must be reported as not implemented"
    for cell in public:
        assert "Public checks passed. Hidden tests check much more." in cell.source, \
            "every public check closes with the course's message"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_hidden_test_cell_says_what_it_is(chapter):
    nb = nbformat.read(_released(chapter), as_version=4)
    hidden = [cell for cell in _test_cells(nb) if "public checks" not in cell.source.lower()]
    assert hidden, f"{chapter} has no hidden-only test cell"
    assert all(cell.source.strip() == HIDDEN_CELL for cell in hidden), \
        f"a hidden-test cell of the release must read only {HIDDEN_CELL!r}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_locked_cells_match_their_checksums(chapter):
    """What ``nbgrader validate`` checks before running anything: no locked cell of the untouched
    release differs from its checksum (a student's answers change no locked cell)."""
    nb = nbformat.read(_released(chapter), as_version=4)
    locked = [cell for cell in nb.cells if utils.is_locked(cell)]
    assert locked and all(cell.metadata.nbgrader["checksum"] == utils.compute_checksum(cell) for cell in locked)
