"""What the ``course-sandbox`` kernelspec and a kernel pool run: the launcher (``launch.py``),
from the bytecode Python caches for it.

    start.py -f CONNECTION_FILE [ipykernel arguments...]
    start.py --pool FOLDER

Python compiles the script it is started with on every run (the launcher and the modules it
imports, some 1,300 lines: 12 ms of CPU per kernel) and caches only the modules that script
imports. ``sys.path[0]`` is this folder,
never the kernel's working folder, so no file of a submission can stand in for a module.
"""
import sys

import launch

sys.exit(launch.main())
