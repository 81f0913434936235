"""aurora_cluster_restore from a cluster instead of a snapshot (source_type clone / point_in_time), through real
ansible-playbook against the emulator: the target gets the source's data as it is now (clone) or was at a time, the
same guards, instances and password reset as a snapshot restore, and every bad input refused with nothing changed."""
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from helpers.ansible_run import REPO_ROOT
from helpers.ansible_run import ansible_env
from helpers.ansible_run import run_playbook

from test_aurora_cluster_restore import NEW_PASSWORD
from test_aurora_cluster_restore import SOURCE_PASSWORD
from test_aurora_cluster_restore import TARGET
from test_aurora_cluster_restore import cluster
from test_aurora_cluster_restore import kill_with_descendants
from test_aurora_cluster_restore import module_args
from test_aurora_cluster_restore import mutations
from test_aurora_cluster_restore import playbook
from test_aurora_cluster_restore import run
from test_aurora_cluster_restore import wait_for
# The seeded emulator with production, its snapshot "refresh" and an older staging target, as a fixture.
from test_aurora_cluster_restore import env  # noqa: F401  pylint: disable=unused-import

MUTATING = ("RestoreDBClusterToPointInTime",)


def from_cluster(source_type, **overrides):
    args = module_args(source_type=source_type, source_cluster_identifier="production")
    del args["snapshot_identifier"]
    args.update(overrides)
    return args


def execute(info, sql):
    with psycopg2.connect(host=info["endpoint"], port=info["port"], user="postgres", password=SOURCE_PASSWORD, dbname="appdb") as conn:
        with conn.cursor() as cur:
            cur.execute(sql)
    conn.close()


def markers(result):
    with psycopg2.connect(host=result["endpoint"], port=result["port"], user="postgres", password=NEW_PASSWORD, dbname="appdb",
                          connect_timeout=5) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM refresh_marker ORDER BY id")
            rows = [row[0] for row in cur.fetchall()]
    conn.close()
    return rows


def test_a_clone_replaces_the_target_with_the_source_as_it_is_now_once_per_operation(env, tmp_path):
    execute(env.info, "INSERT INTO refresh_marker VALUES (43)")  # after the snapshot: only a clone has it
    first = run(tmp_path, from_cluster("clone", operation_id="op-1"))
    assert first.rc == 0, first.output
    result = first.result("restore0")
    assert result["changed"] is True and result["source_type"] == "clone"
    assert result["snapshot_restored"].startswith("clone:arn:aws:rds:us-east-1:") and "@latest#" in result["snapshot_restored"]
    assert result["engine_version_source"] == "source cluster"
    assert markers(result) == [42, 43]
    group = cluster(env, "production").get("CloneGroupId")
    assert group is not None and cluster(env, TARGET).get("CloneGroupId") == group
    assert env.counts()["services"]["rds"].get("RestoreDBClusterToPointInTime") == 1

    again = run(tmp_path, from_cluster("clone", operation_id="op-1"))
    assert again.rc == 0 and again.result("restore0")["changed"] is False and again.result("restore0")["plan"] == []
    execute(env.info, "INSERT INTO refresh_marker VALUES (44)")
    next_night = run(tmp_path, from_cluster("clone", operation_id="op-2", strategy="swap"))
    assert next_night.rc == 0, next_night.output
    assert markers(next_night.result("restore0")) == [42, 43, 44]
    assert cluster(env, "production")["Status"] == "available"


def test_a_point_in_time_restore_has_that_times_rows_and_not_later_ones(env, tmp_path):
    env.backup("production")
    moment = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.05)
    execute(env.info, "INSERT INTO refresh_marker VALUES (43)")
    at_time = run(tmp_path, from_cluster("point_in_time", restore_to_time=moment))
    assert at_time.rc == 0, at_time.output
    result = at_time.result("restore0")
    assert result["snapshot_restored"].startswith("point-in-time:arn:aws:rds:us-east-1:")
    assert markers(result) == [42]
    latest = run(tmp_path, from_cluster("point_in_time", operation_id="op-latest"))
    assert latest.rc == 0, latest.output
    assert markers(latest.result("restore0")) == [42, 43]


