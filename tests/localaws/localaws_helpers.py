"""Small helpers shared by the emulator tests."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
ACCOUNT_A = "123456789012"
ACCOUNT_B = "210987654321"


def client(service: str, region: str = "us-east-1", credentials: dict | None = None, config=NO_RETRY):
    """A boto3 client built from the environment aws_env exported (like a playbook would)."""
    kwargs = {}
    if credentials:
        kwargs = dict(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                      aws_session_token=credentials["SessionToken"])
    return boto3.client(service, region_name=region, config=config, **kwargs)


def account_b_credentials(role: str = "OrganizationAccountAccessRole") -> dict:
    """Account B: STS AssumeRole into its administrator role (the emulator creates it in every member account)."""
    sts = client("sts")
    return sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/{role}", RoleSessionName="tests")["Credentials"]


def wait_for(check, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def expect_error(code: str, call, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as excinfo:
        call(*args, **kwargs)
    assert error_code(excinfo) == code, excinfo.value.response["Error"]
    return excinfo.value


def cluster(rds, ident: str) -> dict:
    return rds.describe_db_clusters(DBClusterIdentifier=ident)["DBClusters"][0]


def snapshot(rds, ident: str) -> dict:
    return rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=ident)["DBClusterSnapshots"][0]


def wait_cluster(rds, ident: str, status: str = "available", timeout: float = 30.0) -> dict:
    return wait_for(lambda: (c := cluster(rds, ident))["Status"] == status and c, timeout, what=f"{ident} {status}")


def wait_snapshot(rds, ident: str, status: str = "available", timeout: float = 30.0) -> dict:
    return wait_for(lambda: (s := snapshot(rds, ident))["Status"] == status and s, timeout, what=f"{ident} {status}")


def wait_instance(rds, ident: str, status: str = "available", timeout: float = 30.0) -> dict:
    def check():
        found = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        return found["DBInstanceStatus"] == status and found
    return wait_for(check, timeout, what=f"{ident} {status}")


def wait_gone(call, code: str, timeout: float = 30.0, **kwargs) -> None:
    def check():
        try:
            call(**kwargs)
        except ClientError as exc:
            return exc.response["Error"]["Code"] == code
        return False
    wait_for(check, timeout, what=f"{code}")


def create_kms_key(region: str, credentials: dict | None = None, users: tuple = ()) -> str:
    """A customer managed key; `users`: other accounts its key policy lets use it (as a cross-account setup must)."""
    kms = client("kms", region, credentials)
    arn = kms.create_key(Description="test")["KeyMetadata"]["Arn"]
    if users:
        owner = arn.split(":")[4]
        statements = [{"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
                       "Action": "kms:*", "Resource": "*"},
                      {"Sid": "OtherAccounts", "Effect": "Allow",
                       "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in users]},
                       "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:ReEncrypt*",
                                  "kms:GenerateDataKey*"], "Resource": "*"}]
        kms.put_key_policy(KeyId=arn, PolicyName="default",
                           Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return arn


def create_cluster(rds, ident: str, password: str = "master-pw-1", writer: bool = True, **kwargs) -> dict:
    """A cluster (and its writer), waited until available."""
    rds.create_db_cluster(DBClusterIdentifier=ident, Engine="aurora-postgresql", MasterUsername="postgres",
                          MasterUserPassword=password, **kwargs)
    if writer:
        rds.create_db_instance(DBInstanceIdentifier=f"{ident}-1", DBClusterIdentifier=ident,
                               Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
        wait_instance(rds, f"{ident}-1")
    return wait_cluster(rds, ident)


def connect(found_cluster: dict, password: str, user: str = "postgres", dbname: str = "postgres"):
    import psycopg2

    return psycopg2.connect(host=found_cluster["Endpoint"], port=found_cluster["Port"], user=user,
                            password=password, dbname=dbname, connect_timeout=5)


def query(found_cluster: dict, password: str, sql: str, dbname: str = "postgres"):
    conn = connect(found_cluster, password, dbname=dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture
def scratch_dir():
    """A directory the postgres OS user can traverse (pytest's tmp_path is 0700), removed afterwards."""
    import shutil

    from localaws.pytest_plugin import scratch_tmpdir

    path = str(scratch_tmpdir("localaws-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


TRUST_ACCOUNT_A = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                           "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}}]}


def role_with(statements, name="op", path="/dbops/", trust=None, max_session=3600, credentials=None):
    """A role in account A (or the credentials' account) with an inline policy; returns its credentials."""
    iam = client("iam", credentials=credentials)
    role = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(trust or TRUST_ACCOUNT_A),
                           MaxSessionDuration=max_session)["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="inline",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="tests")["Credentials"]
