"""The bootstrap's operator policy as the emulator enforces it: destructive RDS actions reach the targets (and what the
pipeline made) and nothing else, refused with AWS's AccessDenied naming the action and the resource."""
import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from helpers import operator_role

ACCOUNT = "123456789012"
REGION = "us-west-2"
LONG_TARGET = "dev-" + "a" * 59


@pytest.fixture
def operator(aws_env):
    aws_env.set_durations(cluster_create=0.2, cluster_delete=0.2, snapshot_create=0.2, cluster_stop=0.2, cluster_start=0.2)
    admin = boto3.client("rds", region_name=REGION)
    for name, tags in (("dev-app", []), ("other-app", []), ("stray", [{"Key": "dbops:aurora_restore:created-by", "Value": "dbops.aurora_restore"}]),
                       (LONG_TARGET, [])):
        admin.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="15.4", MasterUsername="postgres",
                                MasterUserPassword="Operator-test-1", Tags=tags)
    for name in ("dev-app", "other-app", "stray", LONG_TARGET):
        wait(lambda: admin.describe_db_clusters(DBClusterIdentifier=name)["DBClusters"][0]["Status"] == "available")
    admin.create_db_cluster_snapshot(DBClusterIdentifier="other-app", DBClusterSnapshotIdentifier="other-snap")
    # The snapshot puts other-app in backing-up: the tests start once it is available again, however fast they run.
    wait(lambda: admin.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="other-snap")["DBClusterSnapshots"][0]["Status"] == "available")
    wait(lambda: admin.describe_db_clusters(DBClusterIdentifier="other-app")["DBClusters"][0]["Status"] == "available")
    arn = operator_role.create_operator_role(
        boto3.Session(region_name=REGION), ACCOUNT, bootstrap_iam_region=REGION, bootstrap_iam_secret_names=["aurora-restore/dev/master-credentials"],
        bootstrap_iam_target_clusters=[{"cluster_id": "dev-app", "region": REGION}, {"cluster_id": LONG_TARGET, "region": REGION}])
    creds = boto3.client("sts", region_name=REGION).assume_role(RoleArn=arn, RoleSessionName="tests")["Credentials"]
    return boto3.client("rds", region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"]), admin


def wait(check, timeout=30):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def denied(call, action, resource, **kwargs):
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    error = excinfo.value.response["Error"]
    assert error["Code"] == "AccessDenied", error
    assert ("is not authorized to perform: %s on resource: %s because no identity-based policy allows" % (action, resource)) in error["Message"]


def test_destructive_actions_on_a_cluster_that_is_not_a_target_are_denied(operator):
    rds, admin = operator
    cluster = "arn:aws:rds:%s:%s:cluster:other-app" % (REGION, ACCOUNT)
    denied(rds.delete_db_cluster, "rds:DeleteDBCluster", cluster, DBClusterIdentifier="other-app", SkipFinalSnapshot=True)
    denied(rds.modify_db_cluster, "rds:ModifyDBCluster", cluster, DBClusterIdentifier="other-app", MasterUserPassword="Another-pw-1",
           ApplyImmediately=True)
    denied(rds.stop_db_cluster, "rds:StopDBCluster", cluster, DBClusterIdentifier="other-app")
    denied(rds.restore_db_cluster_from_snapshot, "rds:RestoreDBClusterFromSnapshot", "arn:aws:rds:%s:%s:cluster:prod-copy" % (REGION, ACCOUNT),
           DBClusterIdentifier="prod-copy", SnapshotIdentifier="other-snap", Engine="aurora-postgresql")
    denied(rds.delete_db_cluster_snapshot, "rds:DeleteDBClusterSnapshot",
           "arn:aws:rds:%s:%s:cluster-snapshot:other-snap" % (REGION, ACCOUNT), DBClusterSnapshotIdentifier="other-snap")
    assert admin.describe_db_clusters(DBClusterIdentifier="other-app")["DBClusters"][0]["Status"] == "available"


def test_targets_their_final_snapshots_and_the_pipelines_own_clusters_are_allowed(operator):
    rds, admin = operator
    # A final snapshot does not exist when DeleteDBCluster is authorised: only a statement naming it by pattern works.
    rds.delete_db_cluster(DBClusterIdentifier="dev-app", FinalDBSnapshotIdentifier="dev-app-final-20261202000000")
    rds.delete_db_cluster(DBClusterIdentifier="stray", SkipFinalSnapshot=True)  # tagged as the pipeline's own
    rds.stop_db_cluster(DBClusterIdentifier=LONG_TARGET)
    wait(lambda: admin.describe_db_clusters(DBClusterIdentifier=LONG_TARGET)["DBClusters"][0]["Status"] == "stopped")
    rds.start_db_cluster(DBClusterIdentifier=LONG_TARGET)
    wait(lambda: admin.describe_db_clusters(DBClusterIdentifier=LONG_TARGET)["DBClusters"][0]["Status"] == "available")
    # The long target's derived names are cut to 63 characters with a digest: the policy's patterns still cover them.
    from ansible_collections.dbops.aurora_restore.plugins.module_utils import naming
    temporary = naming.temporary_cluster(LONG_TARGET)
    assert not temporary.startswith(LONG_TARGET + "-")
    rds.modify_db_cluster(DBClusterIdentifier=LONG_TARGET, NewDBClusterIdentifier=temporary, ApplyImmediately=True)
    policy = json.loads(json.dumps(operator_role.render_policy(ACCOUNT, bootstrap_iam_target_clusters=[{"cluster_id": LONG_TARGET}])))
    assert any(temporary.startswith(pattern.split(":cluster:")[-1].split("*")[0]) for statement in policy["Statement"]
               for pattern in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
               if ":cluster:" in pattern)
