"""Submissions that answer the toy assignment correctly and try to carry its hidden tests out.

Each uses one channel that code in the grading kernel can reach (docs/grading.md, "Threat model"), and
writes what it finds in several encodings (base64, compressed, reversed, hex), each split over
several outputs. ``hidden_code_in`` decodes all of them, so that a test can say both that a
channel carried hidden code inside the kernel (the instructor's graded notebook) and that none
of it reached the student (the feedback).
"""
from __future__ import annotations

import base64
import binascii
import html
import re
import zlib
from collections import defaultdict

# Lines of the toy's hidden tests (toy.py) that a student never sees.
HIDDEN_LINES = ("secret_marker_for_leak_tests", "def probe(seed)", "cp.report(probe)", "BEGIN HIDDEN TESTS")

# Writes ``text`` out in four encodings, each in chunks; the marker is built at run time so
# that the attack's own code, which the history holds too, never matches.
LEAK = '''import base64 as _b64, zlib as _zlib, sys as _sys
def _leak(kind, text, stream=None):
    data = text.encode("utf-8", "replace")
    for name, encoded in (("b64", _b64.b64encode(data).decode()),
                          ("zb64", _b64.b64encode(_zlib.compress(data)).decode()),
                          ("rev", text[::-1]), ("hex", data.hex())):
        for start in range(0, len(encoded), 3000):
            print(f"LEAK[{kind}/{name}/{start}]:" + encoded[start:start + 3000], file=stream or _sys.stdout)
'''
DOUBLE = "def double(x):\n    return 2 * x\n"
HALVE = "def halve(x):\n    return x / 2\n"

# name -> answers for the toy's two exercises; ``True`` after it: the answers are correct
# (full marks expected), ``False``: the channel costs the smuggler the test it rides on.
CHANNELS = {
    # code sent to the kernel but not yet run: the answer cell before the first hidden test
    # looks for the hidden cells' code among everything the kernel holds
    "pending_batch": ({"double": LEAK + '''import gc
_needle = "cp." + "report(probe)"
_found = set()
def _values(obj):
    return list(obj.values()) if isinstance(obj, dict) else list(obj) if isinstance(obj, (list, tuple)) else []
for _obj in gc.get_objects():  # a dict of strings alone is not tracked: look one level down too
    for _value in _values(_obj) + [inner for value in _values(_obj) for inner in _values(value)]:
        if isinstance(_value, str) and _needle in _value and _value != _needle:
            _found.add(_value)
if _found:
    _leak("batch", "\\n".join(sorted(_found)))
''' + DOUBLE, "halve": HALVE}, True),
    # code that has run: IPython's history, through stdout and through stderr
    "history": ({"double": DOUBLE, "halve": LEAK + '_leak("history", "\\n".join(In))\n'
                 '_leak("history-stderr", "\\n".join(_ih), _sys.stderr)\n' + HALVE}, True),
    "linecache": ({"double": DOUBLE, "halve": LEAK + '''import linecache
_cells = ["".join(entry[2]) for entry in list(linecache.cache.values()) if isinstance(entry, tuple) and len(entry) > 2]
_leak("linecache", "\\n".join(text for text in _cells if "cp." + "report" in text))
''' + HALVE}, True),
    # the objects a hidden cell left in the namespace
    "function_objects": ({"double": DOUBLE, "halve": LEAK + '''import inspect
_leak("functions", inspect.getsource(probe) + repr(probe.__code__.co_consts) + repr(probe.__code__.co_varnames))
''' + HALVE}, True),
    # the call stack while a probe calls the student's code, kept for a later cell
    "call_stack": ({"double": LEAK + '''import inspect, sys
_stack = []
def double(x):
    frame = sys._getframe(1)
    while frame is not None:
        try:
            _stack.append(inspect.getsource(frame.f_code))
        except (OSError, TypeError):
            pass
        frame = frame.f_back
    return 2 * x
''', "halve": '_leak("stack", "\\n".join(_stack))\n' + HALVE}, True),
    # a display made by the answer cell, updated while a hidden test runs
    "display_update": ({"double": LEAK + '''from IPython.display import display
_handle = display("waiting for the tests", display_id=True)
def double(x):
    encoded = _b64.b64encode("\\n".join(get_ipython().user_ns["In"]).encode()).decode()
    _handle.update("LEAK[display/b64/0]:" + encoded)
    return 2 * x
''', "halve": HALVE}, True),
    # an error message of a later cell, and a file in the working folder
    "error_message": ({"double": DOUBLE, "halve": HALVE + LEAK + '''
raise RuntimeError("LEAK[error/b64/0]:" + _b64.b64encode("\\n".join(In).encode()).decode())
'''}, True),
    "working_folder_file": ({"double": DOUBLE, "halve": HALVE + '''import base64
with open("LEAK.txt", "w") as f:
    f.write("LEAK[file/b64/0]:" + base64.b64encode("\\n".join(In).encode()).decode())
'''}, True),
    # the text of a verdict: a public check's message, written by the student's own object
    "public_check_message": ({"double": '''import base64
class _Message:
    def __eq__(self, other):
        raise AssertionError("LEAK[assert/b64/0]:" + base64.b64encode("\\n".join(In).encode()).decode())
    __hash__ = object.__hash__
def double(x):
    return _Message() if isinstance(x, int) and x == 2 else 2 * x
''', "halve": HALVE}, False),
    # ... and the name of the exception a probe saw
    "exception_name": ({"double": '''import base64
def double(x):
    if isinstance(x, int):
        raise type("LEAK" + base64.b64encode("\\n".join(In).encode()).decode(), (Exception,), {})()
    return 2 * x
''', "halve": HALVE}, False),
}
# Channels that hold hidden code inside the kernel in any case: the graded notebook shows it
# there (the others are closed before they open: the code is not sent yet, the display is not
# updated, the message and the name are not shown, the file stays in the sandbox).
OPEN_IN_THE_KERNEL = ("history", "linecache", "function_objects", "call_stack", "error_message")

