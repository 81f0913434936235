"""Client side: start/stop the server process, talk to its admin API, write the env file.

    with Emulator(state_dir="/tmp/x") as emu:
        boto3.client("rds", endpoint_url=emu.endpoint_url, ...)

The server runs as a separate process in its own session (so `localaws up` can return and the terminal's
Ctrl-C does not reach it).  Everything it starts is recorded by PID in the state dir; `stop()` asks it to shut
down cleanly, then falls back to signalling those PIDs.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .postgres import _pid_alive, free_port

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # tools/localaws
REPO_ROOT = PACKAGE_ROOT.parent.parent
DEFAULT_REGION = "us-east-1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


def default_state_dir() -> Path:
    return Path(os.environ.get("LOCALAWS_STATE_DIR") or REPO_ROOT / ".local" / "localaws").absolute()


class EmulatorError(RuntimeError):
    pass


class Emulator:
    def __init__(self, state_dir=None, port: int | None = None, profile: str = "test",
                 env: dict[str, str] | None = None):
        self.state_dir = Path(state_dir).absolute() if state_dir else default_state_dir()
        self.port = port
        self.profile = profile
        self.extra_env = dict(env or {})
        self.pid: int | None = None
        self._proc: subprocess.Popen | None = None

    # --- files in the state dir ----------------------------------------------------------------------
    @property
    def env_file(self) -> Path:
        return self.state_dir / "localaws.env"

    @property
    def server_file(self) -> Path:
        return self.state_dir / "server.json"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "localaws.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    @property
    def counts_file(self) -> Path:
        return self.state_dir / "request-counts.json"

    @classmethod
    def attach(cls, state_dir=None) -> "Emulator":
        """The emulator described by a state dir (started by `localaws up`, maybe in another process)."""
        emu = cls(state_dir)
        try:
            info = json.loads(emu.server_file.read_text())
        except (OSError, ValueError):
            raise EmulatorError(f"no emulator recorded in {emu.state_dir} (run `python -m localaws up`)") from None
        emu.port, emu.pid, emu.profile = info["port"], info["pid"], info.get("profile", "test")
        return emu

    # --- addresses -----------------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            "AWS_REGION": DEFAULT_REGION,
            "LOCALAWS_STATE_DIR": str(self.state_dir),
            # The CA the clusters' TLS certificates come from (tls.py): sslrootcert for sslmode=verify-full.
            "LOCALAWS_RDS_CA": str(self.state_dir / "tls" / "rds-ca.pem"),
        }

    # --- lifecycle -----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.pid is not None and _pid_alive(self.pid)

    def start(self) -> "Emulator":
        if self.running:
            return self
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o755)  # the postgres OS user must traverse it to reach data dirs
        self._refuse_if_already_up()
        self._kill_leftovers()
        attempts = 1 if self.port else 5
        for attempt in range(attempts):
            port = self.port or free_port()
            try:
                self._spawn(port)
                break
            except EmulatorError:
                if attempt == attempts - 1 or self.port:
                    raise
        self.server_file.write_text(json.dumps({"pid": self.pid, "port": self.port, "profile": self.profile}))
        self.pid_file.write_text(f"{self.pid}\n")
        self.write_env_file()
        return self

    def _refuse_if_already_up(self) -> None:
        try:
            other = Emulator.attach(self.state_dir)
        except EmulatorError:
            return
        if other.running:
            raise EmulatorError(f"an emulator (pid {other.pid}, port {other.port}) already uses {self.state_dir}; "
                                "run `python -m localaws down` first or pick another --state-dir")

    def _spawn(self, port: int) -> None:
        env = dict(os.environ, **self.extra_env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        env["LOCALAWS_PROFILE"] = self.profile
        log = open(self.log_file, "ab")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "localaws.server", "--port", str(port), "--state-dir", str(self.state_dir),
                 "--profile", self.profile],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        finally:
            log.close()
        self.pid, self.port = self._proc.pid, port
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.pid = None
                raise EmulatorError(f"localaws server exited ({self._proc.returncode}); see {self.log_file}")
            try:
                self.admin("GET", "health", timeout=1)
                return
            except (OSError, EmulatorError):
                time.sleep(0.1)
        self._terminate()
        raise EmulatorError(f"localaws server did not answer within {START_TIMEOUT}s; see {self.log_file}")

    def write_env_file(self) -> Path:
        lines = ["# Written by `python -m localaws up`: source it to point boto3/Ansible at the emulator."]
        lines += [f"export {key}={shlex.quote(value)}" for key, value in self.env.items()]
        self.env_file.write_text("\n".join(lines) + "\n")
        return self.env_file

    def stop(self) -> dict:
        """Clean shutdown (servers stopped, counts written); then make sure no recorded PID survives."""
        if self.pid is None:
            with contextlib.suppress(EmulatorError):
                attached = Emulator.attach(self.state_dir)
                self.pid, self.port = attached.pid, attached.port
        if self.running:
            # The server may go before its answer is whole (IncompleteRead): it is stopping, which is what was asked.
            with contextlib.suppress(OSError, http.client.HTTPException, EmulatorError):
                self.admin("POST", "shutdown", timeout=5)
            if not self._wait_exit(STOP_TIMEOUT):
                self._terminate()
        self._kill_leftovers()
        self.pid = None
        self._proc = None
        for stale in (self.server_file, self.pid_file, self.env_file):  # a sourced stale env file would point at a dead port
            with contextlib.suppress(OSError):
                stale.unlink()
        try:
            return json.loads(self.counts_file.read_text())
        except (OSError, ValueError):
            return {}

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None:
                self._proc.poll()
            if not self.running:
                return True
            time.sleep(0.05)
        return False

    def _terminate(self) -> None:
        if self.pid and _pid_alive(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            if not self._wait_exit(10):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self._wait_exit(5)

    def _kill_leftovers(self) -> None:
        """PostgreSQL servers recorded in pids.json that are still alive (the server died uncleanly)."""
        from .postgres import PostgresServer

        try:
            recorded = json.loads((self.state_dir / "pids.json").read_text())
        except (OSError, ValueError):
            return
        for base_dir, pid in recorded.get("postgres", {}).items():
            if _pid_alive(pid) and _is_postmaster(pid, base_dir):
                server = PostgresServer(base_dir)
                server.pid = pid
                server.stop()
        (self.state_dir / "pids.json").write_text(json.dumps({"server": None, "postgres": {}}))

    # --- admin API -----------------------------------------------------------------------------------
    def admin(self, method: str, name: str, payload=None, timeout: float = 30):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.endpoint_url}/_localaws/{name}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise EmulatorError(f"{method} /_localaws/{name}: {exc.code} {exc.read().decode(errors='replace')}") \
                from None

    def health(self) -> dict:
        return self.admin("GET", "health", timeout=2)

    def reset(self) -> None:
        self.admin("POST", "reset")

    def counts(self) -> dict:
        return self.admin("GET", "counts")

    def clear_counts(self) -> None:
        self.admin("DELETE", "counts")

    def set_faults(self, rules: list[dict] | None = None, seed: int | None = None) -> dict:
        """rules: [{"service": "rds", "action": "DescribeDBClusters", "kind": "throttle|5xx|drop",
        "rate": 0.5, "times": None}]; [] or None clears them."""
        return self.admin("POST", "faults", {"rules": rules or [], "seed": seed})

    def set_durations(self, **seconds: float) -> dict:
        return self.admin("POST", "durations", seconds)

    def iam_usage(self) -> dict:
        """{role ARN: {"<statement Sid> <action pattern>": requests it allowed}} since the last reset."""
        return self.admin("GET", "iam/usage")

    def stamp_tags(self, arn: str, tags: dict) -> dict:
        """Put tags on an RDS resource that the API itself refuses (aws:*): what CloudFormation or Backup stamp."""
        return self.admin("POST", "system-tags", {"arn": arn, "tags": tags})

    def backup(self, cluster: str, account: str = "123456789012", region: str = DEFAULT_REGION) -> dict:
        """Record a point of the cluster's continuous backup (its data now): point-in-time restores to this time or
        later show exactly this data."""
        return self.admin("POST", "backup", {"cluster": cluster, "account": account, "region": region})

    def set_settings(self, **values: str) -> dict:
        """Switch a behaviour (config.SETTINGS), e.g. cross_account_region_copy="two-step" or iam="off"."""
        return self.admin("POST", "settings", values)

    def durations(self) -> dict:
        return self.admin("GET", "durations")

    def state(self) -> dict:
        return self.admin("GET", "state")

    def force_status(self, resource: str, identifier: str, status: str, account: str = "123456789012",
                     region: str = DEFAULT_REGION) -> dict:
        """Put a cluster or instance into `status` (a fault such as insufficient-capacity, for tests)."""
        return self.admin("POST", "status", {"resource": resource, "id": identifier, "status": status,
                                             "account": account, "region": region})

    def seed(self, **kwargs) -> dict:
        from .seed import seed

        return seed(self.env, **kwargs)

    def client(self, service: str, region: str = DEFAULT_REGION, **kwargs):
        """A boto3 client pointed at the emulator (account 123456789012 unless credentials say otherwise)."""
        import boto3

        params = dict(endpoint_url=self.endpoint_url, region_name=region, aws_access_key_id="testing",
                      aws_secret_access_key="testing")
        params.update(kwargs)
        return boto3.client(service, **params)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _is_postmaster(pid: int, base_dir: str) -> bool:
    """Guard against PID reuse: only signal a process that is a postgres serving that data dir."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and cmdline[0].endswith(b"postgres") and str(Path(base_dir) / "data").encode() in cmdline
