"""restore_audit through real ansible-playbook runs against the emulator's DynamoDB over HTTP."""
import datetime
import json
import re
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from helpers.ansible_run import LOCAL_PLAY_HEADER
from helpers.ansible_run import run_playbook
from helpers.audit_tables import AUDIT_TABLE
from helpers.audit_tables import STATE_TABLE
from helpers.audit_tables import create_audit_tables
from helpers.audit_tables import raw_items

PIPELINE = ["preflight", "select_snapshot", "copy_snapshot", "restore_cluster", "db_users"]
PLAY_HEADER = LOCAL_PLAY_HEADER


# A task's `environment` reaches only a module's process, so with one the action runs restore_audit as the module.
AS_MODULE = "      environment: {AWS_MAX_ATTEMPTS: '1'}\n"


def play(*tasks, as_module=False):
    """A playbook of restore_audit tasks; each task is (name, options dict)."""
    lines = [PLAY_HEADER]
    for name, options in tasks:
        lines.append("    - name: %s\n      dbops.aurora_restore.restore_audit: %s\n      ignore_errors: true\n" % (name, json.dumps(options)))
        if as_module:
            lines.append(AS_MODULE)
    return "".join(lines)


def run(tmp_path, *tasks, check=False, as_module=False, args=()):
    return run_playbook(play(*tasks, as_module=as_module), tmp_path, check=check, args=args)


@pytest.fixture
def tables(aws_env):
    return create_audit_tables()


def start(tmp_path, target="dev-app", **options):
    result = run(tmp_path, ("start", dict(action="start", target=target, pipeline_steps=PIPELINE, **options))).result("start")
    return result


def test_full_operation_is_recorded_in_order(tables, tmp_path):
    started = start(tmp_path, environment="dev", details={"requested_by": "awx"})
    assert started["changed"] and started["outcome"] == "started"
    operation_id = started["operation"]["operation_id"]
    tasks = []
    for step in PIPELINE:
        tasks.append(("%s started" % step, dict(action="step", operation_id=operation_id, step=step, step_status="started")))
        done = dict(action="step", operation_id=operation_id, step=step, step_status="succeeded", details={"seconds": 1.5, "ids": ["a", "b"]})
        tasks.append(("%s done" % step, done))
    tasks.append(("finish", dict(action="finish", operation_id=operation_id, status="SUCCEEDED")))
    tasks.append(("get", dict(action="get", operation_id=operation_id, include_events=True, pipeline_steps=PIPELINE)))
    result = run(tmp_path, *tasks)
    assert all(outcome["changed"] for name, outcome in result.tasks() if name != "get")
    operation = result.result("get")["operation"]
    assert operation["status"] == "SUCCEEDED" and operation["resume_from"] is None
    assert operation["completed_steps"] == PIPELINE
    assert operation["environment"] == "dev" and operation["duration_seconds"] >= 0
    assert all(step["duration_seconds"] >= 0 and step["details"]["seconds"] == 1.5 for step in operation["steps"])
    events = result.result("get")["events"]
    assert [event["sequence"] for event in events] == list(range(1, 2 * len(PIPELINE) + 3))
    assert events[0]["event"] == "operation_started" and events[-1]["event"] == "operation_succeeded"
    assert [event["timestamp"] for event in events] == sorted(event["timestamp"] for event in events)
    # TTL attribute: 90 days ahead by default.
    assert abs(events[0]["expires_at"] - (time.time() + 90 * 86400)) < 600
    # The lock is gone once the operation finished.
    assert not [item for item in raw_items(tables, STATE_TABLE) if item["operation_id"]["S"].startswith("lock#")]


def test_recording_the_same_step_status_twice_is_not_a_change(tables, tmp_path):
    operation_id = start(tmp_path)["operation"]["operation_id"]
    step = dict(action="step", operation_id=operation_id, step="preflight", step_status="succeeded", details={"n": 1})
    result = run(tmp_path, ("first", step), ("again", step))
    assert result.result("first")["changed"] is True
    assert result.result("again")["changed"] is False
    assert len(raw_items(tables, AUDIT_TABLE)) == 2  # operation_started + one step event


def test_a_success_with_next_step_records_both_events_in_one_write(tables, aws_env, tmp_path):
    operation_id = start(tmp_path)["operation"]["operation_id"]
    run(tmp_path, ("preflight started", dict(action="step", operation_id=operation_id, step="preflight", step_status="started")))
    aws_env.clear_counts()
    done = dict(action="step", operation_id=operation_id, step="preflight", step_status="succeeded", details={"n": 1},
                next_step="select_snapshot")
    result = run(tmp_path, ("done", done), ("again", done))
    assert result.result("done")["changed"] is True and result.result("again")["changed"] is False
    steps = {step["name"]: step for step in result.result("done")["operation"]["steps"]}
    assert steps["preflight"]["status"] == "succeeded" and steps["preflight"]["details"] == {"n": 1}
    assert steps["select_snapshot"]["status"] == "started"
    assert steps["select_snapshot"]["started_at"] == steps["preflight"]["finished_at"]
    assert result.result("done")["operation"]["current_step"] == "select_snapshot"
    # The first call: one read of the operation, then one transaction (the operation, two audit items, the lease's
    # renewal); the repeat: a read.
    assert aws_env.counts()["services"]["dynamodb"] == {"GetItem": 2, "TransactWriteItems": 1}
    events = [(item["event"]["S"], item["step"]["S"], int(item["sequence"]["N"])) for item in raw_items(tables, AUDIT_TABLE)
              if "step" in item and "S" in item["step"]]
    assert sorted(events, key=lambda event: event[2])[-2:] == [("step_succeeded", "preflight", 3), ("step_started", "select_snapshot", 4)]
    # The lease was renewed in place.
    lock = [item for item in raw_items(tables, STATE_TABLE) if item["operation_id"]["S"].startswith("lock#")][0]
    assert lock["holder_operation_id"]["S"] == operation_id and "renewed_at" in lock


