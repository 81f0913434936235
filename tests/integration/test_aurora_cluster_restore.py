"""aurora_cluster_restore through real ansible-playbook against the local emulator (real PostgreSQL behind clusters).

The seeded "production" cluster has sample rows and a snapshot; a "staging" target is created from it (as an
older refresh would have), then replaced or swapped from a newer snapshot. Rows must be readable at the reported
endpoint with the password from the staging master secret, and that password must never be printed.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from helpers.ansible_run import REPO_ROOT
from helpers.ansible_run import ansible_env
from helpers.ansible_run import run_playbook

TARGET = "staging"
SECRET = "staging/aurora/master"
NEW_PASSWORD = "Staging-Secret-pw-4711"
SOURCE_PASSWORD = "production-master-pw"
FAST = dict(snapshot_create=0.3, copy=0.3, cluster_create=0.3, restore=0.3, instance_create=0.3, instance_delete=0.2,
            cluster_delete=0.2, modify=0.2, rename=0.3, password_reset=0.3)
MUTATING = ("DeleteDBInstance", "DeleteDBCluster", "ModifyDBCluster", "RestoreDBClusterFromSnapshot", "CreateDBInstance",
            "AddTagsToResource")


def playbook(args_list, ignore_errors=False):
    """One task per args dict, named restore0, restore1, ... (JSON is YAML)."""
    tasks = []
    for index, args in enumerate(args_list):
        task = {"name": "restore%d" % index, "dbops.aurora_restore.aurora_cluster_restore": args}
        if ignore_errors:
            task["ignore_errors"] = True
        tasks.append(task)
    return json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": tasks}], indent=1)


def module_args(**overrides):
    args = {"cluster_identifier": TARGET, "snapshot_identifier": "refresh", "strategy": "replace",
            "instances": {"count": 2, "instance_class": "db.r6g.large"}, "master_secret_id": SECRET,
            "poll_interval_min": 0.2, "poll_interval_max": 1, "wait_timeout": 120}
    args.update(overrides)
    return args


def run(tmp_path, *args_list, check=False, ignore_errors=False):
    result = run_playbook(playbook(list(args_list), ignore_errors=ignore_errors), tmp_path, check=check)
    assert NEW_PASSWORD not in result.output and SOURCE_PASSWORD not in result.output
    return result


def wait_for(check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in %ss" % timeout)


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path("/proc/%s/stat" % entry).read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_with_descendants(proc):
    """SIGKILL a playbook run: the module runs in a child of ansible-playbook that may have a session of its own,
    so each descendant is killed too."""
    for pid in [proc.pid] + descendants(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


@pytest.fixture
def env(aws_env):
    """Seeded emulator; a 'refresh' snapshot of production, the staging secret, and an existing staging target."""
    aws_env.set_durations(**FAST)
    info = aws_env.seed()
    rds = aws_env.client("rds")
    sm = aws_env.client("secretsmanager")
    sm.create_secret(Name=SECRET, SecretString=json.dumps({"username": "postgres", "password": NEW_PASSWORD}))
    # production changes after the seed snapshot; the refresh snapshot has the change
    with psycopg2.connect(host=info["endpoint"], port=info["port"], user="postgres", password=SOURCE_PASSWORD, dbname="appdb") as conn:
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE refresh_marker (id int); INSERT INTO refresh_marker VALUES (42)")
    conn.close()
    rds.create_db_cluster_snapshot(DBClusterIdentifier="production", DBClusterSnapshotIdentifier="refresh")
    # the existing staging target: an older copy of production, not created by this collection
    rds.restore_db_cluster_from_snapshot(DBClusterIdentifier=TARGET, SnapshotIdentifier="production-seed", Engine="aurora-postgresql",
                                         Tags=[{"Key": "env", "Value": "staging"}])
    wait_for(lambda: rds.describe_db_clusters(DBClusterIdentifier=TARGET)["DBClusters"][0]["Status"] == "available")
    rds.create_db_instance(DBInstanceIdentifier="staging-old-1", DBClusterIdentifier=TARGET, Engine="aurora-postgresql",
                           DBInstanceClass="db.r6g.large")
    wait_for(lambda: rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="refresh")["DBClusterSnapshots"][0]["Status"] == "available")
    wait_for(lambda: rds.describe_db_instances(DBInstanceIdentifier="staging-old-1")["DBInstances"][0]["DBInstanceStatus"] == "available")
    aws_env.rds = rds
    aws_env.info = info
    return aws_env


def cluster(env, ident):
    try:
        return env.rds.describe_db_clusters(DBClusterIdentifier=ident)["DBClusters"][0]
    except env.rds.exceptions.DBClusterNotFoundFault:
        return None


def assert_restored(result, env):
    """The refreshed rows answer at the reported endpoint with the new password; the source's no longer works."""
    with psycopg2.connect(host=result["endpoint"], port=result["port"], user="postgres", password=NEW_PASSWORD, dbname="appdb",
                          connect_timeout=5) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM customers")
            assert cur.fetchone()[0] == 2000
            cur.execute("SELECT id FROM refresh_marker")
            assert cur.fetchone()[0] == 42
    conn.close()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=result["endpoint"], port=result["port"], user="postgres", password=SOURCE_PASSWORD, dbname="appdb",
                         connect_timeout=5).close()
    members = cluster(env, TARGET)["DBClusterMembers"]
    assert len(members) == 2 and sum(m["IsClusterWriter"] for m in members) == 1


