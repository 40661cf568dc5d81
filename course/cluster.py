"""Where a run grades: a Dask cluster of the course's workers, on this machine or many.

With no scheduler named, a run starts a ``LocalCluster`` of worker processes (one per core by
default) on the loopback, with a certificate made for that run alone: another user of the
machine cannot join it or send it work. With ``--scheduler tls://host:8786``, it grades on a
running cluster whose scheduler and workers were started with ``python -m course scheduler`` and
``python -m course worker`` and the certificates ``make certs`` wrote: a client or a worker
without them is refused. Either way a worker runs one task at a time, Dask's memory manager never stops it (the
sandbox limits its kernels), and a task is never run again by Dask after its worker died
(``allowed-failures`` 0): the run decides (``course.dispatch``).
"""
from __future__ import annotations

import datetime
import logging
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import dask
from distributed import Client, LocalCluster
from distributed.security import Security

from .course_dir import REPO, PipelineError, nbgrader_env

# a task whose worker died fails at once: the run gives it to another worker (course.dispatch).
# Dask's own watching costs a busy grading cluster about a tenth of its CPU: each worker samples
# its threads' stacks every 10 ms for the dashboard's profile (deep stacks, in grading), every
# server checks its event loop every 20 ms, and the system monitor reads the disks' counters.
DASK_CONFIG = {"distributed.scheduler.allowed-failures": 0,
               "distributed.worker.memory.target": False, "distributed.worker.memory.spill": False,
               "distributed.worker.memory.pause": False, "distributed.worker.memory.terminate": False,
               "distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
               "distributed.admin.system-monitor.disk": False}
CERTIFICATE_FILES = ("ca.pem", "course.pem", "course-key.pem")
CONNECT_TIMEOUT_S = 20


def make_certificates(folder: Path, days: int = 365) -> list[Path]:
    """A certificate authority of the course's own, and one certificate it signed, which the
    scheduler, the workers and the instructor's runs present to one another. The key files are
    readable by their owner alone: whoever holds them can run code on every grading host."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(name, key, issuer, issuer_key, ca):
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                   .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dl-computation grading CA")])
    ca = certificate("dl-computation grading CA", ca_key, ca_name, ca_key, True)
    leaf = certificate("dl-computation grading", key, ca_name, ca_key, False)
    pem = serialization.Encoding.PEM
    paths = [folder / name for name in CERTIFICATE_FILES]
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    fd = os.open(paths[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def certificate_paths(folder: Path) -> tuple[Path, Path, Path]:
    paths = tuple(Path(folder) / name for name in CERTIFICATE_FILES)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise PipelineError(f"no grading certificates at {folder} ({', '.join(missing)} missing): "
                            "run `make certs` and copy the folder to every grading host")
    return paths


def security(folder: Path) -> Security:
    ca, cert, key = (str(p) for p in certificate_paths(folder))
    return Security(require_encryption=True, tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key,
                    tls_scheduler_cert=cert, tls_scheduler_key=key, tls_worker_cert=cert, tls_worker_key=key)


def tls_options(folder: Path) -> list[str]:
    ca, cert, key = (str(p) for p in certificate_paths(folder))
    return ["--tls-ca-file", ca, "--tls-cert", cert, "--tls-key", key]


@contextmanager
def grading_client(jobs: int, scheduler: str = "", certificates: Path | None = None):
    """A Dask client to grade with: on a new ``LocalCluster`` of ``jobs`` workers, or on the
    cluster at ``scheduler``. Raises ``PipelineError`` when the scheduler cannot be reached."""
    with dask.config.set(DASK_CONFIG):
        if not scheduler:
            secure = Security.temporary()
            with LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, memory_limit=0,
                              host="127.0.0.1", protocol="tls://", security=secure, dashboard_address="127.0.0.1:0",
                              silence_logs=logging.ERROR) as cluster, \
                    Client(cluster, security=secure) as client:
                yield client
            return
        if not scheduler.startswith("tls://"):
            raise PipelineError(f"the scheduler's address must be tls://… (got {scheduler!r}): a grading cluster "
                                "runs whatever its clients send, so it only talks TLS with the course's certificates")
        try:
            client = Client(scheduler, security=security(certificates or Path("certs")), timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as error:
            raise PipelineError(f"the Dask scheduler at {scheduler} did not answer ({error}); nothing was graded") from error
        with client:
            yield client


def worker_command(scheduler: str, certificates: Path, nworkers: int | None, local_directory: str | None) -> list[str]:
    """``dask worker`` as a grading host runs it: one thread per worker process, a worker per core,
    no memory limit of Dask's."""
    command = [str(Path(sys.executable).parent / "dask"), "worker", scheduler, "--nthreads", "1",
               "--nworkers", str(nworkers or os.cpu_count() or 1), "--memory-limit", "0", *tls_options(certificates)]
    return command + (["--local-directory", local_directory] if local_directory else [])