def test_a_finish_with_last_step_records_its_success_and_the_end_in_one_write(tables, aws_env, tmp_path):
    operation_id = start(tmp_path, first_step="preflight")["operation"]["operation_id"]
    run(tmp_path, ("preflight done", dict(action="step", operation_id=operation_id, step="preflight", step_status="succeeded",
                                          next_step="db_users")))
    aws_env.clear_counts()
    finish = dict(action="finish", operation_id=operation_id, status="SUCCEEDED", last_step="db_users",
                  last_step_details={"users": 2, "password": "hunter2"}, pipeline_steps=PIPELINE)
    result = run(tmp_path, ("finish", finish), ("again", finish))
    finished = result.result("finish")
    assert finished["changed"] is True and finished["operation"]["status"] == "SUCCEEDED"
    steps = {step["name"]: step for step in finished["operation"]["steps"]}
    assert steps["db_users"]["status"] == "succeeded" and steps["db_users"]["details"] == {"users": 2, "password": "********"}
    assert steps["db_users"]["finished_at"] == finished["operation"]["finished_at"]
    assert finished["redacted_keys"] == ["password"] and "hunter2" not in result.output
    # One read, one transaction (the operation, the step's and the operation's audit items, the lock's release);
    # the repeat finds the operation finished: a read, and the lock already gone.
    assert aws_env.counts()["services"]["dynamodb"] == {"GetItem": 3, "TransactWriteItems": 1}
    events = sorted((int(item["sequence"]["N"]), item["event"]["S"]) for item in raw_items(tables, AUDIT_TABLE))
    assert events[-2:] == [(5, "step_succeeded"), (6, "operation_succeeded")]
    assert not [item for item in raw_items(tables, STATE_TABLE) if item["operation_id"]["S"].startswith("lock#")]


def _iso(epoch_seconds):
    return datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _step_events(tables):
    """(sequence, event, step, event_time) of the audit trail's step events, in order."""
    return sorted((int(item["sequence"]["N"]), item["event"]["S"], item["step"]["S"], item["event_time"]["S"])
                  for item in raw_items(tables, AUDIT_TABLE) if "S" in item.get("step", {}))


def test_a_step_carries_the_previous_steps_success_at_the_moment_it_ended(tables, aws_env, tmp_path):
    operation_id = start(tmp_path, first_step="preflight")["operation"]["operation_id"]
    time.sleep(0.05)
    ended_at = time.time()
    time.sleep(0.05)
    aws_env.clear_counts()
    done = dict(action="step", operation_id=operation_id, previous_step="preflight",
                previous_step_details={"checked": 2, "api_token": "tok-5ecret"}, previous_step_ended_at=ended_at,
                step="select_snapshot", step_status="succeeded", details={"snapshot": "snap-1"}, next_step="copy_snapshot")
    result = run(tmp_path, ("done", done), ("again", done))
    assert result.result("done")["changed"] is True and result.result("again")["changed"] is False
    # One read and one transaction for four events; the repeat: a read.
    assert aws_env.counts()["services"]["dynamodb"] == {"GetItem": 2, "TransactWriteItems": 1}
    assert result.result("done")["redacted_keys"] == ["api_token"] and "tok-5ecret" not in result.output
    steps = {step["name"]: step for step in result.result("done")["operation"]["steps"]}
    assert steps["preflight"]["status"] == "succeeded" and steps["preflight"]["details"] == {"checked": 2, "api_token": "********"}
    assert steps["preflight"]["finished_at"] == steps["select_snapshot"]["started_at"] == _iso(ended_at)
    assert steps["select_snapshot"]["status"] == "succeeded" and steps["select_snapshot"]["finished_at"] > _iso(ended_at)
    assert steps["copy_snapshot"]["status"] == "started" and result.result("done")["operation"]["current_step"] == "copy_snapshot"
    events = _step_events(tables)
    assert [event[:3] for event in events] == [(2, "step_started", "preflight"), (3, "step_succeeded", "preflight"),
                                               (4, "step_started", "select_snapshot"), (5, "step_succeeded", "select_snapshot"),
                                               (6, "step_started", "copy_snapshot")]
    assert events[1][3] == events[2][3] == _iso(ended_at) and [event[3] for event in events] == sorted(event[3] for event in events)


def test_a_carried_success_is_kept_between_the_last_change_and_now(tables, tmp_path):
    started = start(tmp_path, first_step="preflight")
    operation_id = started["operation"]["operation_id"]
    # A moment before the operation's last change (another clock, say) is recorded at that change; one ahead, at now.
    result = run(tmp_path, ("early", dict(action="step", operation_id=operation_id, previous_step="preflight", previous_step_ended_at=1.0,
                                          step="select_snapshot", step_status="succeeded")),
                 ("late", dict(action="step", operation_id=operation_id, previous_step="copy_snapshot", previous_step_ended_at=time.time() + 3600,
                               step="restore_cluster", step_status="started")))
    steps = {step["name"]: step for step in result.result("late")["operation"]["steps"]}
    assert steps["preflight"]["finished_at"] == steps["preflight"]["started_at"]
    assert steps["copy_snapshot"]["finished_at"] == steps["restore_cluster"]["started_at"] <= _iso(time.time())
    assert [event[3] for event in _step_events(tables)] == sorted(event[3] for event in _step_events(tables))


