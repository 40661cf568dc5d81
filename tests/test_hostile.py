"""The hostile corpus: submissions that try to forge, break or escape the grader.

All of them are graded in one ``nbgrader autograde`` batch, beside an honest control student.
For each: the batch completes, the control's score and the course's files are untouched, no
forged point is given, the feedback names a reason, and no hidden test code reaches it.
"""
from __future__ import annotations

import re
import socket
import threading
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader import utils

from autograders.bank import with_answers
from autograders.tests import leaks, toy
from autograders.tests.toy import make_toy_course

REPO = Path(__file__).resolve().parents[1]
SECRET = f"SENTINEL-{uuid.uuid4().hex}"
WRONG = "def double(x):\n    return 3 * x\n"
RIGHT_DOUBLE = "def double(x):\n    return 2 * x\n"


def _files_attack(paths: list[str]) -> str:
    return "\n".join([
        "import os", f"targets = {paths!r}", "for path in targets:",
        "    for attempt in ('read', 'write'):",
        "        try:",
        "            if attempt == 'read':",
        "                print(open(path, errors='replace').read()[:200])",
        "            else:",
        "                open(path, 'a').write('PWNED')",
        "        except Exception as exc:",
        "            print(attempt, 'refused:', type(exc).__name__)",
        WRONG])


