"""Executing a submission: nbgrader's ``Execute`` made robust against hostile notebooks."""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import uuid

import zmq

from jupyter_core.utils import ensure_async
from nbclient.client import timestamp
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_hook, run_sync
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, CaselessStrEnum, Integer, Unicode

from autograders.hidden import hidden_code_from
from autograders.kernel_manager import PromptKernelManager
from autograders.outputs import output_from_msg as checked_output_from_msg
from autograders.sandbox.memory import LIMIT_HIT
from autograders.upstream import NotebookClientHooks

SANDBOX_KERNEL = "course-sandbox"
BATCH_FEATURE = "execute_cells"  # a grading kernel's (course_kernel.GradingKernel)
# A kernel runs a batch without waiting for the grader to read it, and ZMQ drops IOPub messages
# once a thousand wait at either end; at a few messages a cell, a batch stays well under that.
# The next batch goes once this one is read.
BATCH_CELLS = 50


# The errors the grader itself records in a cell (and nbgrader's ``error_on_timeout``), each with
# its message: only these can show where the student's outputs do not (feedback.HideHiddenTests)
GRADER_ERRORS = {
    "KernelDied": "the kernel died while running this cell",
    "MemoryLimit": "the sandbox stopped the kernel: this cell went over the memory a submission may use",
    "CellTimeout": "the cell did not stop when interrupted at its time limit",
    "CellTimeoutError": "the cell ran past its time limit",
    "KernelLost": "the grader lost contact with the kernel during this cell",
    "NotRun": "not run: the notebook used up its time or kernel restarts",
}


# What a cell's outputs end with where the grader dropped the rest of an output flood
OUTPUT_DROPPED = "[more output was dropped by the grader]"


def error_output(ename: str, message: str | None = None):
    """An error output that shows ``message`` (by default the grader's own for ``ename``) and
    nothing else (no traceback of any code)."""
    message = GRADER_ERRORS[ename] if message is None else message
    return new_output("error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])


def content_chars(content) -> int:
    """Characters in a message's content: its strings and keys, however deeply nested (the
    kernel is the student's, so never by recursion)."""
    size, pending = 0, [content]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, dict):
            pending += value.keys()
            pending += value.values()
        elif isinstance(value, list):
            pending += value
        else:
            size += 8
    return size


