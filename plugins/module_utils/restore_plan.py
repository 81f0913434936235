# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Aurora cluster restore, the pure part: the context, guards, a plan computed from what exists, the restore request.

No AWS calls here (rds_api.py reads AWS, restore_runner.py carries a plan out). The restore is a plan recomputed
from the observed state on every run, so a rerun after a crash at any point continues from what exists
(half-deleted target, temporary cluster present, instance missing, retired cluster left) and a rerun after
success has nothing to do. Guards run while planning, before any step, so a refusal changes nothing.

Which clusters are ours, and how far they got, is known from tags (markers.py).
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Mapping, Optional, Tuple

from ansible_collections.dbops.aurora_restore.plugins.module_utils import arns
from ansible_collections.dbops.aurora_restore.plugins.module_utils import naming
from ansible_collections.dbops.aurora_restore.plugins.module_utils import statuses
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import CERTIFICATE_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import OPERATION_ID_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import PROTECTED_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import READY_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import RETIRED_FROM_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SECRET_APPLYING_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SECRET_VERSION_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SOURCE_SNAPSHOT_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import TARGET_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import is_ours
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import is_protected
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import tags_dict
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import with_markers

INSTANCE_GONE = statuses.INSTANCE_GONE

# Actions that change something (the others only wait).
CHANGING = ("disable_deletion_protection", "delete_instances", "delete_cluster", "restore_cluster", "create_instances",
            "reset_master_password", "manage_master_password", "mark_ready", "tag_retired", "rename", "start_cluster", "refresh_certificate")
# A stopped cluster refuses to be modified, renamed or deleted, and its instances to be added or removed
# ("Stopping and starting an Amazon Aurora DB cluster"): it is started first.
STOPPED = ("stopped", "stopping")
# The options a restore's requests are built from (RestoreDBClusterFromSnapshot, CreateDBInstance): the context
# carries these, not the module's whole params.
RESTORE_OPTION_KEYS = (
    "tags", "port", "db_subnet_group_name", "vpc_security_group_ids", "kms_key_id", "db_cluster_parameter_group_name",
    "db_parameter_group_name", "deletion_protection", "enable_iam_database_authentication", "enable_cloudwatch_logs_exports",
    "engine_version", "storage_type", "engine_lifecycle_support", "copy_tags_to_snapshot", "backup_retention_period",
    "serverless_v2_scaling", "instances",
)


class RestoreError(Exception):
    """A one-line, user-facing reason the restore cannot go on."""

    def __init__(self, message, aws_error=None):
        super().__init__(message)
        # The botocore error behind it, if any: the module returns its structured fields (error code, request id).
        self.aws_error = aws_error


class GuardRefused(RestoreError):
    """A guard refused to delete, replace or rename a cluster; nothing was changed."""


@dataclasses.dataclass(frozen=True)
class RestoreContext:
    """What a restore plans and runs with: the identifiers, the snapshot, the guards' inputs and the request options."""

    target: str
    temp_id: str
    retired_id: str
    strategy: str
    region: str
    snapshot: Mapping[str, Any]
    instance_specs: Tuple[Mapping[str, Any], ...]
    restore_options: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    master_secret_id: Optional[str] = None
    secret_version: Optional[str] = None
    # secret: reset from master_secret_id; managed: RDS keeps the password in its own secret (ManageMasterUserPassword)
    master_password_mode: str = "secret"
    master_user_secret_kms_key_id: Optional[str] = None
    final_snapshot_identifier: Optional[str] = None
    allow_disable_deletion_protection: bool = False
    source_cluster_identifier: Optional[str] = None
    expected_account_id: Optional[str] = None
    operation_id: Optional[str] = None
    cutover: bool = True  # a swap with cutover=false stops before its renames
    # snapshot (RestoreDBClusterFromSnapshot), or clone / point_in_time of source_cluster_identifier
    # (RestoreDBClusterToPointInTime); `snapshot` then describes that source (restore_sources.source_of_cluster).
    source_type: str = "snapshot"
    restore_to_time: Optional[str] = None  # point_in_time only; None: the latest restorable time
    refresh_certificate: bool = True  # stop and start a renamed cluster so its certificate names its new endpoint
    force: bool = False  # restore again though the target was restored from this snapshot (is_current)

    @classmethod
    def of(cls, value):
        """`value` itself, or a RestoreContext of a mapping of its fields (restore_options cut to RESTORE_OPTION_KEYS)."""
        if isinstance(value, cls):
            return value
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(value) - names)
        if unknown:
            raise TypeError("RestoreContext has no field %s" % ", ".join(unknown))
        values = dict(value)
        values["snapshot"] = MappingProxyType(dict(values.get("snapshot") or {}))
        values["instance_specs"] = tuple(MappingProxyType(dict(spec)) for spec in values.get("instance_specs") or ())
        values["restore_options"] = restore_options(values.get("restore_options"))
        return cls(**values)


