"""A tiny assignment for testing the grading engine itself: two independent exercises."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.course_dir import Course

ASSIGNMENT = "00_toy"
NOTEBOOK = "toy"

SETUP = "import torch\nimport warnings\nwarnings.filterwarnings('ignore')"
DOUBLE = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
HALVE = "def halve(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION"
DOUBLE_VISIBLE = """assert double(2) == 4, "double(2) should be 4"
print("Public checks passed.")
### BEGIN HIDDEN TESTS
import course_probe as cp

def probe(seed):
    torch.manual_seed(seed)
    x = torch.randn(5)
    return [cp.close("tensor", double(x), "double(x) must be 2 * x on tensors")]

cp.report(probe)
### END HIDDEN TESTS"""
DOUBLE_HIDDEN = """### BEGIN HIDDEN TESTS
import course_probe as cp

def probe(seed):
    return [cp.equal("int", double(21), "double must work on ints"),
            cp.band("uniform", double(torch.rand(10_000)), "mean", 0.9, 1.1, "double keeps the shape of the distribution")]

cp.report(probe)
### END HIDDEN TESTS"""
HALVE_HIDDEN = """### BEGIN HIDDEN TESTS
import course_probe as cp

def probe(seed):
    torch.manual_seed(seed)
    secret_marker_for_leak_tests = torch.randn(3)
    return [cp.close("tensor", halve(secret_marker_for_leak_tests), "halve(x) must be x / 2")]

cp.report(probe)
### END HIDDEN TESTS"""


def _meta(grade_id, grade=False, solution=False, locked=False, points=None):
    data = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        data["points"] = points
    return {"nbgrader": data}


def toy_notebook():
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                               "language": "python"}})
    nb.cells = [
        new_markdown_cell("# A toy assignment"),
        new_code_cell(SETUP, metadata=_meta("setup", locked=True)),
        new_code_cell(DOUBLE, metadata=_meta("double", solution=True)),
        new_code_cell(DOUBLE_VISIBLE, metadata=_meta("double_visible", grade=True, locked=True, points=1)),
        new_code_cell(DOUBLE_HIDDEN, metadata=_meta("double_hidden", grade=True, locked=True, points=2)),
        new_code_cell(HALVE, metadata=_meta("halve", solution=True)),
        new_code_cell(HALVE_HIDDEN, metadata=_meta("halve_hidden", grade=True, locked=True, points=2)),
        new_markdown_cell("Why?", metadata=_meta("why_question", grade=True, solution=True, points=1)),
    ]
    return nb


def write_toy(course_root) -> None:
    folder = course_root / "source" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(toy_notebook(), folder / f"{NOTEBOOK}.ipynb")


def make_toy_course(extra_config: str = "") -> Course:
    """A scratch course holding the toy assignment, generated, with short time limits."""
    course = Course.scratch(names=[])
    write_toy(course.root)
    with open(course.root / "nbgrader_config.py", "a") as config:
        # short limits keep the hostile corpus fast; the mechanisms are the same as the defaults
        config.write("\nc.SandboxedExecute.timeout = 8\nc.SandboxedExecute.notebook_timeout = 120\n" + extra_config)
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    return course