@pytest.mark.parametrize("args, message", [
    (from_cluster("clone", source_cluster_identifier=None), "source_cluster_identifier is required with source_type=clone"),
    (dict(from_cluster("clone"), snapshot_identifier="refresh"), "snapshot_identifier is not used with source_type=clone"),
    (from_cluster("clone", engine_version="16.8"), "engine_version: a clone keeps the source cluster's engine version"),
    (from_cluster("clone", restore_to_time="2026-12-01T00:00:00Z"), "restore_to_time applies to source_type=point_in_time only"),
    (from_cluster("point_in_time", restore_to_time="yesterday"), "restore_to_time 'yesterday' is not an ISO-8601 time with a time zone"),
    (from_cluster("point_in_time", restore_to_time="2026-12-01T00:00:00"), "is not an ISO-8601 time with a time zone"),
    (from_cluster("point_in_time", restore_to_time="2099-01-01T00:00:00Z"),
     "restore_to_time 2099-01-01T00:00:00Z is outside the restorable window of 'production'"),
    (from_cluster("clone", source_cluster_identifier="nope"), "source_cluster_identifier 'nope': no such cluster in region us-east-1"),
    (from_cluster("clone", source_cluster_identifier="arn:aws:rds:us-west-2:123456789012:cluster:production"),
     "source_cluster_identifier 'arn:aws:rds:us-west-2:123456789012:cluster:production' is in region 'us-west-2'"),
    (from_cluster("clone", cluster_identifier="production"), "refusing to restore 'production' from itself"),
    (dict(module_args(source_type="snapshot"), snapshot_identifier=None), "snapshot_identifier is required with source_type=snapshot"),
])
def test_bad_inputs_fail_in_one_line_and_change_nothing(env, tmp_path, args, message):
    before = dict(mutations(env), pitr=env.counts()["services"].get("rds", {}).get("RestoreDBClusterToPointInTime", 0))
    args = {key: value for key, value in args.items() if value is not None}
    result = run(tmp_path, args, ignore_errors=True).result("restore0")
    assert result.get("failed") is True and message in result["msg"], result.get("msg")
    assert "\n" not in result["msg"]
    assert dict(mutations(env), pitr=env.counts()["services"].get("rds", {}).get("RestoreDBClusterToPointInTime", 0)) == before
    assert cluster(env, TARGET)["DBClusterMembers"][0]["DBInstanceIdentifier"] == "staging-old-1"


def test_a_source_that_is_not_available_is_refused(env, tmp_path):
    env.force_status("cluster", "production", "modifying")
    result = run(tmp_path, from_cluster("clone"), ignore_errors=True).result("restore0")
    assert result["msg"] == "source_cluster_identifier 'production' is modifying; a clone needs it available"
    assert cluster(env, TARGET)["DBClusterMembers"][0]["DBInstanceIdentifier"] == "staging-old-1"


def test_a_clone_killed_while_it_is_made_resumes_with_the_same_clone(env, tmp_path):
    """SIGKILL ansible-playbook (and its module) while the clone is being created: the rerun of the same operation
    finds the clone by its tags and carries on; it never clones twice."""
    env.set_durations(clone=20)  # still creating when the rerun plans, on a loaded machine too
    path = Path(tmp_path) / "kill.yml"
    path.write_text(playbook([from_cluster("clone", operation_id="op-kill", strategy="swap")]))
    proc = subprocess.Popen([str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", str(path)],
                            env=ansible_env(), cwd=str(REPO_ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: env.counts()["services"].get("rds", {}).get("RestoreDBClusterToPointInTime", 0) >= 1, timeout=90)
    finally:
        kill_with_descendants(proc)
    assert cluster(env, "staging-restoring") is not None
    env.set_durations(clone=0.3)
    rerun = run(tmp_path, from_cluster("clone", operation_id="op-kill", strategy="swap"))
    assert rerun.rc == 0, rerun.output
    result = rerun.result("restore0")
    assert "restore_cluster" not in [step["action"] for step in result["plan"]]
    assert env.counts()["services"]["rds"]["RestoreDBClusterToPointInTime"] == 1
    assert markers(result) == [42]


ACCOUNT_B = "210987654321"
SECRET_B = "staging-b/aurora/master"


def share_play(*tasks):
    """aurora_cluster_share tasks (name, args); JSON is YAML."""
    return json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                        "tasks": [{"name": name, module: args, "ignore_errors": True} for name, module, args in tasks]}])


