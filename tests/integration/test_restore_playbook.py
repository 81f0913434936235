"""playbooks/restore.yml end to end: real ansible-playbook runs of inventories/local against the emulator,
with a real PostgreSQL behind every cluster."""
import json
import shutil
import time

import boto3
import psycopg2
import pytest

from helpers import operator_role
from helpers import pipeline_world
from helpers.ansible_run import REPO_ROOT
from helpers.ansible_run import run_playbook
from helpers.audit_tables import AUDIT_TABLE

PLAYBOOK = REPO_ROOT / "playbooks" / "restore.yml"
INVENTORY = str(REPO_ROOT / "inventories" / "local")
TARGET_REGION = pipeline_world.TARGET_REGION


@pytest.fixture
def world(aws_env):
    aws_env.set_durations(copy=1.0, restore=1.0, instance_create=1.0, cluster_delete=0.5, instance_delete=0.5, rename=0.5,
                          password_reset=0.5, snapshot_create=0.5, modify=0.5)
    seeded = aws_env.seed()
    built = pipeline_world.build()
    built["seed"] = seeded
    return built


def restore(tmp_path, *args, extra_vars=None, check=False):
    return run_playbook(PLAYBOOK, tmp_path, inventory=INVENTORY, args=args, extra_vars=extra_vars, check=check,
                        extra_env={"ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false"})


def rds(account=pipeline_world.ACCOUNT_A):
    return pipeline_world.session(account).client("rds", region_name=TARGET_REGION)


def clusters(account=pipeline_world.ACCOUNT_A):
    return sorted(cluster["DBClusterIdentifier"] for cluster in rds(account).describe_db_clusters()["DBClusters"])


def copies(account=pipeline_world.ACCOUNT_A):
    listed = rds(account).describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    return sorted(snapshot["DBClusterSnapshotIdentifier"] for snapshot in listed)


def app_rows(account, target, user):
    cluster = rds(account).describe_db_clusters(DBClusterIdentifier=target)["DBClusters"][0]
    with psycopg2.connect(host=cluster["Endpoint"], port=cluster["Port"], dbname="appdb", user=user["username"],
                          password=user["password"], connect_timeout=10) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*), count(*) FILTER (WHERE email LIKE '%@example.invalid') FROM customers")
            return cursor.fetchone()


def wait_for(check, timeout=60):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in %ss" % timeout
        time.sleep(0.2)


def operations(account):
    table = pipeline_world.session(account).client("dynamodb", region_name=TARGET_REGION)
    items = table.scan(TableName="aurora-restore-state")["Items"]
    return [item for item in items if item["item_type"]["S"] == "operation"]


