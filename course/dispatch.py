"""Handing a run's tasks to Dask workers: one at a time to each worker that accepted the run.

Dask, when a worker dies, blames every task the scheduler had assigned to it, running or
waiting, and gives up on a task after so many such deaths. A submission that kills its worker
must not cost a neighbour its grade, so each worker here holds one task at a time (the one it
runs), and a task is named in a worker's death only if it was that task: it is given once more,
to another worker, and reported after a second death. The tasks of a chapter wait for its
reference, and every chapter's reference goes out before any submission, so that no worker sits
idle while another observes the reference that its next submissions need.
"""
from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Callable

from distributed import wait
from distributed.scheduler import KilledWorker

WORKER_DIED = "the grading process died, twice"
_DIED_ONCE = object()


@dataclass(frozen=True)
class Job:
    """Observe an assignment's reference (``student`` None), or grade a submission."""
    assignment: str
    student: str | None = None


class Dispatcher:
    """Runs jobs on the workers that ``workers()`` names (the accepted ones alive now), one per
    worker at a time. ``submit(job, address)`` sends a job to that worker and returns its future;
    ``done(job, future, error)`` takes each job's outcome, once."""

    def __init__(self, workers: Callable[[], set[str]], submit: Callable, done: Callable,
                 poll_s: float = 0.5, no_worker_s: float = 120.0):
        self.workers, self.submit, self.done = workers, submit, done
        self.poll_s, self.no_worker_s = poll_s, no_worker_s

    def run(self, students: dict[str, list[str]], observed: set[str] = frozenset()) -> None:
        """Observe each assignment's reference (but those ``observed`` already), then grade its ``students``."""
        observing = deque(Job(assignment) for assignment in students if assignment not in observed)
        grading = deque(Job(assignment, student) for assignment in students if assignment in observed
                        for student in students[assignment])
        in_flight: dict = {}  # future -> (job, worker)
        deaths: Counter[Job] = Counter()
        alone_since = None
        while observing or grading or in_flight:
            live = self.workers()
            busy = {worker for _, worker in in_flight.values()}
            for worker in sorted(live - busy):
                queue = observing or grading
                if not queue:
                    break
                job = queue.popleft()
                in_flight[self.submit(job, worker)] = (job, worker)
            if not in_flight:
                alone_since = alone_since or time.monotonic()
                if time.monotonic() - alone_since > self.no_worker_s:
                    for job in [*observing, *grading]:
                        self.done(job, None, f"no grading worker was left for {self.no_worker_s:.0f} s")
                    return
                time.sleep(self.poll_s)
                continue
            alone_since = None
            try:
                finished, _ = wait(list(in_flight), timeout=self.poll_s, return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished yet: look at the workers again
                finished = set()
            live = self.workers()
            # a job whose worker left before it finished: it may have been what killed it
            left = {future for future, (_, worker) in in_flight.items() if future not in finished and worker not in live}
            for future in [*finished, *left]:
                job, _ = in_flight.pop(future)
                error = _DIED_ONCE if future in left else failure(future)
                if future in left:
                    future.cancel()
                if error is _DIED_ONCE:
                    deaths[job] += 1
                    if deaths[job] < 2:
                        (grading if job.student else observing).appendleft(job)
                        continue
                    error = WORKER_DIED
                self.done(job, future if error is None else None, error)
                if job.student is None and error is None:
                    grading.extend(Job(job.assignment, student) for student in students[job.assignment])


def failure(future):
    """Why a finished task failed: None when it did not, ``_DIED_ONCE`` when its worker died."""
    if future.status == "finished":
        return None
    try:
        future.result()
    except KilledWorker:
        return _DIED_ONCE
    except Exception as error:  # noqa: BLE001 - whatever the task raised is its reason
        return f"{type(error).__name__}: {error}"[:2000]
    return None
