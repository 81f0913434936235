# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Aurora cluster restore: describe, guards, a plan computed from what exists, and the steps that carry it out.

The restore is a plan recomputed from the observed state on every run, so a rerun after a crash at any
point continues from what exists (half-deleted target, temporary cluster present, instance missing, retired
cluster left) and a rerun after success has nothing to do. Guards run while planning, before any step, so a
refusal changes nothing.

Which clusters are ours, and how far they got, is known from tags: the collection's markers (markers.py)
plus three keys of this module (READY_KEY, SECRET_VERSION_KEY, RETIRED_FROM_KEY).
"""

from __future__ import annotations

import re
import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = None

from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import RETRY
from ansible_collections.dbops.aurora_restore.plugins.module_utils import markers
from ansible_collections.dbops.aurora_restore.plugins.module_utils import naming
from ansible_collections.dbops.aurora_restore.plugins.module_utils import statuses
from ansible_collections.dbops.aurora_restore.plugins.module_utils.snapshots import lookup_params as snapshot_lookup_params
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import error_code
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import OPERATION_ID_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import PROTECTED_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SOURCE_SNAPSHOT_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import TARGET_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import is_ours
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import is_protected
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import tags_dict
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import with_markers
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import Observation
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitFailed
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitTimeout
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import wait_until

# This module's own progress tags (on clusters it restored, or retired).
READY_KEY = "dbops:aurora_restore:ready"  # "true" once instances are up and the master password is reset
SECRET_VERSION_KEY = "dbops:aurora_restore:master-secret-version"  # VersionId of the secret last applied
RETIRED_FROM_KEY = "dbops:aurora_restore:retired-from"  # on a target renamed away by a swap: its old name
# Set once ModifyDBCluster accepted a reset from that secret version: a rerun waits for it instead of starting over.
SECRET_APPLYING_KEY = "dbops:aurora_restore:master-secret-applying"
# The cluster name its TLS certificate was issued for: a renamed cluster serves the old name's certificate until it
# is stopped and started ("Modifying an Amazon Aurora DB cluster": change the identifier, then stop and restart).
CERTIFICATE_KEY = "dbops:aurora_restore:certificate-name"
RENEWING_PREFIX = "renewing:"  # the certificate tag's value from the stop until the start that renews it

CLUSTER_ARN_RE = re.compile(r"^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):cluster:(.+)$")
SNAPSHOT_ARN_RE = re.compile(r"^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):cluster-snapshot:(.+)$")

INSTANCE_GONE = statuses.INSTANCE_GONE

# Actions that change something (the others only wait).
CHANGING = ("disable_deletion_protection", "delete_instances", "delete_cluster", "restore_cluster", "create_instances",
            "reset_master_password", "mark_ready", "tag_retired", "rename", "start_cluster", "refresh_certificate")
# A stopped cluster refuses to be modified, renamed or deleted, and its instances to be added or removed
# ("Stopping and starting an Amazon Aurora DB cluster"): it is started first.
STOPPED = ("stopped", "stopping")


class RestoreError(Exception):
    """A one-line, user-facing reason the restore cannot go on."""


class GuardRefused(RestoreError):
    """A guard refused to delete, replace or rename a cluster; nothing was changed."""


# ------------------------------------------------------------------------------------------- inputs
def validate_identifier(value, option):
    """RDS identifier rules (naming.py); the identifier in lower case, as RDS stores it."""
    problem = naming.identifier_problem(value, option)
    if problem:
        raise RestoreError(problem)
    return value.lower()


def parse_cluster_arn(value):
    """(region, account, identifier) of a cluster ARN, or None when `value` is a plain identifier."""
    match = CLUSTER_ARN_RE.match(value or "")
    return match.groups() if match else None


def arn_region_account(arn):
    parts = (arn or "").split(":")
    return (parts[3], parts[4]) if len(parts) > 5 else (None, None)


def error_text(error):
    """One line: the AWS error code and the first line of its message."""
    if ClientError is not None and isinstance(error, ClientError):
        message = (error.response.get("Error", {}).get("Message") or "").strip().splitlines()
        return "%s: %s" % (error_code(error), message[0] if message else "")
    lines = str(error).strip().splitlines()
    return "%s: %s" % (type(error).__name__, lines[0] if lines else "")


def aws_call(what, function, **kwargs):
    """Call a (retrying) boto3 method; AWS errors become a one-line RestoreError naming the call."""
    try:
        return function(aws_retry=True, **kwargs)
    except Exception as error:  # pylint: disable=broad-except
        if (ClientError is not None and isinstance(error, ClientError)) or (BotoCoreError is not None and isinstance(error, BotoCoreError)):
            raise RestoreError("%s failed: %s" % (what, error_text(error))) from None
        raise


# ------------------------------------------------------------------------------------------- describe
def describe_cluster(client, identifier):
    """The cluster dict, or None when it does not exist."""
    try:
        found = client.describe_db_clusters(aws_retry=True, DBClusterIdentifier=identifier)["DBClusters"]
    except Exception as error:  # pylint: disable=broad-except
        if error_code(error) == "DBClusterNotFoundFault":
            return None
        if ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
            raise RestoreError("describing cluster %r failed: %s" % (identifier, error_text(error))) from None
        raise
    return found[0] if found else None


def describe_instance(client, identifier):
    try:
        found = client.describe_db_instances(aws_retry=True, DBInstanceIdentifier=identifier)["DBInstances"]
    except Exception as error:  # pylint: disable=broad-except
        if error_code(error) == "DBInstanceNotFound":
            return None
        if ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
            raise RestoreError("describing instance %r failed: %s" % (identifier, error_text(error))) from None
        raise
    return found[0] if found else None


def describe_cluster_instances(client, cluster_identifier):
    """Instances of a cluster (any status), writer first."""
    paginator = client.get_paginator("describe_db_instances")
    try:
        pages = paginate(paginator, Filters=[{"Name": "db-cluster-id", "Values": [cluster_identifier]}])
    except Exception as error:  # pylint: disable=broad-except
        if ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
            raise RestoreError("listing the instances of cluster %r failed: %s" % (cluster_identifier, error_text(error))) from None
        raise
    return [db for db in pages.get("DBInstances", []) if (db.get("DBClusterIdentifier") or "").lower() == cluster_identifier.lower()]


def paginate(paginator, **kwargs):
    """A paginator's full result, retried as a whole on throttling (paginators do not take aws_retry)."""
    return RETRY(lambda: paginator.paginate(**kwargs).build_full_result())()


