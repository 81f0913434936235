"""Benchmark: one target refreshed by each method (snapshot, clone, point in time), and what each costs at 10 GB, 1 TB
and 10 TB.

    python tests/bench/bench_methods.py [--minute 1.0]

Starts its own emulator, seeds production (us-east-1) and prod-west (the same data in the target's region and
account), builds the pipeline world and runs playbooks/restore.yml for dev-app once per method, through real
ansible-playbook as the operator role. The emulated durations follow the size model below for a 10 GB source, with one
AWS minute emulated as --minute seconds; each run's wall time minus the emulated durations on its path is the
controller's own cost (Ansible, API calls, polling), measured once per method.

The size model (AWS publishes no throughput figures; these are assumptions, stated so they can be changed):
  * a cross-region snapshot copy moves the data: COPY_GB_PER_MINUTE;
  * a restore from a snapshot and a point-in-time full copy build a new volume from the data: RESTORE_GB_PER_MINUTE;
  * a copy-on-write clone shares the source's pages and copies none: CLONE_MINUTES whatever the size ("Aurora cloning",
    Aurora User Guide);
  * each then creates its instance (INSTANCE_MINUTES) and resets the master password (PASSWORD_MINUTES).
Prints, per method: the measured run, then per size the AWS time of its path plus the measured controller cost, the
ratio snapshot/clone, and what each leaves to archive. Figures only, no assertion. Aim: a same-region clone refresh of
a 1 TB source within 10 minutes, >= 10x faster than the snapshot path.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(REPO / "tools" / "localaws"))

import boto3  # noqa: E402

from helpers import pipeline_world  # noqa: E402
from helpers.ansible_run import run_playbook  # noqa: E402
from localaws.emulator import Emulator  # noqa: E402

COPY_GB_PER_MINUTE = 10.0
RESTORE_GB_PER_MINUTE = 20.0
CLONE_MINUTES = 4.0
INSTANCE_MINUTES = 7.0
PASSWORD_MINUTES = 1.0
SIZES_GB = (("10 GB", 10), ("1 TB", 1024), ("10 TB", 10240))
METHODS = ("snapshot", "clone", "point_in_time")


def aws_minutes(method, size_gb):
    """The AWS time of a method's path, in minutes, by the size model: what the refresh waits for."""
    path = {"snapshot": {"copy": size_gb / COPY_GB_PER_MINUTE, "restore": size_gb / RESTORE_GB_PER_MINUTE},
            "clone": {"clone": CLONE_MINUTES},
            "point_in_time": {"restore": size_gb / RESTORE_GB_PER_MINUTE}}[method]
    return dict(path, instance_create=INSTANCE_MINUTES, password_reset=PASSWORD_MINUTES)


def left_to_archive(method, size_gb):
    if method == "snapshot":
        return "one snapshot copy of %s in the target's region (pruned by restore_archive_keep_newest)" % size_label(size_gb)
    if method == "clone":
        return "nothing: no copy; the clone stores only the pages it changes"
    return "nothing: no copy; the cluster is a full copy of %s" % size_label(size_gb)


def size_label(size_gb):
    return "%.0f GB" % size_gb if size_gb < 1024 else "%.0f TB" % (size_gb / 1024)


def emulated_durations(method, minute):
    """The emulator's durations for a 10 GB source, one AWS minute = `minute` seconds."""
    path = aws_minutes(method, 10)
    durations = {name: minutes * minute for name, minutes in path.items()}
    durations.setdefault("copy", 0.5)
    durations.setdefault("restore", 0.5)
    durations.setdefault("clone", 0.5)
    durations.update(snapshot_create=0.5, cluster_delete=0.5, instance_delete=0.5, rename=0.5, modify=0.5, cluster_create=1.0)
    return durations, sum(minutes * minute for minutes in path.values())


