# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What restore_audit does with its validated options, once for both places it runs: the module
(plugins/modules/restore_audit.py) and the controller-side action (plugins/action/restore_audit.py)."""

from __future__ import annotations

import datetime

from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStore
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import clean_details
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import summarize
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import validate_operation_id
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import validate_step
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import validate_target
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import redact_text
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import secret_values

# 9999-12-31T23:59:59Z, the last moment an ISO-8601 timestamp of the audit trail can hold.
_LATEST_EPOCH_SECONDS = 253402300799

REQUIRED_IF = [
    ("action", "start", ["target"]),
    ("action", "step", ["operation_id", "step", "step_status"]),
    ("action", "finish", ["operation_id", "status"]),
    ("action", "get", ["operation_id"]),
    ("action", "release_lock", ["target"]),
]


def argument_spec():
    """restore_audit's own options (the AWS connection options come from amazon.aws)."""
    return dict(
        action=dict(type="str", required=True, choices=["start", "step", "finish", "get", "list", "release_lock"]),
        target=dict(type="str"),
        operation_id=dict(type="str"),
        environment=dict(type="str"),
        step=dict(type="str"),
        step_status=dict(type="str", choices=["started", "progress", "succeeded", "failed", "skipped"]),
        next_step=dict(type="str"),
        first_step=dict(type="str"),
        last_step=dict(type="str"),
        last_step_details=dict(type="dict"),
        previous_step=dict(type="str"),
        previous_step_details=dict(type="dict"),
        previous_step_ended_at=dict(type="float"),
        status=dict(type="str", choices=["SUCCEEDED", "FAILED"]),
        details=dict(type="dict"),
        error=dict(type="str"),
        pipeline_steps=dict(type="list", elements="str"),
        include_events=dict(type="bool", default=False),
        limit=dict(type="int", default=10),
        list_status=dict(type="str", choices=["RUNNING", "SUCCEEDED", "FAILED"]),
        force=dict(type="bool", default=False),
        create=dict(type="bool", default=False),
        state_table=dict(type="str", default="aurora-restore-state"),
        audit_table=dict(type="str", default="aurora-restore-audit"),
        retention_days=dict(type="int", default=90),
        lock_lease_seconds=dict(type="int", default=21600),
        on_secret=dict(type="str", choices=["redact", "fail"], default="redact"),
    )


def values_to_hide(params):
    """Secret values found in details or the error text, to mask in everything Ansible prints."""
    return secret_values({"details": params["details"], "last_step_details": params["last_step_details"],
                          "previous_step_details": params["previous_step_details"], "error": params["error"]})


def input_refusal(params):
    """The one-line refusal of a combination of options the argument spec cannot express, or None."""
    if params["action"] == "release_lock" and not params["force"] and not params["operation_id"]:
        return "action=release_lock needs operation_id (the holder), or force=true to clear anyone's lock"
    if params["next_step"] is not None and (params["action"] != "step" or params["step_status"] not in ("succeeded", "skipped")):
        return "next_step %r: only a step's success (action=step, step_status=succeeded or skipped) starts the next one" % params["next_step"]
    if params["first_step"] is not None and params["action"] != "start":
        return "first_step %r: only action=start records a first step (action=step records the others)" % params["first_step"]
    if params["last_step"] is not None and (params["action"] != "finish" or params["status"] != "SUCCEEDED"):
        return "last_step %r: only a finish as SUCCEEDED (action=finish, status=SUCCEEDED) records a last step's success" % params["last_step"]
    if params["last_step_details"] is not None and params["last_step"] is None:
        return "last_step_details: they are the details of last_step's success, which is not set"
    if params["next_step"] is not None and params["next_step"] == params["step"]:
        return "next_step %r is the step being finished: the next step is another one" % params["next_step"]
    return previous_step_refusal(params)


def previous_step_refusal(params):
    """The refusal of a previous_step that no event of this call follows, or of its options without it, or None."""
    if params["previous_step"] is None:
        for option in ("previous_step_details", "previous_step_ended_at"):
            if params[option] is not None:
                return "%s: it belongs to previous_step's success, which is not set" % option
        return None
    following = params["step"] if params["action"] == "step" else params["last_step"] if params["action"] == "finish" else None
    if following is None:
        return ("previous_step %r: only a step's event (action=step) or a finish with last_step records the success of the "
                "step before it" % params["previous_step"])
    if following == params["previous_step"]:
        return "previous_step %r is the step this call records: the previous step is the one before it" % following
    if params["previous_step_ended_at"] is None:
        return "previous_step %r needs previous_step_ended_at, the moment it succeeded (epoch seconds)" % params["previous_step"]
    return None


