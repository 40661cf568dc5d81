"""The bound on all the memory a sandbox can make the machine hold (standard library only).

A process's set size misses memory that no process maps: System V shared memory, an anonymous
file (``memfd_create``) kept open, files in the sandbox's tmpfs mounts, kernel buffers held by
pipes and sockets. Two layers bound it (``docs/sandbox.md``, "Memory"):

* **A memory cgroup per sandbox**, where the machine lends one (``cgroup``): cgroup v1's memory
  controller or a cgroup v2 folder with the memory controller that this process may write
  (root's, or one delegated to the instructor, ``COURSE_SANDBOX_CGROUP``). The kernel charges
  every page to it, mapped or not, and kernel memory with it: the sandbox can never hold more
  than its limit; over it, the kernel's OOM killer ends a process of the sandbox (a grading
  kernel first: ``oom_score_adj`` 1000).
* **What namespaces and a filter can do** (always): a seccomp filter refuses System V IPC and
  anonymous files (no notebook needs them; ``multiprocessing`` and torch share memory through
  files in ``/dev/shm``); the tmpfs mounts have fixed sizes; and where no cgroup is lent, the
  launcher's watch adds to the processes' proportional set sizes what their tmpfs mounts hold
  and the most that their pipes and sockets can buffer (``held_memory``).

``COURSE_SANDBOX_MEMORY_PROTECTION`` (read by ``settings.py``): ``auto`` (a cgroup where lent,
else the watch), ``cgroup`` (refuse to start a sandbox without one: grading fails closed),
``watch``.
"""
from __future__ import annotations

import errno
import functools
import os
import platform
import signal
import struct
import time
import uuid

if __package__:
    from . import settings
else:  # imported by the launcher script (start.py), whose folder is sys.path[0]
    import settings

LIMIT_HIT = "memory-limit-hit"  # the file a launcher leaves beside the connection file
POOL_CGROUP = "cgroup"  # in a pool's folder: its memory cgroup, for the pool's clients (watch.py)
V1_ROOT = "/sys/fs/cgroup/memory"
V2_ROOT = "/sys/fs/cgroup"


# --------------------------------------------------------------------------------------------
# A memory cgroup for each sandbox


