"""The pipe between a grading run and each of its worker processes: one JSON line per task
on the worker's stdin (``Task``), one JSON line per result on its stdout (``WorkerResult``),
and ``Worker``, the run's end of it. The worker's end is ``course.worker``."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, fields, replace

from .course_dir import Course, nbgrader_env

WORKER_DIED = "the grading process died"


@dataclass(frozen=True)
class Task:
    """One job for a worker: observe an assignment's reference (``student`` None), or grade a submission."""
    assignment: str
    student: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, line: str) -> "Task":
        return cls(**json.loads(line))


@dataclass(frozen=True)
class WorkerResult:
    """What a worker did with one task."""
    success: bool
    error: str = ""          # why it failed, or the error that got the submission replaced
    replaced: bool = False   # nbgrader gave up on the submission: an empty copy was graded instead
    seconds: float = 0.0     # the worker's time on the task
    pooled_kernels: int = 0  # kernels its kernel pool forked (the worker's total until the run counts them per task)
    pools_started: int = 0   # kernel pools it started (likewise)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, line: str) -> "WorkerResult":
        """The result a whole line holds; ``ValueError`` for anything else (half a line, a
        line that is no result)."""
        data = json.loads(line) if line.endswith("\n") else None
        names = {field.name for field in fields(cls)}
        if not isinstance(data, dict) or not set(data) <= names or "success" not in data:
            raise ValueError(f"not a worker's result: {line[:200]!r}")
        return cls(**data)

    @classmethod
    def died(cls, error: str = WORKER_DIED) -> "WorkerResult":
        return cls(success=False, error=error)


class Worker:
    """One grading process, fed one task at a time over a pipe; it keeps its kernel pool warm
    from one task to the next, whatever the assignment."""

    def __init__(self, course: Course, kernel_pool: bool):
        self.process = subprocess.Popen(
            self.command(course, kernel_pool), cwd=course.root, env=nbgrader_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.task: Task | None = None
        self.dead = False
        self.counters = {"pooled_kernels": 0, "pools_started": 0}

    @staticmethod
    def command(course: Course, kernel_pool: bool) -> list[str]:
        return [sys.executable, "-m", "course.worker", str(course.root), "pool" if kernel_pool else "no-pool"]

    def give(self, task: Task) -> None:
        self.task = task
        try:
            self.process.stdin.write(task.to_json() + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:  # it just died: its end of output, read next, gives the task back
            pass

    def result(self) -> tuple[Task | None, WorkerResult]:
        """The task it was given and its result, with what the worker's kernel pool did for it;
        the worker is idle again, or dead."""
        task, self.task = self.task, None
        try:
            result = WorkerResult.from_json(self.process.stdout.readline())
        except (ValueError, TypeError):  # the end of its output, or half a line: it died
            self.dead = True
            return task, WorkerResult.died()
        since = {}
        for counter, before in self.counters.items():
            self.counters[counter] = getattr(result, counter)
            since[counter] = getattr(result, counter) - before
        return task, replace(result, **since)

    def close(self) -> None:
        """No more tasks: it ends once its kernel pool is down."""
        try:
            self.process.stdin.close()
        except BrokenPipeError:  # it died with input unread
            pass

    def wait(self) -> None:
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
