"""aurora_snapshot_copy through real ansible-playbook runs against the emulator (moto + AWS rules + timing)."""
import json
import re
import time

import boto3
import pytest

from helpers.ansible_run import LOCAL_PLAY_HEADER
from helpers.ansible_run import run_playbook

SOURCE_REGION = "us-east-1"
TARGET_REGION = "us-west-2"
ACCOUNT_B = "210987654321"
PLAY_HEADER = LOCAL_PLAY_HEADER


def copy_task(name, **options):
    return "    - name: %s\n      dbops.aurora_restore.aurora_snapshot_copy: %s\n      ignore_errors: true\n" % (name, json.dumps(options))


def run(tmp_path, *tasks, check=False, extra_env=None):
    return run_playbook(PLAY_HEADER + "".join(tasks), tmp_path, check=check, extra_env=extra_env)


def one(tmp_path, check=False, extra_env=None, **options):
    return run(tmp_path, copy_task("copy", **options), check=check, extra_env=extra_env).result("copy")


def rds(region=SOURCE_REGION, credentials=None):
    return boto3.client("rds", region_name=region, **(credentials or {}))


def kms_key(region, credentials=None, alias=None, users=()):
    """A customer managed key; `users`: accounts its key policy lets use it (what sharing an encrypted snapshot needs)."""
    options = {}
    if users:
        owner = boto3.client("sts", region_name=region, **(credentials or {})).get_caller_identity()["Account"]
        options["Policy"] = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % owner}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::%s:root" % user for user in users]},
             "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:ReEncrypt*"], "Resource": "*"}]})
    key = boto3.client("kms", region_name=region, **(credentials or {})).create_key(Description="aurora restore copies", **options)["KeyMetadata"]
    if alias:
        boto3.client("kms", region_name=region, **(credentials or {})).create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return key["Arn"]


def wait_available(client, identifier, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = client.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=identifier)["DBClusterSnapshots"][0]
        if snapshot["Status"] == "available":
            return snapshot
        time.sleep(0.2)
    raise AssertionError("snapshot %s never became available" % identifier)


def take_snapshot(identifier, cluster="production", tags=None):
    client = rds()
    client.create_db_cluster_snapshot(DBClusterIdentifier=cluster, DBClusterSnapshotIdentifier=identifier, Tags=tags or [])
    return wait_available(client, identifier)


@pytest.fixture
def seeded(aws_env):
    """The emulator's production cluster in us-east-1 (encrypted with a customer key) and its manual snapshot."""
    aws_env.set_durations(copy=1.0, snapshot_create=0.3)
    return aws_env.seed()


def account_b():
    sts = boto3.client("sts", region_name=SOURCE_REGION)
    creds = sts.assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % ACCOUNT_B, RoleSessionName="tests")["Credentials"]
    return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"], "aws_session_token": creds["SessionToken"]}