# name -> (source of the `double` answer cell, expected outcome of `double` tests)
# "zero": every double test scores 0; "full": all of them full; halve must always stay full.
ATTACKS = {
    "patch_allclose": ("import torch\ntorch.allclose = lambda *a, **k: True\n" + WRONG, "zero"),
    "patch_assert_close": ("import torch.testing\ntorch.testing.assert_close = lambda *a, **k: None\n" + WRONG, "zero"),
    "patch_tensor_eq": ("import torch\ntorch.Tensor.__eq__ = lambda self, other: True\n" + WRONG, "zero"),
    "patch_builtins": ("import builtins\nbuiltins.all = lambda *a: True\nbuiltins.isinstance = lambda *a: True\n" + WRONG, "zero"),
    "always_equal_object": ("class Yes:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
                            "    def __bool__(self):\n        return True\ndef double(x):\n    return Yes()\n", "zero"),
    "patch_course_probe_report": ("import course_probe\ncourse_probe.report = lambda probe: print('all good')\n" + WRONG, "zero"),
    "patch_course_probe_decide": ("import course_probe\ncourse_probe.decide = lambda *a: True\n" + WRONG, "zero"),
    "fake_probe_report": ("from IPython.display import display\nimport course_probe\n"
                          "def double(x):\n    display({course_probe.MIME_TYPE: {'protocol': 1, 'expectations': [], 'error': None}}, raw=True)\n"
                          "    return 3 * x\n", "zero"),
    "fake_probe_report_text": ("from IPython.display import display\nimport course_probe, json\n"
                               "def double(x):\n    display({course_probe.MIME_TYPE: json.dumps({'protocol': 1, 'expectations': [], "
                               "'error': None})}, raw=True)\n    return 3 * x\n", "zero"),
    "reads_caller_frame": ("import inspect\ndef double(x):\n    for frame in inspect.stack():\n"
                           "        print(frame.code_context)\n        print(frame.frame.f_locals.keys())\n    return 3 * x\n", "zero"),
    "reads_history_now": ("print(In)\nprint(Out)\n" + WRONG, "zero"),
    "network_socket": ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', PORT), timeout=2).sendall(b'PWNED')\n"
                       "except OSError as exc:\n    print('refused', type(exc).__name__)\n" + WRONG, "zero"),
    "infinite_loop": ("while True:\n    pass\n", "zero"),
    "ignores_sigint": ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n", "zero"),
    "fork_bomb_bounded": ("import os, time\nfor _ in range(3000):\n    try:\n        if os.fork() == 0:\n"
                          "            time.sleep(20)\n            os._exit(0)\n    except OSError:\n        break\n" + WRONG, "zero"),
    "allocates_50gb": ("import torch\nhuge = torch.empty(50_000_000_000, dtype=torch.uint8)\nhuge.fill_(1)\n" + RIGHT_DOUBLE, "zero"),
    "writes_10gb_file": ("with open('big.bin', 'wb') as f:\n    for _ in range(10_000):\n        f.write(b'x' * 1_000_000)\n" + RIGHT_DOUBLE, "zero"),
    "sys_exit": ("import sys\nsys.exit(3)\n" + RIGHT_DOUBLE, "zero"),
    "os_exit": ("import os\nos._exit(0)\n" + RIGHT_DOUBLE, "zero"),
    # IPython's exit() lets the cell finish, then the kernel exits: the answer stands
    "ipython_exit": ("exit()\n" + RIGHT_DOUBLE, "full"),
    "kills_itself": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n" + RIGHT_DOUBLE, "zero"),
    "segfault_ctypes": ("import ctypes\nctypes.string_at(0)\n" + RIGHT_DOUBLE, "zero"),
    # memory that no process maps: kernel buffers (3 GiB against the cap, MEMORY_CAP_MB), and kinds
    # the system-call filter refuses (the answer then stands: nothing was held). A memory cgroup
    # either kills the sandbox or makes the kernel refuse the buffers (ENOBUFS): each child then
    # reports what it held when refused, and the parent prints the total before it times out
    "holds_3gb_in_socket_buffers": ("import os, select, socket, time\ndef hold(limit):\n"
                                    "    pairs, held, data = [], 0, b'x' * (1 << 20)\n    try:\n"
                                    "        while held < limit and len(pairs) < 450:\n"
                                    "            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                                    "            pairs.append((a, b))\n"
                                    "            a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)\n"
                                    "            a.setblocking(False)\n            try:\n"
                                    "                while held < limit:\n                    held += a.send(data)\n"
                                    "            except BlockingIOError:\n                pass\n"
                                    "    except OSError:\n        return pairs, held, 'refused'\n"
                                    "    return pairs, held, 'kept'\n"
                                    "r, w = os.pipe()\nfor _ in range(2):\n    if os.fork() == 0:\n"
                                    "        kept, held, how = hold(3 << 29)\n"
                                    "        os.write(w, f'{held >> 20} {how}\\n'.encode())\n"
                                    "        time.sleep(30)\n        os._exit(0)\n"
                                    "said, deadline = b'', time.time() + 6\n"
                                    "while said.count(b'\\n') < 2 and time.time() < deadline:\n"
                                    "    if select.select([r], [], [], 0.5)[0]:\n        said += os.read(r, 100)\n"
                                    "words = said.split()\n"
                                    "if len(words) == 4 and b'refused' in words[1::2]:\n"
                                    "    print(f'the kernel refused more: held {int(words[0]) + int(words[2])} MB in all')\n"
                                    "time.sleep(30)\n" + RIGHT_DOUBLE, "zero"),
    # files in the tmpfs mounts (720 MB) with two children of 700 MB: the processes' set sizes
    # stay under the cap, what the sandbox holds goes over it
    "holds_tmpfs_files_over_the_cap": ("import os, time\nfor folder in ('/tmp', '/dev/shm', '.'):\n"
                                       "    for i in range(4):\n        with open(f'{folder}/f{i}', 'wb') as f:\n"
                                       "            f.write(b'x' * (60 << 20))\nfor _ in range(2):\n"
                                       "    if os.fork() == 0:\n        block = b'\\1' * (700 << 20)\n"
                                       "        time.sleep(30)\n        os._exit(0)\ntime.sleep(30)\n" + RIGHT_DOUBLE, "zero"),
    "holds_sysv_shared_memory": ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                                 "ids = [libc.shmget(0, 1 << 30, 0o1600) for _ in range(6)]\n"
                                 "for i in ids:\n    if i != -1:\n        address = libc.shmat(i, None, 0)\n"
                                 "        ctypes.memset(address, 1, 1 << 30)\n        libc.shmdt(address)\n"
                                 "print('segments made:', sum(i != -1 for i in ids))\n" + RIGHT_DOUBLE, "full"),
    "holds_anonymous_files": ("import os\ntry:\n    fds = [os.memfd_create(f'm{i}') for i in range(100)]\n"
                              "    for fd in fds:\n        os.ftruncate(fd, 60 << 20)\n"
                              "        os.pwrite(fd, b'x' * (60 << 20), 0)\nexcept PermissionError as exc:\n"
                              "    print('refused:', exc)\n" + RIGHT_DOUBLE, "full"),
    "prints_200mb": ("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 1_000_000 + '\\n')\n" + WRONG, "zero"),
    "honest_but_noisy_stderr": ("import sys\nprint('warning', file=sys.stderr)\n" + RIGHT_DOUBLE, "full"),
}


