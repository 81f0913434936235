# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Aurora cluster snapshots: selection, deterministic copy names, sharing and retention decisions.

Pure decisions live here (testable without AWS); the calls that act on them take a retrying boto3 RDS
client (see clients.py) and raise SnapshotError with a one-line message for anything a user can fix.
"""

from __future__ import annotations

import datetime

try:
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils import arns
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import error_code
from ansible_collections.dbops.aurora_restore.plugins.module_utils import markers

SNAPSHOT_TYPES = ("manual", "automated", "shared", "any")
# Statuses a snapshot cannot leave towards `available`.
FAILED_STATUSES = ("failed", "error", "incompatible-restore", "deleted")


# What AWS answered, under the rule before October 2025, to a copy of another account's snapshot from another region
# (the shared snapshot is not visible outside its region): the copy falls back to two steps.
SINGLE_STEP_REFUSALS = ("DBClusterSnapshotNotFoundFault", "InvalidParameterValue", "InvalidParameterCombination")
_PARTITION_PREFIXES = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-isof-", "aws-iso-f"),
                       ("us-iso-", "aws-iso"), ("eu-isoe-", "aws-iso-e"), ("eusc-", "aws-eusc"))


def partition_of(region):
    """The AWS partition of a region (botocore's partitions: aws, aws-cn, aws-us-gov, the isolated ones)."""
    for prefix, partition in _PARTITION_PREFIXES:
        if (region or "").startswith(prefix):
            return partition
    return "aws"


def copy_refusal(source_region, target_region):
    """None, or why AWS cannot copy a snapshot from one region to the other: partitions share nothing, and "You can't
    copy a snapshot to or from the following AWS Regions: China (Beijing), China (Ningxia)" (Aurora User Guide)."""
    if source_region == target_region:
        return None
    source, target = partition_of(source_region), partition_of(target_region)
    if source != target:
        return ("a snapshot in %s (partition %s) cannot be copied to %s (partition %s): AWS partitions share no resources"
                % (source_region, source, target_region, target))
    if source == "aws-cn":
        return "AWS does not copy snapshots to or from the China regions (%s to %s)" % (source_region, target_region)
    return None


class SnapshotError(Exception):
    """A failure a user can fix; the message is one line and names the input."""


def parse_snapshot_arn(value):
    """(region, account, name) of a cluster snapshot ARN, or None when `value` is a plain identifier."""
    parsed = arns.rds_resource(value, "cluster-snapshot")
    if parsed is None and arns.is_arn(value):
        raise SnapshotError("%r is not a cluster snapshot ARN (arn:aws:rds:<region>:<account>:cluster-snapshot:<name>)" % value)
    return parsed


def is_default_key(kms_key_id):
    """Encrypted with the AWS managed aws/rds key (which cannot be shared with other accounts)."""
    if not kms_key_id:
        return False
    return kms_key_id.endswith("alias/aws/rds") or kms_key_id == "default_kms_key_id"


def utc(moment):
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def age_hours(snapshot, now, digits=2):
    """Hours since the snapshot was taken, rounded for display (digits=None: exact, for comparisons)."""
    created = utc(snapshot.get("SnapshotCreateTime"))
    if created is None:
        return None
    hours = (now - created).total_seconds() / 3600.0
    return hours if digits is None else round(hours, digits)


def snapshot_type(snapshot, account_id):
    """manual / automated / shared, from this account's point of view."""
    arn = parse_snapshot_arn(snapshot.get("DBClusterSnapshotArn", ""))
    if arn and account_id and arn[1] != account_id:
        return "shared"
    return snapshot.get("SnapshotType", "manual")


def describe(snapshot, now, account_id=None, why=None):
    """The facts a user needs about a snapshot, as the module returns them."""
    created = utc(snapshot.get("SnapshotCreateTime"))
    facts = {
        "identifier": snapshot["DBClusterSnapshotIdentifier"],
        "arn": snapshot.get("DBClusterSnapshotArn"),
        "cluster_identifier": snapshot.get("DBClusterIdentifier"),
        "status": snapshot.get("Status"),
        "percent_progress": snapshot.get("PercentProgress"),
        "create_time": created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else None,
        "age_hours": age_hours(snapshot, now),
        "type": snapshot_type(snapshot, account_id),
        "encrypted": bool(snapshot.get("StorageEncrypted")),
        "kms_key_id": snapshot.get("KmsKeyId"),
        "engine": snapshot.get("Engine"),
        "engine_version": snapshot.get("EngineVersion"),
        "master_username": snapshot.get("MasterUsername"),
        "tags": markers.tags_dict(snapshot.get("TagList")),
    }
    if why:
        facts["selected_because"] = why
    return facts


def choose_latest(snapshots, account_id, now, cluster=None, prefix=None, kind="any", max_age_hours=None, region=None):
    """The newest `available` snapshot matching the criteria, and why it was chosen.

    Raises SnapshotError when nothing matches, or when the newest match is older than `max_age_hours`.
    """
    criteria = []
    if cluster:
        criteria.append("source_cluster_identifier=%r" % cluster)
    if prefix:
        criteria.append("source_snapshot_prefix=%r" % prefix)
    criteria.append("source_snapshot_type=%s" % kind)
    where = " in %s" % region if region else ""

    def matches(snapshot):
        if snapshot.get("Status") != "available":
            return False
        if kind != "any" and snapshot_type(snapshot, account_id) != kind:
            return False
        if cluster and snapshot.get("DBClusterIdentifier") != cluster:
            return False
        identifier = snapshot["DBClusterSnapshotIdentifier"]
        if prefix and not (identifier.startswith(prefix) or identifier.split(":")[-1].startswith(prefix)):
            return False
        return True

    candidates = [snapshot for snapshot in snapshots if matches(snapshot)]
    if not candidates:
        raise SnapshotError("no available cluster snapshot matches %s%s" % (", ".join(criteria), where))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    candidates.sort(key=lambda snapshot: utc(snapshot.get("SnapshotCreateTime")) or epoch, reverse=True)
    chosen = candidates[0]
    age = age_hours(chosen, now, digits=None)
    if max_age_hours is not None and age is not None and age > max_age_hours:
        raise SnapshotError(
            "the newest available snapshot matching %s%s, %r, is %.1f h old: older than max_age_hours=%s"
            % (", ".join(criteria), where, chosen["DBClusterSnapshotIdentifier"], age, max_age_hours)
        )
    why = "newest of %d available snapshot(s) matching %s" % (len(candidates), ", ".join(criteria))
    return chosen, why


def copy_is_ours_for(snapshot, source_arn):
    """True when an existing snapshot is this collection's copy of `source_arn`."""
    tags = markers.tags_dict(snapshot.get("TagList"))
    return markers.is_ours(snapshot.get("TagList")) and tags.get(markers.SOURCE_SNAPSHOT_KEY) == source_arn


def retention_plan(snapshots, now, keep_newest=None, max_age_days=None, exclude=(), final_snapshots_of=None):
    """Which of the collection's own copies to delete: beyond the newest `keep_newest` per source cluster,
    or older than `max_age_days`. Never a snapshot without the marker, never one still being made, never
    an excluded one. Final snapshots are a kind of their own: only with `final_snapshots_of` (a target), and then
    only that target's. Returns (to_delete, kept), each a list of snapshot dicts."""
    def wanted(snapshot):
        tags = markers.tags_dict(snapshot.get("TagList"))
        if not markers.is_ours(snapshot.get("TagList")) or snapshot.get("SnapshotType", "manual") != "manual":
            return False
        if final_snapshots_of:
            return tags.get(markers.FINAL_SNAPSHOT_OF_KEY) == final_snapshots_of
        return markers.FINAL_SNAPSHOT_OF_KEY not in tags

    ours = [snapshot for snapshot in snapshots if wanted(snapshot)]
    groups = {}
    for snapshot in ours:
        tags = markers.tags_dict(snapshot.get("TagList"))
        group = tags.get(markers.SOURCE_CLUSTER_KEY) or snapshot.get("DBClusterIdentifier") or "?"
        groups.setdefault(group, []).append(snapshot)
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    to_delete, kept = [], []
    for group in groups.values():
        group.sort(key=lambda snapshot: utc(snapshot.get("SnapshotCreateTime")) or epoch, reverse=True)
        for position, snapshot in enumerate(group):
            too_many = keep_newest is not None and position >= keep_newest
            age = age_hours(snapshot, now, digits=None)
            too_old = max_age_days is not None and age is not None and age > max_age_days * 24
            removable = snapshot.get("Status") == "available" and snapshot["DBClusterSnapshotIdentifier"] not in exclude
            (to_delete if (too_many or too_old) and removable else kept).append(snapshot)
    return to_delete, kept


def is_automated_identifier(identifier):
    """Automated snapshots are named rds:<cluster>-<time> (their ARN ends in cluster-snapshot:rds:...)."""
    return (identifier or "").split(":cluster-snapshot:")[-1].startswith("rds:")


def lookup_params(identifier):
    """DescribeDBClusterSnapshots parameters for one snapshot: "If this identifier is for an automated snapshot, the
    SnapshotType parameter must also be specified" (RDS API reference)."""
    params = {"DBClusterSnapshotIdentifier": identifier}
    if is_automated_identifier(identifier):
        params["SnapshotType"] = "automated"
    return params


def list_snapshots(client, kind="any", cluster=None, identifier=None):
    """Every cluster snapshot of a kind (paginated); `shared` ones are those other accounts shared with us."""
    params = {}
    if identifier:
        params.update(lookup_params(identifier))
    elif kind in ("manual", "automated", "shared"):
        params["SnapshotType"] = kind
        if kind == "shared":
            params["IncludeShared"] = True
    else:
        params["IncludeShared"] = True
    if cluster and kind in ("manual", "automated") and not identifier:
        params["DBClusterIdentifier"] = cluster
    found, marker = [], None
    while True:
        if marker:
            params["Marker"] = marker
        try:
            response = client.describe_db_cluster_snapshots(aws_retry=True, **params)
        except ClientError as error:
            if error_code(error) == "DBClusterSnapshotNotFoundFault":
                return []
            raise
        found.extend(response.get("DBClusterSnapshots", []))
        marker = response.get("Marker")
        if not marker:
            return found


def get_snapshot(client, identifier):
    """One snapshot by identifier or ARN, or None."""
    snapshots = list_snapshots(client, identifier=identifier)
    return snapshots[0] if snapshots else None


def restore_accounts(client, identifier):
    """The account ids a manual snapshot is shared with (its `restore` attribute)."""
    response = client.describe_db_cluster_snapshot_attributes(aws_retry=True, DBClusterSnapshotIdentifier=identifier)
    for attribute in response["DBClusterSnapshotAttributesResult"].get("DBClusterSnapshotAttributes", []):
        if attribute.get("AttributeName") == "restore":
            return list(attribute.get("AttributeValues") or [])
    return []
