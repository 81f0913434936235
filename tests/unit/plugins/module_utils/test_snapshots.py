import datetime

import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils import markers
from ansible_collections.dbops.aurora_restore.plugins.module_utils import snapshots as snap

NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=datetime.timezone.utc)
ACCOUNT = "111111111111"


def snapshot(name, hours_old, kind="manual", status="available", cluster="production", account=ACCOUNT, tags=None):
    return {
        "DBClusterSnapshotIdentifier": name,
        "DBClusterSnapshotArn": "arn:aws:rds:us-east-1:%s:cluster-snapshot:%s" % (account, name),
        "DBClusterIdentifier": cluster,
        "SnapshotType": kind,
        "Status": status,
        "SnapshotCreateTime": NOW - datetime.timedelta(hours=hours_old),
        "TagList": tags or [],
    }


SNAPSHOTS = [
    snapshot("nightly-3", 1, status="creating"),
    snapshot("nightly-2", 25),
    snapshot("nightly-1", 49),
    snapshot("rds:production-2026-11-22-03-00", 9, kind="automated"),
    snapshot("other-1", 2, cluster="other"),
    snapshot("partner-1", 3, cluster="partner-prod", account="222222222222"),
]


@pytest.mark.parametrize("criteria,expected", [
    (dict(cluster="production"), "rds:production-2026-11-22-03-00"),
    (dict(cluster="production", kind="manual"), "nightly-2"),
    (dict(prefix="nightly-"), "nightly-2"),
    (dict(prefix="production-", kind="automated"), "rds:production-2026-11-22-03-00"),
    (dict(kind="shared"), "partner-1"),
    (dict(), "other-1"),
])
def test_choose_latest_available(criteria, expected):
    chosen, why = snap.choose_latest(SNAPSHOTS, ACCOUNT, NOW, **criteria)
    assert chosen["DBClusterSnapshotIdentifier"] == expected
    assert why.startswith("newest of ")


def test_nothing_matching_names_the_criteria():
    expected = r"^no available cluster snapshot matches source_cluster_identifier='gone', source_snapshot_type=manual in us-east-1$"
    with pytest.raises(snap.SnapshotError, match=expected):
        snap.choose_latest(SNAPSHOTS, ACCOUNT, NOW, cluster="gone", kind="manual", region="us-east-1")


def test_stale_snapshot_is_refused():
    with pytest.raises(snap.SnapshotError, match=r"'nightly-2', is 25.0 h old: older than max_age_hours=24"):
        snap.choose_latest(SNAPSHOTS, ACCOUNT, NOW, prefix="nightly-", max_age_hours=24)


def test_parse_snapshot_arn():
    assert snap.parse_snapshot_arn("plain-id") is None
    assert snap.parse_snapshot_arn(SNAPSHOTS[0]["DBClusterSnapshotArn"]) == ("us-east-1", ACCOUNT, "nightly-3")
    with pytest.raises(snap.SnapshotError, match="is not a cluster snapshot ARN"):
        snap.parse_snapshot_arn("arn:aws:rds:us-east-1:1:db:x")


def ours(name, hours_old, cluster="production", status="available"):
    tags = markers.with_markers(source_cluster=cluster)
    return snapshot(name, hours_old, cluster="restored-" + cluster, status=status, tags=tags)


def test_retention_keeps_newest_per_source_and_never_touches_others():
    listing = [ours("a1", 1), ours("a2", 30), ours("a3", 60), ours("a4", 90, status="copying"),
               ours("b1", 100, cluster="billing"), snapshot("hand-made", 500)]
    to_delete, kept = snap.retention_plan(listing, NOW, keep_newest=2)
    assert sorted(item["DBClusterSnapshotIdentifier"] for item in to_delete) == ["a3"]
    assert sorted(item["DBClusterSnapshotIdentifier"] for item in kept) == ["a1", "a2", "a4", "b1"]
    to_delete, kept = snap.retention_plan(listing, NOW, max_age_days=2, exclude=("a3",))
    assert sorted(item["DBClusterSnapshotIdentifier"] for item in to_delete) == ["b1"]


def test_default_key_detection():
    assert snap.is_default_key("arn:aws:kms:us-east-1:111111111111:alias/aws/rds")
    assert not snap.is_default_key("arn:aws:kms:us-east-1:111111111111:key/abc")
    assert not snap.is_default_key(None)


@pytest.mark.parametrize("identifier, automated", [
    ("rds:production-2026-11-22-03-00", True),
    ("arn:aws:rds:us-east-1:%s:cluster-snapshot:rds:production-2026-11-22-03-00" % ACCOUNT, True),
    ("production-seed", False),
    ("arn:aws:rds:us-east-1:%s:cluster-snapshot:dbops-production-seed-abc" % ACCOUNT, False),
])
def test_automated_snapshots_are_described_with_their_type(identifier, automated):
    params = snap.lookup_params(identifier)
    assert params["DBClusterSnapshotIdentifier"] == identifier
    assert params.get("SnapshotType") == ("automated" if automated else None)


@pytest.mark.parametrize("source, target, refused", [
    ("us-east-1", "us-west-2", None),
    ("us-gov-west-1", "us-gov-east-1", None),
    ("us-east-1", "us-east-1", None),
    ("us-east-1", "cn-north-1", "partition aws"),
    ("us-gov-west-1", "us-east-1", "partition aws-us-gov"),
    ("cn-north-1", "cn-northwest-1", "China regions"),
])
def test_copies_aws_cannot_make_are_named(source, target, refused):
    problem = snap.copy_refusal(source, target)
    assert (problem is None) == (refused is None)
    assert refused is None or refused in problem


def test_copy_retention_never_deletes_final_snapshots_and_final_retention_only_them():
    def item(name, hours, tags):
        return {"DBClusterSnapshotIdentifier": name, "Status": "available", "SnapshotType": "manual", "DBClusterIdentifier": "dev",
                "SnapshotCreateTime": NOW - datetime.timedelta(hours=hours),
                "TagList": [{"Key": k, "Value": v} for k, v in dict(tags, **{markers.CREATED_BY_KEY: markers.CREATED_BY_VALUE}).items()]}
    finals = [item("dev-final-%d" % n, n, {markers.FINAL_SNAPSHOT_OF_KEY: "dev"}) for n in range(1, 4)]
    others = [item("stg-final-1", 1, {markers.FINAL_SNAPSHOT_OF_KEY: "stg"})]
    copies = [item("dbops-copy-%d" % n, n, {markers.SOURCE_CLUSTER_KEY: "production"}) for n in range(1, 4)]
    deleted, kept = snap.retention_plan(finals + others + copies, NOW, keep_newest=1)
    assert [s["DBClusterSnapshotIdentifier"] for s in deleted] == ["dbops-copy-2", "dbops-copy-3"]
    deleted, kept = snap.retention_plan(finals + others + copies, NOW, keep_newest=1, final_snapshots_of="dev")
    assert [s["DBClusterSnapshotIdentifier"] for s in deleted] == ["dev-final-2", "dev-final-3"]
