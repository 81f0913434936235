"""AWS rules moto does not enforce, each with the error code AWS returns (tools/localaws/README.md)."""

import psycopg2
import pytest

from localaws_helpers import (ACCOUNT_A, ACCOUNT_B, account_b_credentials, client, cluster, create_cluster,
                              create_kms_key, expect_error, query, snapshot, wait_cluster, wait_for, wait_gone,
                              wait_instance, wait_snapshot)


@pytest.fixture
def east(aws_env):
    return client("rds", "us-east-1")


@pytest.fixture
def west(aws_env):
    return client("rds", "us-west-2")


@pytest.fixture
def encrypted_snapshot(east):
    """An available manual snapshot of a cluster encrypted with a customer managed key in us-east-1, whose key policy
    lets account B use it (what sharing an encrypted snapshot takes)."""
    key = create_kms_key("us-east-1", users=(ACCOUNT_B,))
    create_cluster(east, "src", writer=False, StorageEncrypted=True, KmsKeyId=key)
    east.create_db_cluster_snapshot(DBClusterIdentifier="src", DBClusterSnapshotIdentifier="src-snap")
    return wait_snapshot(east, "src-snap")


# --- cross-region copy and KMS ------------------------------------------------------------------------
def test_encrypted_cross_region_copy_requires_kms_key(west, encrypted_snapshot):
    expect_error("KMSKeyNotAccessibleFault", west.copy_db_cluster_snapshot,
                 SourceDBClusterSnapshotIdentifier=encrypted_snapshot["DBClusterSnapshotArn"],
                 TargetDBClusterSnapshotIdentifier="copy", SourceRegion="us-east-1")


def test_cross_region_copy_kms_key_must_be_in_destination_region(west, encrypted_snapshot):
    source_region_key = create_kms_key("us-east-1")
    for bad_key in (source_region_key, "arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000"):
        expect_error("KMSKeyNotAccessibleFault", west.copy_db_cluster_snapshot,
                     SourceDBClusterSnapshotIdentifier=encrypted_snapshot["DBClusterSnapshotArn"],
                     TargetDBClusterSnapshotIdentifier="copy", KmsKeyId=bad_key, SourceRegion="us-east-1")
    assert west.describe_db_cluster_snapshots()["DBClusterSnapshots"] == []


def test_copy_passes_through_copying_with_progress(aws_env, west, encrypted_snapshot):
    aws_env.set_durations(copy=6)
    west.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=encrypted_snapshot["DBClusterSnapshotArn"],
                                  TargetDBClusterSnapshotIdentifier="copy", KmsKeyId=create_kms_key("us-west-2"),
                                  SourceRegion="us-east-1")
    seen = []
    def progressed():
        found = snapshot(west, "copy")
        seen.append((found["Status"], found["PercentProgress"]))
        return found["Status"] == "available"
    wait_for(progressed, timeout=60, interval=0.3)
    copying = [pct for status, pct in seen if status == "copying"]
    assert copying == sorted(copying) and len(set(copying)) >= 2 and max(copying) < 100
    assert seen[-1] == ("available", 100)


def test_at_most_five_cross_region_copies_in_flight(aws_env, west, encrypted_snapshot):
    aws_env.set_durations(copy=60)
    key = create_kms_key("us-west-2")
    for i in range(5):
        west.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=encrypted_snapshot["DBClusterSnapshotArn"],
                                      TargetDBClusterSnapshotIdentifier=f"copy-{i}", KmsKeyId=key,
                                      SourceRegion="us-east-1")
    expect_error("SnapshotQuotaExceeded", west.copy_db_cluster_snapshot,
                 SourceDBClusterSnapshotIdentifier=encrypted_snapshot["DBClusterSnapshotArn"],
                 TargetDBClusterSnapshotIdentifier="copy-5", KmsKeyId=key, SourceRegion="us-east-1")
    # Same-region copies do not count against the cross-region limit.
    client("rds", "us-east-1").copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="src-snap",
                                                        TargetDBClusterSnapshotIdentifier="local-copy")


