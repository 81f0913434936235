"""IAM enforcement over real HTTP: roles get what their policies allow on the resources AWS names, and nothing else,
refused with each service's error code and AWS's message shape (tools/localaws/README.md, "IAM")."""

import json

import pytest

from localaws_helpers import (ACCOUNT_A, ACCOUNT_B, TRUST_ACCOUNT_A, account_b_credentials, client, create_cluster,
                              create_kms_key, expect_error, role_with, wait_snapshot)

def denied(code, call, **kwargs):
    error = expect_error(code, call, **kwargs)
    return error.response["Error"]["Message"]


def test_root_may_do_anything_and_get_caller_identity_is_never_denied(aws_env):
    assert client("rds", "us-west-2").describe_db_clusters()["DBClusters"] == []
    creds = role_with([{"Effect": "Deny", "Action": "*", "Resource": "*"}])
    assert client("sts", credentials=creds).get_caller_identity()["Arn"].endswith(":assumed-role/op/tests")


def test_assume_role_needs_a_role_that_exists_and_trusts_the_caller(aws_env):
    sts = client("sts")
    message = denied("AccessDenied", sts.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/nobody", RoleSessionName="tests")
    assert message == f"User: arn:aws:iam::{ACCOUNT_A}:root is not authorized to perform: sts:AssumeRole on resource: " \
                      f"arn:aws:iam::{ACCOUNT_B}:role/nobody"
    b_admin = account_b_credentials()
    iam_b = client("iam", credentials=b_admin)
    only_b = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_B}:root"}}]}
    arn = iam_b.create_role(RoleName="b-only", AssumeRolePolicyDocument=json.dumps(only_b))["Role"]["Arn"]
    denied("AccessDenied", sts.assume_role, RoleArn=arn, RoleSessionName="tests")
    # Role chaining gets at most one hour; a session longer than the role allows is refused.
    chained = role_with([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}], max_session=43200)
    target = client("iam").create_role(RoleName="next", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT_A),
                                       MaxSessionDuration=43200)["Role"]["Arn"]
    expect_error("ValidationError", client("sts", credentials=chained).assume_role, RoleArn=target,
                 RoleSessionName="tests", DurationSeconds=7200)
    client("sts", credentials=chained).assume_role(RoleArn=target, RoleSessionName="tests", DurationSeconds=3600)
    short = client("iam").create_role(RoleName="short", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT_A))["Role"]["Arn"]
    expect_error("ValidationError", sts.assume_role, RoleArn=short, RoleSessionName="tests", DurationSeconds=7200)


def test_a_role_gets_what_its_policy_allows_on_the_resource_aws_names(aws_env):
    rds_admin = client("rds", "us-west-2")
    create_cluster(rds_admin, "ours", writer=False, Tags=[{"Key": "owner", "Value": "pipeline"}])
    create_cluster(rds_admin, "theirs", writer=False)
    creds = role_with([
        {"Effect": "Allow", "Action": ["rds:Describe*", "rds:ListTagsForResource"], "Resource": "*"},
        {"Effect": "Allow", "Action": "rds:DeleteDBCluster", "Resource": f"arn:aws:rds:*:{ACCOUNT_A}:cluster:*",
         "Condition": {"StringEquals": {"aws:ResourceTag/owner": "pipeline"}}},
    ])
    rds = client("rds", "us-west-2", creds)
    assert len(rds.describe_db_clusters()["DBClusters"]) == 2
    message = denied("AccessDenied", rds.delete_db_cluster, DBClusterIdentifier="theirs", SkipFinalSnapshot=True)
    assert message == (f"User: arn:aws:sts::{ACCOUNT_A}:assumed-role/op/tests is not authorized to perform: "
                       f"rds:DeleteDBCluster on resource: arn:aws:rds:us-west-2:{ACCOUNT_A}:cluster:theirs because no "
                       "identity-based policy allows the rds:DeleteDBCluster action")
    # A final snapshot is a resource of its own: a tag condition cannot match a snapshot that does not exist yet.
    final = denied("AccessDenied", rds.delete_db_cluster, DBClusterIdentifier="ours", FinalDBSnapshotIdentifier="ours-final")
    assert f"cluster-snapshot:ours-final" in final
    rds.delete_db_cluster(DBClusterIdentifier="ours", SkipFinalSnapshot=True)
    assert rds_admin.describe_db_clusters(DBClusterIdentifier="theirs")["DBClusters"]