def mutations(env):
    counts = env.counts()["services"].get("rds", {})
    return {action: counts.get(action, 0) for action in MUTATING}


def test_replace_end_to_end_idempotent_with_final_snapshot(env, tmp_path):
    first = run(tmp_path, module_args(final_snapshot=True))
    result = first.result("restore0")
    assert first.rc == 0, first.output
    assert result["changed"] is True
    assert result["snapshot_restored"].endswith(":cluster-snapshot:refresh")
    assert result["instances"] == ["staging-1", "staging-2"] and result["writer_instance"] == "staging-1"
    assert [s["action"] for s in result["plan"]][:3] == ["delete_instances", "delete_cluster", "restore_cluster"]
    assert set(result["timings"]) >= {"delete_target", "restore", "instances", "master_password", "total"}
    assert result["downtime_seconds"] > 0
    assert len(result["final_snapshots"]) == 1 and result["final_snapshots"][0].startswith("staging-final-")
    final = env.rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=result["final_snapshots"][0])["DBClusterSnapshots"]
    assert final and final[0]["DBClusterIdentifier"] == TARGET
    assert_restored(result, env)

    before = mutations(env)
    again = run(tmp_path, module_args(final_snapshot=True))
    assert again.rc == 0, again.output
    assert again.result("restore0")["changed"] is False and again.result("restore0")["plan"] == []
    assert mutations(env) == before


def test_swap_end_to_end_with_deletion_protection(env, tmp_path):
    env.rds.modify_db_cluster(DBClusterIdentifier=TARGET, DeletionProtection=True, ApplyImmediately=True)
    refused = run(tmp_path, module_args(strategy="swap"))
    assert refused.rc != 0
    assert refused.result("restore0")["msg"] == ("refusing to swap cluster 'staging': deletion protection is enabled; "
                                                 "set allow_disable_deletion_protection=true to turn it off as part of the restore")
    assert cluster(env, "staging-restoring") is None and cluster(env, TARGET)["DeletionProtection"] is True

    # RDS throttles: every call type the module makes is retried
    env.set_faults([{"service": "rds", "action": action, "kind": "throttle", "rate": 1.0, "times": 1}
                    for action in ("DescribeDBClusters", "DescribeDBInstances", "ModifyDBCluster", "RestoreDBClusterFromSnapshot",
                                   "CreateDBInstance", "DeleteDBInstance", "DeleteDBCluster")])
    done = run(tmp_path, module_args(strategy="swap", allow_disable_deletion_protection=True, deletion_protection=True))
    result = done.result("restore0")
    assert done.rc == 0, done.output
    env.set_faults([])
    assert result["changed"] is True
    assert [s["action"] for s in result["plan"] if s["phase"] == "swap"] == ["tag_retired", "rename", "rename", "refresh_certificate"]
    assert 0 < result["downtime_seconds"] < 10
    assert result["instances"] == ["staging-1", "staging-2"]
    assert cluster(env, "staging-restoring") is None and cluster(env, "staging-retired") is None
    assert cluster(env, TARGET)["DeletionProtection"] is True
    assert_restored(result, env)

    again = run(tmp_path, module_args(strategy="swap", allow_disable_deletion_protection=True, deletion_protection=True))
    assert again.rc == 0 and again.result("restore0")["changed"] is False