def refresh(workdir, method):
    extra = {"restore_poll_interval_max": 5, "restore_source_method": method}
    if method != "snapshot":
        extra.update(restore_source_cluster=pipeline_world.SAME_REGION_SOURCE, restore_source_region=pipeline_world.TARGET_REGION)
    started = time.monotonic()
    result = run_playbook(REPO / "playbooks" / "restore.yml", workdir, inventory=str(REPO / "inventories" / "local"),
                          args=("--limit", "dev-app"), extra_vars=extra, extra_env={"ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false"})
    return result, time.monotonic() - started


def remove_target():
    """Delete dev-app between runs, so every method's run restores it from nothing (no delete on its path)."""
    rds = boto3.client("rds", region_name=pipeline_world.TARGET_REGION)
    try:
        cluster = rds.describe_db_clusters(DBClusterIdentifier="dev-app")["DBClusters"][0]
    except rds.exceptions.DBClusterNotFoundFault:
        return
    for member in cluster["DBClusterMembers"]:
        rds.delete_db_instance(DBInstanceIdentifier=member["DBInstanceIdentifier"], SkipFinalSnapshot=True)
    pipeline_world.wait_for(lambda: not rds.describe_db_clusters(DBClusterIdentifier="dev-app")["DBClusters"][0]["DBClusterMembers"])
    rds.delete_db_cluster(DBClusterIdentifier="dev-app", SkipFinalSnapshot=True)
    pipeline_world.wait_for(lambda: not [item for item in rds.describe_db_clusters()["DBClusters"] if item["DBClusterIdentifier"] == "dev-app"])


def copies_in_target_region():
    listed = boto3.client("rds", region_name=pipeline_world.TARGET_REGION).describe_db_cluster_snapshots(SnapshotType="manual")
    return len([item for item in listed["DBClusterSnapshots"] if item["DBClusterSnapshotIdentifier"].startswith("dbops-")])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minute", type=float, default=1.0, help="seconds of emulated time per AWS minute")
    arguments = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-methods-"))
    os.chmod(workdir, 0o755)
    overhead = {}
    try:
        with Emulator(state_dir=workdir / "emulator", profile="test") as emulator:
            os.environ.update(emulator.env)
            emulator.seed()
            pipeline_world.build(environments=(("dev", pipeline_world.ACCOUNT_A),))
            pipeline_world.make_source_in_the_target_region()
            pipeline_world.allow_clones_of_the_source()
            print("== one target (dev-app) by each method; 10 GB model durations, one AWS minute = %.1f s" % arguments.minute)
            for method in METHODS:
                durations, emulated = emulated_durations(method, arguments.minute)
                remove_target()
                emulator.set_durations(**durations)
                before = copies_in_target_region()
                result, wall = refresh(workdir, method)
                overhead[method] = max(0.0, wall - emulated)
                print("  %-13s rc=%d wall %.1f s, emulated path %.1f s, controller cost %.1f s, copies made %d"
                      % (method, result.rc, wall, emulated, overhead[method], copies_in_target_region() - before))
                if result.rc != 0:
                    print(result.output[-2000:])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("\n== refresh time by size: the size model's AWS time of the path + the measured controller cost")
    print("  %-7s %-30s %-30s %-30s %s" % ("size", "snapshot (cross-region)", "clone (same region)", "point in time (full copy)",
                                           "snapshot / clone"))
    for label, size_gb in SIZES_GB:
        minutes = {method: sum(aws_minutes(method, size_gb).values()) + overhead.get(method, 0.0) / 60.0 for method in METHODS}
        cells = ["%7.1f min" % minutes[method] for method in METHODS]
        print("  %-7s %-30s %-30s %-30s %.1fx" % (label, cells[0], cells[1], cells[2], minutes["snapshot"] / minutes["clone"]))
    print("\n== left to archive, per method")
    for method in METHODS:
        print("  %-13s %s" % (method, left_to_archive(method, 1024)))
    print("\n  model: copy %.0f GB/min, restore or full copy %.0f GB/min, clone %.0f min, instance %.0f min, password %.0f min"
          % (COPY_GB_PER_MINUTE, RESTORE_GB_PER_MINUTE, CLONE_MINUTES, INSTANCE_MINUTES, PASSWORD_MINUTES))


if __name__ == "__main__":
    main()