def test_a_dynamodb_transaction_needs_each_items_own_action_on_its_table(aws_env):
    admin = client("dynamodb", "us-east-1")
    for name in ("state", "audit"):
        admin.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT_A}:table/"
    puts_only = role_with([{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": [table + "state", table + "audit"]}])
    dynamodb = client("dynamodb", "us-east-1", puts_only)
    both = [{"Put": {"TableName": "state", "Item": {"id": {"S": "one"}}}},
            {"Put": {"TableName": "audit", "Item": {"id": {"S": "one"}}}}]
    dynamodb.transact_write_items(TransactItems=both)
    # No permission is named after the transaction: an item that updates needs dynamodb:UpdateItem on its table.
    message = denied("AccessDeniedException", dynamodb.transact_write_items, TransactItems=[
        {"Put": {"TableName": "audit", "Item": {"id": {"S": "two"}}}},
        {"Update": {"TableName": "state", "Key": {"id": {"S": "one"}}, "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": "1"}}}}])
    assert "dynamodb:UpdateItem on resource: " + table + "state" in message
    assert "n" not in admin.get_item(TableName="state", Key={"id": {"S": "one"}})["Item"]
    assert "Item" not in admin.get_item(TableName="audit", Key={"id": {"S": "two"}})


def test_explicit_deny_wins_and_tag_on_create_needs_add_tags(aws_env):
    rds_admin = client("rds", "us-east-1")
    create_cluster(rds_admin, "src", writer=False)
    rds_admin.create_db_cluster_snapshot(DBClusterIdentifier="src", DBClusterSnapshotIdentifier="src-snap")
    wait_snapshot(rds_admin, "src-snap")
    creds = role_with([
        {"Effect": "Allow", "Action": "rds:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "rds:AddTagsToResource", "Resource": "*"},
        {"Effect": "Deny", "NotAction": ["rds:Describe*", "rds:CopyDBClusterSnapshot", "rds:AddTagsToResource"], "Resource": "*"},
    ])
    rds = client("rds", "us-east-1", creds)
    message = denied("AccessDenied", rds.copy_db_cluster_snapshot, SourceDBClusterSnapshotIdentifier="src-snap",
                     TargetDBClusterSnapshotIdentifier="tagged", Tags=[{"Key": "team", "Value": "db"}])
    assert "rds:AddTagsToResource" in message and "with an explicit deny in an identity-based policy" in message
    rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="src-snap", TargetDBClusterSnapshotIdentifier="untagged")
    denied("AccessDenied", rds.delete_db_cluster_snapshot, DBClusterSnapshotIdentifier="untagged")


@pytest.mark.parametrize("service, call, code", [
    ("dynamodb", lambda c: c.describe_table(TableName="state"), "AccessDeniedException"),
    ("kms", lambda c: c.list_aliases(), "AccessDeniedException"),
    ("secretsmanager", lambda c: c.get_secret_value(SecretId="app/master"), "AccessDeniedException"),
    ("sns", lambda c: c.publish(TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT_A}:topic", Message="m"), "AuthorizationError"),
    ("ec2", lambda c: c.describe_vpcs(), "UnauthorizedOperation"),
    ("cloudwatch", lambda c: c.put_metric_data(Namespace="N", MetricData=[{"MetricName": "m", "Value": 1.0}]), "AccessDenied"),
    ("iam", lambda c: c.list_account_aliases(), "AccessDenied"),
])
def test_each_service_refuses_with_its_own_error_code(aws_env, service, call, code):
    creds = role_with([{"Effect": "Allow", "Action": "rds:DescribeDBClusters", "Resource": "*"}])
    with pytest.raises(Exception) as excinfo:
        call(client(service, "us-east-1", creds))
    assert excinfo.value.response["Error"]["Code"] == code, excinfo.value.response


def test_conditions_on_request_values(aws_env):
    creds = role_with([
        {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": "DBOps/AuroraRestore"}}},
        {"Effect": "Allow", "Action": ["kms:DescribeKey"], "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/aurora-restore"}}},
    ])
    cloudwatch = client("cloudwatch", "us-east-1", creds)
    cloudwatch.put_metric_data(Namespace="DBOps/AuroraRestore", MetricData=[{"MetricName": "m", "Value": 1.0}])
    expect_error("AccessDenied", cloudwatch.put_metric_data, Namespace="AWS/RDS", MetricData=[{"MetricName": "m", "Value": 1.0}])
    kms_admin = client("kms", "us-east-1")
    aliased = kms_admin.create_key()["KeyMetadata"]["KeyId"]
    kms_admin.create_alias(AliasName="alias/aurora-restore", TargetKeyId=aliased)
    other = kms_admin.create_key()["KeyMetadata"]["KeyId"]
    kms = client("kms", "us-east-1", creds)
    kms.describe_key(KeyId="alias/aurora-restore")
    expect_error("AccessDeniedException", kms.describe_key, KeyId=other)


def test_a_secret_under_a_customer_key_needs_kms_decrypt(aws_env):
    kms_admin = client("kms", "us-east-1")
    key = kms_admin.create_key()["KeyMetadata"]["Arn"]
    client("secretsmanager", "us-east-1").create_secret(Name="app/master", SecretString="{}", KmsKeyId=key)
    read_only = [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                  "Resource": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_A}:secret:app/master-*"}]
    creds = role_with(read_only)
    message = denied("AccessDeniedException", client("secretsmanager", "us-east-1", creds).get_secret_value, SecretId="app/master")
    assert "kms:Decrypt" in message
    creds = role_with(read_only + [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key,
                                    "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}}],
                      name="reader")
    client("secretsmanager", "us-east-1", creds).get_secret_value(SecretId="app/master")


def test_another_accounts_key_needs_its_key_policy_too(aws_env):
    """Account B copies A's shared snapshot: B's identity policy and A's key policy must both allow B."""
    rds_a = client("rds", "us-east-1")
    closed_key = create_kms_key("us-east-1")
    open_key = create_kms_key("us-east-1", users=(ACCOUNT_B,))
    for name, key in (("closed", closed_key), ("open", open_key)):
        create_cluster(rds_a, name, writer=False, StorageEncrypted=True, KmsKeyId=key)
        rds_a.create_db_cluster_snapshot(DBClusterIdentifier=name, DBClusterSnapshotIdentifier=name + "-snap")
        snap = wait_snapshot(rds_a, name + "-snap")
        rds_a.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier=name + "-snap", AttributeName="restore",
                                                   ValuesToAdd=[ACCOUNT_B])
    b_admin = account_b_credentials()
    b_key = create_kms_key("us-east-1", b_admin)
    rds_b = client("rds", "us-east-1", b_admin)
    closed_arn = snap["DBClusterSnapshotArn"].replace("open-snap", "closed-snap")
    message = denied("AccessDenied", rds_b.copy_db_cluster_snapshot, SourceDBClusterSnapshotIdentifier=closed_arn,
                     TargetDBClusterSnapshotIdentifier="from-closed", KmsKeyId=b_key)
    assert closed_key in message and "no resource-based policy allows" in message
    rds_b.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=snap["DBClusterSnapshotArn"],
                                   TargetDBClusterSnapshotIdentifier="from-open", KmsKeyId=b_key)


def test_iam_can_be_switched_off(aws_env):
    creds = role_with([{"Effect": "Allow", "Action": "rds:DescribeDBClusters", "Resource": "*"}])
    expect_error("AccessDeniedException", client("dynamodb", "us-east-1", creds).list_tables)
    aws_env.set_settings(iam="off")
    client("dynamodb", "us-east-1", creds).list_tables()