def test_a_finish_carries_the_previous_steps_success_before_the_last_steps(tables, aws_env, tmp_path):
    operation_id = start(tmp_path, first_step="db_users")["operation"]["operation_id"]
    ended_at = time.time()
    aws_env.clear_counts()
    result = run(tmp_path, ("finish", dict(action="finish", operation_id=operation_id, status="SUCCEEDED",
                                           previous_step="db_users", previous_step_details={"users": 2}, previous_step_ended_at=ended_at,
                                           last_step="archive", last_step_details={"deleted": []}, pipeline_steps=["db_users", "archive"])))
    assert aws_env.counts()["services"]["dynamodb"] == {"GetItem": 1, "TransactWriteItems": 1}
    finished = result.result("finish")["operation"]
    assert finished["status"] == "SUCCEEDED" and finished["completed_steps"] == ["db_users", "archive"]
    assert [event[1:3] for event in _step_events(tables)] == [
        ("step_started", "db_users"), ("step_succeeded", "db_users"), ("step_started", "archive"), ("step_succeeded", "archive")]


@pytest.mark.parametrize("as_module", [False, True], ids=["on the controller", "as the module"])
def test_previous_step_needs_the_step_after_it_and_its_moment(tables, tmp_path, as_module):
    operation_id = start(tmp_path, first_step="preflight")["operation"]["operation_id"]
    step = dict(action="step", operation_id=operation_id, step="select_snapshot", step_status="succeeded")
    result = run(tmp_path,
                 ("no moment", dict(step, previous_step="preflight")),
                 ("same step", dict(step, previous_step="select_snapshot", previous_step_ended_at=1.0)),
                 ("finish alone", dict(action="finish", operation_id=operation_id, status="SUCCEEDED", previous_step="preflight",
                                       previous_step_ended_at=1.0)),
                 ("details alone", dict(step, previous_step_details={"n": 1})),
                 ("negative", dict(step, previous_step="preflight", previous_step_ended_at=-5)),
                 ("bad name", dict(step, previous_step="Pre flight", previous_step_ended_at=1.0)),
                 as_module=as_module)
    assert result.result("no moment")["msg"] == (
        "previous_step 'preflight' needs previous_step_ended_at, the moment it succeeded (epoch seconds)")
    assert result.result("same step")["msg"] == (
        "previous_step 'select_snapshot' is the step this call records: the previous step is the one before it")
    assert result.result("finish alone")["msg"] == (
        "previous_step 'preflight': only a step's event (action=step) or a finish with last_step records the success of the step before it")
    assert result.result("details alone")["msg"] == "previous_step_details: it belongs to previous_step's success, which is not set"
    assert result.result("negative")["msg"] == "previous_step_ended_at must be a moment in epoch seconds, got -5.0"
    assert "Pre flight" in result.result("bad name")["msg"]
    assert [event[1:3] for event in _step_events(tables)] == [("step_started", "preflight")]  # nothing was recorded


def test_a_success_keeps_its_wait_seconds_as_the_targets_history_for_the_next_start(tables, aws_env, tmp_path):
    first = start(tmp_path, first_step="copy_snapshot")
    assert first["wait_history"] is None
    operation_id = first["operation"]["operation_id"]
    # A wait named after the master password is a measure (a float), not a secret: it is kept.
    ends = {"copy_snapshot": {"snapshot copy": 201.5},
            "restore_cluster": {"restore: cluster _ to become available": 98.5, "master_password: the master password reset of cluster _": 180.5}}
    run(tmp_path, ("copied", dict(action="step", operation_id=operation_id, step="copy_snapshot", step_status="succeeded",
                                  details={"wait_seconds": ends["copy_snapshot"]}, next_step="restore_cluster")))
    aws_env.clear_counts()
    run(tmp_path, ("finish", dict(action="finish", operation_id=operation_id, status="SUCCEEDED", last_step="restore_cluster",
                                  last_step_details={"wait_seconds": ends["restore_cluster"], "endpoint": "db.example"})))
    # The history rides in the finish's one transaction.
    assert aws_env.counts()["services"]["dynamodb"] == {"GetItem": 1, "TransactWriteItems": 1}
    history = [item for item in raw_items(tables, STATE_TABLE) if item["operation_id"]["S"] == "history#dev-app"]
    assert len(history) == 1 and history[0]["from_operation_id"]["S"] == operation_id and "expires_at" in history[0]

    second = start(tmp_path)
    assert second["wait_history"]["operation_id"] == operation_id and second["wait_history"]["steps"] == ends
    # A failed operation, and a success whose steps waited for nothing, leave the last success's history in place.
    failed_id = second["operation"]["operation_id"]
    run(tmp_path, ("copied", dict(action="step", operation_id=failed_id, step="copy_snapshot", step_status="succeeded",
                                  details={"wait_seconds": {"snapshot copy": 5.0}})),
        ("fail", dict(action="finish", operation_id=failed_id, status="FAILED", error="boom")))
    quiet_id = start(tmp_path)["operation"]["operation_id"]
    run(tmp_path, ("finish", dict(action="finish", operation_id=quiet_id, status="SUCCEEDED", last_step="copy_snapshot",
                                  last_step_details={"wait_seconds": {}})))
    assert start(tmp_path, target="dev-app")["wait_history"]["operation_id"] == operation_id
    # Another target has its own (none yet).
    assert start(tmp_path, target="staging-app")["wait_history"] is None