def test_dev_replace_and_staging_swap_in_parallel(world, aws_env, tmp_path):
    """Both strategies, both accounts, one run: rows readable as the app user, masked; notifications complete
    and free of passwords; one copy per account; no temporary or retired cluster left. The copy outlasts the
    progress interval, so its wait goes in slices that report status and percent. Both targets run as their
    account's operator role, with IAM enforced; then the next night (the_next_night)."""
    aws_env.set_durations(copy=5.0)
    # A refresh margin longer than the session: the assumed roles are renewed before every step and slice.
    run = restore(tmp_path, extra_vars={"restore_progress_interval": 2, "restore_credentials_refresh_seconds": 100000})
    assert run.rc == 0, run.output[-3000:]
    for host in ("dev-app", "staging-app"):
        assumed = [result for name, result in run.tasks(host)
                   if name.endswith("Assume the target account's role") and not result.get("skipped")]
        assert len(assumed) > len(["preflight", "select_snapshot", "copy_snapshot", "restore_cluster"]), (host, len(assumed))
    assert "dev-app: snapshot copy copying" in run.output
    dev_operation = operations(pipeline_world.ACCOUNT_A)[0]["operation_id"]["S"]
    events = boto3.client("dynamodb", region_name=TARGET_REGION).query(
        TableName=AUDIT_TABLE, KeyConditionExpression="operation_id = :id", ExpressionAttributeValues={":id": {"S": dev_operation}})["Items"]
    progress = [event for event in events if event["event"]["S"] == "step_progress" and event["step"]["S"] == "copy_snapshot"]
    assert progress and progress[0]["details"]["M"]["status"]["S"] == "copying", events
    # Every step's start and success, in order and at nondecreasing times, though preflight's and db_users' successes
    # were written with the next step's.
    trail = sorted(events, key=lambda event: int(event["sequence"]["N"]))
    assert [(event["event"]["S"], event["step"]["S"]) for event in trail if event["event"]["S"] in ("step_started", "step_succeeded")] == [
        (event, step) for step in ("preflight", "select_snapshot", "copy_snapshot", "restore_cluster", "db_users", "archive")
        for event in ("step_started", "step_succeeded")]
    assert [event["event_time"]["S"] for event in trail] == sorted(event["event_time"]["S"] for event in trail)
    for environment, account, target in (("dev", pipeline_world.ACCOUNT_A, "dev-app"), ("staging", pipeline_world.ACCOUNT_B, "staging-app")):
        total, masked = app_rows(account, target, world[environment]["users"]["application_user"])
        assert total == world["seed"]["tables"]["customers"] and masked == total
        assert clusters(account) == [target]
        assert [name for name in copies(account) if name.startswith("dbops-")] != []
        [operation] = operations(account)
        assert operation["status"]["S"] == "SUCCEEDED"
        [message] = pipeline_world.notifications(world, environment)
        summary = json.loads(message["Message"])
        assert summary["status"] == "SUCCEEDED" and summary["target"] == target and summary["environment"] == environment
        assert summary["operation_id"] == operation["operation_id"]["S"]
        assert summary["snapshot"] == world["seed"]["snapshot_arn"] and summary["endpoint"]
        steps = [line.split()[0] for line in summary["timeline"]]
        shared = ["share_snapshot"] if environment == "staging" else []
        cutover = ["cutover"] if environment == "staging" else []  # the swap: users and masking first, then the renames
        assert steps == ["preflight", "select_snapshot"] + shared + ["copy_snapshot", "restore_cluster", "db_users"] + cutover + ["archive"]
        assert summary["endpoint"] == rds(account).describe_db_clusters(DBClusterIdentifier=target)["DBClusters"][0]["Endpoint"]
        assert message["MessageAttributes"]["status"]["Value"] == "SUCCEEDED"
        for password in pipeline_world.PASSWORDS[environment]:
            assert password not in message["Message"] and password not in run.output
    the_next_night(aws_env, tmp_path)