def as_env(credentials):
    return {"AWS_ACCESS_KEY_ID": credentials["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": credentials["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": credentials["aws_session_token"]}


# ---- selection --------------------------------------------------------------------------------------------
def test_selects_the_newest_available_snapshot_by_cluster_prefix_and_type(seeded, tmp_path):
    take_snapshot("nightly-1")
    take_snapshot("nightly-2")
    take_snapshot("adhoc-1")
    checks = run(
        tmp_path,
        copy_task("newest manual", region=SOURCE_REGION, source_cluster_identifier="production", source_snapshot_type="manual"),
        copy_task("newest nightly", region=SOURCE_REGION, source_snapshot_prefix="nightly-"),
        copy_task("automated", region=SOURCE_REGION, source_cluster_identifier="production", source_snapshot_type="automated"),
        copy_task("none", region=SOURCE_REGION, source_cluster_identifier="production", source_snapshot_prefix="weekly-"),
        copy_task("stale", region=SOURCE_REGION, source_snapshot_prefix="nightly-", max_age_hours=0.00001),
        copy_task("shared none", region=SOURCE_REGION, source_snapshot_type="shared", source_cluster_identifier="production"),
    )
    newest = checks.result("newest manual")
    assert newest["source_snapshot"]["identifier"] == "adhoc-1"
    assert newest["source_snapshot"]["selected_because"].startswith("newest of 4 available snapshot(s) matching source_cluster_identifier='production'")
    assert newest["copy_needed"] is False and newest["changed"] is False, "same region, account and key: nothing to copy"
    assert checks.result("newest nightly")["source_snapshot"]["identifier"] == "nightly-2"
    automated = checks.result("automated")["source_snapshot"]
    assert automated["type"] == "automated" and automated["identifier"].startswith("rds:production-")
    assert checks.result("none")["msg"] == (
        "no available cluster snapshot matches source_cluster_identifier='production', source_snapshot_prefix='weekly-', "
        "source_snapshot_type=any in us-east-1")
    assert checks.result("stale")["msg"].startswith(
        "the newest available snapshot matching source_snapshot_prefix='nightly-', source_snapshot_type=any in us-east-1, 'nightly-2', is 0.0 h old")
    assert checks.result("shared none")["msg"].startswith("no available cluster snapshot matches")
    facts = newest["source_snapshot"]
    assert facts["encrypted"] is True and facts["kms_key_id"] == seeded["kms_key_arn"] and facts["age_hours"] >= 0


# ---- cross-region copy ------------------------------------------------------------------------------------
def test_encrypted_cross_region_copy_is_reencrypted_waited_for_and_reused(seeded, aws_env, tmp_path):
    aws_env.set_durations(copy=3.0)
    key = kms_key(TARGET_REGION)
    options = dict(region=TARGET_REGION, source_region=SOURCE_REGION, source_snapshot_identifier=seeded["snapshot_id"],
                   kms_key_id=key, operation_id="op-1", tags={"team": "dba"})
    first = one(tmp_path, **options)
    assert first["changed"] is True and first["copy_needed"] is True, first
    copy = first["snapshot"]
    assert copy["status"] == "available" and copy["region"] == TARGET_REGION and copy["reused"] is False
    assert copy["kms_key_id"] == key and copy["identifier"].startswith("dbops-production-seed-")
    assert copy["tags"]["dbops:aurora_restore:created-by"] == "dbops.aurora_restore"
    assert copy["tags"]["dbops:aurora_restore:source-snapshot"] == seeded["snapshot_arn"]
    assert copy["tags"]["dbops:aurora_restore:operation-id"] == "op-1" and copy["tags"]["team"] == "dba"
    wait = first["wait"]
    percents = [step["percent_progress"] for step in wait["progress"] if step["percent_progress"] is not None]
    assert percents == sorted(percents) and percents[-1] == 100 and len(percents) >= 2, wait["progress"]
    assert wait["progress"][0]["status"] == "copying" and wait["status"] == "available"
    assert 1.5 <= wait["waited_seconds"] <= 60  # 3 s emulated; the data copy and a loaded machine add to it

    again = one(tmp_path, **options)
    assert again["changed"] is False and again["snapshot"]["reused"] is True
    assert again["snapshot"]["identifier"] == copy["identifier"]
    copies = [s for s in rds(TARGET_REGION).describe_db_cluster_snapshots()["DBClusterSnapshots"] if s["DBClusterSnapshotIdentifier"].startswith("dbops-")]
    assert len(copies) == 1


def test_two_targets_needing_the_same_snapshot_share_one_copy(seeded, tmp_path):
    key = kms_key(TARGET_REGION, alias="alias/aurora-restore")
    options = dict(region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id="alias/aurora-restore")
    result = run(tmp_path, copy_task("dev", operation_id="dev-op", **options), copy_task("staging", operation_id="staging-op", **options))
    dev, staging = result.result("dev"), result.result("staging")
    assert dev["changed"] and not staging["changed"]
    assert dev["snapshot"]["identifier"] == staging["snapshot"]["identifier"] and staging["snapshot"]["reused"]
    assert dev["snapshot"]["kms_key_id"] == key


def test_encrypted_cross_region_copy_needs_a_key_of_the_target_region(seeded, tmp_path):
    east_key = kms_key(SOURCE_REGION)
    result = run(
        tmp_path,
        copy_task("no key", region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"]),
        copy_task("wrong region", region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id=east_key),
        copy_task("missing key", region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id="alias/nope"),
    )
    assert result.result("no key")["msg"] == (
        "source snapshot 'production-seed' is encrypted and the copy crosses regions: set kms_key_id to a KMS key of account 123456789012 in us-west-2")
    assert result.result("wrong region")["msg"] == (
        "kms_key_id %r is a key in us-east-1; the copy in us-west-2 needs a KMS key in us-west-2" % east_key)
    assert result.result("missing key")["msg"] == "kms_key_id 'alias/nope' is not a KMS key in us-west-2 (account 123456789012)"
    assert rds(TARGET_REGION).describe_db_cluster_snapshots()["DBClusterSnapshots"] == []


def test_a_sixth_concurrent_copy_waits_for_a_slot(seeded, aws_env, tmp_path):
    key = kms_key(TARGET_REGION)
    for index in range(5):
        take_snapshot("busy-%d" % index)
    # The five busy copies must outlast ansible-playbook's start on a loaded CI machine (4 s copies once did not, and
    # 15 s ones ended just as the sixth was refused); the emulator fixes a copy's duration when it starts, so the
    # sixth copy itself can stay short.
    aws_env.set_durations(copy=30.0)
    for index in range(5):
        rds(TARGET_REGION).copy_db_cluster_snapshot(
            SourceDBClusterSnapshotIdentifier="arn:aws:rds:us-east-1:123456789012:cluster-snapshot:busy-%d" % index,
            TargetDBClusterSnapshotIdentifier="busy-copy-%d" % index, KmsKeyId=key, SourceRegion=SOURCE_REGION)
    aws_env.set_durations(copy=1.0)
    sixth = one(tmp_path, region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id=key, poll_interval_max=1)
    assert sixth["changed"] and sixth["snapshot"]["status"] == "available", sixth.get("msg")
    assert sixth["waited_for_copy_slot_seconds"] >= 1.0, sixth


def test_timeout_names_the_snapshot_and_its_last_status(seeded, aws_env, tmp_path):
    aws_env.set_durations(copy=60.0)
    key = kms_key(TARGET_REGION)
    result = one(tmp_path, region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id=key, wait_timeout=3)
    # 3 s, or 4 s when the last describe call ended late on a loaded machine (the message rounds what was spent).
    assert result["failed"] and re.match(r"timed out after [34]s waiting for snapshot copy 'dbops-production-seed-", result["msg"]), result["msg"]
    assert "(last status 'copying', " in result["msg"] and result["msg"].endswith("% done)")
    # The copy goes on: the next run reuses it instead of starting another.
    aws_env.set_durations(copy=0.5)
    later = one(tmp_path, region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id=key, wait=False)
    assert later["snapshot"]["reused"] is True and later["changed"] is False


def test_check_mode_returns_the_plan_and_copies_nothing(seeded, tmp_path):
    key = kms_key(TARGET_REGION)
    planned = one(tmp_path, check=True, region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id=key)
    assert planned["changed"] is True and planned["snapshot"]["status"] == "planned"
    assert planned["plan"] == ["copy %s to us-west-2 as %r encrypted with %s" % (seeded["snapshot_arn"], planned["snapshot"]["identifier"], key)]
    assert rds(TARGET_REGION).describe_db_cluster_snapshots()["DBClusterSnapshots"] == []


# ---- cross-account ----------------------------------------------------------------------------------------
def test_share_then_copy_across_accounts_and_regions(seeded, aws_env, tmp_path):
    """Account A shares its newest automated snapshot (re-encrypted manual copy first); account B copies it to
    us-west-2 in one step, as the current API allows, or in two (in-region into B, then cross-region) where AWS
    refuses the one step, as it did before October 2025."""
    share_key = kms_key(SOURCE_REGION, alias="alias/aurora-share", users=(ACCOUNT_B,))
    shared = one(tmp_path, state="shared", region=SOURCE_REGION, source_cluster_identifier="production", source_snapshot_type="automated",
                 share_with_account_ids=[ACCOUNT_B], share_kms_key_id="alias/aurora-share")
    assert shared["changed"] and shared["shared_added"] == [ACCOUNT_B] and shared["shared_with"] == [ACCOUNT_B], json.dumps(shared, default=str)[:3000]
    assert shared["plan"][0] == "copy to a manual snapshot first (automated snapshots cannot be shared)"
    assert shared["snapshot"]["identifier"].startswith("dbops-share-rds-production-") and shared["snapshot"]["kms_key_id"] == share_key
    again = one(tmp_path, state="shared", region=SOURCE_REGION, source_cluster_identifier="production", source_snapshot_type="automated",
                share_with_account_ids=[ACCOUNT_B], share_kms_key_id="alias/aurora-share")
    assert again["changed"] is False and again["shared_added"] == []

    b = account_b()
    b_east_key, b_west_key = kms_key(SOURCE_REGION, b), kms_key(TARGET_REGION, b)
    env_b = as_env(b)
    listed = one(tmp_path, extra_env=env_b, region=SOURCE_REGION, source_snapshot_type="shared", source_cluster_identifier="production")
    assert listed["source_snapshot"]["arn"] == shared["snapshot"]["arn"] and listed["source_snapshot"]["type"] == "shared"
    single = one(tmp_path, extra_env=env_b, region=TARGET_REGION, source_snapshot_identifier=shared["snapshot"]["arn"], kms_key_id=b_west_key)
    assert single["changed"] and single["copy_path"] == "single-step" and "intermediate_snapshot" not in single, single.get("msg")
    assert single["snapshot"]["arn"].startswith("arn:aws:rds:us-west-2:%s:cluster-snapshot:dbops-" % ACCOUNT_B)
    rds(TARGET_REGION, b).delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=single["snapshot"]["identifier"])

    aws_env.set_settings(cross_account_region_copy="two-step")  # AWS's rule before October 2025
    missing_key = one(tmp_path, extra_env=env_b, region=TARGET_REGION, source_snapshot_identifier=shared["snapshot"]["arn"], kms_key_id=b_west_key)
    expected = ("source snapshot %r is in account 123456789012 and region us-east-1 and AWS refused to copy it in one step: the in-region "
                "copy made first needs intermediate_kms_key_id" % shared["snapshot"]["arn"])
    assert missing_key["msg"].startswith(expected), missing_key["msg"]
    copied = one(tmp_path, extra_env=env_b, region=TARGET_REGION, source_snapshot_identifier=shared["snapshot"]["arn"],
                 kms_key_id=b_west_key, intermediate_kms_key_id=b_east_key)
    assert copied["changed"] and copied["copy_path"] == "two-step", copied.get("msg")
    assert copied["single_step_refused"] == "DBClusterSnapshotNotFoundFault"
    assert copied["intermediate_snapshot"]["region"] == SOURCE_REGION and copied["intermediate_snapshot"]["kms_key_id"] == b_east_key
    assert copied["snapshot"]["identifier"] == single["snapshot"]["identifier"]  # the same name whichever way it was made
    assert copied["snapshot"]["kms_key_id"] == b_west_key and copied["snapshot"]["status"] == "available"
    rerun = one(tmp_path, extra_env=env_b, region=TARGET_REGION, source_snapshot_identifier=shared["snapshot"]["arn"],
                kms_key_id=b_west_key, intermediate_kms_key_id=b_east_key)
    assert rerun["changed"] is False
    forced = one(tmp_path, extra_env=env_b, region=TARGET_REGION, source_snapshot_identifier=shared["snapshot"]["arn"],
                 kms_key_id=b_west_key, cross_account_copy="single_step", target_snapshot_identifier="forced-single")
    assert forced.get("failed") and "DBClusterSnapshotNotFoundFault" in forced["msg"]


def test_default_key_snapshots_are_not_shared_without_a_customer_key(aws_env, tmp_path):
    client = rds()
    client.create_db_cluster(DBClusterIdentifier="legacy", Engine="aurora-postgresql", MasterUsername="postgres",
                             MasterUserPassword="legacy-Passw0rd", StorageEncrypted=True)
    for dummy in range(100):
        if client.describe_db_clusters(DBClusterIdentifier="legacy")["DBClusters"][0]["Status"] == "available":
            break
        time.sleep(0.2)
    take_snapshot("legacy-snap", cluster="legacy")
    refused = one(tmp_path, state="shared", region=SOURCE_REGION, source_snapshot_identifier="legacy-snap", share_with_account_ids=[ACCOUNT_B])
    assert refused["msg"] == (
        "snapshot 'legacy-snap' is encrypted with the default aws/rds key, which cannot be shared: set share_kms_key_id to a customer "
        "managed key whose policy lets accounts %s use it, and a re-encrypted manual copy is shared instead" % ACCOUNT_B)
    bad_account = one(tmp_path, state="shared", region=SOURCE_REGION, source_snapshot_identifier="legacy-snap", share_with_account_ids=["12345"])
    assert bad_account["msg"] == "share_with_account_ids must be 12-digit account ids; got '12345'"
    attributes = client.describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier="legacy-snap")
    assert all(not attribute.get("AttributeValues") for attribute in attributes["DBClusterSnapshotAttributesResult"]["DBClusterSnapshotAttributes"])

    # AWS names the key of such a snapshot by its key ARN, not by the alias: still recognised (through KMS).
    managed_key = boto3.client("kms", region_name=SOURCE_REGION).describe_key(KeyId="alias/aws/rds")["KeyMetadata"]["Arn"]
    client.create_db_cluster(DBClusterIdentifier="legacy-arn", Engine="aurora-postgresql", MasterUsername="postgres",
                             MasterUserPassword="legacy-Passw0rd", StorageEncrypted=True, KmsKeyId=managed_key)
    for dummy in range(100):
        if client.describe_db_clusters(DBClusterIdentifier="legacy-arn")["DBClusters"][0]["Status"] == "available":
            break
        time.sleep(0.2)
    take_snapshot("legacy-arn-snap", cluster="legacy-arn")
    assert client.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="legacy-arn-snap")["DBClusterSnapshots"][0]["KmsKeyId"] == managed_key
    refused = one(tmp_path, state="shared", region=SOURCE_REGION, source_snapshot_identifier="legacy-arn-snap", share_with_account_ids=[ACCOUNT_B])
    assert refused["msg"].startswith("snapshot 'legacy-arn-snap' is encrypted with the default aws/rds key, which cannot be shared"), refused


