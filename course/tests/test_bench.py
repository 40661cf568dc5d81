"""`make bench` compares like with like: both courses grade with the same hidden inputs."""
from __future__ import annotations

import stat

from autograders.reference import SECRET_FILE, grading_seed
from course.bench import share_grading_secret
from course.course_dir import Course


def test_both_courses_of_the_bench_draw_the_same_hidden_inputs(tmp_path):
    stock, ours, elsewhere = (Course.create(tmp_path / name, []) for name in ("stock", "ours", "elsewhere"))
    share_grading_secret(stock, ours)
    seeds = [grading_seed(course.root, "03_lazy_initialization", "lazy_initialization")
             for course in (stock, ours, elsewhere)]
    assert seeds[0] == seeds[1] != seeds[2]  # another course keeps secret inputs of its own
    assert stat.S_IMODE((ours.root / SECRET_FILE).stat().st_mode) == 0o600
