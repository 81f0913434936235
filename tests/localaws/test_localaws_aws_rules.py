"""AWS's documented constraints the emulator enforces beyond its first rules (README.md's fidelity table): identifiers,
tags, encryption on copy, stopped clusters, passwords, Serverless v2 capacity, orderable classes, engine versions,
storage defaults, certificates after a rename, partitions. Each test shows AWS's error code."""

import psycopg2
import pytest

from localaws_helpers import (client, cluster, create_cluster, create_kms_key, expect_error, snapshot,
                              wait_cluster, wait_for, wait_instance, wait_snapshot)


@pytest.fixture
def east(aws_env):
    return client("rds", "us-east-1")


@pytest.fixture
def plain_snapshot(east):
    """An available manual snapshot of an unencrypted Aurora PostgreSQL 15.4 cluster."""
    create_cluster(east, "src", writer=False, EngineVersion="15.4")
    east.create_db_cluster_snapshot(DBClusterIdentifier="src", DBClusterSnapshotIdentifier="src-snap")
    return wait_snapshot(east, "src-snap")


# --- identifiers ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["a" * 64, "1-starts-with-digit", "ends-with-", "double--hyphen", "under_score"])
def test_identifiers_follow_the_rds_rules(east, plain_snapshot, bad):
    error = expect_error("InvalidParameterValue", east.copy_db_cluster_snapshot,
                         SourceDBClusterSnapshotIdentifier="src-snap", TargetDBClusterSnapshotIdentifier=bad)
    assert "TargetDBClusterSnapshotIdentifier is not a valid identifier" in str(error)
    expect_error("InvalidParameterValue", east.restore_db_cluster_from_snapshot, DBClusterIdentifier=bad,
                 SnapshotIdentifier="src-snap", Engine="aurora-postgresql")
    expect_error("InvalidParameterValue", east.create_db_cluster_snapshot, DBClusterIdentifier="src",
                 DBClusterSnapshotIdentifier=bad)
    expect_error("InvalidParameterValue", east.modify_db_cluster, DBClusterIdentifier="src",
                 NewDBClusterIdentifier=bad, ApplyImmediately=True)
    expect_error("InvalidParameterValue", east.create_db_instance, DBInstanceIdentifier=bad, DBClusterIdentifier="src",
                 Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
    expect_error("InvalidParameterValue", east.delete_db_cluster, DBClusterIdentifier="src",
                 FinalDBSnapshotIdentifier=bad)
    assert cluster(east, "src")["Status"] == "available"
    assert [s["DBClusterSnapshotIdentifier"] for s in east.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]] == ["src-snap"]


# --- tags -----------------------------------------------------------------------------------------------------
def test_reserved_tag_prefixes_and_the_50_tag_limit(east, plain_snapshot):
    for key in ("aws:cloudformation:stack-name", "AWS:Owner", "rds:anything"):
        error = expect_error("InvalidParameterValue", east.copy_db_cluster_snapshot, SourceDBClusterSnapshotIdentifier="src-snap",
                             TargetDBClusterSnapshotIdentifier="copy", Tags=[{"Key": key, "Value": "x"}])
        assert "reserved prefix" in str(error)
    many = [{"Key": "k%02d" % index, "Value": "v"} for index in range(51)]
    expect_error("InvalidParameterValue", east.copy_db_cluster_snapshot, SourceDBClusterSnapshotIdentifier="src-snap",
                 TargetDBClusterSnapshotIdentifier="copy", Tags=many)
    east.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="src-snap", TargetDBClusterSnapshotIdentifier="copy",
                                  Tags=many[:50])
    arn = wait_snapshot(east, "copy")["DBClusterSnapshotArn"]
    expect_error("InvalidParameterValue", east.add_tags_to_resource, ResourceName=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    east.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "k00", "Value": "replaced"}])  # same key: no new tag


