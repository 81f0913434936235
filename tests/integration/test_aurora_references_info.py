"""aurora_references_info through ansible-playbook against the emulator: what a restore names, found or not."""
import json

import boto3
import pytest

from helpers.ansible_run import LOCAL_PLAY_HEADER
from helpers.ansible_run import run_playbook

REGION = "us-east-1"
PLAY = LOCAL_PLAY_HEADER + """    - name: check
      dbops.aurora_restore.aurora_references_info: %s
      ignore_errors: true
"""


def check(tmp_path, check_mode=False, **options):
    return run_playbook(PLAY % json.dumps(options), tmp_path, check=check_mode).result("check")


@pytest.fixture
def network(aws_env):
    """Two VPCs: the subnet group and one security group in the first, a stray security group in the second."""
    ec2 = boto3.client("ec2", region_name=REGION)
    rds = boto3.client("rds", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    other_vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.10.%d.0/24" % index, AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
               for index, zone in ((1, "a"), (2, "b"))]
    rds.create_db_subnet_group(DBSubnetGroupName="aurora-nonprod", DBSubnetGroupDescription="test", SubnetIds=subnets)
    group = ec2.create_security_group(GroupName="aurora", Description="test", VpcId=vpc)["GroupId"]
    stray = ec2.create_security_group(GroupName="stray", Description="test", VpcId=other_vpc)["GroupId"]
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName="pg15", DBParameterGroupFamily="aurora-postgresql15", Description="t")
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName="pg14", DBParameterGroupFamily="aurora-postgresql14", Description="t")
    rds.create_db_parameter_group(DBParameterGroupName="instance-pg15", DBParameterGroupFamily="aurora-postgresql15", Description="t")
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/aurora-restore", TargetKeyId=key)
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=disabled)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.create_secret(Name="aurora-restore/dev/master-credentials", SecretString=json.dumps({"username": "m", "password": "Never-Shown-1"}))
    secrets.create_secret(Name="aurora-restore/dev/old", SecretString="{}")
    secrets.delete_secret(SecretId="aurora-restore/dev/old", RecoveryWindowInDays=7)
    return dict(vpc=vpc, other_vpc=other_vpc, subnets=sorted(subnets), group=group, stray=stray, key=key, disabled=disabled)


def test_everything_found_is_described(network, tmp_path):
    result = check(tmp_path, db_subnet_group_name="aurora-nonprod", vpc_security_group_ids=[network["group"]],
                   db_cluster_parameter_group_name="pg15", db_parameter_group_name="instance-pg15", kms_key_id="alias/aurora-restore",
                   engine_version="15.4", secret_ids=["aurora-restore/dev/master-credentials"])
    assert result["problems"] == [] and result["changed"] is False
    references = result["references"]
    assert references["db_subnet_group"] == {"name": "aurora-nonprod", "vpc_id": network["vpc"], "subnet_ids": network["subnets"],
                                             "availability_zones": ["us-east-1a", "us-east-1b"]}
    assert references["security_groups"] == [{"group_id": network["group"], "group_name": "aurora", "vpc_id": network["vpc"]}]
    assert references["db_cluster_parameter_group_name"] == {"name": "pg15", "family": "aurora-postgresql15"}
    assert references["db_parameter_group_name"] == {"name": "instance-pg15", "family": "aurora-postgresql15"}
    assert references["kms_key"]["arn"] == network["key"] and references["kms_key"]["state"] == "Enabled"
    assert [secret["name"] for secret in references["secrets"]] == ["aurora-restore/dev/master-credentials"]
    assert "Never-Shown-1" not in json.dumps(result)


