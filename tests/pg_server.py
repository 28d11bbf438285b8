"""A throwaway PostgreSQL server for the test suite.

Usage::

    with ThrowawayPostgres() as pg:          # or pg = ThrowawayPostgres(); pg.start()
        url = pg.create_database("t1")        # SQLAlchemy URL for the new database
        ...
        pg.drop_database("t1")

What it does:

* ``initdb`` a brand-new cluster in a fresh temporary directory (never the
  packaged Debian cluster, never ``/var/lib/postgresql``), with trust auth and a
  superuser called ``folio``.
* Start it with ``pg_ctl`` listening only on a unix socket inside that temp
  directory and on ``127.0.0.1`` at a free port, with durability switched off
  (fsync etc.) because the data is thrown away anyway.
* ``stop()`` kills it (``pg_ctl stop -m immediate``) and deletes the directory.
  An ``atexit`` hook does the same if the test run forgets or crashes.

initdb/postgres refuse to run as root.  When we *are* root (CI containers,
dev boxes) the temp directory is chowned to the ``postgres`` system user and
the server binaries are run as that user through ``runuser`` (or ``su``).
Otherwise they simply run as the current user.

Everything that can go wrong while getting a server raises
``PostgresUnavailable`` with a one-line, human-readable reason, so a fixture
can turn it into ``pytest.skip(str(exc))`` (or a hard failure) as it likes.
SQL errors from ``create_database``/``drop_database`` on a running server
are *not* wrapped: they are ordinary ``psycopg`` errors (real test bugs).

Only the standard library and psycopg 3 are used.
"""

from __future__ import annotations

import atexit
import glob
import os
import pathlib
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import psycopg
from psycopg import sql

# Superuser created by initdb; trust auth, so no password anywhere.
SUPERUSER = "folio"

# A unix socket path must fit in sockaddr_un.sun_path (108 bytes incl. NUL).
_MAX_SOCKET_PATH = 107


class PostgresUnavailable(RuntimeError):
    """Why a server could not be had (one line, human readable)."""


# --------------------------------------------------------------------------
# Locating the server binaries
# --------------------------------------------------------------------------

def _version_key(bin_dir: str) -> tuple[int, ...]:
    """Sort key for /usr/lib/postgresql/<version>/bin (handles 9.6 < 15)."""
    version = pathlib.Path(bin_dir).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def find_pg_bin() -> pathlib.Path | None:
    """Directory holding initdb + pg_ctl (+ postgres), or None.

    Prefers the newest Debian/Ubuntu-style /usr/lib/postgresql/*/bin; falls
    back to wherever ``pg_ctl`` is on PATH (Homebrew, Fedora, ...).  Debian's
    /usr/bin wrappers (pg_ctlcluster & co.) are deliberately not used: they
    only operate on packaged clusters.
    """
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for bin_dir in candidates:
        path = pathlib.Path(bin_dir)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        path = pathlib.Path(pg_ctl).resolve().parent
        if (path / "initdb").is_file():
            return path
    return None


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def _free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (bind to port 0).

    There is an unavoidable race between closing this socket and postgres
    binding the port; start() retries with a new port if it loses it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _last_line(text: str) -> str:
    """Last non-empty line of some command output, for one-line errors."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _log_reason(log: str) -> str:
    """The most telling line of a server log: the last FATAL/PANIC/ERROR
    (the very last line is usually just "database system is shut down"),
    without the timestamp/pid prefix."""
    for line in reversed(log.splitlines()):
        match = re.search(r"\b(FATAL|PANIC|ERROR):\s*(.*)", line)
        if match:
            return f"{match.group(1)}: {match.group(2).strip()}"
    return _last_line(log)


def _clean_env() -> dict[str, str]:
    """Environment for the server tools.

    Drops PG* variables (PGDATA, PGPORT, PGHOST... from the developer's shell
    must not leak into our cluster) and pins the C locale so messages we put
    into exceptions are English and initdb never trips over a missing locale.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    return env


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------

