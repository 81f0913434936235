# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS's status names for Aurora clusters, instances and cluster snapshots, and what each means for a wait.

From the Aurora User Guide ("Viewing DB cluster status", "Viewing Aurora DB instance status") and the statuses
AWS's own CloudFormation and Terraform providers wait on. A wait goes on through a transitional status, ends on a
steady one, and fails at once, naming the status and what to do, on a failure status. A status in none of these
lists fails too: a wait that cannot know whether it will ever end must not run silently to its deadline.
"""

from __future__ import annotations

CLUSTER_TRANSITIONAL = frozenset((
    "creating", "deleting", "modifying", "renaming", "resetting-master-credentials", "backing-up", "maintenance",
    "upgrading", "starting", "stopping", "failing-over", "promoting", "migrating", "storage-optimization",
    "update-iam-db-auth", "backtracking", "configuring-enhanced-monitoring", "configuring-iam-database-auth",
    "preparing-data-migration", "rebooting", "scaling-compute", "scaling-storage",
))
CLUSTER_STEADY = frozenset(("available", "stopped"))
CLUSTER_FAILED = {
    "failed": "the cluster failed and cannot be recovered; delete it and restore again",
    "inaccessible-encryption-credentials": "its KMS key cannot be accessed or recovered; check the key and its policy",
    "inaccessible-encryption-credentials-recoverable": "its KMS key is not accessible; once the key is enabled again, "
                                                       "starting the cluster can recover it",
    "incompatible-network": "its network (subnet group, VPC) is incompatible",
    "incompatible-parameters": "its parameter group is incompatible with the engine version",
    "incompatible-restore": "the restore could not complete",
    "restore-failed": "the restore failed",
    "migration-failed": "the migration failed",
    "cloning-failed": "the clone failed",
}

INSTANCE_TRANSITIONAL = frozenset((
    "backing-up", "backtracking", "configuring-enhanced-monitoring", "configuring-iam-database-auth",
    "configuring-log-exports", "converting-to-vpc", "creating", "delete-precheck", "deleting", "maintenance", "modifying",
    "moving-to-vpc", "rebooting", "renaming", "resetting-master-credentials", "starting", "stopping",
    "storage-optimization", "upgrading",
))
INSTANCE_STEADY = frozenset(("available", "stopped"))
# Statuses of an instance on its way out: `delete-precheck` comes before `deleting`.
INSTANCE_GONE = frozenset(("deleting", "delete-precheck"))
INSTANCE_FAILED = {
    "failed": "the instance failed and cannot be recovered; delete it and run again",
    "inaccessible-encryption-credentials": "its KMS key cannot be accessed or recovered",
    "inaccessible-encryption-credentials-recoverable": "its KMS key is not accessible; it can recover once the key is "
                                                       "enabled again",
    "incompatible-network": "its network (subnet group, VPC) is incompatible",
    "incompatible-option-group": "its option group is incompatible",
    "incompatible-parameters": "its parameter group is incompatible with the engine version",
    "incompatible-restore": "the restore could not complete",
    "incompatible-create": "it could not be created",
    "incompatible-credentials": "its credentials are incompatible",
    "insufficient-capacity": "AWS has no capacity for this instance class in this availability zone now; delete the "
                             "instance and run again later, or choose another class or zone",
    "restore-error": "it failed to restore",
    "storage-full": "its storage is full",
    "modify-failed": "a modification failed",
    "upgrade-failed": "an upgrade failed",
}

SNAPSHOT_TRANSITIONAL = frozenset(("creating", "copying"))
SNAPSHOT_STEADY = frozenset(("available",))
SNAPSHOT_FAILED = {
    "failed": "the snapshot failed",
    "error": "the snapshot failed",
    "incompatible-restore": "the snapshot cannot be restored",
    "deleted": "the snapshot was deleted",
    "deleting": "the snapshot is being deleted",
}

_KINDS = {
    "cluster": (CLUSTER_TRANSITIONAL, CLUSTER_STEADY, CLUSTER_FAILED),
    "instance": (INSTANCE_TRANSITIONAL, INSTANCE_STEADY, INSTANCE_FAILED),
    "snapshot": (SNAPSHOT_TRANSITIONAL, SNAPSHOT_STEADY, SNAPSHOT_FAILED),
}


def classify(kind, status):
    """'transitional', 'steady', 'failed' or 'unknown' for a cluster / instance / snapshot status."""
    transitional, steady, failed = _KINDS[kind]
    if status in steady:
        return "steady"
    if status in transitional:
        return "transitional"
    if status in failed:
        return "failed"
    return "unknown"


def problem(kind, name, status):
    """None while a wait on `name` may go on; else one line saying why it cannot."""
    verdict = classify(kind, status)
    if verdict == "failed":
        return "%s %r is %s: %s" % (kind, name, status, _KINDS[kind][2][status])
    if verdict == "unknown":
        return ("%s %r is in status %r, which this collection does not know; the wait stops rather than run to its "
                "deadline (check the %s in the RDS console)" % (kind, name, status, kind))
    return None
