"""``CheckCellMetadataOnce``: nbgrader's metadata check, remembered only for metadata that passed."""
from __future__ import annotations

import nbformat
import pytest
from nbgrader.nbgraderformat import ValidationError
from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

from autograders.metadata import CheckCellMetadataOnce
from autograders.tests import toy


@pytest.fixture
def validations(monkeypatch):
    """How many times nbgrader's own validation ran."""
    calls = []
    original = MetadataValidatorV3.validate_nb

    def counted(self, nb):
        calls.append(1)
        return original(self, nb)

    monkeypatch.setattr(MetadataValidatorV3, "validate_nb", counted)
    monkeypatch.setattr(CheckCellMetadataOnce, "_valid", set())
    return calls


def test_valid_metadata_is_checked_once_whatever_the_sources(validations):
    check = CheckCellMetadataOnce()
    first, second = toy.toy_notebook(), toy.toy_notebook()
    second.cells[2].source = "def double(x):\n    return x + x\n"   # a student's answer
    second.cells.append(nbformat.v4.new_code_cell("print('a cell of my own')"))
    check.preprocess(first, {})
    check.preprocess(second, {})
    assert len(validations) == 1


@pytest.mark.parametrize("break_it", ["duplicate_id", "markdown_solution", "no_points"])
def test_invalid_metadata_fails_every_time(validations, break_it):
    check = CheckCellMetadataOnce()
    check.preprocess(toy.toy_notebook(), {})  # the valid notebook is remembered
    broken = toy.toy_notebook()
    graded = [cell for cell in broken.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    if break_it == "duplicate_id":
        graded[1].metadata.nbgrader.grade_id = graded[0].metadata.nbgrader.grade_id
    elif break_it == "markdown_solution":  # same metadata, another cell type: not the same check
        solution = next(cell for cell in broken.cells if cell.metadata.get("nbgrader", {}).get("solution"))
        solution.cell_type = "markdown"
        solution.pop("outputs", None)
        solution.pop("execution_count", None)
    else:
        del graded[0].metadata.nbgrader["points"]
    for _ in range(2):
        with pytest.raises(ValidationError):
            check.preprocess(broken, {})
    assert len(validations) == 3