@pytest.mark.parametrize("as_module", [False, True], ids=["on the controller", "as the module"])
def test_last_step_only_comes_with_a_success(tables, tmp_path, as_module):
    operation_id = start(tmp_path)["operation"]["operation_id"]
    result = run(tmp_path,
                 ("failed", dict(action="finish", operation_id=operation_id, status="FAILED", last_step="archive")),
                 ("a step", dict(action="step", operation_id=operation_id, step="preflight", step_status="succeeded", last_step="archive")),
                 ("details alone", dict(action="finish", operation_id=operation_id, status="SUCCEEDED", last_step_details={"n": 1})),
                 as_module=as_module)
    refusal = "last_step 'archive': only a finish as SUCCEEDED (action=finish, status=SUCCEEDED) records a last step's success"
    assert result.result("failed")["msg"] == refusal and result.result("a step")["msg"] == refusal
    assert result.result("details alone")["msg"] == "last_step_details: they are the details of last_step's success, which is not set"
    assert len(raw_items(tables, AUDIT_TABLE)) == 1  # operation_started only: nothing was recorded


def test_a_new_operation_records_its_first_step_in_the_same_write_and_a_resume_does_not(tables, aws_env, tmp_path):
    aws_env.clear_counts()
    started = start(tmp_path, first_step="preflight")
    operation_id = started["operation"]["operation_id"]
    assert started["step_started"] == "preflight"
    assert [(step["name"], step["status"]) for step in started["operation"]["steps"]] == [("preflight", "started")]
    # One read of the lock and one of the target's wait history, then the lock, the operation and both events in one
    # transaction (and the tables' check).
    assert aws_env.counts()["services"]["dynamodb"] == {"DescribeTable": 2, "GetItem": 2, "TransactWriteItems": 1}
    events = sorted((int(item["sequence"]["N"]), item["event"]["S"]) for item in raw_items(tables, AUDIT_TABLE))
    assert events == [(1, "operation_started"), (2, "step_started")]
    result = run(tmp_path,
                 ("fail", dict(action="finish", operation_id=operation_id, status="FAILED", error="boom")),
                 ("resume", dict(action="start", target="dev-app", operation_id=operation_id, first_step="preflight")),
                 ("misplaced", dict(action="step", operation_id=operation_id, step="preflight", step_status="started",
                                    first_step="preflight")))
    assert result.result("resume")["outcome"] == "resumed" and result.result("resume")["step_started"] is None
    assert result.result("misplaced")["msg"] == (
        "first_step 'preflight': only action=start records a first step (action=step records the others)")


@pytest.mark.parametrize("as_module", [False, True], ids=["on the controller", "as the module"])
def test_next_step_only_follows_a_success(tables, tmp_path, as_module):
    operation_id = start(tmp_path)["operation"]["operation_id"]
    result = run(tmp_path,
                 ("started", dict(action="step", operation_id=operation_id, step="preflight", step_status="started", next_step="db_users")),
                 ("itself", dict(action="step", operation_id=operation_id, step="preflight", step_status="succeeded", next_step="preflight")),
                 ("bad name", dict(action="step", operation_id=operation_id, step="preflight", step_status="succeeded", next_step="Db Users")),
                 as_module=as_module)
    assert result.result("started")["msg"] == ("next_step 'db_users': only a step's success (action=step, step_status=succeeded "
                                               "or skipped) starts the next one")
    assert result.result("itself")["msg"] == "next_step 'preflight' is the step being finished: the next step is another one"
    assert result.result("bad name")["msg"].startswith("invalid step name 'Db Users'")
    assert len(raw_items(tables, AUDIT_TABLE)) == 1  # operation_started only: nothing was recorded


def test_an_unknown_operation_id_is_refused_unless_create(tables, tmp_path):
    refused = start(tmp_path, operation_id="nightly-2026-12-02")
    assert refused["failed"] and refused["msg"].startswith("operation 'nightly-2026-12-02' does not exist in table")
    assert raw_items(tables, STATE_TABLE) == []
    created = start(tmp_path, operation_id="nightly-2026-12-02", create=True)
    assert created["outcome"] == "started" and created["operation"]["operation_id"] == "nightly-2026-12-02"
    run(tmp_path, ("done", dict(action="finish", operation_id="nightly-2026-12-02", status="SUCCEEDED")))
    again = start(tmp_path, operation_id="nightly-2026-12-02", create=True)
    assert again["outcome"] == "already_succeeded" and again["changed"] is False


