"""The course's sandboxed Jupyter kernel (kernelspec ``course-sandbox``).

``python -m autograders.sandbox install [--prefix PREFIX]`` installs the kernelspec;
``python -m autograders.sandbox doctor`` shows which protections this machine provides.
Other code (the grading judge) calls :func:`protections` to fail closed or warn, and sets the
sandbox's settings through :class:`SandboxSettings`. docs/sandbox.md names the modules.
"""
from __future__ import annotations

import json
import os
import sys

from .capabilities import Protections, protections, warnings_for
from .config import SandboxSettings
from .layout import REPO_ROOT, RUNTIME_DIR
from .settings import Limits, limits

__all__ = ["KERNEL_NAME", "DISPLAY_NAME", "LAUNCHER", "REPO_ROOT", "RUNTIME_DIR", "Limits", "Protections",
           "SandboxSettings", "install", "kernel_json", "limits", "protections", "warnings_for"]

KERNEL_NAME = "course-sandbox"
DISPLAY_NAME = "Python 3 (course sandbox)"
LAUNCHER = os.path.join(os.path.dirname(os.path.realpath(__file__)), "start.py")


def kernel_json(python=None):
    """The kernelspec: the launcher, run by this environment's interpreter."""
    return {
        "argv": [python or sys.executable, LAUNCHER, "-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }


def install(prefix=None, python=None):
    """Write ``PREFIX/share/jupyter/kernels/course-sandbox/kernel.json`` (default prefix:
    ``sys.prefix``). Idempotent. Returns the kernelspec folder."""
    prefix = os.path.abspath(prefix or sys.prefix)
    folder = os.path.join(prefix, "share", "jupyter", "kernels", KERNEL_NAME)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "kernel.json")
    text = json.dumps(kernel_json(python), indent=1) + "\n"
    try:
        with open(path) as f:
            if f.read() == text:
                return folder
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return folder
