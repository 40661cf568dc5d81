"""The demo cycle end to end on a small class: release, submit, collect, grade, feedback, export."""
from __future__ import annotations

import csv

from rich.console import Console

from course import operations
from course.demo import class_table, run_demo
from course.course_dir import Course, PipelineError, assignments

import pytest


def test_demo_cycle_on_a_small_class(tmp_path):
    chapters = assignments()[:2]
    students = ["ada_perfect", "ben_untouched", "gus_broken_json", "ivy_skips_chapter_1"]
    result = run_demo(tmp_path / "demo", chapters, students, Console(quiet=True))
    for chapter in chapters:
        got, top = result.total(chapter, "ada_perfect")
        assert got == top > 0, f"the perfect student lost points in {chapter}"
        assert result.total(chapter, "ben_untouched")[0] == 0
        assert result.total(chapter, "gus_broken_json")[0] == 0
    assert result.total(chapters[0], "ivy_skips_chapter_1") is None
    rows = list(csv.DictReader(open(result.csv)))
    assert {row["student_id"] for row in rows} >= set(students) - {"ivy_skips_chapter_1"}
    broken = next(p for p in result.feedback if "gus_broken_json" in str(p))
    assert "could not be graded" in broken.read_text()
    table = Console(record=True, width=200)
    table.print(class_table(result))
    assert "no submission" in table.export_text()
    # a target run twice is harmless
    operations.release(result.course, chapters[0])
    operations.collect(result.course, chapters[0])


def test_bad_input_gets_a_clear_error(tmp_path):
    course = Course.create(tmp_path / "course", assignments()[:1])
    with pytest.raises(PipelineError, match="unknown assignment 'no_such_chapter'"):
        operations.autograde(course, "no_such_chapter")
    with pytest.raises(PipelineError, match="nothing has been released"):
        operations.collect(course)
    with pytest.raises(PipelineError, match="no submissions"):
        operations.autograde(course)
    with pytest.raises(PipelineError, match="no gradebook"):
        operations.export(course)
    operations.release(course)
    assert operations.collect(course) == {assignments()[0]: 0}
