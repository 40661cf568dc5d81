"""The messages between a grading run and its workers (``course.worker_pipe``), from data alone."""
from __future__ import annotations

import pytest

from course.worker_pipe import Task, WorkerResult


def test_a_task_and_a_result_cross_the_pipe_unchanged():
    for task in (Task("01_layers_and_blocks"), Task("01_layers_and_blocks", "alice")):
        assert Task.from_json(task.to_json()) == task
    result = WorkerResult(success=True, replaced=True, error="UnicodeEncodeError: …", seconds=1.5,
                          pooled_kernels=3, pools_started=1)
    assert WorkerResult.from_json(result.to_json() + "\n") == result
    assert "\n" not in result.to_json()  # one line a message


@pytest.mark.parametrize("line", [
    '{"success": tr',                                 # half a line: the worker died writing it
    '{"success": true}',                              # no newline: its end came before the line's
    "\n", "[1, 2]\n", '"text"\n',                     # no result
    '{"error": ""}\n',                                # no verdict
    '{"success": true, "smuggled": 1}\n',             # a field no result has
])
def test_anything_but_a_whole_result_line_is_refused(line):
    with pytest.raises((ValueError, TypeError)):
        WorkerResult.from_json(line)


def test_a_dead_workers_result_is_a_failure_with_the_reason():
    assert WorkerResult.died() == WorkerResult(success=False, error="the grading process died")
    assert WorkerResult.died("every grading process died").error == "every grading process died"