def test_failed_operation_resumes_after_its_last_completed_step(tables, tmp_path):
    operation_id = start(tmp_path)["operation"]["operation_id"]
    run(tmp_path,
        ("a", dict(action="step", operation_id=operation_id, step="preflight", step_status="succeeded")),
        ("b", dict(action="step", operation_id=operation_id, step="select_snapshot", step_status="succeeded")),
        ("c", dict(action="step", operation_id=operation_id, step="copy_snapshot", step_status="failed",
                   error="copy timed out; dsn postgresql://master:hunter2@db/x")),
        ("d", dict(action="finish", operation_id=operation_id, status="FAILED", error="copy_snapshot failed")))
    resumed = start(tmp_path, operation_id=operation_id)
    assert resumed["changed"] and resumed["outcome"] == "resumed"
    assert resumed["operation"]["attempt"] == 2 and resumed["operation"]["status"] == "RUNNING"
    assert resumed["operation"]["completed_steps"] == ["preflight", "select_snapshot"]
    assert resumed["operation"]["resume_from"] == "copy_snapshot"
    failed_step = resumed["operation"]["steps"][2]
    assert failed_step["status"] == "failed" and "hunter2" not in failed_step["error"]
    assert resumed["lock"]["holder_operation_id"] == operation_id

    for step in PIPELINE[2:]:
        run(tmp_path, ("s", dict(action="step", operation_id=operation_id, step=step, step_status="succeeded")))
    done = run(tmp_path, ("finish", dict(action="finish", operation_id=operation_id, status="SUCCEEDED"))).result("finish")
    assert done["changed"] and done["released"]
    again = start(tmp_path, operation_id=operation_id)
    assert again["changed"] is False and again["outcome"] == "already_succeeded"
    assert "lock" not in again
    assert "hunter2" not in json.dumps(raw_items(tables, AUDIT_TABLE)) + json.dumps(raw_items(tables, STATE_TABLE))


def test_a_second_run_on_a_locked_target_is_refused_naming_the_holder(tables, tmp_path):
    holder = start(tmp_path)["operation"]["operation_id"]
    before = raw_items(tables, STATE_TABLE), raw_items(tables, AUDIT_TABLE)
    refused = start(tmp_path)
    assert refused["failed"]
    assert refused["msg"].startswith("target 'dev-app' is locked by operation '%s' since 20" % holder)
    assert "\n" not in refused["msg"]
    assert refused["lock_holder"]["holder_operation_id"] == holder
    assert (raw_items(tables, STATE_TABLE), raw_items(tables, AUDIT_TABLE)) == before
    # Another target is not affected.
    assert start(tmp_path, target="staging-app")["outcome"] == "started"


def _race_for_lock(barrier, results, env):
    """One contender: a real ansible-playbook process starting an operation on the same target."""
    import os

    os.environ.update(env)
    barrier.wait()
    from helpers.ansible_run import ansible_env

    playbook_command = str(Path(sys.executable).with_name("ansible-playbook"))
    proc = subprocess.run([playbook_command, "-i", "localhost,", env["RACE_PLAYBOOK"]], capture_output=True, text=True, env=ansible_env(), check=False)
    results.put(json.loads(proc.stdout[proc.stdout.find("{"):]))


def test_two_concurrent_processes_cannot_both_take_the_lock(tables, tmp_path):
    """Two ansible-playbook processes released at the same moment: exactly one wins."""
    playbook = tmp_path / "race.yml"
    playbook.write_text(play(("start", dict(action="start", target="race-target"))))
    import os

    env = {key: value for key, value in os.environ.items() if key.startswith("AWS_")}
    env["RACE_PLAYBOOK"] = str(playbook)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    contenders = [context.Process(target=_race_for_lock, args=(barrier, results, env)) for dummy in range(2)]
    for contender in contenders:
        contender.start()
    reports = [results.get(timeout=120) for dummy in contenders]
    for contender in contenders:
        contender.join(timeout=30)
    outcomes = [report["plays"][0]["tasks"][0]["hosts"]["localhost"] for report in reports]
    winners = [outcome for outcome in outcomes if not outcome.get("failed")]
    losers = [outcome for outcome in outcomes if outcome.get("failed")]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert winners[0]["operation"]["operation_id"] in losers[0]["msg"]
    operations = [item for item in raw_items(tables, STATE_TABLE) if item["item_type"]["S"] == "operation"]
    # The loser may have read "free" before the winner wrote: its conditional write failed and it left nothing.
    assert len(operations) == 1


def test_store_level_race_many_rounds(tables):
    """The conditional write holds under many rounds of two processes racing (no Ansible startup to spread them)."""
    import os

    env = {key: value for key, value in os.environ.items() if key.startswith("AWS_")}
    context = multiprocessing.get_context("spawn")
    rounds = 15
    barrier, results = context.Barrier(2), context.Queue()
    contenders = [context.Process(target=_store_contender, args=(barrier, results, env, rounds, index)) for index in range(2)]
    for contender in contenders:
        contender.start()
    wins = [results.get(timeout=120) for dummy in contenders]
    for contender in contenders:
        contender.join(timeout=30)
    per_round = {}
    for contender_wins in wins:
        for round_number in contender_wins:
            per_round[round_number] = per_round.get(round_number, 0) + 1
    assert per_round == {round_number: 1 for round_number in range(rounds)}


def _store_contender(barrier, results, env, rounds, index):
    import os

    os.environ.update(env)
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStore
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import LockHeldError

    store = AuditStore(_RetryingClient(boto3.client("dynamodb", region_name="us-east-1")), STATE_TABLE, AUDIT_TABLE)
    won = []
    for round_number in range(rounds):
        barrier.wait()
        try:
            store.acquire_lock("round-%d" % round_number, "contender-%d" % index)
            won.append(round_number)
        except LockHeldError:
            pass
    results.put(won)


def _in_a_fresh_process(body):
    """Run `body` (a function of this module) in a spawned interpreter, as the race tests do: a pytest worker may have
    Ansible's collection loader installed by an earlier test, which this process's imports of the store must not meet.
    Returns what it returns; its failure fails the test with its traceback."""
    import os

    env = {key: value for key, value in os.environ.items() if key.startswith("AWS_")}
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_run_and_report, args=(body, env, results))
    process.start()
    outcome, value = results.get(timeout=120)
    process.join(timeout=30)
    assert outcome == "ok", value
    return value


