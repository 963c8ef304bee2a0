"""A real PostgreSQL server for tests: installed from Debian's packages if missing, then started.

`postgres_server` (session) gives a `PostgresServer`; `postgres_url` (per test) gives the SQLAlchemy
URL of a fresh, empty database on it. Set SOFTMAX_TEST_POSTGRES_URL (a SQLAlchemy or libpq URL of
a superuser on a running server) to use that server instead of starting one.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import URL, make_url

ENV_URL = "SOFTMAX_TEST_POSTGRES_URL"
PG_LIB = Path("/usr/lib/postgresql")
TMP = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())  # short socket paths
RUN_PREFIX = "softmax-pg-"  # our clusters live in <tmp>/softmax-pg-*; leftovers are reaped
OWNER_FILE = "owner.pid"  # the pytest process that started the cluster
INSTALL_HINT = (
    "Install PostgreSQL's server for these tests (`make system-packages`, or as root `apt-get "
    f"install -y postgresql`) or set {ENV_URL} to a running server's URL"
)
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",  # a throwaway cluster: durability only costs time
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


@dataclass(frozen=True)
class PostgresServer:
    """Where a running PostgreSQL server is, and how to reach it as a superuser."""

    host: str
    port: int
    user: str = "postgres"
    password: str | None = None

    def url(self, dbname: str = "postgres") -> str:
        """Return the SQLAlchemy (psycopg2) URL of database `dbname` on this server."""
        url = URL.create(
            "postgresql+psycopg2", self.user, self.password, self.host, self.port, dbname
        )
        return url.render_as_string(hide_password=False)

    def connect(self, dbname: str = "postgres"):
        """Return a new autocommit psycopg2 connection to database `dbname`."""
        conn = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname,
            connect_timeout=10,
        )
        conn.autocommit = True
        return conn

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        """Run one SQL statement outside a transaction (CREATE/DROP DATABASE need that)."""
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def create_database(self, name: str) -> str:
        """Create an empty database `name` and return its URL."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, ending any connections a test left open to it."""
        conn = self.connect()
        try:
            force = " WITH (FORCE)" if conn.server_version >= 130000 else ""
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"{force}')
        finally:
            conn.close()


def is_server_bin(folder: Path) -> bool:
    """Return whether `folder` holds the initdb and pg_ctl this module runs."""
    return (folder / "initdb").is_file() and (folder / "pg_ctl").is_file()


def find_bin_dir() -> Path | None:
    """Return the newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, if any."""
    found = [d for d in PG_LIB.glob("*/bin") if is_server_bin(d)]
    return max(found, key=lambda d: (d.parent.name.isdigit(), d.parent.name.zfill(8)), default=None)


def missing_postgres() -> Path:
    """Fail in one line: PostgreSQL's server is not installed (`make test` installs it)."""
    pytest.fail(f"{INSTALL_HINT}: no initdb under {PG_LIB}/*/bin", pytrace=False)


def as_postgres(cmd: list[str]) -> list[str]:
    """Prefix `cmd` to run as the unprivileged `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def run(cmd: list[str], cwd: Path, what: str, timeout: float = 120) -> None:
    """Run a server command; fail the fixture with its last line of output if it fails."""
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        out = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()
        pytest.fail(f"PostgreSQL {what} failed: {out[-1]}", pytrace=False)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_cluster(bin_dir: Path, folder: Path, mode: str = "fast") -> None:
    """Stop the cluster in `folder` if it runs, then delete `folder`; never raise."""
    data = folder / "data"
    if (data / "postmaster.pid").exists():
        for how in dict.fromkeys((mode, "immediate")):  # `fast` stuck? then `immediate`
            cmd = [str(bin_dir / "pg_ctl"), "stop", "-D", str(data), "-m", how, "-w", "-t", "30"]
            try:
                subprocess.run(as_postgres(cmd), cwd=folder, capture_output=True, timeout=40)
                break
            except (OSError, subprocess.TimeoutExpired):
                continue
    shutil.rmtree(folder, ignore_errors=True)


def reap_leftovers(bin_dir: Path) -> None:
    """Stop and delete clusters left by test runs that died without tearing theirs down."""
    for folder in TMP.glob(f"{RUN_PREFIX}*"):
        try:
            owner = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            owner = 0
        if owner and Path(f"/proc/{owner}").exists():
            continue  # another live test run (or this one) owns it
        if not owner and time.time() - folder.stat().st_mtime < 60:
            continue  # just made by a run that has not written its owner file yet
        stop_cluster(bin_dir, folder, mode="immediate")


def start_cluster(bin_dir: Path) -> tuple[Path, int]:
    """Create a fresh cluster in a new temp folder, start it on a free port; return both."""
    folder = Path(tempfile.mkdtemp(prefix=RUN_PREFIX, dir=TMP))
    (folder / OWNER_FILE).write_text(str(os.getpid()))
    try:
        owner = (os.getuid(), os.getgid())
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to `postgres`
            account = next((a for a in pwd.getpwall() if a.pw_name == "postgres"), None)
            if account is None:
                pytest.fail(f"{INSTALL_HINT}: no `postgres` user to run initdb as", pytrace=False)
            owner = (account.pw_uid, account.pw_gid)
            os.chown(folder, *owner)
        data = folder / "data"
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync"]
        run(as_postgres(initdb), folder, "initdb")
        for _ in range(3):  # another process may take the free port before we bind it
            port = free_port()
            settings = {**SERVER_SETTINGS, "port": str(port),
                        "unix_socket_directories": f"'{folder}'"}
            conf = "".join(f"{key} = {value}\n" for key, value in settings.items())
            # postgresql.auto.conf is read last, so these win; rewriting it resets the port.
            (data / "postgresql.auto.conf").write_text(conf)
            os.chown(data / "postgresql.auto.conf", *owner)
            start = [str(bin_dir / "pg_ctl"), "start", "-D", str(data), "-w", "-t", "60",
                     "-l", str(folder / "server.log")]
            done = subprocess.run(as_postgres(start), cwd=folder, capture_output=True, text=True)
            if done.returncode == 0:
                return folder, port
        log = (folder / "server.log").read_text(errors="replace").strip().splitlines()
        why = log[-1] if log else done.stderr.strip()
        pytest.fail(f"PostgreSQL did not start: {why}", pytrace=False)
    except BaseException:
        stop_cluster(bin_dir, folder)
        raise


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Yield a running PostgreSQL server: $SOFTMAX_TEST_POSTGRES_URL's, or a fresh local one."""
    if os.environ.get(ENV_URL):
        url = make_url(os.environ[ENV_URL])
        server = PostgresServer(url.host or "127.0.0.1", url.port or 5432,
                                url.username or "postgres", url.password)
        try:
            server.connect(url.database or "postgres").close()
            error = ""
        except psycopg2.Error as exc:
            error = str(exc).strip().splitlines()[0]
        if error:  # failed outside the except block, so pytest shows one line, not a chain
            pytest.fail(f"{ENV_URL} server not reachable: {error}", pytrace=False)
        yield server
        return
    bin_dir = find_bin_dir() or missing_postgres()
    reap_leftovers(bin_dir)
    folder, port = start_cluster(bin_dir)
    try:
        yield PostgresServer("127.0.0.1", port)
    finally:
        stop_cluster(bin_dir, folder)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """Yield the SQLAlchemy URL of a new empty database, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)
