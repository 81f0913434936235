"""The issue's "Done when" data path: seed → snapshot → cross-region re-encrypted copy → restore → writer →
read with the source's password → reset the password → read with the new one (and not the old)."""

import psycopg2
import pytest

from localaws import seed as seed_module
from localaws_helpers import (client, create_kms_key, query, wait_cluster, wait_instance, wait_snapshot)


def test_seed_copy_restore_reset_password(aws_env):
    ids = aws_env.seed()
    east = client("rds", "us-east-1")
    west = client("rds", "us-west-2")
    source = east.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=ids["snapshot_id"])["DBClusterSnapshots"][0]
    assert source["Status"] == "available" and source["StorageEncrypted"]

    west_key = create_kms_key("us-west-2")
    copy = west.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=ids["snapshot_arn"],
                                         TargetDBClusterSnapshotIdentifier="production-copy",
                                         KmsKeyId=west_key, SourceRegion="us-east-1")["DBClusterSnapshot"]
    assert copy["Status"] == "copying"
    copied = wait_snapshot(west, "production-copy")
    assert copied["KmsKeyId"] == west_key and copied["PercentProgress"] == 100

    west.restore_db_cluster_from_snapshot(DBClusterIdentifier="staging", SnapshotIdentifier="production-copy",
                                          Engine="aurora-postgresql")
    restored = wait_cluster(west, "staging")
    assert restored["DBClusterMembers"] == []  # a restore has no instances
    with pytest.raises(psycopg2.OperationalError):  # nothing serves the endpoint without a writer
        query(restored, seed_module.MASTER_PASSWORD, "select 1")

    west.create_db_instance(DBInstanceIdentifier="staging-1", DBClusterIdentifier="staging",
                            Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
    wait_instance(west, "staging-1")
    restored = wait_cluster(west, "staging")
    count_sql = "select count(*) from customers where email like '%@example.com'"
    assert query(restored, seed_module.MASTER_PASSWORD, count_sql, "appdb") == [(seed_module.CUSTOMERS,)]

    modified = west.modify_db_cluster(DBClusterIdentifier="staging", MasterUserPassword="staging-pw-2",
                                      ApplyImmediately=True)["DBCluster"]
    assert modified["Status"] == "resetting-master-credentials"
    restored = wait_cluster(west, "staging")
    assert query(restored, "staging-pw-2", count_sql, "appdb") == [(seed_module.CUSTOMERS,)]
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        query(restored, seed_module.MASTER_PASSWORD, "select 1")
    # The source is untouched by all this.
    prod = wait_cluster(east, "production")
    assert query(prod, seed_module.MASTER_PASSWORD, "select count(*) from orders", "appdb") == [(seed_module.ORDERS,)]