def the_next_night(emulator, tmp_path):
    """The targets were stopped overnight (dev clusters are) and production has a newer snapshot: each stopped
    target is started before it is replaced or swapped (AWS refuses to change a stopped cluster), leaves a final
    snapshot, the older copies are pruned, and the targets are stopped again at the end. Every statement of both
    operator policies was used by the two nights, or is listed with its reason: the policy stays as narrow as the
    pipeline."""
    source = boto3.client("rds", region_name=pipeline_world.SOURCE_REGION)
    source.create_db_cluster_snapshot(DBClusterIdentifier="production", DBClusterSnapshotIdentifier="production-nightly")
    wait_for(lambda: source.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="production-nightly")
             ["DBClusterSnapshots"][0]["Status"] == "available")
    targets = ((pipeline_world.ACCOUNT_A, "dev-app"), (pipeline_world.ACCOUNT_B, "staging-app"))
    first_night = {target: wait_history(account, target) for account, target in targets}
    for account, target in targets:
        rds(account).stop_db_cluster(DBClusterIdentifier=target)
    for account, target in targets:
        wait_for(lambda: rds(account).describe_db_clusters(DBClusterIdentifier=target)["DBClusters"][0]["Status"] == "stopped")
    nightly = restore(tmp_path, extra_vars={"restore_final_snapshot": True, "restore_stop_after_refresh": True,
                                            "restore_archive_keep_newest": 1, "restore_final_snapshot_retention": 1})
    assert nightly.rc == 0, nightly.output[-3000:]
    for account, target in targets:
        assert clusters(account) == [target]
        assert rds(account).describe_db_clusters(DBClusterIdentifier=target)["DBClusters"][0]["Status"] == "stopped"
        finals = [snapshot for snapshot in rds(account).describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
                  if snapshot["DBClusterSnapshotIdentifier"].startswith(target + "-final-")]
        assert len(finals) == 1 and {"Key": "dbops:aurora_restore:final-snapshot-of", "Value": target} in finals[0]["TagList"]
        assert len([name for name in copies(account) if name.startswith("dbops-")]) == 1  # the older copy was pruned
        # The first night's success kept when its waits ended; the second night's start handed them to its steps,
        # whose waits have the same names from one night to the next, and its success keeps its own.
        started = [result for name, result in nightly.tasks(target) if name.endswith("Start or resume the operation, taking the target's lock")]
        assert started[0]["wait_history"]["operation_id"] == first_night[target]["from_operation_id"]["S"]
        history = wait_history(account, target)
        assert history["from_operation_id"]["S"] != first_night[target]["from_operation_id"]["S"]
        for step in ("copy_snapshot", "restore_cluster"):
            named = set(first_night[target]["wait_seconds"]["M"][step]["M"]) & set(history["wait_seconds"]["M"][step]["M"])
            assert named, (step, first_night[target], history)
    assert_operator_policies_are_used(emulator)


def wait_history(account, target):
    """The target's wait history item (when the waits of its last successful refresh ended)."""
    table = pipeline_world.session(account).client("dynamodb", region_name=TARGET_REGION)
    return table.get_item(TableName="aurora-restore-state", Key={"operation_id": {"S": "history#" + target}})["Item"]


# Statements or actions the two nights above do not need, each for a reason; any other unused grant fails the test,
# so the operator policy stays as narrow as the pipeline.
UNUSED_BY_DESIGN = {
    "AuditTables dynamodb:Query": "restore_audit action=get with events (the runbook's audit trail)",
    "AuditTables dynamodb:Scan": "restore_audit action=list",
    "AuditTables dynamodb:ConditionCheckItem": "a lock taken over after its lease ended",
    "DescribeAndList ec2:DescribeSecurityGroups": "the test world names no security group",
    "DescribeAndList rds:DescribeDBSubnetGroups": "the test world names no subnet group",
    "DescribeAndList rds:DescribeDBClusterParameterGroups": "the test world names no parameter group",
    "DescribeAndList rds:DescribeDBParameterGroups": "the same",
    "RestoreInputs rds:CreateDBInstance": "instances that name a parameter group of their own",
    "DescribeAndList kms:ListAliases": "whether another account's snapshot is under its aws/rds key (the emulator cannot "
                                       "describe another account's key, so the call after DescribeKey is not reached)",
    "KmsKeyByAlias kms:Decrypt": "secrets and the topic under the bootstrap's key (the test world's use AWS managed keys)",
    "KmsKeyByAlias kms:GenerateDataKey*": "the same, for publishing to the encrypted topic",
    "SourceKmsKeyByAlias1 kms:Decrypt": "reading what the source key encrypts; RDS itself goes through the grant",
    "SourceKmsKeyByAlias1 kms:GenerateDataKey*": "the same",
    "DescribeAndList rds:DescribeDBClusterSnapshotAttributes": "sharing, when this account is the source of another's restore",
    "SnapshotCopyAndShare rds:ModifyDBClusterSnapshotAttribute": "the same (account B is never a source here)",
    "DescribeAndList rds:ListTagsForResource": "the tags amazon.aws's rds_cluster_info and rds_snapshot_info read: a clone's "
                                               "source cluster, a resume's re-checks (preflight reads the target's TagList)",
}