def test_copying_source_tags_with_an_aws_prefix_is_refused(aws_env, east, plain_snapshot):
    # CloudFormation stamps aws:cloudformation:* on what it creates; a copy that takes the source's tags is refused.
    aws_env.stamp_tags(plain_snapshot["DBClusterSnapshotArn"], {"aws:cloudformation:stack-name": "prod", "team": "db"})
    assert {"Key": "aws:cloudformation:stack-name", "Value": "prod"} in snapshot(east, "src-snap")["TagList"]
    error = expect_error("InvalidParameterValue", east.copy_db_cluster_snapshot, SourceDBClusterSnapshotIdentifier="src-snap",
                         TargetDBClusterSnapshotIdentifier="with-tags", CopyTags=True)
    assert 'reserved prefix "aws:"' in str(error)
    east.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier="src-snap", TargetDBClusterSnapshotIdentifier="with-tags",
                                  Tags=[{"Key": "team", "Value": "db"}])
    assert wait_snapshot(east, "with-tags")["TagList"] == [{"Key": "team", "Value": "db"}]


# --- encryption on copy ---------------------------------------------------------------------------------------
def test_kms_key_on_a_copy_of_an_unencrypted_snapshot_is_refused(east, plain_snapshot):
    key = create_kms_key("us-east-1")
    error = expect_error("InvalidParameterCombination", east.copy_db_cluster_snapshot,
                         SourceDBClusterSnapshotIdentifier="src-snap", TargetDBClusterSnapshotIdentifier="enc", KmsKeyId=key)
    assert "unencrypted" in str(error)
    restored = east.restore_db_cluster_from_snapshot(DBClusterIdentifier="enc", SnapshotIdentifier="src-snap",
                                                     Engine="aurora-postgresql", EngineVersion="15.4", KmsKeyId=key)["DBCluster"]
    assert restored["StorageEncrypted"] and restored["KmsKeyId"] == key  # encrypting happens at restore


# --- stopped clusters -----------------------------------------------------------------------------------------
def test_a_stopped_cluster_refuses_changes_until_it_is_started(aws_env, east):
    aws_env.set_durations(cluster_stop=1.0, cluster_start=1.0)
    found = create_cluster(east, "dev", password="master-pw-1")
    expect_error("InvalidDBClusterStateFault", east.start_db_cluster, DBClusterIdentifier="dev")
    assert east.stop_db_cluster(DBClusterIdentifier="dev")["DBCluster"]["Status"] == "stopping"
    expect_error("InvalidDBClusterStateFault", east.stop_db_cluster, DBClusterIdentifier="dev")
    stopped = wait_cluster(east, "dev", "stopped")
    assert stopped["AutomaticRestartTime"]
    assert wait_instance(east, "dev-1", "stopped")
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=found["Endpoint"], port=found["Port"], user="postgres", password="master-pw-1",
                         dbname="postgres", connect_timeout=3)
    for call, kwargs in ((east.modify_db_cluster, {"DBClusterIdentifier": "dev", "NewDBClusterIdentifier": "dev-old", "ApplyImmediately": True}),
                         (east.modify_db_cluster, {"DBClusterIdentifier": "dev", "MasterUserPassword": "another-pw-1", "ApplyImmediately": True}),
                         (east.delete_db_instance, {"DBInstanceIdentifier": "dev-1"}),
                         (east.create_db_instance, {"DBInstanceIdentifier": "dev-2", "DBClusterIdentifier": "dev",
                                                    "Engine": "aurora-postgresql", "DBInstanceClass": "db.r6g.large"}),
                         (east.create_db_cluster_snapshot, {"DBClusterIdentifier": "dev", "DBClusterSnapshotIdentifier": "dev-snap"})):
        expect_error("InvalidDBClusterStateFault", call, **kwargs)
    east.start_db_cluster(DBClusterIdentifier="dev")
    assert cluster(east, "dev")["Status"] == "starting"
    started = wait_cluster(east, "dev")
    assert wait_instance(east, "dev-1")["DBInstanceStatus"] == "available"
    wait_for(lambda: psycopg2.connect(host=started["Endpoint"], port=started["Port"], user="postgres",
                                      password="master-pw-1", dbname="postgres", connect_timeout=3).close() or True)


