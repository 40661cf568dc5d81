"""Kernel launcher of the ``course-sandbox`` kernelspec: runs ipykernel in a sandbox.

    start.py -f CONNECTION_FILE [ipykernel arguments...]
    start.py --pool FOLDER      (a kernel pool's sandbox: see pool.py and README.md)

(``start.py``, next to this file, runs ``main``.)

Standard library only: it runs with the course environment's interpreter, before anything else.
The kernel's working folder is the launcher's working directory (the notebook's folder).
README.md (next to this file) explains the design; ``protections()`` reports what this machine
provides. Layers, outermost first:

1. As root: a per-kernel unprivileged uid/gid from a range (``COURSE_SANDBOX_UIDS``, default
   61000-61063), chosen under a lock so that concurrent kernels never share one, entered with
   ``setpriv --no-new-privs``. Root first makes a private mount namespace in which every folder
   the kernel needs but the uid could not reach (the Python under ``/root``, which is 0700) is
   re-bound below a tmpfs, where any uid can reach it.
2. Resource limits (setrlimit before exec, inherited): address space, CPU seconds, file size,
   open files, no core dumps; the process count inside the user namespace, where it counts only
   the sandbox's processes (and per uid as well when the uid is dropped). The launcher watches
   the memory of all the sandbox's processes together and kills the sandbox above a total.
3. bubblewrap: new user, pid, ipc, net, uts (and cgroup where possible) namespaces, no nested
   user namespaces, a read-only root made of /usr, a minimal /etc, the Python installation, the
   environment (venv) and ``autograders/runtime``; size-limited tmpfs /tmp and /dev/shm; the
   working folder as a private size-limited copy (default) or bound read-write; nothing else.
4. A cleared environment.

The kernel talks to its client over ZMQ IPC sockets (its network namespace has no route to the
client). The launcher copies the connection file into a private per-kernel folder (the "kernel
folder", /run/kernel inside the sandbox), points its ``ip`` there, and puts symbolic links where
the client connects (``<ip>-<port>``) to the sockets the kernel creates there. Other files of
the client's runtime folder (other kernels' connection files) are never visible to the kernel.

A janitor process (forked, in its own session) removes the kernel folder and the links (and in
mode ``bind`` gives the working folder back to its owner) when the launcher ends, even when the
client kills the launcher's process group with SIGKILL.

With ``COURSE_SANDBOX_POOL=FOLDER`` in its environment (a grading worker's ``KernelPool``),
the launcher has the pool's zygote fork the kernel instead, inside the pool's sandbox (which has
all the layers above), and stands for it until it ends; when the pool cannot, it starts a
sandbox of the kernel's own as usual.

If bubblewrap cannot run, the kernel still starts with the limits that remain and one
``SANDBOX WARNING:`` line per missing protection goes to stderr, unless
``COURSE_SANDBOX_REQUIRE=1``, which makes the launcher refuse to start instead (exit 3).
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import pwd
import resource
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

try:
    from . import memory, watch
except ImportError:  # run as the launcher script (start.py), whose folder is sys.path[0]
    import memory
    import watch

# --------------------------------------------------------------------------------------------
# Where things are: derived at run time (CI runs from a fresh clone in another folder)

HERE = os.path.dirname(os.path.realpath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))  # <repo>/autograders/sandbox/launch.py
RUNTIME_DIR = os.path.join(REPO_ROOT, "autograders", "runtime")

KERNEL_DIR_INSIDE = "/run/kernel"  # the kernel folder, as the kernel sees it
# The kernel pool (grading): the folder its owner names in COURSE_SANDBOX_POOL holds the zygote's
# socket and the kernel folder; kernels work in a folder of the pool's sandbox.
POOL_ENV = "COURSE_SANDBOX_POOL"
POOL_SOCKET = "zygote.sock"
POOL_KERNEL_DIR = "kernel"
POOL_WORKDIR_INSIDE = "/run/submission"
POOL_TIMEOUT_S = 30.0  # for the zygote to finish clearing up after the previous kernel
FDS_PER_MESSAGE = 200  # Linux passes at most 253 per message; the zygote takes that many
# Every grading kernel's options, however it starts: no history file, and the kernel and streams
# that skip the work grading never uses (autograders/runtime/course_kernel.py)
KERNEL_OPTIONS = ("--HistoryManager.hist_file=:memory:",
                  "--IPKernelApp.kernel_class=course_kernel.GradingKernel",
                  "--IPKernelApp.outstream_class=course_kernel.GradingOutStream")
UID_RANGE_DEFAULT = (61000, 61063)
# The OOM killer's preference for a sandbox's processes (-1000 never, 1000 first): student code
# goes before anything else on the machine; a pooled kernel raises its own to 1000, so that it
# goes before its zygote.
SANDBOX_OOM_SCORE_ADJ = 500
PROBE_UID = 65534  # the unprivileged uid the probe uses; never one of the range
LOCK_DIR_CANDIDATES = ("/run/course-sandbox",
                       os.path.join(tempfile.gettempdir(), "course-sandbox-locks"))
MiB = 1024 * 1024


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"SANDBOX ERROR: {name}={value!r} is not an integer") from None


def limits():
    """The resource limits: defaults, or the ``COURSE_SANDBOX_*`` environment variables."""
    return {
        # Measured: ipykernel + torch + matplotlib, an MNIST-sized MLP epoch and a CNN with two
        # DataLoader workers peak at 1.2 GiB of address space (with MALLOC_ARENA_MAX=2); the
        # kernel works with 1.8 GiB. 3 GiB leaves room for a data set; 50 GB fails at once.
        "address_space": _env_int("COURSE_SANDBOX_MEMORY_MB", 3072) * MiB,
        "cpu_seconds": _env_int("COURSE_SANDBOX_CPU_SECONDS", 600),
        # processes and threads of the sandbox (the kernel with torch uses about 11)
        "processes": _env_int("COURSE_SANDBOX_NPROC", 128),
        "file_size": _env_int("COURSE_SANDBOX_FILE_SIZE_MB", 64) * MiB,
        "open_files": _env_int("COURSE_SANDBOX_NOFILE", 1024),
        "tmp_size": _env_int("COURSE_SANDBOX_TMP_MB", 256) * MiB,  # /tmp and /dev/shm, each
        # the private copy of the working folder (mode "copy"): its tmpfs, and how many
        # entries of the folder are copied into it
        "workdir_size": _env_int("COURSE_SANDBOX_WORKDIR_MB", 512) * MiB,
        "workdir_entries": _env_int("COURSE_SANDBOX_WORKDIR_ENTRIES", 400),
        # What the kernel process may write to the client's stderr. The kernel's own output
        # goes to the notebook; this is for crash messages, and a flood is cut off.
        "stderr_bytes": _env_int("COURSE_SANDBOX_STDERR_KB", 256) * 1024,
        # The address-space limit is per process; the launcher also watches the memory of all
        # of the sandbox's processes together (proportional set size, 4 times a second) and
        # kills the sandbox when two measurements in a row are above this. 0: no watch.
        "total_memory": _env_int("COURSE_SANDBOX_TOTAL_MEMORY_MB", 4096) * MiB,
    }


# --------------------------------------------------------------------------------------------
# What this machine can do


def _bwrap_path():
    override = os.environ.get("COURSE_SANDBOX_BWRAP")  # the tests simulate a missing bwrap
    if override is not None:
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    for candidate in ("/usr/bin/bwrap", "/bin/bwrap"):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("bwrap")


def _tool(name):
    for candidate in (f"/usr/bin/{name}", f"/bin/{name}", f"/usr/sbin/{name}"):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


def _uid_range():
    spec = os.environ.get("COURSE_SANDBOX_UIDS")
    if not spec:
        return UID_RANGE_DEFAULT
    try:
        lo, hi = (int(part) for part in spec.split("-", 1))
    except ValueError:
        raise SystemExit(f"SANDBOX ERROR: COURSE_SANDBOX_UIDS={spec!r} is not LO-HI") from None
    if not 1000 <= lo <= hi < 2**31 - 1:
        raise SystemExit(f"SANDBOX ERROR: COURSE_SANDBOX_UIDS={spec!r} is out of range")
    return lo, hi


def _user_namespaces_enabled():
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            if int(f.read().strip()) == 0:
                return False
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/sys/kernel/unprivileged_userns_clone") as f:  # some Debian kernels
            if f.read().strip() == "0":
                return False
    except OSError:
        pass
    return True


_NAMESPACE_ARGS = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net",
                   "--unshare-uts", "--unshare-cgroup-try"]
_PROBE_CACHE = {}
_FEATURES_CACHE = {}


def _bwrap_features(bwrap):
    """The options of this bwrap that not every version has: ``--size`` (tmpfs size limits,
    0.8), ``--disable-userns`` (no user namespaces inside, 0.8) and ``--seccomp`` (a system-call
    filter)."""
    if bwrap not in _FEATURES_CACHE:
        try:
            text = subprocess.run([bwrap, "--help"], capture_output=True, text=True,
                                  timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            text = ""
        _FEATURES_CACHE[bwrap] = {opt for opt in ("--size", "--disable-userns", "--seccomp") if opt in text}
    return _FEATURES_CACHE[bwrap]


def _namespace_args(bwrap):
    extra = ["--disable-userns"] if "--disable-userns" in _bwrap_features(bwrap) else []
    return _NAMESPACE_ARGS + extra


def _probe_bwrap(bwrap, drop_uid, setpriv):
    """Run ``bwrap <the kernel's namespaces> true`` as the kernel's uid would. (ok, message)"""
    key = (bwrap, drop_uid)
    if key in _PROBE_CACHE:
        return _PROBE_CACHE[key]
    argv = [bwrap, *_namespace_args(bwrap), "--die-with-parent", "--ro-bind", "/usr", "/usr",
            *_root_links(), "--proc", "/proc", "--dev", "/dev", "--", "true"]
    preexec = None
    if drop_uid is not None:
        argv = [setpriv, f"--reuid={drop_uid}", f"--regid={drop_uid}", "--clear-groups",
                "--no-new-privs", "--", *argv]

        def preexec():
            _make_reachable([])  # the private mount namespace step of a real launch
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=30, preexec_fn=preexec,
                              env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.SubprocessError) as exc:
        result = (False, f"{type(exc).__name__}: {exc}")
    else:
        message = proc.stderr.decode(errors="replace").strip()
        result = (True, "ok") if proc.returncode == 0 else (False, message or f"exit {proc.returncode}")
    _PROBE_CACHE[key] = result
    return result


def protections():
    """The protection layers a kernel started now on this machine gets.

    Values are True/False, or a str: a tool's path, or why a layer is missing.
    ``bwrap`` (path or False), ``user_namespaces``, ``bwrap_usable`` (True or the reason it is
    not), ``root``, ``per_kernel_uid`` (True, False, or a str when not root: not applicable),
    ``setpriv``, ``filesystem_isolation``, ``network_isolation``, ``pid_isolation``,
    ``resource_limits``, ``nproc_limit`` (False or how processes are counted), ``prlimit``, and
    ``missing``: the names of the missing layers, comma-separated ("" when none).
    The launcher decides with this same function, so this is exactly what a kernel gets.
    """
    root = os.geteuid() == 0
    bwrap = _bwrap_path()
    setpriv = _tool("setpriv")
    per_uid = bool(root and setpriv)
    if bwrap is None:
        usable = "bwrap not found (install the Debian package bubblewrap)"
    else:
        ok, why = _probe_bwrap(bwrap, PROBE_UID if per_uid else None, setpriv)
        usable = True if ok else f"bwrap cannot create its namespaces here: {why}"
    sandbox = usable is True
    if sandbox:
        nproc = "per sandbox and per uid" if per_uid else "per sandbox (user namespace)"
    else:
        nproc = "per uid" if per_uid else False
    info = {
        "bwrap": bwrap or False,
        "user_namespaces": _user_namespaces_enabled(),
        "bwrap_usable": usable,
        "root": root,
        "per_kernel_uid": per_uid if root else "not root: the kernel runs as the calling user",
        "setpriv": setpriv or False,
        "filesystem_isolation": sandbox,
        "network_isolation": sandbox,
        "pid_isolation": sandbox,
        "resource_limits": True,
        "nproc_limit": nproc,
        "prlimit": _tool("prlimit") or False,
        "tmpfs_size_limits": sandbox and "--size" in _bwrap_features(bwrap),
        "no_nested_user_namespaces": sandbox and "--disable-userns" in _bwrap_features(bwrap),
        "syscall_filter": sandbox and "--seccomp" in _bwrap_features(bwrap) and memory.seccomp_program() is not None,
    }
    info.update(_memory_protection(info["syscall_filter"]))
    missing = [name for name in ("filesystem_isolation", "network_isolation", "pid_isolation",
                                 "tmpfs_size_limits", "no_nested_user_namespaces")
               if not info[name]]
    if root and not per_uid:
        missing.append("per_kernel_uid")
    if not nproc:
        missing.append("nproc_limit")
    if sandbox and not info["syscall_filter"]:
        missing.append("syscall_filter")
    if not info["memory_cgroup"]:
        missing.append("memory_cgroup")
    info["missing"] = ",".join(missing)
    return info


def _memory_protection(syscall_filter):
    """What bounds all the memory a sandbox holds (``memory.py``): ``memory_cgroup`` (v1, v2 or
    False), ``memory_protection`` (which layer, in words), ``memory_refused`` (why a sandbox is
    refused: the configuration asks for a cgroup that the machine does not lend; else False)."""
    mode = memory.protection_mode()
    kind = memory.cgroup_kind() if mode != "watch" else None
    if kind:
        words = f"a memory cgroup ({kind}) per sandbox: every page it holds counts, mapped or not"
    else:
        words = ("the watch: the processes' set sizes, what the tmpfs mounts hold and the most their pipes "
                 "and sockets can buffer, sampled 4 times a second"
                 + ("; System V IPC and anonymous files refused" if syscall_filter else ""))
    refused = (mode == "cgroup" and not kind
               and "COURSE_SANDBOX_MEMORY_PROTECTION=cgroup, but this machine lends this user no memory cgroup "
                   f"(cgroup v1's memory controller, or a cgroup v2 folder in {memory.CGROUP_ENV})")
    return {"memory_cgroup": kind or False, "memory_protection": words, "memory_refused": refused or False}


def warnings_for(info):
    """One ``SANDBOX WARNING:`` line per missing protection of ``protections()``."""
    why = info["bwrap_usable"]
    lines = []
    if why is not True:
        lines += [
            f"SANDBOX WARNING: no network isolation: {why}",
            f"SANDBOX WARNING: no filesystem isolation (the kernel reads what its uid can): {why}",
            f"SANDBOX WARNING: no process isolation (no pid namespace): {why}",
        ]
    if info["root"] and info["per_kernel_uid"] is not True:
        lines.append("SANDBOX WARNING: no per-kernel uid: setpriv (util-linux) not found, "
                     "the kernel runs as root")
    if why is True and not info["tmpfs_size_limits"]:
        lines.append("SANDBOX WARNING: no size limit on the kernel's tmpfs (/tmp, /dev/shm, the "
                     "copy of its folder): this bwrap has no --size (bubblewrap >= 0.8 has)")
    if why is True and not info["no_nested_user_namespaces"]:
        lines.append("SANDBOX WARNING: the kernel may create user namespaces: this bwrap has "
                     "no --disable-userns (bubblewrap >= 0.8 has)")
    if not info["nproc_limit"]:
        lines.append("SANDBOX WARNING: no process-count limit: without a user namespace or a "
                     "per-kernel uid it would count all of this user's processes")
    if why is True and not info["syscall_filter"]:
        lines.append("SANDBOX WARNING: no system-call filter (this bwrap has no --seccomp, or this "
                     "processor is not x86-64 or arm64): System V shared memory and anonymous files are allowed")
    if info["memory_refused"]:
        lines.append(f"SANDBOX ERROR: {info['memory_refused']}")
    elif not info["memory_cgroup"]:
        lines.append(f"SANDBOX WARNING: no memory cgroup; the memory bound is {info['memory_protection']}")
    return lines


# --------------------------------------------------------------------------------------------
# Mounts (as root, in the forked child, before it drops its uid)

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18


def _root_links():
    """/bin, /lib, ... as on the host: symbolic links into /usr, or read-only binds."""
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


def _make_reachable(paths):
    """In a forked child, as root: enter a private mount namespace in which every folder of
    ``paths`` can be reached by any uid. A folder above one of them that strangers cannot
    search (``/root``, 0700) gets a tmpfs over it holding a bind of just that path."""
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


# --------------------------------------------------------------------------------------------
# Helpers


def _debug(message):
    if os.environ.get("COURSE_SANDBOX_DEBUG") == "1":
        print(f"SANDBOX DEBUG {time.monotonic():.3f} [{os.getpid()}] {message}",
              file=sys.stderr, flush=True)


def _is_within(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _lchown_tree(top, uid, gid, strip_setid=False):
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


def _processes_of(uid):
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


def _acquire_uid(deadline_s=60.0):
    """A free uid of the range, locked for the kernel's life. Returns (uid, lock fd)."""
    lo, hi = _uid_range()
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
            if _processes_of(uid):  # something still runs as it: not ours to lend
                os.close(fd)
                continue
            return uid, fd
        if time.monotonic() > deadline:
            raise SystemExit(f"SANDBOX ERROR: all sandbox uids {lo}-{hi} are in use")
        time.sleep(0.2)


