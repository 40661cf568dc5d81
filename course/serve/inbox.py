"""The exchange's inbound folder as the grading service reads it: one ``Entry`` per submission."""
from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.utils import parse_utc


@dataclass(frozen=True)
class Entry:
    """One submission in the inbound folder: ``student+assignment+timestamp+random``, as
    ``nbgrader submit`` names it (the timestamp is the student's clock, as nbgrader trusts it)."""
    name: str
    student: str
    assignment: str
    submitted: datetime  # UTC
    path: Path

    @property
    def safe_id(self) -> bool:
        """Whether the student id names one student: nbgrader's commands read ``*``, ``?`` and
        ``[`` in it as a pattern, and a separator as a path."""
        return bool(self.student) and self.student.strip() == self.student and self.student not in (".", "..") \
            and not any(character in self.student for character in "*?[]/\\")

    @property
    def owner(self) -> str | None:
        """The account that made the folder, where it is not the service's own or root's (copies
        on one machine; on a hub each student's server submits as that student), else None."""
        try:
            uid = self.path.stat().st_uid
        except OSError:
            return None
        if uid in (0, os.geteuid()):
            return None
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return f"uid {uid}"

    @property
    def secret(self) -> str | None:
        """The submission's secret, from which nbgrader names its feedback file."""
        try:
            return (self.path / "submission_secret.txt").read_text().strip()
        except OSError:
            return None


def entries(inbound: Path, assignments: list[str]) -> list[Entry]:
    """The submissions of ``assignments`` in ``inbound``, oldest first. Names nbgrader would not
    collect (too few parts, a timestamp it cannot read) and other chapters' are left alone."""
    found = []
    try:
        names = [path.name for path in inbound.iterdir() if path.is_dir()]
    except OSError:
        return []
    for name in names:
        parts = name.rsplit("+", 3)
        if len(parts) < 3 or parts[1] not in assignments:
            continue
        try:
            submitted = parse_utc(parts[2])
        except (ValueError, OverflowError):
            continue
        found.append(Entry(name, parts[0], parts[1], submitted, inbound / name))
    return sorted(found, key=lambda entry: (entry.submitted, entry.name))


def fair_order(waiting: list[Entry], served: dict[str, float]) -> list[Entry]:
    """Who is graded first: students served least recently (never served: first), each in the
    order of arrival. A student who floods the exchange goes behind everyone else waiting."""
    return sorted(waiting, key=lambda entry: (served.get(entry.student, 0.0), entry.submitted, entry.name))