def test_a_stopped_cluster_cannot_be_deleted(aws_env, east):
    aws_env.set_durations(cluster_stop=0.2)
    create_cluster(east, "dev", writer=False)
    east.stop_db_cluster(DBClusterIdentifier="dev")
    wait_cluster(east, "dev", "stopped")
    error = expect_error("InvalidDBClusterStateFault", east.delete_db_cluster, DBClusterIdentifier="dev", SkipFinalSnapshot=True)
    assert "stopped" in str(error)


# --- master password ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["short", "x" * 42, "has space 123", "slash/in/it", "at@sign12", 'quote"12345',
                                      "apos'trophe1", "tab\there12"])
def test_master_password_rule(east, password):
    create_cluster(east, "pw", writer=False)
    expect_error("InvalidParameterValue", east.modify_db_cluster, DBClusterIdentifier="pw", MasterUserPassword=password,
                 ApplyImmediately=True)
    east.modify_db_cluster(DBClusterIdentifier="pw", MasterUserPassword="Good-pw_41~!#$%^&*()=+[]{};:,.<>?|x",
                           ApplyImmediately=True)


# --- Serverless v2 capacity -----------------------------------------------------------------------------------
@pytest.mark.parametrize("version, scaling, ok", [
    ("15.4", {"MinCapacity": 0.5, "MaxCapacity": 128}, True),
    ("15.4", {"MinCapacity": 0, "MaxCapacity": 8}, False),        # 0 ACU (auto-pause) needs 15.7+
    ("15.7", {"MinCapacity": 0, "MaxCapacity": 8}, True),
    ("15.4", {"MinCapacity": 0.5, "MaxCapacity": 256}, False),    # 256 ACU needs 15.5+
    ("15.7", {"MinCapacity": 0.5, "MaxCapacity": 256}, True),
    ("15.7", {"MinCapacity": 0.5, "MaxCapacity": 0.5}, False),    # maximum at least 1
    ("15.7", {"MinCapacity": 1.25, "MaxCapacity": 4}, False),     # half steps
    ("15.7", {"MinCapacity": 8, "MaxCapacity": 4}, False),
])
def test_serverless_v2_capacity_depends_on_the_engine_version(east, version, scaling, ok):
    create_cluster(east, "srv", writer=False, EngineVersion="15.4")
    east.create_db_cluster_snapshot(DBClusterIdentifier="srv", DBClusterSnapshotIdentifier="srv-snap")
    wait_snapshot(east, "srv-snap")
    restore = dict(DBClusterIdentifier="srv-new", SnapshotIdentifier="srv-snap", Engine="aurora-postgresql",
                   EngineVersion=version, ServerlessV2ScalingConfiguration=scaling)
    if ok:
        east.restore_db_cluster_from_snapshot(**restore)
    else:
        expect_error("InvalidParameterValue", east.restore_db_cluster_from_snapshot, **restore)
    [record] = east.describe_db_engine_versions(Engine="aurora-postgresql", EngineVersion=version)["DBEngineVersions"]
    support = record["ServerlessV2FeaturesSupport"]
    assert (support["MinCapacity"] <= scaling["MinCapacity"] and scaling["MaxCapacity"] <= support["MaxCapacity"]) or not ok


# --- instance classes and engine versions ---------------------------------------------------------------------
def test_an_instance_class_must_be_orderable_for_the_engine_version(east):
    create_cluster(east, "old", writer=False, EngineVersion="14.9")
    assert east.describe_orderable_db_instance_options(Engine="aurora-postgresql", EngineVersion="14.9",
                                                       DBInstanceClass="db.r7g.large")["OrderableDBInstanceOptions"]
    assert not east.describe_orderable_db_instance_options(Engine="aurora-postgresql", EngineVersion="14.9",
                                                           DBInstanceClass="db.m5.large")["OrderableDBInstanceOptions"]
    error = expect_error("InvalidParameterCombination", east.create_db_instance, DBInstanceIdentifier="old-1",
                         DBClusterIdentifier="old", Engine="aurora-postgresql", DBInstanceClass="db.m5.large")
    assert "DBInstanceClass=db.m5.large, Engine=aurora-postgresql, EngineVersion=14.9" in str(error)