def _notebook_with(source: str):
    nb = nbformat.read(_source_path(), as_version=4)
    return with_answers(nb, {"double": source})


def _source_path():
    return COURSE["root"] / "source" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.ipynb"


def _test_cells(nb):
    return [c for c in nb.cells if utils.is_grade(c) and not utils.is_solution(c)]


def _edited(nb, edit):
    nb = nbformat.from_dict(nb)
    edit(nb)
    return nb


# name -> (notebook builder from the reference notebook, expected double outcome)
def _structural():
    def delete_hidden(nb):
        nb.cells.remove(_test_cells(nb)[1])

    def duplicate_visible(nb):
        cell = _test_cells(nb)[0]
        nb.cells.insert(nb.cells.index(cell), nbformat.from_dict(cell))

    def edit_hidden(nb):
        _test_cells(nb)[1].source = "print('looks fine')"

    def retype_hidden(nb):
        cell = _test_cells(nb)[1]
        cell.metadata.nbgrader.update(grade=False, solution=True, locked=False)
        cell.source = "print('now an answer')"

    def later_cell_prints_history(nb):
        halve = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "halve")
        halve.source = "print('\\n'.join(In))\nimport inspect\n" + halve.source

    return {
        "deleted_test_cell": (delete_hidden, WRONG, "zero"),
        "duplicated_test_cell": (duplicate_visible, WRONG, "zero"),
        "edited_test_cell": (edit_hidden, WRONG, "zero"),
        "retyped_test_cell": (retype_hidden, WRONG, "zero"),
        "later_cell_prints_hidden_code": (later_cell_prints_history, RIGHT_DOUBLE, "full"),
    }


# Attacks on the grading machinery inside the student's own kernel: they cannot forge a point,
# but they may cost the same student's later tests too (never another student's).
SELF_SABOTAGE = {"patch_course_probe_report"}

RAW_FILES = {  # name -> (file name, content, expected double outcome)
    "invalid_json": (f"{toy.NOTEBOOK}.ipynb", '{"cells": [', "zero"),
    "empty_file": (f"{toy.NOTEBOOK}.ipynb", "", "zero"),
    "other_assignment_notebook": (f"{toy.NOTEBOOK}.ipynb", None, "zero"),
    "renamed_notebook": ("my_homework.ipynb", "REFERENCE", "full"),
}
COURSE: dict = {}
# The sandbox's memory cap in this batch: half the default, so that an attack on it reaches it
# within a cell's time limit (the kernel charges socket buffers at about 0.5 GB/s here)
MEMORY_CAP_MB = 2048


