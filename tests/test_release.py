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


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_released_notebook_runs_for_a_student(chapter, tmp_path):
    """Lesson cells succeed; only the exercise checks that need the student's code fail."""
    released = REPO / "release" / chapter / f"{source_notebook(chapter).stem}.ipynb"
    nb = nbformat.read(released, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(released.parent)}}).execute()
    failing = [cell for cell in nb.cells if cell.cell_type == "code"
               and any(o.output_type == "error" for o in cell.outputs)]
    lesson_failures = [cell.source[:80] for cell in failing if not (utils.is_grade(cell) and not utils.is_solution(cell))]
    assert not lesson_failures, f"lesson or answer cells fail in the released notebook: {lesson_failures}"
    # hidden-only test cells are empty in the release; every public check must fail on the stubs
    public = [cell for cell in nb.cells if utils.is_grade(cell) and not utils.is_solution(cell) and cell.source.strip()]
    assert public and all(cell in failing for cell in public), "a public check passes on the untouched stub"
    for cell in failing:
        assert "public checks" in cell.source.lower() or "NotImplementedError" in str(cell.outputs), \
            "a failing check must say it is a public check"