def assert_operator_policies_are_used(emulator):
    usage = emulator.iam_usage()
    for account in (pipeline_world.ACCOUNT_A, pipeline_world.ACCOUNT_B):
        role = operator_role.operator_role_arn(account)
        policy = pipeline_world.session(account).client("iam").get_role_policy(
            RoleName=operator_role.ROLE_NAME, PolicyName=operator_role.ROLE_NAME)["PolicyDocument"]
        granted = {"%s %s" % (statement["Sid"], action) for statement in policy["Statement"]
                   for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])}
        unused = sorted(granted - set(usage.get(role, {})) - set(UNUSED_BY_DESIGN))
        assert unused == [], "%s grants what no run used: %s" % (role, unused)


def test_a_failure_at_each_step_then_resumes_to_success(world, aws_env, tmp_path):
    """dev-app fails at preflight, copy, restore, users and archive in turn; each rerun with the operation id
    resumes from the failed step and leaves no duplicate or orphan behind."""
    pipeline_world.put_secret(pipeline_world.ACCOUNT_A, "aurora-restore/dev/broken", ["not", "an", "object"])
    first = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_kms_key_id": "alias/missing"})
    assert first.rc != 0
    [operation] = operations(pipeline_world.ACCOUNT_A)
    operation_id = operation["operation_id"]["S"]
    assert operation["status"]["S"] == "FAILED" and "preflight failed" in operation["error"]["S"]
    assert clusters() == [] and copies() == []

    aws_env.set_durations(copy=30.0)
    failures = [
        ({"restore_wait_timeout": 2}, "copy_snapshot"),
        ({"restore_master_secret_id": "aurora-restore/dev/missing"}, "restore_cluster"),
        ({"restore_users_secret_id": "aurora-restore/dev/broken"}, "db_users"),
        # An older copy of the pipeline's to prune, and an operator that may not delete it (bad inputs of archive are
        # refused before the lock now, so the failure comes from AWS: AccessDenied, not retried).
        ({"restore_archive_keep_newest": 0}, "archive"),
    ]
    for index, (bad_vars, failing_step) in enumerate(failures):
        if failing_step == "restore_cluster":
            aws_env.set_durations(copy=0.5)
        if failing_step == "archive":
            deny_pruning_of_an_older_copy()
        run = restore(tmp_path, "--limit", "dev-app", extra_vars=dict(bad_vars, restore_operation_id=operation_id))
        if failing_step == "archive":
            iam().delete_role_policy(RoleName=operator_role.ROLE_NAME, PolicyName="deny-snapshot-deletion")
        assert run.rc != 0, failing_step
        record = operations(pipeline_world.ACCOUNT_A)
        assert len(record) == 1 and record[0]["status"]["S"] == "FAILED", failing_step
        assert record[0]["error"]["S"].startswith(failing_step + " failed:"), record[0]["error"]["S"]
        assert int(record[0]["attempt"]["N"]) == index + 2
    final = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_operation_id": operation_id, "restore_archive_keep_newest": 0})
    assert final.rc == 0, final.output[-3000:]
    [operation] = operations(pipeline_world.ACCOUNT_A)
    assert operation["status"]["S"] == "SUCCEEDED" and int(operation["attempt"]["N"]) == 6
    assert clusters() == ["dev-app"]
    assert len([name for name in copies() if name.startswith("dbops-")]) == 1
    assert "skipped: " in final.output  # the completed steps were not run again
    notes = [json.loads(message["Message"])["status"] for message in pipeline_world.notifications(world, "dev")]
    assert notes == ["FAILED"] * 5 + ["SUCCEEDED"]
    events = boto3.client("dynamodb", region_name=TARGET_REGION).query(
        TableName=AUDIT_TABLE, KeyConditionExpression="operation_id = :id", ExpressionAttributeValues={":id": {"S": operation_id}})["Items"]
    assert len([event for event in events if event["event"]["S"] == "operation_resumed"]) == 5
    reruns_say_what_they_did(world, tmp_path, operation_id)


