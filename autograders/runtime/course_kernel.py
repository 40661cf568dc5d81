"""The grading kernel: IPython's own, without the work that grading a notebook never uses.

Every grading kernel runs ``GradingKernel`` (``--IPKernelApp.kernel_class``, set by the sandbox's
launcher). What a cell does, prints and displays is exactly what it does in a student's own
kernel (``autograders/tests/test_course_kernel.py`` compares the two); only this is cheaper:

* IPython transforms each cell twice (once to decide whether it needs an event loop, once to
  run it): the second time takes the first one's result.
* Whether a cell needs an event loop takes compiling it once more; a cell that never says
  ``await`` or ``async`` cannot need one.
* A failed cell's traceback is drawn twice, once for the output and once for the history's
  ``%notebook`` export, which nobody calls while grading: that copy is Python's plain traceback.
* ipykernel flushes stdout and stderr three times per cell, and each flush hands two tasks to
  the IOPub thread and waits for them, even with nothing to send: a flush with nothing written
  returns at once (``GradingOutStream``, ``--IPKernelApp.outstream_class``).

A grading kernel also runs a whole batch of cells on one request (``execute_cells_request``,
announced as the ``execute_cells`` feature of its ``kernel_info``): each cell runs exactly as its
own ``execute_request`` would, its outputs and reply carrying its own message id, but without a
round trip to the grader between two cells, and without the busy and idle statuses and the
``execute_input`` echo, which nobody reads while grading. Each cell's reply goes on IOPub, after
its outputs, where it marks the cell's end (``SandboxedExecute`` reads them).

One difference is asked for by grading (``SandboxedExecute.draw_figures``, off by default):
with ``--GradingKernel.draw_figures=False``, ``%matplotlib inline`` shows a figure as its
one-line text (``<Figure size 640x480 with 1 Axes>``), as a terminal does, instead of drawing it
to PNG: drawing is most of a lesson figure's cost, and no test reads it.
"""
from __future__ import annotations

import traceback

from ipykernel.iostream import OutStream
from ipykernel.ipkernel import IPythonKernel
from ipykernel.zmqshell import ZMQInteractiveShell
from IPython.core.inputtransformer2 import TransformerManager
from traitlets import Bool, Float, Instance, Type


class TransformOnce(TransformerManager):
    """IPython's static input transforms, run once for a cell that is transformed twice in a row.
    What they give depends only on the text and on which transforms are registered (a cell may
    register more), never on what has run."""

    _last: tuple | None = None

    def transform_cell(self, cell):
        key = (cell, tuple(self.cleanup_transforms), tuple(self.line_transforms),
               tuple(self.token_transformers))
        if self._last is None or self._last[0] != key:
            self._last = (key, super().transform_cell(cell))
        return self._last[1]


class GradingOutStream(OutStream):
    """ipykernel's stdout and stderr, whose flush returns at once when nothing was written since
    the last one. What was written waits in ``_buffers`` until the IOPub thread takes it (one
    buffer per parent message); every message to IOPub goes through that thread in order, so
    what it is sending still reaches the client before the cell's idle status."""

    def flush(self):
        if self._buffers or self.echo is not None:
            super().flush()


class GradingShell(ZMQInteractiveShell):
    input_transformer_manager = Instance(TransformOnce, ())

    def should_run_async(self, raw_cell, *, transformed_cell=None, preprocessing_exc_tuple=None):
        # top-level await, async for, async with: each needs one of these words in the cell
        if transformed_cell is not None and not ("await" in transformed_cell or "async" in transformed_cell):
            return False
        return super().should_run_async(raw_cell, transformed_cell=transformed_cell,
                                        preprocessing_exc_tuple=preprocessing_exc_tuple)

    def _format_exception_for_storage(self, exception, filename=None, running_compiled_code=False):
        return {"ename": type(exception).__name__, "evalue": str(exception),
                "traceback": traceback.format_exception(exception)}


class GradingKernel(IPythonKernel):
    shell_class = Type(GradingShell)
    draw_figures = Bool(True, help="Draw each figure the inline backend shows.").tag(config=True)
    msg_types = [*IPythonKernel.msg_types, "execute_cells_request"]
    # ipykernel sleeps 0.5 ms after each cell, before its reply, so that its outputs on IOPub
    # are likelier to reach a client before the reply on the shell channel; every reader of a
    # grading kernel waits for the end of a cell's outputs on IOPub instead (its idle status,
    # as nbclient does; in a batch, its reply)
    _execute_sleep = Float(0.0).tag(config=True)
    _echo_input = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.draw_figures:
            # read by InlineBackend when a cell first says %matplotlib inline
            self.shell.config.InlineBackend.figure_formats = set()

    @property
    def kernel_info(self):
        info = super().kernel_info
        info["supported_features"] = [*info["supported_features"], "execute_cells"]
        return info

    async def execute_cells_request(self, stream, ident, parent):
        """Run ``parent["content"]["cells"]`` (each ``{"msg_id", "code"}``) in order, each as an
        ``execute_request`` of that id that does not stop on error would run, its reply sent on
        IOPub after its outputs."""
        self._echo_input = False
        reply_topic = self._topic("execute_reply")
        try:
            for cell in parent["content"]["cells"]:
                request = {**parent, "msg_id": cell["msg_id"], "msg_type": "execute_request",
                           "header": {**parent["header"], "msg_id": cell["msg_id"], "msg_type": "execute_request"},
                           "content": {"code": cell["code"], "silent": False, "store_history": True,
                                       "user_expressions": {}, "allow_stdin": False, "stop_on_error": False}}
                try:
                    self.set_parent(ident, request, "shell")
                    await self.execute_request(self.iopub_socket, reply_topic, request)
                except KeyboardInterrupt:
                    # meant for a cell that ended as its time ran out (a running cell shows its
                    # own), landing before its reply went: a reply of its own stands in for it
                    self.session.send(self.iopub_socket, "execute_reply",
                                      {"status": "error", "ename": "KeyboardInterrupt", "evalue": "",
                                       "traceback": [], "execution_count": self.execution_count},
                                      request, ident=reply_topic)
        finally:
            self._echo_input = True
            self.set_parent(ident, parent, "shell")

    def _publish_execute_input(self, code, parent, execution_count):
        if self._echo_input:
            super()._publish_execute_input(code, parent, execution_count)