def _own_cgroup(version: int) -> str | None:
    """This process's cgroup path in the v1 memory hierarchy or in the v2 one."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        number, controllers, path = line.split(":", 2)
        if version == 2 and number == "0" and controllers == "":
            return path
        if version == 1 and "memory" in controllers.split(","):
            return path
    return None


def _writable_dir(path: str) -> bool:
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _v2_parent() -> str | None:
    """A cgroup v2 folder whose children may get a memory limit: the delegated one, or as root
    a ``course-sandbox`` folder below the root of the hierarchy."""
    delegated = settings.read().cgroup
    candidates = [delegated] if delegated else []
    if os.geteuid() == 0 and os.path.exists(os.path.join(V2_ROOT, "cgroup.subtree_control")):
        candidates.append(os.path.join(V2_ROOT, "course-sandbox"))
    for parent in candidates:
        try:
            os.makedirs(parent, exist_ok=True)
            with open(os.path.join(parent, "cgroup.controllers")) as f:
                if "memory" not in f.read().split():
                    continue
            with open(os.path.join(parent, "cgroup.subtree_control")) as f:
                enabled = "memory" in f.read().split()
            if not enabled:
                with open(os.path.join(parent, "cgroup.subtree_control"), "w") as f:
                    f.write("+memory")
            if _writable_dir(parent):
                return parent
        except OSError:
            continue
    return None


def _v1_parent() -> str | None:
    own = _own_cgroup(1)
    if own is None:
        return None
    for parent in (os.path.join(V1_ROOT, own.lstrip("/")), V1_ROOT):
        if _writable_dir(parent) and os.path.exists(os.path.join(parent, "memory.limit_in_bytes")):
            return parent
    return None


@functools.lru_cache(maxsize=1)
def cgroup_parent() -> tuple[int, str] | None:
    """``(version, folder)`` under which this process can give a sandbox a memory cgroup, else
    None; looked up once per process (a launcher asks for its report, then for the cgroup)."""
    for version, parent in ((2, _v2_parent), (1, _v1_parent)):
        folder = parent()
        if folder is not None:
            return version, folder
    return None


def cgroup_kind() -> str | None:
    """``"v2"`` or ``"v1"`` when this process can give a sandbox a memory cgroup, else None."""
    found = cgroup_parent()
    return f"v{found[0]}" if found else None


class MemoryCgroup:
    """One sandbox's memory cgroup: made with its limit, entered by the sandbox's first process
    before it becomes the sandbox, read for the OOM kills it saw, removed once it is empty."""

    _LIMITS = {2: ("memory.max", "memory.swap.max"), 1: ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes")}

    def __init__(self, path: str, version: int):
        self.path, self.version = path, version

    @classmethod
    def create(cls, limit: int) -> MemoryCgroup | None:
        found = cgroup_parent()
        if found is None:
            return None
        version, parent = found
        group = cls(os.path.join(parent, f"course-sandbox-{os.getpid()}-{uuid.uuid4().hex[:8]}"), version)
        os.mkdir(group.path)
        memory_file, swap_file = cls._LIMITS[version]
        group._write(memory_file, limit)
        # no swapping past it (v2 limits swap apart, v1 memory and swap together)
        group._write(swap_file, 0 if version == 2 else limit, optional=True)
        return group

    def _write(self, name, value, optional=False):
        try:
            with open(os.path.join(self.path, name), "w") as f:
                f.write(str(value))
        except OSError:
            if not optional:
                raise

    def enter(self) -> None:
        """Move the calling process into the cgroup (its children follow)."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write("0")

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this cgroup for going over its limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            with open(os.path.join(self.path, name)) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def _pids(self) -> list[int]:
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(line) for line in f if line.strip()]
        except OSError:
            return []

    def remove(self, timeout_s: float = 5.0) -> None:
        """Kill what is left in the cgroup, then remove it."""
        deadline = time.monotonic() + timeout_s
        while True:
            for pid in self._pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                    return
            time.sleep(0.01)


# --------------------------------------------------------------------------------------------
# The system-call filter


_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# shmget, msgget, semget (System V IPC objects outlive their processes), memfd_create,
# memfd_secret (anonymous memory that no mount's size bounds)
_REFUSED = {"x86_64": (29, 68, 64, 319, 447), "aarch64": (194, 186, 190, 279, 447)}
_X32_BIT = 0x40000000


def seccomp_program() -> bytes | None:
    """A classic BPF program for bwrap's ``--seccomp``: the calls above fail with EPERM, and so
    does any call of the x32 ABI (its numbers would pass by these); None on another processor."""
    machine = platform.machine()
    if machine not in _AUDIT_ARCH:
        return None
    ld_w_abs, jeq_k, jge_k, ret_k = 0x20, 0x15, 0x35, 0x06
    allow, refuse, kill = 0x7FFF0000, 0x00050000 | errno.EPERM, 0x00000000
    refused = _REFUSED[machine]
    program = [(ld_w_abs, 0, 0, 4),  # seccomp_data.arch
               (jeq_k, 1, 0, _AUDIT_ARCH[machine]),
               (ret_k, 0, 0, kill),  # another ABI's calls: never this sandbox's
               (ld_w_abs, 0, 0, 0)]  # seccomp_data.nr
    if machine == "x86_64":
        program.append((jge_k, len(refused) + 1, 0, _X32_BIT))
    for index, number in enumerate(refused):
        program.append((jeq_k, len(refused) - index, 0, number))
    program += [(ret_k, 0, 0, allow), (ret_k, 0, 0, refuse)]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