def test_swap_in_two_calls_the_target_keeps_serving_until_cutover(env, tmp_path):
    """cutover=false: the temporary cluster is brought up and returned; the old target is untouched until cutover=true."""
    old_id = cluster(env, TARGET)["DbClusterResourceId"]  # the ARN goes with the name, the resource id with the cluster
    planned = run(tmp_path, module_args(strategy="swap", cutover=False), check=True).result("restore0")
    assert planned["awaiting_cutover"] is True and planned["ready_cluster_identifier"] == "staging-restoring"
    assert "rename" not in [step["action"] for step in planned["plan"]]

    prepared = run(tmp_path, module_args(strategy="swap", cutover=False)).result("restore0")
    assert prepared["changed"] is True and prepared["awaiting_cutover"] is True, prepared.get("msg")
    assert prepared["ready_cluster_identifier"] == "staging-restoring" and prepared["downtime_seconds"] is None
    assert prepared["endpoint"] == cluster(env, "staging-restoring")["Endpoint"]
    assert cluster(env, TARGET)["DbClusterResourceId"] == old_id and cluster(env, TARGET)["Status"] == "available"
    # The new data, with the target environment's password, answers on the temporary cluster.
    with psycopg2.connect(host=prepared["endpoint"], port=prepared["port"], user="postgres", password=NEW_PASSWORD, dbname="appdb",
                          connect_timeout=5) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM refresh_marker")
            assert cur.fetchone()[0] == 42
    conn.close()

    again = run(tmp_path, module_args(strategy="swap", cutover=False)).result("restore0")
    assert again["changed"] is False and again["awaiting_cutover"] is True

    done = run(tmp_path, module_args(strategy="swap")).result("restore0")
    assert done["awaiting_cutover"] is False and done["ready_cluster_identifier"] == TARGET
    assert [step["action"] for step in done["plan"]][:3] == ["tag_retired", "rename", "rename"]
    assert 0 < done["downtime_seconds"] < 10
    assert cluster(env, "staging-restoring") is None and cluster(env, "staging-retired") is None
    assert cluster(env, TARGET)["DbClusterResourceId"] != old_id
    assert_restored(done, env)