# --- sharing ------------------------------------------------------------------------------------------
def test_default_key_snapshot_cannot_be_shared(east):
    create_cluster(east, "dflt", writer=False, StorageEncrypted=True)  # no KmsKeyId: aws/rds
    east.create_db_cluster_snapshot(DBClusterIdentifier="dflt", DBClusterSnapshotIdentifier="dflt-snap")
    wait_snapshot(east, "dflt-snap")
    expect_error("InvalidParameterValue", east.modify_db_cluster_snapshot_attribute,
                 DBClusterSnapshotIdentifier="dflt-snap", AttributeName="restore", ValuesToAdd=[ACCOUNT_B])


def test_automated_snapshot_cannot_be_shared(east):
    create_cluster(east, "auto", writer=False)
    automated = east.describe_db_cluster_snapshots(DBClusterIdentifier="auto", SnapshotType="automated")
    ident = automated["DBClusterSnapshots"][0]["DBClusterSnapshotIdentifier"]
    expect_error("InvalidDBClusterSnapshotStateFault", east.modify_db_cluster_snapshot_attribute,
                 DBClusterSnapshotIdentifier=ident, AttributeName="restore", ValuesToAdd=[ACCOUNT_B])


def test_shared_snapshot_listed_copied_and_restored_by_arn_in_account_b(aws_env, east, encrypted_snapshot):
    arn = encrypted_snapshot["DBClusterSnapshotArn"]
    creds = account_b_credentials()
    b_rds = client("rds", "us-east-1", creds)
    assert client("sts", credentials=creds).get_caller_identity()["Account"] == ACCOUNT_B
    expect_error("DBClusterSnapshotNotFoundFault", b_rds.copy_db_cluster_snapshot,
                 SourceDBClusterSnapshotIdentifier=arn, TargetDBClusterSnapshotIdentifier="b-copy")

    east.modify_db_cluster_snapshot_attribute(DBClusterSnapshotIdentifier="src-snap", AttributeName="restore",
                                              ValuesToAdd=[ACCOUNT_B])
    shared = b_rds.describe_db_cluster_snapshots(SnapshotType="shared")["DBClusterSnapshots"]
    assert [s["DBClusterSnapshotArn"] for s in shared] == [arn]
    included = b_rds.describe_db_cluster_snapshots(IncludeShared=True)["DBClusterSnapshots"]
    assert arn in [s["DBClusterSnapshotArn"] for s in included]
    assert b_rds.describe_db_cluster_snapshots()["DBClusterSnapshots"] == []  # not without IncludeShared

    # Across accounts and regions in one step: accepted by the current API; refused under the former rule.
    west = client("rds", "us-west-2", creds)
    west_key = create_kms_key("us-west-2", creds)
    aws_env.set_settings(cross_account_region_copy="two-step")
    expect_error("DBClusterSnapshotNotFoundFault", west.copy_db_cluster_snapshot,
                 SourceDBClusterSnapshotIdentifier=arn, TargetDBClusterSnapshotIdentifier="b-west",
                 KmsKeyId=west_key, SourceRegion="us-east-1")
    aws_env.set_settings(cross_account_region_copy="single-step")
    west.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=arn, TargetDBClusterSnapshotIdentifier="b-west",
                                  KmsKeyId=west_key, SourceRegion="us-east-1")
    assert wait_snapshot(west, "b-west")["KmsKeyId"].split(":")[4] == ACCOUNT_B
    b_key = create_kms_key("us-east-1", creds)
    b_rds.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=arn, TargetDBClusterSnapshotIdentifier="b-copy",
                                   KmsKeyId=b_key)
    copied = wait_snapshot(b_rds, "b-copy")
    assert copied["DBClusterSnapshotArn"].split(":")[4] == ACCOUNT_B
    b_rds.restore_db_cluster_from_snapshot(DBClusterIdentifier="b-restored", SnapshotIdentifier=arn,
                                           Engine="aurora-postgresql", KmsKeyId=b_key)
    assert wait_cluster(b_rds, "b-restored")["DBClusterArn"].split(":")[4] == ACCOUNT_B
    # Account A does not see B's resources.
    expect_error("DBClusterNotFoundFault", east.describe_db_clusters, DBClusterIdentifier="b-restored")
    assert ACCOUNT_A != ACCOUNT_B