def _lock_folder(fd, timeout_s=30.0):
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


def parse_args(argv):
    """The connection file and the other ipykernel arguments of ``start.py``'s command line."""
    connection_file, extra = None, []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-f", "--f") and i + 1 < len(argv):
            connection_file = argv[i + 1]
            i += 2
            continue
        if arg.startswith(("-f=", "--f=")):
            connection_file = arg.split("=", 1)[1]
        elif arg.startswith(("--HistoryManager.hist_file", "--IPKernelApp.connection_file",
                             "--IPKernelApp.kernel_class", "--IPKernelApp.outstream_class")):
            pass  # decided here
        else:
            extra.append(arg)
        i += 1
    if not connection_file:
        raise SystemExit("usage: start.py -f CONNECTION_FILE [ipykernel arguments...]")
    return os.path.abspath(connection_file), extra


def _socket_prefix(conn, client_pid):
    """Where the client connects: ``<ip>-<port>``. A relative ip is relative to the client's
    working directory (jupyter_client's default ``kernel-ipc`` when its connection file was
    not chosen before its ip; configure an absolute ``KernelManager.ip`` instead)."""
    ip = conn.get("ip") or "kernel-ipc"
    if os.path.isabs(ip):
        return ip
    try:
        client_cwd = os.readlink(f"/proc/{client_pid}/cwd")
    except OSError:
        client_cwd = os.getcwd()
    return os.path.join(client_cwd, ip)


