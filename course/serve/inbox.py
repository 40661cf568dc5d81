"""The exchange's inbound folder as the grading service reads it: one ``Entry`` per submission."""
from __future__ import annotations

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