# --- restore validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("override, code", [
    ({"DBSubnetGroupName": "no-such-group"}, "DBSubnetGroupNotFoundFault"),
    ({"VpcSecurityGroupIds": ["sg-0123456789abcdef0"]}, "InvalidParameterValue"),
    ({"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"},
     "KMSKeyNotAccessibleFault"),
    ({"DBClusterParameterGroupName": "no-such-params"}, "DBClusterParameterGroupNotFound"),
])
def test_restore_validates_references(east, encrypted_snapshot, override, code):
    expect_error(code, east.restore_db_cluster_from_snapshot, DBClusterIdentifier="restored",
                 SnapshotIdentifier="src-snap", Engine="aurora-postgresql", **override)
    expect_error("DBClusterNotFoundFault", east.describe_db_clusters, DBClusterIdentifier="restored")


def test_restore_accepts_existing_references(east, encrypted_snapshot):
    ec2 = client("ec2", "us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")
               ["Subnet"]["SubnetId"] for i, az in enumerate("ab")]
    group = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    east.create_db_subnet_group(DBSubnetGroupName="db-subnets", DBSubnetGroupDescription="db", SubnetIds=subnets)
    east.create_db_cluster_parameter_group(DBClusterParameterGroupName="pg15", DBParameterGroupFamily="aurora-postgresql15",
                                           Description="x")
    found = east.restore_db_cluster_from_snapshot(
        DBClusterIdentifier="restored", SnapshotIdentifier="src-snap", Engine="aurora-postgresql",
        DBSubnetGroupName="db-subnets", VpcSecurityGroupIds=[group], DBClusterParameterGroupName="pg15",
        KmsKeyId=create_kms_key("us-east-1"))["DBCluster"]
    assert found["Status"] == "creating"
    assert [g["VpcSecurityGroupId"] for g in wait_cluster(east, "restored")["VpcSecurityGroups"]] == [group]


def test_restore_or_create_onto_existing_identifier_fails(east, encrypted_snapshot):
    expect_error("DBClusterAlreadyExistsFault", east.restore_db_cluster_from_snapshot, DBClusterIdentifier="src",
                 SnapshotIdentifier="src-snap", Engine="aurora-postgresql")
    expect_error("DBClusterAlreadyExistsFault", east.create_db_cluster, DBClusterIdentifier="src",
                 Engine="aurora-postgresql", MasterUsername="postgres", MasterUserPassword="other-pw-1")
    assert cluster(east, "src")["Status"] == "available"


def test_restore_needs_an_available_snapshot_in_the_same_region(aws_env, east, west, encrypted_snapshot):
    aws_env.set_durations(copy=30)
    east.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="src-snap", TargetDBClusterSnapshotIdentifier="busy")
    expect_error("InvalidDBClusterSnapshotStateFault", east.restore_db_cluster_from_snapshot,
                 DBClusterIdentifier="r", SnapshotIdentifier="busy", Engine="aurora-postgresql")
    expect_error("DBClusterSnapshotNotFoundFault", west.restore_db_cluster_from_snapshot, DBClusterIdentifier="r",
                 SnapshotIdentifier=encrypted_snapshot["DBClusterSnapshotArn"], Engine="aurora-postgresql")


# --- deletion -------------------------------------------------------------------------------------------
def test_deletion_protection_blocks_delete(east):
    create_cluster(east, "guarded", writer=False, DeletionProtection=True)
    expect_error("InvalidParameterCombination", east.delete_db_cluster, DBClusterIdentifier="guarded",
                 SkipFinalSnapshot=True)
    east.modify_db_cluster(DBClusterIdentifier="guarded", DeletionProtection=False, ApplyImmediately=True)
    east.delete_db_cluster(DBClusterIdentifier="guarded", SkipFinalSnapshot=True)