def _unsafe_cwd(cwd, private_dirs):
    """Why ``cwd`` must not be lent read-write to student code, or None."""
    if cwd == "/":
        return "it is /"
    guarded = [REPO_ROOT, RUNTIME_DIR, *private_dirs, "/usr", "/etc", "/bin", "/lib", "/proc",
               "/dev", "/sys", "/boot", "/var", "/run", "/home", "/root", "/tmp"]
    try:
        guarded.append(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        pass
    if os.environ.get("HOME"):
        guarded.append(os.environ["HOME"])
    for folder in guarded:
        if folder and folder != "/" and _is_within(folder, cwd):
            return f"it is or contains {folder}"
    for folder in ("/usr", "/etc", "/proc", "/sys", "/dev", "/boot"):
        if _is_within(cwd, folder):
            return f"it is inside {folder}"
    return None


def _unsafe_kernel_folder(connection_file, prefix, cwd):
    """Why the kernel must not work in (a copy of) the folder ``cwd``, or None."""
    private = [os.path.dirname(connection_file)] + ([os.path.dirname(prefix)] if prefix else [])
    reason = _unsafe_cwd(cwd, [dest for _, dest in _python_binds()] + private)
    return reason and f"the kernel's working folder {cwd} would be open to student code, and {reason}"


def _python_binds():
    """(source, destination) of the folders the interpreter needs: the environment (a venv or
    a conda environment) and the installation it was made from, at the paths it knows them by."""
    names = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    exe_dir = os.path.dirname(os.path.realpath(sys.executable))
    names.add(os.path.dirname(exe_dir) if os.path.basename(exe_dir) == "bin" else exe_dir)
    binds = set()
    for name in names:
        real = os.path.realpath(name)
        binds.add((real, real))
        if os.path.abspath(name) != real:
            binds.add((real, os.path.abspath(name)))
    chosen = []
    for src, dest in sorted(binds, key=lambda b: (len(b[1]), b)):
        if _is_within(dest, "/usr"):
            continue
        if any(src == dest and s == d and _is_within(dest, d) for s, d in chosen):
            continue  # already visible through a bind of a folder above it
        chosen.append((src, dest))
    return chosen


def workdir_mode():
    """How the kernel gets its working folder: ``copy`` (default) or ``bind``.

    ``copy``: a private, size-limited tmpfs at the folder's path, filled with a copy of the
    folder when the kernel starts; what the kernel writes there is discarded when it ends. The
    folder itself is never written (grading the same submission twice starts from the same
    files), the disk cannot be filled, and nothing the kernel creates (a symbolic link to a
    root-only file, say) is left for later root processes to trip over.
    ``bind``: the folder itself, read-write (as root it is lent to the kernel's uid and given
    back afterwards). Writes persist, bounded per file by the file-size limit only.
    Without bubblewrap the kernel always works in the folder itself.
    """
    mode = os.environ.get("COURSE_SANDBOX_WORKDIR", "copy")
    if mode not in ("copy", "bind"):
        raise SystemExit(f"SANDBOX ERROR: COURSE_SANDBOX_WORKDIR={mode!r}: use copy or bind")
    return mode


def _folder_entries(folder, budget, max_entries):
    """What a private copy of ``folder`` holds: its folders, files and symbolic links, with
    their permission bits (the kernel may write its copy), files opened here (so that files only
    the launcher can read are copied too). Files that would take the copy past ``budget`` bytes
    or ``max_entries`` entries are left out. Returns (entries, fds, left_out): an entry is a dict
    with ``path`` (relative), ``kind`` (dir, file or link), ``mode`` or ``target``; the fds are
    those of the files, in the order of their entries."""
    entries, fds, left_out = [], [], []
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
            if len(entries) >= max_entries:
                left_out.append(f"{path} (more than {max_entries} entries)")
                if stat.S_ISDIR(st.st_mode):
                    dirnames.remove(name)
                continue
            if stat.S_ISDIR(st.st_mode):
                entries.append({"path": relative, "kind": "dir",
                                "mode": stat.S_IMODE(st.st_mode) & 0o777 | 0o700})
            elif stat.S_ISLNK(st.st_mode):
                entries.append({"path": relative, "kind": "link", "target": os.readlink(path)})
            elif stat.S_ISREG(st.st_mode):
                size = st.st_size + 4096
                if used + size > budget:
                    left_out.append(f"{path} ({st.st_size} bytes: over the {budget} bytes of the copy)")
                    continue
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                except OSError as exc:
                    left_out.append(f"{path} ({exc.strerror})")
                    continue
                used += size
                fds.append(fd)
                entries.append({"path": relative, "kind": "file",
                                "mode": stat.S_IMODE(st.st_mode) & 0o777 | 0o200})
            else:
                left_out.append(f"{path} (not a file, folder or link)")
    return entries, fds, left_out


def _copy_args(folder, budget, max_entries, dest=None):
    """bwrap arguments that recreate ``folder`` at ``dest`` in the sandbox (``_folder_entries``).
    Returns (args, fds, left_out)."""
    dest = dest or folder
    entries, fds, left_out = _folder_entries(folder, budget, max_entries)
    args, files = [], iter(fds)
    for entry in entries:
        target = os.path.join(dest, entry["path"])
        if entry["kind"] == "dir":
            args += ["--perms", f"0{entry['mode']:o}", "--dir", target]
        elif entry["kind"] == "link":
            args += ["--symlink", entry["target"], target]
        else:
            args += ["--perms", f"0{entry['mode']:o}", "--file", str(next(files)), target]
    return args, fds, left_out


def _etc_args(uid, gid):
    """A minimal /etc: what the dynamic linker, locales, fonts and getpwuid need."""
    args = []
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf",
                 "alternatives", "fonts", "mime.types", "hosts", "host.conf", "protocols",
                 "services"):
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            args += ["--ro-bind", os.path.realpath(path), path]
    passwd = ("root:x:0:0:root:/root:/usr/sbin/nologin\n"
              f"student:x:{uid}:{gid}:sandboxed kernel:/tmp:/usr/sbin/nologin\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    group = f"root:x:0:\nstudent:x:{gid}:\nnogroup:x:65534:\n"
    fds = []
    for content, dest in ((passwd, "/etc/passwd"), (group, "/etc/group")):
        read_fd, write_fd = os.pipe()
        os.write(write_fd, content.encode())
        os.close(write_fd)
        fds.append(read_fd)
        args += ["--perms", "0644", "--ro-bind-data", str(read_fd), dest]
    return args, fds


def kernel_environment(environ=os.environ):
    """The kernel's whole environment (everything else of ``environ``, the launcher's, is cleared)."""
    env = {
        "PATH": f"{os.path.dirname(os.path.abspath(sys.executable))}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "PYTHONPATH": RUNTIME_DIR,
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        # glibc reserves 64 MiB of address space per malloc arena, up to 8 per core: on a
        # many-core machine that alone could reach the address-space limit
        "MALLOC_ARENA_MAX": "2",
        "LANG": "C.UTF-8",
        "COURSE_PROBE_MODE": "grade",
        # the debugger's notice about frozen modules, printed by every kernel (no debugger here)
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    if environ.get("COURSE_PROBE_SEED"):
        env["COURSE_PROBE_SEED"] = environ["COURSE_PROBE_SEED"]
    return env


def _set_limits(lim, with_nproc):
    def both(kind, value):
        resource.setrlimit(kind, (value, value))

    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_seconds"], lim["cpu_seconds"] + 5))
    both(resource.RLIMIT_AS, lim["address_space"])
    both(resource.RLIMIT_FSIZE, lim["file_size"])
    both(resource.RLIMIT_NOFILE, lim["open_files"])
    both(resource.RLIMIT_CORE, 0)
    if with_nproc:
        both(resource.RLIMIT_NPROC, lim["processes"])


def _relay_stderr(stream, budget, child=None, memory_watch=None):
    """Copy the sandbox's stderr to ours up to ``budget`` bytes, then drop the rest; meanwhile
    kill the sandbox when ``memory_watch`` (``watch.MemoryWatch``) says it is over its limit."""
    out = sys.stderr.buffer
    poller = select.poll()
    poller.register(stream.fileno(), select.POLLIN | select.POLLHUP)
    watching = memory_watch is not None and memory_watch.limit > 0
    while True:
        if watching and child is not None and child.poll() is None:
            if not poller.poll(250):
                message = memory_watch.over(child.pid)
                if message:
                    memory_watch.report(message)
                    child.kill()
                    watching = False
                continue
        try:
            chunk = os.read(stream.fileno(), 65536)
        except InterruptedError:
            continue
        if not chunk:
            break
        if budget > 0:
            piece = chunk[:budget]
            budget -= len(piece)
            try:
                out.write(piece)
                if budget <= 0:
                    out.write(b"\nSANDBOX WARNING: the kernel's stderr was cut off here\n")
                out.flush()
            except OSError:
                budget = 0
    stream.close()


# --------------------------------------------------------------------------------------------
# The janitor: undoes the launch however the launcher ends


def _janitor(pipe_r, child_pidfd, job):
    """In a forked child, in its own session: wait for EOF on ``pipe_r`` (the launcher is gone),
    then for the sandbox to be gone, then undo the launch's changes."""
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
        uid = job.get("uid")
        if uid is not None:  # the pid namespace dies with bwrap; give its processes a moment
            deadline = time.monotonic() + 5
            while _processes_of(uid) and time.monotonic() < deadline:
                time.sleep(0.02)
        _debug("janitor: the sandbox is gone")
        _cleanup(job)
    finally:
        os._exit(0)


def _cleanup(job):
    for link, target in job.get("links", []):
        try:
            if os.readlink(link) == target:
                os.unlink(link)
        except OSError:
            pass
    if job.get("kernel_dir"):
        shutil.rmtree(job["kernel_dir"], ignore_errors=True)
    if job.get("cgroup"):
        memory.MemoryCgroup(*job["cgroup"]).remove()
    if job.get("restore_owner"):
        cwd, uid, gid = job["restore_owner"]
        try:
            _lchown_tree(cwd, uid, gid, strip_setid=True)
        except OSError as exc:
            print(f"SANDBOX WARNING: could not give {cwd} back to uid {uid}: {exc}",
                  file=sys.stderr)


# --------------------------------------------------------------------------------------------
# The launch


def _refuse(message, code=2):
    print(f"SANDBOX ERROR: {message}", file=sys.stderr, flush=True)
    return code


def _end_with_parent() -> None:
    """Stop as on SIGTERM once the process that started this launcher is gone: a grading
    worker killed in mid-task must not leave its pool or its kernel's sandbox running."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts travel as messages
    _end_with_parent()
    if argv[:1] == ["--pool"]:
        if len(argv) != 2:
            raise SystemExit("usage: start.py --pool FOLDER")
        return _launch(pool_dir=os.path.abspath(argv[1]))
    connection_file, extra = parse_args(argv)
    if os.environ.get(POOL_ENV):
        code = _kernel_from_pool(os.environ[POOL_ENV], connection_file, extra)
        if code is not None:
            return code
    return _launch(connection_file=connection_file, extra=extra)


def _launch(connection_file=None, extra=(), pool_dir=None):
    """Start a sandbox and wait for its end: a kernel for ``connection_file``, or, with
    ``pool_dir``, a kernel pool's zygote (``course_zygote``) serving kernels from that folder."""
    _debug("launcher start")
    info = protections()
    warnings = warnings_for(info)
    if warnings and os.environ.get("COURSE_SANDBOX_REQUIRE") == "1":
        for line in warnings:
            print(line.replace("WARNING", "ERROR", 1), file=sys.stderr)
        return _refuse("COURSE_SANDBOX_REQUIRE=1: refusing to start a kernel without them", 3)
    if info["memory_refused"]:
        return _refuse(info["memory_refused"], 3)
    for line in warnings:
        print(line, file=sys.stderr, flush=True)
    use_bwrap = info["bwrap_usable"] is True
    drop_uid = info["per_kernel_uid"] is True
    lim = limits()
    copy = use_bwrap and workdir_mode() == "copy"
    python_binds = _python_binds()

    if pool_dir is not None:
        if not copy:
            return _refuse("a kernel pool needs bubblewrap and the working folder mode copy")
        prefix = None
        cwd = POOL_WORKDIR_INSIDE  # an empty folder; each kernel gets its submission's copy
        limit_hit = os.path.join(pool_dir, memory.LIMIT_HIT)
        for stale in (limit_hit, os.path.join(pool_dir, memory.POOL_CGROUP)):  # of the pool this one replaces
            if os.path.exists(stale):
                os.unlink(stale)
    else:
        with open(connection_file) as f:
            conn = json.load(f)
        transport = conn.get("transport", "tcp")
        if use_bwrap and transport != "ipc":
            return _refuse("the sandboxed kernel has no network: its client must use ZMQ over "
                           "IPC (c.KernelManager.transport = 'ipc')")
        prefix = _socket_prefix(conn, os.getppid()) if transport == "ipc" else None
        cwd = os.getcwd()
        refusal = _unsafe_kernel_folder(connection_file, prefix, cwd)
        if refusal:
            return _refuse(refusal)
        limit_hit = os.path.join(os.path.dirname(os.path.abspath(connection_file)), memory.LIMIT_HIT)
    lend = drop_uid and not copy  # the kernel's uid writes the folder itself

    folder_fd = None
    if not copy:
        folder_fd = os.open(cwd, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        _lock_folder(folder_fd)
    uid = gid = uid_lock = None
    job = {"links": []}
    if drop_uid:
        uid, uid_lock = _acquire_uid()
        gid = uid
        job["uid"] = uid
    if lend:
        st = os.stat(cwd)
        job["restore_owner"] = (cwd, st.st_uid, st.st_gid)
    _debug(f"uid {uid}")

    # The kernel folder (/run/kernel inside): for a kernel, next to the connection file (as
    # private as the client's runtime folder), with the connection file the kernel reads and
    # the sockets it creates; for a pool, in the pool's folder, filled by each kernel in turn.
    pass_fds = []
    try:
        if pool_dir is not None:
            kernel_dir = os.path.join(pool_dir, POOL_KERNEL_DIR)
            os.mkdir(kernel_dir, 0o700)
        else:
            kernel_dir = tempfile.mkdtemp(prefix=".sandbox-", dir=os.path.dirname(connection_file))
        job["kernel_dir"] = kernel_dir
        if drop_uid:
            os.chown(kernel_dir, uid, gid)
        inside_dir = KERNEL_DIR_INSIDE if use_bwrap else kernel_dir
        if pool_dir is not None:
            listener = _pool_listener(pool_dir)
            pass_fds.append(listener.detach())
            program = [sys.executable, "-m", "course_zygote", "--listen-fd", str(pass_fds[0]),
                       "--workdir", POOL_WORKDIR_INSIDE, "--kernel-dir", KERNEL_DIR_INSIDE]
        else:
            _write_connection(conn, kernel_dir, inside_dir, prefix, uid, gid, job)
            if lend:
                _lchown_tree(cwd, uid, gid)
            program = [sys.executable, "-m", "ipykernel_launcher",
                       "-f", os.path.join(inside_dir, "connection.json"), *KERNEL_OPTIONS, *extra]
    except BaseException:
        _cleanup(job)
        raise

    cgroup = None
    if info["memory_cgroup"] and lim["total_memory"]:
        try:
            cgroup = memory.MemoryCgroup.create(lim["total_memory"])
        except OSError as exc:
            if memory.protection_mode() == "cgroup":
                _cleanup(job)
                return _refuse(f"could not make the sandbox's memory cgroup: {exc}", 3)
            print(f"SANDBOX WARNING: could not make the sandbox's memory cgroup ({exc}): the watch bounds "
                  "its memory instead", file=sys.stderr)
    if cgroup is not None:
        job["cgroup"] = (cgroup.path, cgroup.version)
        if pool_dir is not None:  # for the pool's clients, which read its OOM kills
            with open(os.path.join(pool_dir, memory.POOL_CGROUP), "w") as f:
                json.dump(job["cgroup"], f)
    memory_watch = watch.MemoryWatch(lim["total_memory"], limit_hit, cgroup,
                                     ("/tmp", "/dev/shm") + ((cwd,) if copy else ()))
    command, popen_env, fds = _sandbox_command(program, info, lim, python_binds, cwd=cwd,
                                               kernel_dir=kernel_dir, copy=copy,
                                               fill_workdir=pool_dir is None,
                                               ids=(uid, gid) if drop_uid else None)
    needed = [src for src, _ in python_binds] + [RUNTIME_DIR, kernel_dir] + ([] if copy else [cwd])
    preexec = _sandbox_preexec(lim, needed if drop_uid else None, use_bwrap, cgroup)
    returncode = _run_sandbox(command, popen_env, cwd=cwd if pool_dir is None else "/",
                              pass_fds=pass_fds + fds, preexec=preexec, job=job, lim=lim,
                              memory_watch=memory_watch)
    if uid_lock is not None:
        os.close(uid_lock)
    if folder_fd is not None:
        os.close(folder_fd)
    return _exit_code(returncode)


def _sandbox_command(program, info, lim, python_binds, *, cwd, kernel_dir, copy, fill_workdir, ids):
    """The command that runs ``program`` sandboxed: inside bubblewrap's layers when it is usable
    (with the working folder bound, or copied into a tmpfs when ``copy``, filled from ``cwd``
    when ``fill_workdir``), and under the kernel's own uid and gid (``ids``) when it has them.
    Returns the command, its environment and the file descriptors it reads."""
    env = kernel_environment()
    fds = []
    if info["bwrap_usable"] is True:
        def size(nbytes):
            return ["--size", str(nbytes)] if info["tmpfs_size_limits"] else []

        etc_args, fds = _etc_args(*(ids or (os.getuid(), os.getgid())))
        binds = [("--ro-bind", src, dest) for src, dest in python_binds]
        if os.path.isdir(RUNTIME_DIR):
            binds.append(("--ro-bind", RUNTIME_DIR, RUNTIME_DIR))
        if not copy:
            binds.append(("--bind", cwd, cwd))
        binds.append(("--bind", kernel_dir, KERNEL_DIR_INSIDE))
        bind_args = [a for kind, src, dest in binds for a in (kind, os.path.realpath(src), dest)]
        if copy:
            copy_args = []
            if fill_workdir:
                copy_args, copy_fds, left_out = _copy_args(cwd, lim["workdir_size"] // 2,
                                                           lim["workdir_entries"])
                fds += copy_fds
                _warn_left_out(left_out)
            bind_args += ["--perms", "0755", *size(lim["workdir_size"]), "--tmpfs", cwd,
                          *copy_args]
        n = lim["processes"]
        prlimit = _tool("prlimit")
        nproc_inside = (
            [prlimit, f"--nproc={n}:{n}", "--"] if prlimit else
            [sys.executable, "-I", "-S", "-c",
             "import os,resource,sys;n=int(sys.argv[1]);resource.setrlimit("
             "resource.RLIMIT_NPROC,(n,n));os.execv(sys.argv[2],sys.argv[2:])", str(n)])
        cmd = [info["bwrap"], *_namespace_args(info["bwrap"]), "--die-with-parent", "--new-session",
               "--hostname", "sandbox",
               "--ro-bind", "/usr", "/usr", *_root_links(), *etc_args,
               "--proc", "/proc", "--dev", "/dev",
               *size(lim["tmp_size"]), "--tmpfs", "/dev/shm",
               *size(lim["tmp_size"]), "--tmpfs", "/tmp",
               *bind_args,
               "--remount-ro", "/dev", "--remount-ro", "/",
               "--chdir", cwd, "--clearenv"]
        for key, value in env.items():
            cmd += ["--setenv", key, value]
        if info["syscall_filter"]:
            read_fd, write_fd = os.pipe()  # the filter is a few hundred bytes: the pipe holds it
            os.write(write_fd, memory.seccomp_program())
            os.close(write_fd)
            fds.append(read_fd)
            cmd += ["--seccomp", str(read_fd)]
        cmd += ["--", *nproc_inside, *program]
        popen_env = {"PATH": "/usr/bin:/bin"}
    else:
        cmd = program
        popen_env = env
    if ids is not None:
        cmd = [info["setpriv"], f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups",
               "--inh-caps=-all", "--no-new-privs", "--", *cmd]
    return cmd, popen_env, fds


def _sandbox_preexec(lim, reachable, use_bwrap, cgroup=None):
    """What the sandbox's first process does before it becomes the command: enter its memory
    ``cgroup``, its limits, and, when the kernel has a uid of its own, the ``reachable`` paths
    opened to that uid. The sandbox's processes are the first the OOM killer ends."""
    def preexec():
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            if cgroup is not None:
                cgroup.enter()
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write(str(SANDBOX_OOM_SCORE_ADJ))
            if reachable is not None:
                try:
                    _make_reachable(reachable)
                except OSError as exc:
                    if use_bwrap:
                        raise
                    os.write(2, f"SANDBOX WARNING: {exc}\n".encode())
            # the process count: per uid when it has its own; inside the user namespace
            # (nproc_inside) otherwise, where it counts only the sandbox's processes
            _set_limits(lim, with_nproc=reachable is not None)
        except BaseException as exc:
            os.write(2, f"SANDBOX ERROR: preparing the sandbox failed: {exc}\n".encode())
            raise

    return preexec


def _run_sandbox(command, env, *, cwd, pass_fds, preexec, job, lim, memory_watch):
    """Start the sandbox and wait for its end, relaying its stderr within limits and watching its
    memory (``memory_watch``); a janitor process clears ``job`` up however this process ends.
    The exit status."""
    try:
        child = subprocess.Popen(command, cwd=cwd, env=env, close_fds=True, pass_fds=pass_fds,
                                 preexec_fn=preexec, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
    except BaseException:
        _cleanup(job)
        raise
    finally:
        for fd in pass_fds:
            os.close(fd)  # the listener too: when the zygote is gone, connecting fails at once
    _debug(f"sandbox started: pid {child.pid}")
    try:
        child_pidfd = os.pidfd_open(child.pid)
    except (AttributeError, OSError):
        child_pidfd = None

    pipe_r, pipe_w = os.pipe()
    janitor = os.fork()
    if janitor == 0:
        os.close(pipe_w)
        _janitor(pipe_r, child_pidfd, job)  # never returns
    os.close(pipe_r)

    def stop(signum, frame):
        try:
            child.kill()
        except OSError:
            pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    _relay_stderr(child.stderr, lim["stderr_bytes"], child, memory_watch)
    returncode = child.wait()
    _debug(f"sandbox exited: {returncode}")
    memory_watch.after_exit()
    os.close(pipe_w)  # the janitor cleans up now
    try:
        os.waitpid(janitor, 0)
    except ChildProcessError:
        pass
    _debug("cleaned up")
    return returncode


def _exit_code(returncode):
    return returncode if returncode >= 0 else 128 - returncode


def _warn_left_out(left_out):
    for line in left_out:
        print(f"SANDBOX WARNING: not copied into the kernel's folder: {line}",
              file=sys.stderr, flush=True)


def _write_connection(conn, kernel_dir, inside_dir, prefix, uid, gid, job):
    """The kernel's connection file in its kernel folder, and the links from where the client
    connects (``<prefix>-<port>``) to the sockets the kernel will create there."""
    inner_conn = dict(conn)
    if prefix is not None:
        inner_conn["ip"] = os.path.join(inside_dir, "ipc")
    inner_file = os.path.join(kernel_dir, "connection.json")
    fd = os.open(inner_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(inner_conn, f)
    if uid is not None:
        os.chown(inner_file, uid, gid)
    if prefix is not None:
        _link_sockets(conn, prefix, kernel_dir, job)


def _link_sockets(conn, prefix, kernel_dir, job):
    for key in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"):
        port = conn.get(key)
        if not port:
            continue
        link = f"{prefix}-{port}"
        target = os.path.join(kernel_dir, f"ipc-{port}")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
        job["links"].append((link, target))


# --------------------------------------------------------------------------------------------
# The kernel pool (grading): one sandbox whose zygote forks a fresh kernel per submission


def _pool_listener(pool_dir):
    """The zygote's listening socket, bound in the pool's folder (outside the sandbox, where
    only its owner reaches it)."""
    path = os.path.join(pool_dir, POOL_SOCKET)
    if os.path.lexists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(8)
    return listener


def pool_request(pool_dir, message, fds=(), timeout=POOL_TIMEOUT_S):
    """Connect to the pool's zygote and send one request; the connected socket, or None when
    the pool cannot be reached."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(timeout)
    fds = list(fds)
    try:
        sock.connect(os.path.join(pool_dir, POOL_SOCKET))
        first, rest = fds[:FDS_PER_MESSAGE], fds[FDS_PER_MESSAGE:]
        socket.send_fds(sock, [json.dumps(message).encode()], first)
        for start in range(0, len(rest), FDS_PER_MESSAGE):
            socket.send_fds(sock, [b'{"more": true}'], rest[start:start + FDS_PER_MESSAGE])
    except OSError:
        sock.close()
        return None
    return sock


def pool_reply(sock):
    """The zygote's next answer on ``sock`` (a dict), or None (closed, timed out, garbled)."""
    try:
        return _answer(sock.recv(65536))
    except OSError:
        return None


def _answer(data):
    """A message of the zygote's, decoded (a dict), or None (the connection closed, or garbled)."""
    try:
        answer = json.loads(data) if data else None
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


class PoolKernel:
    """A kernel that the pool's zygote forked, seen as a ``subprocess.Popen`` is: it has ended
    when the zygote says so, and killing it is closing the connection to the zygote, which then
    kills the kernel and clears the sandbox for the next one. Its stderr is relayed to ours."""

    pid = None  # a pid of the pool's own pid namespace
    stdin = stdout = stderr = None

    def __init__(self, sock, job, relay, memory_watch=None):
        self.returncode = None
        self._sock, self._job, self.relay = sock, job, relay
        self._memory_watch = memory_watch

    @classmethod
    def start(cls, pool_dir, connection_file, extra, cwd, environ, client_pid):
        """Have the pool's zygote fork a kernel working in (a copy of) ``cwd``, for a client
        (``client_pid``) that connects as ``connection_file`` says. None when the pool cannot or
        must not start it: then the launcher gives it a sandbox of its own, or refuses it (a
        folder that must not be copied into a sandbox, say), saying why."""
        with open(connection_file) as f:
            conn = json.load(f)
        if conn.get("transport") != "ipc" or workdir_mode() != "copy":
            return None
        prefix = _socket_prefix(conn, client_pid)
        if _unsafe_kernel_folder(connection_file, prefix, cwd):
            return None
        lim = limits()
        entries, fds, left_out = _folder_entries(cwd, lim["workdir_size"] // 2, lim["workdir_entries"])
        read_fd, write_fd = os.pipe()
        request = {"kernel": {
            "connection": dict(conn, ip=os.path.join(KERNEL_DIR_INSIDE, "ipc")),
            "env": kernel_environment(environ),  # the zygote's, and this kernel's own seed
            "options": [*KERNEL_OPTIONS, *extra],
            "entries": entries,
        }}
        try:
            sock = pool_request(pool_dir, request, [write_fd, *fds])
        finally:
            for fd in (write_fd, *fds):
                os.close(fd)
        reply = pool_reply(sock) if sock is not None else None
        if not (reply or {}).get("started"):
            os.close(read_fd)
            if sock is not None:
                sock.close()
            _debug("the pool did not start the kernel")
            return None
        _debug("kernel forked by the pool")
        _warn_left_out(left_out)
        job = {"links": []}
        _link_sockets(conn, prefix, os.path.join(pool_dir, POOL_KERNEL_DIR), job)
        relay = threading.Thread(target=_relay_stderr, args=(os.fdopen(read_fd, "rb"), lim["stderr_bytes"]),
                                 daemon=True)
        relay.start()
        return cls(sock, job, relay, watch.PoolMemoryWatch(pool_dir, connection_file))

    def poll(self):
        try:
            return self.wait(0.0)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout=None):
        if self.returncode is None:
            self._sock.settimeout(timeout)
            try:
                data = self._sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                raise subprocess.TimeoutExpired("a kernel of the pool", timeout) from None
            except OSError:
                data = b""
            self._release((_answer(data) or {}).get("exit", -signal.SIGKILL))
        return self.returncode

    def send_signal(self, signum):
        """Any signal but an interrupt (which travels as a message) ends the kernel."""
        if signum != signal.SIGINT and self.returncode is None:
            self._release(-signum)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def _release(self, returncode):
        self.returncode = returncode
        self._sock.close()
        _cleanup(self._job)
        if self._memory_watch is not None:
            self._memory_watch.report()


def _kernel_from_pool(pool_dir, connection_file, extra):
    """Have the pool's zygote fork the kernel, and stand for it until it ends (the client
    watches and kills this process). The kernel's exit code, or None when the pool could not
    start it: then the kernel gets a sandbox of its own."""
    kernel = PoolKernel.start(pool_dir, connection_file, extra, os.getcwd(), os.environ, os.getppid())
    if kernel is None:
        return None

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        returncode = kernel.wait()
    finally:
        kernel.kill()  # when this launcher is stopped first
    kernel.relay.join(timeout=1)
    return _exit_code(returncode)
