"""RestoreDBClusterToPointInTime on the emulator: copy-on-write clones of the source's data now, full copies at a
time (the newest base copy of its continuous backup at or before it) or at the latest restorable time, and AWS's
rules for each (README.md's fidelity table)."""
import datetime
import time

import pytest

from localaws_helpers import client, cluster, connect, create_cluster, expect_error, query, wait_cluster, wait_instance

PASSWORD = "master-pw-1"


@pytest.fixture
def east(aws_env):
    return client("rds", "us-east-1")


@pytest.fixture
def source(east):
    """An Aurora PostgreSQL cluster with a writer and a table of one row."""
    found = create_cluster(east, "prod", password=PASSWORD, EngineVersion="15.4")
    execute(found, "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)")
    return found


def execute(found, sql):
    conn = connect(found, PASSWORD)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def bring_up(east, ident):
    wait_cluster(east, ident)
    east.create_db_instance(DBInstanceIdentifier=ident + "-1", DBClusterIdentifier=ident, Engine="aurora-postgresql",
                            DBInstanceClass="db.r6g.large")
    wait_instance(east, ident + "-1")
    return cluster(east, ident)


def orders(found):
    return [row[0] for row in query(found, PASSWORD, "SELECT id FROM orders ORDER BY id")]


def test_a_clone_has_the_sources_data_now_and_its_own_afterwards(aws_env, east, source):
    execute(source, "INSERT INTO orders VALUES (2)")
    east.restore_db_cluster_to_point_in_time(DBClusterIdentifier="dev", SourceDBClusterIdentifier="prod",
                                             RestoreType="copy-on-write", UseLatestRestorableTime=True,
                                             Tags=[{"Key": "env", "Value": "dev"}])
    assert cluster(east, "dev")["Status"] == "creating"
    dev = bring_up(east, "dev")
    assert orders(dev) == [1, 2]
    execute(dev, "INSERT INTO orders VALUES (99)")
    assert orders(cluster(east, "prod")) == [1, 2]
    assert dev["EngineVersion"] == "15.4" and {t["Key"]: t["Value"] for t in dev["TagList"]} == {"env": "dev"}
    assert dev.get("CloneGroupId") is None or dev.get("CloneGroupId") == cluster(east, "prod").get("CloneGroupId")


def test_a_point_in_time_restore_shows_that_times_rows_and_not_later_ones(aws_env, east, source):
    aws_env.backup("prod")
    moment = datetime.datetime.now(datetime.timezone.utc)
    time.sleep(0.05)
    execute(source, "INSERT INTO orders VALUES (2)")
    east.restore_db_cluster_to_point_in_time(DBClusterIdentifier="at-t", SourceDBClusterIdentifier="prod",
                                             RestoreToTime=moment)
    east.restore_db_cluster_to_point_in_time(DBClusterIdentifier="latest", SourceDBClusterIdentifier="prod",
                                             UseLatestRestorableTime=True)
    assert orders(bring_up(east, "at-t")) == [1]
    assert orders(bring_up(east, "latest")) == [1, 2]


def test_the_apis_rules(aws_env, east, source):
    now = datetime.datetime.now(datetime.timezone.utc)
    base = {"DBClusterIdentifier": "new", "SourceDBClusterIdentifier": "prod"}
    expect_error("InvalidParameterCombination", east.restore_db_cluster_to_point_in_time, **base, RestoreToTime=now,
                 UseLatestRestorableTime=True)
    error = expect_error("InvalidParameterCombination", east.restore_db_cluster_to_point_in_time, **base,
                         RestoreType="copy-on-write", RestoreToTime=now)
    assert "RestoreToTime cannot be specified when RestoreType is copy-on-write" in str(error)
    expect_error("InvalidParameterCombination", east.restore_db_cluster_to_point_in_time, **base)
    expect_error("InvalidRestoreFault", east.restore_db_cluster_to_point_in_time, **base,
                 RestoreToTime=now + datetime.timedelta(hours=1))
    expect_error("InvalidRestoreFault", east.restore_db_cluster_to_point_in_time, **base,
                 RestoreToTime=now - datetime.timedelta(days=3))
    expect_error("DBClusterNotFoundFault", east.restore_db_cluster_to_point_in_time, DBClusterIdentifier="new",
                 SourceDBClusterIdentifier="nope", UseLatestRestorableTime=True)
    # Another region's or another account's cluster (no AWS RAM share) is not visible here.
    for arn in ("arn:aws:rds:us-west-2:123456789012:cluster:prod", "arn:aws:rds:us-east-1:210987654321:cluster:prod"):
        expect_error("DBClusterNotFoundFault", east.restore_db_cluster_to_point_in_time, DBClusterIdentifier="new",
                     SourceDBClusterIdentifier=arn, RestoreType="copy-on-write", UseLatestRestorableTime=True)
    expect_error("InvalidParameterValue", east.restore_db_cluster_to_point_in_time, DBClusterIdentifier="bad--name",
                 SourceDBClusterIdentifier="prod", UseLatestRestorableTime=True)
    expect_error("DBClusterAlreadyExistsFault", east.restore_db_cluster_to_point_in_time, DBClusterIdentifier="prod",
                 SourceDBClusterIdentifier="prod", UseLatestRestorableTime=True)
    # No instance, no clone; a source that is not available restores nothing.
    create_cluster(east, "bare", writer=False)
    error = expect_error("InvalidDBClusterStateFault", east.restore_db_cluster_to_point_in_time, DBClusterIdentifier="new",
                         SourceDBClusterIdentifier="bare", RestoreType="copy-on-write", UseLatestRestorableTime=True)
    assert "no DB instance" in str(error)
    aws_env.force_status("cluster", "prod", "modifying")
    expect_error("InvalidDBClusterStateFault", east.restore_db_cluster_to_point_in_time, **base, UseLatestRestorableTime=True)
    assert [c["DBClusterIdentifier"] for c in east.describe_db_clusters()["DBClusters"]] == ["prod", "bare"]