class ThrowawayPostgres:
    """One private PostgreSQL cluster living in a temp directory.

    ``base_dir`` is the *parent* for the temp directory (default: the system
    temp dir, usually /tmp).  Keep it short: the unix socket lives in there.
    When running as root it must be traversable by the ``postgres`` user.
    """

    def __init__(self, base_dir: pathlib.Path | None = None):
        self.base_dir = pathlib.Path(base_dir) if base_dir is not None else None
        self.bin_dir: pathlib.Path | None = None
        self.tmp_dir: pathlib.Path | None = None   # everything lives in here
        self.data_dir: pathlib.Path | None = None  # <tmp_dir>/data (PGDATA)
        self.socket_dir: pathlib.Path | None = None  # == tmp_dir
        self.log_file: pathlib.Path | None = None  # <tmp_dir>/server.log
        self.port: int | None = None
        self.user = SUPERUSER
        self._run_as: str | None = None  # "postgres" when we are root
        self._running = False
        self._atexit_registered = False

    # -- running the server binaries ---------------------------------------

    def _command(self, argv: list[str]) -> list[str]:
        """Wrap argv so it runs as the postgres user when we are root."""
        if self._run_as is None:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", self._run_as, "--", *argv]
        # su needs a shell command line, hence the quoting.
        return ["su", self._run_as, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a server tool; never raises for a non-zero exit (caller decides)."""
        try:
            return subprocess.run(
                self._command(argv),
                # cwd inside our dir: as `postgres` we may not be allowed to
                # stay in the caller's cwd (e.g. /root), which makes initdb warn.
                cwd=self.tmp_dir,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise PostgresUnavailable(f"{pathlib.Path(argv[0]).name} timed out after {timeout:.0f}s") from None
        except OSError as exc:
            raise PostgresUnavailable(f"could not run {argv[0]}: {exc}") from None

    def _tool(self, name: str) -> str:
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> str:
        """initdb + start the server; return the URL of the ``postgres`` db.

        Idempotent: calling it on a running instance just returns the URL.
        Raises PostgresUnavailable (after cleaning up) on any failure.
        """
        if self._running:
            return self.url_for("postgres")
        try:
            self._setup_dirs()
            self._initdb()
            self._start_server()
        except BaseException:
            # Leave nothing behind: half-started server, temp dir, atexit hook.
            self.stop()
            raise
        return self.url_for("postgres")

    def _setup_dirs(self) -> None:
        self.bin_dir = find_pg_bin()
        if self.bin_dir is None:
            raise PostgresUnavailable("no PostgreSQL server binaries found (apt-get install postgresql)")
        if not (self.bin_dir / "postgres").is_file():
            raise PostgresUnavailable(f"{self.bin_dir} has initdb and pg_ctl but no postgres binary")

        if os.geteuid() == 0:
            try:
                pg_user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root but there is no 'postgres' system user to run the server as"
                ) from None
            if not (shutil.which("runuser") or shutil.which("su")):
                raise PostgresUnavailable("running as root but neither runuser nor su is available")
            self._run_as = "postgres"

        try:
            if self.base_dir is not None:
                self.base_dir.mkdir(parents=True, exist_ok=True)
            self.tmp_dir = pathlib.Path(
                tempfile.mkdtemp(prefix="folio-pg-", dir=self.base_dir)
            )
            # Register cleanup as soon as there is something to clean up.
            self._register_atexit()
            # 0755: the server owner must own it (it creates data/ and the
            # socket here); others may traverse it to reach the socket.
            self.tmp_dir.chmod(0o755)
            if self._run_as is not None:
                os.chown(self.tmp_dir, pg_user.pw_uid, pg_user.pw_gid)
        except OSError as exc:
            raise PostgresUnavailable(f"could not create temp dir for PostgreSQL: {exc}") from None

        self.data_dir = self.tmp_dir / "data"
        self.socket_dir = self.tmp_dir
        self.log_file = self.tmp_dir / "server.log"
        if len(str(self.socket_dir / ".s.PGSQL.65535")) > _MAX_SOCKET_PATH:
            raise PostgresUnavailable(f"temp dir path too long for a unix socket: {self.tmp_dir}")

    def _initdb(self) -> None:
        result = self._run(
            [
                self._tool("initdb"),
                "-D", str(self.data_dir),
                "-A", "trust",        # no passwords; only reachable locally anyway
                "-U", SUPERUSER,
                "--no-sync",          # don't fsync the fresh cluster: ~2x faster
                "-E", "UTF8",
                "--locale=C",         # no dependency on installed locales
            ],
            timeout=120,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                "initdb failed: " + _last_line(result.stderr or result.stdout)
            )

    def _start_server(self, attempts: int = 3) -> None:
        assert self.log_file is not None
        for attempt in range(attempts):
            log_offset = len(self._read_log())  # only look at this attempt's output
            self.port = _free_port()
            # Passed by pg_ctl to a /bin/sh command line, hence shlex.quote.
            server_opts = " ".join(
                [
                    "-p", str(self.port),
                    "-k", shlex.quote(str(self.socket_dir)),   # unix socket dir
                    "-c", "listen_addresses=127.0.0.1",        # TCP: loopback only
                    # Throwaway data: skip durability work.
                    "-c", "fsync=off",
                    "-c", "synchronous_commit=off",
                    "-c", "full_page_writes=off",
                    # Headroom for per-test engines/pools and parallel workers.
                    "-c", "max_connections=200",
                ]
            )
            result = self._run(
                [
                    self._tool("pg_ctl"),
                    "-D", str(self.data_dir),
                    "-w", "-t", "30",
                    "-l", str(self.log_file),
                    "-o", server_opts,
                    "start",
                ],
                timeout=60,
            )
            if result.returncode == 0:
                self._running = True
                return
            log = self._read_log()[log_offset:]
            # Lost the race for the port to someone else: try another one.
            if "Address already in use" in log and attempt + 1 < attempts:
                self._kill_postmaster()
                continue
            reason = _log_reason(log) if log.strip() else _last_line(result.stderr or result.stdout)
            raise PostgresUnavailable(f"PostgreSQL failed to start: {reason}")

    def _read_log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace") if self.log_file else ""
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete the temp dir.

        Safe to call twice, after a failed start(), or from atexit.
        """
        if self.data_dir is not None and (self.data_dir / "postmaster.pid").exists():
            result = None
            try:
                result = self._run(
                    [self._tool("pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
                    timeout=30,
                )
            except PostgresUnavailable:
                pass
            if result is None or result.returncode != 0:
                self._kill_postmaster()  # last resort: signal it ourselves
        self._running = False
        if self.tmp_dir is not None:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            self.tmp_dir = None
        if self._atexit_registered:
            atexit.unregister(self._atexit_stop)
            self._atexit_registered = False

    def _kill_postmaster(self) -> None:
        """SIGKILL the postmaster named in postmaster.pid, if any.

        Children (backends) notice the postmaster is gone and exit on their
        own; an immediate shutdown would be nicer but pg_ctl just failed.
        """
        pid_file = self.data_dir / "postmaster.pid" if self.data_dir else None
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0]) if pid_file else 0
        except (OSError, ValueError):
            return
        if pid <= 0:
            return
        try:
            os.kill(pid, signal.SIGQUIT)  # postgres' "immediate shutdown" signal
            for _ in range(50):
                time.sleep(0.1)
                os.kill(pid, 0)  # raises once it is gone
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            atexit.register(self._atexit_stop)
            self._atexit_registered = True

    def _atexit_stop(self) -> None:
        try:
            self.stop()
        except Exception:  # never make interpreter shutdown noisy
            pass

    def __enter__(self) -> "ThrowawayPostgres":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- databases ---------------------------------------------------------

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy 2 + psycopg 3 URL for ``dbname`` on this server.

        Uses TCP on 127.0.0.1 (trust auth): works for any client user,
        no socket-path escaping.  The socket is still there for psql:
        ``psql -h <socket_dir> -p <port> -U folio``.
        """
        if self.port is None:
            raise RuntimeError("ThrowawayPostgres.start() has not been called")
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{urllib.parse.quote(dbname, safe='')}"

    def _admin_connect(self) -> psycopg.Connection:
        """Autocommit connection to the maintenance db (CREATE/DROP DATABASE
        cannot run inside a transaction)."""
        if not self._running:
            raise RuntimeError("ThrowawayPostgres.start() has not been called")
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
            autocommit=True, connect_timeout=10,
        )

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE name [TEMPLATE template]; return its URL.

        Note: PostgreSQL refuses to copy a template that has other open
        connections ("source database ... is being accessed by other users"),
        so dispose engines bound to the template before cloning it.
        """
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        with self._admin_connect() as conn:
            if template is not None:
                query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
                # PostgreSQL 15's default (WAL_LOG) writes every page of the copy to the WAL; with fsync off the
                # checkpoint FILE_COPY needs is cheap, and a test's database comes three times faster.
                if conn.info.server_version >= 150000:
                    query += sql.SQL(" STRATEGY FILE_COPY")
            conn.execute(query)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS ... WITH (FORCE): kicks out open
        connections (PostgreSQL 13+), and a missing db is not an error."""
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self._admin_connect() as conn:
            conn.execute(query)
