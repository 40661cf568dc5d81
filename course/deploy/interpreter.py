"""A Python every account of the hub can run, with the course's packages.

The students' servers, the grader's and their kernels run as accounts other than the one that
made ``.venv``. Its interpreter may sit where they cannot reach it (pyenv's under root's private
home, say); then the deployment makes, on the same file system, a copy of the installation it
came from and an environment on it, out of hard links to the files (none of their data copied):
the same Python, the same packages, kernels and Jupyter extensions. Only the interpreter's binary
is copied, its library path made relative to where it is. The links are made again whenever
``make setup`` has changed ``.venv``.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from autograders.execute import SANDBOX_KERNEL

from ..course_dir import PipelineError, VENV_BIN

VENV = VENV_BIN.parent
BASE = Path(sys.base_prefix)
# commands the accounts run by name: nbgrader's and jupyter's, and alembic, which a new gradebook runs
COMMANDS = {"nbgrader": "nbgrader.apps.nbgraderapp:main", "alembic": "alembic.config:main",
            "jupyter": "jupyter_core.command:main"}


def reachable_by_all(path: Path) -> bool:
    """Whether any account can run ``path``: every folder above it searchable, the file executable."""
    path = Path(os.path.realpath(path))
    folders_ok = all(os.stat(parent).st_mode & 0o001 for parent in path.parents)
    return folders_ok and bool(os.stat(path).st_mode & 0o001)


def users_environment(folder: Path) -> Path:
    """The ``bin`` folder of a Python environment every account can run (``.venv``'s own where it can)."""
    if reachable_by_all(Path(sys.executable)) and reachable_by_all(VENV / "pyvenv.cfg"):
        return VENV_BIN
    folder = Path(folder)
    interpreter = _installation_copy(folder / "base")
    stamp, installed = folder / ".linked", VENV / ".installed"
    if not (folder / "bin" / "python").exists():
        subprocess.run([str(interpreter), "-m", "venv", "--without-pip", str(folder)], check=True)
    if not stamp.is_file() or stamp.stat().st_mtime < installed.stat().st_mtime:
        _link_packages(folder)
        stamp.touch()
    for command, entry in COMMANDS.items():
        module, function = entry.split(":")
        script = folder / "bin" / command
        script.write_text(f"#!{folder / 'bin' / 'python'}\nimport sys\nfrom {module} import {function}\n"
                          f"sys.exit({function}())\n")
        script.chmod(0o755)
    return folder / "bin"


def _hard_link_copy(source: Path, target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["cp", "-al", str(source), str(target)], capture_output=True, text=True)
    if result.returncode != 0:
        raise PipelineError(f"could not link {source} into {target} (the hub's folder must be on the same file "
                            f"system as {source}): {result.stderr.strip()}")


def _installation_copy(target: Path) -> Path:
    """The interpreter of a hard-linked copy of the installation ``.venv`` was made from. Its
    binary finds its shared library through an absolute path into the original (pyenv's
    ``RUNPATH``), which the accounts cannot reach: the copy's binary is a file of its own, with
    that path rewritten as ``$ORIGIN/../lib`` (the copy's), padded to the same length."""
    binary = target / "bin" / Path(os.path.realpath(sys.executable)).name
    if binary.is_file():
        return binary
    _hard_link_copy(BASE, target)
    data = binary.read_bytes()
    runpath = str(BASE / "lib").encode() + b"\0"
    relative = b"$ORIGIN/../lib"
    if runpath in data:
        binary.unlink()  # a hard link to the original's binary: never write through it
        binary.write_bytes(data.replace(runpath, relative.ljust(len(runpath), b"\0")))
        binary.chmod(0o755)
    return binary


def _link_packages(folder: Path) -> None:
    """``.venv``'s packages, kernels and Jupyter configuration in ``folder``, as hard links (no
    copy of their data): real folders, which the grading sandbox can mount into its jail, where
    a symbolic link to ``.venv`` would point at nothing. The course's sandbox kernel is started
    with this environment's interpreter."""
    site = Path(sysconfig.get_paths(vars={"base": str(folder)})["purelib"])
    for source, target in [(Path(sysconfig.get_paths()["purelib"]), site), (VENV / "share", folder / "share"),
                           (VENV / "etc", folder / "etc")]:
        _hard_link_copy(source, target)
    kernel = folder / "share" / "jupyter" / "kernels" / SANDBOX_KERNEL / "kernel.json"
    spec = json.loads(kernel.read_text())
    spec["argv"][0] = str(folder / "bin" / "python")
    kernel.unlink()  # a file of its own, not .venv's
    kernel.write_text(json.dumps(spec, indent=1))
