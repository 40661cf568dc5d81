"""Fixtures for the graders' tests: scratch courses built from the toy assignment."""
from __future__ import annotations

import pytest

from autograders.tests import toy
from course.course_dir import Course


def make_toy_course(extra_config: str = "") -> Course:
    course = Course.scratch(names=[])
    toy.write_toy(course.root)
    with open(course.root / "nbgrader_config.py", "a") as config:
        # short limits keep the hostile corpus fast; the mechanisms are the same as the defaults
        config.write("\nc.SandboxedExecute.timeout = 8\nc.SandboxedExecute.notebook_timeout = 120\n" + extra_config)
    course.nbgrader("generate_assignment", toy.ASSIGNMENT, "--force")
    return course


@pytest.fixture
def toy_course() -> Course:
    return make_toy_course()