_CHUNK = re.compile(r"LEAK\[([^/\]]+)/([a-z0-9]+)/(\d+)\]:([^\s\"'<\\]*)")
_TOKEN = re.compile(r"[A-Za-z0-9+/=]{24,}")


def _decodings(payload: str, encoding: str) -> list[str]:
    try:
        if encoding == "b64":
            return [base64.b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8", "replace")]
        if encoding == "zb64":
            return [zlib.decompress(base64.b64decode(payload)).decode("utf-8", "replace")]
        if encoding == "hex":
            return [bytes.fromhex(payload).decode("utf-8", "replace")]
    except (binascii.Error, ValueError, zlib.error):
        return []
    return []


def _plain(text: str) -> str:
    plain = html.unescape(text)
    for escape, char in (("\\n", "\n"), ('\\"', '"'), ("\\\\", "\\")):
        plain = plain.replace(escape, char)
    return plain


def smuggled(text: str) -> list[str]:
    """The ``LEAK`` outputs in ``text`` (the attacks' code, which the feedback shows, holds none)."""
    return [chunk for *_, chunk in _CHUNK.findall(_plain(text)) if len(chunk) >= 8]


def hidden_code_in(text: str) -> list[str]:
    """The hidden lines that ``text`` (an HTML page or a notebook's JSON) holds, as they are or
    decoded: each ``LEAK`` stream joined from its chunks, any long base64 or hex run, and the
    whole text reversed."""
    plain = _plain(text)
    candidates = [plain, plain[::-1]]
    streams = defaultdict(list)
    for kind, encoding, start, payload in _CHUNK.findall(plain):
        streams[kind, encoding].append((int(start), payload))
    for (_, encoding), chunks in streams.items():
        joined = "".join(payload for _, payload in sorted(chunks))
        candidates += _decodings(joined, encoding) or [joined[::-1]]
    for token in _TOKEN.findall(plain):
        candidates += _decodings(token, "b64") + _decodings(token, "hex")
    return sorted({line for line in HIDDEN_LINES for candidate in candidates if line in candidate})
