"""playbooks/restore.yml with restore_source_method clone / auto: a same-region, same-account target refreshed from a
cluster (no snapshot selected, copied or archived), through real ansible-playbook runs of inventories/local as the
operator role, against the emulator with a real PostgreSQL behind every cluster."""
import datetime
import time

import psycopg2
from localaws import seed

from helpers import pipeline_world
from test_restore_playbook import app_rows
from test_restore_playbook import operations
from test_restore_playbook import rds
from test_restore_playbook import restore
# The pipeline world (accounts, keys, tables, topics, secrets, operator roles) as a fixture.
from test_restore_playbook import world  # noqa: F401  pylint: disable=unused-import

A = pipeline_world.ACCOUNT_A
B = pipeline_world.ACCOUNT_B
REGION = pipeline_world.TARGET_REGION
SOURCE = pipeline_world.SAME_REGION_SOURCE


def test_auto_clones_a_same_region_source_and_copies_a_cross_region_one(world, aws_env, tmp_path):
    pipeline_world.make_source_in_the_target_region()
    # Cross-region source (the inventory's production in us-east-1): auto keeps the snapshot copy, and says why.
    planned = restore(tmp_path, "--limit", "dev-app", extra_vars={"restore_source_method": "auto"}, check=True)
    assert planned.rc == 0, planned.output[-3000:]
    assert "auto: the source is in us-east-1, not us-west-2, so a snapshot copy" in planned.output

    # Without the policy's grant IAM refuses the clone (dev-app does not exist yet: there is nothing to delete).
    same_region = {"restore_source_method": "auto", "restore_source_cluster": SOURCE, "restore_source_region": REGION}
    denied = restore(tmp_path, "--limit", "dev-app", extra_vars=same_region)
    assert denied.rc != 0 and "rds:RestoreDBClusterToPointInTime" in denied.output
    pipeline_world.allow_clones_of_the_source()
    aws_env.clear_counts()
    cloned = restore(tmp_path, "--limit", "dev-app", extra_vars=same_region)
    assert cloned.rc == 0, cloned.output[-3000:]
    assert "auto: the source cluster prod-west is in the target account and region, so a clone" in cloned.output
    counts = aws_env.counts()["services"]["rds"]
    assert counts.get("RestoreDBClusterToPointInTime") == 1 and not counts.get("CopyDBClusterSnapshot")
    latest = sorted(operations(A), key=lambda item: item["started_at"]["S"])[-1]
    assert latest["status"]["S"] == "SUCCEEDED"
    steps = [entry["S"] for entry in latest["step_order"]["L"]]
    assert steps == ["preflight", "restore_cluster", "db_users", "archive"]
    details = latest["details"]["M"]
    assert details["method"]["S"] == "clone" and "so a clone" in details["method_reason"]["S"]
    count, masked = app_rows(A, "dev-app", world["dev"]["users"]["application_user"])
    assert count > 0 and masked == count
    assert rds(A).describe_db_clusters(DBClusterIdentifier=SOURCE)["DBClusters"][0]["Status"] == "available"

    # staging-app is in account B: a clone of account A's cluster needs an AWS RAM share, which the run makes only
    # with restore_clone_across_accounts; without it preflight refuses in one line, before anything is changed.
    aws_env.clear_counts()
    refused = restore(tmp_path, "--limit", "staging-app", extra_vars={"restore_source_method": "clone", "restore_source_cluster": SOURCE,
                                                                      "restore_source_region": REGION})
    assert refused.rc != 0
    assert ("staging-app: restore_source_method=clone needs restore_source_cluster (got 'prod-west') in the target's region, "
            "and in its account unless it is a clone with restore_clone_across_accounts=true (an AWS RAM share) "
            "(source 123456789012 us-west-2, target 210987654321 us-west-2)") in " ".join(refused.output.split())
    counts = aws_env.counts()["services"].get("rds", {})
    assert not counts.get("RestoreDBClusterToPointInTime") and not counts.get("CopyDBClusterSnapshot")
    assert not counts.get("DeleteDBCluster") and not counts.get("RestoreDBClusterFromSnapshot")
    assert not aws_env.counts()["services"].get("ram")


