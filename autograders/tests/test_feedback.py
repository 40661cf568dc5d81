"""What the feedback keeps of a graded notebook: nothing made after hidden code was readable."""
from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograders.feedback import OUTPUTS_WITHHELD, REDACTED, HideHiddenTests
from autograders.hidden import hidden_code_from

HIDDEN = "### BEGIN HIDDEN TESTS\nsecret_probe_line_for_the_test()\n### END HIDDEN TESTS\n"


def _meta(grade_id, grade=False, solution=False):
    return {"nbgrader": {"grade": grade, "solution": solution, "locked": not solution, "grade_id": grade_id,
                         "points": 1 if grade else 0, "schema_version": 3}}


def _stream(text):
    return new_output("stream", name="stdout", text=text)


def _graded_notebook():
    nb = new_notebook(metadata={"widgets": {"state": {"smuggled": "c2VjcmV0"}}})
    nb.cells = [
        new_markdown_cell("# Lesson"),
        new_code_cell("print(1)", execution_count=1, outputs=[_stream("1\n")]),
        new_code_cell("def f(x): return x", execution_count=2, metadata=_meta("answer", solution=True),
                      outputs=[_stream("secret_probe_line_for_the_test()\n")]),
        new_code_cell("assert f(1) == 1\n" + HIDDEN, execution_count=3, metadata=_meta("answer_test", grade=True),
                      outputs=[_stream("Passed: 2 checks\n")]),
        new_code_cell("print(In)", execution_count=4, outputs=[_stream("c2VjcmV0X3Byb2Jl\n")]),
        new_code_cell("def g(x): return x", execution_count=5, metadata=_meta("later", solution=True),
                      outputs=[new_output("error", ename="RuntimeError", evalue="c2Vj", traceback=["c2Vj"])]),
    ]
    nb.cells[4].metadata["execution"] = {"shell.execute_reply": "2026-12-01T00:00:00Z"}
    return nb


def test_hidden_code_is_readable_from_the_first_test_cell_or_marked_cell():
    nb = _graded_notebook()
    assert hidden_code_from(nb.cells) == 3
    nb.cells[1].source = "# " + HIDDEN  # marked, though no test cell
    assert hidden_code_from(nb.cells) == 1
    assert hidden_code_from(nb.cells[:1]) == 1  # none: past the end


def test_from_there_on_only_the_verdicts_are_shown():
    nb, _ = HideHiddenTests().preprocess(_graded_notebook(), {})
    lesson, before, answer, notice, test, after, later = nb.cells
    assert before.outputs == [_stream("1\n")] and before.execution_count == 1
    assert answer.outputs == [_stream(REDACTED)]  # made before: kept, but a quote is still removed
    assert notice.cell_type == "markdown" and notice.source == OUTPUTS_WITHHELD
    assert test.outputs == [_stream("Passed: 2 checks\n")] and test.execution_count is None
    assert test.source.startswith("assert f(1) == 1") and "secret_probe_line" not in test.source
    for cell in (after, later):
        assert cell.outputs == [] and cell.execution_count is None and "execution" not in cell.metadata
    assert after.source == "print(In)"  # the student's code stays
    assert "widgets" not in nb.metadata


def test_a_notebook_without_tests_keeps_its_outputs():
    nb = _graded_notebook()
    nb.cells = nb.cells[:3]
    nb, _ = HideHiddenTests().preprocess(nb, {})
    assert len(nb.cells) == 3 and nb.cells[1].outputs == [_stream("1\n")]


def test_a_test_cell_shows_its_public_code_and_one_line_for_its_hidden_part():
    nb = _graded_notebook()
    nb.cells.insert(4, new_code_cell("# Hidden tests run in this cell when your notebook is graded.\n" + HIDDEN,
                                     metadata=_meta("answer_hidden", grade=True)))
    nb, _ = HideHiddenTests().preprocess(nb, {})
    public, hidden_only = nb.cells[4], nb.cells[5]
    assert public.source == "assert f(1) == 1\n# (hidden tests run here when grading)"
    # the release's comment and the notice would say the same thing twice
    assert hidden_only.source == "# Hidden tests: they run when grading; your feedback shows their result below."