def master_sql(statement):
    cluster = rds().describe_db_clusters(DBClusterIdentifier="dev-app")["DBClusters"][0]
    with psycopg2.connect(host=cluster["Endpoint"], port=cluster["Port"], dbname="appdb", user="postgres",
                          password="dev-Master;Pw#1", connect_timeout=10) as connection:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else None


def reruns_say_what_they_did(world, tmp_path, succeeded_id):
    """A resume of the succeeded operation changes nothing and says so; a rerun finds the target current and says
    'already current, nothing restored' (the data written since stays); restore_force restores it again."""
    again = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_operation_id": succeeded_id})
    assert again.rc == 0 and again.stats("dev-app")["changed"] == 0, again.stats("dev-app")
    assert "dev-app: operation %s already SUCCEEDED (finished 20" % succeeded_id in again.output
    assert pipeline_world.notifications(world, "dev") == []

    master_sql("CREATE TABLE written_since_the_refresh (id int)")
    rerun = restore(tmp_path, "--limit", "dev-app")
    assert rerun.rc == 0, rerun.output[-3000:]
    [message] = pipeline_world.notifications(world, "dev")
    summary = json.loads(message["Message"])
    assert summary["status"] == "SUCCEEDED" and summary["restored"] is False
    assert summary["outcome"] == "already current, nothing restored"
    assert message["Subject"] == "Aurora restore SUCCEEDED (already current, nothing restored): dev/dev-app"
    assert "dev-app SUCCEEDED (already current, nothing restored) in" in rerun.output
    assert master_sql("SELECT to_regclass('written_since_the_refresh') IS NOT NULL") == [(True,)]

    forced = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_force": True})
    assert forced.rc == 0, forced.output[-3000:]
    [message] = pipeline_world.notifications(world, "dev")
    summary = json.loads(message["Message"])
    assert summary["outcome"] == "restored" and summary["restored"] is True
    assert message["Subject"] == "Aurora restore SUCCEEDED: dev/dev-app"
    assert master_sql("SELECT to_regclass('written_since_the_refresh') IS NOT NULL") == [(False,)]
    assert clusters() == ["dev-app"]


def iam(account=pipeline_world.ACCOUNT_A):
    return pipeline_world.session(account).client("iam")


def deny_pruning_of_an_older_copy():
    """A snapshot of dev-app carrying the pipeline's copy markers (so archive wants to prune it), and a Deny of
    rds:DeleteDBClusterSnapshot on the operator role."""
    marker = [{"Key": "dbops:aurora_restore:created-by", "Value": "dbops.aurora_restore"},
              {"Key": "dbops:aurora_restore:source-cluster", "Value": "production"}]
    rds().create_db_cluster_snapshot(DBClusterIdentifier="dev-app", DBClusterSnapshotIdentifier="dbops-older-copy", Tags=marker)
    wait_for(lambda: rds().describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="dbops-older-copy")
             ["DBClusterSnapshots"][0]["Status"] == "available")
    iam().put_role_policy(RoleName=operator_role.ROLE_NAME, PolicyName="deny-snapshot-deletion", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "rds:DeleteDBClusterSnapshot", "Resource": "*"}]}))


