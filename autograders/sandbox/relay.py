"""The sandbox's stderr, relayed to the launcher's within a budget, while the memory watch
(``watch.MemoryWatch``) samples the sandbox between two reads (standard library only)."""
from __future__ import annotations

import os
import select
import sys


def relay_stderr(stream, budget, child=None, memory_watch=None):
    """Copy the sandbox's stderr to ours up to ``budget`` bytes, then drop the rest; meanwhile
    kill the sandbox when ``memory_watch`` says it is over its limit."""
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