def test_guards_refuse_with_nothing_changed(env, tmp_path):
    rds = env.rds
    arn = cluster(env, TARGET)["DBClusterArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "dbops:aurora_restore:protected", "Value": "true"}])
    rds.modify_db_cluster(DBClusterIdentifier="production", DeletionProtection=False, ApplyImmediately=True)
    before = mutations(env)
    cases = [
        (module_args(), "refusing to replace cluster 'staging': it carries the protection tag dbops:aurora_restore:protected=true; "
                        "remove the tag to allow it"),
        (module_args(strategy="swap"), "refusing to swap cluster 'staging': it carries the protection tag "
                                       "dbops:aurora_restore:protected=true; remove the tag to allow it"),
        (module_args(cluster_identifier="production", snapshot_identifier="production-seed"),
         "refusing to replace cluster 'production': it is the source cluster of snapshot 'production-seed'"),
        (module_args(cluster_identifier="production", source_cluster_identifier="production"),
         "refusing to replace cluster 'production': it is the source cluster (source_cluster_identifier)"),
        (module_args(expected_account_id="111122223333"),
         "refusing to restore 'staging': the AWS credentials are for account '123456789012', not expected_account_id '111122223333'"),
        (module_args(cluster_identifier="arn:aws:rds:eu-west-1:123456789012:cluster:staging"),
         "refusing to restore 'arn:aws:rds:eu-west-1:123456789012:cluster:staging': the cluster ARN is in region 'eu-west-1', "
         "not the configured region 'us-east-1'"),
    ]
    result = run(tmp_path, *[case[0] for case in cases], ignore_errors=True)
    for index, (dummy, message) in enumerate(cases):
        task = result.result("restore%d" % index)
        assert task.get("failed") is True and task["msg"] == message, task.get("msg")
        assert task["changed"] is False
    assert mutations(env) == before
    assert cluster(env, TARGET)["Status"] == "available" and cluster(env, "production")["Status"] == "available"
    assert len(cluster(env, TARGET)["DBClusterMembers"]) == 1


def test_bad_inputs_fail_clearly_and_change_nothing(env, tmp_path):
    before = mutations(env)
    cases = [
        (module_args(snapshot_identifier="no-such-snapshot"),
         "snapshot_identifier 'no-such-snapshot': no such cluster snapshot visible in this region and account"),
        (module_args(db_subnet_group_name="missing-subnets"), "db_subnet_group_name 'missing-subnets' does not exist in region us-east-1"),
        (module_args(vpc_security_group_ids=["sg-0000000000000dead"]),
         "vpc_security_group_ids: security group 'sg-0000000000000dead' does not exist in region us-east-1"),
        (module_args(kms_key_id="alias/missing"), "kms_key_id 'alias/missing' does not exist in region us-east-1"),
        (module_args(master_secret_id="missing/secret"), "secret 'missing/secret' not found"),
        (module_args(final_snapshot_identifier="production-seed"),
         "final snapshot 'production-seed' already exists; choose another final_snapshot_identifier (nothing was changed)"),
        (module_args(cluster_identifier="Bad_Name"), "cluster_identifier 'Bad_Name' is not a valid RDS identifier"),
        (module_args(instances={"count": 1, "instance_class": "db.serverless"}),
         "serverless_v2_scaling (min_capacity, max_capacity) is required when instances.instance_class is db.serverless"),
        (module_args(strategy="blue-green"), "value of strategy must be one of: replace, swap, got: blue-green"),
    ]
    result = run(tmp_path, *[case[0] for case in cases], ignore_errors=True)
    for index, (dummy, message) in enumerate(cases):
        task = result.result("restore%d" % index)
        assert task.get("failed") is True and message in task["msg"], task.get("msg")
        assert "\n" not in task["msg"]
    assert mutations(env) == before
    assert len(cluster(env, TARGET)["DBClusterMembers"]) == 1


def test_check_mode_returns_plan_and_changes_nothing(env, tmp_path):
    before = mutations(env)
    result = run(tmp_path, module_args(strategy="swap", final_snapshot_identifier="staging-before-refresh"),
                 module_args(), check=True)
    swap, replace = result.result("restore0"), result.result("restore1")
    assert result.rc == 0 and swap["changed"] is True and replace["changed"] is True
    actions = [(s["action"], s["cluster"], s.get("new_identifier")) for s in swap["plan"]]
    assert actions[0] == ("restore_cluster", "staging-restoring", None)
    assert ("rename", "staging", "staging-retired") in actions and ("rename", "staging-restoring", "staging") in actions
    assert swap["plan"][-1] == {"action": "delete_cluster", "phase": "delete_retired", "cluster": "staging-retired",
                                "final_snapshot_identifier": "staging-before-refresh"}
    assert [s["action"] for s in replace["plan"]][:3] == ["delete_instances", "delete_cluster", "restore_cluster"]
    assert replace["plan"][0]["instances"] == ["staging-old-1"]
    assert mutations(env) == before


def test_timeout_message_then_rerun_resumes_every_phase(env, tmp_path):
    """wait_timeout=1 makes every run stop in its first slow wait, like a crash; each rerun resumes one phase further."""
    env.set_durations(restore=2.5, instance_create=2.5, instance_delete=2.5, cluster_delete=2.5, password_reset=2.5, rename=2.5)
    failed_phases = []
    for _attempt in range(12):
        outcome = run(tmp_path, module_args(strategy="swap", wait_timeout=1))
        task = outcome.result("restore0")
        if outcome.rc == 0:
            break
        assert task["msg"].startswith("timed out after "), task["msg"]
        assert task["msg"].endswith("(wait_timeout=1s for the whole run); run again to resume from here")
        failed_phases.append(task["failed_phase"])
    else:
        pytest.fail("no rerun finished: %s" % failed_phases)
    assert {"restore", "instances", "swap", "delete_retired"} <= set(failed_phases), failed_phases
    # the last run may only have waited for the retired cluster's deletion: changed is then false
    assert cluster(env, "staging-restoring") is None and cluster(env, "staging-retired") is None
    assert_restored(task, env)


def test_replace_rerun_after_timeouts_in_each_phase(env, tmp_path):
    env.set_durations(restore=2.5, instance_create=2.5, instance_delete=2.5, cluster_delete=2.5, password_reset=2.5)
    failed_phases = []
    for _attempt in range(12):
        outcome = run(tmp_path, module_args(wait_timeout=1))
        task = outcome.result("restore0")
        if outcome.rc == 0:
            break
        failed_phases.append(task["failed_phase"])
    else:
        pytest.fail("no rerun finished: %s" % failed_phases)
    assert {"delete_target", "restore", "instances", "master_password"} <= set(failed_phases), failed_phases
    assert_restored(task, env)


def test_killed_playbook_then_rerun_finishes(env, tmp_path):
    """SIGKILL ansible-playbook (and its module process) while the temporary cluster gets its instances."""
    # The instances must still be creating when the rerun plans, after ansible-playbook's start on a loaded
    # machine (4 s was once too short); a duration is fixed when the operation starts.
    env.set_durations(instance_create=20)
    path = Path(tmp_path) / "kill.yml"
    path.write_text(playbook([module_args(strategy="swap")]))
    proc = subprocess.Popen([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", str(path)],
                            env=ansible_env(), cwd=str(REPO_ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: env.counts()["services"].get("rds", {}).get("CreateDBInstance", 0) >= 3, timeout=90)
    finally:
        kill_with_descendants(proc)
    temp = cluster(env, "staging-restoring")
    assert temp is not None and cluster(env, TARGET)["DBClusterMembers"][0]["DBInstanceIdentifier"] == "staging-old-1"
    env.set_durations(instance_create=0.3)
    rerun = run(tmp_path, module_args(strategy="swap"))
    result = rerun.result("restore0")
    assert rerun.rc == 0, rerun.output
    assert result["plan"][0]["action"] in ("wait_instances_available", "create_instances")
    assert "restore_cluster" not in [s["action"] for s in result["plan"]]
    assert_restored(result, env)


# --- what AWS does to real targets (issue 11) ----------------------------------------------------------------
def certificate_covers(env, ident):
    [entry] = [c for c in env.state()["clusters"] if c["id"] == ident]
    return entry["certificate_covers_endpoint"]


def test_a_stopped_target_is_started_then_replaced(env, tmp_path):
    env.rds.stop_db_cluster(DBClusterIdentifier=TARGET)
    wait_for(lambda: cluster(env, TARGET)["Status"] == "stopped")
    done = run(tmp_path, module_args())
    result = done.result("restore0")
    assert done.rc == 0, result.get("msg")
    assert [s["action"] for s in result["plan"]][:3] == ["start_cluster", "delete_instances", "delete_cluster"]
    assert_restored(result, env)


def test_a_stopped_target_is_started_then_swapped_and_the_new_name_gets_its_certificate(env, tmp_path):
    env.rds.stop_db_cluster(DBClusterIdentifier=TARGET)
    wait_for(lambda: cluster(env, TARGET)["Status"] == "stopped")
    done = run(tmp_path, module_args(strategy="swap"))
    result = done.result("restore0")
    assert done.rc == 0, result.get("msg")
    phases = [s["action"] for s in result["plan"] if s["phase"] == "swap"]
    assert phases == ["start_cluster", "tag_retired", "rename", "rename", "refresh_certificate"]
    assert certificate_covers(env, TARGET), "the renamed cluster still serves the temporary name's certificate"
    assert_restored(result, env)


def test_without_the_certificate_refresh_the_renamed_target_serves_the_old_name(env, tmp_path):
    result = run(tmp_path, module_args(strategy="swap", refresh_certificate_after_rename=False)).result("restore0")
    assert "refresh_certificate" not in [s["action"] for s in result["plan"]]
    assert not certificate_covers(env, TARGET)  # what the refresh is for: verify-full clients would fail


def test_a_failure_status_stops_the_wait_at_once_with_its_reason(env, tmp_path):
    env.set_durations(instance_create=30)
    args = module_args(strategy="swap", cutover=False, wait_timeout=600)
    path = Path(tmp_path) / "capacity.yml"
    path.write_text(playbook([args], ignore_errors=True))
    proc = subprocess.Popen([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", str(path)],
                            env=ansible_env({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}), cwd=str(REPO_ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    # production-1 and staging-old-1 were the first two: wait for the temporary cluster's writer.
    wait_for(lambda: env.counts()["services"].get("rds", {}).get("CreateDBInstance", 0) >= 3, timeout=90)
    env.force_status("instance", "staging-1", "insufficient-capacity")
    started = time.monotonic()
    stdout = proc.communicate(timeout=120)[0]
    assert time.monotonic() - started < 60, "the wait ran on instead of stopping at the failure status"
    report = json.loads(stdout[stdout.find("{"):])
    task = report["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert "instance 'staging-1' is insufficient-capacity: AWS has no capacity for this instance class" in task["msg"], task["msg"]
    assert task["failed_phase"] == "instances"


def test_final_snapshots_carry_the_markers(env, tmp_path):
    result = run(tmp_path, module_args(final_snapshot=True)).result("restore0")
    [name] = result["final_snapshots"]
    final = env.rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)["DBClusterSnapshots"][0]
    tags = {tag["Key"]: tag["Value"] for tag in final["TagList"]}
    assert tags["dbops:aurora_restore:final-snapshot-of"] == TARGET
    assert tags["dbops:aurora_restore:created-by"] == "dbops.aurora_restore"


def test_the_snapshots_engine_version_and_storage_are_restored(env, tmp_path):
    env.rds.create_db_cluster(DBClusterIdentifier="iopt", Engine="aurora-postgresql", EngineVersion="15.4", MasterUsername="postgres",
                              MasterUserPassword="Iopt-master-1", StorageType="aurora-iopt1")
    wait_for(lambda: cluster(env, "iopt")["Status"] == "available")
    env.rds.create_db_cluster_snapshot(DBClusterIdentifier="iopt", DBClusterSnapshotIdentifier="iopt-snap")
    wait_for(lambda: env.rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="iopt-snap")["DBClusterSnapshots"][0]["Status"] == "available")
    result = run(tmp_path, module_args(snapshot_identifier="iopt-snap", master_secret_id=None)).result("restore0")
    assert result["engine_version"] == "15.4" and result["engine_version_source"] == "snapshot", result.get("msg")
    assert result["storage_type"] == "aurora-iopt1"
    restored = cluster(env, TARGET)
    assert restored["EngineVersion"] == "15.4"  # without it AWS restores the region's default version
    assert restored["StorageType"] == "aurora-iopt1"  # without it AWS restores standard storage
    assert restored["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    upgraded = run(tmp_path, module_args(engine_version="15.7", cluster_identifier="upgraded")).result("restore0")
    assert upgraded["engine_version_source"] == "engine_version option" and cluster(env, "upgraded")["EngineVersion"] == "15.7"


@pytest.mark.parametrize("overrides, message", [
    ({"instances": {"count": 1, "instance_class": "db.m5.large"}},
     "instances.instance_class db.m5.large is not offered for aurora-postgresql 15.4 in region us-east-1"),
    ({"engine_version": "14.9"}, "engine_version 14.9: a snapshot of 15.4 restores to 15.4 or one of its upgrade targets"),
    ({"instances": {"count": 1, "instance_class": "db.serverless"}, "serverless_v2_scaling": {"min_capacity": 0, "max_capacity": 8}},
     "serverless_v2_scaling 0.0-8.0 ACU: aurora-postgresql 15.4 allows 0.5-128.0"),
    ({"tags": {"aws:cloudformation:stack-name": "staging"}}, "tags: key 'aws:cloudformation:stack-name' starts with a prefix AWS reserves"),
])
def test_what_aws_checks_at_restore_time_is_checked_before_the_target_is_deleted(env, tmp_path, overrides, message):
    before = mutations(env)
    task = run(tmp_path, module_args(**overrides), ignore_errors=True).result("restore0")
    assert task.get("failed") is True and message in task["msg"], task.get("msg")
    assert mutations(env) == before
    assert cluster(env, TARGET)["DBClusterMembers"][0]["DBInstanceIdentifier"] == "staging-old-1"


def test_the_longest_target_name_swaps_with_names_aws_accepts(env, tmp_path):
    long_target = "staging-" + "x" * 55  # 63 characters: every derived name must be shortened
    env.rds.restore_db_cluster_from_snapshot(DBClusterIdentifier=long_target, SnapshotIdentifier="production-seed",
                                             Engine="aurora-postgresql", EngineVersion="15.4")
    wait_for(lambda: cluster(env, long_target)["Status"] == "available")
    done = run(tmp_path, module_args(cluster_identifier=long_target, strategy="swap", final_snapshot=True))
    result = done.result("restore0")
    assert done.rc == 0, result.get("msg")
    names = [result["cluster_identifier"], *result["instances"], *result["final_snapshots"]]
    names += [s.get("new_identifier") or s["cluster"] for s in result["plan"]]
    assert all(len(name) <= 63 for name in names), names
    assert cluster(env, long_target) is not None


def test_a_slice_before_the_deadline_returns_its_progress_and_the_next_one_carries_on(env, tmp_path):
    """wait_deadline: a slice (wait_timeout) that ends before the whole wait's deadline returns timed_out with its
    phase, not a failure; the next call resumes from what exists."""
    env.set_durations(restore=15)
    first = run(tmp_path, module_args(wait_timeout=1, wait_deadline=time.time() + 600)).result("restore0")
    assert first.get("failed") is not True and first["timed_out"] is True and first["changed"] is True
    assert first["wait_phase"] == "restore" and "to become available" in first["wait_status"]
    # A slice that resumes the wait describes the cluster for its plan; the wait's first look is that description.
    env.clear_counts()
    middle = run(tmp_path, module_args(wait_timeout=1, wait_deadline=time.time() + 600, wait_pending=first["wait_pending"])).result("restore0")
    assert middle["timed_out"] is True and middle["changed"] is False and middle["wait_pending"]["name"] == "restore: cluster _ to become available"
    # One describe for the plan, then one per look of the wait but its first. The references (instance class, engine
    # version) were checked by the slice that began the wait: not again.
    rds_calls = env.counts()["services"]["rds"]
    assert rds_calls["DescribeDBClusters"] == 1 + middle["waits"][-1]["polls"] - 1, (rds_calls, middle["waits"])
    assert "DescribeOrderableDBInstanceOptions" not in rds_calls and "DescribeDBEngineVersions" not in rds_calls, rds_calls
    env.set_durations(restore=0.3)
    second = run(tmp_path, module_args(wait_deadline=time.time() + 600))
    assert second.rc == 0 and not second.result("restore0").get("timed_out")
    assert_restored(second.result("restore0"), env)
