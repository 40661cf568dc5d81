"""The private parts of nbgrader, nbclient and jupyter_client that the grader uses, all in this module.

Written against nbgrader 0.9.6, nbclient 0.11.0 and jupyter_client 8.10.0 (with nbconvert 7.17.2
and traitlets 5.16.1): ``WRITTEN_AGAINST``. The grading modules name none of those packages'
private parts: a private method they change is overridden by a mixin here (put before the
upstream class in the bases), which calls a method of a public name that they override in turn
(by default, upstream's behaviour); a private method they call is called here.
``PRIVATE_NAMES`` lists every private name used, with the signature it had and why it is needed;
``UPSTREAM_BODIES`` lists the upstream bodies that a method of the grader copies, or whose behaviour it
counts on, with a hash of their source. ``autograders/tests/test_upstream.py`` checks both
against the installed packages, so that an upgrade fails in CI instead of grading wrongly.

Where a public hook does the job, the grader uses it instead: the pool's kernels are chosen in
the kernel manager's public ``start_kernel`` (jupyter_client's provisioner interface does the
rest), and the kernel's death is seen through the client's public ``is_alive``. nbclient's
public ``timeout_func`` cannot stand for ``_get_timeout``: nbclient does not consult it for its
first request (``kernel_info``), which the notebook's deadline bounds too, and a configured one
would replace it.

The grading kernel's private names (ipykernel, IPython) are in ``autograders/runtime/
course_upstream.py``, laid out the same way: the kernel runs in a sandbox where only that folder
and the environment are visible, and the runtime imports nothing from the host side. Two modules
rather than one in the runtime folder, because a module for both sides would make every kernel
import nbgrader and nbclient, and the grader import ipykernel and IPython, for nothing. This
module imports none of the packages it names: each grading module imports only what it did.
"""
from __future__ import annotations

WRITTEN_AGAINST = {"nbgrader": "0.9.6", "nbclient": "0.11.0", "jupyter_client": "8.10.0",
                   "nbconvert": "7.17.2", "traitlets": "5.16.1"}

# As in course_upstream: "module:Class.name" -> (the method's parameters, or None for an
# attribute; why the grader needs it)
PRIVATE_NAMES = {
    "nbclient.client:NotebookClient._get_timeout": ("(self, cell)",
        "a cell's time limit; the notebook's deadline bounds it (NotebookClientHooks.cell_timeout)"),
    "nbclient.client:NotebookClient._check_raise_for_error": ("(self, cell, cell_index, exec_reply)",
        "how nbclient ends a cell whose reply is an error; a batch's cell ends the same way"),
    "nbclient.client:NotebookClient._async_handle_timeout": ("(self, timeout, cell=None)",
        "how nbclient ends a cell past its time limit (interrupt, error_on_timeout); a batch's the same"),
    "jupyter_client.client:KernelClient._handle_kernel_info_reply": ("(self, msg)",
        "adopts the kernel's protocol version from its kernel_info reply, which the quicker "
        "readiness check reads itself (KernelClientHooks.adopt_kernel_info)"),
    "jupyter_client.manager:KernelManager._async_wait": ("(self, pollinterval=0.1)",
        "how often a killed kernel is looked at until it has ended (KernelManagerHooks.kill_poll_interval)"),
    "jupyter_client.manager:KernelManager._async_cleanup_resources": ("(self, restart=False)",
        "the step after a kernel has ended, where jupyter_client destroys its ZMQ context lingering "
        "100 ms (KernelManagerHooks.before_context_destroyed)"),
    "jupyter_client.manager:KernelManager._created_context": (None,
        "a Bool trait: whether the manager made its ZMQ context, and so destroys it"),
    "nbclient.client:NotebookClient._display_id_map": (None,
        "where nbclient keeps which outputs a display id updates, which the copy of its output fills"),
    "nbgrader.preprocessors:AssignLatePenalties._check_late_penalty": ("(self, notebook, penalty)",
        "nbgrader's check of a late penalty, which the copy of its preprocess calls (check_late_penalty)"),
}