def test_a_restore_takes_the_region_default_version_unless_told(east, plain_snapshot):
    assert plain_snapshot["EngineVersion"] == "15.4"
    [default] = east.describe_db_engine_versions(Engine="aurora-postgresql", DefaultOnly=True)["DBEngineVersions"]
    restored = east.restore_db_cluster_from_snapshot(DBClusterIdentifier="dflt", SnapshotIdentifier="src-snap",
                                                     Engine="aurora-postgresql")["DBCluster"]
    assert restored["EngineVersion"] == default["EngineVersion"] != "15.4"
    kept = east.restore_db_cluster_from_snapshot(DBClusterIdentifier="kept", SnapshotIdentifier="src-snap",
                                                 Engine="aurora-postgresql", EngineVersion="15.4")["DBCluster"]
    assert kept["EngineVersion"] == "15.4"
    upgraded = east.restore_db_cluster_from_snapshot(DBClusterIdentifier="upgr", SnapshotIdentifier="src-snap",
                                                     Engine="aurora-postgresql", EngineVersion="15.7")["DBCluster"]
    assert upgraded["EngineVersion"] == "15.7"
    for version, code in (("14.9", "InvalidParameterCombination"), ("15.99", "InvalidParameterCombination")):
        expect_error(code, east.restore_db_cluster_from_snapshot, DBClusterIdentifier="bad", SnapshotIdentifier="src-snap",
                     Engine="aurora-postgresql", EngineVersion=version)


def test_storage_type_and_lifecycle_defaults_are_the_apis(east):
    create_cluster(east, "iopt", writer=False, StorageType="aurora-iopt1", EngineVersion="15.4")
    east.create_db_cluster_snapshot(DBClusterIdentifier="iopt", DBClusterSnapshotIdentifier="iopt-snap")
    assert wait_snapshot(east, "iopt-snap")["StorageType"] == "aurora-iopt1"
    restored = east.restore_db_cluster_from_snapshot(DBClusterIdentifier="restored", SnapshotIdentifier="iopt-snap",
                                                     Engine="aurora-postgresql", EngineVersion="15.4")["DBCluster"]
    assert restored.get("StorageType", "aurora") == "aurora"  # the API default, not the snapshot's
    assert restored["EngineLifecycleSupport"] == "open-source-rds-extended-support"
    expect_error("InvalidParameterValue", east.restore_db_cluster_from_snapshot, DBClusterIdentifier="bad",
                 SnapshotIdentifier="iopt-snap", Engine="aurora-postgresql", StorageType="gp3")


# --- certificates after a rename ------------------------------------------------------------------------------
def test_a_rename_keeps_the_old_certificate_until_a_stop_and_start(aws_env, east):
    aws_env.set_durations(cluster_stop=0.2, cluster_start=0.2)
    create_cluster(east, "blue")

    def certificate(name):
        [entry] = [c for c in aws_env.state()["clusters"] if c["id"] == name]
        return entry["certificate_covers_endpoint"]

    assert certificate("blue")
    east.modify_db_cluster(DBClusterIdentifier="blue", NewDBClusterIdentifier="green", ApplyImmediately=True)
    wait_cluster(east, "green")
    assert not certificate("green")
    east.stop_db_cluster(DBClusterIdentifier="green")
    wait_cluster(east, "green", "stopped")
    east.start_db_cluster(DBClusterIdentifier="green")
    wait_cluster(east, "green")
    assert certificate("green")


# --- partitions -----------------------------------------------------------------------------------------------
def test_no_copy_leaves_or_enters_the_china_regions(east, plain_snapshot):
    china = client("rds", "cn-north-1")
    expect_error("DBClusterSnapshotNotFoundFault", china.copy_db_cluster_snapshot,
                 SourceDBClusterSnapshotIdentifier=plain_snapshot["DBClusterSnapshotArn"],
                 TargetDBClusterSnapshotIdentifier="to-china", SourceRegion="us-east-1")


# --- forced statuses (a test knob, not an AWS rule) -----------------------------------------------------------
def test_a_status_can_be_forced_for_tests(aws_env, east):
    create_cluster(east, "cap")
    aws_env.force_status("instance", "cap-1", "insufficient-capacity")
    assert east.describe_db_instances(DBInstanceIdentifier="cap-1")["DBInstances"][0]["DBInstanceStatus"] == "insufficient-capacity"