def test_a_resume_rechecks_the_copy_and_the_cluster_and_redoes_what_is_gone(world, tmp_path):
    """What a completed step produced is checked on resume: a copy or cluster deleted in between is made again,
    with every step after it (the users and masking of a re-restored cluster included)."""
    # A smoke check that fails: db_users fails after the copy and the restore (preflight cannot foresee it).
    broken_users = {"restore_smoke_checks": [{"name": "never", "query": "SELECT 1 WHERE false"}]}
    first = restore(tmp_path, "--limit", "dev-app", extra_vars=broken_users)
    assert first.rc != 0
    [operation] = operations(pipeline_world.ACCOUNT_A)
    operation_id = operation["operation_id"]["S"]
    assert operation["error"]["S"].startswith("db_users failed:")
    [copy] = [name for name in copies() if name.startswith("dbops-")]
    rds().delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=copy)

    second = restore(tmp_path, "--limit", "dev-app", extra_vars=dict(broken_users, restore_operation_id=operation_id))
    assert second.rc != 0
    assert "dev-app: the copy %s is gone or not available; copy_snapshot and the steps after it run again" % copy in second.output
    assert operations(pipeline_world.ACCOUNT_A)[0]["error"]["S"].startswith("db_users failed:")
    assert copies() == [copy] and clusters() == ["dev-app"]
    members = rds().describe_db_clusters(DBClusterIdentifier="dev-app")["DBClusters"][0]["DBClusterMembers"]
    for member in members:
        rds().delete_db_instance(DBInstanceIdentifier=member["DBInstanceIdentifier"])
    wait_for(lambda: not rds().describe_db_instances()["DBInstances"])
    rds().delete_db_cluster(DBClusterIdentifier="dev-app", SkipFinalSnapshot=True)
    wait_for(lambda: clusters() == [])

    final = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_operation_id": operation_id})
    assert final.rc == 0, final.output[-3000:]
    assert "dev-app: the restored cluster is gone; restore_cluster and the steps after it run again" in final.output
    [operation] = operations(pipeline_world.ACCOUNT_A)
    assert operation["status"]["S"] == "SUCCEEDED" and int(operation["attempt"]["N"]) == 3
    total, masked = app_rows(pipeline_world.ACCOUNT_A, "dev-app", world["dev"]["users"]["application_user"])
    assert total == world["seed"]["tables"]["customers"] and masked == total  # users and masking ran on the new cluster


def test_preflight_names_every_bad_reference_before_any_copy(world, tmp_path):
    run = restore(tmp_path, "--limit", "dev-app", extra_vars={
        "restore_db_subnet_group": "aurora-nonprd", "restore_security_group_ids": ["sg-0000000000000dead"],
        "restore_master_secret_id": "aurora-restore/dev/master-credentals"})
    assert run.rc != 0
    # The operator may read only its environment's secrets: a misspelt one is refused, not found, as on AWS.
    expected = ("dev-app: db_subnet_group_name 'aurora-nonprd' does not exist in region us-west-2; "
                "vpc_security_group_ids: security group 'sg-0000000000000dead' does not exist in region us-west-2; "
                "secret 'aurora-restore/dev/master-credentals' in region us-west-2: the credentials may not read it, or it "
                "does not exist (AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/aurora-restore-operator/"
                "aurora-restore-dev-app is not authorized to perform: secretsmanager:DescribeSecret on resource: "
                "arn:aws:secretsmanager:us-west-2:123456789012:secret:aurora-restore/dev/master-credentals because no "
                "identity-based policy allows the secretsmanager:DescribeSecret action)")
    assert expected in run.output
    [operation] = operations(pipeline_world.ACCOUNT_A)
    # The record keeps the first 500 characters of the error (restore_failure | truncate(500)).
    assert operation["status"]["S"] == "FAILED" and operation["error"]["S"].startswith("preflight failed: " + expected[:400])
    assert clusters() == [] and copies() == []

    # Without a master secret the copy would keep production's master password: refused unless accepted.
    run = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_master_secret_id": "", "restore_instance_class": "db.serverless"})
    assert run.rc != 0
    assert "dev-app: restore_instance_class is db.serverless, so restore_serverless_v2_scaling needs min_capacity and max_capacity" in run.output
    run = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_master_secret_id": ""})
    assert run.rc != 0
    assert "dev-app: restore_master_secret_id is empty, so the restored cluster would keep the source's master password" in run.output
    assert clusters() == [] and copies() == []


