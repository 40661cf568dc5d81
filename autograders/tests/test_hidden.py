"""Where a notebook's hidden tests are, from cells alone (``autograders.hidden``)."""
from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell

from autograders.hidden import (hidden_code_from, is_plain_test_cell, is_test_cell, may_hold_hidden_code,
                                split_hidden)

HIDDEN = "### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\n"


def _cell(source="", grade=False, solution=False, kind="code"):
    metadata = {"nbgrader": {"grade": grade, "solution": solution, "grade_id": "c", "points": int(grade)}}
    return (new_code_cell if kind == "code" else new_markdown_cell)(source, metadata=metadata)


def test_split_hidden_keeps_the_visible_code_and_returns_each_hidden_region():
    source = "a = 1\n" + HIDDEN + "b = 2\n    ### BEGIN HIDDEN TESTS\n    more()\n    ### END HIDDEN TESTS (end)\n"
    visible, regions = split_hidden(source)
    assert visible == "a = 1\nb = 2\n"
    assert regions == [HIDDEN, "    ### BEGIN HIDDEN TESTS\n    more()\n    ### END HIDDEN TESTS (end)\n"]


def test_split_hidden_of_a_cell_without_hidden_tests_is_the_cell():
    assert split_hidden("assert f(1) == 2\n") == ("assert f(1) == 2\n", [])
    # a marker in the middle of a line marks nothing
    assert split_hidden("x = '### BEGIN HIDDEN TESTS'\n") == ("x = '### BEGIN HIDDEN TESTS'\n", [])


def test_a_test_cell_is_graded_code_that_is_not_an_answer():
    assert is_test_cell(_cell(grade=True))
    assert not is_test_cell(_cell(grade=True, solution=True))  # an autograded answer
    assert not is_test_cell(_cell(solution=True))
    assert not is_test_cell(_cell(grade=True, kind="markdown"))  # a manually graded free answer
    assert not is_test_cell(new_code_cell("print(1)"))  # no nbgrader metadata at all


def test_a_plain_test_cell_is_a_test_cell_that_runs_no_probes():
    assert is_plain_test_cell(_cell("assert f(2) == 4\n", grade=True))
    assert not is_plain_test_cell(_cell("import course_probe\ncourse_probe.report(probe)\n", grade=True))
    assert not is_plain_test_cell(_cell("assert f(2) == 4\n"))  # not a test cell


def test_hidden_code_may_be_in_any_test_cell_and_in_any_code_cell_with_the_marker():
    assert may_hold_hidden_code(_cell("assert True\n", grade=True))  # its hidden part may be marked otherwise
    assert may_hold_hidden_code(_cell(HIDDEN))
    assert not may_hold_hidden_code(_cell("print(1)\n"))
    assert not may_hold_hidden_code(_cell(HIDDEN, kind="markdown"))


def test_hidden_code_is_readable_from_the_first_cell_that_may_hold_it():
    cells = [_cell("import torch\n"), _cell("x = 1\n", solution=True), _cell(HIDDEN), _cell("y\n", grade=True)]
    assert hidden_code_from(cells) == 2
    assert hidden_code_from([cells[1], cells[3]]) == 1
    assert hidden_code_from(cells[:2]) == 2  # none: every cell's outputs were made before any hidden code
    assert hidden_code_from([]) == 0
