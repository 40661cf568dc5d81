"""The instructor's operations on a course as a clone of the repository holds it: ``release/``
committed, no gradebook yet."""
from __future__ import annotations

import shutil

from autograders.tests import toy
from course import operations


def test_release_on_a_clone_without_a_gradebook_records_the_chapter_for_grading():
    course = toy.make_toy_course()
    try:
        (course.root / "gradebook.db").unlink()  # a clone: the student version, no gradebook
        assert (course.root / "release" / toy.ASSIGNMENT).is_dir()
        assert not operations.in_gradebook(course, toy.ASSIGNMENT)
        operations.release(course, toy.ASSIGNMENT)
        assert operations.in_gradebook(course, toy.ASSIGNMENT), "autograde would refuse every submission"
    finally:
        shutil.rmtree(course.root, ignore_errors=True)