def restore_options(params):
    """The request options of a module's params, read-only."""
    return MappingProxyType({key: (params or {})[key] for key in RESTORE_OPTION_KEYS if key in (params or {})})


# ------------------------------------------------------------------------------------------- inputs
def validate_identifier(value, option):
    """RDS identifier rules (naming.py); the identifier in lower case, as RDS stores it."""
    problem = naming.identifier_problem(value, option)
    if problem:
        raise RestoreError(problem)
    return value.lower()


def parse_cluster_arn(value):
    """(region, account, identifier) of a cluster ARN, or None when `value` is a plain identifier."""
    return arns.rds_resource(value, "cluster")


# ------------------------------------------------------------------------------------------- classification
def cluster_tags(cluster):
    return tags_dict((cluster or {}).get("TagList"))


def restored_from(cluster, snapshot_arn, target):
    """True when `cluster` is one this collection restored from `snapshot_arn` for `target`."""
    tags = cluster_tags(cluster)
    return is_ours(cluster.get("TagList")) and tags.get(SOURCE_SNAPSHOT_KEY) == snapshot_arn and tags.get(TARGET_KEY, target) == target


def is_current(cluster, ctx):
    """True when `cluster` needs no new restore: restored from ctx's snapshot for its target and, with `force`, made
    ready by this very operation (a new operation restores again; a resume of it carries on)."""
    if not restored_from(cluster, ctx.snapshot["DBClusterSnapshotArn"], ctx.target):
        return False
    return not ctx.force or (ctx.operation_id is not None and cluster_tags(cluster).get(OPERATION_ID_KEY) == ctx.operation_id)


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
    ctx = RestoreContext.of(ctx)
    cluster = entry["cluster"]
    ident = cluster["DBClusterIdentifier"]
    region, account = arns.region_account(cluster.get("DBClusterArn"))
    if region and region != ctx.region:
        raise GuardRefused("refusing to %s cluster %r: it is in region %r, not the configured region %r" % (verb, ident, region, ctx.region))
    expected = ctx.expected_account_id
    if expected and account and account != expected:
        raise GuardRefused("refusing to %s cluster %r: it is in account %r, not expected_account_id %r" % (verb, ident, account, expected))
    source = (ctx.source_cluster_identifier or "").lower()
    snapshot = ctx.snapshot
    snap_region, snap_account = arns.region_account(snapshot.get("SourceClusterArn") or snapshot.get("DBClusterSnapshotArn"))
    snapshot_source = (snapshot.get("DBClusterIdentifier") or "").lower()
    if source and source in (ident.lower(), (cluster.get("DBClusterArn") or "").lower()):
        raise GuardRefused("refusing to %s cluster %r: it is the source cluster (source_cluster_identifier)" % (verb, ident))
    if snapshot_source == ident.lower() and (snap_region, snap_account) == (region, account):
        raise GuardRefused("refusing to %s cluster %r: it is the source cluster of snapshot %r"
                           % (verb, ident, snapshot.get("DBClusterSnapshotIdentifier")))
    if is_protected(cluster.get("TagList")):
        raise GuardRefused("refusing to %s cluster %r: it carries the protection tag %s=%s; remove the tag to allow it"
                           % (verb, ident, PROTECTED_KEY, cluster_tags(cluster).get(PROTECTED_KEY)))
    if cluster.get("DeletionProtection") and not ctx.allow_disable_deletion_protection:
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
    specs = ctx.instance_specs
    cluster = entry["cluster"] if entry else None
    if cluster is None:
        steps.append(_step("restore_cluster", phase_prefix + "restore", ident, snapshot=ctx.snapshot["DBClusterSnapshotArn"]))
        steps.append(_step("wait_cluster_available", phase_prefix + "restore", ident))
        alive = []
    else:
        alive = live_instances(entry)
        if cluster.get("Status") not in ("available",) + STOPPED:
            steps.append(_step("wait_cluster_available", phase_prefix + "restore", ident))
    stopped = cluster is not None and cluster.get("Status") in STOPPED
    missing = specs[len(alive):]
    if missing:
        names = free_instance_names(ctx.target, len(missing), taken)
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
    secret_version = ctx.secret_version
    ready = cluster is not None and is_ready(cluster)
    if ctx.master_password_mode == "managed" and not (cluster or {}).get("MasterUserSecret"):
        steps.append(_step("manage_master_password", phase_prefix + "master_password", ident))
    if ctx.master_secret_id and (not ready or tags.get(SECRET_VERSION_KEY) != secret_version):
        if cluster is not None and tags.get(SECRET_APPLYING_KEY) == secret_version:
            steps.append(_step("wait_master_password", phase_prefix + "master_password", ident))
        else:
            steps.append(_step("reset_master_password", phase_prefix + "master_password", ident, secret_id=ctx.master_secret_id))
    if not ready or (ctx.master_secret_id and tags.get(SECRET_VERSION_KEY) != secret_version):
        steps.append(_step("mark_ready", phase_prefix + "master_password", ident))
    if stopped:
        # Work on a stopped cluster starts it first; a ready cluster someone stopped has none, so it stays stopped.
        return [_step("start_cluster", phase_prefix + "restore", ident)] + steps if steps else []
    return steps


