"""Benchmark: playbooks/restore.yml for one target, then for N targets in parallel from one snapshot.

    python tests/bench/bench_pipeline.py [--targets 10] [--scale 1.0]

(--targets 1 runs only the one-target case; --scale 10 gives waits of minutes, closer to AWS's, where Ansible's fixed
cost per task weighs less and the polling interval has grown.)

Starts its own emulator with fixed emulated durations, seeds the production source, builds the world the
playbook needs (tests/helpers/pipeline_world.py), and runs the real playbook (forks = N) against a generated
inventory of same-account, same-region targets that all need the same snapshot. Prints, per run:
  * wall time against the sum of the emulated durations on one target's path (copy, restore, instance, password);
  * how late the pipeline noticed each finished wait (observed wait minus the emulated duration);
  * the number of snapshot copies made;
  * API calls per service and action (the emulator's counts) and describe calls per waited minute per target.
Figures only, no assertion. Aims: one target within 1.05x the emulated sum; waits noticed within max(2 s, 2 %);
N targets make exactly one copy and take at most 1.3x one target's wall time; <= 6 describe calls per waited
minute per target.
"""
import argparse
import json
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


def durations(scale):
    return dict(copy=20.0 * scale, restore=10.0 * scale, instance_create=8.0 * scale, password_reset=3.0 * scale,
                snapshot_create=1.0, cluster_delete=2.0, instance_delete=2.0, rename=1.0, modify=1.0, cluster_create=2.0)


def inventory(directory, count):
    """N dev-like targets (same account and region as inventories/local's dev-app), one SNS topic, no bootstrap group."""
    group_vars = directory / "group_vars"
    group_vars.mkdir(parents=True)
    shutil.copy(REPO / "inventories" / "local" / "group_vars" / "all.yml", group_vars / "all.yml")
    shutil.copy(REPO / "inventories" / "local" / "group_vars" / "dev.yml", group_vars / "dev.yml")
    hosts = {"all": {"children": {"dev": {"hosts": {"bench-%02d" % index: None for index in range(1, count + 1)}}}}}
    (directory / "hosts.yml").write_text(json.dumps(hosts))
    return str(directory)


def run(emulator, workdir, count, label):
    emulator.clear_counts()
    inventory_dir = inventory(workdir / label, count)
    started = time.monotonic()
    result = run_playbook(REPO / "playbooks" / "restore.yml", workdir, inventory=inventory_dir,
                          args=("--forks", str(max(count, 5))), extra_env={"ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false"},
                          extra_vars={"restore_poll_interval_max": 5})
    wall = time.monotonic() - started
    return result, wall, emulator.counts()


def step_details(count):
    """Each target's latest operation record from the state table."""
    items = boto3.client("dynamodb", region_name="us-west-2").scan(TableName="aurora-restore-state")["Items"]
    operations = [item for item in items if item["item_type"]["S"] == "operation"]
    return sorted(operations, key=lambda item: item["started_at"]["S"])[-count:]


def describe_calls(counts):
    return sum(number for action, number in counts["services"].get("rds", {}).items() if action.startswith("Describe"))


def report(label, count, wall, counts, operations, emulated, copies_made):
    one_path = emulated["copy"] + emulated["restore"] + emulated["instance_create"] + emulated["password_reset"]
    print("\n== %s: %d target(s)" % (label, count))
    print("  wall time %.1f s; emulated durations on one target's path %.1f s; ratio %.2f" % (wall, one_path, wall / one_path))
    # Upper bound of how late a finished wait was noticed: the step's recorded duration (Ansible and API time
    # included) minus the emulated duration of what it waited for.
    waits = {"copy_snapshot": emulated["copy"],
             "restore_cluster": emulated["restore"] + emulated["instance_create"] + emulated["password_reset"]}
    for operation in operations[:3]:
        steps = operation["steps"]["M"]
        line = []
        for step, seconds in waits.items():
            recorded = float(steps[step]["M"]["duration_seconds"]["N"])
            line.append("%s %.1f s for %.0f s emulated (+%.1f s, %.0f %%)" % (step, recorded, seconds, recorded - seconds,
                                                                              100.0 * (recorded - seconds) / seconds))
        print("  %s: %s" % (operation["target"]["S"], "; ".join(line)))
    print("  snapshot copies made: %d" % copies_made)
    describes = describe_calls(counts)
    waited_minutes = max(wall / 60.0, 1e-9) * count
    print("  RDS describe calls: %d, %.1f per waited minute per target" % (describes, describes / waited_minutes))
    top = sorted(((number, "%s:%s" % (service, action)) for service, actions in counts["services"].items()
                  for action, number in actions.items()), reverse=True)[:12]
    print("  API calls (top): " + ", ".join("%s=%d" % (name, number) for number, name in top))
    print("  total API calls: %d" % counts["total"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    arguments = parser.parse_args()
    emulated = durations(arguments.scale)
    workdir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    os.chmod(workdir, 0o755)
    try:
        with Emulator(state_dir=workdir / "emulator", profile="test") as emulator:
            os.environ.update(emulator.env)
            emulator.seed()
            pipeline_world.build(environments=(("dev", pipeline_world.ACCOUNT_A),))
            emulator.set_durations(**emulated)
            rds = boto3.client("rds", region_name="us-west-2")

            def copies():
                return len([s for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
                            if s["DBClusterSnapshotIdentifier"].startswith("dbops-")])

            result, wall, counts = run(emulator, workdir, 1, "one")
            print("one target: rc=%d" % result.rc)
            report("one target", 1, wall, counts, step_details(1), emulated, copies())
            if arguments.targets <= 1:
                return
            # A fresh snapshot so the N targets need a new copy, which exactly one of them must make.
            boto3.client("rds", region_name="us-east-1").create_db_cluster_snapshot(DBClusterIdentifier="production", DBClusterSnapshotIdentifier="bench-fresh")
            time.sleep(3)
            before = copies()
            result, wall_n, counts = run(emulator, workdir, arguments.targets, "many")
            print("%d targets: rc=%d" % (arguments.targets, result.rc))
            report("%d targets in parallel" % arguments.targets, arguments.targets, wall_n, counts, step_details(arguments.targets), emulated,
                   copies() - before)
            print("\n  %d targets / one target wall time: %.2f" % (arguments.targets, wall_n / wall))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
