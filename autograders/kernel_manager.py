"""The grader's kernel manager and client: jupyter_client's, without its fixed waits."""
from __future__ import annotations

import time
import uuid
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Type

from autograders.sandbox.pool import PoolProvisioner, lent_pool
from autograders.upstream import KernelClientHooks, KernelManagerHooks


class ReadyKernelClient(KernelClientHooks, AsyncKernelClient):
    """jupyter_client's kernel client, whose readiness check ends as soon as the kernel has
    answered ``kernel_info`` on the shell channel and its IOPub status for that request has
    arrived (proof that IOPub is connected). jupyter_client's own check then also waits for
    0.2 s of IOPub silence, a fixed cost per kernel that nbclient does not need: it only
    reads the messages of the cell it runs. It keeps the kernel's ``supported_features``."""

    supported_features: tuple = ()

    async def wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            request = self.kernel_info()
            if await self._answered(request, min(1.0, deadline - time.monotonic())):
                return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    async def _answered(self, request, timeout):
        """Whether the shell reply and the IOPub 'idle' status of ``request`` arrive in time."""
        until = time.monotonic() + max(timeout, 0.05)
        replied = idle = False
        while not (replied and idle):
            left = until - time.monotonic()
            if left <= 0:
                return False
            channel = self.iopub_channel if replied else self.shell_channel
            try:
                msg = await channel.get_msg(timeout=left)
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") != request:
                continue
            if msg["msg_type"] == "kernel_info_reply":
                self.adopt_kernel_info(msg)
                self.supported_features = tuple(msg["content"].get("supported_features") or ())
                replied = True
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return True


class PromptKernelManager(KernelManagerHooks, AsyncKernelManager):
    """jupyter_client's kernel manager with the ``ReadyKernelClient``, and which looks for the
    end of a killed kernel every 5 ms rather than every 100 ms (a kill ends every notebook), and
    closes its sockets without lingering once the kernel is gone. Its ``course-sandbox`` kernels
    get a ``PoolProvisioner``, given at each start the kernel pool lent to this process, if any,
    which then forks them from here."""

    client_class = DottedObjectName(f"{ReadyKernelClient.__module__}.{ReadyKernelClient.__qualname__}")
    client_factory = Type(ReadyKernelClient, klass=AsyncKernelClient)

    kill_poll_interval = 0.005

    async def start_kernel(self, **kw):
        # a restart keeps the provisioner of the kernel it replaces
        if self.provisioner is None and PoolProvisioner.serves(self.kernel_spec):
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = PoolProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        if isinstance(self.provisioner, PoolProvisioner):
            self.provisioner.pool = lent_pool()  # the pool lent to this process now, if any
        return await super().start_kernel(**kw)

    def before_context_destroyed(self) -> None:
        # the kernel has ended: what is still queued for it can never be delivered, and ZMQ's
        # default linger (100 ms) only delayed the end of every notebook by 80 ms
        self.context.destroy(linger=0)
