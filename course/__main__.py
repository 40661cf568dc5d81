"""python -m course COMMAND: the course's command line (the Makefile's targets call it)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from . import labs, operations
from .course_dir import REPO, Course, PipelineError


def lab(course: Course, student: str | None) -> int:
    """JupyterLab for ``student`` in students/<id>/, or for the instructor in the course root at formgrader."""
    browser = ["--no-browser" if os.environ.get("CI") else "--ServerApp.open_browser=True"]
    chosen = labs.student_lab(course, student, browser) if student else labs.instructor_lab(course, browser)
    os.chdir(chosen.folder)
    os.execvpe(chosen.argv[0], chosen.argv, chosen.env)


def run_service(course: Course, jobs: int | None, scheduler: str | None) -> int:
    """The grading service until Ctrl-C or SIGTERM (a hub stopping its service): the batch being
    graded finishes first; a second Ctrl-C interrupts it."""
    from .serve.service import GradingService

    stop = threading.Event()

    def request_stop(signum, frame) -> None:
        print("stopping the grading service once this batch is graded", flush=True)
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    try:
        GradingService(course, jobs, scheduler).run(stop)
    except KeyboardInterrupt:
        pass
    print("grading service stopped", flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in [("generate", "source/ -> release/"), ("release", "release to the exchange"),
                            ("collect", "collect submissions from the exchange"),
                            ("zip-collect", "collect files downloaded from an LMS (downloaded/<assignment>/archive)"),
                            ("autograde", "grade collected submissions"), ("feedback", "write feedback files")]:
        command = commands.add_parser(name, help=help_text)
        command.add_argument("assignment", nargs="?", help="one assignment (default: all)")
        if name == "autograde":
            command.add_argument("--jobs", type=int, default=None, help="parallel graders (default: c.ParallelGrading.jobs, 0: cores)")
            command.add_argument("--no-resume", action="store_true", help="regrade unchanged submissions too")
            command.add_argument("--no-kernel-pool", action="store_true",
                                 help="start every kernel afresh instead of forking it from a warm pool")
            command.add_argument("--scheduler", default=None,
                                 help="grade on the Dask cluster at tls://host:8786 (default: c.ParallelGrading.scheduler; "
                                 "none: a cluster of this machine's own)")
    serve = commands.add_parser("serve", help="grade each submission as it arrives and release its feedback (make serve)")
    serve.add_argument("--jobs", type=int, default=None, help="grading workers (default: c.ParallelGrading.jobs)")
    serve.add_argument("--scheduler", default=None, help="grade on the Dask cluster at tls://host:8786")
    serve.add_argument("--course", default=None, help="the course folder (default: this repository)")
    commands.add_parser("export", help="grades.csv from the gradebook")
    certs = commands.add_parser("certs", help="the grading cluster's TLS certificates (make certs)")
    certs.add_argument("folder", nargs="?", default="certs")
    scheduler = commands.add_parser("scheduler", help="a Dask scheduler for grading on many hosts")
    scheduler.add_argument("--certificates", default="certs", help="the folder `make certs` wrote")
    scheduler.add_argument("--host", default="0.0.0.0", help="the address to listen on")
    scheduler.add_argument("--port", type=int, default=8786)
    worker = commands.add_parser("worker", help="this host's grading workers, for the scheduler at tls://host:8786")
    worker.add_argument("scheduler", help="the scheduler's address, tls://host:8786")
    worker.add_argument("--certificates", default="certs", help="the folder `make certs` wrote")
    worker.add_argument("--nworkers", type=int, default=None, help="worker processes (default: one per core)")
    worker.add_argument("--local-directory", default=None, help="where the workers unpack chapters (default: Dask's)")
    report_parser = commands.add_parser("report", help="the instructor's report: report/index.html, test_grades.csv")
    report_parser.add_argument("--out", help="the report's folder (default: report/ in the course)")
    commands.add_parser("demo", help="the whole cycle on a synthetic class")
    bench = commands.add_parser("bench", help="stock serial nbgrader against the course's grading, one class; "
                                "the grading service's latency")
    bench.add_argument("--only", choices=("grading", "serve"), default=None,
                       help="grading: stock nbgrader against the course's grading; serve: the grading service's "
                       "latency and a deadline's burst (default: both)")
    bank_parser = commands.add_parser("bank", help="grade an assignment's bank of known answers and check each")
    bank_parser.add_argument("assignment")
    bank_parser.add_argument("--only", help="grade only this exercise's bank entries")
    lab_parser = commands.add_parser("lab", help="JupyterLab for a student (--student ID) or the instructor")
    lab_parser.add_argument("--student", help="the student's id: JupyterLab in students/<id>/, Assignments panel")
    lab_parser.add_argument("--formgrader", action="store_true", help="the instructor's JupyterLab (the default)")
    args = parser.parse_args(argv)

    course = Course(REPO)
    try:
        if args.command == "demo":
            from .demo import main as demo_main
            return demo_main()
        if args.command == "bench":
            from .bench import main as bench_main
            from .serve.bench import main as serve_bench_main
            benches = {"grading": bench_main, "serve": serve_bench_main}
            return max(bench() for name, bench in benches.items() if args.only in (None, name))
        if args.command == "bank":
            from .banks import grade_bank, print_bank
            return 1 if print_bank(grade_bank(args.assignment, args.only)) else 0
        if args.command in ("certs", "scheduler", "worker"):
            from . import cluster
            if args.command == "certs":
                print("grading certificates: " + ", ".join(map(str, cluster.make_certificates(args.folder))))
                return 0
            command = (cluster.scheduler_command(args.certificates, args.host, args.port) if args.command == "scheduler"
                       else cluster.worker_command(args.scheduler, args.certificates, args.nworkers, args.local_directory))
            return cluster.run(command)
        if args.command == "serve":
            return run_service(Course(Path(args.course).resolve()) if args.course else course, args.jobs, args.scheduler)
        if args.command == "lab":
            return lab(course, None if args.formgrader else args.student)
        if args.command == "report":
            from .report import build_report
            print(f"report written to {build_report(course, args.out)}")
            return 0
        if args.command == "export":
            print(f"grades written to {operations.export(course)}")
            return 0
        if args.command == "autograde":
            for run in operations.autograde(course, args.assignment, args.jobs, not args.no_resume,
                                            kernel_pool=not args.no_kernel_pool, scheduler=args.scheduler):
                print(f"{run.assignment}: graded {len(run.graded)} ({len(run.failed)} as empty copies after a "
                      f"grader failure), {len(run.skipped)} unchanged since last graded, "
                      f"{run.pooled_kernels} kernels from the pool, {run.seconds:.0f} s of the workers' time")
            return 0
        action = getattr(operations, args.command.replace("-", "_"))
        result = action(course, args.assignment)
        print(f"{args.command}: {result}")
        return 0
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
