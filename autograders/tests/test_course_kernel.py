"""The grading kernel (``autograders/runtime/course_kernel.py``) runs every cell as a student's own
kernel does: the same cells, run in a plain ipykernel and in grading's sandboxed kernels (forked
by a kernel pool, and in a sandbox of their own, one request per cell or all in one batch), give
the same outputs, cell by cell."""
from __future__ import annotations

from contextlib import nullcontext

import pytest

from autograders.sandbox import KERNEL_NAME, protections
from autograders.sandbox.pool import KernelPool
from autograders.tests.kernel_client import Kernel

if not protections().bwrap_usable:
    pytest.skip("grading kernels need the sandbox (see `python -m autograders.sandbox doctor`)",
                allow_module_level=True)

REGISTER_THEN_SHOUT = """\
cleanup = get_ipython().input_transformers_cleanup
if shout in cleanup:
    SHOUT('transformed')
else:
    cleanup.append(shout)
    print('registered')"""

# What the grading kernel does differently under the hood: each cell's transforms (run once,
# not twice), whether it needs an event loop, the history's copy of a traceback, and flushing
# its output streams (at once when nothing is waiting).
CELLS = [
    "import sys, threading\nprint('out 1')\nprint('err 1', file=sys.stderr)\nsys.stdout.flush()\n"
    "sys.stdout.flush()\nprint('out 2', end='')\nthread = threading.Thread(target=print, args=(' and a thread',))\n"
    "thread.start()\nthread.join()",
    "sys.stderr.write('no newline')",
    "print('written before an error')\nraise KeyError('late')",
    "x = 6 * 7\nx",
    "listing = !echo from the shell\nprint(listing)",  # IPython syntax: a token transform
    "%%capture captured\nprint('captured, not shown')",
    "print(captured.stdout.strip())",
    "def shout(lines):\n    return [line.replace('SHOUT', 'print') for line in lines]",
    # run twice: the second run's text is the first's, but must go through the transform it registered
    REGISTER_THEN_SHOUT,
    REGISTER_THEN_SHOUT,
    "get_ipython().input_transformers_cleanup.remove(shout)",
    "SHOUT('no transform any more')",
    "import asyncio\nawait asyncio.sleep(0)\nprint('awaited at the top level')",
    "async def three():\n    return 3",
    "await three()",
    "async def counting(n):\n    for i in range(n):\n        yield i\n[i async for i in counting(3)]",
    "words = 'await and async, only words here'\nwords",
    "def double(v):\n    return 2 * v",
    "double 4",  # a SyntaxError, until autocall rewrites one-line cells (using the namespace)
    "%autocall 2",
    "double 4",
    "%autocall 0",
    "def fails():\n    raise ValueError('a bad value')\nfails()",
    "%notebook history.ipynb",
    "import json\n[(o['ename'], o['evalue']) for cell in json.load(open('history.ipynb'))['cells']\n"
    " for o in cell['outputs'] if o['output_type'] == 'error']",
]


def _run_all(kernel: Kernel, batch: bool = False) -> list[dict]:
    return kernel.run_batch(CELLS) if batch else [kernel.run(cell) for cell in CELLS]


@pytest.fixture(scope="module")
def plain_outputs(tmp_path_factory):
    """The cells' outputs in a student's kernel: ipykernel as installed, no sandbox."""
    work = tmp_path_factory.mktemp("plain")
    kernel = Kernel(work, ip=work / "kernel-ipc", kernel_name="python3",
                    env={"IPYTHONDIR": str(work / "ipython")})
    try:
        assert kernel.value("type(get_ipython()).__name__") == "ZMQInteractiveShell"
        return _run_all(kernel)
    finally:
        kernel.close()