def test_every_problem_is_reported_at_once_one_line_each(network, tmp_path):
    result = check(tmp_path, db_subnet_group_name="aurora-nonprd", vpc_security_group_ids=["sg-0000000000000dead"],
                   db_cluster_parameter_group_name="pg-missing", db_parameter_group_name="default.aurora-postgresql14",
                   kms_key_id=network["disabled"], engine_version="15.4", master_user_secret_kms_key_id="alias/no-such-key",
                   secret_ids=["aurora-restore/dev/nope", "aurora-restore/dev/old"])
    assert result["problems"] == [
        "db_subnet_group_name 'aurora-nonprd' does not exist in region us-east-1",
        "vpc_security_group_ids: security group 'sg-0000000000000dead' does not exist in region us-east-1",
        "db_cluster_parameter_group_name 'pg-missing' does not exist in region us-east-1",
        "db_parameter_group_name 'default.aurora-postgresql14' is of family aurora-postgresql14; engine version 15.4 needs family aurora-postgresql15",
        "kms_key_id %r is not enabled (state Disabled)" % network["disabled"],
        "master_user_secret_kms_key_id 'alias/no-such-key' does not exist in region us-east-1",
        "secret 'aurora-restore/dev/nope' does not exist in region us-east-1",
        "secret 'aurora-restore/dev/old' is scheduled for deletion; restore it or name another",
    ]
    assert result["changed"] is False and not result.get("failed")


def test_security_group_of_another_vpc_and_parameter_group_of_another_family(network, tmp_path):
    result = check(tmp_path, db_subnet_group_name="aurora-nonprod", vpc_security_group_ids=[network["group"], network["stray"]],
                   db_cluster_parameter_group_name="pg14", engine_version="15.4",
                   kms_key_id="arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555")
    assert result["problems"] == [
        "security group %r is in VPC %s but db_subnet_group_name 'aurora-nonprod' is in VPC %s: they must share a VPC"
        % (network["stray"], network["other_vpc"], network["vpc"]),
        "db_cluster_parameter_group_name 'pg14' is of family aurora-postgresql14; engine version 15.4 needs family aurora-postgresql15",
        "kms_key_id 'arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555' is in region 'us-west-2'; "
        "the restored cluster needs a key in 'us-east-1'",
    ]


def test_nothing_named_means_nothing_to_check_and_check_mode_works(aws_env, tmp_path):
    result = check(tmp_path, check_mode=True)
    assert result["problems"] == [] and result["references"] == {} and result["changed"] is False


def test_secret_contents_are_checked_without_showing_them(network, tmp_path):
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.create_secret(Name="dev/short-master", SecretString=json.dumps({"username": "m", "password": "Sh0rt"}))
    secrets.create_secret(Name="dev/users-nested", SecretString=json.dumps(
        {"application_user": {"username": "app_user", "password": "Users-Secret-1"}}))
    secrets.create_secret(Name="dev/users-bad-name", SecretString=json.dumps(
        {"app_username": "pg_evil", "app_password": "Users-Secret-2"}))
    secrets.create_secret(Name="dev/users-unknown", SecretString=json.dumps({"user": "x", "pass": "Users-Secret-3"}))
    good = check(tmp_path, master_secret_id="aurora-restore/dev/master-credentials", users_secret_id="dev/users-nested")
    assert good["problems"] == []
    short = check(tmp_path, master_secret_id="dev/short-master", users_secret_id="dev/users-bad-name")
    assert short["problems"] == [
        "master secret 'dev/short-master': its password is not a valid Aurora master password "
        "(8-41 printable ASCII characters, no '/', '\"', '@', \"'\" or space)",
        "user name 'pg_evil' starts with 'pg_', which PostgreSQL reserves",
    ]
    layout = check(tmp_path, users_secret_id="dev/users-unknown", users_secret_layout="auto")
    assert layout["problems"] == ["secret 'dev/users-unknown': cannot detect its layout; expected one of the keys "
                                  "application_user, readonly_user, devops_user, app_username, readonly_username, devops_username"]
    # Named in secret_ids too and missing: reported once, not read.
    missing = check(tmp_path, secret_ids=["dev/nope"], master_secret_id="dev/nope")
    assert missing["problems"] == ["secret 'dev/nope' does not exist in region us-east-1"]
    everything = json.dumps([good, short, layout])
    for value in ("Never-Shown-1", "Sh0rt", "Users-Secret-1", "Users-Secret-2", "Users-Secret-3"):
        assert value not in everything