def _run_and_report(body, env, results):
    import os
    import traceback

    os.environ.update(env)
    try:
        results.put(("ok", body()))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test with it
        results.put(("failed", traceback.format_exc()))


def _interleaved_writers():
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStore

    plain = _RetryingClient(boto3.client("dynamodb", region_name="us-east-1"))
    first = AuditStore(plain, STATE_TABLE, AUDIT_TABLE)
    operation_id = first.start("dev-app")[0]["operation_id"]

    class SlowWriter(_RetryingClient):
        """A real second writer that gets in between this one's read and its first transaction."""
        cut_in = False

        def __getattr__(self, name):
            method = super().__getattr__(name)
            if name != "transact_write_items" or SlowWriter.cut_in:
                return method
            SlowWriter.cut_in = True

            def after_the_other(**kwargs):
                first.record_step(operation_id, "preflight", "started")
                return method(**kwargs)
            return after_the_other

    second = AuditStore(SlowWriter(boto3.client("dynamodb", region_name="us-east-1")), STATE_TABLE, AUDIT_TABLE)
    record, changed = second.record_step(operation_id, "preflight", "succeeded", details={"n": 1})
    return dict(changed=changed, status=record["steps"]["preflight"]["status"], sequence=record["event_sequence"],
                stored=first.get_operation(operation_id)["steps"]["preflight"]["status"])


def test_a_writer_that_read_before_another_wrote_reads_again_and_numbers_events_after_it(tables):
    """Two writers of one operation: the second reads, the first records a step before the second writes. The second's
    transaction is refused by the event counter, it reads again and records after the first, with no number taken twice."""
    outcome = _in_a_fresh_process(_interleaved_writers)
    assert outcome == dict(changed=True, status="succeeded", sequence=3, stored="succeeded")
    events = sorted((int(item["sequence"]["N"]), item["event"]["S"]) for item in raw_items(tables, AUDIT_TABLE))
    assert events == [(1, "operation_started"), (2, "step_started"), (3, "step_succeeded")]


def _step_into_a_missing_audit_table():
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStore
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStoreError

    client = _RetryingClient(boto3.client("dynamodb", region_name="us-east-1"))
    operation_id = AuditStore(client, STATE_TABLE, AUDIT_TABLE).start("dev-app")[0]["operation_id"]
    before = raw_items(client._client, STATE_TABLE)
    try:
        AuditStore(client, STATE_TABLE, "no-such-audit").record_step(operation_id, "preflight", "started")
    except AuditStoreError as error:
        return dict(message=str(error), unchanged=raw_items(client._client, STATE_TABLE) == before)
    return dict(message="no error", unchanged=None)


def test_a_missing_audit_table_is_named_when_an_event_is_written(tables):
    outcome = _in_a_fresh_process(_step_into_a_missing_audit_table)
    assert outcome["message"].startswith("DynamoDB table 'no-such-audit' does not exist in this region"), outcome
    assert outcome["unchanged"] is True


