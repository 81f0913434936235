"""A real, throw-away PostgreSQL server: init, start, stop, copy.

Used by the emulator (one server per Aurora cluster, one stopped copy per snapshot) and by tests that need a
database (``postgres_server`` fixture).  Layout of ``base_dir``::

    base_dir/data/            PGDATA
    base_dir/postgres.log     server log
    base_dir/server.json      superuser, password, last port (so a copy can be restarted by someone else)

Authentication: scram-sha-256 over TCP on 127.0.0.1 (what clients use, like Aurora), and ``trust`` on a
private Unix socket in a 0700 directory that only the server's OS user and root can enter.  That socket is
the emulator's back channel (think Aurora's ``rdsadmin``): it can reset the master password even if a
client changed it behind the emulator's back.

When running as root, initdb and postgres refuse to run, so both run as the ``postgres`` OS user
(``LOCALAWS_PG_USER``) via ``subprocess.Popen(user=...)``: the PID we keep is the postmaster itself, so
``stop()`` can signal exactly the process we started.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("LOCALAWS_PG_BIN", "/usr/lib/postgresql/15/bin"))

# Small footprint so that 20+ servers fit on a 2-core machine; durability is irrelevant for test data.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "shared_buffers": "8MB",
    "max_connections": "20",
    "max_wal_senders": "2",
    "max_worker_processes": "2",
    "max_parallel_workers": "0",
    "max_parallel_workers_per_gather": "0",
    "autovacuum_max_workers": "1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "dynamic_shared_memory_type": "mmap",
    "huge_pages": "off",
    "jit": "off",
    "password_encryption": "scram-sha-256",
    "max_wal_size": "64MB",
    "min_wal_size": "32MB",
    "logging_collector": "off",
}

PG_HBA = """\
# Written by localaws.postgres.  TCP clients authenticate like on Aurora; the socket is the admin back channel.
local   all          all                     trust
local   replication  all                     trust
{tcp}    all          all      127.0.0.1/32   scram-sha-256
{tcp}    replication  all      127.0.0.1/32   scram-sha-256
"""


def pg_hba(force_ssl: bool = False) -> str:
    """pg_hba.conf: TCP clients over TLS only when the cluster's parameter group sets rds.force_ssl=1, as Aurora
    turns its rules into hostssl ones."""
    return PG_HBA.format(tcp="hostssl" if force_ssl else "host")

START_TIMEOUT = float(os.environ.get("LOCALAWS_PG_START_TIMEOUT", "30"))
STOP_TIMEOUT = 15.0


class PostgresError(RuntimeError):
    """A PostgreSQL server could not be initialised, started, stopped or copied."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the caller retries if another process grabs it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _os_user() -> str | None:
    """The OS user servers run as: None (ourselves) unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    return os.environ.get("LOCALAWS_PG_USER", "postgres")


def _chown_tree(path: Path, user: str | None) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _check_reachable(path: Path, user: str | None) -> None:
    """Fail early with a clear message when the postgres OS user cannot enter a parent directory (/root)."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        st = parent.stat()
        if st.st_uid == entry.pw_uid:
            continue
        if not st.st_mode & 0o001 and not (st.st_gid == entry.pw_gid and st.st_mode & 0o010):
            raise PostgresError(
                f"{parent} is not traversable by OS user {user!r}: put PostgreSQL data outside it "
                "(e.g. under /tmp or a state dir outside /root)"
            )


