"""The grader's outputs are nbformat's, for every message a kernel may send, right or wrong."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from nbformat.v4 import output_from_msg as nbformat_output_from_msg

from autograders.execute import SandboxedExecute
from autograders.outputs import output_from_msg
from autograders.sandbox import protections


def message(msg_type: str, **content) -> dict:
    return {"header": {"msg_type": msg_type}, "msg_type": msg_type, "content": content, "parent_header": {}}


VALID = [
    message("stream", name="stdout", text="hello\n"),
    message("stream", name="stderr", text="ünïcode ✓\n" * 3),
    message("stream", name="stdout", text=""),
    message("execute_result", metadata={}, data={"text/plain": "tensor([1., 2.])"}, execution_count=3),
    message("execute_result", metadata={"a": {"b": [1, 2]}}, data={"text/plain": ["two ", "lines"]}, execution_count=None),
    message("display_data", metadata={}, data={"text/plain": "<Figure size 400x200 with 2 Axes>", "image/png": "iVBORw0KGgo="}),
    message("display_data", metadata={"image/png": {"width": 10}}, data={"application/json": {"any": ["thing", 1]}}),
    message("display_data", metadata={}, data={"application/vnd.custom+json": [1, 2, 3]}),
    message("display_data", metadata={}, data={}),
    message("error", ename="AssertionError", evalue="", traceback=["Traceback (most recent call last):", "  ..."]),
    message("error", ename="NotImplementedError", evalue="write forward", traceback=[]),
]

INVALID = [
    message("stream", name="stdout", text=3),
    message("stream", name=["stdout"], text="x"),
    message("execute_result", metadata={}, data={"text/plain": 3}, execution_count=1),
    message("execute_result", metadata={}, data={"text/plain": "x"}, execution_count="1"),
    message("execute_result", metadata={}, data={"text/plain": "x"}, execution_count=-1),
    message("display_data", metadata=[], data={}),
    message("display_data", metadata={}, data={"text/plain": {"not": "text"}}),
    message("display_data", metadata={}, data="text"),
    message("error", ename="E", evalue="x", traceback="not a list"),
    message("error", ename=None, evalue="x", traceback=[]),
    message("error", ename="E", evalue="x", traceback=[1, 2]),
]


@pytest.mark.parametrize("msg", VALID, ids=lambda m: m["msg_type"])
def test_a_valid_message_makes_the_output_nbformat_makes(msg):
    ours, theirs = output_from_msg(msg), nbformat_output_from_msg(msg)
    assert ours == theirs
    assert isinstance(ours, nbformat.NotebookNode) and ours.output_type == msg["msg_type"]
    nbformat.validate(nbformat.v4.new_notebook(cells=[new_code_cell(outputs=[ours])]))


@pytest.mark.parametrize("msg", INVALID, ids=lambda m: m["msg_type"])
def test_an_output_that_breaks_the_schema_is_refused_as_nbformat_refuses_it(msg):
    with pytest.raises(nbformat.ValidationError):
        nbformat_output_from_msg(msg)
    with pytest.raises(nbformat.ValidationError) as refused:
        output_from_msg(msg)
    # not a ValueError, which nbclient takes for a message that is no output, and drops
    assert not isinstance(refused.value, ValueError)


@pytest.mark.parametrize("msg_type", ["status", "clear_output", "update_display_data", "comm_msg"])
def test_a_message_that_is_no_output_is_a_value_error_as_in_nbformat(msg_type):
    msg = message(msg_type, data={}, metadata={})
    with pytest.raises(ValueError):
        nbformat_output_from_msg(msg)
    with pytest.raises(ValueError):
        output_from_msg(msg)


@pytest.mark.skipif(not protections().bwrap_usable, reason="needs the sandbox")
def test_a_kernel_publishing_an_output_that_breaks_the_schema_loses_that_cell_and_no_other(tmp_path):
    """As with nbformat's own check: the output never reaches the notebook, the cell shows the
    grader's error, and the cells after it run."""
    notebook = new_notebook(cells=[
        new_code_cell("print('fine')"),
        new_code_cell("get_ipython().display_pub.publish(data={'text/plain': 3}, metadata={})"),
        new_code_cell("print('after')")])
    executed, _ = SandboxedExecute().preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert [o.get("text") for o in executed.cells[0].outputs] == ["fine\n"]
    assert [o.get("ename") for o in executed.cells[1].outputs] == ["KernelLost"]
    assert [o.get("text") for o in executed.cells[2].outputs] == ["after\n"]
    nbformat.validate(executed)