class SandboxedExecute(NotebookClientHooks, Execute):
    """Run every cell in a fresh sandboxed kernel, so that one bad cell costs only itself.

    On top of nbgrader's ``Execute``: a wall-clock limit for the whole notebook; a cap on the
    output a cell may produce (an output flood would otherwise grow the grading process); a
    kernel that dies (``os._exit``, a segfault, the memory limit) or hangs past its cell's time
    limit is restarted, the cells before it are replayed silently, and execution goes on with
    the next cell (a cell whose kernel died gets one more try first). Each kernel gets a private
    folder for its connection file and IPC sockets.

    A grading kernel is sent the notebook's code cells in batches (``batch_cells``): it runs
    them one after the other as nbclient's requests would, while the cells are read here one by
    one, as nbclient reads them, with the same time limits. After a kernel restart, and with
    another kernel, cells are sent one at a time as nbclient sends them.

    Hidden test code reaches the kernel only when its cell runs: a batch ends before the first
    cell that may hold it (``hidden.hidden_code_from``), so that the outputs of the cells before
    it were made while no hidden code was readable. A display update reaches only the outputs of
    the cell that makes it, never an earlier cell's, and no widget state is stored.
    """

    store_widget_state = Bool(False, help="Store the widgets' state in the graded notebook. Off: any cell, "
                              "run after hidden tests, could write it, and no grade needs it.").tag(config=True)

    kernel_name = Unicode(SANDBOX_KERNEL, help="The kernelspec that runs submissions.").tag(config=True)
    notebook_timeout = Integer(600, help="Seconds the whole notebook may take.").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Output kept per cell, counted in characters of its messages' strings and keys (bytes, for ASCII text); the rest is dropped.").tag(config=True)
    max_kernel_restarts = Integer(6, help="Kernel restarts tolerated per notebook.").tag(config=True)
    draw_figures = Bool(False, help="Draw matplotlib figures into the graded notebook and its feedback. "
                        "Off, a figure shows as its one-line text: drawing costs more CPU than "
                        "running most lesson cells, and no test reads a figure.").tag(config=True)
    batch_cells = Bool(True, help=f"Send a grading kernel the code cells in batches of up to {BATCH_CELLS}, rather "
                       "than each cell once the last one is done: a round trip per cell costs the "
                       "kernel and the grader about 4 ms of CPU, more than most lesson cells.").tag(config=True)
    traceback_mode = CaselessStrEnum(
        ("Plain", "Context", "Verbose", "Minimal"), "Plain",
        help="How a failing cell's traceback shows in the graded notebook and its feedback "
        "(IPython's %xmode). Plain is Python's own traceback. IPython's default, Context, reads "
        "and parses the source around every frame: an error raised inside a torch module "
        "costs its kernel about 40 ms of CPU that way, 4 ms Plain.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", PromptKernelManager)  # as nbgrader's Execute does
        super().__init__(*args, **kwargs)
        options = [f"--InteractiveShell.xmode={self.traceback_mode}"]
        if not self.draw_figures:
            options.append("--GradingKernel.draw_figures=False")
        self.extra_arguments = [*self.extra_arguments, *options]

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_timeout
        self._restarts = 0
        self._output_bytes: dict[int, int] = {}
        self._fatal_cells: set[int] = set()
        self._retried: set[int] = set()
        self._batch = ""  # the id of the last batch sent: its cell N's messages have the id f"{batch}-{N}"
        self._early: dict[str, list] = {}  # message id of each cell sent, not yet read -> what came early
        self._early_bytes: dict[str, int] = {}
        self._may_batch = self.batch_cells
        self._hidden_from = hidden_code_from(nb.cells)
        self._kernel_dir = tempfile.mkdtemp(prefix="course-kernel-")
        try:
            return super().preprocess(nb, resources, km)
        finally:
            shutil.rmtree(self._kernel_dir, ignore_errors=True)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        # The sandbox has no network: the kernel talks over IPC sockets in a private folder
        # that the launcher binds into the sandbox, where no other kernel's files are visible.
        km.transport = "ipc"
        km.connection_file = os.path.join(self._kernel_dir, "kernel.json")
        km.ip = os.path.join(self._kernel_dir, "kernel-ipc")
        return km

    async def async_start_new_kernel(self, **kwargs):
        # the grading seed reaches this kernel alone (never the grading process's environment,
        # which other graders in the same process share)
        seed = self.resources.get("course_probe_seed")
        if seed is not None:
            kwargs["env"] = {**os.environ, "COURSE_PROBE_SEED": str(seed)}
        await super().async_start_new_kernel(**kwargs)
        await self._kernel_listening()

    async def _kernel_listening(self):
        """Wait until the kernel has bound its sockets (or died). A client that connects
        earlier retries only every 100 ms (ZMQ's reconnect interval) and misses the kernel's
        first IOPub messages, which costs nbclient's readiness check a round of 0.2 s or more."""
        ports = [self.km.shell_port, self.km.iopub_port, self.km.stdin_port, self.km.control_port, self.km.hb_port]
        sockets = [f"{self.km.ip}-{port}" for port in ports]
        deadline = time.monotonic() + self.startup_timeout
        while not all(os.path.exists(path) for path in sockets) and time.monotonic() < deadline:
            if not await ensure_async(self.km.is_alive()):
                return  # nbclient reports the dead kernel
            await asyncio.sleep(0.005)

    start_new_kernel = run_sync(async_start_new_kernel)

    def cell_timeout(self, cell):
        remaining = max(1, int(self._deadline - time.monotonic()))
        timeout = super().cell_timeout(cell)
        return remaining if timeout is None else min(timeout, remaining)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if time.monotonic() >= self._deadline or self._restarts > self.max_kernel_restarts:
            cell.outputs = [error_output("NotRun")]
            return cell, resources
        retry = False
        try:
            result = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            over = self._memory_limit_hit()
            # over the memory limit, the cell would only be stopped again
            failure = error_output("MemoryLimit", over) if over else error_output("KernelDied")
            retry = not over
        except CellTimeoutError:
            # the cell ignored the interrupt: it would block every later cell
            failure = error_output("CellTimeout")
        except Exception as exc:  # noqa: BLE001 - e.g. forked children garbling the kernel's messages
            self.log.warning("Lost the kernel in cell %d: %s: %s", index, type(exc).__name__, exc)
            failure = error_output("KernelLost")
            retry = True
        else:
            return result
        if retry and index not in self._retried:
            # a kernel can die for reasons that are not the cell's (memory pressure from a busy
            # machine): the cell gets one more try in a fresh kernel before it is given up
            self._retried.add(index)
            self._restart_and_replay(index)
            cell.outputs = []
            return self.preprocess_cell(cell, resources, index)
        cell.outputs.append(failure)
        self._fatal_cells.add(index)
        self._restart_and_replay(index)
        return cell, resources

    def _memory_limit_hit(self) -> str | None:
        """Why the sandbox stopped the kernel, if it went over the memory limit (the launcher,
        or the pool's client, leaves ``memory.LIMIT_HIT`` beside the connection file)."""
        path = os.path.join(self._kernel_dir, LIMIT_HIT)
        try:
            with open(path) as f:
                why = f.read().strip() or "the kernel went over the sandbox's memory limit and was killed"
            os.unlink(path)
        except OSError:
            return None
        return f"{why}: this cell used more memory than a submission may"

    def _restart_and_replay(self, failed_index):
        """Start a fresh kernel and rerun the cells before ``failed_index`` that did not kill it."""
        self._restarts += 1
        # From now on one cell at a time: a kernel that dies while a batch runs may take the last
        # messages of the cells it finished with it, so that which cell killed it is known only
        # when each cell runs alone.
        self._may_batch = False
        self._early.clear()
        self._early_bytes.clear()
        if self._restarts > self.max_kernel_restarts:
            return
        self.log.warning("Restarting the kernel after cell %d", failed_index)
        run_sync(self.km.restart_kernel)(now=True)
        if self.kc is not None:
            self.kc.stop_channels()
        self.start_new_kernel_client()
        for index, cell in enumerate(self.nb.cells[:failed_index]):
            if cell.cell_type == "code" and index not in self._fatal_cells:
                replay = cell.copy()
                replay.outputs = []
                try:
                    self.execute_cell(replay, index, store_history=True)
                except Exception:  # noqa: BLE001 - as in preprocess_cell
                    self._fatal_cells.add(index)
                    return self._restart_and_replay(failed_index)

    def _runs(self, cell) -> bool:
        """Whether nbclient would send this cell to the kernel."""
        return (cell.cell_type == "code" and bool(cell.source.strip())
                and self.skip_cells_with_tag not in cell.metadata.get("tags", []))

    def _batching(self, store_history: bool) -> bool:
        return (self._may_batch and store_history and not self.coalesce_streams
                and BATCH_FEATURE in getattr(self.kc, "supported_features", ()))

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        """nbclient's ``async_execute_cell`` (checked in ``autograders/upstream.py``), for a cell
        sent in a batch (the first cell of a batch sends it: this cell and every code cell after it)."""
        if not self._batching(store_history):
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        await run_hook(self.on_cell_start, cell=cell, cell_index=cell_index)
        if not self._runs(cell):
            return cell
        if self.record_timing:
            cell["metadata"]["execution"] = {}
        await run_hook(self.on_cell_execute, cell=cell, cell_index=cell_index)
        msg_id = f"{self._batch}-{cell_index}"
        if msg_id not in self._early:
            msg_id = self._send_batch(cell_index)
        await run_hook(self.on_cell_complete, cell=cell, cell_index=cell_index)
        self.code_cells_executed += 1
        cell.outputs = []
        self.clear_before_next_output = False
        reply = await self._read_cell(msg_id, cell, cell_index, self.cell_timeout(cell))
        if execution_count:
            cell["execution_count"] = execution_count
        await run_hook(self.on_cell_executed, cell=cell, cell_index=cell_index, execute_reply=reply)
        await self.check_raise_for_error(cell, cell_index, reply)
        self.nb["cells"][cell_index] = cell
        return cell

    execute_cell = run_sync(async_execute_cell)

    def _send_batch(self, first: int) -> str:
        """Send cell ``first`` and the code cells after it, ``BATCH_CELLS`` in all at most, to the
        kernel; the message id of ``first``."""
        self._batch = uuid.uuid4().hex
        cells = []
        end = self._hidden_from if first < self._hidden_from else len(self.nb.cells)
        for index in range(first, end):
            cell = self.nb.cells[index]
            if index == first or self._runs(cell):
                msg_id = f"{self._batch}-{index}"
                self._early[msg_id] = []
                cells.append({"msg_id": msg_id, "code": cell.source})
                if len(cells) == BATCH_CELLS:
                    break
        self.kc.shell_channel.send(self.kc.session.msg("execute_cells_request", {"cells": cells}))
        return cells[0]["msg_id"]

    async def _read_cell(self, msg_id, cell, cell_index, timeout):
        """The outputs and the reply of one cell of a batch, which the kernel sends on IOPub after
        the outputs, read with nbclient's limits: the reply within ``timeout``, else the kernel
        is interrupted and the reply is ``error_on_timeout``, once the kernel's own has come
        within ``iopub_timeout``; the kernel's death ends the wait within a second."""
        iopub = self.kc.iopub_channel
        waiting = zmq.Socket.shadow(iopub.socket.underlying)  # read at once, without asyncio
        deadline = None if timeout is None else time.monotonic() + timeout
        timed_out = reply = None
        arrived = self._early.pop(msg_id, [])
        while True:
            for msg in arrived:
                parent = msg["parent_header"].get("msg_id")
                if parent != msg_id or reply is not None:
                    self._keep_early(parent, msg)  # a later cell's; this one's after its end are dropped
                elif msg["msg_type"] == "execute_reply":
                    reply = msg
                elif msg["msg_type"] != "status":
                    self.process_message(msg, cell, cell_index)
            if reply is not None:
                if timed_out is not None:
                    return timed_out
                cell["execution_count"] = reply["content"].get("execution_count")  # no execute_input said it
                if self.record_timing:
                    cell["metadata"]["execution"]["shell.execute_reply"] = timestamp(reply)
                return reply
            if deadline is not None and time.monotonic() >= deadline:
                await self._check_alive()
                if timed_out is not None:
                    raise CellTimeoutError.error_from_timeout_and_cell(
                        "Timeout waiting for IOPub output", self.iopub_timeout, cell)
                timed_out = await self.handle_timeout(timeout, cell)
                if timed_out is None:  # no error_on_timeout configured: the kernel's own reply stands
                    deadline = time.monotonic() + timeout
                else:
                    timed_out["parent_header"] = {"msg_id": msg_id}
                    deadline = time.monotonic() + self.iopub_timeout
            wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if not await iopub.socket.poll(max(0.0, wait) * 1000):
                await self._check_alive()
            arrived = list(self._waiting_messages(waiting))

    async def _check_alive(self):
        """Raise ``DeadKernelError`` as nbclient does, once the kernel has died."""
        if not await ensure_async(self.kc.is_alive()):
            self.log.error("Kernel died while waiting for execute reply.")
            raise DeadKernelError("Kernel died")

    def _waiting_messages(self, socket):
        """Every message ``socket`` holds now, read without waiting (and without an asyncio
        future per message, which cost more than decoding one)."""
        while True:
            try:
                parts = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            yield self.kc.session.deserialize(self.kc.session.feed_identities(parts)[1])

    def _keep_early(self, msg_id, msg):
        """Keep a message of a later cell of the batch (the kernel runs ahead of the reading) for
        when that cell is read. What a cell shows is kept up to its output limit: the kernel knows
        every cell's message id, and a student's code could send any number of messages for one."""
        kept = self._early.get(msg_id)
        if kept is None:
            return  # a cell given up already, or none of this batch
        if msg["msg_type"] not in ("status", "execute_reply"):
            size = content_chars(msg.get("content", {}))
            if self._early_bytes.get(msg_id, 0) + size > self.max_output_bytes:
                return
            self._early_bytes[msg_id] = self._early_bytes.get(msg_id, 0) + size
        kept.append(msg)

    def process_message(self, msg, cell, cell_index):
        # nbclient updates every output of a display id, in whichever cell made it: a cell that
        # runs after hidden code could rewrite an earlier cell's output. Each cell's display ids
        # are its own.
        content = msg.get("content")
        transient = content.get("transient") if isinstance(content, dict) else None
        if isinstance(transient, dict) and transient.get("display_id"):
            content["transient"] = {**transient, "display_id": f"{cell_index}:{transient['display_id']}"}
        return super().process_message(msg, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        size = content_chars(msg.get("content", {}))
        used = self._output_bytes.get(cell_index, 0)
        self._output_bytes[cell_index] = used + size
        if used + size > self.max_output_bytes:
            if used <= self.max_output_bytes:
                outs.append(new_output("stream", name="stdout",
                                       text=f"\n{OUTPUT_DROPPED}\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def output_from_msg(self, msg):
        return checked_output_from_msg(msg)
