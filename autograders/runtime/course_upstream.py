"""The private parts of ipykernel and IPython that the grading kernel uses, all in this module.

Written against ipykernel 7.4.0 and IPython 9.18.1 (traitlets 5.16.1): ``WRITTEN_AGAINST``.
``course_kernel`` subclasses the three classes below, never ipykernel's or IPython's own, and
names none of their private parts: each private method that it changes is overridden here, and
calls a method of a public name that ``course_kernel`` overrides in turn (by default, upstream's
behaviour). ``PRIVATE_NAMES`` lists every private name used, with the signature it had and why it
is needed; ``UPSTREAM_BODIES`` lists the upstream bodies whose behaviour the grading kernel counts on,
with a hash of their source. ``autograders/tests/test_upstream.py`` checks both against the
installed packages, so that an upgrade fails in CI instead of grading wrongly.

Why a module of its own, here: the grading kernel runs inside the sandbox, where only this folder
and the environment are visible, and the runtime imports nothing from the host side. The host's
private names (nbgrader, nbclient, jupyter_client) are in ``autograders/upstream.py``, which
follows the same layout; it cannot be one module, as the kernel would then import nbgrader and
nbclient (which it has no other use for) just to start, and the grader would import ipykernel and
IPython (which it never runs). The one test reads both. The ``course_`` prefix, like that of the
folder's other modules, keeps the name clear of a module a student may put in a submission.
"""
from __future__ import annotations

from ipykernel.iostream import OutStream
from ipykernel.ipkernel import IPythonKernel
from ipykernel.zmqshell import ZMQInteractiveShell
from traitlets import Float

WRITTEN_AGAINST = {"ipykernel": "7.4.0", "ipython": "9.18.1", "traitlets": "5.16.1"}


# What each private name is: "module:Class.name" (the class that defines it upstream) -> (the
# method's parameters as inspect shows them without annotations, or None for an attribute; why
# the kernel needs it)
PRIVATE_NAMES = {
    "ipykernel.iostream:OutStream._buffers": (None,
        "set in __init__: the text written and not yet handed to the IOPub thread, one buffer per "
        "parent message; a flush with nothing there has nothing to send (OutStreamBase.has_unsent_text)"),
    "ipykernel.kernelbase:Kernel._execute_sleep": (None,
        "a Float trait: the pause after each cell, before its reply (KernelBase sets none)"),
    "ipykernel.kernelbase:Kernel._topic": ("(self, topic)",
        "the IOPub topic of a message type; a batch's replies go on IOPub (KernelBase.iopub_topic)"),
    "ipykernel.kernelbase:Kernel._publish_execute_input": ("(self, code, parent, execution_count)",
        "where a cell's execute_input echo is sent; a batch sends none (KernelBase.publish_execute_input)"),
    "IPython.core.interactiveshell:InteractiveShell._format_exception_for_storage": (
        "(self, exception, filename=None, running_compiled_code=False)",
        "the history's second drawing of a failed cell's traceback (ShellBase.stored_exception)"),
}

# The upstream bodies the kernel counts on: "module:Class.method" -> (the first 16 hex digits of
# the sha256 of its source, from inspect.getsource, when the course's method was written; that
# method, "module:Class.method"; what it counts on)
UPSTREAM_BODIES = {
    "ipykernel.kernelbase:Kernel.execute_request": ("d244df806580e2a5",
        "course_kernel:GradingKernel.execute_cells_request",
        "it sends the reply on the stream it is given, with the identity it is given: a batch passes "
        "the IOPub socket and the reply topic, so that each cell's reply follows its outputs there"),
    "ipykernel.ipkernel:IPythonKernel.execute_request": ("310fa45e349a94b1",
        "course_kernel:GradingKernel.execute_cells_request",
        "what the batch calls for each cell: ipykernel's kernel-level handler, then Kernel's"),
    "ipykernel.iostream:OutStream.write": ("a63d2196b6f7f3a1", "course_kernel:GradingOutStream.flush",
        "every text written goes to _buffers (or to echo), where a flush finds it"),
    "ipykernel.iostream:OutStream.flush": ("a98ae207fca22e14", "course_kernel:GradingOutStream.flush",
        "a flush sends nothing but what _buffers holds, and the echo's"),
}


class OutStreamBase(OutStream):
    """ipykernel's stdout and stderr, which say whether text waits to be sent."""

    def has_unsent_text(self) -> bool:
        """Whether text written since the last flush waits in ipykernel's buffers."""
        return bool(self._buffers)


class ShellBase(ZMQInteractiveShell):
    """ipykernel's shell, whose history's copy of a failed cell's exception is ``stored_exception``."""

    def _format_exception_for_storage(self, exception, filename=None, running_compiled_code=False):
        return self.stored_exception(exception, filename=filename, running_compiled_code=running_compiled_code)

    def stored_exception(self, exception, filename=None, running_compiled_code=False) -> dict:
        """What the history keeps of a failed cell's exception (for ``%notebook``): IPython's own."""
        return super()._format_exception_for_storage(exception, filename, running_compiled_code)


class KernelBase(IPythonKernel):
    """ipykernel's kernel, without its pause before each reply, and whose ``execute_input`` echo is
    ``publish_execute_input``."""

    # ipykernel sleeps 0.5 ms after each cell, before its reply, so that its outputs on IOPub are
    # likelier to reach a client before the reply on the shell channel; every reader of a grading
    # kernel waits for the end of a cell's outputs on IOPub instead (its idle status, as nbclient
    # does; in a batch, its reply)
    _execute_sleep = Float(0.0).tag(config=True)

    def iopub_topic(self, msg_type: str) -> bytes:
        """The IOPub topic of a message of ``msg_type`` from this kernel."""
        return self._topic(msg_type)

    def _publish_execute_input(self, code, parent, execution_count):
        self.publish_execute_input(code, parent, execution_count)

    def publish_execute_input(self, code, parent, execution_count) -> None:
        """Echo a cell's code on IOPub, as ipykernel does before running it."""
        super()._publish_execute_input(code, parent, execution_count)