def test_a_clone_across_accounts_through_an_aws_ram_share(env, tmp_path):
    """Account A shares production through RAM, account B accepts, then B clones it under its own key: each half
    idempotent, and every refusal one line with nothing changed."""
    sts = env.client("sts")
    assumed = sts.assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % ACCOUNT_B, RoleSessionName="tests")["Credentials"]
    as_b = {"access_key": assumed["AccessKeyId"], "secret_key": assumed["SecretAccessKey"], "session_token": assumed["SessionToken"]}
    b = {service: env.client(service, aws_access_key_id=assumed["AccessKeyId"], aws_secret_access_key=assumed["SecretAccessKey"],
                             aws_session_token=assumed["SessionToken"]) for service in ("rds", "kms", "secretsmanager")}
    b["secretsmanager"].create_secret(Name=SECRET_B, SecretString=json.dumps({"username": "postgres", "password": NEW_PASSWORD}))
    key_b = b["kms"].create_key(Description="account B's key")["KeyMetadata"]["Arn"]
    source_arn = cluster(env, "production")["DBClusterArn"]
    clone_args = dict(from_cluster("clone", source_cluster_identifier=source_arn, master_secret_id=SECRET_B, kms_key_id=key_b,
                                   instances={"count": 1, "instance_class": "db.r6g.large"}), **as_b)

    refused = run(tmp_path, clone_args, ignore_errors=True).result("restore0")
    assert refused["msg"] == ("source_cluster_identifier %r is not shared with this account: its owner shares it through AWS RAM "
                              "and this account accepts (dbops.aurora_restore.aurora_cluster_share)" % source_arn)

    share = ("share", "dbops.aurora_restore.aurora_cluster_share",
             {"state": "shared", "cluster_identifier": "production", "principal_account_id": ACCOUNT_B})
    shared = run_playbook(share_play(share, share), tmp_path)
    first, again = [result for _name, result in shared.tasks()]
    assert first["changed"] and not again["changed"] and first["resource_share_arn"] == again["resource_share_arn"]
    accept = ("accept", "dbops.aurora_restore.aurora_cluster_share",
              dict(state="accepted", resource_share_arn=first["resource_share_arn"], **as_b))
    accepted = run_playbook(share_play(accept, accept), tmp_path)
    first_accept, second_accept = [result for _name, result in accepted.tasks()]
    assert first_accept["changed"] and first_accept["invitation_status"] == "ACCEPTED"
    assert not second_accept["changed"] and second_accept["invitation_status"] == "ACCEPTED"

    bad = [
        (dict(clone_args, source_type="point_in_time"), "only source_type=clone can restore from it"),
        ({key: value for key, value in clone_args.items() if key != "kms_key_id"}, "is encrypted: a clone of it in this account needs kms_key_id"),
    ]
    for args, message in bad:
        outcome = run(tmp_path, args, ignore_errors=True).result("restore0")
        assert outcome["failed"] and message in outcome["msg"] and "\n" not in outcome["msg"], outcome["msg"]
    assert b["rds"].describe_db_clusters()["DBClusters"] == []

    cloned = run(tmp_path, clone_args)
    assert cloned.rc == 0, cloned.output[-3000:]
    found = b["rds"].describe_db_clusters(DBClusterIdentifier=TARGET)["DBClusters"][0]
    assert found["CrossAccountClone"] is True and found["KmsKeyId"] == key_b
    assert markers(cloned.result("restore0")) == [42]
    # A second target in account B would be a second clone of production there: refused before anything changes.
    other = run(tmp_path, dict(clone_args, cluster_identifier="qa"), ignore_errors=True).result("restore0")
    assert "this account already holds a clone of %r (%s)" % (source_arn, TARGET) in other["msg"]
    # A refresh of the clone itself replaces it (the one clone the account may hold).
    again = run(tmp_path, dict(clone_args, operation_id="the-next-night"))
    assert again.rc == 0, again.output[-3000:]
    assert [c["DBClusterIdentifier"] for c in b["rds"].describe_db_clusters()["DBClusters"]] == [TARGET]