# ---- retention --------------------------------------------------------------------------------------------
def test_retention_deletes_only_the_collections_own_old_copies(seeded, tmp_path):
    marker = [{"Key": "dbops:aurora_restore:created-by", "Value": "dbops.aurora_restore"},
              {"Key": "dbops:aurora_restore:source-cluster", "Value": "production"}]
    for index in range(4):
        take_snapshot("dbops-copy-%d" % index, tags=marker)
    take_snapshot("hand-made", tags=[{"Key": "team", "Value": "dba"}])
    planned = one(tmp_path, check=True, state="absent", region=SOURCE_REGION, keep_newest=2)
    assert [item["identifier"] for item in planned["deleted"]] == ["dbops-copy-1", "dbops-copy-0"]
    assert len(rds().describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]) == 6
    result = run(tmp_path,
                 copy_task("keep two", state="absent", region=SOURCE_REGION, keep_newest=1, exclude_snapshot_identifiers=["dbops-copy-2"]),
                 copy_task("again", state="absent", region=SOURCE_REGION, keep_newest=1, exclude_snapshot_identifiers=["dbops-copy-2"]),
                 copy_task("not ours", state="absent", region=SOURCE_REGION, target_snapshot_identifier="hand-made"),
                 copy_task("no rule", state="absent", region=SOURCE_REGION))
    assert sorted(item["identifier"] for item in result.result("keep two")["deleted"]) == ["dbops-copy-0", "dbops-copy-1"]
    assert result.result("again")["changed"] is False
    assert result.result("not ours")["msg"] == "snapshot 'hand-made' has no dbops:aurora_restore:created-by tag: this module deletes only copies it made"
    assert result.result("no rule")["msg"] == "state=absent needs target_snapshot_identifier, keep_newest or max_age_days"
    left = sorted(s["DBClusterSnapshotIdentifier"] for s in rds().describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"])
    assert left == ["dbops-copy-2", "dbops-copy-3", "hand-made", "production-seed"]


# ---- faults and bad input ---------------------------------------------------------------------------------
def test_thirty_percent_throttling_still_copies(seeded, aws_env, tmp_path):
    key = kms_key(TARGET_REGION)
    aws_env.set_faults([{"service": "rds", "action": "*", "kind": "throttle", "rate": 0.3}], seed=11)
    try:
        result = one(tmp_path, extra_env={"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"},
                     region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id=key)
    finally:
        aws_env.set_faults([])
    assert result["changed"] and result["snapshot"]["status"] == "available", result.get("msg")


@pytest.mark.parametrize("options,message", [
    (dict(region=TARGET_REGION), "state=present needs source_snapshot_identifier, source_cluster_identifier or source_snapshot_prefix"),
    (dict(region=TARGET_REGION, source_snapshot_identifier="snap", source_cluster_identifier="c"),
     "parameters are mutually exclusive: source_snapshot_identifier|source_cluster_identifier"),
    (dict(region=TARGET_REGION, source_snapshot_identifier="arn:aws:rds:us-east-1:1:snapshot:x"),
     "'arn:aws:rds:us-east-1:1:snapshot:x' is not a cluster snapshot ARN (arn:aws:rds:<region>:<account>:cluster-snapshot:<name>)"),
    (dict(region=TARGET_REGION, source_snapshot_identifier="nope", source_region=SOURCE_REGION),
     "source snapshot 'nope' not found in us-east-1 (account 123456789012)"),
    (dict(region=TARGET_REGION, source_cluster_identifier="production", source_snapshot_type="weekly"),
     "value of source_snapshot_type must be one of: manual, automated, shared, any, got: weekly"),
    (dict(region=TARGET_REGION, source_cluster_identifier="production", wait_timeout=0), "wait_timeout must be at least 1 second, got 0"),
    (dict(region=TARGET_REGION, source_cluster_identifier="production", max_age_hours=-1), "max_age_hours must be more than 0, got -1.0"),
    (dict(state="shared", region=SOURCE_REGION, source_cluster_identifier="production"),
     "state is shared but all of the following are missing: share_with_account_ids"),
    (dict(region=TARGET_REGION, source_snapshot_identifier="arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:x", source_region=SOURCE_REGION),
     "source_region 'us-east-1' contradicts the region 'eu-west-1' of source_snapshot_identifier"),
])
def test_bad_input_gives_one_line_and_changes_nothing(seeded, tmp_path, options, message):
    result = one(tmp_path, **options)
    assert result["failed"] and result["msg"] == message
    assert rds(TARGET_REGION).describe_db_cluster_snapshots()["DBClusterSnapshots"] == []


# ---- what AWS refuses in a copy (issue 11) ----------------------------------------------------------------
def test_source_tags_aws_refuses_are_left_out_and_reported(seeded, aws_env, tmp_path):
    many = [{"Key": "team-%02d" % index, "Value": "v"} for index in range(48)]
    take_snapshot("tagged", tags=many)
    arn = rds().describe_db_cluster_snapshots(DBClusterSnapshotIdentifier="tagged")["DBClusterSnapshots"][0]["DBClusterSnapshotArn"]
    aws_env.stamp_tags(arn, {"aws:cloudformation:stack-name": "production", "aws:backup:source-resource": "x"})
    copied = one(tmp_path, region=TARGET_REGION, source_snapshot_identifier=arn, kms_key_id=kms_key(TARGET_REGION), tags={"env": "dev"},
                 operation_id="op-1")
    assert copied["changed"], copied.get("msg")
    dropped = copied["dropped_tags"]
    assert dropped["reserved_prefix"] == ["aws:backup:source-resource", "aws:cloudformation:stack-name"]
    assert len(dropped["over_limit"]) == 48 + 1 + 4 - 50  # the user's tag and the markers fit; the last source tags do not
    tags = copied["snapshot"]["tags"]
    assert len(tags) == 50 and tags["env"] == "dev" and tags["dbops:aurora_restore:created-by"] == "dbops.aurora_restore"
    assert not [key for key in tags if key.startswith("aws:")]


def test_an_unencrypted_source_is_copied_unencrypted_and_encrypted_at_restore(aws_env, tmp_path):
    aws_env.set_durations(copy=0.5)
    client = rds()
    client.create_db_cluster(DBClusterIdentifier="plain", Engine="aurora-postgresql", EngineVersion="15.4",
                             MasterUsername="postgres", MasterUserPassword="Plain-master-1")
    for dummy in range(100):
        if client.describe_db_clusters(DBClusterIdentifier="plain")["DBClusters"][0]["Status"] == "available":
            break
        time.sleep(0.2)
    take_snapshot("plain-snap", cluster="plain")
    key = kms_key(TARGET_REGION)
    copied = one(tmp_path, region=TARGET_REGION, source_region=SOURCE_REGION, source_snapshot_identifier="plain-snap", kms_key_id=key)
    assert copied["changed"] and copied["encrypt_at_restore"] is True, copied.get("msg")
    assert copied["snapshot"]["encrypted"] is False
    same_region = one(tmp_path, region=SOURCE_REGION, source_snapshot_identifier="plain-snap", kms_key_id=kms_key(SOURCE_REGION))
    assert same_region["copy_needed"] is False and same_region["encrypt_at_restore"] is True  # nothing to copy: the key is for the restore


def test_an_automated_snapshot_is_found_by_its_identifier(seeded, tmp_path):
    [automated] = rds().describe_db_cluster_snapshots(SnapshotType="automated")["DBClusterSnapshots"]
    found = one(tmp_path, region=SOURCE_REGION, source_snapshot_identifier=automated["DBClusterSnapshotIdentifier"], check=True)
    assert found["source_snapshot"]["type"] == "automated", found.get("msg")
    by_arn = one(tmp_path, region=SOURCE_REGION, source_snapshot_identifier=automated["DBClusterSnapshotArn"], check=True)
    assert by_arn["source_snapshot"]["identifier"] == automated["DBClusterSnapshotIdentifier"], by_arn.get("msg")


@pytest.mark.parametrize("region, message", [
    ("cn-north-1", "cannot be copied to cn-north-1 (partition aws-cn): AWS partitions share no resources"),
    ("us-gov-west-1", "cannot be copied to us-gov-west-1 (partition aws-us-gov): AWS partitions share no resources"),
])
def test_copies_across_partitions_are_refused_before_any_call(seeded, aws_env, tmp_path, region, message):
    aws_env.clear_counts()
    refused = one(tmp_path, region=region, source_region=SOURCE_REGION, source_snapshot_identifier=seeded["snapshot_id"], kms_key_id="alias/x")
    assert message in refused["msg"], refused["msg"]
    assert "CopyDBClusterSnapshot" not in aws_env.counts()["services"].get("rds", {})


def test_final_snapshot_retention_keeps_the_newest_of_each_target_and_never_a_copy(seeded, tmp_path):
    client = rds()
    for name, target in (("dev-final-1", "dev"), ("dev-final-2", "dev"), ("dev-final-3", "dev"), ("stg-final-1", "stg")):
        take_snapshot(name, tags=[{"Key": "dbops:aurora_restore:created-by", "Value": "dbops.aurora_restore"},
                                  {"Key": "dbops:aurora_restore:final-snapshot-of", "Value": target}])
    copies = one(tmp_path, region=SOURCE_REGION, state="absent", keep_newest=0)
    assert copies["deleted"] == [], "copy retention must not delete final snapshots"
    finals = one(tmp_path, region=SOURCE_REGION, state="absent", keep_newest=1, final_snapshots_of="dev")
    assert sorted(item["identifier"] for item in finals["deleted"]) == ["dev-final-1", "dev-final-2"]
    left = {item["DBClusterSnapshotIdentifier"] for item in client.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]}
    assert {"dev-final-3", "stg-final-1", "production-seed"} <= left