class _RetryingClient:
    """The store calls client methods with aws_retry=True (AWSRetry's wrapper); plain boto3 does not take it."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(aws_retry=False, **kwargs):
            return method(**kwargs)

        return call


def test_an_expired_lease_is_taken_over_and_recorded(tables, tmp_path):
    crashed = start(tmp_path, lock_lease_seconds=1)["operation"]["operation_id"]
    time.sleep(2.2)
    taker = start(tmp_path)
    assert taker["outcome"] == "started" and taker["lock_taken_over_from"] == crashed
    new_id = taker["operation"]["operation_id"]
    result = run(tmp_path,
                 ("events", dict(action="get", operation_id=new_id, include_events=True)),
                 ("crashed run wakes up", dict(action="step", operation_id=crashed, step="preflight", step_status="succeeded")))
    assert result.result("events")["events"][0]["details"]["lock_taken_over_from"] == crashed
    woken = result.result("crashed run wakes up")
    assert woken["failed"] and "is locked by operation '%s'" % new_id in woken["msg"]
    # Refused as a whole: the crashed run's step is neither on its operation nor in the audit trail.
    crashed_items = [item for item in raw_items(tables, AUDIT_TABLE) if item["operation_id"]["S"] == crashed]
    assert [item["event"]["S"] for item in crashed_items] == ["operation_started"]


def test_release_lock_only_by_its_holder_unless_forced(tables, tmp_path):
    holder = start(tmp_path)["operation"]["operation_id"]
    result = run(tmp_path,
                 ("not the holder", dict(action="release_lock", target="dev-app", operation_id="someone-else")),
                 ("no holder named", dict(action="release_lock", target="dev-app")),
                 ("forced", dict(action="release_lock", target="dev-app", force=True)),
                 ("again", dict(action="release_lock", target="dev-app", force=True)))
    assert result.result("not the holder")["changed"] is False
    assert result.result("no holder named")["msg"] == "action=release_lock needs operation_id (the holder), or force=true to clear anyone's lock"
    assert result.result("forced")["changed"] is True and result.result("again")["changed"] is False
    assert start(tmp_path)["outcome"] == "started", "the target is free again after %s's lock was cleared" % holder


@pytest.mark.parametrize("as_module", [False, True], ids=["on_the_controller", "as_the_module"])
def test_secrets_in_details_never_reach_the_tables_or_output(tables, tmp_path, as_module):
    operation_id = start(tmp_path)["operation"]["operation_id"]
    secret = "Sup3r-S3cret-Value"
    result = run(tmp_path, as_module=as_module, *(
                 ("redacted", dict(action="step", operation_id=operation_id, step="db_users", step_status="succeeded",
                                   details={"master_password": secret, "users": [{"name": "app", "password": secret}],
                                            "master_secret_id": "aurora-restore/dev/master",
                                            "timings": {"master_password": 4.25}})),
                 ("refused", dict(action="step", operation_id=operation_id, step="reset_password", step_status="succeeded",
                                  details={"api_token": secret}, on_secret="fail"))))
    redacted = result.result("redacted")
    assert sorted(redacted["redacted_keys"]) == ["master_password", "users[0].password"]
    assert result.result("refused")["msg"] == (
        "details must not hold secrets; refusing keys: api_token (pass a reference such as a secret id instead)")
    stored = json.dumps(raw_items(tables, AUDIT_TABLE)) + json.dumps(raw_items(tables, STATE_TABLE))
    assert secret not in stored and secret not in result.output
    assert "aurora-restore/dev/master" in stored, "references to secrets are kept"
    assert '"master_password": {"N": "4.25"}' in stored, "a duration under a password-like key is a number, kept"
    assert "reset_password" not in stored, "a refused call writes nothing"


def test_list_recent_operations_of_a_target(tables, tmp_path):
    ids = []
    for dummy in range(3):
        operation_id = start(tmp_path)["operation"]["operation_id"]
        ids.append(operation_id)
        run(tmp_path, ("f", dict(action="finish", operation_id=operation_id, status="SUCCEEDED")))
    start(tmp_path, target="other")
    listed = run(tmp_path,
                 ("two", dict(action="list", target="dev-app", limit=2)),
                 ("running", dict(action="list", list_status="RUNNING"))).tasks()
    assert [operation["operation_id"] for operation in listed[0][1]["operations"]] == ids[::-1][:2]
    assert [operation["target"] for operation in listed[1][1]["operations"]] == ["other"]
    assert listed[0][1]["changed"] is False


def test_check_mode_writes_nothing(tables, tmp_path):
    result = run(tmp_path, ("start", dict(action="start", target="dev-app")), check=True)
    planned = result.result("start")
    assert planned["changed"] is True and planned["outcome"] == "started"
    assert raw_items(tables, STATE_TABLE) == [] and raw_items(tables, AUDIT_TABLE) == []
    operation_id = start(tmp_path)["operation"]["operation_id"]
    before = raw_items(tables, STATE_TABLE), raw_items(tables, AUDIT_TABLE)
    checked = run(tmp_path,
                  ("step", dict(action="step", operation_id=operation_id, step="preflight", step_status="started")),
                  ("finish", dict(action="finish", operation_id=operation_id, status="FAILED")), check=True)
    assert checked.result("step")["changed"] and checked.result("finish")["changed"]
    assert (raw_items(tables, STATE_TABLE), raw_items(tables, AUDIT_TABLE)) == before


def test_missing_table_is_named(aws_env, tmp_path):
    result = run(tmp_path, ("start", dict(action="start", target="dev-app", state_table="no-such-table")))
    assert result.result("start")["msg"] == (
        "DynamoDB table 'no-such-table' does not exist in this region: create it with playbooks/bootstrap.yml or fix the table name")


def test_wrong_key_schema_is_explained(aws_env, tmp_path):
    create_audit_tables(audit_table="flat-audit", state_table="aurora-restore-state")
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="wrong-audit", KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    result = run(tmp_path, ("start", dict(action="start", target="dev-app", audit_table="wrong-audit")))
    assert result.result("start")["msg"] == (
        "DynamoDB table 'wrong-audit' has key schema HASH=event_id; expected HASH=operation_id, RANGE=timestamp, all of type S")
    assert raw_items(client, STATE_TABLE) == []


@pytest.mark.parametrize("options,message", [
    (dict(action="start", target="dev app"), "invalid target 'dev app': use 1-200 letters, digits and . _ : / -, starting with a letter or digit"),
    (dict(action="start"), "action is start but all of the following are missing: target"),
    (dict(action="launch", target="x"), "value of action must be one of: start, step, finish, get, list, release_lock, got: launch"),
    (dict(action="step", operation_id="op", step="Copy Snapshot", step_status="started"),
     "invalid step name 'Copy Snapshot': use lower-case letters, digits and _, starting with a letter"),
    (dict(action="step", operation_id="op", step="copy", step_status="done"),
     "value of step_status must be one of: started, progress, succeeded, failed, skipped, got: done"),
    (dict(action="step", operation_id="no-such-op", step="copy", step_status="started"),
     "operation 'no-such-op' does not exist in table 'aurora-restore-state'"),
    (dict(action="finish", operation_id="op;drop", status="SUCCEEDED"),
     "invalid operation_id 'op;drop': use 1-128 letters, digits and . _ : -, starting with a letter or digit"),
    (dict(action="start", target="dev", lock_lease_seconds=0), "lock_lease_seconds must be at least 1, got 0"),
    (dict(action="start", target="dev", details="not-a-dict"), "argument 'details' is of type str and we were unable to convert to dict"),
    (dict(action="get", operation_id="missing-op"), "operation 'missing-op' not found in table 'aurora-restore-state'"),
])
@pytest.mark.parametrize("as_module", [False, True], ids=["on_the_controller", "as_the_module"])
def test_bad_arguments_give_one_line_and_change_nothing(tables, tmp_path, options, message, as_module):
    outcome = run(tmp_path, ("bad", options), as_module=as_module).result("bad")
    assert outcome["failed"] and outcome["msg"].startswith(message), outcome["msg"]
    assert "\n" not in outcome["msg"]
    assert raw_items(tables, STATE_TABLE) == [] and raw_items(tables, AUDIT_TABLE) == []


def _audited_operation(tmp_path, target, extra_env=None):
    """start, one step, finish, read back: one playbook run."""
    operation = "{{ started.operation.operation_id }}"
    playbook = PLAY_HEADER + """
    - dbops.aurora_restore.restore_audit: {action: start, target: %s}
      register: started
    - dbops.aurora_restore.restore_audit: {action: step, operation_id: "%s", step: preflight, step_status: succeeded}
    - dbops.aurora_restore.restore_audit: {action: finish, operation_id: "%s", status: SUCCEEDED}
    - name: get
      dbops.aurora_restore.restore_audit: {action: get, operation_id: "%s", include_events: true}