def test_aurora_cluster_share_refuses_bad_inputs_in_one_line_and_shares_nothing(env, tmp_path):
    module = "dbops.aurora_restore.aurora_cluster_share"
    run_result = run_playbook(share_play(
        ("account", module, {"state": "shared", "cluster_identifier": "production", "principal_account_id": "12345"}),
        ("own", module, {"state": "shared", "cluster_identifier": "production", "principal_account_id": "123456789012"}),
        ("missing", module, {"state": "shared", "cluster_identifier": "no-such-cluster", "principal_account_id": ACCOUNT_B}),
        ("arn", module, {"state": "accepted", "resource_share_arn": "production"}),
        ("required", module, {"state": "shared", "cluster_identifier": "production"}),
    ), tmp_path)
    messages = {name: result["msg"] for name, result in run_result.tasks()}
    assert messages == {
        "account": "principal_account_id '12345' is not an AWS account id (12 digits)",
        "own": "principal_account_id 123456789012 owns cluster 'production' already: a share is for another account",
        "missing": "cluster 'no-such-cluster' does not exist in this account and region: nothing to share",
        "arn": "resource_share_arn 'production' is not a resource share ARN (arn:aws:ram:<region>:<account>:resource-share/<id>)",
        "required": "state is shared but all of the following are missing: principal_account_id",
    }
    assert env.client("ram").get_resource_shares(resourceOwner="SELF")["resourceShares"] == []


def test_a_sixteenth_clone_of_a_source_is_refused_by_the_module_and_by_aws(env, tmp_path):
    """15 clones of production exist: the module refuses another before any change, in one line; AWS (the emulator)
    refuses it too (DBClusterQuotaExceededFault), and point_in_time, a full copy, is not limited so."""
    for number in range(15):
        env.rds.restore_db_cluster_to_point_in_time(DBClusterIdentifier="clone-%02d" % number, SourceDBClusterIdentifier="production",
                                                    RestoreType="copy-on-write", UseLatestRestorableTime=True)
    before = dict(mutations(env), deletes=env.counts()["services"]["rds"].get("DeleteDBCluster", 0))
    result = run(tmp_path, from_cluster("clone"), ignore_errors=True).result("restore0")
    assert result.get("failed") is True
    assert result["msg"] == ("source_cluster_identifier 'production' has 15 clones, AWS's limit of 15: delete one, or use "
                             "source_type=point_in_time (a full copy)")
    assert dict(mutations(env), deletes=env.counts()["services"]["rds"].get("DeleteDBCluster", 0)) == before
    assert cluster(env, TARGET)["DBClusterMembers"][0]["DBInstanceIdentifier"] == "staging-old-1"
    with pytest.raises(env.rds.exceptions.ClientError, match="DBClusterQuotaExceededFault"):
        env.rds.restore_db_cluster_to_point_in_time(DBClusterIdentifier="clone-15", SourceDBClusterIdentifier="production",
                                                    RestoreType="copy-on-write", UseLatestRestorableTime=True)
    full = run(tmp_path, from_cluster("point_in_time"))
    assert full.rc == 0, full.output