def test_a_slice_before_the_deadline_returns_its_progress_and_only_the_deadline_fails(seeded, aws_env, tmp_path):
    """wait_deadline: the copy's wait in slices. A slice that ends before it is not a failure (timed_out, with the
    wait's status); the slice that reaches it fails with the timeout message."""
    aws_env.set_durations(copy=60.0)
    key = kms_key(TARGET_REGION)
    args = dict(region=TARGET_REGION, source_snapshot_identifier=seeded["snapshot_arn"], kms_key_id=key, wait_timeout=2)
    first = one(tmp_path, wait_deadline=time.time() + 600, **args)
    assert first.get("failed") is not True and first["timed_out"] is True and "msg" not in first
    assert first["changed"] is True and first["wait"]["status"] == "copying"
    last = one(tmp_path, wait_deadline=time.time() + 1, **args)
    assert last["failed"] is True and last["timed_out"] is True and last["msg"].startswith("timed out after ")
    # The next slice waits on for the same copy (the copy's 60 s were fixed when it started): one copy in all.
    assert aws_env.counts()["services"]["rds"]["CopyDBClusterSnapshot"] == 1
    aws_env.clear_counts()
    again = one(tmp_path, wait_deadline=time.time() + 600, **args)
    assert again.get("failed") is not True and again["timed_out"] is True and again["changed"] is False
    rds_calls = aws_env.counts()["services"]["rds"]
    assert "CopyDBClusterSnapshot" not in rds_calls
    # It describes the source and finds the copy; its wait's first look is that copy, not one more describe.
    assert rds_calls["DescribeDBClusterSnapshots"] == 2 + again["wait"]["polls"] - 1, (rds_calls, again["wait"])