def describe_snapshot(client, identifier):
    """The cluster snapshot named by id or ARN; a RestoreError naming it when it is missing or not available."""
    try:
        found = client.describe_db_cluster_snapshots(aws_retry=True, **snapshot_lookup_params(identifier))["DBClusterSnapshots"]
    except Exception as error:  # pylint: disable=broad-except
        if error_code(error) == "DBClusterSnapshotNotFoundFault":
            found = []
        elif ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
            raise RestoreError("describing snapshot %r failed: %s" % (identifier, error_text(error))) from None
        else:
            raise
    if not found:
        raise RestoreError("snapshot_identifier %r: no such cluster snapshot visible in this region and account" % identifier)
    snapshot = found[0]
    if snapshot.get("Status") != "available":
        raise RestoreError("snapshot_identifier %r is not available (status %r)" % (identifier, snapshot.get("Status")))
    return snapshot


def snapshot_exists(client, identifier):
    try:
        return bool(client.describe_db_cluster_snapshots(aws_retry=True, **snapshot_lookup_params(identifier))["DBClusterSnapshots"])
    except Exception as error:  # pylint: disable=broad-except
        if error_code(error) == "DBClusterSnapshotNotFoundFault":
            return False
        if ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
            raise RestoreError("describing snapshot %r failed: %s" % (identifier, error_text(error))) from None
        raise


def observe_state(client, identifiers):
    """{identifier: {"cluster": dict, "instances": [..]} or None} for each identifier."""
    state = {}
    for identifier in identifiers:
        cluster = describe_cluster(client, identifier)
        state[identifier] = None if cluster is None else {"cluster": cluster, "instances": describe_cluster_instances(client, identifier)}
    return state


# ------------------------------------------------------------------------------------------- classification
def cluster_tags(cluster):
    return tags_dict((cluster or {}).get("TagList"))


def restored_from(cluster, snapshot_arn, target):
    """True when `cluster` is one this collection restored from `snapshot_arn` for `target`."""
    tags = cluster_tags(cluster)
    return is_ours(cluster.get("TagList")) and tags.get(SOURCE_SNAPSHOT_KEY) == snapshot_arn and tags.get(TARGET_KEY, target) == target


def is_ready(cluster):
    return cluster_tags(cluster).get(READY_KEY) == "true"


def live_instances(entry):
    """Instances not being deleted, writer first (by cluster membership, then promotion tier)."""
    if not entry:
        return []
    writers = {m["DBInstanceIdentifier"] for m in entry["cluster"].get("DBClusterMembers", []) if m.get("IsClusterWriter")}
    alive = [db for db in entry["instances"] if db.get("DBInstanceStatus") not in INSTANCE_GONE]
    return sorted(alive, key=lambda db: (db["DBInstanceIdentifier"] not in writers, db.get("PromotionTier", 1), db["DBInstanceIdentifier"]))


def writer_of(entry):
    for member in (entry or {}).get("cluster", {}).get("DBClusterMembers", []):
        if member.get("IsClusterWriter"):
            return member["DBInstanceIdentifier"]
    return None


# ------------------------------------------------------------------------------------------- guards
def guard(entry, ctx, verb):
    """Refuse (GuardRefused) to delete/replace/rename the cluster in `entry`; called while planning."""
    cluster = entry["cluster"]
    ident = cluster["DBClusterIdentifier"]
    region, account = arn_region_account(cluster.get("DBClusterArn"))
    if region and region != ctx["region"]:
        raise GuardRefused("refusing to %s cluster %r: it is in region %r, not the configured region %r" % (verb, ident, region, ctx["region"]))
    expected = ctx.get("expected_account_id")
    if expected and account and account != expected:
        raise GuardRefused("refusing to %s cluster %r: it is in account %r, not expected_account_id %r" % (verb, ident, account, expected))
    source = (ctx.get("source_cluster_identifier") or "").lower()
    snapshot = ctx["snapshot"]
    snap_region, snap_account = arn_region_account(snapshot.get("DBClusterSnapshotArn"))
    snapshot_source = (snapshot.get("DBClusterIdentifier") or "").lower()
    if source and source in (ident.lower(), (cluster.get("DBClusterArn") or "").lower()):
        raise GuardRefused("refusing to %s cluster %r: it is the source cluster (source_cluster_identifier)" % (verb, ident))
    if snapshot_source == ident.lower() and (snap_region, snap_account) == (region, account):
        raise GuardRefused("refusing to %s cluster %r: it is the source cluster of snapshot %r"
                           % (verb, ident, snapshot.get("DBClusterSnapshotIdentifier")))
    if is_protected(cluster.get("TagList")):
        raise GuardRefused("refusing to %s cluster %r: it carries the protection tag %s=%s; remove the tag to allow it"
                           % (verb, ident, PROTECTED_KEY, cluster_tags(cluster).get(PROTECTED_KEY)))
    if cluster.get("DeletionProtection") and not ctx.get("allow_disable_deletion_protection"):
        raise GuardRefused("refusing to %s cluster %r: deletion protection is enabled; set allow_disable_deletion_protection=true "
                           "to turn it off as part of the restore" % (verb, ident))


