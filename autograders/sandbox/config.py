"""The sandbox's settings on the grader's side: one traitlets ``Configurable``, whose traits are
the launcher's ``COURSE_SANDBOX_*`` variables (``settings.py``), and which writes a launcher's
environment from them (``launcher_environment``, the one place that does).

A trait's value is, by priority: what it is given when made, the configuration
(``c.SandboxSettings.total_memory_mb = 2048`` in ``nbgrader_config.py``), the
``COURSE_SANDBOX_*`` variable of the environment it is made with (by default the grading
process's), the launcher's default.
"""
from __future__ import annotations

import dataclasses
import os

from traitlets import Bool, Enum, Int, TraitError, Tuple, Unicode, validate
from traitlets.config import Configurable

from . import settings

_DEFAULT = settings.DEFAULTS


class SandboxSettings(Configurable):
    """Every setting of the ``course-sandbox`` kernel's launcher, each named after its variable
    (``COURSE_SANDBOX_MEMORY_MB`` is ``memory_mb``)."""

    memory_mb = Int(_DEFAULT.memory_mb, help="""The address space of each process of a kernel's
        sandbox, in MiB (COURSE_SANDBOX_MEMORY_MB): an allocation past it fails in the student's
        cell.""").tag(config=True)
    cpu_seconds = Int(_DEFAULT.cpu_seconds, help="""The CPU time of each process of a kernel's
        sandbox, in seconds (COURSE_SANDBOX_CPU_SECONDS); the grader's own timeout bounds the
        wall-clock time of a notebook.""").tag(config=True)
    nproc = Int(_DEFAULT.nproc, help="""How many processes and threads a kernel's sandbox may run
        at once (COURSE_SANDBOX_NPROC): a fork bomb stops there.""").tag(config=True)
    file_size_mb = Int(_DEFAULT.file_size_mb, help="""The size of any one file a kernel writes,
        in MiB (COURSE_SANDBOX_FILE_SIZE_MB).""").tag(config=True)
    nofile = Int(_DEFAULT.nofile, help="""How many files each process of a kernel's sandbox may
        hold open (COURSE_SANDBOX_NOFILE).""").tag(config=True)
    tmp_mb = Int(_DEFAULT.tmp_mb, help="""The size of the sandbox's /tmp, and of its /dev/shm,
        each a private tmpfs, in MiB (COURSE_SANDBOX_TMP_MB).""").tag(config=True)
    workdir_mb = Int(_DEFAULT.workdir_mb, help="""The size of the private tmpfs that holds the
        kernel's copy of its working folder (workdir 'copy'), in MiB; files of up to half of it
        are copied in (COURSE_SANDBOX_WORKDIR_MB).""").tag(config=True)
    workdir_entries = Int(_DEFAULT.workdir_entries, help="""How many files, folders and links of
        the working folder are copied into the kernel's copy (COURSE_SANDBOX_WORKDIR_ENTRIES);
        the rest is left out, with a warning.""").tag(config=True)
    stderr_kb = Int(_DEFAULT.stderr_kb, help="""How much the kernel's process may write to the
        grader's stderr, in KiB (COURSE_SANDBOX_STDERR_KB); the rest of a flood is dropped. A
        cell's own output goes to the notebook.""").tag(config=True)
    total_memory_mb = Int(_DEFAULT.total_memory_mb, help="""All the memory a kernel's sandbox may
        hold together, mapped or not (tmpfs files and buffers included), in MiB; over it the
        sandbox is killed and the cell records a MemoryLimit error
        (COURSE_SANDBOX_TOTAL_MEMORY_MB). 0: no bound but the per-process one.""").tag(config=True)
    workdir = Enum(settings.WORKDIR_MODES, _DEFAULT.workdir, help="""How the kernel gets its
        working folder (COURSE_SANDBOX_WORKDIR): 'copy', a private size-limited copy whose
        changes are discarded, so that the folder itself is never written; or 'bind', the folder
        itself read-write (as root lent to the kernel's uid and given back afterwards), bounded
        per file only.""").tag(config=True)
    uids = Tuple(Int(), Int(), default_value=_DEFAULT.uids, help="""The range (LO, HI) of the
        unprivileged uids lent one per kernel when grading runs as root (COURSE_SANDBOX_UIDS,
        'LO-HI'); a uid of a real account is never lent.""").tag(config=True)
    memory_protection = Enum(settings.MEMORY_MODES, _DEFAULT.memory_protection, help="""What
        bounds a sandbox's memory (COURSE_SANDBOX_MEMORY_PROTECTION): 'auto', a memory cgroup per
        sandbox where this process may make one, else the launcher's watch; 'cgroup', a memory
        cgroup or no kernel at all (grading fails closed); 'watch', the watch
        alone.""").tag(config=True)
    cgroup = Unicode(_DEFAULT.cgroup, allow_none=True, help="""A cgroup v2 folder delegated to
        this user, under which each sandbox gets its memory cgroup (COURSE_SANDBOX_CGROUP): for
        an instructor who is not root.""").tag(config=True)
    require = Bool(_DEFAULT.require, help="""Refuse to start a kernel that would lack any
        protection, rather than warn (COURSE_SANDBOX_REQUIRE=1): the launcher exits 3, naming
        each missing layer.""").tag(config=True)
    bwrap = Unicode(_DEFAULT.bwrap, allow_none=True, help="""The bubblewrap program to use
        (COURSE_SANDBOX_BWRAP); by default the one in /usr/bin, /bin or on PATH. A path that is not
        an executable file means no bubblewrap.""").tag(config=True)
    debug = Bool(_DEFAULT.debug, help="""Print the time of each step of a kernel's launch on the
        grader's stderr (COURSE_SANDBOX_DEBUG=1).""").tag(config=True)

    def __init__(self, environ=os.environ, **kwargs):
        # the environment first (by default the grading process's): the configuration and the
        # arguments, applied by Configurable, override it
        environment = settings.read(environ)
        for name in settings.VARIABLES:
            setattr(self, name, getattr(environment, name))
        super().__init__(**kwargs)

    @validate("uids")
    def _check_uids(self, proposal):
        lo, hi = proposal["value"]
        try:
            return settings.check_uids(lo, hi, f"{lo}-{hi}")
        except SystemExit as exc:
            raise TraitError(str(exc)) from None

    def launcher_settings(self) -> settings.Settings:
        """The settings as the launcher reads them."""
        return settings.Settings(**{field.name: getattr(self, field.name)
                                    for field in dataclasses.fields(settings.Settings)})

    def launcher_environment(self, environ) -> dict[str, str]:
        """``environ`` with every ``COURSE_SANDBOX_*`` setting replaced by these settings: the
        environment a launcher (or a pool's client, in this process) reads them from."""
        env = {name: value for name, value in environ.items() if name not in settings.VARIABLES.values()}
        env.update(settings.environment(self.launcher_settings()))
        return env
