"""A small client for the sandbox's tests: what nbclient does, reduced to what they need."""
from __future__ import annotations

import json
import os
import textwrap
import time
import uuid

from autograders.sandbox import KERNEL_NAME


class Kernel:
    """A sandboxed kernel (or the ``kernel_name`` one) started like nbgrader starts one, and a
    blocking client."""

    def __init__(self, cwd, *, ip=None, env=None, stderr=None, timeout=60, kernel_name=KERNEL_NAME):
        from jupyter_client import KernelManager
        from traitlets.config import Config

        config = Config()
        config.KernelManager.transport = "ipc"
        self.km = KernelManager(config=config, kernel_name=kernel_name)
        if ip:  # as SandboxedExecute does: connection file and sockets in one private folder
            self.km.connection_file = os.path.join(os.path.dirname(ip), f"kernel-{uuid.uuid4()}.json")
            self.km.ip = str(ip)
        kernel_env = dict(os.environ)
        kernel_env.update(env or {})
        started = time.monotonic()
        self.km.start_kernel(cwd=str(cwd), env=kernel_env, stderr=stderr)
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=timeout)
        except RuntimeError:
            self.close()
            raise
        self.ready_s = time.monotonic() - started

    def run(self, code, timeout=60):
        """Execute ``code``; returns {"stdout", "stderr", "error", "status", "result"}."""
        msg_id = self.kc.execute(textwrap.dedent(code))
        return self.collect(msg_id, timeout)

    def run_batch(self, cells, timeout=60):
        """Execute ``cells`` with one ``execute_cells_request`` (a grading kernel's, which sends
        each cell's reply on IOPub after its outputs); a result per cell, as ``run`` gives it."""
        ids = [f"batch-{uuid.uuid4().hex}" for _ in cells]
        batch = [{"msg_id": msg_id, "code": textwrap.dedent(code)} for msg_id, code in zip(ids, cells)]
        self.kc.shell_channel.send(self.kc.session.msg("execute_cells_request", {"cells": batch}))
        return [self.collect(msg_id, timeout, batched=True) for msg_id in ids]

    def collect(self, msg_id, timeout=60, batched=False):
        out = {"stdout": "", "stderr": "", "error": None, "status": None, "result": None}
        end = "reply" if batched else "idle status"
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {end} within {timeout} s")
            try:
                msg = self.kc.get_iopub_msg(timeout=left)
            except Exception as exc:  # queue.Empty
                raise TimeoutError(f"no {end} within {timeout} s") from exc
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out[content["name"]] += content["text"]
            elif kind == "error":
                out["error"] = (content["ename"], content["evalue"])
            elif kind == "execute_result":
                out["result"] = content["data"].get("text/plain")
            elif kind == "execute_reply" and batched:
                out["status"] = content["status"]
                return out
            elif kind == "status" and content["execution_state"] == "idle" and not batched:
                break
        reply = self.kc.get_shell_msg(timeout=timeout)
        # wait_for_ready asks again every second: a kernel slow to start answers each request
        while reply["msg_type"] == "kernel_info_reply":
            reply = self.kc.get_shell_msg(timeout=timeout)
        assert reply["parent_header"]["msg_id"] == msg_id, "replies came out of order"
        out["status"] = reply["content"]["status"]
        return out

    def value(self, expression, timeout=60):
        """Evaluate ``expression`` (JSON-serialisable) in the kernel."""
        result = self.run(f"import json as _j; print(_j.dumps({expression}))", timeout)
        assert result["error"] is None, result
        return json.loads(result["stdout"])

    def alive(self):
        return self.km.is_alive() and self.run("1 + 1", timeout=20)["result"] == "2"

    def close(self, now=True):
        try:
            self.kc.stop_channels()
        finally:
            self.km.shutdown_kernel(now=now)


def needs_memory_cgroup():
    """Skip, saying why, where this machine lends the sandbox no memory cgroup."""
    import pytest

    from autograders.sandbox import memory

    if memory.cgroup_kind() is None:
        pytest.skip("no memory cgroup for the sandbox here (see `python -m autograders.sandbox doctor`)")


def capped_kernel(course_tree, name, protection, cap_mb, stderr):
    """A sandboxed kernel in a fresh folder of the course tree, whose sandbox may hold
    ``cap_mb`` MiB in all under ``protection`` (``watch`` or ``cgroup``, skipped where no memory
    cgroup is lent)."""
    if protection == "cgroup":
        needs_memory_cgroup()
    folder = course_tree["course"] / "autograded" / f"{name}-{protection}" / "ps1"
    folder.mkdir(parents=True)
    return Kernel(folder, ip=course_tree["runtime"] / f"{name}-ipc", stderr=stderr,
                  env={"COURSE_SANDBOX_TOTAL_MEMORY_MB": str(cap_mb), "COURSE_SANDBOX_MEMORY_PROTECTION": protection})
