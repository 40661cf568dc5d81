"""``SandboxedExecute`` keeps what a cell shows within its limit, whatever the kernel sends."""
from __future__ import annotations

import pytest
from nbconvert.filters.ansi import strip_ansi
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograders.execute import BATCH_CELLS, SandboxedExecute, content_chars
from autograders.sandbox import protections


def test_content_chars_counts_every_string_and_key_however_deep():
    assert content_chars({"name": "stdout", "text": "x" * 1000}) == 4 + 6 + 4 + 1000
    assert content_chars({"data": {"image/png": "A" * 50_000}, "metadata": {}}) == 4 + 9 + 50_000 + 8
    deep = "leaf"
    for _ in range(50_000):  # deeper than any recursion would go
        deep = [deep]
    assert content_chars({"k": deep}) == 1 + 4


@pytest.mark.skipif(not protections().bwrap_usable, reason="needs the sandbox")
def test_a_cell_keeps_at_most_its_output_limit(tmp_path):
    flood = new_code_cell("for _ in range(100):\n    print('x' * 9_999, flush=True)\n"
                          "from IPython.display import display\n"
                          "display({'text/plain': 'y' * 50_000}, raw=True)")
    after = new_code_cell("print('the next cell is whole')")
    notebook = new_notebook(cells=[flood, after])
    executed, _ = SandboxedExecute(max_output_bytes=15_000).preprocess(
        notebook, {"metadata": {"path": str(tmp_path)}})
    outputs = executed.cells[0].outputs
    assert all(o.output_type == "stream" for o in outputs)  # the display came after the limit
    assert outputs[-1].text == "\n[more output was dropped by the grader]\n"
    assert "".join(o.text for o in outputs[:-1]) == "x" * 9_999 + "\n"  # a second line would pass the limit
    assert [o.text for o in executed.cells[1].outputs] == ["the next cell is whole\n"]


FIGURE_CELLS = ["%matplotlib inline\nimport matplotlib.pyplot as plt",
                "fig, axes = plt.subplots(1, 2, figsize=(4, 2))\naxes[0].plot([0, 1], [1, 0])\nplt.show()",
                "print(len(fig.axes), fig.get_size_inches().tolist())"]


@pytest.mark.skipif(not protections().bwrap_usable, reason="needs the sandbox")
@pytest.mark.parametrize("draw", [False, True])
def test_figures_are_drawn_only_when_asked(draw, tmp_path):
    """By default a figure shows as its one-line text; the cells still run as written."""
    notebook = new_notebook(cells=[new_code_cell(source) for source in FIGURE_CELLS])
    options = {} if not draw else {"draw_figures": True}
    executed, _ = SandboxedExecute(**options).preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    shown = executed.cells[1].outputs
    assert [o.output_type for o in shown] == ["display_data"]
    if draw:
        assert shown[0].data["image/png"]
    else:
        assert shown[0].data == {"text/plain": "<Figure size 400x200 with 2 Axes>"}
    assert [o.text for o in executed.cells[2].outputs] == ["2 [4.0, 2.0]\n"]


TRACEBACK_CELLS = ["import torch\n\nclass Unfinished(torch.nn.Module):\n"
                   "    def forward(self, x):\n        raise NotImplementedError('write forward')",
                   "Unfinished()(torch.zeros(1))"]


@pytest.mark.skipif(not protections().bwrap_usable, reason="needs the sandbox")
@pytest.mark.parametrize("mode", ["Plain", "Context"])
def test_a_failing_cell_shows_the_traceback_mode_asked_for(mode, tmp_path):
    notebook = new_notebook(cells=[new_code_cell(source) for source in TRACEBACK_CELLS])
    executed, _ = SandboxedExecute(traceback_mode=mode).preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    [error] = executed.cells[1].outputs
    assert (error.output_type, error.ename, error.evalue) == ("error", "NotImplementedError", "write forward")
    shown = strip_ansi("\n".join(error.traceback))
    # either way: where it was called in the notebook, and the line that raised
    assert "Cell In[2], line 1" in shown and "Cell In[1], line 5" in shown
    assert "raise NotImplementedError('write forward')" in shown
    # the lines around it, only in IPython's Context mode
    assert ("def forward(self, x):" in shown) == (mode == "Context")


class CountingBatches(SandboxedExecute):
    """Counts the batches it sends to the kernel."""

    def _send_batch(self, first):
        self.batches_sent = getattr(self, "batches_sent", 0) + 1
        return super()._send_batch(first)


MIXED_CELLS = [
    "import sys\nprint('out')\nprint('err', file=sys.stderr)\nx = 41",
    "",  # empty: never sent
    "x + 1",
    "from IPython.display import display, clear_output, update_display\n"
    "display('first', display_id='shown')\nclear_output(wait=True)\nprint('after the clear')",
    "update_display('updated', display_id='shown')\nraise ValueError('a bad value')",
    "print('still running after an error', x)",
]


