"""Where things are, derived at run time (CI runs from a fresh clone in another folder): the
repository, the kernel-side runtime, the Python installation a kernel runs, and the kernel folder
as the kernel sees it (standard library only)."""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))  # <repo>/autograders/sandbox/layout.py
RUNTIME_DIR = os.path.join(REPO_ROOT, "autograders", "runtime")
KERNEL_DIR_INSIDE = "/run/kernel"  # the kernel folder, as the kernel sees it


def is_within(path, folder):
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def python_binds():
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
        if is_within(dest, "/usr"):
            continue
        if any(src == dest and s == d and is_within(dest, d) for s, d in chosen):
            continue  # already visible through a bind of a folder above it
        chosen.append((src, dest))
    return chosen
