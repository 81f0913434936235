"""make demo: prod-west, production's data in the targets' region (us-west-2) and account, with a writer.

A clone must be made in its source's region and account (Aurora User Guide, "Limitations of Aurora cloning"), so the
demo's clone target needs a source there: the seeded production snapshot is copied to us-west-2 under the pipeline's
key (alias/aurora-restore, made by the bootstrap), restored as prod-west, and given a writer. Runs as account A's
administrator, like the seed.
"""
import time

import boto3

SOURCE_REGION, REGION, SOURCE = "us-east-1", "us-west-2", "prod-west"


def wait_for(check, what, timeout=600):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for %s" % what)
        time.sleep(1)


def main():
    east, west = boto3.client("rds", region_name=SOURCE_REGION), boto3.client("rds", region_name=REGION)
    seed = east.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="production-seed")["DBClusterSnapshots"][0]
    west.copy_db_cluster_snapshot(SourceDBClusterSnapshotIdentifier=seed["DBClusterSnapshotArn"], TargetDBClusterSnapshotIdentifier="seed-west",
                                  KmsKeyId="alias/aurora-restore", SourceRegion=SOURCE_REGION)
    wait_for(lambda: west.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="seed-west")["DBClusterSnapshots"][0]["Status"] == "available",
             "the copy of the seed snapshot")
    west.restore_db_cluster_from_snapshot(DBClusterIdentifier=SOURCE, SnapshotIdentifier="seed-west", Engine="aurora-postgresql",
                                          EngineVersion=seed["EngineVersion"])
    wait_for(lambda: west.describe_db_clusters(DBClusterIdentifier=SOURCE)["DBClusters"][0]["Status"] == "available", SOURCE)
    west.create_db_instance(DBInstanceIdentifier=SOURCE + "-1", DBClusterIdentifier=SOURCE, Engine="aurora-postgresql",
                            DBInstanceClass="db.r6g.large")
    wait_for(lambda: west.describe_db_instances(DBInstanceIdentifier=SOURCE + "-1")["DBInstances"][0]["DBInstanceStatus"] == "available",
             SOURCE + "-1")
    print("  %s in %s with writer %s-1, from %s" % (SOURCE, REGION, SOURCE, seed["DBClusterSnapshotArn"]))


if __name__ == "__main__":
    main()
