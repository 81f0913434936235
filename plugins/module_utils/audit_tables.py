# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The restore's DynamoDB tables (audit_store.py describes their shape): access with one error rule, item
conversion, reads, and the per-target lock (a lease on the lock item). audit_store.AuditStore adds the operations."""

from __future__ import annotations

import datetime
import decimal
import uuid

try:
    from boto3.dynamodb.types import TypeDeserializer
    from boto3.dynamodb.types import TypeSerializer
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

LOCK_KEY_PREFIX = "lock#"
# The target's wait history: when the waits of its last successful refresh ended (AuditStore.wait_history).
HISTORY_KEY_PREFIX = "history#"
_SECONDS_PER_DAY = 86400


class AuditStoreError(Exception):
    """A failure a user can cause or act on; the message is one line and safe to show."""


class LockHeldError(AuditStoreError):
    """The target is locked by another operation whose lease has not expired."""

    def __init__(self, message, holder):
        super().__init__(message)
        self.holder = holder


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    """UTC ISO-8601 with microseconds and a `Z`, e.g. 2026-11-22T04:30:00.123456Z."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def _to_dynamodb_value(value):
    """Floats become Decimals (DynamoDB has no float type); everything else must already be plain."""
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    if isinstance(value, dict):
        return {str(key): _to_dynamodb_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamodb_value(item) for item in value]
    if value is None or isinstance(value, (str, bool, int, decimal.Decimal)):
        return value
    return str(value)


def _from_dynamodb_value(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamodb_value(item) for key, item in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_from_dynamodb_value(item) for item in value]
    return value


