"""A kernel pool for grading: one sandbox whose zygote forks a fresh kernel per submission.

Starting a kernel costs about two seconds of CPU, most of it importing torch and matplotlib;
the notebook's own cells often cost less. A ``KernelPool`` starts one sandbox (the launcher's
``--pool`` mode: the same layers as a kernel's own sandbox) running ``course_zygote``, which
imports all that once and then forks one kernel per request. While the pool is open and
answers, it is lent to this process's kernels: the grader's kernel manager asks ``lent_pool()``
and gives the pool to the kernel's ``PoolProvisioner``; the launcher of a kernel that another
Jupyter client of this process starts finds it in ``COURSE_SANDBOX_POOL``. When the pool cannot
serve a kernel, that kernel gets a sandbox of its own as usual. Between two kernels the zygote kills every other process of the sandbox and
empties the folders a kernel can write, and ``ready()`` checks that it did so before the next
submission, replacing a pool that does not answer (a kernel killed or stopped its zygote).

A ``PoolProvisioner`` (jupyter_client's provisioning interface) has the pool fork a kernel from
this process, doing what the launcher would do for it, without starting a launcher process.
The client's side of the pool's protocol is ``pool_client.py``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

from jupyter_client.provisioning import LocalProvisioner
from traitlets import Instance

from . import LAUNCHER
from .capabilities import protections
from .config import SandboxSettings
from .launch import parse_args
from .pool_client import POOL_SOCKET, PoolKernel, pool_reply, pool_request
from .settings import POOL_ENV, Settings

# A pool that never answered this many times in a row will not start here: each try costs
# seconds, so kernels get sandboxes of their own without one more try per submission.
MAX_FAILED_STARTS = 2


def pool_possible(config: Settings | None = None) -> bool:
    """Whether this machine can run a kernel pool (bubblewrap usable, the working-folder copy),
    with the sandbox's settings ``config`` (by default: ``SandboxSettings``'s)."""
    config = config or SandboxSettings().launcher_settings()
    return protections(config).bwrap_usable and config.workdir == "copy"


_lent: KernelPool | None = None


def lent_pool() -> KernelPool | None:
    """The kernel pool lent to this process's kernels now (whose zygote answered last), or None."""
    return _lent


class KernelPool:
    """Owns one pool sandbox at a time; a context manager that lends it to this process's kernels.
    Its launcher gets the sandbox's settings from ``sandbox`` (by default: the environment's)."""

    def __init__(self, start_timeout: float = 120.0, ping_timeout: float = 5.0,
                 sandbox: SandboxSettings | None = None):
        self.start_timeout, self.ping_timeout = start_timeout, ping_timeout
        self.sandbox = sandbox or SandboxSettings()
        self.folder = tempfile.mkdtemp(prefix="course-pool-")
        self.process: subprocess.Popen | None = None
        self.pools_started = 0
        self.failed_starts = 0  # in a row
        self._served_before = 0  # kernels served by the pools replaced so far
        self._served_now = 0

    @property
    def kernels_served(self) -> int:
        """The kernels the pools reported forking (a pool that a kernel broke reports no more)."""
        return self._served_before + self._served_now

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def ready(self) -> bool:
        """Make sure an idle, cleared zygote waits for the next kernel; start or replace it when
        not. False when no pool can run here: kernels then get sandboxes of their own."""
        if self.process is not None and self.process.poll() is None and self._answers(self.ping_timeout):
            return True
        self._stop()
        if not pool_possible(self.sandbox.launcher_settings()) or self.failed_starts >= MAX_FAILED_STARTS:
            return False
        self.process = subprocess.Popen([sys.executable, LAUNCHER, "--pool", self.folder],
                                        env=self.sandbox.launcher_environment(os.environ),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.pools_started += 1
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if self._answers(max(1.0, deadline - time.monotonic())):
                self.failed_starts = 0
                return True
            time.sleep(0.05)  # the launcher has not made the socket yet
        self.failed_starts += 1
        self._stop()
        return False

    def _answers(self, timeout: float) -> bool:
        """Whether the zygote answers a ping in time; then this process's kernels go to it."""
        answer = self._ping(timeout)
        if answer is None:
            return False
        self._served_now = answer["served"]
        self._lend(True)
        return True

    def _lend(self, lent: bool) -> None:
        """Lend this pool to this process's kernels, or take it back from them."""
        global _lent
        if lent:
            _lent = self
            os.environ[POOL_ENV] = self.folder  # for the launchers of other Jupyter clients' kernels
        else:
            _lent = None
            os.environ.pop(POOL_ENV, None)

    def _ping(self, timeout: float) -> dict | None:
        sock = pool_request(self.folder, {"ping": True}, timeout=timeout)
        if sock is None:
            return None
        with sock:
            answer = pool_reply(sock)
        return answer if answer and answer.get("pong") else None

    def _stop(self) -> None:
        self._lend(False)
        self._served_before += self._served_now
        self._served_now = 0
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()  # the launcher kills its sandbox, its janitor clears up
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        try:
            os.unlink(os.path.join(self.folder, POOL_SOCKET))
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self._answers(self.ping_timeout)  # the last count
        self._stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class PoolProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner for a grader's ``course-sandbox`` kernel, which writes
    the launcher's environment from ``SandboxSettings`` (with this provisioner's configuration).
    Given the kernel ``pool`` lent to this process, it has the pool fork the kernel, and what the
    launcher would do for it (send the zygote the connection, the seed and the working folder's
    files, link the client's socket paths, stand for the kernel until it ends) is done here,
    without starting a launcher process (about 30 ms of CPU per kernel). A kernel without a pool,
    or that the pool cannot take, is launched as ``LocalProvisioner`` launches it: the launcher
    gives it a sandbox of its own."""

    pool = Instance(KernelPool, allow_none=True, help="The kernel pool that forks this kernel, or None.")

    @staticmethod
    def serves(kernel_spec) -> bool:
        """Whether a kernel of ``kernel_spec`` is a ``course-sandbox`` kernel, this provisioner's."""
        return kernel_spec.argv[1:2] == [LAUNCHER]

    async def launch_kernel(self, cmd: list[str], **kwargs):
        env = kwargs.get("env") or dict(os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        if self.pool is not None:
            connection_file, extra = parse_args(cmd[2:])
            # a forked kernel has the pool's sandbox: of the environment it takes only its seed
            kernel = PoolKernel.start(self.pool.folder, connection_file, extra, cwd, env, os.getpid())
            if kernel is not None:  # what LocalProvisioner.launch_kernel sets (autograders/upstream.py)
                self.process, self.pid, self.pgid, self.cwd = kernel, None, None, cwd
                return self.connection_info
            env = {name: value for name, value in env.items() if name != POOL_ENV}  # not that pool again
        # the launcher gives it a sandbox of its own, or refuses it, saying why
        kwargs["env"] = SandboxSettings(environ=env, parent=self).launcher_environment(env)
        return await super().launch_kernel(cmd, **kwargs)