""" % (target, operation, operation, operation)
    return run_playbook(playbook, tmp_path, extra_env=extra_env)


def test_throttling_and_server_errors_are_retried(tables, aws_env, tmp_path):
    """30 % of DynamoDB requests answer Throttling, 10 % answer 5xx; botocore's own retries are switched off
    (AWS_MAX_ATTEMPTS=1) so only the module's jittered backoff can carry the operation through."""
    aws_env.clear_counts()
    assert _audited_operation(tmp_path, "calm").rc == 0
    calm_requests = aws_env.counts()["services"]["dynamodb"]
    aws_env.set_faults([
        {"service": "dynamodb", "action": "*", "kind": "throttle", "rate": 0.3},
        {"service": "dynamodb", "action": "*", "kind": "5xx", "rate": 0.1},
    ], seed=7)
    aws_env.clear_counts()
    try:
        result = _audited_operation(tmp_path, "stormy", extra_env={"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"})
        stormy_requests = aws_env.counts()["services"]["dynamodb"]
    finally:
        aws_env.set_faults([])
    assert result.rc == 0, result.output[-2000:]
    trail = result.result("get")
    assert trail["operation"]["status"] == "SUCCEEDED"
    assert [event["event"] for event in trail["events"]] == ["operation_started", "step_succeeded", "operation_succeeded"]
    assert sum(stormy_requests.values()) > sum(calm_requests.values()), (calm_requests, stormy_requests)


def test_progress_of_a_running_step_is_recorded_without_changing_its_status(tables, tmp_path):
    operation_id = start(tmp_path)["operation"]["operation_id"]
    step = dict(action="step", operation_id=operation_id, step="copy_snapshot")
    result = run(tmp_path,
                 ("too early", dict(step, step_status="progress", details={"status": "copying", "percent_progress": 10})),
                 ("started", dict(step, step_status="started")),
                 ("ten", dict(step, step_status="progress", details={"status": "copying", "percent_progress": 10})),
                 ("sixty", dict(step, step_status="progress", details={"status": "copying", "percent_progress": 60})),
                 ("get", dict(action="get", operation_id=operation_id, include_events=True)))
    assert result.result("too early")["msg"] == (
        "step 'copy_snapshot' of operation '%s' is not running (its status is None); record it as started first" % operation_id)
    assert result.result("ten")["changed"] and result.result("sixty")["changed"]
    [running] = result.result("get")["operation"]["steps"]
    assert running["status"] == "started" and running["progress"]["percent_progress"] == 60
    progress = [event["details"]["percent_progress"] for event in result.result("get")["events"] if event["event"] == "step_progress"]
    assert progress == [10, 60]


def comparable(result):
    """A result without what differs from one run to the next (ids, clocks) or by where it ran (the invocation)."""
    text = json.dumps({key: value for key, value in result.items() if key != "invocation"}, sort_keys=True)
    text = re.sub(r'"[^"]*(20[0-9]{2}-[0-9]{2}-[0-9]{2}T|dev-app-[0-9a-f]{8})[^"]*"', '"<varies>"', text)
    return json.loads(re.sub(r'("(lease_expires_at|expires_at|duration_seconds)"): [0-9.]+', r'\1: "<varies>"', text))


def test_on_the_controller_and_as_the_module_the_same_results(tables, tmp_path):
    """The role's audit calls run on the controller (no module process); a task with an `environment`, or a
    connection that is not local, runs the module instead. Both give the same result, the lock refusal included."""
    results = {}
    for as_module in (False, True):
        first = run(tmp_path, ("start", dict(action="start", target="dev-app", pipeline_steps=PIPELINE)), as_module=as_module,
                    args=("-vvv",))
        assert ("Using module file" in first.output) is as_module, first.output[-2000:]
        operation_id = first.result("start")["operation"]["operation_id"]
        then = run(tmp_path,
                   ("step", dict(action="step", operation_id=operation_id, step="preflight", step_status="succeeded", details={"seconds": 2})),
                   ("again", dict(action="start", target="dev-app")),
                   ("finish", dict(action="finish", operation_id=operation_id, status="SUCCEEDED")),
                   ("get", dict(action="get", operation_id=operation_id, pipeline_steps=PIPELINE)), as_module=as_module)
        results[as_module] = [comparable(first.result("start"))] + [comparable(result) for _name, result in then.tasks()]
    for on_the_controller, as_the_module in zip(results[False], results[True]):
        assert on_the_controller == as_the_module
    assert results[False][2]["failed"] and results[False][2]["lock_holder"]["item_type"] == "lock"