def emulator_state():
    """What a refused run must leave as it was: clusters, snapshots, state and audit items of both accounts."""
    state = {}
    for account in (pipeline_world.ACCOUNT_A, pipeline_world.ACCOUNT_B):
        for region in ("us-east-1", TARGET_REGION):
            client = pipeline_world.session(account).client("rds", region_name=region)
            state[account, region, "clusters"] = sorted(
                (cluster["DBClusterIdentifier"], cluster["Status"]) for cluster in client.describe_db_clusters()["DBClusters"])
            state[account, region, "snapshots"] = sorted(
                snapshot["DBClusterSnapshotIdentifier"] for snapshot in client.describe_db_cluster_snapshots()["DBClusterSnapshots"])
        dynamodb = pipeline_world.session(account).client("dynamodb", region_name=TARGET_REGION)
        for table in ("aurora-restore-state", "aurora-restore-audit"):
            state[account, table] = dynamodb.scan(TableName=table, Select="COUNT")["Count"]
    return state


BAD_INPUTS = {
    "bad-database": ({"restore_database": ""}, "restore_database '' is not a PostgreSQL database name (1 to 63 bytes)"),
    "bad-ssl-mode": ({"restore_ssl_mode": "verfy-full"}, "restore_ssl_mode"),
    "bad-ca-file": ({"restore_ssl_mode": "verify-full", "restore_ssl_ca_cert": "/no/such/rds-ca.pem"},
                    "restore_ssl_ca_cert '/no/such/rds-ca.pem' is not a file on the controller"),
    "bad-verify": ({"restore_ssl_mode": "verify-full"}, "restore_ssl_mode verify-full verifies the server's certificate, so it needs restore_ssl_ca_cert"),
    "bad-smoke": ({"restore_smoke_checks": [{"query": "SELECT 1"}]}, "restore_smoke_checks"),
    "bad-smoke-expect": ({"restore_smoke_checks": [{"name": "rows", "query": "SELECT 1", "expect_rows": True, "expect_value": 1}]},
                         "restore_smoke_checks item 'rows': set expect_rows or expect_value, not both"),
    "bad-sql-item": ({"restore_post_restore_sql": ["UPDATE customers SET email = 'x'", ""]}, "restore_post_restore_sql item 1 is empty"),
    "bad-keep": ({"restore_archive_keep_newest": -1}, "restore_archive_keep_newest is -1: it must be 0 or more"),
    "bad-namespace": ({"restore_metric_namespace": "AWS/RDS"}, "restore_metric_namespace 'AWS/RDS' is reserved"),
    "bad-age": ({"restore_snapshot_max_age_hours": -5}, "restore_snapshot_max_age_hours is -5: it must be 0 (no limit) or more"),
    # A file, but not a CA bundle: libpq would refuse it only when db_users connects, after the restore.
    "bad-ca-content": ({"restore_ssl_mode": "verify-full", "restore_ssl_ca_cert": str(REPO_ROOT / "COPYING")},
                       "restore_ssl_ca_cert '%s' holds no PEM certificate" % (REPO_ROOT / "COPYING")),
    "bad-masking-skipped": ({"restore_master_secret_id": "", "restore_keep_source_master_password": True},
                            "restore_post_restore_sql is set but no master secret reaches the restored cluster"),
}


def test_every_late_steps_bad_input_is_refused_before_any_aws_call(world, tmp_path):
    """Inputs of db_users, archive and finish used to fail only after the copy and the restore (with replace: after
    the target was deleted). One run, one target per bad input: each fails before the lock, in one line naming it."""
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO_ROOT / "inventories" / "local" / "group_vars", inventory / "group_vars")
    (inventory / "hosts.yml").write_text(json.dumps({"all": {"children": {"dev": {"hosts": {
        name: changes for name, (changes, _line) in BAD_INPUTS.items()}}}}}))
    before = emulator_state()
    run = run_playbook(PLAYBOOK, tmp_path, inventory=str(inventory), extra_env={"ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false"})
    assert run.rc != 0
    for name, (_changes, line) in BAD_INPUTS.items():
        ran = [task.split(" : ", 1)[-1] for task, _result in run.tasks(name)]
        # Nothing but the argument spec and tasks/inputs.yml: no credentials, no lock, no AWS call.
        assert run.stats(name)["failures"] == 1 and all(
            task.startswith(("Validating arguments", "Inputs")) for task in ran), (name, ran)
        [(task, result)] = [(task, result) for task, result in run.tasks(name) if result.get("failed")]
        # The argument spec's failures come under Ansible's own header line.
        message = result["msg"].replace("Validation of arguments failed:\n", "").strip()
        assert line in message and "\n" not in message, (name, task, result["msg"])
    assert emulator_state() == before


