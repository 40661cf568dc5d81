"""nbgrader's check of the cells' nbgrader metadata, run once per distinct metadata."""
from __future__ import annotations

import hashlib
import json
from typing import ClassVar

from nbgrader.preprocessors import CheckCellMetadata


def metadata_fingerprint(nb) -> str:
    """What nbgrader's metadata check reads: each nbgrader cell's type and nbgrader metadata."""
    cells = [(cell.cell_type, cell.metadata["nbgrader"]) for cell in nb.cells if "nbgrader" in cell.metadata]
    return hashlib.sha256(json.dumps(cells, sort_keys=True, default=repr).encode()).hexdigest()


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata``, skipped for metadata this process has already found valid.

    The check depends on nothing but each nbgrader cell's type and nbgrader metadata, and the
    submissions of a chapter all carry the same (nbgrader's ``OverwriteCells`` restores it from
    the gradebook before the check). Its JSON-schema validation, the costliest step of grading a
    notebook after running it, then runs once per chapter and grading process instead of twice
    per notebook. Metadata that fails is never remembered: it fails every time, as in nbgrader.
    """

    _valid: ClassVar[set[str]] = set()

    def preprocess(self, nb, resources):
        fingerprint = metadata_fingerprint(nb)
        if fingerprint in self._valid:
            return nb, resources
        nb, resources = super().preprocess(nb, resources)
        self._valid.add(fingerprint)
        return nb, resources
