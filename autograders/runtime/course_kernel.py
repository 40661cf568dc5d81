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

from course_upstream import KernelBase, OutStreamBase, ShellBase
from IPython.core.inputtransformer2 import TransformerManager
from traitlets import Bool, Instance, Type


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


class GradingOutStream(OutStreamBase):
    """ipykernel's stdout and stderr, whose flush returns at once when nothing was written since
    the last one. What was written waits in ipykernel's buffers until the IOPub thread takes it
    (``has_unsent_text``); every message to IOPub goes through that thread in order, so what it
    is sending still reaches the client before the cell's idle status."""

    def flush(self):
        if self.has_unsent_text() or self.echo is not None:
            super().flush()


class GradingShell(ShellBase):
    input_transformer_manager = Instance(TransformOnce, ())

    def should_run_async(self, raw_cell, *, transformed_cell=None, preprocessing_exc_tuple=None):
        # top-level await, async for, async with: each needs one of these words in the cell
        if transformed_cell is not None and not ("await" in transformed_cell or "async" in transformed_cell):
            return False
        return super().should_run_async(raw_cell, transformed_cell=transformed_cell,
                                        preprocessing_exc_tuple=preprocessing_exc_tuple)

    def stored_exception(self, exception, filename=None, running_compiled_code=False):
        return {"ename": type(exception).__name__, "evalue": str(exception),
                "traceback": traceback.format_exception(exception)}


class GradingKernel(KernelBase):
    shell_class = Type(GradingShell)
    draw_figures = Bool(True, help="Draw each figure the inline backend shows.").tag(config=True)
    msg_types = [*KernelBase.msg_types, "execute_cells_request"]
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
        reply_topic = self.iopub_topic("execute_reply")
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

    def publish_execute_input(self, code, parent, execution_count):
        if self._echo_input:
            super().publish_execute_input(code, parent, execution_count)