# As in course_upstream: "module:Class.method" -> (the first 16 hex digits of its source's sha256
# when the grader's method was written; that method; what it copies or counts on)
UPSTREAM_BODIES = {
    "nbgrader.api:Gradebook.__init__": ("c60c420276e8355e", "autograders.gradebook:SharedGradebook.__init__",
        "the gradebook opened as nbgrader opens it, without its own engine and table creation"),
    "nbgrader.preprocessors:AssignLatePenalties.preprocess": ("e4fa96a4c466680a",
        "autograders.gradebook:AssignLatePenaltiesShared.preprocess", "a copy, on the shared engine"),
    "nbgrader.preprocessors:SaveAutoGrades.preprocess": ("edef3c387d5c104a",
        "autograders.gradebook:SaveAutoGradesPrefetched.preprocess",
        "a copy, with the prefetching gradebook and one transaction"),
    "nbgrader.preprocessors:OverwriteCells.preprocess": ("3a94b453d8e53bee",
        "autograders.gradebook:OverwriteCellsPrefetched.preprocess", "a copy, with the prefetching gradebook"),
    "nbgrader.preprocessors:OverwriteKernelspec.preprocess": ("28cc17a228e741a2",
        "autograders.gradebook:OverwriteKernelspecShared.preprocess", "a copy, on the shared engine"),
    "nbgrader.api:Gradebook.find_graded_cell": ("68291d97eb3cd85b",
        "autograders.gradebook:NotebookGradebook.find_graded_cell", "answered from rows, trying its kinds in its order"),
    "nbgrader.api:Gradebook.find_grade": ("b1a48e74233391ce",
        "autograders.gradebook:NotebookGradebook.find_grade", "answered from rows, trying its kinds in its order"),
    "nbgrader.api:Gradebook.find_comment": ("bcb9b4f7da3c0752",
        "autograders.gradebook:NotebookGradebook.find_comment", "answered from rows, trying its kinds in its order"),
    "nbgrader.api:Gradebook.find_source_cell": ("0d0ef04711fab86a",
        "autograders.gradebook:NotebookGradebook.find_source_cell", "answered from rows"),
    "nbclient.client:NotebookClient.async_execute_cell": ("366a0d406d758da2",
        "autograders.execute:SandboxedExecute.async_execute_cell",
        "a batch's cell goes through the same hooks and steps, in the same order"),
    "nbclient.client:NotebookClient.output": ("8ac7ba61fc598f51",
        "autograders.upstream:NotebookClientHooks.output", "a copy, each output built by output_from_msg"),
    "nbclient.client:NotebookClient._async_poll_for_reply": ("fc81a9e9c11c2a90",
        "autograders.execute:SandboxedExecute._read_cell", "a batch's cell is read with the same time limits"),
    "jupyter_client.client:KernelClient._async_wait_for_ready": ("0d732ad86fea3115",
        "autograders.kernel_manager:ReadyKernelClient.wait_for_ready",
        "the same readiness check, without its 0.2 s of IOPub silence"),
    "jupyter_client.manager:KernelManager._async_pre_start_kernel": ("0ad304c9143e3bfd",
        "autograders.kernel_manager:PromptKernelManager.start_kernel",
        "the kernel id is chosen as here, and a provisioner set before is kept, on restarts too"),
    "jupyter_client.manager:KernelManager._async_kill_kernel": ("9850bc22c85871db",
        "autograders.kernel_manager:PromptKernelManager.kill_poll_interval",
        "a kill waits for the end with _async_wait's default interval"),
    "jupyter_client.provisioning.local_provisioner:LocalProvisioner.launch_kernel": ("5a5d3e639018fd53",
        "autograders.sandbox.pool:PoolProvisioner.launch_kernel",
        "a pooled kernel sets the attributes that LocalProvisioner's launch sets, and that its other methods read"),
}


class NotebookClientHooks:
    """For a subclass of nbclient's ``NotebookClient``: its cell time limit is ``cell_timeout``,
    and its steps for ending a cell are callable."""

    def _get_timeout(self, cell):
        return self.cell_timeout(cell)

    def cell_timeout(self, cell) -> int | None:
        """Seconds ``cell`` may run (None: no limit); nbclient's ``timeout`` or ``timeout_func``."""
        return super()._get_timeout(cell)

    async def check_raise_for_error(self, cell, cell_index: int, reply) -> None:
        """End a cell whose reply is an error as nbclient does (``on_cell_error``, and
        ``CellExecutionError`` unless errors are allowed)."""
        await self._check_raise_for_error(cell, cell_index, reply)

    async def handle_timeout(self, timeout: int, cell):
        """What nbclient does for a cell past its time limit: interrupt the kernel and return the
        ``error_on_timeout`` reply (None when none is configured), or raise ``CellTimeoutError``."""
        return await self._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        # nbclient's own (UPSTREAM_BODIES), each output built by output_from_msg
        parent_msg_id = msg["parent_header"].get("msg_id")
        if self.output_hook_stack[parent_msg_id]:
            hook = self.output_hook_stack[parent_msg_id][-1]
            hook.output(outs, msg, display_id, cell_index)
            return None
        try:
            out = self.output_from_msg(msg)
        except ValueError:
            self.log.error(f"unhandled iopub msg: {msg['msg_type']}")
            return None
        if self.clear_before_next_output:
            self.log.debug("Executing delayed clear_output")
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
        if display_id:
            cell_map = self._display_id_map.setdefault(display_id, {})
            cell_map.setdefault(cell_index, []).append(len(outs))
        if out:
            outs.append(out)
        return out

    def output_from_msg(self, msg):
        """The output a cell's IOPub message makes (``ValueError`` for one that makes none):
        nbformat's ``output_from_msg``, which nbclient calls."""
        from nbformat.v4 import output_from_msg

        return output_from_msg(msg)


class KernelClientHooks:
    """For a subclass of jupyter_client's ``KernelClient``."""

    def adopt_kernel_info(self, reply) -> None:
        """What jupyter_client does with a ``kernel_info`` reply: adopt the kernel's protocol version."""
        self._handle_kernel_info_reply(reply)


class KernelManagerHooks:
    """For a subclass of jupyter_client's ``AsyncKernelManager``."""

    kill_poll_interval: float = 0.1  # seconds between looks at a killed kernel (jupyter_client's own)

    async def _async_wait(self, pollinterval: float | None = None) -> None:
        # a kill waits without saying how often to look (the shutdown's own wait says it)
        await super()._async_wait(self.kill_poll_interval if pollinterval is None else pollinterval)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        if self._created_context and not restart:
            self.before_context_destroyed()
        await super()._async_cleanup_resources(restart)

    def before_context_destroyed(self) -> None:
        """Called once the kernel has ended for good, before jupyter_client destroys the ZMQ
        context it made for this manager, lingering 100 ms on each socket."""


def check_late_penalty(preprocessor, notebook, penalty):
    """nbgrader's check of the late penalty that ``preprocessor`` (an ``AssignLatePenalties``)
    found for ``notebook``: the penalty it records."""
    return preprocessor._check_late_penalty(notebook, penalty)
