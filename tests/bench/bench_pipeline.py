"""Benchmark: playbooks/restore.yml for one target, then for N targets in parallel from one snapshot.

    python tests/bench/bench_pipeline.py [--targets 10] [--scale 1.0] [--refreshes 2] [--poll-interval-max 30]
                                         [--progress-interval 60] [--list-tasks]

(--targets 1 runs only the one-target case; --scale 10 gives waits of minutes, closer to AWS's, where Ansible's fixed
cost per task weighs less and the polling interval has grown.)

The one target is refreshed --refreshes times in a row, each time from a new production snapshot, as a nightly job
would: the first refresh has no history and polls from the shortest interval up; each later one polls around the
moments its waits ended the time before (restore_wait_history). The N targets run once, after: the first of them
has that history, the others none. Polling is capped at --poll-interval-max (the role's default, 30 s).

Starts its own emulator with fixed emulated durations, seeds the production source, builds the world the
playbook needs (tests/helpers/pipeline_world.py), and runs the real playbook (forks = N) against a generated
inventory of same-account, same-region targets that all need the same snapshot. Prints, per run:
  * wall time against the sum of the emulated durations on one target's path (copy, the target's deletion when it
    existed, restore, instance, password);
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
import resource
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


def target_name(index):
    return "bench-%02d" % index


def inventory(directory, count):
    """N dev-like targets (same account and region as inventories/local's dev-app), one SNS topic, no bootstrap group."""
    group_vars = directory / "group_vars"
    group_vars.mkdir(parents=True)
    shutil.copy(REPO / "inventories" / "local" / "group_vars" / "all.yml", group_vars / "all.yml")
    shutil.copy(REPO / "inventories" / "local" / "group_vars" / "dev.yml", group_vars / "dev.yml")
    hosts = {"all": {"children": {"dev": {"hosts": {target_name(index): None for index in range(1, count + 1)}}}}}
    (directory / "hosts.yml").write_text(json.dumps(hosts))
    return str(directory)


# Tasks that run no module: Ansible's own actions, handled in the controller's worker. (validate_argument_spec is
# one: its module file is documentation only, its action plugin checks the role's arguments itself.)
CONTROLLER_ACTIONS = {"ansible.builtin.include_tasks", "include_tasks", "ansible.builtin.set_fact", "set_fact",
                      "ansible.builtin.debug", "debug", "ansible.builtin.assert", "assert", "ansible.builtin.meta",
                      "meta", "ansible.builtin.fail", "fail", "ansible.builtin.include_role", "include_role",
                      "ansible.builtin.validate_argument_spec", "validate_argument_spec"}


def in_process(action):
    """This collection's modules run in the controller's worker when the task runs on the controller's own Python (as
    every task of this bench does; plugins/plugin_utils/module_in_worker.py)."""
    return action.startswith("dbops.aurora_restore.")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def module_runs(result, host):
    """Per module, how many of `host`'s tasks ran it (skipped tasks and Ansible's own actions left out), from the
    playbook's own events; the wait_in_slices task counts once, however many slices it waited."""
    runs = {}
    for _name, task_result in result.tasks(host):
        items = task_result.get("results") if isinstance(task_result.get("results"), list) else [task_result]
        for item in items:
            action = item.get("action") or task_result.get("action")
            if not action or action in CONTROLLER_ACTIONS or item.get("skipped"):
                continue
            runs[action] = runs.get(action, 0) + 1
    return runs


def run(emulator, workdir, count, label, poll_interval_max, progress_interval):
    emulator.clear_counts()
    inventory_dir = inventory(workdir / label, count)
    cpu_before = children_cpu_seconds()
    started = time.monotonic()
    result = run_playbook(REPO / "playbooks" / "restore.yml", workdir, inventory=inventory_dir,
                          args=("--forks", str(max(count, 5))), extra_env={"ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false"},
                          extra_vars={"restore_poll_interval_max": poll_interval_max, "restore_progress_interval": progress_interval})
    wall = time.monotonic() - started
    # ansible-playbook and every process it waited for (workers, modules): the emulator and PostgreSQL run on.
    cpu = children_cpu_seconds() - cpu_before
    return result, wall, cpu, emulator.counts()


def step_details(count):
    """Each target's latest operation record from the state table."""
    items = boto3.client("dynamodb", region_name="us-west-2").scan(TableName="aurora-restore-state")["Items"]
    operations = [item for item in items if item["item_type"]["S"] == "operation"]
    return sorted(operations, key=lambda item: item["started_at"]["S"])[-count:]


def describe_calls(counts):
    return sum(number for action, number in counts["services"].get("rds", {}).items() if action.startswith("Describe"))


def failures(result):
    """Each failed task's message, so a failed run says why (its figures are then not a refresh's)."""
    found = []
    for play in result.report.get("plays", []):
        for task in play.get("tasks", []):
            for host, task_result in task.get("hosts", {}).items():
                if task_result.get("failed") and not task_result.get("ignore_errors"):
                    found.append("%s: %s: %s" % (host, task["task"]["name"], str(task_result.get("msg", ""))[:300]))
    return found or [result.output[-1500:]]


def report(label, count, result, wall, cpu, counts, operations, emulated, copies_made):
    if result.rc != 0:
        print("  FAILED (rc=%d): %s" % (result.rc, "\n  ".join(failures(result)[:5])))
    one_path = emulated["copy"] + restore_path(operations[0] if operations else None, emulated)
    print("\n== %s: %d target(s)" % (label, count))
    print("  wall time %.1f s; emulated durations on one target's path %.1f s; ratio %.2f" % (wall, one_path, wall / one_path))
    print("  controller CPU (ansible-playbook's process tree): %.1f s, %.1f s per target" % (cpu, cpu / count))
    host = operations[0]["target"]["S"] if operations else target_name(1)
    runs = module_runs(result, host)
    in_worker = sum(number for module, number in runs.items() if in_process(module))
    tasks = result.tasks(host)
    print("  tasks for %s: %d, of which %d skipped (each task costs the controller a worker fork and templating)"
          % (host, len(tasks), sum(1 for _name, task_result in tasks if task_result.get("skipped"))))
    print("  module runs for %s: %d (%d of them in the controller's worker, no new process; %d processes): %s"
          % (host, sum(runs.values()), in_worker, sum(runs.values()) - in_worker,
             ", ".join("%s=%d" % (module.split(".")[-1], number) for module, number in sorted(runs.items()))))
    # Upper bound of how late a finished wait was noticed: the step's recorded duration (Ansible and API time
    # included) minus the emulated duration of what it waited for.
    if operations:
        steps = operations[0]["steps"]["M"]
        recorded = sum(float(entry["M"]["duration_seconds"]["N"]) for entry in steps.values())
        in_order = sorted(steps.items(), key=lambda item: item[1]["M"]["started_at"]["S"])
        timeline = ", ".join("%s %.1f s" % (name, float(entry["M"]["duration_seconds"]["N"])) for name, entry in in_order)
        print("  steps of %s: %s; outside the steps (credentials, start, finish, notify) %.1f s"
              % (operations[0]["target"]["S"], timeline, wall - recorded))
    for operation in operations[:3]:
        steps = operation["steps"]["M"]
        line = []
        for step, seconds in (("copy_snapshot", emulated["copy"]), ("restore_cluster", restore_path(operation, emulated))):
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
    print("  total API calls: %d, %.0f per target; without RDS Describe* (polling included there) %.0f per target;"
          " DynamoDB %.0f per target" % (counts["total"], counts["total"] / count, (counts["total"] - describes) / count,
                                         sum(counts["services"].get("dynamodb", {}).values()) / count))


def restore_path(operation, emulated):
    """The emulated durations the restore step waits for: the target's deletion first when it existed (a replace
    that waited in its delete_target phase), then the restore, its instance and the password reset."""
    path = emulated["restore"] + emulated["instance_create"] + emulated["password_reset"]
    waits = {}
    if operation:
        details = operation["steps"]["M"]["restore_cluster"]["M"].get("details", {}).get("M", {})
        waits = details.get("wait_seconds", {}).get("M", {})  # the whole wait's (timings are its last slice's)
    deleted = any(name.startswith("delete_target:") for name in waits)
    return path + (emulated["instance_delete"] + emulated["cluster_delete"] if deleted else 0.0)


def list_tasks(result, host):
    """Every task of `host` in order: skipped or ran, its action and name (where the controller's cost per task goes)."""
    print("\n  tasks of %s:" % host)
    for name, task_result in result.tasks(host):
        print("    %-7s %-45s %s" % ("skipped" if task_result.get("skipped") else "ran", task_result.get("action", ""), name))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--refreshes", type=int, default=2, help="refreshes of the one target in a row (the later ones have a history)")
    parser.add_argument("--poll-interval-max", type=int, default=30, help="restore_poll_interval_max (the role's default: 30)")
    parser.add_argument("--progress-interval", type=int, default=60,
                        help="restore_progress_interval: a long wait's slice, each a module run with its own describe calls (default 60)")
    parser.add_argument("--list-tasks", action="store_true", help="also list the first target's tasks: action, ran or skipped")
    arguments = parser.parse_args()
    if min(arguments.refreshes, arguments.targets, arguments.poll_interval_max, arguments.progress_interval) < 1:
        parser.error("--refreshes, --targets, --poll-interval-max and --progress-interval must be at least 1")
    emulated = durations(arguments.scale)
    workdir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    os.chmod(workdir, 0o755)
    try:
        with Emulator(state_dir=workdir / "emulator", profile="test") as emulator:
            os.environ.update(emulator.env)
            emulator.seed()
            pipeline_world.build(environments=(("dev", pipeline_world.ACCOUNT_A),),
                                 target_clusters=[target_name(index) for index in range(1, arguments.targets + 1)])
            emulator.set_durations(**emulated)
            rds = boto3.client("rds", region_name="us-west-2")

            def copies():
                """The pipeline's copies now (a set: the archive step deletes older ones as new ones come)."""
                return {s["DBClusterSnapshotIdentifier"] for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
                        if s["DBClusterSnapshotIdentifier"].startswith("dbops-")}

            source = boto3.client("rds", region_name="us-east-1")
            print("restore_poll_interval_max: %d s, restore_progress_interval: %d s" % (arguments.poll_interval_max, arguments.progress_interval))
            for refresh in range(1, arguments.refreshes + 1):
                if refresh > 1:
                    # The next night's snapshot: a refresh that only reused yesterday's copy would not wait for one.
                    source.create_db_cluster_snapshot(DBClusterIdentifier="production", DBClusterSnapshotIdentifier="bench-night-%d" % refresh)
                    time.sleep(3)
                before = copies()
                result, wall_refresh, cpu, counts = run(emulator, workdir, 1, "one-%d" % refresh, arguments.poll_interval_max,
                                                        arguments.progress_interval)
                label = "one target, refresh %d (%s)" % (refresh, "no history" if refresh == 1 else "its waits expected to take refresh %d's times" % (refresh - 1))
                print("%s: rc=%d" % (label, result.rc))
                report(label, 1, result, wall_refresh, cpu, counts, step_details(1), emulated, len(copies() - before))
                if refresh == 1:
                    wall = wall_refresh
                    if arguments.list_tasks:
                        list_tasks(result, target_name(1))
            if arguments.targets <= 1:
                return
            # A fresh snapshot so the N targets need a new copy, which exactly one of them must make.
            source.create_db_cluster_snapshot(DBClusterIdentifier="production", DBClusterSnapshotIdentifier="bench-fresh")
            time.sleep(3)
            before = copies()
            result, wall_n, cpu_n, counts = run(emulator, workdir, arguments.targets, "many", arguments.poll_interval_max,
                                                arguments.progress_interval)
            print("%d targets: rc=%d" % (arguments.targets, result.rc))
            report("%d targets in parallel" % arguments.targets, arguments.targets, result, wall_n, cpu_n, counts, step_details(arguments.targets), emulated,
                   len(copies() - before))
            print("\n  %d targets / one target's first refresh, wall time: %.2f" % (arguments.targets, wall_n / wall))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
