"""What this machine can do for a sandbox: the tools, bubblewrap's options, a probe of its
namespaces, the memory bound (``memory.py``), and the report of it all that ``doctor`` prints and
the launcher decides with (standard library only).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

if __package__:
    from . import memory, mounts, settings
else:  # the launcher, run as a script (start.py): its folder is sys.path[0]
    import memory
    import mounts
    import settings

PROBE_UID = 65534  # the unprivileged uid the probe uses; never one of the range
NOT_ROOT = "not root: the kernel runs as the calling user"
_NAMESPACE_ARGS = ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-net",
                   "--unshare-uts", "--unshare-cgroup-try"]
_PROBE_CACHE = {}
_FEATURES_CACHE = {}


def bwrap_path(config: settings.Settings):
    if config.bwrap is not None:  # the tests simulate a missing bwrap
        return config.bwrap if os.path.isfile(config.bwrap) and os.access(config.bwrap, os.X_OK) else None
    for candidate in ("/usr/bin/bwrap", "/bin/bwrap"):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("bwrap")


def tool(name):
    for candidate in (f"/usr/bin/{name}", f"/bin/{name}", f"/usr/sbin/{name}"):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(name)


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


def bwrap_features(bwrap):
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


def namespace_args(bwrap):
    extra = ["--disable-userns"] if "--disable-userns" in bwrap_features(bwrap) else []
    return _NAMESPACE_ARGS + extra


def _probe_bwrap(bwrap, drop_uid, setpriv):
    """Run ``bwrap <the kernel's namespaces> true`` as the kernel's uid would. (ok, message)"""
    key = (bwrap, drop_uid)
    if key in _PROBE_CACHE:
        return _PROBE_CACHE[key]
    argv = [bwrap, *namespace_args(bwrap), "--die-with-parent", "--ro-bind", "/usr", "/usr",
            *mounts.root_links(), "--proc", "/proc", "--dev", "/dev", "--", "true"]
    preexec = None
    if drop_uid is not None:
        argv = [setpriv, f"--reuid={drop_uid}", f"--regid={drop_uid}", "--clear-groups",
                "--no-new-privs", "--", *argv]

        def preexec():
            mounts.make_reachable([])  # the private mount namespace step of a real launch
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


@dataclass(frozen=True)
class Protections:
    """The protection layers a kernel started now on this machine gets (``protections()``).
    ``report()`` is the same as ``doctor --json`` prints it, with its values as they were before
    this record: True/False, or a str (a tool's path, or why a layer is missing)."""

    bwrap: str | None  # bubblewrap's path
    user_namespaces: bool
    bwrap_problem: str | None  # why bubblewrap cannot create the kernel's namespaces; None: it can
    root: bool
    per_kernel_uid: bool  # as root, with setpriv: a uid of the range per kernel
    setpriv: str | None
    nproc_limit: str | None  # how processes are counted, or None: not at all
    prlimit: str | None
    tmpfs_size_limits: bool
    no_nested_user_namespaces: bool
    syscall_filter: bool
    memory_cgroup: str | None  # "v1" or "v2": a memory cgroup per sandbox
    memory_protection: str  # what bounds all the memory a sandbox holds, in words
    memory_refused: str | None  # why a sandbox is refused: a cgroup asked for but not lent
    missing: tuple[str, ...]  # the names of the missing layers

    @property
    def bwrap_usable(self) -> bool:
        """Filesystem, network and process isolation: bubblewrap's namespaces."""
        return self.bwrap_problem is None

    def report(self) -> dict:
        """``bwrap`` (path or False), ``user_namespaces``, ``bwrap_usable`` (True or the reason it
        is not), ``root``, ``per_kernel_uid`` (True, False, or a str when not root: not
        applicable), ``setpriv``, ``filesystem_isolation``, ``network_isolation``,
        ``pid_isolation``, ``resource_limits``, ``nproc_limit`` (False or how processes are
        counted), ``prlimit``, ..., and ``missing``: the names of the missing layers,
        comma-separated ("" when none)."""
        usable = self.bwrap_usable
        return {
            "bwrap": self.bwrap or False,
            "user_namespaces": self.user_namespaces,
            "bwrap_usable": True if usable else self.bwrap_problem,
            "root": self.root,
            "per_kernel_uid": self.per_kernel_uid if self.root else NOT_ROOT,
            "setpriv": self.setpriv or False,
            "filesystem_isolation": usable,
            "network_isolation": usable,
            "pid_isolation": usable,
            "resource_limits": True,
            "nproc_limit": self.nproc_limit or False,
            "prlimit": self.prlimit or False,
            "tmpfs_size_limits": self.tmpfs_size_limits,
            "no_nested_user_namespaces": self.no_nested_user_namespaces,
            "syscall_filter": self.syscall_filter,
            "memory_cgroup": self.memory_cgroup or False,
            "memory_protection": self.memory_protection,
            "memory_refused": self.memory_refused or False,
            "missing": ",".join(self.missing),
        }


def protections(config: settings.Settings | None = None) -> Protections:
    """The protection layers a kernel started now on this machine gets, with ``config`` (by
    default: what the environment says). The launcher decides with this same function, so this
    is exactly what a kernel gets."""
    config = config or settings.read()
    root = os.geteuid() == 0
    bwrap = bwrap_path(config)
    setpriv = tool("setpriv")
    per_uid = bool(root and setpriv)
    if bwrap is None:
        problem = "bwrap not found (install the Debian package bubblewrap)"
    else:
        ok, why = _probe_bwrap(bwrap, PROBE_UID if per_uid else None, setpriv)
        problem = None if ok else f"bwrap cannot create its namespaces here: {why}"
    sandbox = problem is None
    if sandbox:
        nproc = "per sandbox and per uid" if per_uid else "per sandbox (user namespace)"
    else:
        nproc = "per uid" if per_uid else None
    features = bwrap_features(bwrap) if sandbox else set()
    syscall_filter = "--seccomp" in features and memory.seccomp_program() is not None
    cgroup, words, refused = _memory_protection(config, syscall_filter)
    missing = [] if sandbox else ["filesystem_isolation", "network_isolation", "pid_isolation"]
    missing += [name for name, there in (("tmpfs_size_limits", "--size" in features),
                                         ("no_nested_user_namespaces", "--disable-userns" in features)) if not there]
    if root and not per_uid:
        missing.append("per_kernel_uid")
    if not nproc:
        missing.append("nproc_limit")
    if sandbox and not syscall_filter:
        missing.append("syscall_filter")
    if not cgroup:
        missing.append("memory_cgroup")
    return Protections(
        bwrap=bwrap, user_namespaces=_user_namespaces_enabled(), bwrap_problem=problem, root=root,
        per_kernel_uid=per_uid, setpriv=setpriv, nproc_limit=nproc, prlimit=tool("prlimit"),
        tmpfs_size_limits="--size" in features, no_nested_user_namespaces="--disable-userns" in features,
        syscall_filter=syscall_filter, memory_cgroup=cgroup, memory_protection=words,
        memory_refused=refused, missing=tuple(missing))


def _memory_protection(config, syscall_filter):
    """What bounds all the memory a sandbox holds (``memory.py``): the memory cgroup's kind (v1,
    v2 or None), that layer in words, and why a sandbox is refused (the configuration asks for a
    cgroup that the machine does not lend; else None)."""
    kind = memory.cgroup_kind() if config.memory_protection != "watch" else None
    if kind:
        words = f"a memory cgroup ({kind}) per sandbox: every page it holds counts, mapped or not"
    else:
        words = ("the watch: the processes' set sizes, what the tmpfs mounts hold and the most their pipes "
                 "and sockets can buffer, sampled 4 times a second"
                 + ("; System V IPC and anonymous files refused" if syscall_filter else ""))
    refused = None
    if config.memory_protection == "cgroup" and not kind:
        refused = ("COURSE_SANDBOX_MEMORY_PROTECTION=cgroup, but this machine lends this user no memory cgroup "
                   f"(cgroup v1's memory controller, or a cgroup v2 folder in {settings.VARIABLES['cgroup']})")
    return kind, words, refused


def warnings_for(info: Protections):
    """One ``SANDBOX WARNING:`` line per missing protection of ``protections()``."""
    why = info.bwrap_problem
    lines = []
    if why is not None:
        lines += [
            f"SANDBOX WARNING: no network isolation: {why}",
            f"SANDBOX WARNING: no filesystem isolation (the kernel reads what its uid can): {why}",
            f"SANDBOX WARNING: no process isolation (no pid namespace): {why}",
        ]
    if info.root and not info.per_kernel_uid:
        lines.append("SANDBOX WARNING: no per-kernel uid: setpriv (util-linux) not found, "
                     "the kernel runs as root")
    if why is None and not info.tmpfs_size_limits:
        lines.append("SANDBOX WARNING: no size limit on the kernel's tmpfs (/tmp, /dev/shm, the "
                     "copy of its folder): this bwrap has no --size (bubblewrap >= 0.8 has)")
    if why is None and not info.no_nested_user_namespaces:
        lines.append("SANDBOX WARNING: the kernel may create user namespaces: this bwrap has "
                     "no --disable-userns (bubblewrap >= 0.8 has)")
    if not info.nproc_limit:
        lines.append("SANDBOX WARNING: no process-count limit: without a user namespace or a "
                     "per-kernel uid it would count all of this user's processes")
    if why is None and not info.syscall_filter:
        lines.append("SANDBOX WARNING: no system-call filter (this bwrap has no --seccomp, or this "
                     "processor is not x86-64 or arm64): System V shared memory and anonymous files are allowed")
    if info.memory_refused:
        lines.append(f"SANDBOX ERROR: {info.memory_refused}")
    elif not info.memory_cgroup:
        lines.append(f"SANDBOX WARNING: no memory cgroup; the memory bound is {info.memory_protection}")
    return lines