# ------------------------------------------------------------------------------------------- planning
def performance_insights_request(options):
    """CreateDBInstance's Performance Insights parameters (on Aurora, Performance Insights is set per instance)."""
    if not options or options.get("enabled") is None:
        return {}
    request = {"EnablePerformanceInsights": bool(options["enabled"])}
    if options["enabled"]:
        if options.get("retention_days"):
            request["PerformanceInsightsRetentionPeriod"] = int(options["retention_days"])
        if options.get("kms_key_id"):
            request["PerformanceInsightsKMSKeyId"] = options["kms_key_id"]
    return request


def instance_specs(instances, target):
    """[{class, tier, az, parameter_group}] writer first, from the `instances` option."""
    count = instances["count"]
    tiers = list(instances.get("promotion_tiers") or [])
    zones = list(instances.get("availability_zones") or [])
    specs = []
    for index in range(count):
        specs.append({
            "instance_class": instances["instance_class"],
            "promotion_tier": tiers[index] if index < len(tiers) else min(index, 15),
            "availability_zone": zones[index % len(zones)] if zones else None,
        })
    return specs


def free_instance_names(target, count, taken):
    """`count` identifiers `<target>-<n>` (naming.instance) not in `taken` (a set of lower-case identifiers)."""
    names = []
    number = 1
    while len(names) < count:
        candidate = naming.instance(target, number)
        if candidate not in taken:
            names.append(candidate)
            taken.add(candidate)
        number += 1
    return names


def _step(action, phase, cluster, **details):
    step = {"action": action, "phase": phase, "cluster": cluster}
    step.update(details)
    return step


def _delete_tree(entry, ctx, phase, final_snapshot, guarded=True, verb="delete"):
    """Steps deleting a cluster: deletion protection off, instances (readers then writer), the cluster; waits."""
    cluster = entry["cluster"]
    ident = cluster["DBClusterIdentifier"]
    if guarded:
        guard(entry, ctx, verb)
    steps = []
    if cluster.get("Status") == "deleting":
        return [_step("wait_cluster_gone", phase, ident)]
    if cluster.get("Status") in STOPPED:
        steps.append(_step("start_cluster", phase, ident))
    if cluster.get("DeletionProtection"):
        steps.append(_step("disable_deletion_protection", phase, ident))
    alive = live_instances(entry)
    deleting = [db["DBInstanceIdentifier"] for db in entry["instances"] if db.get("DBInstanceStatus") in INSTANCE_GONE]
    if alive:
        # readers first, the writer last
        steps.append(_step("delete_instances", phase, ident, instances=[db["DBInstanceIdentifier"] for db in reversed(alive)]))
    elif deleting:
        steps.append(_step("wait_instances_gone", phase, ident, instances=deleting))
    steps.append(_step("delete_cluster", phase, ident, final_snapshot_identifier=final_snapshot))
    return steps


def _bring_up(ident, entry, ctx, taken, phase_prefix=""):
    """Steps restoring (if needed) `ident` and making it ready: instances, master password, ready tag."""
    steps = []
    specs = ctx["instance_specs"]
    cluster = entry["cluster"] if entry else None
    if cluster is None:
        steps.append(_step("restore_cluster", phase_prefix + "restore", ident, snapshot=ctx["snapshot"]["DBClusterSnapshotArn"]))
        steps.append(_step("wait_cluster_available", phase_prefix + "restore", ident))
        alive = []
    else:
        alive = live_instances(entry)
        if cluster.get("Status") not in ("available",) + STOPPED:
            steps.append(_step("wait_cluster_available", phase_prefix + "restore", ident))
    stopped = cluster is not None and cluster.get("Status") in STOPPED
    missing = specs[len(alive):]
    if missing:
        names = free_instance_names(ctx["target"], len(missing), taken)
        planned = []
        for name, spec in zip(names, missing):
            item = {"identifier": name}
            item.update(spec)
            planned.append(item)
        steps.append(_step("create_instances", phase_prefix + "instances", ident, instances=planned))
    settled = ("available", "stopped") if stopped else ("available",)
    if missing or any(db.get("DBInstanceStatus") not in settled for db in alive):
        steps.append(_step("wait_instances_available", phase_prefix + "instances", ident))
    tags = cluster_tags(cluster)
    secret_version = ctx.get("secret_version")
    ready = cluster is not None and is_ready(cluster)
    if ctx.get("master_secret_id") and (not ready or tags.get(SECRET_VERSION_KEY) != secret_version):
        if cluster is not None and tags.get(SECRET_APPLYING_KEY) == secret_version:
            steps.append(_step("wait_master_password", phase_prefix + "master_password", ident))
        else:
            steps.append(_step("reset_master_password", phase_prefix + "master_password", ident, secret_id=ctx["master_secret_id"]))
    if not ready or (ctx.get("master_secret_id") and tags.get(SECRET_VERSION_KEY) != secret_version):
        steps.append(_step("mark_ready", phase_prefix + "master_password", ident))
    if stopped:
        # Work on a stopped cluster starts it first; a ready cluster someone stopped has none, so it stays stopped.
        return [_step("start_cluster", phase_prefix + "restore", ident)] + steps if steps else []
    return steps