def test_delete_refused_while_instances_exist_then_instances_then_cluster(aws_env, east):
    found = create_cluster(east, "busy")
    aws_env.set_durations(instance_delete=5)  # still deleting when the cluster delete comes, even on a loaded machine
    expect_error("InvalidDBClusterStateFault", east.delete_db_cluster, DBClusterIdentifier="busy",
                 SkipFinalSnapshot=True)
    assert query(found, "master-pw-1", "select 1") == [(1,)]
    deleting = east.delete_db_instance(DBInstanceIdentifier="busy-1")["DBInstance"]
    assert deleting["DBInstanceStatus"] == "deleting"
    # Still a member while deleting: the cluster delete is still refused.
    expect_error("InvalidDBClusterStateFault", east.delete_db_cluster, DBClusterIdentifier="busy",
                 SkipFinalSnapshot=True)
    wait_gone(east.describe_db_instances, "DBInstanceNotFound", DBInstanceIdentifier="busy-1")
    with pytest.raises(psycopg2.OperationalError):  # no instance left: the endpoint is gone
        query(found, "master-pw-1", "select 1")
    assert east.delete_db_cluster(DBClusterIdentifier="busy", SkipFinalSnapshot=True)["DBCluster"]["Status"] == "deleting"
    wait_gone(east.describe_db_clusters, "DBClusterNotFoundFault", DBClusterIdentifier="busy")


def test_final_snapshot_semantics(east):
    found = create_cluster(east, "old")
    with __import__("contextlib").closing(__import__("localaws_helpers").connect(found, "master-pw-1")) as conn:
        with conn, conn.cursor() as cur:
            cur.execute("create table marker(v text); insert into marker values ('before delete')")
    east.delete_db_instance(DBInstanceIdentifier="old-1")
    wait_gone(east.describe_db_instances, "DBInstanceNotFound", DBInstanceIdentifier="old-1")
    expect_error("InvalidParameterCombination", east.delete_db_cluster, DBClusterIdentifier="old")
    expect_error("InvalidParameterCombination", east.delete_db_cluster, DBClusterIdentifier="old",
                 SkipFinalSnapshot=True, FinalDBSnapshotIdentifier="old-final")
    east.create_db_cluster_snapshot(DBClusterIdentifier="old", DBClusterSnapshotIdentifier="taken")
    wait_cluster(east, "old")
    expect_error("DBClusterSnapshotAlreadyExistsFault", east.delete_db_cluster, DBClusterIdentifier="old",
                 FinalDBSnapshotIdentifier="taken")
    assert cluster(east, "old")["Status"] == "available"  # the failed delete changed nothing

    east.delete_db_cluster(DBClusterIdentifier="old", FinalDBSnapshotIdentifier="old-final")
    wait_gone(east.describe_db_clusters, "DBClusterNotFoundFault", DBClusterIdentifier="old")
    final = wait_snapshot(east, "old-final")
    assert final["SnapshotType"] == "manual" and final["DBClusterIdentifier"] == "old"
    # The final snapshot holds the data the cluster had.
    east.restore_db_cluster_from_snapshot(DBClusterIdentifier="back", SnapshotIdentifier="old-final",
                                          Engine="aurora-postgresql")
    east.create_db_instance(DBInstanceIdentifier="back-1", DBClusterIdentifier="back", Engine="aurora-postgresql",
                            DBInstanceClass="db.r6g.large")
    wait_instance(east, "back-1")
    assert query(wait_cluster(east, "back"), "master-pw-1", "select v from marker") == [("before delete",)]


# --- rename ---------------------------------------------------------------------------------------------
def test_rename_keeps_members_data_and_moves_endpoints(east):
    found = create_cluster(east, "blue")
    east.create_db_instance(DBInstanceIdentifier="blue-2", DBClusterIdentifier="blue", Engine="aurora-postgresql",
                            DBInstanceClass="db.r6g.large")
    wait_instance(east, "blue-2")
    before = sorted(m["DBInstanceIdentifier"] for m in cluster(east, "blue")["DBClusterMembers"])
    renamed = east.modify_db_cluster(DBClusterIdentifier="blue", NewDBClusterIdentifier="green",
                                     ApplyImmediately=True)["DBCluster"]
    assert renamed["DBClusterIdentifier"] == "green" and renamed["Status"] == "renaming"
    expect_error("DBClusterNotFoundFault", east.describe_db_clusters, DBClusterIdentifier="blue")
    after = wait_cluster(east, "green")
    assert sorted(m["DBInstanceIdentifier"] for m in after["DBClusterMembers"]) == before == ["blue-1", "blue-2"]
    assert after["DBClusterArn"].endswith(":cluster:green")
    instance = east.describe_db_instances(DBInstanceIdentifier="blue-1")["DBInstances"][0]
    assert instance["DBClusterIdentifier"] == "green"
    assert (after["Endpoint"], after["Port"]) == (found["Endpoint"], found["Port"])
    assert query(after, "master-pw-1", "select 1") == [(1,)]


