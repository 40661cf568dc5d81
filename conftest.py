"""Set-up shared by every test folder (`tests/`, `autograders/tests/`, `course/tests/`, the
notebooks under nbval)."""
from __future__ import annotations

import pytest

from autograders.tests.toy import make_toy_course
from course.course_dir import Course


@pytest.fixture(autouse=True, scope="session")
def scratch_courses_in_pytests_temp_folder(tmp_path_factory):
    """Scratch courses (about 100 MB a run) go under pytest's temporary folder, which keeps only
    the last three runs, instead of piling up in /tmp."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Course, "scratch_parent", tmp_path_factory.mktemp("courses"))
        yield


@pytest.fixture
def toy_course() -> Course:
    """A scratch course holding the graders' toy assignment (autograders/tests/toy.py)."""
    return make_toy_course()
