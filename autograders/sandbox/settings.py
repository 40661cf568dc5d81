"""The sandbox's settings: every ``COURSE_SANDBOX_*`` environment variable, read in this one
place into typed records (standard library only: the launcher reads its settings from its
environment before anything else runs). The grader's side sets them through
``config.SandboxSettings``, which writes a launcher's environment with ``environment()``.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass

MiB = 1024 * 1024
UID_RANGE_DEFAULT = (61000, 61063)
WORKDIR_MODES = ("copy", "bind")
MEMORY_MODES = ("auto", "cgroup", "watch")
# Not a setting: a grading process's open kernel pool (pool.py) names its folder here for the
# launchers of its kernels, which then have the pool's zygote fork them.
POOL_ENV = "COURSE_SANDBOX_POOL"
DEBUG_ENV = "COURSE_SANDBOX_DEBUG"


@dataclass(frozen=True)
class Limits:
    """A sandbox's resource limits, in bytes, seconds and counts."""

    # Measured: ipykernel + torch + matplotlib, an MNIST-sized MLP epoch and a CNN with two
    # DataLoader workers peak at 1.2 GiB of address space (with MALLOC_ARENA_MAX=2); the
    # kernel works with 1.8 GiB. 3 GiB leaves room for a data set; 50 GB fails at once.
    address_space: int
    cpu_seconds: int
    processes: int  # processes and threads of the sandbox (the kernel with torch uses about 11)
    file_size: int
    open_files: int
    tmp_size: int  # /tmp and /dev/shm, each
    # the private copy of the working folder (mode "copy"): its tmpfs, and how many entries of
    # the folder are copied into it
    workdir_size: int
    workdir_entries: int
    # What the kernel process may write to the client's stderr. The kernel's own output goes to
    # the notebook; this is for crash messages, and a flood is cut off.
    stderr_bytes: int
    # The address-space limit is per process; the launcher also bounds the memory of all of the
    # sandbox's processes together (a memory cgroup, or its watch: watch.py). 0: no bound.
    total_memory: int


@dataclass(frozen=True)
class Settings:
    """What the ``COURSE_SANDBOX_*`` variables say, in their own units; a field's default is the
    launcher's default. ``VARIABLES`` names each field's variable."""

    memory_mb: int = 3072
    cpu_seconds: int = 600
    nproc: int = 128
    file_size_mb: int = 64
    nofile: int = 1024
    tmp_mb: int = 256
    workdir_mb: int = 512
    workdir_entries: int = 400
    stderr_kb: int = 256
    total_memory_mb: int = 4096
    # How the kernel gets its working folder. "copy": a private, size-limited tmpfs at the
    # folder's path, filled with a copy of the folder when the kernel starts; what the kernel
    # writes there is discarded when it ends. The folder itself is never written (grading the
    # same submission twice starts from the same files), the disk cannot be filled, and nothing
    # the kernel creates (a symbolic link to a root-only file, say) is left for later root
    # processes to trip over. "bind": the folder itself, read-write (as root it is lent to the
    # kernel's uid and given back afterwards); writes persist, bounded per file by the
    # file-size limit only. Without bubblewrap the kernel always works in the folder itself.
    workdir: str = "copy"
    uids: tuple[int, int] = UID_RANGE_DEFAULT  # the per-kernel uids lent as root, LO-HI
    memory_protection: str = "auto"  # one of MEMORY_MODES (memory.py)
    cgroup: str | None = None  # a cgroup v2 folder delegated to this user
    require: bool = False  # refuse to start a kernel without every protection
    bwrap: str | None = None  # bubblewrap's path, instead of the one found (the tests name a missing one)
    debug: bool = False  # timestamps of each launch's steps on stderr

    @property
    def limits(self) -> Limits:
        return Limits(
            address_space=self.memory_mb * MiB,
            cpu_seconds=self.cpu_seconds,
            processes=self.nproc,
            file_size=self.file_size_mb * MiB,
            open_files=self.nofile,
            tmp_size=self.tmp_mb * MiB,
            workdir_size=self.workdir_mb * MiB,
            workdir_entries=self.workdir_entries,
            stderr_bytes=self.stderr_kb * 1024,
            total_memory=self.total_memory_mb * MiB,
        )