class AuditTables:
    """The state and audit tables: calls, item conversion, reads."""

    def __init__(self, client, state_table, audit_table, retention_days=90, lease_seconds=21600, clock=utc_now):
        self.client = client
        self.state_table = state_table
        self.audit_table = audit_table
        self.retention_days = retention_days
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._serializer = TypeSerializer()
        self._deserializer = TypeDeserializer()

    # ---- low-level helpers -------------------------------------------------------------------
    def _call(self, method, **kwargs):
        try:
            return getattr(self.client, method)(aws_retry=True, **kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise self._missing_table(kwargs.get("TableName") or self._first_missing(kwargs.get("TransactItems") or []))
            raise

    def _transact(self, items):
        """Write `items` ({"Put"|"Update"|"Delete": {...}}) all or none, in one TransactWriteItems call. Returns None
        once written, else the cancellation reason code of each item in order ("None" for an item that was fine).
        The request token makes a retry of a call whose answer was lost a no-op on AWS."""
        try:
            self._call("transact_write_items", TransactItems=items, ClientRequestToken=str(uuid.uuid4()))
            return None
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") or "None" for reason in error.response.get("CancellationReasons") or []]
            if "ResourceNotFoundException" in reasons:
                raise self._missing_table(next(iter(items[reasons.index("ResourceNotFoundException")].values()))["TableName"])
            return reasons or ["Unknown"] * len(items)

    def _first_missing(self, items):
        """The first table of a transaction that does not exist (AWS's refusal of a transaction does not name it)."""
        for table in dict.fromkeys(next(iter(item.values())).get("TableName", "?") for item in items):
            try:
                self.client.describe_table(aws_retry=True, TableName=table)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    return table
                raise
        return "?"

    @staticmethod
    def _missing_table(table):
        return AuditStoreError(
            "DynamoDB table %r does not exist in this region: create it with playbooks/bootstrap.yml or fix the table name" % table
        )

    def _serialize(self, item):
        return {key: self._serializer.serialize(value) for key, value in item.items() if value is not None}

    def _deserialize(self, item):
        return _from_dynamodb_value({key: self._deserializer.deserialize(value) for key, value in item.items()})

    def check_tables(self):
        """Fail clearly when a table is missing or does not have the expected keys."""
        expected = {
            self.state_table: [("operation_id", "HASH")],
            self.audit_table: [("operation_id", "HASH"), ("timestamp", "RANGE")],
        }
        for table, keys in expected.items():
            description = self._call("describe_table", TableName=table)["Table"]
            schema = [(key["AttributeName"], key["KeyType"]) for key in description["KeySchema"]]
            types = {attribute["AttributeName"]: attribute["AttributeType"] for attribute in description["AttributeDefinitions"]}
            wrong_type = [name for name, _kind in keys if types.get(name) not in (None, "S")]
            if sorted(schema) != sorted(keys) or wrong_type:
                raise AuditStoreError(
                    "DynamoDB table %r has key schema %s; expected %s, all of type S"
                    % (table, _describe_keys(schema), _describe_keys(keys))
                )

    # ---- reading ------------------------------------------------------------------------------
    def get_operation(self, operation_id, consistent=True):
        response = self._call(
            "get_item", TableName=self.state_table, Key={"operation_id": {"S": operation_id}}, ConsistentRead=consistent
        )
        item = response.get("Item")
        if not item:
            return None
        record = self._deserialize(item)
        if record.get("item_type") != "operation":
            raise AuditStoreError("%r is not an operation id (it is a %s item)" % (operation_id, record.get("item_type", "foreign")))
        return record

    def get_lock(self, target):
        response = self._call(
            "get_item", TableName=self.state_table, Key={"operation_id": {"S": LOCK_KEY_PREFIX + target}}, ConsistentRead=True
        )
        item = response.get("Item")
        return self._deserialize(item) if item else None

    def list_events(self, operation_id):
        events, start_key = [], None
        while True:
            kwargs = dict(
                TableName=self.audit_table,
                KeyConditionExpression="operation_id = :id",
                ExpressionAttributeValues={":id": {"S": operation_id}},
                ConsistentRead=True,
            )
            if start_key:
                kwargs["ExclusiveStartKey"] = start_key
            response = self._call("query", **kwargs)
            events.extend(self._deserialize(item) for item in response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                return sorted(events, key=lambda event: (event.get("sequence", 0), event["timestamp"]))

    def list_operations(self, target=None, limit=10, status=None):
        """Recent operations, newest first. A scan: the state table holds few items (one per run)."""
        filters = ["item_type = :operation"]
        values = {":operation": {"S": "operation"}}
        if target:
            filters.append("target = :target")
            values[":target"] = {"S": target}
        if status:
            filters.append("#status = :status")
            values[":status"] = {"S": status}
        kwargs = dict(TableName=self.state_table, FilterExpression=" AND ".join(filters), ExpressionAttributeValues=values)
        if status:
            kwargs["ExpressionAttributeNames"] = {"#status": "status"}
        operations, start_key = [], None
        while True:
            if start_key:
                kwargs["ExclusiveStartKey"] = start_key
            response = self._call("scan", **kwargs)
            operations.extend(self._deserialize(item) for item in response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                break
        operations.sort(key=lambda operation: operation.get("started_at", ""), reverse=True)
        return operations[:limit]

    # ---- the lock -----------------------------------------------------------------------------


class TargetLock(AuditTables):
    """The per-target lock: a lease on the item lock#<target> of the state table."""

    def describe_holder(self, lock, now):
        expires = datetime.datetime.fromtimestamp(int(lock["lease_expires_at"]), datetime.timezone.utc)
        return "target %r is locked by operation %r since %s (lease until %s)" % (
            lock["target"], lock["holder_operation_id"], lock["acquired_at"], iso(expires) if expires > now else "expired",
        )

    def plan_lock(self, target, operation_id, now):
        """The lock item `operation_id` would write now, and the holder it takes over (expired lease) or None.
        Raises LockHeldError when another operation's lease is still running."""
        current = self.get_lock(target)
        now_epoch = int(now.timestamp())
        if current and current["holder_operation_id"] != operation_id and int(current["lease_expires_at"]) > now_epoch:
            raise self._held(current, now)
        taken_over = current if current and current["holder_operation_id"] != operation_id else None
        acquired_at = current["acquired_at"] if current and not taken_over else iso(now)
        lock = {
            "operation_id": LOCK_KEY_PREFIX + target,
            "item_type": "lock",
            "target": target,
            "holder_operation_id": operation_id,
            "acquired_at": acquired_at,
            "renewed_at": iso(now),
            "lease_expires_at": now_epoch + self.lease_seconds,
            # DynamoDB TTL removes a lock long after its lease ended (a crashed run leaves it behind).
            "expires_at": now_epoch + self.lease_seconds + _SECONDS_PER_DAY,
        }
        return lock, taken_over

    def lock_put(self, lock, now):
        """The conditional write of a planned lock: what makes the lock safe against a concurrent run, since only one
        conditional write can win, whatever the other process read a moment ago."""
        return dict(
            TableName=self.state_table,
            Item=self._serialize(lock),
            ConditionExpression="attribute_not_exists(operation_id) OR holder_operation_id = :me OR lease_expires_at < :now",
            ExpressionAttributeValues={":me": {"S": lock["holder_operation_id"]}, ":now": {"N": str(int(now.timestamp()))}},
        )

    def lock_refusal(self, target, now):
        """LockHeldError naming whoever holds the target's lock now (after a conditional write of it failed)."""
        holder = self.get_lock(target) or {"target": target, "holder_operation_id": "?", "acquired_at": "?",
                                           "lease_expires_at": int(now.timestamp())}
        return self._held(holder, now)

    def _held(self, holder, now):
        return LockHeldError(
            self.describe_holder(holder, now)
            + "; wait for it to finish, resume it with its operation_id, or take over once the lease expires",
            holder,
        )

    def acquire_lock(self, target, operation_id, check_mode=False):
        """Take or renew the target's lock. Returns (lock, previous holder taken over or None)."""
        now = self.clock()
        lock, taken_over = self.plan_lock(target, operation_id, now)
        if check_mode:
            return lock, taken_over
        try:
            self._call("put_item", **self.lock_put(lock, now))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise self.lock_refusal(target, now)
        return lock, taken_over

    def lock_renewal(self, target, operation_id, now):
        """The conditional update that extends the lease of a lock `operation_id` holds (renew_lock, or one item of a
        transaction)."""
        now_epoch = int(now.timestamp())
        return dict(
            TableName=self.state_table,
            Key={"operation_id": {"S": LOCK_KEY_PREFIX + target}},
            UpdateExpression="SET renewed_at = :now, lease_expires_at = :lease, expires_at = :expires",
            ConditionExpression="holder_operation_id = :me",
            ExpressionAttributeValues={":me": {"S": operation_id}, ":now": {"S": iso(now)},
                                       ":lease": {"N": str(now_epoch + self.lease_seconds)},
                                       ":expires": {"N": str(now_epoch + self.lease_seconds + _SECONDS_PER_DAY)}},
        )

    def lock_release(self, target, operation_id):
        """The conditional delete of the lock `operation_id` holds (one item of a transaction)."""
        return dict(TableName=self.state_table, Key={"operation_id": {"S": LOCK_KEY_PREFIX + target}},
                    ConditionExpression="holder_operation_id = :me", ExpressionAttributeValues={":me": {"S": operation_id}})

    def renew_lock(self, target, operation_id):
        """Extend the lease of a lock `operation_id` holds, in one conditional write. A lock it no longer holds
        (released by force, or taken over) goes the way acquire_lock goes: taken again if free, else LockHeldError."""
        try:
            self._call("update_item", **self.lock_renewal(target, operation_id, self.clock()))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            self.acquire_lock(target, operation_id)

    def release_lock(self, target, operation_id, force=False, check_mode=False):
        """Release the lock if `operation_id` holds it (or anyone does, with force). Returns True if released."""
        current = self.get_lock(target)
        if not current:
            return False
        if current["holder_operation_id"] != operation_id and not force:
            return False
        if check_mode:
            return True
        kwargs = {}
        if not force:
            kwargs = dict(ConditionExpression="holder_operation_id = :me", ExpressionAttributeValues={":me": {"S": operation_id}})
        try:
            self._call("delete_item", TableName=self.state_table, Key={"operation_id": {"S": LOCK_KEY_PREFIX + target}}, **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False  # someone took it over after our lease expired: it is theirs now
            raise
        return True

    # ---- operations and events -------------------------------------------------------------------


def _describe_keys(keys):
    return ", ".join("%s=%s" % (kind, name) for name, kind in keys) or "none"