def test_rename_onto_existing_name_fails(east):
    create_cluster(east, "one", writer=False)
    create_cluster(east, "two", writer=False)
    expect_error("DBClusterAlreadyExistsFault", east.modify_db_cluster, DBClusterIdentifier="one",
                 NewDBClusterIdentifier="two", ApplyImmediately=True)


# --- time -----------------------------------------------------------------------------------------------
def test_statuses_pass_through_aws_names(aws_env, east):
    # Long enough that a stalled request on a loaded machine still finds each state it checks.
    aws_env.set_durations(cluster_create=5, instance_create=5, snapshot_create=5, instance_delete=5)
    created = east.create_db_cluster(DBClusterIdentifier="t", Engine="aurora-postgresql", MasterUsername="postgres",
                                     MasterUserPassword="pw-12345678")["DBCluster"]
    assert created["Status"] == "creating" and cluster(east, "t")["Status"] == "creating"
    made = east.create_db_instance(DBInstanceIdentifier="t-1", DBClusterIdentifier="t", Engine="aurora-postgresql",
                                   DBInstanceClass="db.r6g.large")["DBInstance"]
    assert made["DBInstanceStatus"] == "creating"
    wait_cluster(east, "t")
    wait_instance(east, "t-1")
    east.create_db_cluster_snapshot(DBClusterIdentifier="t", DBClusterSnapshotIdentifier="t-snap")
    assert snapshot(east, "t-snap")["Status"] == "creating"
    assert cluster(east, "t")["Status"] == "backing-up"
    expect_error("InvalidDBClusterStateFault", east.modify_db_cluster, DBClusterIdentifier="t",
                 MasterUserPassword="x-12345678", ApplyImmediately=True)
    east.delete_db_instance(DBInstanceIdentifier="t-1")
    expect_error("InvalidDBClusterStateFault", east.delete_db_cluster, DBClusterIdentifier="t",
                 SkipFinalSnapshot=True)
    wait_snapshot(east, "t-snap")
    assert cluster(east, "t")["Status"] == "available"
    wait_gone(east.describe_db_instances, "DBInstanceNotFound", DBInstanceIdentifier="t-1")
    assert east.delete_db_cluster(DBClusterIdentifier="t", SkipFinalSnapshot=True)["DBCluster"]["Status"] == "deleting"


def test_dynamodb_tables_have_a_table_id_like_aws(aws_env):
    dynamodb = client("dynamodb")
    created = dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                                    AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    described = dynamodb.describe_table(TableName="t")["Table"]
    assert described["TableId"] == created["TableDescription"]["TableId"] and len(described["TableId"]) == 36


def test_sns_plain_message_with_a_non_json_structure_is_published(aws_env):
    sns = client("sns", region="us-west-2")
    topic = sns.create_topic(Name="t")["TopicArn"]
    published = sns.publish(TopicArn=topic, Message="hello", MessageStructure="string",
                            MessageAttributes={"status": {"DataType": "String", "StringValue": "SUCCEEDED"}})
    assert published["MessageId"]


def test_an_automated_snapshot_is_found_by_its_arn_despite_the_colon_in_its_name(aws_env):
    aws_env.seed()
    rds = client("rds")
    [automated] = rds.describe_db_cluster_snapshots(SnapshotType="automated")["DBClusterSnapshots"]
    assert automated["DBClusterSnapshotIdentifier"].startswith("rds:")
    by_arn = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=automated["DBClusterSnapshotArn"],
                                               SnapshotType="automated")["DBClusterSnapshots"]
    assert [snapshot["DBClusterSnapshotArn"] for snapshot in by_arn] == [automated["DBClusterSnapshotArn"]]
    # "If this identifier is for an automated snapshot, the SnapshotType parameter must also be specified."
    for identifier in (automated["DBClusterSnapshotArn"], automated["DBClusterSnapshotIdentifier"]):
        expect_error("DBClusterSnapshotNotFoundFault", rds.describe_db_cluster_snapshots, DBClusterSnapshotIdentifier=identifier)
