"""Handing a run's tasks to Dask workers: one at a time to each worker that accepted the run.

Dask, when a worker dies, blames every task the scheduler had assigned to it, running or
waiting, and (``allowed-failures`` 0, ``course.cluster``) fails each with ``KilledWorker`` at
once. A submission that kills its worker must not cost a neighbour its grade, so each worker
here holds one task at a time (the one it runs), and a job counts one death only when its own
task failed with ``KilledWorker``: it is given once more, to another worker, and reported after a
second death. Anything else that takes a job's task away (its worker retired while it waited, a
result lost with the worker holding it before it was fetched, a chapter or reference it needed
lost) is not the job's doing: it is given again without a death counted, a few times at most.
A worker missing from the scheduler's list while its task is pending is not a death either:
were it dead, its task would fail so. The tasks of a chapter wait for its reference, and every
chapter's reference goes out before any submission, so that no worker sits idle while another
observes the reference that its next submissions need.
"""
from __future__ import annotations

import time
from collections import Counter, deque
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Callable

from distributed import wait
from distributed.scheduler import KilledWorker

WORKER_DIED = "the grading process died, twice"
RESULT_TIMEOUT_S = 120  # fetching a finished task's result; past it the result is taken as lost
GONE_GRACE_S = 30       # a pending task's worker absent this long: the task is taken back
STOPPED = "grading was stopped before this submission's turn"
MOST_LOSSES = 3         # a job taken back more often than this is reported


@dataclass(frozen=True)
class Job:
    """Observe an assignment's reference (``student`` None), or grade a submission."""
    assignment: str
    student: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of a job's task: its result, or that its worker died of it (``killed``), or
    that it was lost through no fault of its own (``lost``), or why it failed (``error``)."""
    result: object = None
    killed: bool = False
    lost: str | None = None
    error: str | None = None


class Dispatcher:
    """Runs jobs on the workers that ``workers()`` names (the accepted ones alive now), one per
    worker at a time. ``submit(job, address)`` sends a job to that worker and returns its future;
    ``done(job, result, error)`` takes each job's outcome, once: its result, or None and why.
    Once ``stopping()`` is true, no job is sent; those in flight are waited for (or taken back
    when their worker is gone), and the others are done with STOPPED."""

    def __init__(self, workers: Callable[[], set[str]], submit: Callable, done: Callable,
                 poll_s: float = 0.5, no_worker_s: float = 120.0, stopping: Callable[[], bool] = lambda: False):
        self.workers, self.submit, self.done, self.stopping = workers, submit, done, stopping
        self.poll_s, self.no_worker_s = poll_s, no_worker_s

    def run(self, students: dict[str, list[str]], observed: set[str] = frozenset()) -> None:
        """Observe each assignment's reference (but those ``observed`` already), then grade its ``students``."""
        observing = deque(Job(assignment) for assignment in students if assignment not in observed)
        grading = deque(Job(assignment, student) for assignment in students if assignment in observed
                        for student in students[assignment])
        in_flight: dict = {}  # future -> (job, worker)
        absent_since: dict = {}  # future -> when its worker was first missed
        deaths: Counter[Job] = Counter()
        losses: Counter[Job] = Counter()
        alone_since = None
        while observing or grading or in_flight:
            if self.stopping() and not in_flight:
                for job in [*observing, *grading]:
                    self.done(job, None, STOPPED)
                return
            live = set() if self.stopping() else self.workers()
            busy = {worker for _, worker in in_flight.values()}
            for worker in sorted(live - busy):
                queue = observing or grading
                if not queue:
                    break
                job = queue.popleft()
                try:
                    in_flight[self.submit(job, worker)] = (job, worker)
                except OSError as error:  # the worker went away as the job's data was sent to it
                    self._lost(job, queue, losses, f"its worker went away as it was sent: {error}")
                    break
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
            except CancelledError:  # a task lost what it needed (wait raises, rather than return it)
                finished = {future for future in in_flight if future.done()}
            outcomes = {future: outcome(future) for future in finished}
            outcomes.update(self._taken_back(in_flight, set(finished), absent_since))
            for future, result in outcomes.items():
                job, _ = in_flight.pop(future)
                absent_since.pop(future, None)
                queue = grading if job.student else observing
                error = result.error
                if result.killed:
                    deaths[job] += 1
                    if deaths[job] < 2:
                        queue.appendleft(job)
                        continue
                    error = WORKER_DIED
                elif result.lost:
                    self._lost(job, queue, losses, result.lost)
                    continue
                self.done(job, result.result if error is None else None, error)
                if job.student is None and error is None:
                    grading.extend(Job(job.assignment, student) for student in students[job.assignment])

    def _lost(self, job: Job, queue: deque, losses: Counter, why: str) -> None:
        """A job's task lost through no fault of its own: given again, or past ``MOST_LOSSES`` reported."""
        losses[job] += 1
        if losses[job] <= MOST_LOSSES:
            queue.appendleft(job)
        else:
            self.done(job, None, f"its task was lost {losses[job]} times ({why})")

    def _taken_back(self, in_flight: dict, finished: set, absent_since: dict) -> dict:
        """The pending tasks whose worker has been gone a while (retired, say: Dask would keep
        such a task waiting for it for ever), cancelled."""
        live, now, taken = self.workers(), time.monotonic(), {}
        for future, (_, worker) in in_flight.items():
            if future in finished:
                continue
            if worker in live:
                absent_since.pop(future, None)
            elif now - absent_since.setdefault(future, now) > GONE_GRACE_S:
                future.cancel()
                taken[future] = Outcome(lost=f"its worker {worker} left")
        return taken


def outcome(future) -> Outcome:
    """What became of a task no longer pending (done, failed, cancelled or lost)."""
    if future.status == "finished":
        try:
            return Outcome(result=future.result(timeout=RESULT_TIMEOUT_S))
        except (TimeoutError, CancelledError, OSError) as error:  # the worker holding it died first
            future.cancel()
            return Outcome(lost=f"its result could not be fetched: {type(error).__name__}")
    if future.status != "error":  # cancelled, or lost with the worker that held its result
        future.cancel()
        return Outcome(lost=f"it was {future.status}")
    try:
        future.result()
    except KilledWorker as error:
        if error.task == future.key:
            return Outcome(killed=True)
        return Outcome(lost=f"what it needed was lost with a worker ({error.task})")
    except CancelledError:
        return Outcome(lost="it was cancelled")
    except Exception as error:  # noqa: BLE001 - whatever the task raised is its reason
        return Outcome(error=f"{type(error).__name__}: {error}"[:2000])
    return Outcome(error="it failed, for no reason Dask gave")
