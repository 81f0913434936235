"""aurora_cluster_state through real ansible-playbook: stop and start a cluster, waiting through AWS's statuses."""
import json

import psycopg2
import pytest

from helpers.ansible_run import LOCAL_PLAY_HEADER
from helpers.ansible_run import run_playbook


def play(*tasks):
    return LOCAL_PLAY_HEADER + "".join("    - name: task%d\n      dbops.aurora_restore.aurora_cluster_state: %s\n      ignore_errors: true\n"
                                       % (index, json.dumps(args)) for index, args in enumerate(tasks))


@pytest.fixture
def seeded(aws_env):
    aws_env.set_durations(cluster_stop=1.0, cluster_start=1.0)
    info = aws_env.seed()
    return aws_env, info


def status(emulator, ident="production"):
    return emulator.client("rds").describe_db_clusters(DBClusterIdentifier=ident)["DBClusters"][0]["Status"]


def test_stop_then_start_idempotent_with_check_mode(seeded, tmp_path):
    emulator, info = seeded
    args = {"cluster_identifier": "production", "region": "us-east-1", "poll_interval_max": 1}
    planned = run_playbook(play(dict(args, state="stopped")), tmp_path, check=True).result("task0")
    assert planned["changed"] is True and planned["status"] == "stopped" and status(emulator) == "available"

    run = run_playbook(play(dict(args, state="stopped"), dict(args, state="stopped")), tmp_path)
    first, second = run.result("task0"), run.result("task1")
    assert first["changed"] is True and first["previous_status"] == "available" and first["status"] == "stopped", first
    assert first["automatic_restart_time"]
    assert second["changed"] is False and status(emulator) == "stopped"
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host=info["endpoint"], port=info["port"], user="postgres", password="production-master-pw",
                         dbname="appdb", connect_timeout=3).close()

    run = run_playbook(play(dict(args, state="started"), dict(args, state="started")), tmp_path)
    first, second = run.result("task0"), run.result("task1")
    assert first["changed"] is True and first["status"] == "available" and second["changed"] is False, first
    cluster = emulator.client("rds").describe_db_clusters(DBClusterIdentifier="production")["DBClusters"][0]
    psycopg2.connect(host=cluster["Endpoint"], port=cluster["Port"], user="postgres", password="production-master-pw",
                     dbname="appdb", connect_timeout=5).close()


def test_a_stopping_cluster_is_waited_for_then_started(seeded, tmp_path):
    emulator, _info = seeded
    emulator.set_durations(cluster_stop=15.0)  # still stopping once ansible-playbook has started on a loaded machine
    emulator.client("rds").stop_db_cluster(DBClusterIdentifier="production")
    result = run_playbook(play({"cluster_identifier": "production", "region": "us-east-1", "state": "started",
                                "poll_interval_max": 1}), tmp_path).result("task0")
    assert result["previous_status"] == "stopping" and result["status"] == "available" and result["changed"] is True, result
    waited_for = [wait["what"] for wait in result["waits"]]
    assert waited_for == ["cluster 'production' to stop", "cluster 'production' to be available with its writer"]


def test_bad_inputs_change_nothing(seeded, tmp_path):
    emulator, _info = seeded
    run = run_playbook(play({"cluster_identifier": "no-such", "region": "us-east-1", "state": "stopped"},
                            {"cluster_identifier": "bad_name", "region": "us-east-1", "state": "stopped"},
                            {"cluster_identifier": "production", "region": "us-east-1", "state": "stopped",
                             "expected_account_id": "111122223333"}), tmp_path)
    assert run.result("task0")["msg"] == "cluster_identifier 'no-such': no such cluster in region us-east-1"
    assert "is not a valid RDS identifier" in run.result("task1")["msg"]
    assert run.result("task2")["msg"] == ("refusing to stop cluster 'production': the AWS credentials are for account "
                                          "'123456789012', not expected_account_id '111122223333'")
    assert status(emulator) == "available"
    emulator.force_status("cluster", "production", "inaccessible-encryption-credentials-recoverable")
    failed = run_playbook(play({"cluster_identifier": "production", "region": "us-east-1", "state": "started"}), tmp_path)
    assert "is inaccessible-encryption-credentials-recoverable: its KMS key is not accessible" in failed.result("task0")["msg"]
