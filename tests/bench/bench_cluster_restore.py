"""Benchmark: the target's downtime under strategy=swap and strategy=replace, for the same emulated durations.

    python tests/bench/bench_cluster_restore.py [--rename 2] [--scale 1.0]

Starts its own emulator, seeds it, creates a "staging" target, then refreshes it once with replace and once with swap
(through real ansible-playbook). Prints the module's downtime_seconds and an outside probe's longest gap (the target
name not answering SQL at the endpoint the API reports), with no assertion: figures only.
Aim: swap within 2x the emulated rename time, and at least 10x below replace.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))  # tests/ -> helpers
sys.path.insert(0, str(HERE.parents[2] / "tools" / "localaws"))

import psycopg2  # noqa: E402

from helpers.ansible_run import run_playbook  # noqa: E402
from localaws.emulator import Emulator  # noqa: E402

TARGET = "staging"
SECRET = "staging/aurora/master"
NEW_PASSWORD = "Bench-staging-pw-1"
SOURCE_PASSWORD = "production-master-pw"


def durations(rename, scale):
    return dict(snapshot_create=1.0 * scale, copy=1.0 * scale, cluster_create=2.0 * scale, restore=10.0 * scale,
                instance_create=8.0 * scale, instance_delete=5.0 * scale, cluster_delete=5.0 * scale, modify=1.0 * scale,
                rename=rename, password_reset=3.0 * scale)


class Probe(threading.Thread):
    """Asks the API for the target's endpoint and opens a SQL session there, every 0.1 s; keeps the longest gap."""

    def __init__(self, rds):
        super().__init__(daemon=True)
        self.rds = rds
        self.stop = threading.Event()
        self.down_since = None
        self.longest = 0.0

    def answers(self):
        try:
            cluster = self.rds.describe_db_clusters(DBClusterIdentifier=TARGET)["DBClusters"][0]
        except Exception:  # noqa: BLE001 - name missing: down
            return False
        for password in (NEW_PASSWORD, SOURCE_PASSWORD):
            try:
                psycopg2.connect(host=cluster["Endpoint"], port=cluster["Port"], user="postgres", password=password,
                                 dbname="appdb", connect_timeout=1).close()
                return True
            except psycopg2.Error:
                continue
        return False

    def run(self):
        while not self.stop.is_set():
            now = time.monotonic()
            if self.answers():
                if self.down_since is not None:
                    self.longest = max(self.longest, now - self.down_since)
                    self.down_since = None
            elif self.down_since is None:
                self.down_since = now
            time.sleep(0.1)


def playbook(strategy, snapshot):
    task = {"cluster_identifier": TARGET, "snapshot_identifier": snapshot, "strategy": strategy,
            "instances": {"count": 1, "instance_class": "db.r6g.large"}, "master_secret_id": SECRET,
            "poll_interval_min": 0.5, "poll_interval_max": 2, "wait_timeout": 900}
    return json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                        "tasks": [{"name": "restore", "dbops.aurora_restore.aurora_cluster_restore": task}]}])


def wait(check, timeout=300):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rename", type=float, default=2.0, help="emulated rename seconds (default 2)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplier of the other emulated durations")
    args = parser.parse_args()
    state_dir = Path(tempfile.mkdtemp(prefix="bench-cluster-restore-"))
    os.chmod(state_dir, 0o755)
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-restore-run-"))
    emulator = Emulator(state_dir=state_dir, profile="test")
    emulator.start()
    try:
        os.environ.update(emulator.env)
        emulator.seed()
        rds = emulator.client("rds")
        emulator.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps({"username": "postgres", "password": NEW_PASSWORD}))
        rds.restore_db_cluster_from_snapshot(DBClusterIdentifier=TARGET, SnapshotIdentifier="production-seed", Engine="aurora-postgresql")
        wait(lambda: rds.describe_db_clusters(DBClusterIdentifier=TARGET)["DBClusters"][0]["Status"] == "available")
        rds.create_db_instance(DBInstanceIdentifier="staging-old-1", DBClusterIdentifier=TARGET, Engine="aurora-postgresql",
                               DBInstanceClass="db.r6g.large")
        for name in ("bench-a", "bench-b"):
            rds.create_db_cluster_snapshot(DBClusterIdentifier="production", DBClusterSnapshotIdentifier=name)
            wait(lambda n=name: rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=n)["DBClusterSnapshots"][0]["Status"] == "available")
        wait(lambda: rds.describe_db_instances(DBInstanceIdentifier="staging-old-1")["DBInstances"][0]["DBInstanceStatus"] == "available")
        emulated = durations(args.rename, args.scale)
        emulator.set_durations(**emulated)
        print("emulated durations (s): " + ", ".join("%s=%g" % item for item in sorted(emulated.items())))
        figures = {}
        for strategy, snapshot in (("replace", "bench-a"), ("swap", "bench-b")):
            probe = Probe(emulator.client("rds"))
            probe.start()
            started = time.monotonic()
            outcome = run_playbook(playbook(strategy, snapshot), work)
            elapsed = time.monotonic() - started
            probe.stop.set()
            probe.join()
            if probe.down_since is not None:
                probe.longest = max(probe.longest, time.monotonic() - probe.down_since)
            result = outcome.result("restore")
            if outcome.rc != 0:
                print("%s failed: %s" % (strategy, result.get("msg")))
                return 1
            figures[strategy] = (result["downtime_seconds"], probe.longest, elapsed, result["timings"])
            print("%-7s downtime %6.2fs (module), %6.2fs (outside probe); whole run %6.1fs; phases %s"
                  % (strategy, result["downtime_seconds"], probe.longest, elapsed, json.dumps(result["timings"], sort_keys=True)))
        swap, replace = figures["swap"][0], figures["replace"][0]
        print("swap downtime = %.2fx the emulated rename (%.1fs); replace downtime = %.1fx swap's"
              % (swap / args.rename, args.rename, replace / swap if swap else float("inf")))
        return 0
    finally:
        emulator.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