def plan(ctx, state, taken_instance_ids):
    """The steps from the observed `state` ({id: entry or None} for target, temp, retired) to a ready target.

    Raises GuardRefused / RestoreError before returning when something must not be touched.
    """
    target, temp, retired = ctx["target"], ctx["temp_id"], ctx["retired_id"]
    snapshot_arn = ctx["snapshot"]["DBClusterSnapshotArn"]
    final = ctx.get("final_snapshot_identifier")
    taken = set(taken_instance_ids)
    t_entry, p_entry, r_entry = state.get(target), state.get(temp), state.get(retired)
    steps = []

    if ctx["strategy"] == "replace":
        if t_entry and t_entry["cluster"].get("Status") == "deleting":
            steps.append(_step("wait_cluster_gone", "delete_target", target))
            t_entry = None
        elif t_entry and not restored_from(t_entry["cluster"], snapshot_arn, target):
            steps += _delete_tree(t_entry, ctx, "delete_target", final, verb="replace")
            # Their names are free again once the old cluster is gone: a replaced target keeps <target>-1...
            for db in t_entry["instances"]:
                taken.discard(db["DBInstanceIdentifier"].lower())
            t_entry = None
        steps += _bring_up(target, t_entry, ctx, taken)
        return steps

    # swap
    if r_entry and cluster_tags(r_entry["cluster"]).get(RETIRED_FROM_KEY) != target:
        raise GuardRefused("refusing to swap: retired identifier %r is taken by a cluster this module did not retire; rename or delete it, "
                           "or choose another retired_identifier_suffix" % retired)
    if p_entry and not (is_ours(p_entry["cluster"].get("TagList")) and cluster_tags(p_entry["cluster"]).get(TARGET_KEY) == target):
        raise GuardRefused("refusing to swap: temporary identifier %r is taken by a cluster this module did not create for %r; "
                           "rename or delete it, or choose another temporary_identifier_suffix" % (temp, target))

    if t_entry and restored_from(t_entry["cluster"], snapshot_arn, target):
        # The swap's renames are done (or the target was restored in place): finish it and clean up.
        if r_entry:
            guard(r_entry, ctx, "delete")
        steps += _bring_up(target, t_entry, ctx, taken)
        if ctx.get("refresh_certificate", True) and cluster_tags(t_entry["cluster"]).get(CERTIFICATE_KEY, target) != target:
            steps.append(_step("refresh_certificate", "swap", target))  # a crash came between rename and restart
        if p_entry:
            steps += _delete_tree(p_entry, ctx, "cleanup", None, guarded=False)
        if r_entry:
            steps += _delete_tree(r_entry, ctx, "delete_retired", final)
        return steps

    if t_entry:
        guard(t_entry, ctx, "swap")
    if r_entry:
        guard(r_entry, ctx, "delete")
    if p_entry and not restored_from(p_entry["cluster"], snapshot_arn, target):
        # Our own temporary cluster from an earlier run with another snapshot: start over.
        steps += _delete_tree(p_entry, ctx, "restore", None, guarded=False)
        p_entry = None
    steps += _bring_up(temp, p_entry, ctx, taken)
    if not ctx.get("cutover", True) and (t_entry or not r_entry):
        # Users, masking and smoke checks run on the temporary cluster first; a later call does the renames.
        # (Not when a crash left the target renamed away: it is down until the renames are finished.)
        return steps
    refresh = ctx.get("refresh_certificate", True)
    if t_entry:
        if r_entry:
            steps += _delete_tree(r_entry, ctx, "swap", final)  # an older retired cluster holds the name
        if t_entry["cluster"].get("Status") in STOPPED:
            steps.append(_step("start_cluster", "swap", target))
        steps.append(_step("tag_retired", "swap", target))
        steps.append(_step("rename", "swap", target, new_identifier=retired, downtime="start"))
        steps.append(_step("rename", "swap", temp, new_identifier=target, downtime=None if refresh else "end"))
        if refresh:
            steps.append(_step("refresh_certificate", "swap", target, downtime="end"))
        steps += [_step("disable_deletion_protection", "delete_retired", retired)] if t_entry["cluster"].get("DeletionProtection") else []
        steps.append(_step("delete_instances", "delete_retired", retired, instances=[db["DBInstanceIdentifier"] for db in reversed(live_instances(t_entry))]))
        steps.append(_step("delete_cluster", "delete_retired", retired, final_snapshot_identifier=final))
    else:
        # No target (first restore), or the crash came between the two renames.
        end = "end" if r_entry else None
        steps.append(_step("rename", "swap", temp, new_identifier=target, downtime=None if refresh else end))
        if refresh:
            steps.append(_step("refresh_certificate", "swap", target, downtime=end))
        if r_entry:
            steps += _delete_tree(r_entry, ctx, "delete_retired", final)
    return steps


def plan_changes(steps):
    return any(step["action"] in CHANGING for step in steps)


def public_plan(steps):
    """The plan as returned to the user (no snapshot dicts, no secrets: steps only name things)."""
    return [dict(step) for step in steps]


