"""Where a notebook's hidden tests are, and the point from which they are readable when it runs.

The grading kernel runs a submission's cells in order. Hidden test code can be read inside the
kernel from the moment it is sent there, through the input history, ``linecache``, the objects a
test cell leaves behind or the stack of a probe calling the student's code, and a student's code
that runs later can carry it out in any encoding. So no output of the cell where hidden code
first enters, nor of any later cell, may reach the student (``feedback.HideHiddenTests``), and
no cell's hidden code may reach the kernel before that cell runs (``execute.SandboxedExecute``).
Both sides use ``hidden_code_from`` to find that point.
"""
from __future__ import annotations

import re

from nbgrader import utils

HIDDEN_MARKER = "BEGIN HIDDEN TESTS"
HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                           re.MULTILINE | re.DOTALL)


def split_hidden(source: str) -> tuple[str, list[str]]:
    """The visible part of a cell's source, and its hidden regions."""
    return HIDDEN_REGION.sub("", source), HIDDEN_REGION.findall(source)


def is_test_cell(cell) -> bool:
    """An autograded test cell: graded, not an answer, code."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


PROBE_RUNTIME = "course_probe"  # what a test cell that runs probes imports


def is_plain_test_cell(cell) -> bool:
    """A test cell written the ordinary nbgrader way: it asserts (or prints a partial score)
    in the student's kernel rather than running probes, so its verdict is decided there."""
    return is_test_cell(cell) and PROBE_RUNTIME not in cell.source


def may_hold_hidden_code(cell) -> bool:
    """Whether the instructor's hidden code may be in this cell: any test cell (its hidden part
    can be marked in another way than this course's), or any code cell with the marker."""
    return cell.cell_type == "code" and (is_test_cell(cell) or HIDDEN_MARKER in cell.source)


def hidden_code_from(cells) -> int:
    """The index of the first cell that may hold hidden code (``len(cells)`` when none does):
    the outputs of that cell and of every cell after it were made while hidden code could be
    read in the kernel."""
    return next((index for index, cell in enumerate(cells) if may_hold_hidden_code(cell)), len(cells))
