"""What crosses between the instructor's process and a grading host: no filesystem is shared.

A ``Chapter`` carries what grading any submission of one assignment needs (the config, the
assignment's source and release, the grading secret, and a snapshot of the gradebook without
anyone's submissions); it is sent to every worker once. A ``Submission`` carries one student's
files; a ``Graded`` result carries the graded notebook's folder and the rows nbgrader wrote for
it, which the instructor's process alone writes into ``autograded/`` and the gradebook. The
chapter's reference, observed once by one worker, is a ``Graded`` too (its reports' files), and
goes to every worker that grades the chapter.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from traitlets import Integer
from traitlets.config import Configurable


class PortableLimits(Configurable):
    """How much a grading task may carry (``c.PortableLimits`` in nbgrader_config.py)."""

    submission_bytes = Integer(
        50 * 1024 ** 2, min=1,
        help="The most bytes of files one submission may send to a grading host; a larger one is graded "
        "as an empty copy that says why, and kept as it is.").tag(config=True)


class TooLarge(ValueError):
    """A folder holds more than a task may carry."""


def pack(folder: Path, limit: int | None = None, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """``{relative path: bytes}`` of every file under ``folder`` (links are not followed: a link
    out of the folder would carry what is not the submission's). ``TooLarge`` past ``limit``."""
    files, total = {}, 0
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if path.is_symlink() or not path.is_file() or any(part in skip for part in relative.parts):
            continue
        data = path.read_bytes()
        total += len(data)
        if limit is not None and total > limit:
            raise TooLarge(f"{folder} holds more than {limit} bytes")
        files[relative.as_posix()] = data
    return files


def unpack(files: dict[str, bytes], folder: Path) -> None:
    """Write ``files`` under ``folder``; a path that would leave it is refused."""
    folder = Path(folder)
    root = folder.resolve()
    for name, data in files.items():
        target = (folder / name).resolve()
        if target != root and root not in target.parents:
            raise ValueError(f"refused to write {name!r} outside {folder}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def digest(files: dict[str, bytes]) -> str:
    hashed = hashlib.sha256()
    for name in sorted(files):
        hashed.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return hashed.hexdigest()


@dataclass(frozen=True)
class Chapter:
    """One assignment, as a grading host needs it. ``code`` is the course code's version that
    made it: a worker running other code refuses it."""
    assignment: str
    notebooks: list[str]
    code: str
    files: dict[str, bytes]  # relative to a course root: nbgrader_config.py, source/, release/, the secret
    gradebook: bytes         # SQLite: the assignments, their cells and the course, no submissions

    @property
    def key(self) -> str:
        return digest({**self.files, "gradebook": self.gradebook})[:16]


@dataclass(frozen=True)
class Submission:
    assignment: str
    student: str
    files: dict[str, bytes]  # the submitted folder: notebooks, timestamp.txt, any other file
    extension_s: float | None = None  # the student's extension for this assignment, from the gradebook
    replaced: str = ""  # why the instructor's side sent empty copies instead (too large to carry)


@dataclass(frozen=True)
class Graded:
    """What a worker did with one submission."""
    success: bool
    error: str = ""            # why it failed, or the error that got the submission replaced
    replaced: str = ""         # nbgrader gave up on it: the reason written into the empty copies graded instead
    files: dict[str, bytes] = field(default_factory=dict)  # autograded/<student>/<assignment>/
    rows: dict = field(default_factory=dict)  # the gradebook's rows for it (course.gradebook_rows)
    seconds: float = 0.0       # the worker's time on it
    pooled_kernels: int = 0    # kernels its worker's pool forked for it
    pools_started: int = 0     # kernel pools its worker started for it (a broken one is replaced)
    worker: str = ""           # the worker's address
    code: str = ""             # the course code it ran (course.worker.code_version)