@pytest.mark.parametrize("start, batch", [("own sandbox", False), ("from the pool", False), ("from the pool", True)])
def test_grading_kernel_runs_cells_as_the_students_kernel(start, batch, plain_outputs, tmp_path):
    with KernelPool() if start == "from the pool" else nullcontext() as pool:
        assert pool is None or pool.ready()
        work, client = tmp_path / "work", tmp_path / "client"
        work.mkdir()
        client.mkdir()
        kernel = Kernel(work, ip=client / "kernel-ipc")
        try:
            assert kernel.value("type(get_ipython()).__name__") == "GradingShell"
            outputs = _run_all(kernel, batch)
        finally:
            kernel.close()
        assert pool is None or (pool.ready() and pool.kernels_served == 1)  # forked by the pool
    for cell, plain, graded in zip(CELLS, plain_outputs, outputs):
        assert graded == plain, f"the cell {cell!r} ran differently"
    # the cells did what they say (not only the same wrong thing in both kernels)
    shouts = [output for cell, output in zip(CELLS, outputs) if "SHOUT(" in cell]
    assert [(output["stdout"], output["error"]) for output in shouts] == [
        ("registered\n", None), ("transformed\n", None), ("", ("NameError", "name 'SHOUT' is not defined"))]
    assert [output["stdout"] for output in outputs[4:7]] == [
        "['from the shell']\n", "", "captured, not shown\n"]
    awaited = [output for cell, output in zip(CELLS, outputs) if "async" in cell or "await" in cell]
    assert [awaited[0]["stdout"], awaited[2]["result"], awaited[3]["result"]] == \
        ["awaited at the top level\n", "3", "[0, 1, 2]"]
    doubled = [output for cell, output in zip(CELLS, outputs) if cell == "double 4"]
    assert doubled[0]["error"][0] == "SyntaxError" and doubled[1]["result"] == "8"
    assert outputs[-1]["result"].endswith("('ValueError', 'a bad value')]")
    assert [(output["stdout"], output["stderr"]) for output in outputs[:3]] == [
        ("out 1\nout 2 and a thread\n", "err 1\n"), ("", "no newline"), ("written before an error\n", "")]


# Two tasks handed to the IOPub thread per flush, two flushes (stdout, stderr): a stock kernel
# would count 4 here; each costs both threads a wake-up, three times per cell.
COUNT_FLUSH_TASKS = """\
import sys
pub_thread, tasks = sys.stdout.pub_thread, []
schedule = pub_thread.schedule
pub_thread.schedule = lambda task: (tasks.append(task), schedule(task))[1]
try:
    sys.stdout.flush()
    sys.stderr.flush()
finally:
    pub_thread.schedule = schedule
print(len(tasks))"""


@pytest.mark.parametrize("kernel_name", ["python3", KERNEL_NAME])
def test_a_flush_with_nothing_written_wakes_no_thread_in_the_grading_kernel(kernel_name, tmp_path):
    work, client = tmp_path / "work", tmp_path / "client"
    work.mkdir()
    client.mkdir()
    kernel = Kernel(work, ip=client / "kernel-ipc", kernel_name=kernel_name,
                    env={"IPYTHONDIR": str(client / "ipython")})
    try:
        tasks = int(kernel.run(COUNT_FLUSH_TASKS)["stdout"])
    finally:
        kernel.close()
    assert tasks == (0 if kernel_name == KERNEL_NAME else 4)


# An interrupt sent as a cell's time ran out can land after that cell ended, while the kernel
# sends its reply: this cell stands for it.
INTERRUPTED_WHILE_REPLYING = """\
kernel = get_ipython().kernel
send = kernel.session.send

def interrupted_reply(stream, msg_or_type, *args, **kwargs):
    if msg_or_type == "execute_reply":
        kernel.session.send = send
        raise KeyboardInterrupt
    return send(stream, msg_or_type, *args, **kwargs)

kernel.session.send = interrupted_reply"""


def test_an_interrupt_between_two_cells_of_a_batch_ends_neither_the_batch_nor_the_next_cell(tmp_path):
    with KernelPool() as pool:
        assert pool.ready()
        work, client = tmp_path / "work", tmp_path / "client"
        work.mkdir()
        client.mkdir()
        kernel = Kernel(work, ip=client / "kernel-ipc")
        try:
            first, second = kernel.run_batch([INTERRUPTED_WHILE_REPLYING, "print('the next cell ran')"])
        finally:
            kernel.close()
    # the interrupted cell still ends with a reply (the reader waits for one), then the next runs
    assert (first["error"], first["status"]) == (None, "error")
    assert (second["stdout"], second["error"], second["status"]) == ("the next cell ran\n", None, "ok")
