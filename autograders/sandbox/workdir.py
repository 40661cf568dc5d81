"""The kernel's working folder (the notebook's folder): which folders must never reach a sandbox,
the private copy a kernel gets of it (mode ``copy``), and, in mode ``bind``, the folder lent to
the kernel's uid and its lock (standard library only)."""
from __future__ import annotations

import errno
import fcntl
import os
import pwd
import stat
import sys
import time
from dataclasses import dataclass

if __package__:
    from . import layout
else:  # the launcher, run as a script (start.py): its folder is sys.path[0]
    import layout


@dataclass(frozen=True)
class FolderEntry:
    """One entry of a private copy of a folder: ``path`` relative to the folder, ``kind`` dir,
    file or link, the permission bits of a dir or a file (``mode``), a link's ``target``."""

    path: str
    kind: str
    mode: int | None = None
    target: str | None = None

    def message(self) -> dict:
        """As a kernel pool's zygote reads it (``course_zygote._fill_workdir``)."""
        extra = {"target": self.target} if self.kind == "link" else {"mode": self.mode}
        return {"path": self.path, "kind": self.kind, **extra}


@dataclass
class FolderCopy:
    """What a private copy of a folder holds (``entries``), the open file of each file entry
    (``fds``, in the order of the entries) and what was left out of it, in words."""

    entries: list[FolderEntry]
    fds: list[int]
    left_out: list[str]


def folder_entries(folder, budget, max_entries) -> FolderCopy:
    """What a private copy of ``folder`` holds: its folders, files and symbolic links, with their
    permission bits (the kernel may write its copy), files opened here (so that files only the
    launcher can read are copied too). Files that would take the copy past ``budget`` bytes or
    ``max_entries`` entries are left out."""
    copy = FolderCopy([], [], [])
    used = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            path = os.path.join(dirpath, name)
            relative = os.path.relpath(path, folder)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if len(copy.entries) >= max_entries:
                copy.left_out.append(f"{path} (more than {max_entries} entries)")
                if stat.S_ISDIR(st.st_mode):
                    dirnames.remove(name)
                continue
            if stat.S_ISDIR(st.st_mode):
                copy.entries.append(FolderEntry(relative, "dir", mode=stat.S_IMODE(st.st_mode) & 0o777 | 0o700))
            elif stat.S_ISLNK(st.st_mode):
                copy.entries.append(FolderEntry(relative, "link", target=os.readlink(path)))
            elif stat.S_ISREG(st.st_mode):
                size = st.st_size + 4096
                if used + size > budget:
                    copy.left_out.append(f"{path} ({st.st_size} bytes: over the {budget} bytes of the copy)")
                    continue
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                except OSError as exc:
                    copy.left_out.append(f"{path} ({exc.strerror})")
                    continue
                used += size
                copy.fds.append(fd)
                copy.entries.append(FolderEntry(relative, "file", mode=stat.S_IMODE(st.st_mode) & 0o777 | 0o200))
            else:
                copy.left_out.append(f"{path} (not a file, folder or link)")
    return copy


def copy_args(folder, budget, max_entries, dest=None):
    """bwrap arguments that recreate ``folder`` at ``dest`` in the sandbox (``folder_entries``).
    Returns (args, fds, left_out)."""
    dest = dest or folder
    copy = folder_entries(folder, budget, max_entries)
    args, files = [], iter(copy.fds)
    for entry in copy.entries:
        target = os.path.join(dest, entry.path)
        if entry.kind == "dir":
            args += ["--perms", f"0{entry.mode:o}", "--dir", target]
        elif entry.kind == "link":
            args += ["--symlink", entry.target, target]
        else:
            args += ["--perms", f"0{entry.mode:o}", "--file", str(next(files)), target]
    return args, copy.fds, copy.left_out


def warn_left_out(left_out):
    for line in left_out:
        print(f"SANDBOX WARNING: not copied into the kernel's folder: {line}",
              file=sys.stderr, flush=True)


def _unsafe_cwd(cwd, private_dirs):
    """Why ``cwd`` must not be lent read-write to student code, or None."""
    if cwd == "/":
        return "it is /"
    guarded = [layout.REPO_ROOT, layout.RUNTIME_DIR, *private_dirs, "/usr", "/etc", "/bin", "/lib", "/proc",
               "/dev", "/sys", "/boot", "/var", "/run", "/home", "/root", "/tmp"]
    try:
        guarded.append(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        pass
    if os.environ.get("HOME"):
        guarded.append(os.environ["HOME"])
    for folder in guarded:
        if folder and folder != "/" and layout.is_within(folder, cwd):
            return f"it is or contains {folder}"
    for folder in ("/usr", "/etc", "/proc", "/sys", "/dev", "/boot"):
        if layout.is_within(cwd, folder):
            return f"it is inside {folder}"
    return None


def unsafe_kernel_folder(connection_file, prefix, cwd):
    """Why the kernel must not work in (a copy of) the folder ``cwd``, or None."""
    private = [os.path.dirname(connection_file)] + ([os.path.dirname(prefix)] if prefix else [])
    reason = _unsafe_cwd(cwd, [dest for _, dest in layout.python_binds()] + private)
    return reason and f"the kernel's working folder {cwd} would be open to student code, and {reason}"


def lock_folder(fd, timeout_s=30.0):
    """One kernel per working folder: wait for an earlier kernel's janitor to finish."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
        if time.monotonic() > deadline:
            raise SystemExit("SANDBOX ERROR: another sandboxed kernel still uses this folder")
        time.sleep(0.05)


def lchown_tree(top, uid, gid, strip_setid=False):
    """chown ``top`` and everything below it, never following a symbolic link; optionally
    clear set-user-id and set-group-id bits (a file the kernel's uid made must not become a
    set-user-id program of its new owner)."""
    os.lchown(top, uid, gid)
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            try:
                os.lchown(path, uid, gid)
                if strip_setid:
                    st = os.lstat(path)
                    if stat.S_ISREG(st.st_mode) and st.st_mode & 0o6000:
                        os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o6000)
            except FileNotFoundError:
                pass