class TakenIdentifiers:
    """The instance identifiers already taken (lower-case), from an iterable or a function that lists them, called
    only when a plan names instances: the list is a paginated DescribeDBInstances of the whole account, which a plan
    that only waits (a wait's later slices) does without."""

    def __init__(self, source):
        self._source = source
        self._names = None

    def _loaded(self):
        if self._names is None:
            self._names = set(self._source() if callable(self._source) else self._source)
        return self._names

    def __contains__(self, name):
        return name in self._loaded()

    def add(self, name):
        self._loaded().add(name)

    def discard(self, name):
        self._loaded().discard(name)


def plan(ctx, state, taken_instance_ids):
    """The steps from the observed `state` ({id: entry or None} for target, temp, retired) to a ready target.

    Raises GuardRefused / RestoreError before returning when something must not be touched. `ctx`: a
    RestoreContext (or a mapping of its fields). `taken_instance_ids`: a set, or a function returning one, called
    only if the plan needs it (TakenIdentifiers).
    """
    ctx = RestoreContext.of(ctx)
    target, temp, retired = ctx.target, ctx.temp_id, ctx.retired_id
    final = ctx.final_snapshot_identifier
    taken = TakenIdentifiers(taken_instance_ids)
    t_entry, p_entry, r_entry = state.get(target), state.get(temp), state.get(retired)
    steps = []

    if ctx.strategy == "replace":
        if t_entry and t_entry["cluster"].get("Status") == "deleting":
            steps.append(_step("wait_cluster_gone", "delete_target", target))
            t_entry = None
        elif t_entry and not is_current(t_entry["cluster"], ctx):
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

    if t_entry and is_current(t_entry["cluster"], ctx):
        # The swap's renames are done (or the target was restored in place): finish it and clean up.
        if r_entry:
            guard(r_entry, ctx, "delete")
        steps += _bring_up(target, t_entry, ctx, taken)
        if ctx.refresh_certificate and cluster_tags(t_entry["cluster"]).get(CERTIFICATE_KEY, target) != target:
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
    if p_entry and not is_current(p_entry["cluster"], ctx):
        # Our own temporary cluster from an earlier run with another snapshot: start over.
        steps += _delete_tree(p_entry, ctx, "restore", None, guarded=False)
        p_entry = None
    steps += _bring_up(temp, p_entry, ctx, taken)
    if not ctx.cutover and (t_entry or not r_entry):
        # Users, masking and smoke checks run on the temporary cluster first; a later call does the renames.
        # (Not when a crash left the target renamed away: it is down until the renames are finished.)
        return steps
    refresh = ctx.refresh_certificate
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
    ctx = RestoreContext.of(ctx)
    params = ctx.restore_options
    snapshot = ctx.snapshot
    request = {
        "DBClusterIdentifier": identifier,
        "SnapshotIdentifier": snapshot["DBClusterSnapshotArn"],
        "Engine": snapshot.get("Engine") or "aurora-postgresql",
        "Tags": with_markers(params.get("tags"), source_snapshot_arn=snapshot["DBClusterSnapshotArn"],
                             operation_id=ctx.operation_id, target=ctx.target),
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
