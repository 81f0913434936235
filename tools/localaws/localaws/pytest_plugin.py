"""pytest fixtures for the local emulator and for throw-away PostgreSQL servers.

Register with `pytest_plugins = ["localaws.pytest_plugin"]` in the root conftest.py.

* `localaws`        session: one running Emulator per pytest process (so per xdist worker: own port, own
                    state dir); stopped, with every PostgreSQL it started, at the end of the session.
* `aws_env`         function: wipes the emulator's state, exports AWS_* (endpoint, dummy credentials,
                    us-east-1) via monkeypatch, yields the Emulator.
* `postgres_server` function: a fresh started PostgresServer with a random superuser password.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from .emulator import Emulator
from .postgres import PostgresServer


def scratch_tmpdir(prefix: str) -> Path:
    """A fresh directory for emulator/PostgreSQL state in tests.

    Not pytest's tmp_path: it lives under a 0700 directory the `postgres` OS user cannot enter.  On tmpfs
    (/dev/shm) when available: a data directory is ~1000 files, and creating files there is several times
    faster than on disk, which is most of what a cluster or snapshot costs.  LOCALAWS_TEST_TMPDIR overrides.
    """
    base = os.environ.get("LOCALAWS_TEST_TMPDIR")
    if base is None and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        base = "/dev/shm"
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    os.chmod(path, 0o755)
    return path


@pytest.fixture(scope="session")
def localaws():
    state_dir = scratch_tmpdir("localaws-pytest-")
    profile = os.environ.get("LOCALAWS_PROFILE", "test")
    emulator = Emulator(state_dir=state_dir, profile=profile)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture
def aws_env(localaws, monkeypatch):
    localaws.reset()
    for key, value in localaws.env.items():
        monkeypatch.setenv(key, value)
    # Credentials from a developer's profile must never leak into tests.
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    yield localaws


@pytest.fixture
def postgres_server():
    base = scratch_tmpdir("localaws-pg-")
    server = PostgresServer(base / "pg", superuser="postgres", password=secrets.token_urlsafe(16))
    server.start()
    try:
        yield server
    finally:
        server.destroy()
        shutil.rmtree(base, ignore_errors=True)