@pytest.fixture(scope="module")
def graded():
    # the cap through the course's configuration, as an instructor sets it: the workers' pools and
    # the kernels they fork must both honour it (the default, 4096 MiB, would let 3 GiB through)
    course = make_toy_course(f"c.SandboxSettings.total_memory_mb = {MEMORY_CAP_MB}\n")
    COURSE["root"] = course.root
    sentinels = {name: course.root / rel for name, rel in [
        ("source", "source/sentinel.txt"), ("exchange", "exchange/sentinel.txt"),
        ("other_student", f"submitted/control/{toy.ASSIGNMENT}/sentinel.txt")]}
    sentinels["autograders"] = REPO / "autograders" / f".sentinel-{uuid.uuid4().hex}"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    connections = []

    def accept():
        while not COURSE.get("done"):
            try:
                connections.append(listener.accept())
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    reference = nbformat.read(_source_path(), as_version=4)
    course.submit_notebook("control", toy.ASSIGNMENT, reference)
    for path in sentinels.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SECRET)
    targets = [str(p) for p in sentinels.values()] + [str(course.root / "gradebook.db"),
                                                       "../../control/00_toy/sentinel.txt", "../../../gradebook.db"]
    expected = {}
    for name, (source, outcome) in ATTACKS.items():
        source = source.replace("PORT", str(listener.getsockname()[1]))
        course.submit_notebook(name, toy.ASSIGNMENT, _notebook_with(source))
        expected[name] = outcome
    course.submit_notebook("files_read_and_write", toy.ASSIGNMENT, _notebook_with(_files_attack(targets)))
    expected["files_read_and_write"] = "zero"
    for name, (edit, source, outcome) in _structural().items():
        course.submit_notebook(name, toy.ASSIGNMENT, _edited(_notebook_with(source), edit))
        expected[name] = outcome
    for name, (answers, _) in leaks.CHANNELS.items():
        course.submit_notebook(f"leak_{name}", toy.ASSIGNMENT, with_answers(reference, answers))
    for name, (filename, content, outcome) in RAW_FILES.items():
        folder = course.root / "submitted" / name / toy.ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        if content == "REFERENCE":
            content = nbformat.writes(reference)
        elif content is None:
            other = toy.toy_notebook()
            for cell in other.cells:
                if "nbgrader" in cell.metadata:
                    cell.metadata.nbgrader["grade_id"] += "_elsewhere"
            content = nbformat.writes(other)
        (folder / filename).write_text(content)
        expected[name] = outcome
    from course import operations
    try:
        operations.autograde(course, toy.ASSIGNMENT)
        operations.feedback(course, toy.ASSIGNMENT)
        scores = course.scores(toy.ASSIGNMENT)
    finally:
        COURSE["done"] = True
        listener.close()
        leftover = {name: path.read_text() for name, path in sentinels.items()}
        sentinels["autograders"].unlink(missing_ok=True)
    return {"course": course, "scores": scores, "expected": expected, "sentinels": leftover,
            "connections": connections}


def test_corpus_is_large_enough(graded):
    assert len(graded["expected"]) >= 30


def test_batch_completes_and_every_submission_is_graded(graded):
    missing = (set(graded["expected"]) | {"control"}) - set(graded["scores"])
    assert not missing, f"not graded: {missing}"


def test_control_student_keeps_full_marks(graded):
    assert all(score == top for score, top in graded["scores"]["control"].values())


def _outcome(cells, exercise):
    own = [(s, m) for grade_id, (s, m) in cells.items() if grade_id.startswith(exercise + "_")]
    if all(s is not None and s >= m for s, m in own):
        return "full"
    if all(not s for s, _ in own):
        return "zero"
    return "partial"


@pytest.mark.parametrize("name", sorted(set(ATTACKS) | set(_structural()) | set(RAW_FILES) | {"files_read_and_write"}))
def test_each_attack_gets_its_outcome(graded, name):
    cells = graded["scores"][name]
    expected = graded["expected"][name]
    got = _outcome(cells, "double")
    if expected == "zero":
        assert got != "full", f"{name}: forged points on double: {cells}"
    else:
        assert got == "full", f"{name}: {cells}"
    if (name not in RAW_FILES or name == "renamed_notebook") and name not in SELF_SABOTAGE:
        assert _outcome(cells, "halve") == "full", f"{name}: the attack cost points elsewhere: {cells}"


def test_no_file_of_the_course_was_read_or_changed(graded):
    assert all(text == SECRET for text in graded["sentinels"].values()), graded["sentinels"]
    leaked = [p for p in (graded["course"].root / "autograded").rglob("*.ipynb") if SECRET in p.read_text()]
    assert not leaked, f"sentinel contents reached: {leaked}"


def test_no_network_connection_was_made(graded):
    assert graded["connections"] == []


