"""The reference solution's observations: the other half of every comparison the judge makes.

The source notebook (lesson, reference solutions, all tests) runs in the same sandboxed kernel
as the submissions, with the same grading seed; each test cell's probe report is kept. A run is
cached under the course's private cache folder, keyed by the notebook's content, the seed and
the probe protocol's version.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import nbformat
from course_probe import PROTOCOL_VERSION
from nbgrader.utils import determine_grade

from .hidden import is_plain_test_cell, is_test_cell
from .reports import cell_reports

PLAIN = {"plain": True}  # the reference's "report" for a plain test cell (hidden.is_plain_test_cell)

SECRET_FILE = ".grading_secret"
CACHE_DIR = ".grading_cache"


# Reports already read in this process, by cache file: a worker judges every submission of a
# chapter against the same reference, which can hold megabytes of observations. Every caller
# gets the same dict, so none may change it (the judge only reads it).
_READ: dict[Path, dict] = {}


class UnobservableReferenceError(RuntimeError):
    """The reference solution cannot be observed: grading must stop (it fails closed). Its name
    ends in ``Error``, as the grading worker's reading of nbgrader's log expects."""


def course_secret(course_root: Path) -> Path:
    """The course's grading secret (made on first use, readable by its owner alone)."""
    secret_path = Path(course_root) / SECRET_FILE
    if not secret_path.exists():
        fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return secret_path


def grading_seed(course_root: Path, assignment: str, notebook: str) -> int:
    """A seed students cannot know: a keyed hash of the assignment under the course's secret.

    The same submission always meets the same inputs (grading twice gives the same scores),
    and no two courses or assignments share inputs.
    """
    key = course_secret(course_root).read_text().strip().encode()
    digest = hmac.new(key, f"{assignment}/{notebook}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def reference_cache(course_root: Path, content: bytes, seed: int) -> Path:
    """Where the reports of the source notebook ``content``, run with ``seed``, are kept."""
    key = hashlib.sha256(content + f"|seed={seed}|protocol={PROTOCOL_VERSION}|plain|".encode()).hexdigest()[:32]
    return Path(course_root).resolve() / CACHE_DIR / "reference" / f"{key}.json"


def reference_reports(course_root: Path, source_notebook: Path, seed: int, execute) -> dict:
    """``{grade_id: report}`` for every test cell of the source notebook, run with ``seed``;
    ``PLAIN`` for a plain test cell, which the reference passes as nbgrader would score it.

    ``execute(nb, resources)`` runs a notebook (the grading pipeline's own executor). Raises
    ``UnobservableReferenceError`` when a test cell of the reference does not report cleanly,
    or when the reference does not get all the points of a plain test cell.
    """
    source_notebook = Path(source_notebook)
    if not source_notebook.is_file():
        raise UnobservableReferenceError(f"no source notebook at {source_notebook}: cannot grade without the reference")
    content = source_notebook.read_bytes()
    cache = reference_cache(course_root, content, seed)
    if cache.is_file():
        if cache not in _READ:
            _READ[cache] = json.loads(cache.read_text())
        return _READ[cache]

    nb = nbformat.reads(content.decode(), as_version=4)
    workdir = tempfile.mkdtemp(prefix="course-reference-")
    try:
        shutil.copytree(source_notebook.parent, workdir, dirs_exist_ok=True)
        os.chmod(workdir, 0o777)  # the sandbox's own uid writes here
        nb, _ = execute(nb, {"metadata": {"path": workdir}, "course_probe_seed": seed})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    reports = {}
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        if is_plain_test_cell(cell):
            points, top = determine_grade(cell)
            if points != top:
                raise UnobservableReferenceError(
                    f"the reference solution of {source_notebook} fails its own test {grade_id!r} "
                    f"({points:g} of {top:g} points as nbgrader scores it): fix the source notebook")
            reports[grade_id] = PLAIN
            continue
        found = cell_reports(cell)
        if len(found) != 1 or found[0].get("error"):
            problem = "no report" if not found else found[0].get("error") or "several reports"
            raise UnobservableReferenceError(
                f"the reference solution of {source_notebook} fails its own test {grade_id!r} "
                f"({problem}): fix the source notebook")
        reports[grade_id] = found[0]
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(f".{os.getpid()}.part")
    partial.write_text(json.dumps(reports))
    os.replace(partial, cache)  # atomic: parallel graders never read half a file
    _READ[cache] = reports
    return reports
