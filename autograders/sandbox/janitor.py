"""The janitor: undoes a launch however the launcher ends, even when the client kills the
launcher's process group with SIGKILL (standard library only). It is a forked process in its own
session that waits for the launcher to be gone (EOF on a pipe), then for the sandbox, then removes
the kernel folder, the socket links and the memory cgroup, and in mode ``bind`` gives the working
folder back to its owner."""
from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field

if __package__:
    from . import memory, settings, uids, workdir
else:  # the launcher, run as a script (start.py): its folder is sys.path[0]
    import memory
    import settings
    import uids
    import workdir


@dataclass
class Owner:
    """Who owned the working folder before it was lent to the kernel's uid (mode ``bind``)."""

    folder: str
    uid: int
    gid: int


@dataclass
class Job:
    """What a launch changed outside the sandbox, to be undone when it ends."""

    links: list[tuple[str, str]] = field(default_factory=list)  # (link, its target)
    kernel_dir: str | None = None
    cgroup: memory.MemoryCgroup | None = None
    restore_owner: Owner | None = None
    uid: int | None = None  # the kernel's own uid: the janitor waits for its processes


def cleanup(job: Job) -> None:
    for link, target in job.links:
        try:
            if os.readlink(link) == target:
                os.unlink(link)
        except OSError:
            pass
    if job.kernel_dir:
        shutil.rmtree(job.kernel_dir, ignore_errors=True)
    if job.cgroup is not None:
        job.cgroup.remove()
    if job.restore_owner is not None:
        owner = job.restore_owner
        try:
            workdir.lchown_tree(owner.folder, owner.uid, owner.gid, strip_setid=True)
        except OSError as exc:
            print(f"SANDBOX WARNING: could not give {owner.folder} back to uid {owner.uid}: {exc}",
                  file=sys.stderr)


def _janitor(pipe_r, child_pidfd, job):
    """In the forked child, in its own session: wait for EOF on ``pipe_r`` (the launcher is
    gone), then for the sandbox to be gone, then undo the launch's changes."""
    try:
        os.setsid()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        while True:
            try:
                if not os.read(pipe_r, 64):
                    break
            except InterruptedError:
                continue
        if child_pidfd is not None:
            poller = select.poll()
            poller.register(child_pidfd, select.POLLIN)
            poller.poll(10_000)
        if job.uid is not None:  # the pid namespace dies with bwrap; give its processes a moment
            deadline = time.monotonic() + 5
            while uids.processes_of(job.uid) and time.monotonic() < deadline:
                time.sleep(0.02)
        settings.debug("janitor: the sandbox is gone")
        cleanup(job)
    finally:
        os._exit(0)


class Janitor:
    """The janitor of the sandbox ``child`` (a ``subprocess.Popen``), forked when made; ``finish``
    tells it the launcher is done and waits for it."""

    def __init__(self, child, job: Job):
        try:
            child_pidfd = os.pidfd_open(child.pid)
        except (AttributeError, OSError):
            child_pidfd = None
        pipe_r, self._pipe_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._pipe_w)
            _janitor(pipe_r, child_pidfd, job)  # never returns
        os.close(pipe_r)

    def finish(self) -> None:
        os.close(self._pipe_w)  # the janitor cleans up now
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