def test_what_aws_checks_only_at_restore_time(network, tmp_path):
    """The engine version, the instance class and the Serverless v2 range, from DescribeDBEngineVersions and
    DescribeOrderableDBInstanceOptions: on AWS these fail only at restore, after a replaced target is gone."""
    good = check(tmp_path, snapshot_engine_version="15.4", engine_version="15.7", instance_class="db.serverless",
                 serverless_v2_scaling={"min_capacity": 0, "max_capacity": 256})
    assert good["problems"] == [], good["problems"]
    engine = good["references"]["engine"]
    assert engine["version"] == "15.7" and engine["snapshot_version"] == "15.4" and "16.8" in engine["upgrade_targets"]
    assert engine["serverless_v2_capacity"] == [0.0, 256.0]
    bad = check(tmp_path, snapshot_engine_version="15.4", engine_version="14.9", instance_class="db.r7g.large")
    assert bad["problems"] == ["engine_version 14.9: a snapshot of 15.4 restores to 15.4 or one of its upgrade targets (%s)"
                               % ", ".join(good["references"]["engine"]["upgrade_targets"])]
    old = check(tmp_path, snapshot_engine_version="13.12", instance_class="db.m5.large",
                serverless_v2_scaling={"min_capacity": 0, "max_capacity": 256})
    assert old["problems"] == [
        "instances.instance_class db.m5.large is not offered for aurora-postgresql 13.12 in region us-east-1",
        "serverless_v2_scaling 0.0-256.0 ACU: aurora-postgresql 13.12 allows 0.5-128.0 in steps of 0.5, a maximum of at least 1 "
        "and min_capacity <= max_capacity"]
    unknown = check(tmp_path, snapshot_engine_version="15.99")
    assert unknown["problems"] == ["engine version 15.99 (the snapshot's) is not offered for aurora-postgresql in region us-east-1; "
                                   "set engine_version to one that is"]


def test_the_topic_is_checked_with_get_topic_attributes(network, tmp_path):
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="aurora-restore-notifications")["TopicArn"]
    found = check(tmp_path, sns_topic_arn=topic)
    assert found["problems"] == [] and found["references"]["sns_topic"]["arn"] == topic
    missing = check(tmp_path, sns_topic_arn=topic + "-typo")
    assert missing["problems"] == ["sns_topic_arn %r does not exist" % (topic + "-typo")]


def test_what_the_credentials_may_not_read_is_a_problem_not_a_crash(network, tmp_path):
    iam = boto3.client("iam", region_name=REGION)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}
    arn = iam.create_role(RoleName="narrow", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="narrow", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "rds:DescribeDBSubnetGroups", "Resource": "*"}]}))
    creds = boto3.client("sts", region_name=REGION).assume_role(RoleArn=arn, RoleSessionName="tests")["Credentials"]
    options = {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"], "session_token": creds["SessionToken"]}
    result = check(tmp_path, db_subnet_group_name="aurora-nonprod", secret_ids=["aurora-restore/dev/master-credentials"],
                   kms_key_id="alias/aurora-restore", **options)
    assert result.get("failed") is not True, result.get("msg")
    assert [problem.split(":")[0] for problem in result["problems"]] == [
        "kms_key_id 'alias/aurora-restore' in region us-east-1", "secret 'aurora-restore/dev/master-credentials' in region us-east-1"]
    assert all("the credentials may not read it, or it does not exist (AccessDeniedException" in problem for problem in result["problems"])


def test_the_target_cluster_absent_there_or_protected(aws_env, tmp_path):
    rds = boto3.client("rds", region_name=REGION)
    absent = check(tmp_path, target_cluster_identifier="dev-app")
    assert absent["problems"] == []
    assert absent["references"]["target_cluster"] == {"identifier": "dev-app", "exists": False, "status": "absent", "protected": False}
    rds.create_db_cluster(DBClusterIdentifier="dev-app", Engine="aurora-postgresql", MasterUsername="postgres",
                          MasterUserPassword="Not-Shown-123")
    there = check(tmp_path, target_cluster_identifier="dev-app")
    assert there["problems"] == [] and there["references"]["target_cluster"]["exists"] is True
    assert there["references"]["target_cluster"]["protected"] is False
    arn = rds.describe_db_clusters(DBClusterIdentifier="dev-app")["DBClusters"][0]["DBClusterArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "dbops:aurora_restore:protected", "Value": "true"}])
    protected = check(tmp_path, target_cluster_identifier="dev-app")
    assert protected["problems"] == ["target_cluster_identifier 'dev-app' carries the tag dbops:aurora_restore:protected: "
                                     "this pipeline never replaces it"]
    assert protected["references"]["target_cluster"]["protected"] is True
