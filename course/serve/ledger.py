"""What the grading service has done with each submission, kept across restarts.

One JSON line per decision in ``.grading_cache/service/ledger.jsonl`` (git-ignored beside the
resume stamps), appended once the decision is complete: feedback released, or the student told.
A submission the service was grading when it stopped has no line, so it is taken up again on
restart; its grade is not doubled, because the gradebook holds one submission per student and
chapter and the resume stamps skip regrading an unchanged one.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..report.records import RECORDS

GRADED, DEFERRED, SUPERSEDED, LATE, FAILED = "graded", "deferred", "superseded", "late", "failed"


@dataclass
class Decision:
    entry: str        # the inbound folder's name
    student: str
    assignment: str
    state: str        # GRADED, DEFERRED (over the day's limit), SUPERSEDED, LATE, FAILED
    at: float         # when it was decided (epoch seconds)
    day: str          # the UTC day it counts against the limit
    score: float | None = None
    max_score: float | None = None
    latency_s: float | None = None  # from the submission's timestamp to its feedback
    why: str = ""


def ledger_file(root: Path) -> Path:
    return Path(root) / RECORDS / "service" / "ledger.jsonl"


def today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


class Ledger:
    def __init__(self, root: Path):
        self.path = ledger_file(root)
        self.decisions: dict[str, Decision] = {}
        self.closed: dict[str, str] = {}  # chapter -> the deadline (ISO) at which the service graded it
        self.served: dict[str, float] = {}  # student -> when the service last decided for them
        for line in self._lines():
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short by a crash: its submission is taken up again
                continue
            if "closed" in record:
                self.closed[record["closed"]] = record.get("due", "")
            elif isinstance(record, dict) and "entry" in record:
                try:
                    decision = Decision(**record)
                except TypeError:
                    continue
                self.decisions[decision.entry] = decision
                self.served[decision.student] = max(self.served.get(decision.student, 0.0), decision.at)

    def _lines(self) -> list[str]:
        try:
            return self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []

    def _append(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def record(self, decision: Decision) -> None:
        self._append(asdict(decision))
        self.decisions[decision.entry] = decision
        self.served[decision.student] = decision.at

    def close(self, assignment: str, due: str) -> None:
        self._append({"closed": assignment, "due": due, "at": time.time()})
        self.closed[assignment] = due

    def graded_today(self, student: str, assignment: str) -> int:
        day = today()
        return sum(1 for d in self.decisions.values()
                   if d.state == GRADED and d.student == student and d.assignment == assignment and d.day == day)

    def counts(self) -> Counter:
        """``{(assignment, state): decisions}``, for the instructor's report."""
        return Counter((d.assignment, d.state) for d in self.decisions.values())
