# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DynamoDB state, audit trail and per-target lock for restore operations.

Tables have the original pipeline design's shape:
- state table, hash key `operation_id` (S): one item per operation, plus a lock item for each target a run
  holds, whose key is `lock#<target>` and which release deletes (no second table or index is needed), and a
  history item per target, `history#<target>`: how long the waits of its last successful refresh took;
- audit table, hash key `operation_id` (S), range key `timestamp` (S): one item per event. The range
  key is `<UTC ISO-8601 with microseconds>#<sequence>`, the sequence coming from an atomic counter on
  the operation item, so events written in the same microsecond still sort in the order they happened.

The store works on a low-level boto3 DynamoDB client whose calls are wrapped by the caller's retry
decorator (`aws_retry=True`), and raises AuditStoreError with a one-line message for anything a user
can cause.
"""

from __future__ import annotations

import re
import uuid

from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import redact
# pylint: disable=unused-import
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import _SECONDS_PER_DAY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import AuditStoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import HISTORY_KEY_PREFIX
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import LockHeldError  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import TargetLock
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import _from_dynamodb_value
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import _to_dynamodb_value
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import iso
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import parse_iso
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import utc_now

OPERATION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED")
FINAL_STATUSES = ("SUCCEEDED", "FAILED")
# `progress` is an event of a running step (status and percent of a long wait, a lease heartbeat): it is
# recorded in the audit trail and on the step, and leaves the step's status as it is.
STEP_STATUSES = ("started", "progress", "succeeded", "failed", "skipped")
DONE_STEP_STATUSES = ("succeeded", "skipped")
# Reads and transactions of one change before giving up on an operation that another writer keeps changing.
_WRITE_ATTEMPTS = 4

_TARGET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
_OPERATION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_STEP_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def validate_target(target):
    if not isinstance(target, str) or not _TARGET_RE.match(target):
        raise AuditStoreError(
            "invalid target %r: use 1-200 letters, digits and . _ : / -, starting with a letter or digit" % (target,)
        )
    return target


def validate_operation_id(operation_id):
    if not isinstance(operation_id, str) or not _OPERATION_ID_RE.match(operation_id):
        raise AuditStoreError(
            "invalid operation_id %r: use 1-128 letters, digits and . _ : -, starting with a letter or digit" % (operation_id,)
        )
    return operation_id


def validate_step(step):
    if not isinstance(step, str) or not _STEP_RE.match(step):
        raise AuditStoreError("invalid step name %r: use lower-case letters, digits and _, starting with a letter" % (step,))
    return step


def new_operation_id(target, now=None):
    """Readable and unique: `<target>-<UTC time>-<8 hex>`, e.g. dev-app-20261122T043000Z-1a2b3c4d."""
    stamp = (now or utc_now()).strftime("%Y%m%dT%H%M%SZ")
    safe_target = re.sub(r"[^A-Za-z0-9._:-]", "-", target)[:80]
    return "%s-%s-%s" % (safe_target, stamp, uuid.uuid4().hex[:8])


def clean_details(details, on_secret="redact"):
    """Details as DynamoDB can store them, with secret-looking keys redacted (or refused)."""
    if details is None:
        return {}, []
    if not isinstance(details, dict):
        raise AuditStoreError("details must be a dictionary, got %s" % type(details).__name__)
    found = []
    cleaned = redact(details, found=found)
    if found and on_secret == "fail":
        raise AuditStoreError(
            "details must not hold secrets; refusing keys: %s (pass a reference such as a secret id instead)" % ", ".join(sorted(found))
        )
    return _to_dynamodb_value(cleaned), found


def _event_time(record, at, now):
    """When an event is recorded: `at`, the moment it happened when it is recorded later (a step's success carried by
    the next step's write), kept between the operation's last recorded change and now so the trail stays in order
    (the caller's clock may differ from this one); now without it."""
    if at is None:
        return now
    latest = parse_iso(record["updated_at"]) if record.get("updated_at") else at
    return min(max(at, latest), now)


class AuditStore(TargetLock):
    """Operations, steps and audit events (the tables and the lock: audit_tables.py).

    Each change is one read of the operation and one transaction (TransactWriteItems) holding the operation's new
    state, its audit events and the lock's write: all of it is recorded or none. The operation's event counter
    is the transaction's guard, so two writers of one operation cannot number events alike; the one that lost
    reads again and retries."""

    def _operation_update(self, record, now, events, updates=(), values=None, names=None):
        """The transaction item that takes `events` sequence numbers of the operation as read in `record` (and
        applies `updates`), with the last number it takes."""
        seen = int(record.get("event_sequence", 0))
        last = seen + events
        expression_values = {":seen": {"N": str(seen)}, ":last": {"N": str(last)}, ":now": {"S": iso(now)}}
        expression_values.update(values or {})
        guard = "event_sequence = :seen" if "event_sequence" in record else "attribute_exists(operation_id) AND attribute_not_exists(event_sequence)"
        update = dict(
            TableName=self.state_table,
            Key={"operation_id": {"S": record["operation_id"]}},
            UpdateExpression="SET " + ", ".join(["event_sequence = :last", "updated_at = :now"] + list(updates)),
            ConditionExpression=guard,
            ExpressionAttributeValues=expression_values,
        )
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": update}, last

    def _event_put(self, operation_id, sequence, now, event, target, step=None, status=None, details=None, error=None):
        """The transaction item that writes one audit event."""
        item = {
            "operation_id": operation_id,
            "timestamp": "%s#%06d" % (iso(now), sequence),
            "event_time": iso(now),
            "sequence": sequence,
            "event": event,
            "target": target,
            "step": step,
            "status": status,
            "details": details or None,
            "error": error,
            "expires_at": int(now.timestamp()) + self.retention_days * _SECONDS_PER_DAY,
        }
        return {"Put": dict(TableName=self.audit_table, Item=self._serialize(item),
                            ConditionExpression="attribute_not_exists(#ts)", ExpressionAttributeNames={"#ts": "timestamp"})}

    def start(self, target, operation_id=None, environment=None, details=None, check_mode=False, create=False, first_step=None):
        """Start a new operation or resume an unfinished one, under the target's lock. A new operation also records
        `first_step` as started, in the same write.

        Returns (record, outcome, lock, taken_over): outcome is `started`, `resumed` or `already_succeeded`
        (then lock is None); taken_over is the expired lock this start took over, if any.
        """
        now = self.clock()
        existing = self.get_operation(operation_id) if operation_id else None
        if operation_id and not existing and not create:
            # A typo of a resume must not start a new operation under the typo.
            raise AuditStoreError("operation %r does not exist in table %r: operation_id resumes an earlier operation of %r "
                                  "(leave it empty to start a new one, or set create to start one with this id)"
                                  % (operation_id, self.state_table, target))
        if existing and existing.get("target") != target:
            raise AuditStoreError(
                "operation %r belongs to target %r, not %r" % (operation_id, existing.get("target"), target)
            )
        if existing and existing.get("status") == "SUCCEEDED":
            return existing, "already_succeeded", None, None
        operation_id = operation_id or new_operation_id(target, now)
        lock, taken_over = self.plan_lock(target, operation_id, now)
        if check_mode:
            planned = existing or {"operation_id": operation_id, "target": target, "environment": environment,
                                   "status": "RUNNING", "steps": {}, "step_order": [], "attempt": 1}
            return planned, "resumed" if existing else "started", lock, taken_over
        event_details = self._takeover_details(taken_over, details)
        if existing:
            update, sequence = self._operation_update(
                existing, now, 1, ["#status = :running", "attempt = attempt + :one", "last_resumed_at = :now"],
                {":running": {"S": "RUNNING"}, ":one": {"N": "1"}}, {"#status": "status"})
            record = dict(existing, status="RUNNING", attempt=int(existing.get("attempt", 1)) + 1, last_resumed_at=iso(now),
                          updated_at=iso(now), event_sequence=sequence)
            items = [{"Put": self.lock_put(lock, now)}, update,
                     self._event_put(operation_id, sequence, now, "operation_resumed", target, status="RUNNING", details=event_details)]
            outcome = "resumed"
        else:
            record = {
                "operation_id": operation_id,
                "item_type": "operation",
                "target": target,
                "environment": environment,
                "status": "RUNNING",
                "started_at": iso(now),
                "updated_at": iso(now),
                "attempt": 1,
                "event_sequence": 1,
                "steps": {},
                "step_order": [],
                "details": details or None,
            }
            first_event = []
            if first_step:
                record.update(event_sequence=2, current_step=first_step, step_order=[first_step],
                              steps={first_step: self._step_entry(operation_id, record, {}, first_step, "started", None, None, now)})
                first_event = [self._event_put(operation_id, 2, now, "step_started", target, step=first_step, status="started")]
            items = [{"Put": self.lock_put(lock, now)},
                     {"Put": dict(TableName=self.state_table, Item=self._serialize(record),
                                  ConditionExpression="attribute_not_exists(operation_id)")},
                     self._event_put(operation_id, 1, now, "operation_started", target, status="RUNNING", details=event_details)
                     ] + first_event
            outcome = "started"
        # The lock, the operation and its first event are written together: a target is never left locked by an
        # operation that failed to start.
        reasons = self._transact(items)
        if reasons is None:
            return record, outcome, lock, taken_over
        if reasons[0] != "None":
            raise self.lock_refusal(target, now)
        raise AuditStoreError("operation %r was changed by another run while this one %s it (%s): run again"
                              % (operation_id, "resumed" if existing else "started", ", ".join(reasons)))

    @staticmethod
    def _takeover_details(taken_over, details):
        merged = dict(details or {})
        if taken_over:
            merged["lock_taken_over_from"] = taken_over["holder_operation_id"]
            merged["lock_taken_over_acquired_at"] = taken_over["acquired_at"]
        return merged

    def record_step(self, operation_id, step, status, details=None, error=None, check_mode=False):
        """Record a step event. Returns (record, changed)."""
        return self.record_steps(operation_id, [(step, status, details, error)], check_mode)

    def record_steps(self, operation_id, events, check_mode=False, carried=None):
        """Record step events, each (step, status, details, error) or (step, status, details, error, at), in order:
        one read of the operation and one transaction of its new state, one audit item per event and the lease's
        renewal, whatever their number (a step's success and the next step's start are two events of one call). An
        event is recorded at its `at` (an earlier moment it happened, see _event_time), else now. An event that
        repeats what is recorded is left out. `carried`: a previous step's success this write records first (see
        _entries). Returns (record, changed)."""
        for _attempt in range(_WRITE_ATTEMPTS):
            now = self.clock()
            record = self.get_operation(operation_id)
            if not record:
                raise AuditStoreError("operation %r does not exist in table %r" % (operation_id, self.state_table))
            if record["status"] in FINAL_STATUSES:
                raise AuditStoreError("operation %r already finished as %s; start a new one or resume it first" % (operation_id, record["status"]))
            entries = self._entries(operation_id, record, events, now, carried)
            if not entries:
                return record, False  # the same facts again: nothing new to record
            if check_mode:
                return record, True
            written, items = self._steps_written(record, entries, now)
            items.append({"Update": self.lock_renewal(record["target"], operation_id, now)})  # each event renews the lease
            reasons = self._transact(items)
            if reasons is None:
                return written, True
            if reasons[-1] == "ConditionalCheckFailed":
                # The lock was released by force or taken over: taken again if free, else LockHeldError.
                self.acquire_lock(record["target"], operation_id)
            # Otherwise another writer numbered an event since the read: read again.
        raise AuditStoreError("operation %r kept changing while this run recorded %s: run again"
                              % (operation_id, ", ".join("%s %s" % tuple(event[:2]) for event in events)))

    def _entries(self, operation_id, record, events, now, carried=None):
        """The step entries that record `events` (see record_steps), each (step, status, entry, details, error, at),
        leaving out an event that repeats what is recorded. `carried` (step, details, at): that step's success, and so
        the start of the first event's step, both at `at`, come first, unless that success is recorded already (a
        repeated call must not record the following step as started again)."""
        if carried:
            step, details, at = carried
            success = (step, "succeeded", details, None, at)
            if self._entries(operation_id, record, [success], now):
                events = [success, (events[0][0], "started", None, None, at)] + list(events)
        entries, steps = [], dict(record.get("steps", {}))
        for event in events:
            step, status, details, error = event[:4]
            at = _event_time(record, event[4] if len(event) > 4 else None, now)
            entry = self._step_entry(operation_id, record, steps.get(step, {}), step, status, details, error, at)
            if entry is not None:
                steps[step] = entry
                entries.append((step, status, entry, details, error, at))
        return entries

    def _steps_written(self, record, entries, now, more_events=0, more_updates=(), more_values=None, more_names=None):
        """The operation once `entries` are recorded, and the transaction items that record them: the operation's
        update first, then one audit item per entry. `more_events` sequence numbers after the entries' (and
        `more_updates` of the operation) are left for the caller's own events (finish's)."""
        updates, values, names, new_steps = list(more_updates), dict(more_values or {}), dict(more_names or {}), []
        for index, (step, _status, entry, _details, _error, _at) in enumerate(entries):
            updates.append("steps.#step%d = :entry%d" % (index, index))
            values[":entry%d" % index] = self._serializer.serialize(_to_dynamodb_value(entry))
            names["#step%d" % index] = step
            if step not in record.get("step_order", []) and step not in new_steps:
                new_steps.append(step)
        updates.append("current_step = :step")
        values[":step"] = {"S": entries[-1][0]}
        if new_steps:
            updates.append("step_order = list_append(if_not_exists(step_order, :empty), :step_list)")
            values[":empty"] = {"L": []}
            values[":step_list"] = {"L": [{"S": step} for step in new_steps]}
        update, last = self._operation_update(record, now, len(entries) + more_events, updates, values, names)
        first = last - more_events - len(entries) + 1
        steps = dict(record.get("steps", {}))
        steps.update((step, _from_dynamodb_value(_to_dynamodb_value(entry))) for step, _status, entry, _details, _error, _at in entries)
        written = dict(record, steps=steps, step_order=list(record.get("step_order", [])) + new_steps,
                       current_step=entries[-1][0], updated_at=iso(now), event_sequence=last)
        items = [update]
        for offset, (step, status, entry, details, error, at) in enumerate(entries):
            if status == "progress":
                details = entry["progress"]
            items.append(self._event_put(record["operation_id"], first + offset, at, "step_" + status,
                                         record["target"], step=step, status=status, details=details, error=error))
        return written, items

    @staticmethod
    def _step_entry(operation_id, record, current, step, status, details, error, now):
        """The step's entry once the event is recorded, or None when the event repeats what is recorded."""
        if status == "progress":
            if current.get("status") != "started":
                raise AuditStoreError("step %r of operation %r is not running (its status is %r); record it as started first"
                                      % (step, operation_id, current.get("status")))
        elif current.get("status") == status and current.get("details", {}) == (details or {}) and current.get("error") == error:
            return None
        if status == "progress":
            entry = dict(current, progress=dict(details or {}, at=iso(now)))
            details = entry["progress"]
        elif status == "started":
            entry = {"status": status, "started_at": iso(now), "attempt": record.get("attempt", 1)}
        else:
            entry = dict(current, status=status, attempt=record.get("attempt", 1))
            entry.setdefault("started_at", iso(now))
            entry["finished_at"] = iso(now)
            entry["duration_seconds"] = round((now - parse_iso(entry["started_at"])).total_seconds(), 3)
        if details:
            entry["details"] = details
        if error:
            entry["error"] = error
        return entry

    def finish(self, operation_id, status, error=None, details=None, check_mode=False, step_events=(), carried=None):
        """Finish the operation and release its target's lock, in one transaction. `step_events` and `carried` (as
        record_steps takes them; with SUCCEEDED, the last step's success) are recorded first, in the same transaction
        (those recorded already are left out). Returns (record, changed)."""
        release = True
        for _attempt in range(_WRITE_ATTEMPTS):
            now = self.clock()
            record = self.get_operation(operation_id)
            if not record:
                raise AuditStoreError("operation %r does not exist in table %r" % (operation_id, self.state_table))
            entries = self._entries(operation_id, record, step_events, now, carried) if record["status"] == "RUNNING" else []
            if record["status"] == status:
                released = self.release_lock(record["target"], operation_id, check_mode=check_mode)
                return record, released
            if record["status"] in FINAL_STATUSES:
                raise AuditStoreError(
                    "operation %r already finished as %s; resume it before finishing it as %s" % (operation_id, record["status"], status)
                )
            if check_mode:
                return record, True
            duration = round((now - parse_iso(record["started_at"])).total_seconds(), 3)
            updates = ["#status = :status", "finished_at = :now", "duration_seconds = :duration"]
            values = {":status": {"S": status}, ":duration": {"N": str(duration)}}
            names = {"#status": "status"}
            if error:
                updates.append("#error = :error")
                values[":error"] = {"S": error}
                names["#error"] = "error"
            if entries:
                written, items = self._steps_written(record, entries, now, 1, updates, values, names)
                sequence = written["event_sequence"]
            else:
                update, sequence = self._operation_update(record, now, 1, updates, values, names)
                written, items = dict(record, updated_at=iso(now), event_sequence=sequence), [update]
            items.append(self._event_put(operation_id, sequence, now, "operation_" + status.lower(), record["target"],
                                         status=status, details=details, error=error))
            history = self._history_put(written, now) if status == "SUCCEEDED" else None
            if history:
                items.append(history)
            if release:
                items.append({"Delete": self.lock_release(record["target"], operation_id)})
            reasons = self._transact(items)
            if reasons is None:
                written.update(status=status, finished_at=iso(now), duration_seconds=duration)
                if error:
                    written["error"] = error
                return written, True
            if release and reasons[-1] == "ConditionalCheckFailed":
                release = False  # the lock is gone or someone took it over after our lease expired: it is theirs now
        raise AuditStoreError("operation %r kept changing while this run finished it as %s: run again" % (operation_id, status))

    def wait_history(self, target):
        """How long the waits of the target's last successful refresh took, by step (each step's details.wait_seconds:
        wait name -> seconds), with that operation's id and end; None before the first one."""
        response = self._call("get_item", TableName=self.state_table, Key={"operation_id": {"S": HISTORY_KEY_PREFIX + target}})
        if not response.get("Item"):
            return None
        item = self._deserialize(response["Item"])
        return {"operation_id": item.get("from_operation_id"), "finished_at": item.get("finished_at"), "steps": item.get("wait_seconds") or {}}

    def _history_put(self, record, now):
        """The transaction item that keeps how long a successful operation's waits took as its target's history, or None
        when no step recorded any (a run that found everything done leaves the earlier history in place)."""
        durations = {}
        for step, entry in (record.get("steps") or {}).items():
            step_waits = (entry.get("details") or {}).get("wait_seconds")
            if isinstance(step_waits, dict):
                numbers = {name: seconds for name, seconds in step_waits.items()
                           if isinstance(seconds, (int, float)) and not isinstance(seconds, bool)}
                if numbers:
                    durations[step] = numbers
        if not durations:
            return None
        item = {"operation_id": HISTORY_KEY_PREFIX + record["target"], "item_type": "history", "target": record["target"],
                "from_operation_id": record["operation_id"], "finished_at": iso(now), "wait_seconds": durations,
                "expires_at": int(now.timestamp()) + self.retention_days * _SECONDS_PER_DAY}
        return {"Put": dict(TableName=self.state_table, Item=self._serialize(_to_dynamodb_value(item)))}


def summarize(record, pipeline_steps=None):
    """The operation as a module returns it: ordered steps, which are done, where a resume starts."""
    steps = record.get("steps", {}) or {}
    order = list(record.get("step_order", []) or [])
    ordered = [dict(name=name, **steps[name]) for name in order if name in steps]
    completed = [step["name"] for step in ordered if step.get("status") in DONE_STEP_STATUSES]
    resume_from = None
    if record.get("status") != "SUCCEEDED":
        candidates = list(pipeline_steps or []) or order
        resume_from = next((name for name in candidates if name not in completed), None)
    summary = {key: value for key, value in record.items() if key not in ("steps", "step_order", "item_type", "event_sequence")}
    summary.update(steps=ordered, completed_steps=completed, resume_from=resume_from)
    return summary
