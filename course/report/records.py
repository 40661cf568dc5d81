"""What grading leaves on disk for the instructor's report beyond nbgrader's own files.

Two small JSON files per submission, under ``.grading_cache/`` (git-ignored, like the resume
stamps):

- ``intake/<assignment>/<student>.json``: ``{"timestamp": ..., "notes": [...]}``, what intake
  did to make the submission gradable (renamed, repeated cells dropped, locked cells restored,
  unreadable and graded as an empty copy), written by ``operations.autograde`` as it prints them.
  ``timestamp`` is the submission's ``timestamp.txt``: a later resubmission makes the notes stale.
- ``grading/<assignment>/<student>.json``: ``{"seconds": ..., "replaced": ..., "error": ...}``,
  the worker's time on the submission, written by the grading run through ``record_grading``.

A missing file means that nothing was recorded; the report then says what it knows from the
graded notebook alone.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

RECORDS = Path(".grading_cache")


def _path(root: Path, kind: str, assignment: str, student: str) -> Path:
    return Path(root) / RECORDS / kind / assignment / f"{student}.json"


def _timestamp(root: Path, assignment: str, student: str) -> str | None:
    stamp = Path(root) / "submitted" / student / assignment / "timestamp.txt"
    return stamp.read_text().strip() if stamp.is_file() else None


def _write(path: Path, data: dict) -> None:
    """Write a record; one that cannot be written (a full disk, a folder not writable) is only
    missing from the report, and never stops the grading that writes it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")
    except OSError as error:
        print(f"the report will lack a record: {error}", file=sys.stderr)


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def record_intake(root: Path, assignment: str, student: str, notes: list[str]) -> None:
    _write(_path(root, "intake", assignment, student),
           {"timestamp": _timestamp(root, assignment, student), "notes": list(notes)})


def intake_notes(root: Path, assignment: str, student: str) -> list[str]:
    """What intake did to the submission as it stands now (none, for a resubmission since)."""
    data = _read(_path(root, "intake", assignment, student))
    if not data or data.get("timestamp") != _timestamp(root, assignment, student):
        return []
    return [str(note) for note in data.get("notes", [])]


def record_grading(root: Path, assignment: str, student: str, seconds: float, replaced: bool = False,
                   error: str = "") -> None:
    """The grading run's hook, once per graded submission (``WorkerResult``'s fields)."""
    _write(_path(root, "grading", assignment, student),
           {"seconds": float(seconds), "replaced": bool(replaced), "error": error,
            "timestamp": _timestamp(root, assignment, student)})


def grading_record(root: Path, assignment: str, student: str) -> dict | None:
    data = _read(_path(root, "grading", assignment, student))
    if not data or data.get("timestamp") != _timestamp(root, assignment, student):
        return None
    return data