# ------------------------------------------------------------------------------------------- restore request
def restore_engine_version(params, snapshot):
    """(version, where it came from). RestoreDBClusterFromSnapshot without EngineVersion takes "the default version
    for the database engine in the Amazon Web Services Region" (RDS API reference), not the snapshot's: the
    snapshot's is always sent unless engine_version asks for another."""
    if params.get("engine_version"):
        return params["engine_version"], "engine_version option"
    return snapshot.get("EngineVersion"), "snapshot"


def restore_storage_type(params, snapshot):
    """The storage type sent: the option, else the snapshot's (the API's default is "aurora" whatever the source was,
    so an I/O-Optimized source would silently change its billing)."""
    return params.get("storage_type") or snapshot.get("StorageType") or "aurora"


def restore_request(ctx, identifier):
    """RestoreDBClusterFromSnapshot parameters for `identifier`."""
    params = ctx["restore_options"]
    snapshot = ctx["snapshot"]
    request = {
        "DBClusterIdentifier": identifier,
        "SnapshotIdentifier": snapshot["DBClusterSnapshotArn"],
        "Engine": snapshot.get("Engine") or "aurora-postgresql",
        "Tags": with_markers(params.get("tags"), source_snapshot_arn=snapshot["DBClusterSnapshotArn"],
                             operation_id=ctx.get("operation_id"), target=ctx["target"]),
        "StorageType": restore_storage_type(params, snapshot),
    }
    version = restore_engine_version(params, snapshot)[0]
    if version:
        request["EngineVersion"] = version
    mapping = (
        ("port", "Port"), ("db_subnet_group_name", "DBSubnetGroupName"),
        ("vpc_security_group_ids", "VpcSecurityGroupIds"), ("kms_key_id", "KmsKeyId"),
        ("db_cluster_parameter_group_name", "DBClusterParameterGroupName"), ("deletion_protection", "DeletionProtection"),
        ("enable_iam_database_authentication", "EnableIAMDatabaseAuthentication"),
        ("enable_cloudwatch_logs_exports", "EnableCloudwatchLogsExports"),
        ("engine_lifecycle_support", "EngineLifecycleSupport"), ("copy_tags_to_snapshot", "CopyTagsToSnapshot"),
        ("backup_retention_period", "BackupRetentionPeriod"),
    )
    for option, key in mapping:
        if params.get(option) not in (None, [], ""):
            request[key] = params[option]
    scaling = params.get("serverless_v2_scaling")
    if scaling:
        request["ServerlessV2ScalingConfiguration"] = {"MinCapacity": float(scaling["min_capacity"]), "MaxCapacity": float(scaling["max_capacity"])}
    return request


# ------------------------------------------------------------------------------------------- observers
def observe_cluster_available(client, identifier, need_writer=False):
    def observe():
        cluster = describe_cluster(client, identifier)
        if cluster is None:
            return Observation("not-found")
        status = cluster.get("Status")
        if status == "stopped":
            return Observation(status, failed=True, resource=cluster,
                               reason="cluster %r is stopped: nothing makes it available until it is started" % identifier)
        problem = statuses.problem("cluster", identifier, status)
        if problem:
            return Observation(status, failed=True, resource=cluster, reason=problem)
        done = status == "available"
        if done and need_writer:
            writer = writer_of({"cluster": cluster})
            instance = describe_instance(client, writer) if writer else None
            if instance is None or instance.get("DBInstanceStatus") != "available":
                return Observation("available, writer %s" % ((instance or {}).get("DBInstanceStatus") or "missing"), resource=cluster)
        return Observation(status, done=done, resource=cluster)
    return observe


def observe_cluster_stopped(client, identifier):
    def observe():
        cluster = describe_cluster(client, identifier)
        if cluster is None:
            return Observation("not-found", failed=True, reason="cluster %r disappeared" % identifier)
        status = cluster.get("Status")
        problem = statuses.problem("cluster", identifier, status)
        if problem:
            return Observation(status, failed=True, resource=cluster, reason=problem)
        return Observation(status, done=status == "stopped", resource=cluster)
    return observe


def observe_cluster_gone(client, identifier):
    def observe():
        cluster = describe_cluster(client, identifier)
        if cluster is None:
            return Observation("deleted", done=True)
        status = cluster.get("Status")
        if statuses.classify("cluster", status) == "unknown":
            return Observation(status, failed=True, resource=cluster, reason=statuses.problem("cluster", identifier, status))
        return Observation(status, resource=cluster)
    return observe


def observe_password_reset(client, identifier, started, saw_reset, clock=time.monotonic, grace=15.0):
    """Done when the cluster is available again with no pending password; `saw_reset[0]` says if the reset was seen start."""
    def observe():
        cluster = describe_cluster(client, identifier)
        if cluster is None:
            return Observation("not-found", failed=True, reason="cluster %r disappeared" % identifier)
        status = cluster.get("Status")
        problem = statuses.problem("cluster", identifier, status) if status != "stopped" else \
            "cluster %r was stopped during its master password reset; start it and run again" % identifier
        if problem:
            return Observation(status, failed=True, reason=problem)
        if status != "available":
            saw_reset[0] = True
            return Observation(status)
        pending = (cluster.get("PendingModifiedValues") or {}).get("MasterUserPassword")
        done = not pending and (saw_reset[0] or clock() - started >= grace)
        return Observation(status if done else "available, reset pending", done=done)
    return observe


