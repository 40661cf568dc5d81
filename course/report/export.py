"""The per-test export: one CSV row per student and test cell, with its points and verdict
(what nbgrader's ``grades.csv``, one row per student and assignment, leaves out)."""
from __future__ import annotations

import csv
from pathlib import Path

from .gather import ClassData

COLUMNS = ["assignment", "student_id", "exercise", "test", "score", "max_score", "verdict", "message"]


def write_per_test_csv(data: ClassData, path: Path) -> Path:
    points: dict[float, str] = {}  # a class's few distinct scores, each formatted once
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for chapter in data.chapters:
            for student in sorted(chapter.submissions):
                writer.writerows(
                    [chapter.name, student, test.exercise, test.grade_id,
                     points.get(test.score) or points.setdefault(test.score, f"{test.score:g}"),
                     points.get(test.max_score) or points.setdefault(test.max_score, f"{test.max_score:g}"),
                     "passed" if test.passed else "failed", test.message]
                    for test in chapter.submissions[student].tests)
    return path