def test_feedback_shows_a_reason_and_never_hidden_code(graded):
    feedback = list((graded["course"].root / "feedback").rglob("*.html"))
    assert len(feedback) >= len(graded["expected"]) + len(leaks.CHANNELS)
    for path in feedback:
        html = path.read_text()
        assert not leaks.hidden_code_in(html), f"hidden test code in {path}, as it is or decoded"
        assert not leaks.smuggled(html), f"a smuggler's output in {path}"
    wrong = graded["course"].root / "feedback" / "patch_allclose" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html"
    assert "double(x) must be 2 * x" in wrong.read_text() or "a public check failed" in wrong.read_text()
    broken = graded["course"].root / "feedback" / "invalid_json" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html"
    assert "could not be graded" in broken.read_text()


def _leak_files(graded, name, folder):
    return list((graded["course"].root / folder / f"leak_{name}" / toy.ASSIGNMENT).iterdir())


@pytest.mark.parametrize("name", sorted(leaks.CHANNELS))
def test_a_smuggler_keeps_the_marks_of_its_correct_answers(graded, name):
    cells = graded["scores"][f"leak_{name}"]
    _, correct = leaks.CHANNELS[name]
    assert _outcome(cells, "halve") == "full", cells
    assert (_outcome(cells, "double") == "full") == correct, cells


@pytest.mark.parametrize("name", sorted(leaks.CHANNELS))
def test_no_smuggled_hidden_code_reaches_the_smugglers_feedback(graded, name):
    files = _leak_files(graded, name, "feedback")
    assert [path.name for path in files] == [f"{toy.NOTEBOOK}.html"], "only the feedback page reaches the student"
    html = files[0].read_text()
    assert not leaks.hidden_code_in(html)
    assert not leaks.smuggled(html)
    assert "Passed" in html  # the verdicts are there


@pytest.mark.parametrize("name", leaks.OPEN_IN_THE_KERNEL)
def test_the_channels_carried_hidden_code_out_of_the_kernel_into_the_graded_notebook(graded, name):
    # proof that each attack works: what the student would have seen without the feedback's rule
    graded_notebook = next(p for p in _leak_files(graded, name, "autograded") if p.suffix == ".ipynb")
    nb = nbformat.read(graded_notebook, as_version=4)
    outputs = [output for cell in nb.cells if cell.cell_type == "code" and cell not in _test_cells(nb)
               for output in cell.outputs]
    assert leaks.hidden_code_in(nbformat.writes(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(outputs=outputs)])))


def test_a_verdict_quotes_neither_a_students_message_nor_an_exception_name(graded):
    message = (graded["course"].root / "feedback" / "leak_public_check_message" / toy.ASSIGNMENT
               / f"{toy.NOTEBOOK}.html").read_text()
    assert "a public check failed: run this cell in your notebook to see which" in message
    name = (graded["course"].root / "feedback" / "leak_exception_name" / toy.ASSIGNMENT
            / f"{toy.NOTEBOOK}.html").read_text()
    assert "could not run (an exception)" in name and "raised an exception while being tested" in name


def test_memory_no_process_maps_is_stopped_at_the_cap_or_refused(graded):
    feedback = graded["course"].root / "feedback"
    for name in ("holds_3gb_in_socket_buffers", "holds_tmpfs_files_over_the_cap"):
        over = (feedback / name / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html").read_text()
        refused = re.search(r"the kernel refused more: held (\d+) MB in all", over)
        if name == "holds_3gb_in_socket_buffers" and refused:  # the cgroup's other way to hold the cap
            assert int(refused.group(1)) <= MEMORY_CAP_MB, refused.group(0)
        else:
            assert "MemoryLimit" in over and "more memory than a submission may" in over, name
    shm = (feedback / "holds_sysv_shared_memory" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html").read_text()
    assert "segments made: 0" in shm
    memfd = (feedback / "holds_anonymous_files" / toy.ASSIGNMENT / f"{toy.NOTEBOOK}.html").read_text()
    assert "refused: [Errno 1] Operation not permitted" in memfd
