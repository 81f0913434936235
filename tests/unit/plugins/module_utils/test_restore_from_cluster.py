"""restore_sources (and the plan) for clones and point-in-time restores: the source key a restored cluster is tagged with, the
RestoreDBClusterToPointInTime request, and the plan reading a source cluster as it reads a snapshot."""
from ansible_collections.dbops.aurora_restore.plugins.module_utils import restore_plan as rp
from ansible_collections.dbops.aurora_restore.plugins.module_utils import restore_sources as rs

ARN = "arn:aws:rds:us-east-1:123456789012:cluster:production"
SOURCE = {"DBClusterArn": ARN, "DBClusterIdentifier": "production", "Engine": "aurora-postgresql", "EngineVersion": "15.4",
          "StorageType": "aurora-iopt1", "MasterUsername": "postgres"}


def ctx(source_type="clone", restore_to_time=None, **overrides):
    base = {"target": "staging", "temp_id": "staging-restoring", "retired_id": "staging-retired", "strategy": "replace",
            "region": "us-east-1", "snapshot": rs.source_of_cluster(SOURCE, source_type, restore_to_time, "op-1"),
            "instance_specs": rp.instance_specs({"count": 1, "instance_class": "db.r6g.large"}, "staging"),
            "restore_options": {"tags": {"env": "staging"}, "port": 5433, "kms_key_id": "alias/k"}, "operation_id": "op-1",
            "source_type": source_type, "restore_to_time": restore_to_time, "source_cluster_identifier": "production"}
    base.update(overrides)
    return base


def test_source_keys_belong_to_an_operation_unless_a_time_is_given():
    clone = rs.source_key("clone", ARN, operation_id="op-1")
    assert clone.startswith("clone:" + ARN + "@latest#") and clone != rs.source_key("clone", ARN, operation_id="op-2")
    assert rs.source_key("point_in_time", ARN, "2026-12-01T23:00:00Z", "op-1") == "point-in-time:%s@2026-12-01T23:00:00Z" % ARN
    assert rs.source_key("point_in_time", ARN, "2026-12-01T23:00:00Z", "op-2") == rs.source_key("point_in_time", ARN, "2026-12-01T23:00:00Z")
    longest = rs.source_key("clone", "arn:aws-us-gov:rds:us-gov-west-1:123456789012:cluster:" + "a" * 63, operation_id="o" * 200)
    assert len(longest) <= 256  # an AWS tag value


def test_a_clone_request_is_copy_on_write_at_the_latest_time_with_the_options():
    request = rs.point_in_time_request(ctx(), "staging")
    assert request["RestoreType"] == "copy-on-write" and request["UseLatestRestorableTime"] is True
    assert request["SourceDBClusterIdentifier"] == "production" and request["DBClusterIdentifier"] == "staging"
    assert "SnapshotIdentifier" not in request and "EngineVersion" not in request and "Engine" not in request
    assert request["StorageType"] == "aurora-iopt1" and request["Port"] == 5433 and request["KmsKeyId"] == "alias/k"
    tags = {tag["Key"]: tag["Value"] for tag in request["Tags"]}
    assert tags["dbops:aurora_restore:source-snapshot"].startswith("clone:" + ARN) and tags["env"] == "staging"


def test_point_in_time_requests():
    at = rs.point_in_time_request(ctx("point_in_time", "2026-12-01T23:00:00Z"), "staging")
    assert (at["RestoreType"], at["RestoreToTime"]) == ("full-copy", "2026-12-01T23:00:00Z") and "UseLatestRestorableTime" not in at
    latest = rs.point_in_time_request(ctx("point_in_time"), "staging")
    assert latest["RestoreType"] == "full-copy" and latest["UseLatestRestorableTime"] is True and "RestoreToTime" not in latest


def test_the_plan_never_touches_the_source_and_restores_once():
    target = {"cluster": {"DBClusterIdentifier": "production", "Status": "available", "DBClusterArn": ARN, "TagList": [],
                          "DBClusterMembers": []}, "instances": []}
    try:
        rp.plan(ctx(target="production"), {"production": target}, set())
        raise AssertionError("the source was not refused")
    except rp.GuardRefused as refused:
        assert "it is the source cluster" in str(refused)
    steps = rp.plan(ctx(), {"staging": None}, set())
    assert [step["action"] for step in steps][:2] == ["restore_cluster", "wait_cluster_available"]
    assert steps[0]["snapshot"].startswith("clone:" + ARN)
