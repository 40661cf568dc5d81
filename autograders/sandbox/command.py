"""The command that runs a program sandboxed: bubblewrap's command line (namespaces, the
read-only root, a minimal /etc, tmpfs mounts, the working folder, the system-call filter), the
kernel's environment, the uid it drops to, and the resource limits its first process sets
before it becomes the command (standard library only)."""
from __future__ import annotations

import os
import resource
import signal
import sys

if __package__:
    from . import capabilities, layout, memory, mounts, workdir
else:  # the launcher, run as a script (start.py): its folder is sys.path[0]
    import capabilities
    import layout
    import memory
    import mounts
    import workdir

# Every grading kernel's options, however it starts: no history file, and the kernel and streams
# that skip the work grading never uses (autograders/runtime/course_kernel.py)
KERNEL_OPTIONS = ("--HistoryManager.hist_file=:memory:",
                  "--IPKernelApp.kernel_class=course_kernel.GradingKernel",
                  "--IPKernelApp.outstream_class=course_kernel.GradingOutStream")
# The OOM killer's preference for a sandbox's processes (-1000 never, 1000 first): student code
# goes before anything else on the machine; a pooled kernel raises its own to 1000, so that it
# goes before its zygote.
SANDBOX_OOM_SCORE_ADJ = 500


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
        "PYTHONPATH": layout.RUNTIME_DIR,
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

    resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_seconds, lim.cpu_seconds + 5))
    both(resource.RLIMIT_AS, lim.address_space)
    both(resource.RLIMIT_FSIZE, lim.file_size)
    both(resource.RLIMIT_NOFILE, lim.open_files)
    both(resource.RLIMIT_CORE, 0)
    if with_nproc:
        both(resource.RLIMIT_NPROC, lim.processes)


def sandbox_command(program, info, lim, python_binds, *, cwd, kernel_dir, copy, fill_workdir, ids):
    """The command that runs ``program`` sandboxed: inside bubblewrap's layers when it is usable
    (``info``: ``capabilities.Protections``; with the working folder bound, or copied into a tmpfs
    when ``copy``, filled from ``cwd`` when ``fill_workdir``), with the limits ``lim``
    (``settings.Limits``), and under the kernel's own uid and gid (``ids``) when it has them.
    Returns the command, its environment and the file descriptors it reads."""
    env = kernel_environment()
    fds = []
    if info.bwrap_usable:
        def size(nbytes):
            return ["--size", str(nbytes)] if info.tmpfs_size_limits else []

        etc_args, fds = _etc_args(*(ids or (os.getuid(), os.getgid())))
        binds = [("--ro-bind", src, dest) for src, dest in python_binds]
        if os.path.isdir(layout.RUNTIME_DIR):
            binds.append(("--ro-bind", layout.RUNTIME_DIR, layout.RUNTIME_DIR))
        if not copy:
            binds.append(("--bind", cwd, cwd))
        binds.append(("--bind", kernel_dir, layout.KERNEL_DIR_INSIDE))
        bind_args = [a for kind, src, dest in binds for a in (kind, os.path.realpath(src), dest)]
        if copy:
            copy_args = []
            if fill_workdir:
                copy_args, copy_fds, left_out = workdir.copy_args(cwd, lim.workdir_size // 2, lim.workdir_entries)
                fds += copy_fds
                workdir.warn_left_out(left_out)
            bind_args += ["--perms", "0755", *size(lim.workdir_size), "--tmpfs", cwd, *copy_args]
        n = lim.processes
        prlimit = capabilities.tool("prlimit")
        nproc_inside = (
            [prlimit, f"--nproc={n}:{n}", "--"] if prlimit else
            [sys.executable, "-I", "-S", "-c",
             "import os,resource,sys;n=int(sys.argv[1]);resource.setrlimit("
             "resource.RLIMIT_NPROC,(n,n));os.execv(sys.argv[2],sys.argv[2:])", str(n)])
        cmd = [info.bwrap, *capabilities.namespace_args(info.bwrap), "--die-with-parent", "--new-session",
               "--hostname", "sandbox",
               "--ro-bind", "/usr", "/usr", *mounts.root_links(), *etc_args,
               "--proc", "/proc", "--dev", "/dev",
               *size(lim.tmp_size), "--tmpfs", "/dev/shm",
               *size(lim.tmp_size), "--tmpfs", "/tmp",
               *bind_args,
               "--remount-ro", "/dev", "--remount-ro", "/",
               "--chdir", cwd, "--clearenv"]
        for key, value in env.items():
            cmd += ["--setenv", key, value]
        if info.syscall_filter:
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
        cmd = [info.setpriv, f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups",
               "--inh-caps=-all", "--no-new-privs", "--", *cmd]
    return cmd, popen_env, fds


def sandbox_preexec(lim, reachable, use_bwrap, cgroup=None):
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
                    mounts.make_reachable(reachable)
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
