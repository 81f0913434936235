"""What a restore run of inventories/local needs in the emulator, besides the seeded source (plain boto3).

The same resources playbooks/bootstrap.yml creates for each account: the KMS alias in the target and source
regions, the state and audit tables, the SNS topic, and the master and users secrets of each environment.
Call it inside the `aws_env` fixture (AWS_ENDPOINT_URL and the default credentials are exported).
"""
import json
from pathlib import Path

import boto3
import yaml

LOCAL_GROUP_VARS = Path(__file__).resolve().parents[2] / "inventories" / "local" / "group_vars"

SOURCE_ACCOUNT = "123456789012"
TARGET_REGION = "us-west-2"
SOURCE_REGION = "us-east-1"
# environment -> (account, role to assume there or None)
ENVIRONMENTS = {
    "dev": ("123456789012", None),
    "staging": ("210987654321", "arn:aws:iam::210987654321:role/aurora-restore-operator"),
}
TEST_PASSWORDS = {
    env: {"master": f"{env}-Master-Pw-1", "app": f"{env}-App-Pw-1", "readonly": f"{env}-Ro-Pw-1", "devops": f"{env}-Ops-Pw-1"}
    for env in ENVIRONMENTS
}


def _credentials(role_arn):
    if not role_arn:
        return {}
    sts = boto3.client("sts", region_name=SOURCE_REGION)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="restore-env")["Credentials"]
    return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"]}


def secret_names(env):
    """(master, users) secret names of `env`, as inventories/local names them."""
    group_vars = yaml.safe_load((LOCAL_GROUP_VARS / f"{env}.yml").read_text())
    return group_vars["restore_master_secret_id"], group_vars["restore_users_secret_id"]


def prepare_environment(env):
    """KMS aliases, tables, topic and secrets of one environment of inventories/local."""
    _account, role_arn = ENVIRONMENTS[env]
    master_name, users_name = secret_names(env)
    creds = _credentials(role_arn)
    for region in (TARGET_REGION, SOURCE_REGION):
        kms = boto3.client("kms", region_name=region, **creds)
        key_id = kms.create_key(Description="aurora-restore")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/aurora-restore", TargetKeyId=key_id)
    ddb = boto3.client("dynamodb", region_name=TARGET_REGION, **creds)
    ddb.create_table(TableName="aurora-restore-state",
                     KeySchema=[{"AttributeName": "operation_id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "operation_id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.create_table(TableName="aurora-restore-audit",
                     KeySchema=[{"AttributeName": "operation_id", "KeyType": "HASH"},
                                {"AttributeName": "timestamp", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "operation_id", "AttributeType": "S"},
                                           {"AttributeName": "timestamp", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    boto3.client("sns", region_name=TARGET_REGION, **creds).create_topic(Name="aurora-restore-notifications")
    secrets = boto3.client("secretsmanager", region_name=TARGET_REGION, **creds)
    passwords = TEST_PASSWORDS[env]
    secrets.create_secret(Name=master_name,
                          SecretString=json.dumps({"username": "postgres", "password": passwords["master"]}))
    secrets.create_secret(Name=users_name, SecretString=json.dumps({
        "application_user": {"username": "app_user", "password": passwords["app"]},
        "readonly_user": {"username": "readonly_user", "password": passwords["readonly"]},
        "devops_user": {"username": "devops_user", "password": passwords["devops"]},
    }))


def prepare(emulator, environments=("dev",)):
    """Seed the source (cluster, data, snapshot `production-seed` in us-east-1) and prepare `environments`."""
    seeded = emulator.seed()
    for env in environments:
        prepare_environment(env)
    return seeded


def aws_environment(emulator):
    """The AWS_* variables that point a subprocess at the emulator."""
    return {key: value for key, value in emulator.env.items() if key.startswith("AWS_") or key.startswith("LOCALAWS_")}
