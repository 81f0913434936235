"""ModifyDBCluster ManageMasterUserPassword on the emulator: RDS makes the `rds!cluster-…` secret with the master
user and a password it generates, resets the real server's password to it, and refuses what the API reference
refuses (README.md's fidelity table)."""
import json

import psycopg2
import pytest

from localaws_helpers import client, cluster, create_cluster, create_kms_key, expect_error, query, role_with, wait_cluster, wait_for

PASSWORD = "master-pw-1"


@pytest.fixture
def east(aws_env):
    return client("rds", "us-east-1")


@pytest.fixture
def dev(east):
    return create_cluster(east, "dev", password=PASSWORD)


def managed_secret(found):
    secret = found["MasterUserSecret"]
    value = json.loads(client("secretsmanager", "us-east-1").get_secret_value(SecretId=secret["SecretArn"])["SecretString"])
    return secret, value


def test_turning_it_on_makes_the_secret_and_the_master_user_answers_with_its_password_only(east, dev):
    key = create_kms_key("us-east-1")
    east.modify_db_cluster(DBClusterIdentifier="dev", ManageMasterUserPassword=True, MasterUserSecretKmsKeyId=key,
                           ApplyImmediately=True)
    found = wait_cluster(east, "dev")
    secret, value = managed_secret(found)
    assert secret["SecretArn"].split(":")[6].startswith("rds!cluster-") and secret["KmsKeyId"] == key
    assert value["username"] == "postgres" and value["password"] != PASSWORD and len(value["password"]) >= 8
    wait_for(lambda: query(found, value["password"], "SELECT 1") == [(1,)], what="the generated password works")
    with pytest.raises(psycopg2.OperationalError):
        query(found, PASSWORD, "SELECT 1")
    tags = client("secretsmanager", "us-east-1").describe_secret(SecretId=secret["SecretArn"])["Tags"]
    assert {"Key": "aws:rds:primaryDBClusterArn", "Value": found["DBClusterArn"]} in tags
    # Already managed: asking again changes nothing, and the secret stays.
    east.modify_db_cluster(DBClusterIdentifier="dev", ManageMasterUserPassword=True, ApplyImmediately=True)
    assert wait_cluster(east, "dev")["MasterUserSecret"]["SecretArn"] == secret["SecretArn"]


def test_deleting_the_cluster_deletes_its_secret(east, dev):
    east.modify_db_cluster(DBClusterIdentifier="dev", ManageMasterUserPassword=True, ApplyImmediately=True)
    arn = wait_cluster(east, "dev")["MasterUserSecret"]["SecretArn"]
    for member in cluster(east, "dev")["DBClusterMembers"]:
        east.delete_db_instance(DBInstanceIdentifier=member["DBInstanceIdentifier"], SkipFinalSnapshot=True)
    wait_for(lambda: not cluster(east, "dev")["DBClusterMembers"], what="instances gone")
    east.delete_db_cluster(DBClusterIdentifier="dev", SkipFinalSnapshot=True)
    expect_error("ResourceNotFoundException", client("secretsmanager", "us-east-1").describe_secret, SecretId=arn)


@pytest.mark.parametrize("options, code", [
    ({"ManageMasterUserPassword": True, "MasterUserPassword": "another-pw-1"}, "InvalidParameterCombination"),
    ({"MasterUserSecretKmsKeyId": "alias/aws/secretsmanager"}, "InvalidParameterCombination"),
    ({"ManageMasterUserPassword": False}, None),  # not managed: nothing to turn off
    ({"ManageMasterUserPassword": True, "MasterUserSecretKmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/elsewhere"},
     "KMSKeyNotAccessibleFault"),
])
def test_what_the_api_reference_refuses(east, dev, options, code):
    call = east.modify_db_cluster
    if code is None:
        call(DBClusterIdentifier="dev", ApplyImmediately=True, **options)
        assert "MasterUserSecret" not in wait_cluster(east, "dev")
        return
    expect_error(code, call, DBClusterIdentifier="dev", ApplyImmediately=True, **options)
    assert "MasterUserSecret" not in cluster(east, "dev")
    assert query(cluster(east, "dev"), PASSWORD, "SELECT 1") == [(1,)]


def test_turning_it_off_needs_a_password_and_deletes_the_secret(east, dev):
    east.modify_db_cluster(DBClusterIdentifier="dev", ManageMasterUserPassword=True, ApplyImmediately=True)
    arn = wait_cluster(east, "dev")["MasterUserSecret"]["SecretArn"]
    expect_error("InvalidParameterCombination", east.modify_db_cluster, DBClusterIdentifier="dev",
                 ManageMasterUserPassword=False, ApplyImmediately=True)
    east.modify_db_cluster(DBClusterIdentifier="dev", ManageMasterUserPassword=False, MasterUserPassword="back-pw-12",
                           ApplyImmediately=True)
    found = wait_cluster(east, "dev")
    assert "MasterUserSecret" not in found
    wait_for(lambda: query(found, "back-pw-12", "SELECT 1") == [(1,)], what="the given password works")
    expect_error("ResourceNotFoundException", client("secretsmanager", "us-east-1").describe_secret, SecretId=arn)


def test_turning_it_on_needs_to_create_and_tag_the_secret(aws_env, east, dev):
    modify = {"Effect": "Allow", "Action": ["rds:ModifyDBCluster", "rds:DescribeDBClusters"], "Resource": "*"}
    creds = role_with([modify])
    operator = client("rds", "us-east-1", credentials=creds)
    message = expect_error("AccessDenied", operator.modify_db_cluster, DBClusterIdentifier="dev",
                           ManageMasterUserPassword=True, ApplyImmediately=True).response["Error"]["Message"]
    assert "secretsmanager:CreateSecret" in message and "secret:rds!cluster-*" in message
    assert "MasterUserSecret" not in cluster(east, "dev")
    creds = role_with([modify, {"Effect": "Allow", "Action": ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
                                "Resource": "arn:aws:secretsmanager:us-east-1:*:secret:rds!cluster-*"}], name="op2")
    client("rds", "us-east-1", credentials=creds).modify_db_cluster(DBClusterIdentifier="dev", ManageMasterUserPassword=True,
                                                                   ApplyImmediately=True)
    assert wait_cluster(east, "dev")["MasterUserSecret"]["SecretArn"]