def observe_instances(client, cluster_identifier, count):
    """Done when the cluster has `count` available instances, one of them its writer."""
    def observe():
        cluster = describe_cluster(client, cluster_identifier)
        if cluster is None:
            return Observation("cluster not-found", failed=True, reason="cluster %r disappeared" % cluster_identifier)
        instances = [db for db in describe_cluster_instances(client, cluster_identifier) if db.get("DBInstanceStatus") not in INSTANCE_GONE]
        for db in instances:
            status = db.get("DBInstanceStatus")
            problem = statuses.problem("instance", db["DBInstanceIdentifier"], status) if status != "stopped" else \
                "instance %r is stopped: start cluster %r" % (db["DBInstanceIdentifier"], cluster_identifier)
            if problem:
                return Observation("%s %s" % (db["DBInstanceIdentifier"], status), failed=True, reason=problem)
        available = [db for db in instances if db.get("DBInstanceStatus") == "available"]
        writer = writer_of({"cluster": cluster})
        done = len(available) >= count and writer in {db["DBInstanceIdentifier"] for db in available}
        statuses_seen = sorted(set(db.get("DBInstanceStatus") for db in instances)) or ["none"]
        return Observation("%d/%d available (%s)" % (len(available), count, ",".join(statuses_seen)), done=done)
    return observe


def observe_instances_gone(client, identifiers):
    def observe():
        left = [ident for ident in identifiers if describe_instance(client, ident) is not None]
        return Observation("%d left" % len(left), done=not left)
    return observe


