"""The per-test export: one CSV row per student and test cell, with its points and verdict
(what nbgrader's ``grades.csv``, one row per student and assignment, leaves out)."""
from __future__ import annotations

import csv
from pathlib import Path

from .gather import ClassData

COLUMNS = ["assignment", "student_id", "exercise", "test", "score", "max_score", "verdict", "message"]


def write_per_test_csv(data: ClassData, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for chapter in data.chapters:
            for student in sorted(chapter.submissions):
                for test in chapter.submissions[student].tests:
                    writer.writerow([chapter.name, student, test.exercise, test.grade_id, f"{test.score:g}",
                                     f"{test.max_score:g}", "passed" if test.passed else "failed", test.message])
    return path
