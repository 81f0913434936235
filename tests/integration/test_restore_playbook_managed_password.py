"""playbooks/restore.yml with restore_master_password_mode=managed: RDS generates the restored cluster's master
password and keeps it in its own secret; the users are created through that secret; its ARN (never its value) is in
the step's output, the audit trail and the notification. Real ansible-playbook runs of inventories/local as the
operator role, against the emulator with a real PostgreSQL behind every cluster."""
import json

import boto3

from helpers import operator_role
from helpers import pipeline_world
from helpers.audit_tables import AUDIT_TABLE
from test_restore_playbook import app_rows
from test_restore_playbook import clusters
from test_restore_playbook import copies
from test_restore_playbook import operations
from test_restore_playbook import rds
from test_restore_playbook import restore
# The pipeline world (accounts, keys, tables, topics, secrets, operator roles) as a fixture.
from test_restore_playbook import world  # noqa: F401  pylint: disable=unused-import

A = pipeline_world.ACCOUNT_A
MANAGED = {"restore_master_password_mode": "managed", "restore_master_secret_id": ""}


def allow_managed_master_passwords():
    """What bootstrap.yml renders with bootstrap_managed_master_passwords: true."""
    variables = dict(pipeline_world.OPERATOR_POLICY_VARIABLES[A])
    environment = variables.pop("environment")
    policy = operator_role.render_policy(A, bootstrap_iam_managed_master_passwords=True,
                                         bootstrap_iam_secret_names=["aurora-restore/%s/master-credentials" % environment,
                                                                     "aurora-restore/%s/app-credentials" % environment],
                                         **variables)
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert "ManagedMasterPasswordsCreate" in sids and "ManagedMasterPasswordsOfTargets" in sids
    pipeline_world.session(A).client("iam").put_role_policy(RoleName=operator_role.ROLE_NAME, PolicyName=operator_role.ROLE_NAME,
                                                            PolicyDocument=json.dumps(policy))


def audit_items(operation_id):
    return boto3.client("dynamodb", region_name=pipeline_world.TARGET_REGION).query(
        TableName=AUDIT_TABLE, KeyConditionExpression="operation_id = :id",
        ExpressionAttributeValues={":id": {"S": operation_id}})["Items"]


def test_a_managed_master_password_end_to_end_with_its_refusals(world, aws_env, tmp_path):
    # A master secret besides managed mode is refused in preflight, in one line, with nothing copied or restored.
    aws_env.clear_counts()
    refused = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_master_password_mode": "managed"})
    assert refused.rc != 0
    assert ("dev-app: restore_master_password_mode=managed has RDS keep the master password in a secret of its own, so "
            "restore_master_secret_id must be empty (it is aurora-restore/dev/master-credentials)") in " ".join(refused.output.split())
    counts = aws_env.counts()["services"].get("rds", {})
    assert not counts.get("CopyDBClusterSnapshot") and not counts.get("RestoreDBClusterFromSnapshot")

    # Without the bootstrap's grant, RDS may not create its secret as the operator: the restore step fails (on AWS,
    # after the copy and the restore) and names the missing permission; once granted, a resume finishes.
    denied = restore(tmp_path, "--limit", "dev-app", extra_vars=MANAGED)
    assert denied.rc != 0 and "secretsmanager:CreateSecret" in denied.output
    failed = sorted(operations(A), key=lambda item: item["started_at"]["S"])[-1]
    assert failed["status"]["S"] == "FAILED" and failed["error"]["S"].startswith("restore_cluster failed:")
    allow_managed_master_passwords()
    resumed = restore(tmp_path, "--limit", "dev-app", extra_vars=dict(MANAGED, restore_operation_id=failed["operation_id"]["S"]))
    assert resumed.rc == 0, resumed.output[-3000:]

    cluster = rds(A).describe_db_clusters(DBClusterIdentifier="dev-app")["DBClusters"][0]
    arn = cluster["MasterUserSecret"]["SecretArn"]
    assert ":secret:rds!cluster-" in arn and clusters(A) == ["dev-app"]
    managed = json.loads(pipeline_world.session(A).client("secretsmanager", region_name=pipeline_world.TARGET_REGION)
                         .get_secret_value(SecretId=arn)["SecretString"])
    # The users step logged in with RDS's secret: the application user reads the masked rows.
    count, masked = app_rows(A, "dev-app", world["dev"]["users"]["application_user"])
    assert count == world["seed"]["tables"]["customers"] and masked == count
    operation = sorted(operations(A), key=lambda item: item["started_at"]["S"])[-1]
    assert operation["status"]["S"] == "SUCCEEDED"
    [message] = [note for note in pipeline_world.notifications(world, "dev") if json.loads(note["Message"])["status"] == "SUCCEEDED"]
    summary = json.loads(message["Message"])
    assert summary["master_user_secret_arn"] == arn
    events = json.dumps(audit_items(operation["operation_id"]["S"]))
    assert arn in events
    for text in (resumed.output, denied.output, message["Message"], events):
        assert managed["password"] not in text
    assert len([name for name in copies(A) if name.startswith("dbops-")]) == 1
