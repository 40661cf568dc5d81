"""A private PostgreSQL server for the course's gradebook, in a folder of its own.

``GradebookServer(folder).start()`` initialises the folder on first use (Debian's server binaries,
``initdb``), starts the server on 127.0.0.1, creates the course's role and database, and gives
nbgrader's ``db_url`` (``postgresql+psycopg://``); ``stop()`` stops it and ``restart()`` stops and
starts it again with the same port, role and data. PostgreSQL refuses to run as root: started by
root, it runs as ``account``, which owns the folder's data. The superuser is reached only through
the server's socket, in a folder only that account (and root) can enter; the course's role logs
in over TCP with a password kept in the folder, readable by its owner only.
"""
from __future__ import annotations

import os
import pwd
import secrets
import socket
import subprocess
import time
from pathlib import Path

from traitlets import Int, Unicode
from traitlets.config import Configurable

SUPERUSER = "postgres"


class DatabaseError(RuntimeError):
    """The gradebook's database server could not be set up, started or reached; the message says why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GradebookServer(Configurable):
    """One PostgreSQL server holding the course's gradebook, with its data in ``folder``."""

    bin_dir = Unicode("/usr/lib/postgresql/15/bin", help="Where PostgreSQL's server binaries are "
                      "(initdb, pg_ctl): Debian's package puts them under /usr/lib/postgresql/<version>/bin").tag(config=True)
    account = Unicode("postgres", help="The Unix account the server runs as when started by root, which "
                      "PostgreSQL refuses to run as (Debian's postgresql package creates it)").tag(config=True)
    role = Unicode("nbgrader", help="The database role the course's gradebook logs in as").tag(config=True)
    database = Unicode("dl_computation", help="The database holding the course's gradebook").tag(config=True)
    port = Int(0, help="The TCP port on 127.0.0.1; 0 picks a free one the first time and keeps it").tag(config=True)
    start_timeout = Int(60, help="Seconds to wait for the server to accept connections").tag(config=True)

    def __init__(self, folder: Path, **kwargs):
        super().__init__(**kwargs)
        self.folder = Path(folder)
        self.data, self.sockets, self.log = self.folder / "data", self.folder / "sockets", self.folder / "server.log"

    @property
    def _as_account(self) -> list[str]:
        return ["runuser", "-u", self.account, "--"] if os.geteuid() == 0 else []

    def _run(self, *argv: str) -> None:
        result = subprocess.run([*self._as_account, *argv], capture_output=True, text=True)
        if result.returncode != 0:
            raise DatabaseError(f"{' '.join(argv[:2])} failed (exit {result.returncode}): "
                                f"{(result.stderr or result.stdout)[-2000:]}\nserver log: {self.log}")

    def _secret(self, name: str, make) -> str:
        path = self.folder / name
        if not path.is_file():
            path.write_text(str(make()))
            path.chmod(0o600)
        return path.read_text().strip()

    def _prepare(self) -> None:
        if not Path(self.bin_dir, "pg_ctl").is_file():
            raise DatabaseError(f"no PostgreSQL server in {self.bin_dir} (Debian: apt-get install postgresql)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # the account reaches its data through it; the secrets in it are 0600
        self.password = self._secret("password", lambda: secrets.token_urlsafe(24))
        self.port = int(self._secret("port", lambda: self.port or free_port()))
        for folder in (self.data, self.sockets):
            folder.mkdir(mode=0o700, exist_ok=True)
            if os.geteuid() == 0:
                os.chown(folder, pwd.getpwnam(self.account).pw_uid, pwd.getpwnam(self.account).pw_gid)
        if not self.log.exists():
            self.log.touch()
        if os.geteuid() == 0:
            os.chown(self.log, pwd.getpwnam(self.account).pw_uid, -1)
            probe = subprocess.run([*self._as_account, "test", "-w", str(self.data)])
            if probe.returncode != 0:
                raise DatabaseError(f"the account {self.account!r} cannot reach {self.data}: "
                                    "a folder above it is private to another user")

    def start(self) -> "GradebookServer":
        """Initialise (first time), start, and make sure the role and database exist."""
        self._prepare()
        if not (self.data / "PG_VERSION").is_file():
            # the superuser only through the private socket folder; the course's role by password over TCP
            self._run(f"{self.bin_dir}/initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth-local=trust",
                      "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C")
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.sockets}"
        self._run(f"{self.bin_dir}/pg_ctl", "start", "-w", "-t", str(self.start_timeout), "-D", str(self.data),
                  "-l", str(self.log), "-o", options)
        self._create_role_and_database()
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").is_file():
            self._run(f"{self.bin_dir}/pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> "GradebookServer":
        return self.start()

    def __exit__(self, *error) -> None:
        self.stop()

    @property
    def db_url(self) -> str:
        """nbgrader's ``CourseDirectory.db_url`` for the course's gradebook."""
        return f"postgresql+psycopg://{self.role}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def _superuser(self):
        import psycopg

        return psycopg.connect(host=str(self.sockets), port=self.port, user=SUPERUSER, dbname="postgres",
                               autocommit=True)

    def _create_role_and_database(self) -> None:
        from psycopg import sql

        with self._superuser() as connection:
            role, database = sql.Identifier(self.role), sql.Identifier(self.database)
            if not connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [self.role]).fetchone():
                connection.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
            connection.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(self.password)))
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone():
                connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))


def wait_for_database(db_url: str, timeout: float) -> bool:
    """Whether the database at ``db_url`` accepts connections within ``timeout`` seconds."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return True
            except Exception:  # noqa: BLE001 - any failure to connect: wait and try again
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.5)
    finally:
        engine.dispose()
