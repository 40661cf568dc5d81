"""The launcher's memory watch, and how a grader learns that its kernel hit the memory limit
(standard library only).

With a memory cgroup (``memory.py``), the kernel bounds every page and the watch only looks for
the cgroup's OOM kills. Without one, it sums the sandbox's processes' proportional set sizes and
what the processes hold that no set size shows (``held_memory``), 4 times a second. Either way,
a sandbox over its limit is killed, and ``memory.LIMIT_HIT`` is left beside the connection file
of the kernel that went over it, where ``SandboxedExecute`` looks after the kernel's death.
"""
from __future__ import annotations

import json
import os
import stat
import sys

if __package__:
    from . import memory
else:  # imported by the launcher script (start.py), whose folder is sys.path[0]
    import memory

MiB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _sysctl(path, default):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


SOCKET_MAX = _sysctl("/proc/sys/net/core/wmem_max", 212992) + _sysctl("/proc/sys/net/core/rmem_max", 212992)
PIPE_MAX = _sysctl("/proc/sys/fs/pipe-max-size", 1 << 20)


def tree_pids(root_pid) -> dict[int, int]:
    """``{pid: resident set in bytes}`` of ``root_pid`` and all its descendants, parents first."""
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * _PAGE
    tree, todo = {}, [root_pid]
    while todo:
        pid = todo.pop(0)
        todo.extend(children.get(pid, []))
        tree[pid] = rss.get(pid, 0)
    return tree


def tree_memory(pids: dict[int, int], exact=False) -> int:
    """Memory of the processes ``pids`` (``tree_pids``), in bytes: the sum of their resident
    sets (cheap, counts pages shared after fork once per process), or with ``exact`` the sum
    of their proportional set sizes (shared pages divided among their sharers)."""
    total = 0
    for pid, rss in pids.items():
        if not exact:
            total += rss
            continue
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                pss = next(line for line in f if line.startswith(b"Pss:"))
            total += int(pss.split()[1]) * 1024
        except (FileNotFoundError, ProcessLookupError):
            pass  # it has exited since the scan
        except (OSError, StopIteration, ValueError):
            total += rss  # unreadable (made undumpable, say): count all of it
    return total


def _inside(pids):
    """The pids whose root is not this process's: those inside the sandbox's own root (the
    tmpfs mounts that ``held_memory`` reads are theirs), bwrap's outer process left out."""
    try:
        own = os.stat("/")
    except OSError:
        return list(pids)
    inside = []
    for pid in pids:
        try:
            root = os.stat(f"/proc/{pid}/root/")
        except OSError:
            continue
        if (root.st_dev, root.st_ino) != (own.st_dev, own.st_ino):
            inside.append(pid)
    return inside


def held_memory(pids, mounts) -> int:
    """Memory the processes ``pids`` hold that their set sizes miss: what the tmpfs ``mounts``
    of their sandbox hold (as the first process that can be read sees them), and for each open
    pipe or socket the most its buffers can hold."""
    total, seen_mounts, buffers = 0, False, set()
    for pid in pids:
        if not seen_mounts:
            try:
                for mount in mounts:
                    fs = os.statvfs(f"/proc/{pid}/root{mount}")
                    total += (fs.f_blocks - fs.f_bfree) * fs.f_frsize
                seen_mounts = True
            except OSError:
                pass
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in buffers:
                continue
            if stat.S_ISSOCK(st.st_mode):
                buffers.add((st.st_dev, st.st_ino))
                total += SOCKET_MAX
            elif stat.S_ISFIFO(st.st_mode):
                buffers.add((st.st_dev, st.st_ino))
                total += PIPE_MAX
    return total


class MemoryWatch:
    """One sandbox's memory, sampled by its launcher: ``over`` says when to kill the sandbox and
    why, ``report`` says so on stderr and in ``limit_hit`` (``memory.LIMIT_HIT``)."""

    def __init__(self, limit: int, limit_hit: str, cgroup: memory.MemoryCgroup | None, mounts: tuple[str, ...]):
        self.limit, self.limit_hit, self.cgroup, self.mounts = limit, limit_hit, cgroup, mounts
        self._over = 0  # consecutive readings over the limit: one may race with forks and exits

    def over(self, root_pid) -> str | None:
        """Why the sandbox of ``root_pid`` must be killed now, or None."""
        if self.cgroup is not None:
            # the kernel killed a process of the sandbox for it: the whole sandbox goes, so that
            # the cell's kernel dies and the grader says why
            return self._cgroup_message() if self.cgroup.oom_kills() else None
        pids = tree_pids(root_pid)
        held = held_memory(_inside(pids), self.mounts)
        if tree_memory(pids) + held > self.limit and (used := tree_memory(pids, exact=True) + held) > self.limit:
            self._over += 1
        else:
            self._over = 0
        if self._over < 2:
            return None
        return (f"the kernel's processes used {used // MiB} MiB of memory together (tmpfs files and buffers "
                f"included), over the limit of {self.limit // MiB} MiB: killed")

    def after_exit(self) -> None:
        """Once the sandbox has ended: report an OOM kill that came after the last reading."""
        if self.cgroup is not None and self.cgroup.oom_kills() and not os.path.exists(self.limit_hit):
            self.report(self._cgroup_message())

    def _cgroup_message(self) -> str:
        return f"the kernel went over the sandbox's memory limit of {self.limit // MiB} MiB: killed"

    def report(self, message: str) -> None:
        print(f"SANDBOX: {message}", file=sys.stderr, flush=True)
        try:
            with open(self.limit_hit, "w") as f:
                f.write(message)
        except OSError:
            pass


class PoolMemoryWatch:
    """Whether the pool's sandbox hit its memory limit while one kernel of it ran: the OOM kills
    of its cgroup went up (the kernel counts one before its victim dies), or, without a cgroup,
    the pool's launcher left ``memory.LIMIT_HIT`` (it does before killing the pool). Then the same
    file goes beside the kernel's connection file, where the grader looks for it. With a cgroup,
    the counter alone decides: the launcher kills the pool up to 0.25 s after an OOM kill, when
    the next kernel may have started, which then dies for another's memory (and is tried again)."""

    def __init__(self, pool_dir, connection_file):
        self._pool_hit = os.path.join(pool_dir, memory.LIMIT_HIT)
        self._kernel_hit = os.path.join(os.path.dirname(os.path.abspath(connection_file)), memory.LIMIT_HIT)
        try:
            with open(os.path.join(pool_dir, memory.POOL_CGROUP)) as f:
                self._cgroup = memory.MemoryCgroup(*json.load(f))
        except (OSError, ValueError, TypeError):
            self._cgroup = None
        self._kills = self._cgroup.oom_kills() if self._cgroup else 0

    def report(self):
        message = None
        if self._cgroup is not None:
            if self._cgroup.oom_kills() > self._kills:
                message = "the kernel went over the sandbox's memory limit and was killed"
        else:
            try:
                with open(self._pool_hit) as f:
                    message = f.read()
                os.unlink(self._pool_hit)
            except OSError:
                pass
        if message:
            with open(self._kernel_hit, "w") as f:
                f.write(message)
