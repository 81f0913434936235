"""The AWS resources a restore run needs besides the source, made with plain boto3 for the playbook tests.

playbooks/bootstrap.yml makes the same in real use (its own tests check that); the playbook tests need a
world in a second, so they build it directly: per account (A = the emulator's default, B through its
OrganizationAccountAccessRole) a KMS key aliased alias/aurora-restore in us-west-2 and us-east-1, the state and
audit tables, an SNS topic subscribed by an SQS queue (so tests can read every notification back), the
environment's secrets, and the operator role with the bootstrap's policy (operator_role.py), which
inventories/local's restores assume: IAM is enforced, so a permission the policy lacks fails the test.
"""
import json
import time

import boto3

from helpers import operator_role
from helpers.audit_tables import create_audit_tables

ACCOUNT_A = "123456789012"
ACCOUNT_B = "210987654321"
TARGET_REGION = "us-west-2"
SOURCE_REGION = "us-east-1"
TOPIC_NAME = "aurora-restore-notifications"
# Every password of the world, so tests can assert none of them is ever printed or sent.
PASSWORDS = {}


def account_b_credentials():
    sts = boto3.client("sts", region_name=SOURCE_REGION)
    credentials = sts.assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % ACCOUNT_B,
                                  RoleSessionName="tests")["Credentials"]
    return {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"]}


def session(account):
    return boto3.Session(**(account_b_credentials() if account == ACCOUNT_B else {}))


def put_secret(account, name, value):
    client = session(account).client("secretsmanager", region_name=TARGET_REGION)
    try:
        client.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=json.dumps(value))


# What bootstrap.yml gets from inventories/local's bootstrap hosts, per account.
OPERATOR_POLICY_VARIABLES = {
    ACCOUNT_A: {"environment": "dev", "bootstrap_iam_region": TARGET_REGION,
                "bootstrap_iam_target_clusters": [{"cluster_id": "dev-app", "region": TARGET_REGION}]},
    ACCOUNT_B: {"environment": "staging", "bootstrap_iam_region": TARGET_REGION,
                "bootstrap_iam_target_clusters": [{"cluster_id": "staging-app", "region": TARGET_REGION}],
                "bootstrap_iam_source_account_ids": [ACCOUNT_A],
                "bootstrap_iam_source_kms_key_aliases": [{"account_id": ACCOUNT_A, "alias": "production-aurora"}],
                "trusted": ["arn:aws:iam::%s:root" % ACCOUNT_A]},
}


def create_operator_role(account, target_clusters=()):
    """The account's operator role as bootstrap.yml makes it for inventories/local (once per account), granted the
    inventory's target clusters plus `target_clusters` (ids in the target region)."""
    iam = session(account).client("iam")
    if any(role["RoleName"] == operator_role.ROLE_NAME for role in iam.list_roles()["Roles"]):
        return operator_role.operator_role_arn(account)
    variables = dict(OPERATOR_POLICY_VARIABLES[account])
    variables["bootstrap_iam_target_clusters"] = variables["bootstrap_iam_target_clusters"] + [
        {"cluster_id": cluster, "region": TARGET_REGION} for cluster in target_clusters]
    environment = variables.pop("environment")
    trusted = variables.pop("trusted", None)
    secrets = ["aurora-restore/%s/master-credentials" % environment, "aurora-restore/%s/app-credentials" % environment]
    return operator_role.create_operator_role(session(account), account, trusted=trusted, bootstrap_iam_secret_names=secrets,
                                              **variables)