def _outputs(notebook):
    return [(cell.get("execution_count"), [{k: v for k, v in output.items() if k != "traceback"}
                                           for output in cell.get("outputs", [])])
            for cell in notebook.cells]


@pytest.mark.skipif(not protections().bwrap_usable, reason="needs the sandbox")
def test_cells_sent_in_one_batch_give_the_notebook_that_cells_sent_one_by_one_give(tmp_path):
    executed = {}
    for batch in (False, True):
        notebook = new_notebook(cells=[new_code_cell(source) for source in MIXED_CELLS])
        notebook.cells.insert(2, new_markdown_cell("between"))
        executor = CountingBatches(batch_cells=batch)
        executed[batch], _ = executor.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
        assert getattr(executor, "batches_sent", 0) == (1 if batch else 0)
    assert _outputs(executed[True]) == _outputs(executed[False])
    counts, outputs = zip(*_outputs(executed[True]))
    assert counts == (1, None, None, 2, 3, 4, 5)
    assert outputs[0] == [{"output_type": "stream", "name": "stdout", "text": "out\n"},
                          {"output_type": "stream", "name": "stderr", "text": "err\n"}]
    assert outputs[3][0]["data"] == {"text/plain": "42"}
    assert [o.get("text") or o.get("data", {}).get("text/plain") for o in outputs[4]] == ["after the clear\n"]
    assert [o["output_type"] for o in outputs[5]] == ["error"]
    assert outputs[6] == [{"output_type": "stream", "name": "stdout", "text": "still running after an error 41\n"}]


@pytest.mark.skipif(not protections().bwrap_usable, reason="needs the sandbox")
def test_a_cell_of_a_batch_past_its_time_limit_is_interrupted_and_the_next_ones_run_in_the_same_kernel(tmp_path):
    cells = ["x = 'kept'", "import time\nwhile True:\n    time.sleep(0.01)", "print(x)"]
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    executor = CountingBatches(timeout=2)
    executed, _ = executor.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert executor.batches_sent == 1 and executor._restarts == 0
    assert [o.ename for o in executed.cells[1].outputs] == ["KeyboardInterrupt", "CellTimeoutError"]
    assert [o.text for o in executed.cells[2].outputs] == ["kept\n"]


@pytest.mark.skipif(not protections().bwrap_usable, reason="needs the sandbox")
def test_a_kernel_that_dies_in_a_batch_is_blamed_on_the_cell_that_killed_it(tmp_path):
    # the kernel dies right after a cell that printed: that cell's last messages may die with it
    cells = ["x = 'kept'", "print('printed just before')", "import os\nos._exit(1)", "print(x)"]
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    executor = CountingBatches()
    executed, _ = executor.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert executor.batches_sent == 1
    assert [o.text for o in executed.cells[1].outputs] == ["printed just before\n"]
    assert [o.ename for o in executed.cells[2].outputs] == ["KernelDied"]
    assert executor._fatal_cells == {2}
    assert [o.text for o in executed.cells[3].outputs] == ["kept\n"]


def test_what_arrives_early_for_a_later_cell_is_kept_only_up_to_its_output_limit():
    """The kernel knows every message id of its batch: a student's cell could send a later
    cell's id any number of outputs, to be kept in the grader until that cell is read."""
    executor = SandboxedExecute(max_output_bytes=100)
    executor._early, executor._early_bytes = {"later": []}, {}

    def message(msg_type, content):
        return {"msg_type": msg_type, "content": content, "parent_header": {"msg_id": "later"}}

    shown = message("stream", {"name": "stdout", "text": "x" * 40})  # 4 + 6 + 4 + 40 = 54 characters
    for msg in [shown, shown, message("status", {"execution_state": "idle"}), message("execute_reply", {})]:
        executor._keep_early("later", msg)
    executor._keep_early("given up", shown)
    assert [msg["msg_type"] for msg in executor._early["later"]] == ["stream", "status", "execute_reply"]
    assert list(executor._early) == ["later"]


@pytest.mark.skipif(not protections().bwrap_usable, reason="needs the sandbox")
def test_a_long_notebook_goes_in_several_batches_and_loses_no_output(tmp_path):
    """A kernel runs a batch without waiting for the grader to read it, and ZMQ drops messages
    that wait too long: a batch is a few dozen cells, the next sent once the last is read."""
    cells = 3 * BATCH_CELLS + 7
    notebook = new_notebook(cells=[new_code_cell(f"print({i})\n{i}") for i in range(cells)])
    executor = CountingBatches()
    executed, _ = executor.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert executor.batches_sent == 4
    # a print may reach the notebook in two stream outputs, as the kernel's stdout flushes on a timer
    shown = [("".join(o.text for o in cell.outputs if o.output_type == "stream"),
              [o.data["text/plain"] for o in cell.outputs if o.output_type == "execute_result"])
             for cell in executed.cells]
    assert shown == [(f"{i}\n", [str(i)]) for i in range(cells)]
    assert [cell.execution_count for cell in executed.cells] == list(range(1, cells + 1))