def scheduler_command(certificates: Path, host: str, port: int) -> list[str]:
    return [str(Path(sys.executable).parent / "dask"), "scheduler", "--host", host, "--port", str(port),
            "--protocol", "tls", "--dashboard-address", "127.0.0.1:8787", *tls_options(certificates)]


def run(command: list[str]) -> int:
    """Become a scheduler or a worker (this process is replaced: a signal to it reaches Dask),
    with the course's Dask settings."""
    env = nbgrader_env()
    # the workers import this checkout's course code, whatever else the interpreter would find
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for name, value in DASK_CONFIG.items():
        env["DASK_" + name.upper().replace(".", "__").replace("-", "_")] = str(value)
    os.execve(command[0], command, env)


@contextmanager
def separate_hosts(folder: Path, workers: int = 2):
    """A scheduler and ``workers`` worker processes started with the course's own commands, each
    in a folder of its own under ``folder``, as on separate hosts (for the tests and the bench):
    yields the scheduler's address and the certificates' folder."""
    import time

    from .deploy.postgres import free_port

    folder = Path(folder)
    certificates = make_certificates(folder / "certs")[0].parent
    port = free_port()
    address = f"tls://127.0.0.1:{port}"
    command = [sys.executable, "-m", "course"]
    started = [_started(command + ["scheduler", "--certificates", str(certificates), "--host", "127.0.0.1",
                                   "--port", str(port)], folder / "scheduler")]
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            if time.monotonic() > deadline:
                raise PipelineError(f"the scheduler did not start: see {folder / 'scheduler' / 'log.txt'}")
            time.sleep(0.2)
        started += [worker_process(address, certificates, folder / f"host{index + 1}") for index in range(workers)]
        if workers:
            with Client(address, security=security(certificates), timeout=CONNECT_TIMEOUT_S) as client:
                client.wait_for_workers(workers, timeout=120)
        yield address, certificates
    finally:
        for process in reversed(started):
            stop(process)


def stop(process: subprocess.Popen, timeout_s: float = 60) -> None:
    """Stop a scheduler or worker process: asked first (Dask closes cleanly on SIGTERM), killed if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def worker_process(address: str, certificates: Path, folder: Path, checkout: Path = REPO) -> subprocess.Popen:
    """One grading host's worker, started by ``checkout``'s `python -m course worker` in ``folder``."""
    return _started([sys.executable, "-m", "course", "worker", address, "--certificates", str(certificates),
                     "--nworkers", "1", "--local-directory", str(folder / "scratch")], folder, cwd=checkout)


def _started(command: list[str], folder: Path, cwd: Path | None = None) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "log.txt", "w") as log:
        # -m finds `course` in the working folder first: a checkout's own code
        return subprocess.Popen(command, cwd=cwd or folder, stdout=log, stderr=subprocess.STDOUT, env=nbgrader_env())
