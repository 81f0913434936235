import datetime
import decimal

import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils import audit_store
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStoreError


def test_iso_has_microseconds_and_z():
    moment = datetime.datetime(2026, 11, 22, 1, 2, 3, 4005, tzinfo=datetime.timezone.utc)
    assert audit_store.iso(moment) == "2026-11-22T01:02:03.004005Z"
    assert audit_store.parse_iso("2026-11-22T01:02:03.004005Z") == moment


def test_new_operation_ids_are_readable_and_unique():
    moment = datetime.datetime(2026, 11, 22, 1, 0, tzinfo=datetime.timezone.utc)
    first = audit_store.new_operation_id("dev-app", moment)
    second = audit_store.new_operation_id("dev-app", moment)
    assert first.startswith("dev-app-20261122T010000Z-") and first != second
    audit_store.validate_operation_id(first)


def test_new_operation_id_from_a_target_with_slashes_is_valid():
    audit_store.validate_operation_id(audit_store.new_operation_id("team/dev app"))


@pytest.mark.parametrize("validator,value,message", [
    (audit_store.validate_target, "", "invalid target ''"),
    (audit_store.validate_target, "-dev", "invalid target '-dev'"),
    (audit_store.validate_target, "dev app", "invalid target 'dev app'"),
    (audit_store.validate_operation_id, "lock#dev", "invalid operation_id 'lock#dev'"),
    (audit_store.validate_operation_id, "x" * 129, "invalid operation_id"),
    (audit_store.validate_step, "Copy", "invalid step name 'Copy'"),
    (audit_store.validate_step, "copy-snapshot", "invalid step name 'copy-snapshot'"),
])
def test_bad_names_are_refused_with_the_value(validator, value, message):
    with pytest.raises(AuditStoreError, match="^" + message.replace("(", r"\(")):
        validator(value)


def test_details_floats_become_decimals_and_secrets_are_redacted():
    cleaned, found = audit_store.clean_details({"seconds": 1.25, "password": "x", "nested": {"ratio": 0.5}})
    assert cleaned == {"seconds": decimal.Decimal("1.25"), "password": "********", "nested": {"ratio": decimal.Decimal("0.5")}}
    assert found == ["password"]


def test_details_with_secrets_refused_when_asked():
    with pytest.raises(AuditStoreError, match="refusing keys: db.password"):
        audit_store.clean_details({"db": {"password": "x"}}, on_secret="fail")


def test_details_must_be_a_dict():
    with pytest.raises(AuditStoreError, match="details must be a dictionary, got list"):
        audit_store.clean_details(["x"])


def _record(status="RUNNING", **steps):
    return {"operation_id": "op", "item_type": "operation", "status": status, "event_sequence": 4,
            "steps": {name: {"status": value} for name, value in steps.items()}, "step_order": list(steps)}


def test_summary_resumes_from_the_first_pipeline_step_not_done():
    summary = audit_store.summarize(_record("FAILED", preflight="succeeded", copy="skipped", restore="failed"),
                                    ["preflight", "copy", "restore", "users"])
    assert summary["completed_steps"] == ["preflight", "copy"]
    assert summary["resume_from"] == "restore"
    assert [step["name"] for step in summary["steps"]] == ["preflight", "copy", "restore"]
    assert "event_sequence" not in summary and "item_type" not in summary


def test_summary_without_pipeline_uses_recorded_order():
    assert audit_store.summarize(_record(preflight="succeeded", copy="started"))["resume_from"] == "copy"


def test_summary_of_a_succeeded_operation_has_no_resume_point():
    assert audit_store.summarize(_record("SUCCEEDED", preflight="succeeded"), ["preflight", "copy"])["resume_from"] is None


def test_a_late_event_is_recorded_at_its_moment_kept_between_the_last_change_and_now():
    last_change, now = datetime.datetime(2026, 12, 8, 1, 0, tzinfo=datetime.timezone.utc), datetime.datetime(2026, 12, 8, 1, 5, tzinfo=datetime.timezone.utc)
    record = {"updated_at": audit_store.iso(last_change)}
    moment = datetime.datetime(2026, 12, 8, 1, 2, tzinfo=datetime.timezone.utc)
    assert audit_store._event_time(record, moment, now) == moment
    assert audit_store._event_time(record, None, now) == now
    # Before the operation's last change (another clock), it would sort before events already recorded: that change.
    assert audit_store._event_time(record, datetime.datetime(2026, 12, 8, 0, 0, tzinfo=datetime.timezone.utc), now) == last_change
    # Ahead of now: now.
    assert audit_store._event_time(record, datetime.datetime(2026, 12, 9, tzinfo=datetime.timezone.utc), now) == now
    assert audit_store._event_time({}, moment, now) == moment
