# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Restores from a cluster instead of a snapshot (pure): a copy-on-write clone of it now, or a full copy at a point in
time, with RestoreDBClusterToPointInTime. The plan (restore_plan.py) reads the source cluster as it reads a snapshot."""

from __future__ import annotations

import hashlib

from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreContext
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restore_request

SOURCE_TYPES = ("snapshot", "clone", "point_in_time")


def source_key(source_type, cluster_arn, restore_to_time=None, operation_id=None):
    """What a cluster restored from a cluster is tagged with (markers.SOURCE_SNAPSHOT_KEY), as a snapshot restore is
    with its snapshot's ARN: equal keys mean the same restore, so a rerun resumes it and a new operation makes a new
    one. A clone or a latest-time restore belongs to its operation; a restore to a given time to that time."""
    kind = "clone" if source_type == "clone" else "point-in-time"
    moment = restore_to_time or "latest"
    key = "%s:%s@%s" % (kind, cluster_arn, moment)
    if not restore_to_time and operation_id:
        key += "#" + hashlib.sha256(operation_id.encode("utf-8")).hexdigest()[:12]
    return key


def source_of_cluster(cluster, source_type, restore_to_time=None, operation_id=None, by_arn=False):
    """A source cluster described the way the plan reads a snapshot (its identity, engine, version, storage).
    `by_arn`: another account's cluster, which RestoreDBClusterToPointInTime names by its ARN."""
    return {
        "RestoreFrom": cluster["DBClusterArn"] if by_arn else cluster["DBClusterIdentifier"],
        "DBClusterSnapshotArn": source_key(source_type, cluster["DBClusterArn"], restore_to_time, operation_id),
        "DBClusterSnapshotIdentifier": "%s of %s" % (source_type.replace("_", "-"), cluster["DBClusterIdentifier"]),
        "DBClusterIdentifier": cluster["DBClusterIdentifier"],
        "Engine": cluster.get("Engine"),
        "EngineVersion": cluster.get("EngineVersion"),
        "StorageType": cluster.get("StorageType"),
        "MasterUsername": cluster.get("MasterUsername"),
        "SourceClusterArn": cluster["DBClusterArn"],
    }


def point_in_time_request(ctx, identifier):
    """RestoreDBClusterToPointInTime parameters for `identifier`: a copy-on-write clone now, or a full copy at
    restore_to_time (else the latest restorable time). The source's engine version is kept (the API takes none)."""
    ctx = RestoreContext.of(ctx)
    request = restore_request(ctx, identifier)
    for snapshot_only in ("SnapshotIdentifier", "Engine", "EngineVersion"):
        request.pop(snapshot_only, None)
    request["SourceDBClusterIdentifier"] = ctx.snapshot.get("RestoreFrom") or ctx.snapshot["DBClusterIdentifier"]
    if ctx.source_type == "clone":
        request.update(RestoreType="copy-on-write", UseLatestRestorableTime=True)
    elif ctx.restore_to_time:
        request.update(RestoreType="full-copy", RestoreToTime=ctx.restore_to_time)
    else:
        request.update(RestoreType="full-copy", UseLatestRestorableTime=True)
    return request