def validate(params):
    """Checks the argument spec cannot express; raises AuditStoreError naming the bad input."""
    if params["target"] is not None:
        validate_target(params["target"])
    if params["operation_id"] is not None:
        validate_operation_id(params["operation_id"])
    for option in ("step", "next_step", "first_step", "last_step", "previous_step"):
        if params[option] is not None:
            validate_step(params[option])
    for name in params["pipeline_steps"] or []:
        validate_step(name)
    ended_at = params["previous_step_ended_at"]
    if ended_at is not None and not 0 <= ended_at <= _LATEST_EPOCH_SECONDS:
        raise AuditStoreError("previous_step_ended_at must be a moment in epoch seconds, got %r" % ended_at)
    for option in ("retention_days", "lock_lease_seconds", "limit"):
        if params[option] < 1:
            raise AuditStoreError("%s must be at least 1, got %d" % (option, params[option]))


def carried_success(params, result):
    """previous_step's success as the store carries it (step, details, moment), or None; its redacted keys are added
    to the result's."""
    if not params["previous_step"]:
        return None
    details, redacted = clean_details(params["previous_step_details"], params["on_secret"])
    result["redacted_keys"] += redacted
    return params["previous_step"], details, datetime.datetime.fromtimestamp(params["previous_step_ended_at"], datetime.timezone.utc)


def perform(params, check_mode, dynamodb):
    """Validate, then carry out params["action"] with the `dynamodb` client; the module result (without the
    invocation). Raises AuditStoreError (LockHeldError) for a refusal, botocore errors for AWS failures."""
    validate(params)
    store = AuditStore(dynamodb, params["state_table"], params["audit_table"],
                       retention_days=params["retention_days"], lease_seconds=params["lock_lease_seconds"])
    action = params["action"]
    details, redacted_keys = clean_details(params["details"], params["on_secret"])
    error = redact_text(params["error"]) if params["error"] else None
    result = dict(changed=False, redacted_keys=redacted_keys)
    if action == "start":
        # Once per operation: later events find the tables by the operation's own items (a missing table is
        # still named), and a DescribeTable per event cost the pipeline ~28 calls a run.
        store.check_tables()
        record, outcome, lock, taken_over = store.start(params["target"], params["operation_id"], params["environment"], details,
                                                        check_mode, create=params["create"], first_step=params["first_step"])
        step_started = params["first_step"] if outcome == "started" else None
        result.update(changed=outcome != "already_succeeded", outcome=outcome, step_started=step_started)
        if outcome != "already_succeeded":
            # The target's previous refresh: how long its waits took lets this one's polls gather where they should end.
            result["wait_history"] = store.wait_history(params["target"])
        if lock:
            result["lock"] = {key: lock[key] for key in ("holder_operation_id", "acquired_at", "lease_expires_at")}
            if taken_over:
                result["lock_taken_over_from"] = taken_over["holder_operation_id"]
    elif action == "step":
        events = [(params["step"], params["step_status"], details, error)]
        if params["next_step"]:
            events.append((params["next_step"], "started", None, None))
        record, changed = store.record_steps(params["operation_id"], events, check_mode, carried=carried_success(params, result))
        result["changed"] = changed
    elif action == "finish":
        events = []
        if params["last_step"]:
            last_details, last_redacted = clean_details(params["last_step_details"], params["on_secret"])
            result["redacted_keys"] += last_redacted
            events.append((params["last_step"], "succeeded", last_details, None))
        record, changed = store.finish(params["operation_id"], params["status"], error, details, check_mode, step_events=events,
                                       carried=carried_success(params, result))
        result.update(changed=changed, released=changed)
    elif action == "get":
        record = store.get_operation(params["operation_id"])
        if not record:
            raise AuditStoreError("operation %r not found in table %r" % (params["operation_id"], params["state_table"]))
        if params["include_events"]:
            result["events"] = store.list_events(params["operation_id"])
    elif action == "list":
        result["operations"] = [summarize(item) for item in store.list_operations(params["target"], params["limit"], params["list_status"])]
        return result
    else:  # release_lock
        released = store.release_lock(params["target"], params["operation_id"], force=params["force"], check_mode=check_mode)
        result.update(changed=released, released=released)
        return result
    result["operation"] = summarize(record, params["pipeline_steps"])
    return result