def _run(cmd: list[str], user: str | None, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, user=user, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise PostgresError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def _template_dir(superuser: str, user: str | None) -> Path:
    """An initdb'ed data directory for this superuser, built once per machine and copied afterwards.

    initdb costs ~0.6 s; a copy ~0.07 s.  Built in a temp dir and renamed into place so that concurrent
    builders (pytest-xdist workers) never see a half-written template.
    """
    version = (PG_BIN / "postgres").resolve().parent.parent.name
    root = Path(tempfile.gettempdir()) / f"localaws-pg-templates-{os.getuid()}" / version
    target = root / superuser
    if (target / "PG_VERSION").exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    os.chmod(root.parent, 0o755)
    building = Path(tempfile.mkdtemp(prefix=f".{superuser}.", dir=root))
    _chown_tree(building, user)
    _run(
        [str(PG_BIN / "initdb"), "-D", str(building / "data"), "-U", superuser, "--auth=trust",
         "--no-sync", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
        user,
    )
    try:
        os.rename(building / "data", target)
    except OSError:  # another worker won the race; its template is as good as ours
        pass
    shutil.rmtree(building, ignore_errors=True)
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class PostgresServer:
    """One PostgreSQL server in ``base_dir``.  Not thread-safe; guard with a lock if shared."""

    def __init__(self, base_dir, superuser: str = "postgres", password: str | None = None,
                 port: int | None = None, host: str = "127.0.0.1"):
        self.base_dir = Path(base_dir).absolute()
        meta = self._read_meta()
        self.superuser = meta.get("superuser", superuser)
        self.password = password if password is not None else meta.get("password") or secrets.token_urlsafe(16)
        self.host = host
        self._fixed_port = port
        self.port: int | None = port
        self.pid: int | None = None
        self._proc: subprocess.Popen | None = None
        self._socket_dir: Path | None = None
        self._os_user = _os_user()

    # --- paths and metadata -------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    @property
    def _meta_file(self) -> Path:
        return self.base_dir / "server.json"

    def _read_meta(self) -> dict:
        try:
            return json.loads((self.base_dir / "server.json").read_text())
        except (OSError, ValueError):
            return {}

    def _write_meta(self) -> None:
        self._meta_file.write_text(json.dumps(
            {"superuser": self.superuser, "password": self.password, "port": self.port, "pid": self.pid}))
        os.chmod(self._meta_file, 0o600)

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def running(self) -> bool:
        return self.pid is not None and _pid_alive(self.pid)

    # --- lifecycle ----------------------------------------------------------------------------------
    def init(self) -> None:
        """Create the data directory (from the per-superuser template) unless it exists."""
        if self.initialized:
            return
        _check_reachable(self.base_dir, self._os_user)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        template = _template_dir(self.superuser, self._os_user)
        _run(["cp", "-a", str(template), str(self.data_dir)], None)
        (self.data_dir / "pg_hba.conf").write_text(pg_hba())
        _chown_tree(self.base_dir, self._os_user)
        os.chmod(self.data_dir, 0o700)
        self._write_meta()
        # The template's superuser has no password: it is set on first start, over the socket.
        (self.base_dir / ".password-pending").touch()

    def require_tls(self, required: bool) -> None:
        """Accept TCP clients over TLS only (rds.force_ssl=1), or over TLS or not; read at the next start or reload."""
        path = self.data_dir / "pg_hba.conf"
        text = pg_hba(required)
        if path.read_text() != text:
            path.write_text(text)

    def install_tls(self, cert_pem: bytes, key_pem: bytes) -> None:
        """Serve TLS with this certificate from the next start on (server.crt and server.key in the data directory,
        readable by the server's OS user only, as PostgreSQL requires of a key)."""
        self.init()
        for name, data, mode in (("server.crt", cert_pem, 0o644), ("server.key", key_pem, 0o600)):
            path = self.data_dir / name
            if path.exists() and path.read_bytes() == data:
                continue
            path.write_bytes(data)
            os.chmod(path, mode)
            if self._os_user is not None:
                entry = pwd.getpwnam(self._os_user)
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> "PostgresServer":
        """initdb if needed, start on a free port (retrying if another process takes it), wait until ready."""
        if self.running:
            return self
        self.init()
        self._remove_stale_pidfile()
        attempts = 1 if self._fixed_port else 5
        last_error = None
        for _ in range(attempts):
            self.port = self._fixed_port or free_port(self.host)
            try:
                self._spawn()
                break
            except PostgresError as exc:
                last_error = exc
                if "could not bind" not in str(exc) and "already in use" not in str(exc):
                    raise
        else:
            raise last_error
        pending = self.base_dir / ".password-pending"
        if pending.exists():
            self.set_password(self.password)
            pending.unlink()
        self._write_meta()
        return self

    def _spawn(self) -> None:
        self._socket_dir = Path(tempfile.mkdtemp(prefix="lpg"))  # short: socket paths max ~107 chars
        os.chmod(self._socket_dir, 0o700)
        _chown_tree(self._socket_dir, self._os_user)
        cmd = [str(PG_BIN / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
               "-c", f"unix_socket_directories={self._socket_dir}"]
        for key, value in SERVER_SETTINGS.items():
            cmd += ["-c", f"{key}={value}"]
        if (self.data_dir / "server.crt").exists():  # install_tls: TLS as Aurora serves it
            cmd += ["-c", "ssl=on"]
        log = open(self.log_file, "ab")
        try:
            # start_new_session: a Ctrl-C in the terminal must not kill servers we account for by PID.
            self._proc = subprocess.Popen(cmd, user=self._os_user, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        self.pid = self._proc.pid
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.pid = None
                self._cleanup_socket_dir()
                raise PostgresError(f"postgres exited ({self._proc.returncode}): {self._log_tail()}")
            if self._accepting():
                return
            time.sleep(0.05)
        self.stop()
        raise PostgresError(f"postgres did not become ready in {START_TIMEOUT}s: {self._log_tail()}")

    def _accepting(self) -> bool:
        sock_path = self._socket_dir / f".s.PGSQL.{self.port}"
        if not sock_path.exists():
            return False
        try:
            with self.admin_connect():
                return True
        except Exception:  # noqa: BLE001 - "starting up" and friends
            return False

    def _log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_file.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _remove_stale_pidfile(self) -> None:
        pidfile = self.data_dir / "postmaster.pid"
        if pidfile.exists():
            try:
                pid = int(pidfile.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pid = None
            if pid and _pid_alive(pid):
                raise PostgresError(f"{self.data_dir} is in use by running postmaster {pid}")
            pidfile.unlink()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Fast shutdown (SIGINT) of the postmaster we started; SIGKILL its process group if it hangs."""
        pid = self.pid or self._pid_from_files()
        if pid and _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            deadline = time.monotonic() + timeout
            while _pid_alive(pid) and time.monotonic() < deadline:
                if self._proc is not None:
                    self._proc.poll()
                time.sleep(0.02)
            if _pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)  # its session: postmaster + backends
        if self._proc is not None:
            with contextlib.suppress(Exception):
                self._proc.wait(timeout=1)
        self._proc = None
        self.pid = None
        self._cleanup_socket_dir()
        if self._meta_file.exists():
            self._write_meta()

    def _pid_from_files(self) -> int | None:
        """The postmaster PID when this object did not start it (e.g. ``localaws down`` after a crash)."""
        pidfile = self.data_dir / "postmaster.pid"
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _cleanup_socket_dir(self) -> None:
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def destroy(self) -> None:
        """Stop and delete every file of this server."""
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def copy_to(self, new_base_dir) -> "PostgresServer":
        """A consistent, stopped copy of this server's data in ``new_base_dir`` (same superuser/password).

        Running: pg_basebackup over the replication protocol (online, consistent, includes the WAL it
        needs).  Stopped: a plain file copy, which is consistent because the server was shut down cleanly.
        """
        new_base = Path(new_base_dir).absolute()
        if new_base.exists() and any(new_base.iterdir()):
            raise PostgresError(f"{new_base} is not empty")
        new_base.mkdir(parents=True, exist_ok=True)
        _chown_tree(new_base, self._os_user)
        if self.running:
            # Over the trusted socket: the superuser's password may have been changed by a client.
            _run([str(PG_BIN / "pg_basebackup"), "-h", str(self._socket_dir), "-p", str(self.port),
                  "-U", self.superuser, "-D", str(new_base / "data"), "-X", "stream", "-c", "fast",
                  "--no-sync", "-w"], self._os_user)
        elif self.initialized:
            _run(["cp", "-a", str(self.data_dir), str(new_base / "data")], None)
        else:
            raise PostgresError(f"{self.base_dir} has no data to copy")
        pending = self.base_dir / ".password-pending"
        if pending.exists():
            (new_base / ".password-pending").touch()
        copy = PostgresServer(new_base, superuser=self.superuser, password=self.password, host=self.host)
        copy._write_meta()
        _chown_tree(new_base, self._os_user)
        return copy

    # --- SQL helpers ------------------------------------------------------------------------------
    def dsn(self, user: str | None = None, password: str | None = None, dbname: str = "postgres") -> str:
        """A libpq connection string for a TCP client (what applications and tests use)."""
        user = user or self.superuser
        if password is None and user == self.superuser:
            password = self.password
        parts = [f"host={self.host}", f"port={self.port}", f"dbname={dbname}", f"user={user}"]
        if password is not None:
            parts.append("password='" + password.replace("\\", "\\\\").replace("'", "\\'") + "'")
        return " ".join(parts)

    def admin_connect(self, dbname: str = "postgres"):
        """A psycopg2 connection over the trusted socket (autocommit), whatever the password is."""
        import psycopg2

        conn = psycopg2.connect(host=str(self._socket_dir), port=self.port, user=self.superuser,
                                dbname=dbname, connect_timeout=5)
        conn.autocommit = True
        return conn

    def set_password(self, password: str, role: str | None = None) -> None:
        """ALTER ROLE ... PASSWORD, really (scram-sha-256 verifier computed by the server)."""
        from psycopg2 import sql

        role = role or self.superuser
        with contextlib.closing(self.admin_connect()) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(sql.Identifier(role),
                                                                         sql.Literal(password)))
        if role == self.superuser:
            self.password = password
            self._write_meta()

    def execute(self, statement: str, params=None, dbname: str = "postgres"):
        """Run one statement over the admin socket; returns fetched rows, if any."""
        with contextlib.closing(self.admin_connect(dbname)) as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else None

    # --- context manager --------------------------------------------------------------------------
    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"PostgresServer({str(self.base_dir)!r}, port={self.port}, pid={self.pid})"