# ------------------------------------------------------------------------------------------- execution
class Runner:
    """Carries out a plan's steps with a single deadline; records timings per phase, waits and the swap's downtime."""

    def __init__(self, client, ctx, wait_timeout, min_interval, max_interval, password_reader=None, clock=time.monotonic,
                 sleep=time.sleep, on_progress=None, waited_before=0.0):
        self.client = client
        # How long an earlier call (slice) already waited: it was waiting on what this call's first wait continues.
        self.waited_before = waited_before
        self.ctx = ctx
        self.clock = clock
        self.sleep = sleep
        self.started = clock()
        self.deadline = self.started + wait_timeout
        self.wait_timeout = wait_timeout
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.password_reader = password_reader
        self.on_progress = on_progress
        self.changed = False
        self.timings = {}
        self.waits = []
        self.done = []
        self.downtime_started = None
        self.downtime_seconds = None
        self.final_snapshots = []
        self.current = None

    # --- waiting
    def wait(self, observe, what, fast=False):
        remaining = max(0.0, self.deadline - self.clock())
        min_interval = min(self.min_interval, 0.5) if fast else self.min_interval
        waited_before, self.waited_before = self.waited_before, 0.0
        try:
            report = wait_until(observe, what, remaining, min_interval=min_interval, max_interval=max(min_interval, self.max_interval),
                                on_progress=self.on_progress, clock=self.clock, sleep=self.sleep, waited_before=waited_before)
        except WaitTimeout as error:
            self.waits.append({"what": what, "status": error.last_status, "timed_out": True})
            raise RestoreError("%s (wait_timeout=%ss for the whole run); run again to resume from here" % (error, self.wait_timeout)) from None
        except WaitFailed as error:
            raise RestoreError(str(error)) from None
        self.waits.append({"what": what, "waited_seconds": report["waited_seconds"], "polls": report["polls"], "status": report["status"]})
        return report

    # --- steps
    def run(self, steps):
        for step in steps:
            self.current = step
            began = self.clock()
            getattr(self, "do_" + step["action"])(step)
            if step["action"] in CHANGING:
                self.changed = True
            elapsed = self.clock() - began
            self.timings[step["phase"]] = round(self.timings.get(step["phase"], 0.0) + elapsed, 2)
            self.done.append(step["action"] + ":" + step["cluster"])
        self.current = None
        self.timings["total"] = round(self.clock() - self.started, 2)

    def do_wait_cluster_gone(self, step):
        self.wait(observe_cluster_gone(self.client, step["cluster"]), "cluster %r to be deleted" % step["cluster"])

    def do_wait_cluster_available(self, step):
        self.wait(observe_cluster_available(self.client, step["cluster"]), "cluster %r to become available" % step["cluster"])

    def do_start_cluster(self, step):
        """A stopped (or stopping) cluster is started and waited for: AWS refuses to change it while stopped."""
        ident = step["cluster"]
        cluster = describe_cluster(self.client, ident)
        if cluster is not None and cluster.get("Status") == "stopping":
            self.wait(observe_cluster_stopped(self.client, ident), "cluster %r to finish stopping" % ident)
            cluster = describe_cluster(self.client, ident)
        if cluster is not None and cluster.get("Status") == "stopped":
            aws_call("starting cluster %r" % ident, self.client.start_db_cluster, DBClusterIdentifier=ident)
            self.changed = True
        self.wait(observe_cluster_available(self.client, ident, need_writer=bool(live_instances(
            {"cluster": cluster or {}, "instances": describe_cluster_instances(self.client, ident)}))),
            "cluster %r to start" % ident)

    def do_refresh_certificate(self, step):
        """Stop and start the renamed cluster so its TLS certificate names its new endpoints. Resumable: the
        certificate tag says "renewing:<name>" from the stop on, so a rerun that finds the cluster stopping, stopped,
        starting or available again goes on from there instead of stopping it once more."""
        ident = step["cluster"]
        cluster = describe_cluster(self.client, ident) or {}
        status = cluster.get("Status")
        renewing = cluster_tags(cluster).get(CERTIFICATE_KEY) == RENEWING_PREFIX + ident
        if status not in ("stopping", "stopped", "starting") and not renewing:
            self.wait(observe_cluster_available(self.client, ident, need_writer=True), "cluster %r to become available" % ident, fast=True)
            aws_call("stopping cluster %r to renew its certificate" % ident, self.client.stop_db_cluster, DBClusterIdentifier=ident)
            self.changed = True
            self._tag(ident, {CERTIFICATE_KEY: RENEWING_PREFIX + ident}, "recording the certificate renewal")
            status = "stopping"
        if status == "stopping":
            self.wait(observe_cluster_stopped(self.client, ident), "cluster %r to stop (certificate renewal)" % ident)
            status = "stopped"
        if status == "stopped":
            aws_call("starting cluster %r" % ident, self.client.start_db_cluster, DBClusterIdentifier=ident)
            self.changed = True
        self.wait(observe_cluster_available(self.client, ident, need_writer=True),
                  "cluster %r to start with a certificate for its new name" % ident)
        self._tag(ident, {CERTIFICATE_KEY: ident}, "recording its certificate's name")
        if step.get("downtime") == "end" and self.downtime_started is not None:
            self.downtime_seconds = round(self.clock() - self.downtime_started, 2)

    def do_disable_deletion_protection(self, step):
        ident = step["cluster"]
        self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)
        aws_call("turning off deletion protection of cluster %r" % ident, self.client.modify_db_cluster,
                 DBClusterIdentifier=ident, DeletionProtection=False, ApplyImmediately=True)
        self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)

    def do_delete_instances(self, step):
        ident = step["cluster"]
        if self.ctx["strategy"] == "replace" and step["phase"] == "delete_target" and self.downtime_started is None:
            self.downtime_started = self.clock()
        cluster = describe_cluster(self.client, ident)
        if cluster is not None and cluster.get("Status") not in ("available", "deleting"):
            self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)
        pending = []
        for name in step["instances"]:  # readers first, the writer last
            instance = describe_instance(self.client, name)
            if instance is None:
                continue
            pending.append(name)
            if instance.get("DBInstanceStatus") in INSTANCE_GONE:
                continue
            try:
                self.client.delete_db_instance(aws_retry=True, DBInstanceIdentifier=name, SkipFinalSnapshot=True)
            except Exception as error:  # pylint: disable=broad-except
                if error_code(error) in ("DBInstanceNotFound", "InvalidDBInstanceState") and describe_instance(self.client, name) is None:
                    continue
                if ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
                    raise RestoreError("deleting instance %r of cluster %r failed: %s" % (name, ident, error_text(error))) from None
                raise
        self.changed = True
        if pending:
            self.wait(observe_instances_gone(self.client, pending), "the instances of cluster %r to be deleted" % ident)

    def do_wait_instances_gone(self, step):
        self.wait(observe_instances_gone(self.client, step["instances"]), "the instances of cluster %r to be deleted" % step["cluster"])

    def do_delete_cluster(self, step):
        ident = step["cluster"]
        final = step.get("final_snapshot_identifier")
        cluster = describe_cluster(self.client, ident)
        if cluster is not None and cluster.get("Status") != "deleting":
            if cluster.get("Status") != "available":
                self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)
            request = {"DBClusterIdentifier": ident}
            if final:
                request["FinalDBSnapshotIdentifier"] = final
            else:
                request["SkipFinalSnapshot"] = True
            try:
                self.client.delete_db_cluster(aws_retry=True, **request)
            except Exception as error:  # pylint: disable=broad-except
                code = error_code(error)
                if code == "DBClusterSnapshotAlreadyExistsFault":
                    raise RestoreError("final snapshot %r already exists; cluster %r was not deleted: choose another final_snapshot_identifier"
                                       % (final, ident)) from None
                if ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
                    raise RestoreError("deleting cluster %r failed: %s" % (ident, error_text(error))) from None
                raise
            if final:
                self.final_snapshots.append(final)
            self.changed = True
        self.wait(observe_cluster_gone(self.client, ident), "cluster %r to be deleted" % ident)
        if final and final in self.final_snapshots:
            self._mark_final_snapshot(final)

    def _mark_final_snapshot(self, name):
        """The final snapshot carries the collection's markers, so retention finds it (DeleteDBCluster takes no tags)."""
        try:
            found = self.client.describe_db_cluster_snapshots(aws_retry=True, DBClusterSnapshotIdentifier=name)["DBClusterSnapshots"]
        except Exception as error:  # pylint: disable=broad-except
            if error_code(error) != "DBClusterSnapshotNotFoundFault":
                raise RestoreError("describing final snapshot %r failed: %s" % (name, error_text(error))) from None
            found = []
        if not found:
            raise RestoreError("final snapshot %r is missing after the delete of its cluster" % name)
        aws_call("tagging final snapshot %r" % name, self.client.add_tags_to_resource, ResourceName=found[0]["DBClusterSnapshotArn"],
                 Tags=markers.final_snapshot_markers(self.ctx["target"], self.ctx.get("operation_id")))

    def do_restore_cluster(self, step):
        ident = step["cluster"]
        request = restore_request(self.ctx, ident)
        try:
            self.client.restore_db_cluster_from_snapshot(aws_retry=True, **request)
        except Exception as error:  # pylint: disable=broad-except
            if error_code(error) == "DBClusterAlreadyExistsFault":
                existing = describe_cluster(self.client, ident)
                if existing is not None and restored_from(existing, step["snapshot"], self.ctx["target"]):
                    return  # an earlier attempt's request went through after all
            if ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
                raise RestoreError("restoring cluster %r from snapshot %r failed: %s" % (ident, step["snapshot"], error_text(error))) from None
            raise

    def do_create_instances(self, step):
        ident = step["cluster"]
        engine = self.ctx["snapshot"].get("Engine") or "aurora-postgresql"
        options = self.ctx["restore_options"]
        tags = with_markers(options.get("tags"), source_snapshot_arn=self.ctx["snapshot"]["DBClusterSnapshotArn"],
                            operation_id=self.ctx.get("operation_id"), target=self.ctx["target"])
        for spec in step["instances"]:  # the writer first: the first instance of a cluster becomes its writer
            request = {"DBInstanceIdentifier": spec["identifier"], "DBClusterIdentifier": ident, "Engine": engine,
                       "DBInstanceClass": spec["instance_class"], "PromotionTier": spec["promotion_tier"], "Tags": tags}
            if spec.get("availability_zone"):
                request["AvailabilityZone"] = spec["availability_zone"]
            if options.get("db_parameter_group_name"):
                request["DBParameterGroupName"] = options["db_parameter_group_name"]
            request.update(performance_insights_request(options["instances"].get("performance_insights")))
            try:
                self.client.create_db_instance(aws_retry=True, **request)
            except Exception as error:  # pylint: disable=broad-except
                if error_code(error) == "DBInstanceAlreadyExists":
                    existing = describe_instance(self.client, spec["identifier"])
                    if existing and (existing.get("DBClusterIdentifier") or "").lower() == ident:
                        continue
                if ClientError is not None and isinstance(error, (ClientError, BotoCoreError)):
                    raise RestoreError("creating instance %r in cluster %r failed: %s" % (spec["identifier"], ident, error_text(error))) from None
                raise

    def do_wait_instances_available(self, step):
        self.wait(observe_instances(self.client, step["cluster"], len(self.ctx["instance_specs"])),
                  "the instances of cluster %r to become available" % step["cluster"])

    def do_reset_master_password(self, step):
        ident = step["cluster"]
        password = self.password_reader()
        self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)
        started = self.clock()
        response = aws_call("resetting the master password of cluster %r" % ident, self.client.modify_db_cluster,
                            DBClusterIdentifier=ident, MasterUserPassword=password, ApplyImmediately=True)
        saw_reset = [response.get("DBCluster", {}).get("Status") not in (None, "available")]
        self._tag(ident, {SECRET_APPLYING_KEY: self.ctx.get("secret_version") or "unknown"}, "recording the password reset")
        self.wait(observe_password_reset(self.client, ident, started, saw_reset, clock=self.clock),
                  "the master password reset of cluster %r" % ident)

    def do_wait_master_password(self, step):
        ident = step["cluster"]
        # An earlier run's reset was accepted: it completes on its own, wait for it.
        self.wait(observe_password_reset(self.client, ident, self.clock() - 3600, [True], clock=self.clock),
                  "the master password reset of cluster %r" % ident)

    def _tag(self, ident, tags, what):
        cluster = describe_cluster(self.client, ident)
        if cluster is None:
            raise RestoreError("cluster %r disappeared while %s" % (ident, what))
        aws_call("tagging cluster %r" % ident, self.client.add_tags_to_resource, ResourceName=cluster["DBClusterArn"],
                 Tags=[{"Key": key, "Value": value} for key, value in tags.items()])

    def do_mark_ready(self, step):
        tags = {READY_KEY: "true", CERTIFICATE_KEY: step["cluster"]}
        if self.ctx.get("master_secret_id"):
            tags[SECRET_VERSION_KEY] = self.ctx.get("secret_version") or "unknown"
        if self.ctx.get("operation_id"):
            tags[OPERATION_ID_KEY] = self.ctx["operation_id"]
        self._tag(step["cluster"], tags, "marking it ready")

    def do_tag_retired(self, step):
        self._tag(step["cluster"], {RETIRED_FROM_KEY: self.ctx["target"]}, "marking it for retirement")

    def do_rename(self, step):
        old, new = step["cluster"], step["new_identifier"]
        self.wait(observe_cluster_available(self.client, old), "cluster %r to become available" % old, fast=True)
        if step.get("downtime") == "start":
            self.downtime_started = self.clock()
        aws_call("renaming cluster %r to %r" % (old, new), self.client.modify_db_cluster,
                 DBClusterIdentifier=old, NewDBClusterIdentifier=new, ApplyImmediately=True)
        self.changed = True
        # The old name must be free before anything else takes it; the new one must answer, with a writer.
        self.wait(observe_cluster_gone(self.client, old), "the name %r to be released by the rename to %r" % (old, new), fast=True)
        if step.get("downtime") != "start":
            # The retired cluster is waited for only before it is deleted: the target is down meanwhile.
            self.wait(observe_cluster_available(self.client, new, need_writer=True), "cluster %r to become available after the rename" % new,
                      fast=True)
        if step.get("downtime") == "end" and self.downtime_started is not None:
            self.downtime_seconds = round(self.clock() - self.downtime_started, 2)

    def finish_replace_downtime(self):
        if self.ctx["strategy"] == "replace" and self.downtime_started is not None:
            self.downtime_seconds = round(self.clock() - self.downtime_started, 2)