def slices_task(name, **options):
    return "    - name: %s\n      dbops.aurora_restore.wait_in_slices: %s\n      ignore_errors: true\n" % (name, json.dumps(options))


def test_wait_in_slices_reports_each_slice_then_returns_the_copy(seeded, aws_env, tmp_path):
    """One task, several module runs: a progress line after each slice that ends before the copy, the copy's own
    result at the end (without the module's invocation), and the slices' count."""
    aws_env.set_durations(copy=6.0)
    key = kms_key(TARGET_REGION)
    run_ = run(tmp_path, slices_task(
        "sliced", module="dbops.aurora_restore.aurora_snapshot_copy", timeout=120, slice_seconds=1,
        module_args={"region": TARGET_REGION, "source_snapshot_identifier": seeded["snapshot_arn"], "kms_key_id": key, "poll_interval_max": 1},
        progress={"status": "wait.status", "percent_progress": "wait.percent_progress"},
        progress_line="copy {status}, {percent_progress}% after {waited_seconds} s"))
    result = run_.result("sliced")
    assert not result.get("failed"), result.get("msg")
    assert result["snapshot"]["status"] == "available" and result["changed"] is True
    assert result["slices"] >= 3 and len(result["progress_lines"]) == result["slices"] - 1, result
    waited = [int(re.fullmatch(r"copy copying, (\d+|\?)% after (\d+) s", line).group(2)) for line in result["progress_lines"]]
    assert waited == sorted(waited) and result["waited_seconds"] >= waited[-1]
    assert "invocation" not in result and result["credentials_renewed"] == 0
    assert result["progress_lines"][0] in run_.stdout  # printed as it happened, not only returned