def test_a_master_secret_naming_another_user_than_the_snapshots_is_refused_in_preflight(world, tmp_path):
    """A restore keeps the snapshot's master user and resets only its password: a secret naming another user would
    pass the restore and fail db_users hours later. Preflight compares them (the snapshot's is `postgres`)."""
    pipeline_world.put_secret(pipeline_world.ACCOUNT_A, "aurora-restore/dev/master-credentials",
                              {"username": "admin", "password": "dev-Master;Pw#1"})
    before = emulator_state()
    run = restore(tmp_path, "--limit", "dev-app")
    assert run.rc != 0
    assert ("dev-app: master_secret_id 'aurora-restore/dev/master-credentials' names user 'admin' but the source's "
            "master user is 'postgres', which a restore keeps (only its password is reset): set the secret's username "
            "to 'postgres'") in run.output
    [operation] = operations(pipeline_world.ACCOUNT_A)
    assert operation["status"]["S"] == "FAILED" and operation["error"]["S"].startswith("preflight failed: ")
    after = emulator_state()
    # Preflight ran under the lock, so the operation's record and audit events are there; nothing else changed.
    assert {key: value for key, value in after.items() if "aurora-restore" not in key[-1]} == {
        key: value for key, value in before.items() if "aurora-restore" not in key[-1]}


def test_a_concurrent_run_on_the_same_target_is_refused_with_nothing_touched(world, tmp_path):
    holder = run_playbook("""
- hosts: localhost
  connection: local
  gather_facts: false
  vars: {ansible_python_interpreter: "{{ ansible_playbook_python }}"}
  tasks:
    - name: start
      dbops.aurora_restore.restore_audit: {action: start, target: dev-app, region: us-west-2}
""", tmp_path).result("start")["operation"]["operation_id"]
    run = restore(tmp_path, "--limit", "dev-app")
    assert run.rc != 0
    assert "target 'dev-app' is locked by operation '%s'" % holder in run.output
    assert clusters() == [] and copies() == []
    assert [item["operation_id"]["S"] for item in operations(pipeline_world.ACCOUNT_A)] == [holder]
    assert pipeline_world.notifications(world, "dev") == []


def test_a_resume_of_an_operation_that_does_not_exist_is_refused_with_nothing_touched(world, tmp_path):
    run = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_operation_id": "dev-app-20261202T010000Z-typo"})
    assert run.rc != 0
    assert ("operation 'dev-app-20261202T010000Z-typo' does not exist in table 'aurora-restore-state': operation_id resumes "
            "an earlier operation of 'dev-app' (leave it empty to start a new one, or set create to start one with this id)"
            ) in run.output
    assert clusters() == [] and copies() == []
    assert operations(pipeline_world.ACCOUNT_A) == []
    locks = [item for item in pipeline_world.session(pipeline_world.ACCOUNT_A).client("dynamodb", region_name=TARGET_REGION)
             .scan(TableName="aurora-restore-state")["Items"] if item["item_type"]["S"] == "lock"]
    assert locks == []


def test_check_mode_changes_nothing(world, tmp_path):
    run = restore(tmp_path, check=True)
    assert run.rc == 0, run.output[-3000:]
    assert "check mode, nothing changed" in run.output
    for account in (pipeline_world.ACCOUNT_A, pipeline_world.ACCOUNT_B):
        assert clusters(account) == [] and copies(account) == [] and operations(account) == []
    source = boto3.client("rds", region_name="us-east-1")
    attributes = source.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier="production-seed")
    assert all(not attribute["AttributeValues"] for attribute in attributes["DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"])
