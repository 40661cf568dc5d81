"""``SandboxedExecute`` keeps what a cell shows within its limit, whatever the kernel sends."""
from __future__ import annotations

import pytest
from nbconvert.filters.ansi import strip_ansi
from nbformat.v4 import new_code_cell, new_notebook

from autograders.execute import SandboxedExecute, text_size
from autograders.sandbox import protections


def test_text_size_counts_every_string_and_key_however_deep():
    assert text_size({"name": "stdout", "text": "x" * 1000}) == 4 + 6 + 4 + 1000
    assert text_size({"data": {"image/png": "A" * 50_000}, "metadata": {}}) == 4 + 9 + 50_000 + 8
    deep = "leaf"
    for _ in range(50_000):  # deeper than any recursion would go
        deep = [deep]
    assert text_size({"k": deep}) == 1 + 4


@pytest.mark.skipif(protections()["bwrap_usable"] is not True, reason="needs the sandbox")
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


@pytest.mark.skipif(protections()["bwrap_usable"] is not True, reason="needs the sandbox")
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


@pytest.mark.skipif(protections()["bwrap_usable"] is not True, reason="needs the sandbox")
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
