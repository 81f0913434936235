"""The data behind the API: one PostgresServer per cluster, one stopped data copy per snapshot.

File work (a data directory is ~1000 files; copying one takes about a second on a busy sandbox) runs on a
small thread pool so API calls return at once; the Clock steps wait for the matching Future (`wait_for`),
so a snapshot is only `available`, and a cluster only `available`, once its data really exists.  Work on
one server is serialised by a per-server lock (a pg_basebackup must not race a stop).  Pool jobs never
take the server's global lock, so they cannot deadlock with request handling.

Directories are named by uuid, not by AWS identifier, so renames never move files.  Every started server's
PID is written to `<state>/pids.json` when it changes, so `localaws down` can stop leftovers by PID even
if the server process itself died.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from . import tls
from .postgres import PostgresError, PostgresServer

log = logging.getLogger("localaws.data")

# Engines whose clusters get a real server; others (aurora-mysql, ...) are API-only.
POSTGRES_ENGINES = ("aurora-postgresql", "postgres")


def done_future(value=None) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


class DataPlane:
    def __init__(self, state_dir: Path, workers: int = 4):
        self.state_dir = Path(state_dir)
        self.root = self.state_dir / "data"
        self.pids_file = self.state_dir / "pids.json"
        self.servers: dict[str, PostgresServer] = {}  # base dir -> every cluster server we created
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()  # servers, _locks, _futures, pids file
        self._futures: set[Future] = set()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="localaws-data")
        # Every cluster serves TLS with a certificate of the emulator's own CA (tls.py), as Aurora does with the RDS CA.
        self.tls = tls.ensure(self.state_dir / "tls", os.environ.get("LOCALAWS_ENDPOINT_HOST"))

    # --- async plumbing ----------------------------------------------------------------------------
    def _lock_for(self, path) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(str(path), threading.Lock())

    def _submit(self, fn, *args, after: Future | None = None) -> Future:
        """Run fn on the pool, once `after` (if any) has succeeded; no pool thread ever blocks on another."""
        proxy: Future = Future()

        def run_into_proxy(_=None):
            if after is not None and after.exception() is not None:
                proxy.set_exception(after.exception())
                return
            inner = self.pool.submit(fn, *args)
            inner.add_done_callback(lambda f: proxy.set_exception(f.exception()) if f.exception()
                                    else proxy.set_result(f.result()))

        if after is None or after.done():
            run_into_proxy()
        else:
            after.add_done_callback(run_into_proxy)
        with self._guard:
            self._futures.add(proxy)
        proxy.add_done_callback(self._forget_future)
        return proxy

    def _forget_future(self, future: Future) -> None:
        with self._guard:
            self._futures.discard(future)
        if future.exception() is not None:
            log.error("data job failed: %s", future.exception())

    def drain(self, timeout: float = 120) -> None:
        """Wait for every queued file job (before a reset or shutdown deletes what they work on)."""
        with self._guard:
            pending = list(self._futures)
        wait(pending, timeout=timeout)

    # --- cluster servers ------------------------------------------------------------------------
    def new_cluster(self, master_username: str, password: str) -> tuple[PostgresServer, Future]:
        server = PostgresServer(self._new_dir("clusters"), superuser=master_username, password=password)
        self._register(server)
        return server, self._submit(self._locked, server, server.init)

    def cluster_from_snapshot(self, snapshot_dir: Path, superuser: str, password: str,
                              ready: Future | None = None) -> tuple[PostgresServer, Future]:
        """A new cluster's data from a snapshot's (once `ready`); superuser/password as the snapshot has them."""
        base = self._new_dir("clusters")
        server = PostgresServer(base, superuser=superuser, password=password)
        self._register(server)

        def copy():
            PostgresServer(snapshot_dir).copy_to(base)
            server.password = PostgresServer(base).password  # what the data really holds
        return server, self._submit(self._locked, server, copy, after=ready)

    def start(self, server: PostgresServer, port: int | None, force_ssl: bool = False) -> Future:
        """Start (if stopped) on `port`, or on a fresh one if somebody else took it; the future gives the port.
        force_ssl: the cluster parameter group's rds.force_ssl is 1, so TCP clients must use TLS."""
        return self._submit(self._locked, server, self._start, server, port, force_ssl)

    def _start(self, server: PostgresServer, port: int | None, force_ssl: bool = False) -> int:
        if not server.running:
            server.install_tls(self.tls.cert_pem, self.tls.key_pem)
            server.require_tls(force_ssl)
            server._fixed_port = port
            try:
                server.start()
            except PostgresError as exc:
                if port is None or "could not bind" not in str(exc):
                    raise
                log.warning("port %s taken, starting %s on another one", port, server.base_dir)
                server._fixed_port = None
                server.start()
        self.write_pids()
        return server.port

    def stop(self, server: PostgresServer) -> None:
        """Synchronous: when an instance is gone, its endpoint must stop answering now."""
        self._locked(server, server.stop)
        self.write_pids()

    def set_password(self, server: PostgresServer, password: str) -> None:
        """ALTER ROLE now if running; otherwise at the next start (the data keeps the old one until then)."""
        def apply():
            if server.running:
                server.set_password(password)
            else:
                server.password = password
                server._write_meta()
                (server.base_dir / ".password-pending").touch()
        self._locked(server, apply)

    def destroy(self, server: PostgresServer) -> Future:
        with self._guard:
            self.servers.pop(str(server.base_dir), None)
        self.stop(server)
        return self._submit(self._locked, server, server.destroy)

    # --- snapshots ------------------------------------------------------------------------------
    def snapshot(self, server: PostgresServer, after: Future | None = None) -> tuple[Path, Future]:
        """A consistent copy (online pg_basebackup if running, file copy if stopped)."""
        target = self._new_dir("snapshots")
        return target, self._submit(self._locked, server, server.copy_to, target, after=after)

    def copy_snapshot(self, snapshot_dir: Path, ready: Future | None = None) -> tuple[Path, Future]:
        target = self._new_dir("snapshots")
        source = PostgresServer(snapshot_dir)
        return target, self._submit(self._locked, source, source.copy_to, target, after=ready)

    def delete_snapshot(self, snapshot_dir: Path | None, ready: Future | None = None) -> None:
        if snapshot_dir is not None:
            self._submit(shutil.rmtree, snapshot_dir, True, after=ready)

    # --- bookkeeping ----------------------------------------------------------------------------
    def _locked(self, server: PostgresServer, fn, *args):
        with self._lock_for(server.base_dir):
            return fn(*args)

    def _register(self, server: PostgresServer) -> None:
        with self._guard:
            self.servers[str(server.base_dir)] = server

    def _new_dir(self, kind: str) -> Path:
        path = self.root / kind / uuid.uuid4().hex[:12]
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        os.chmod(path.parent, 0o755)
        return path

    def running_pids(self) -> dict[str, int]:
        with self._guard:
            servers = list(self.servers.items())
        return {base: server.pid for base, server in servers if server.running}

    def write_pids(self) -> None:
        pids = self.running_pids()
        with self._guard:
            tmp = self.pids_file.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps({"server": os.getpid(), "postgres": pids}))
            os.replace(tmp, self.pids_file)

    def stop_all(self) -> None:
        self.drain()
        with self._guard:
            servers = list(self.servers.values())
        for server in servers:
            try:
                self._locked(server, server.stop)
            except Exception:  # noqa: BLE001 - keep stopping the others
                log.exception("stopping %s failed", server)
        self.write_pids()

    def wipe(self) -> None:
        """Stop every server and delete every cluster and snapshot directory."""
        self.stop_all()
        with self._guard:
            self.servers.clear()
            self._locks.clear()
        if self.root.exists():
            # Deleting thousands of files is slow; a rename is instant and the pool deletes in the background.
            trash = self.state_dir / f"trash-{uuid.uuid4().hex[:8]}"
            os.rename(self.root, trash)
            self._submit(shutil.rmtree, trash, True)
        self.write_pids()