VARIABLES = {
    "memory_mb": "COURSE_SANDBOX_MEMORY_MB",
    "cpu_seconds": "COURSE_SANDBOX_CPU_SECONDS",
    "nproc": "COURSE_SANDBOX_NPROC",
    "file_size_mb": "COURSE_SANDBOX_FILE_SIZE_MB",
    "nofile": "COURSE_SANDBOX_NOFILE",
    "tmp_mb": "COURSE_SANDBOX_TMP_MB",
    "workdir_mb": "COURSE_SANDBOX_WORKDIR_MB",
    "workdir_entries": "COURSE_SANDBOX_WORKDIR_ENTRIES",
    "stderr_kb": "COURSE_SANDBOX_STDERR_KB",
    "total_memory_mb": "COURSE_SANDBOX_TOTAL_MEMORY_MB",
    "workdir": "COURSE_SANDBOX_WORKDIR",
    "uids": "COURSE_SANDBOX_UIDS",
    "memory_protection": "COURSE_SANDBOX_MEMORY_PROTECTION",
    "cgroup": "COURSE_SANDBOX_CGROUP",
    "require": "COURSE_SANDBOX_REQUIRE",
    "bwrap": "COURSE_SANDBOX_BWRAP",
    "debug": DEBUG_ENV,
}
DEFAULTS = Settings()


def _integer(name, value):
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"SANDBOX ERROR: {name}={value!r} is not an integer") from None


def check_uids(lo: int, hi: int, spec: str) -> tuple[int, int]:
    """The uid range ``lo``-``hi``, or exit saying why ``spec`` does not name a usable one."""
    if not 1000 <= lo <= hi < 2**31 - 1:
        raise SystemExit(f"SANDBOX ERROR: COURSE_SANDBOX_UIDS={spec!r} is out of range")
    return lo, hi


def _uids(spec):
    try:
        lo, hi = (int(part) for part in spec.split("-", 1))
    except ValueError:
        raise SystemExit(f"SANDBOX ERROR: COURSE_SANDBOX_UIDS={spec!r} is not LO-HI") from None
    return check_uids(lo, hi, spec)


def _choice(name, value, choices, advice):
    if value not in choices:
        raise SystemExit(f"SANDBOX ERROR: {name}={value!r}: {advice}")
    return value


def read(environ=os.environ) -> Settings:
    """The settings that ``environ`` gives: a variable that is unset (or empty, for the numbers,
    the uids and the memory protection) keeps its default; a malformed one stops the caller."""
    values = {}
    for field in dataclasses.fields(Settings):
        name = VARIABLES[field.name]
        value = environ.get(name)
        default = getattr(DEFAULTS, field.name)
        if field.name == "workdir":
            values["workdir"] = _choice(name, environ.get(name, default), WORKDIR_MODES, "use copy or bind")
        elif field.name == "require" or field.name == "debug":
            values[field.name] = value == "1"
        elif field.name == "bwrap":
            values["bwrap"] = value
        elif field.name == "cgroup":
            values["cgroup"] = value or None
        elif not value:
            values[field.name] = default
        elif field.name == "uids":
            values["uids"] = _uids(value)
        elif field.name == "memory_protection":
            values["memory_protection"] = _choice(name, value, MEMORY_MODES, f"use one of {', '.join(MEMORY_MODES)}")
        else:
            values[field.name] = _integer(name, value)
    return Settings(**values)


def environment(settings: Settings) -> dict[str, str]:
    """The variables that make ``read`` give ``settings``: every setting that has a value."""
    env = {}
    for field in dataclasses.fields(Settings):
        value = getattr(settings, field.name)
        if value is None or value is False:
            continue
        if value is True:
            value = "1"
        elif field.name == "uids":
            value = "-".join(map(str, value))
        env[VARIABLES[field.name]] = str(value)
    return env


def limits(environ=os.environ) -> Limits:
    """The resource limits: defaults, or the ``COURSE_SANDBOX_*`` environment variables."""
    return read(environ).limits


def debug(message: str) -> None:
    """With ``COURSE_SANDBOX_DEBUG=1``: ``message`` on stderr, with the time and the process."""
    if os.environ.get(DEBUG_ENV) == "1":
        print(f"SANDBOX DEBUG {time.monotonic():.3f} [{os.getpid()}] {message}", file=sys.stderr, flush=True)
