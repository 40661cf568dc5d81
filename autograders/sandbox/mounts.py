"""Mounts: the host's root folders as a sandbox sees them, and, as root, the private mount
namespace that makes the folders a kernel needs reachable by its uid (through ctypes; standard
library only)."""
from __future__ import annotations

import ctypes
import os
import stat

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18


def root_links():
    """bwrap arguments for /bin, /lib, ... as on the host: symbolic links into /usr, or
    read-only binds."""
    args = []
    for path in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _blocking_ancestor(path):
    """The topmost folder above ``path`` that a stranger uid cannot search, or None."""
    parts = path.strip("/").split("/")[:-1]
    current = "/"
    for part in parts:
        current = os.path.join(current, part)
        try:
            if not os.stat(current).st_mode & stat.S_IXOTH:
                return current
        except OSError:
            return None
    return None


def make_reachable(paths):
    """In a forked child, as root (before it drops its uid): enter a private mount namespace in
    which every folder of ``paths`` can be reached by any uid. A folder above one of them that
    strangers cannot search (``/root``, 0700) gets a tmpfs over it holding a bind of just that
    path."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    blocked = {}
    for path in paths:
        path = os.path.realpath(path)
        if not os.path.isdir(path):
            continue
        ancestor = _blocking_ancestor(path)
        if ancestor:
            blocked.setdefault(ancestor, []).append(path)
    # open every path before any tmpfs hides it (and after unshare: a bind must come from
    # the caller's own mount namespace)
    fds = {p: os.open(p, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
           for ps in blocked.values() for p in ps}
    for ancestor in sorted(blocked, key=len):
        _check(libc.mount(b"tmpfs", ancestor.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                          b"mode=0755,size=64k"), f"tmpfs on {ancestor}")
        for path in blocked[ancestor]:
            os.makedirs(path, 0o755, exist_ok=True)
            _check(libc.mount(f"/proc/self/fd/{fds[path]}".encode(), path.encode(), None,
                              MS_BIND | MS_REC, None), f"bind {path}")
    for fd in fds.values():
        os.close(fd)