def test_wait_in_slices_fails_only_when_the_whole_wait_is_over(seeded, aws_env, tmp_path):
    aws_env.set_durations(copy=60.0)
    key = kms_key(TARGET_REGION)
    result = run(tmp_path, slices_task(
        "sliced", module="dbops.aurora_restore.aurora_snapshot_copy", timeout=10, slice_seconds=1,
        module_args={"region": TARGET_REGION, "source_snapshot_identifier": seeded["snapshot_arn"], "kms_key_id": key})).result("sliced")
    # A 1 s slice within a 10 s wait: several slices even when a loaded machine takes seconds per module run.
    assert result["failed"] and "waiting for snapshot copy 'dbops-production-seed-" in result["msg"], result["msg"]
    assert result["slices"] >= 2 and result["waited_seconds"] >= 9, result
    assert re.search(r"\(the whole wait: \d+ s of timeout=10 s, in \d+ slices\)$", result["msg"]), result["msg"]


@pytest.mark.parametrize("options, message", [
    ({"slice_seconds": 0}, "timeout and slice_seconds must be at least 1 second, got 60 and 0"),
    ({"progress_line": "copy {state}"}, "progress_line 'copy {state}' names state, which progress does not give (it gives: status, waited_seconds)"),
    ({"progress_line": "copy {status"}, "progress_line 'copy {status' is not a valid line template"),
    ({"module": "dbops.aurora_restore.no_such_module"}, "module 'dbops.aurora_restore.no_such_module' is not installed"),
])
def test_wait_in_slices_refuses_bad_input_before_any_run(seeded, tmp_path, options, message):
    task = dict({"module": "dbops.aurora_restore.aurora_snapshot_copy", "timeout": 60, "slice_seconds": 5,
                 "module_args": {"region": TARGET_REGION, "source_snapshot_identifier": seeded["snapshot_arn"]},
                 "progress": {"status": "wait.status"}, "progress_line": "copy {status}"}, **options)
    result = run(tmp_path, slices_task("bad", **task)).result("bad")
    assert result["failed"] and result["msg"].startswith(message), result["msg"]
    assert [s for s in rds(TARGET_REGION).describe_db_cluster_snapshots()["DBClusterSnapshots"]
            if s["DBClusterSnapshotIdentifier"].startswith("dbops-")] == []