def test_a_clone_across_accounts_through_an_aws_ram_share(world, aws_env, tmp_path):
    """staging-app (account B) cloned from account A's prod-west: the run shares it through AWS RAM as account A,
    accepts as account B, and clones it under B's key; auto picks the clone only when cross-account clones are
    allowed, and IAM refuses what the bootstrap did not grant."""
    pipeline_world.make_source_in_the_target_region()
    clone_vars = {"restore_source_method": "auto", "restore_source_cluster": SOURCE, "restore_source_region": REGION,
                  "restore_strategy": "replace"}
    # (Check mode: the snapshot path it picks then finds no snapshot of prod-west, which is beside the point here.)
    planned = restore(tmp_path, "--limit", "staging-app", extra_vars=clone_vars, check=True)
    assert "auto: the source is in another account (restore_clone_across_accounts=false), so a snapshot copy" in planned.output

    across = dict(clone_vars, restore_clone_across_accounts=True)
    denied = restore(tmp_path, "--limit", "staging-app", extra_vars=across)
    assert denied.rc != 0 and "share_cluster failed" in denied.output and "is not authorized to perform: ram:" in denied.output, denied.output[-3000:]
    pipeline_world.allow_clones_across_accounts()
    cloned = restore(tmp_path, "--limit", "staging-app", extra_vars=across)
    assert cloned.rc == 0, cloned.output[-3000:]
    assert "auto: the source cluster prod-west is in the target region and shared from account %s through AWS RAM, so a clone" % A in cloned.output
    latest = sorted(operations(B), key=lambda item: item["started_at"]["S"])[-1]
    assert latest["status"]["S"] == "SUCCEEDED"
    assert [entry["S"] for entry in latest["step_order"]["L"]] == ["preflight", "share_cluster", "restore_cluster", "db_users", "archive"]
    found = rds(B).describe_db_clusters(DBClusterIdentifier="staging-app")["DBClusters"][0]
    assert found["CrossAccountClone"] is True and found["KmsKeyId"].split(":")[4] == B
    count, masked = app_rows(B, "staging-app", world["staging"]["users"]["application_user"])
    assert count > 0 and masked == count

    # The next night: the share is there and accepted (nothing to do), and replace swaps the account's one clone.
    aws_env.clear_counts()
    again = restore(tmp_path, "--limit", "staging-app", extra_vars=across)
    assert again.rc == 0, again.output[-3000:]
    assert not aws_env.counts()["services"]["ram"].get("CreateResourceShare")
    assert not aws_env.counts()["services"]["ram"].get("AcceptResourceShareInvitation")
    assert [c["DBClusterIdentifier"] for c in rds(B).describe_db_clusters()["DBClusters"]] == ["staging-app"]


def test_a_point_in_time_restore_has_that_times_rows_and_a_time_outside_the_window_is_refused_in_preflight(world, aws_env, tmp_path):
    """dev-app restored from prod-west as it was at T: rows written after T are absent. A time that is not ISO-8601
    fails before the lock, one outside prod-west's restorable window in preflight: both with nothing changed."""
    pipeline_world.make_source_in_the_target_region()
    pipeline_world.allow_clones_of_the_source()
    at = {"restore_source_method": "point_in_time", "restore_source_cluster": SOURCE, "restore_source_region": REGION}

    aws_env.clear_counts()
    malformed = restore(tmp_path, "--limit", "dev-app", extra_vars=dict(at, restore_source_restore_time="yesterday"))
    assert malformed.rc != 0
    assert ("dev-app: restore_source_restore_time 'yesterday' is not an ISO-8601 time with a time zone "
            "(for example 2026-12-01T23:00:00Z)") in " ".join(malformed.output.split())
    assert not aws_env.counts()["services"].get("dynamodb") and not aws_env.counts()["services"].get("rds")
    outside = restore(tmp_path, "--limit", "dev-app", extra_vars=dict(at, restore_source_restore_time="2000-01-01T00:00:00Z"))
    assert outside.rc != 0
    assert "dev-app: restore_source_restore_time 2000-01-01T00:00:00Z is outside the restorable window of prod-west, " in outside.output
    counts = aws_env.counts()["services"]["rds"]
    assert not counts.get("RestoreDBClusterToPointInTime") and not counts.get("DeleteDBCluster") and not counts.get("CreateDBInstance")
    failed = sorted(operations(A), key=lambda item: item["started_at"]["S"])[-1]
    assert failed["status"]["S"] == "FAILED" and "preflight failed" in failed["error"]["S"]

    aws_env.backup(SOURCE, region=REGION)
    moment = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.05)
    source = rds(A).describe_db_clusters(DBClusterIdentifier=SOURCE)["DBClusters"][0]
    with psycopg2.connect(host=source["Endpoint"], port=source["Port"], dbname="appdb", user="postgres",
                          password=seed.MASTER_PASSWORD, connect_timeout=10) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM customers")
            rows_at_t = cursor.fetchone()[0]
            cursor.execute("INSERT INTO customers (id, full_name, email, phone, date_of_birth, address) "
                           "VALUES (900001, 'After T', 'after@corp.example', '555-0100', '1990-01-01', 'Main St 1')")
    connection.close()
    restored = restore(tmp_path, "--limit", "dev-app", extra_vars=dict(at, restore_source_restore_time=moment))
    assert restored.rc == 0, restored.output[-3000:]
    latest = sorted(operations(A), key=lambda item: item["started_at"]["S"])[-1]
    assert latest["status"]["S"] == "SUCCEEDED" and latest["details"]["M"]["method"]["S"] == "point_in_time"
    assert [entry["S"] for entry in latest["step_order"]["L"]] == ["preflight", "restore_cluster", "db_users", "archive"]
    count, masked = app_rows(A, "dev-app", world["dev"]["users"]["application_user"])
    assert count == rows_at_t and masked == count
    assert "dev-app: a point-in-time of prod-west holds no snapshot copy to archive" in " ".join(restored.output.split())

    # At the latest restorable time (no time given): the row written after T is there.
    newest = restore(tmp_path, "--limit", "dev-app", extra_vars=at)
    assert newest.rc == 0, newest.output[-3000:]
    count, masked = app_rows(A, "dev-app", world["dev"]["users"]["application_user"])
    assert count == rows_at_t + 1 and masked == count
