"""Per-kernel uids (as root): a free uid of the range, leased under a lock for the kernel's life,
never one of a real account or one that something still runs as (standard library only)."""
from __future__ import annotations

import fcntl
import os
import pwd
import stat
import tempfile
import time
from dataclasses import dataclass

LOCK_DIR_CANDIDATES = ("/run/course-sandbox",
                       os.path.join(tempfile.gettempdir(), "course-sandbox-locks"))


@dataclass
class UidLease:
    """A uid of the range, held by the kernel while ``fd`` (its lock) is open."""

    uid: int
    fd: int

    def release(self) -> None:
        os.close(self.fd)


def processes_of(uid):
    """Whether a live (not zombie) process runs as ``uid``."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return False
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            return True
    return False


def _lock_dir():
    for candidate in LOCK_DIR_CANDIDATES:
        try:
            os.makedirs(candidate, mode=0o700, exist_ok=True)
            st = os.lstat(candidate)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and not st.st_mode & 0o022:
            return candidate
    raise SystemExit("SANDBOX ERROR: no root-owned folder for the uid locks "
                     f"(tried {', '.join(LOCK_DIR_CANDIDATES)})")


def lease(uid_range: tuple[int, int], deadline_s=60.0) -> UidLease:
    """A free uid of ``uid_range`` (LO, HI), locked for the kernel's life."""
    lo, hi = uid_range
    folder = _lock_dir()
    deadline = time.monotonic() + deadline_s
    while True:
        for uid in range(lo, hi + 1):
            try:
                pwd.getpwuid(uid)
                continue  # a real account: never lend it
            except KeyError:
                pass
            fd = os.open(os.path.join(folder, f"uid-{uid}.lock"),
                         os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if processes_of(uid):  # something still runs as it: not ours to lend
                os.close(fd)
                continue
            return UidLease(uid, fd)
        if time.monotonic() > deadline:
            raise SystemExit(f"SANDBOX ERROR: all sandbox uids {lo}-{hi} are in use")
        time.sleep(0.2)