def build(environments=(("dev", ACCOUNT_A), ("staging", ACCOUNT_B)), target_clusters=()):
    """Make the world; returns {environment: {"account", "queue_url", "topic_arn"}}. `target_clusters`: more
    clusters account A's operator may replace (a benchmark's generated targets)."""
    world = {}
    # Account A's operator is the source side of every restore (select, share): it exists whatever is built.
    create_operator_role(ACCOUNT_A, target_clusters)
    for environment, account in environments:
        create_operator_role(account)
        aws = session(account)
        for region in (TARGET_REGION, SOURCE_REGION):
            kms = aws.client("kms", region_name=region)
            key = kms.create_key(Description="aurora restore")["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName="alias/aurora-restore", TargetKeyId=key)
        if account == ACCOUNT_A:
            create_audit_tables(region=TARGET_REGION)
        else:
            _create_tables_with(aws)
        topic = aws.client("sns", region_name=TARGET_REGION).create_topic(Name=TOPIC_NAME)["TopicArn"]
        sqs = aws.client("sqs", region_name=TARGET_REGION)
        queue_url = sqs.create_queue(QueueName="notifications-%s" % environment)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        aws.client("sns", region_name=TARGET_REGION).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        # Aurora master passwords exclude / " @ ' and space; users' passwords may hold any of them.
        master = {"username": "postgres", "password": "%s-Master;Pw#1" % environment}
        users = {
            "application_user": {"username": "app_user", "password": "%s-App\"Pw\\1" % environment},
            "readonly_user": {"username": "readonly_user", "password": "%s-Ro-Pw-1" % environment},
            "devops_user": {"username": "devops_user", "password": "%s-Ops-Pw-1" % environment},
        }
        put_secret(account, "aurora-restore/%s/master-credentials" % environment, master)
        put_secret(account, "aurora-restore/%s/app-credentials" % environment, users)
        PASSWORDS[environment] = [master["password"]] + [user["password"] for user in users.values()]
        world[environment] = {"account": account, "queue_url": queue_url, "topic_arn": topic, "users": users}
    return world


def _create_tables_with(aws):
    client = aws.client("dynamodb", region_name=TARGET_REGION)
    client.create_table(TableName="aurora-restore-state", KeySchema=[{"AttributeName": "operation_id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "operation_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    client.create_table(TableName="aurora-restore-audit",
                        KeySchema=[{"AttributeName": "operation_id", "KeyType": "HASH"}, {"AttributeName": "timestamp", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "operation_id", "AttributeType": "S"}, {"AttributeName": "timestamp", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")


def notifications(world, environment):
    """Every SNS notification the environment's queue received (the SNS envelopes' bodies and attributes)."""
    account = world[environment]["account"]
    sqs = session(account).client("sqs", region_name=TARGET_REGION)
    received = []
    while True:
        response = sqs.receive_message(QueueUrl=world[environment]["queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = response.get("Messages", [])
        if not messages:
            return received
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=world[environment]["queue_url"], ReceiptHandle=message["ReceiptHandle"])


# A source in the targets' own region and account (what a clone or a point-in-time restore needs).
SAME_REGION_SOURCE = "prod-west"


def wait_for(check, timeout=60):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in %ss" % timeout
        time.sleep(0.2)


def make_source_in_the_target_region():
    """prod-west: production's data in us-west-2 of account A, with a writer (a clone needs one)."""
    east = session(ACCOUNT_A).client("rds", region_name=SOURCE_REGION)
    west = session(ACCOUNT_A).client("rds", region_name=TARGET_REGION)
    seed = east.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="production-seed")["DBClusterSnapshots"][0]
    west.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=seed["DBClusterSnapshotArn"], TargetDBClusterSnapshotIdentifier="seed-west",
                                  KmsKeyId="alias/aurora-restore", SourceRegion=SOURCE_REGION)
    wait_for(lambda: west.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="seed-west")["DBClusterSnapshots"][0]["Status"] == "available")
    west.restore_db_cluster_from_snapshot(DBClusterIdentifier=SAME_REGION_SOURCE, SnapshotIdentifier="seed-west", Engine="aurora-postgresql",
                                          EngineVersion=seed["EngineVersion"])
    wait_for(lambda: west.describe_db_clusters(DBClusterIdentifier=SAME_REGION_SOURCE)["DBClusters"][0]["Status"] == "available")
    west.create_db_instance(DBInstanceIdentifier=SAME_REGION_SOURCE + "-1", DBClusterIdentifier=SAME_REGION_SOURCE,
                            Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
    wait_for(lambda: west.describe_db_instances(DBInstanceIdentifier=SAME_REGION_SOURCE + "-1")["DBInstances"][0]["DBInstanceStatus"] == "available")


def allow_clones_of_the_source():
    """What bootstrap.yml renders with bootstrap_clone_source_clusters: [{cluster_id: prod-west, region: us-west-2}]."""
    variables = dict(OPERATOR_POLICY_VARIABLES[ACCOUNT_A])
    environment = variables.pop("environment")
    policy = operator_role.render_policy(ACCOUNT_A, bootstrap_iam_clone_source_clusters=[{"cluster_id": SAME_REGION_SOURCE, "region": TARGET_REGION}],
                                         bootstrap_iam_secret_names=["aurora-restore/%s/master-credentials" % environment,
                                                                     "aurora-restore/%s/app-credentials" % environment],
                                         **variables)
    assert "ClonesAndPointInTimeRestores" in [statement["Sid"] for statement in policy["Statement"]]
    session(ACCOUNT_A).client("iam").put_role_policy(RoleName=operator_role.ROLE_NAME, PolicyName=operator_role.ROLE_NAME,
                                                     PolicyDocument=json.dumps(policy))


def allow_clones_across_accounts():
    """What bootstrap.yml renders for a clone of account A's prod-west by account B: A shares it through AWS RAM
    (bootstrap_shared_clusters), B clones it and accepts A's invitations (bootstrap_clone_source_clusters with A's
    account_id) and may use A's key, whose key policy lets B use it (docs/refresh-methods.md)."""
    grants = {
        ACCOUNT_A: {"bootstrap_iam_shared_clusters": [{"cluster_id": SAME_REGION_SOURCE, "region": TARGET_REGION}]},
        ACCOUNT_B: {"bootstrap_iam_clone_source_clusters": [{"cluster_id": SAME_REGION_SOURCE, "region": TARGET_REGION,
                                                            "account_id": ACCOUNT_A}],
                    "bootstrap_iam_source_kms_key_aliases": OPERATOR_POLICY_VARIABLES[ACCOUNT_B]["bootstrap_iam_source_kms_key_aliases"]
                    + [{"account_id": ACCOUNT_A, "alias": "aurora-restore"}]},
    }
    for account, extra in grants.items():
        variables = dict(OPERATOR_POLICY_VARIABLES[account], **extra)
        environment = variables.pop("environment")
        variables.pop("trusted", None)
        policy = operator_role.render_policy(account, bootstrap_iam_secret_names=["aurora-restore/%s/master-credentials" % environment,
                                                                                  "aurora-restore/%s/app-credentials" % environment],
                                             **variables)
        session(account).client("iam").put_role_policy(RoleName=operator_role.ROLE_NAME, PolicyName=operator_role.ROLE_NAME,
                                                       PolicyDocument=json.dumps(policy))
    kms = session(ACCOUNT_A).client("kms", region_name=TARGET_REGION)
    key = kms.describe_key(KeyId="alias/aurora-restore")["KeyMetadata"]["Arn"]
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_A}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "ClonesInAccountB", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT_B},
         "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:ReEncrypt*", "kms:GenerateDataKey*"], "Resource": "*"}]}))
