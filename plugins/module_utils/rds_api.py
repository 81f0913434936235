# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Aurora cluster restore, the part that reads AWS: calls with one error rule, describes, observers for waits.

One rule for AWS errors: `call` maps the "not found" codes it is given to None and turns any other AWS error into a
one-line RestoreError naming what was being done, keeping the botocore error (RestoreError.aws_error) for the
module's structured failure.
"""

from __future__ import annotations

import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    BotoCoreError = ClientError = None

from ansible_collections.dbops.aurora_restore.plugins.module_utils import statuses
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import RETRY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import error_code
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import INSTANCE_GONE
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import writer_of
from ansible_collections.dbops.aurora_restore.plugins.module_utils.snapshots import lookup_params as snapshot_lookup_params
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import Observation
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import first_then

# AWS's "not found" error codes, per resource.
CLUSTER_NOT_FOUND = ("DBClusterNotFoundFault",)
INSTANCE_NOT_FOUND = ("DBInstanceNotFound",)
SNAPSHOT_NOT_FOUND = ("DBClusterSnapshotNotFoundFault",)


def is_aws_error(error):
    return ClientError is not None and isinstance(error, (ClientError, BotoCoreError))


def error_text(error):
    """One line: the AWS error code and the first line of its message."""
    if ClientError is not None and isinstance(error, ClientError):
        message = (error.response.get("Error", {}).get("Message") or "").strip().splitlines()
        return "%s: %s" % (error_code(error), message[0] if message else "")
    lines = str(error).strip().splitlines()
    return "%s: %s" % (type(error).__name__, lines[0] if lines else "")


def call(what, function, not_found=(), **kwargs):
    """`function(**kwargs)`, retried (aws_retry); None when AWS answers one of the `not_found` codes; any other AWS
    error a RestoreError "<what> failed: <code>: <message>" carrying the botocore error."""
    try:
        return function(aws_retry=True, **kwargs)
    except Exception as error:  # pylint: disable=broad-except
        if not_found and error_code(error) in not_found:
            return None
        if is_aws_error(error):
            raise RestoreError("%s failed: %s" % (what, error_text(error)), aws_error=error) from None
        raise


def aws_call(what, function, **kwargs):
    """Call a (retrying) boto3 method; AWS errors become a one-line RestoreError naming the call."""
    return call(what, function, **kwargs)


def paginate(paginator, **kwargs):
    """A paginator's full result, retried as a whole on throttling (paginators do not take aws_retry)."""
    return RETRY(lambda: paginator.paginate(**kwargs).build_full_result())()


# ------------------------------------------------------------------------------------------- describe
def describe_cluster(client, identifier):
    """The cluster dict, or None when it does not exist."""
    found = call("describing cluster %r" % identifier, client.describe_db_clusters, CLUSTER_NOT_FOUND, DBClusterIdentifier=identifier)
    return found["DBClusters"][0] if found and found["DBClusters"] else None


def describe_instance(client, identifier):
    """The instance dict, or None when it does not exist."""
    found = call("describing instance %r" % identifier, client.describe_db_instances, INSTANCE_NOT_FOUND, DBInstanceIdentifier=identifier)
    return found["DBInstances"][0] if found and found["DBInstances"] else None


def describe_cluster_instances(client, cluster_identifier):
    """Instances of a cluster (any status), writer first."""
    paginator = client.get_paginator("describe_db_instances")
    try:
        pages = paginate(paginator, Filters=[{"Name": "db-cluster-id", "Values": [cluster_identifier]}])
    except Exception as error:  # pylint: disable=broad-except
        if is_aws_error(error):
            raise RestoreError("listing the instances of cluster %r failed: %s" % (cluster_identifier, error_text(error)), aws_error=error) from None
        raise
    return [db for db in pages.get("DBInstances", []) if (db.get("DBClusterIdentifier") or "").lower() == cluster_identifier.lower()]


def find_snapshot(client, identifier):
    """The cluster snapshot named by id or ARN (automated ones too), or None."""
    found = call("describing snapshot %r" % identifier, client.describe_db_cluster_snapshots, SNAPSHOT_NOT_FOUND,
                 **snapshot_lookup_params(identifier))
    return found["DBClusterSnapshots"][0] if found and found["DBClusterSnapshots"] else None


def describe_snapshot(client, identifier):
    """The cluster snapshot named by id or ARN; a RestoreError naming it when it is missing or not available."""
    snapshot = find_snapshot(client, identifier)
    if snapshot is None:
        raise RestoreError("snapshot_identifier %r: no such cluster snapshot visible in this region and account" % identifier)
    if snapshot.get("Status") != "available":
        raise RestoreError("snapshot_identifier %r is not available (status %r)" % (identifier, snapshot.get("Status")))
    return snapshot


def snapshot_exists(client, identifier):
    return find_snapshot(client, identifier) is not None


def observe_state(client, identifiers):
    """{identifier: {"cluster": dict, "instances": [..]} or None} for each identifier."""
    state = {}
    for identifier in identifiers:
        cluster = describe_cluster(client, identifier)
        state[identifier] = None if cluster is None else {"cluster": cluster, "instances": describe_cluster_instances(client, identifier)}
    return state


# ------------------------------------------------------------------------------------------- observers
def observe_cluster_available(client, identifier, need_writer=False, described=None):
    look = first_then((described or {}).get("cluster"), lambda: describe_cluster(client, identifier))

    def observe():
        cluster = look()
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


def observe_cluster_gone(client, identifier, described=None):
    look = first_then((described or {}).get("cluster"), lambda: describe_cluster(client, identifier))

    def observe():
        cluster = look()
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


def observe_master_user_secret(client, identifier):
    """Done when the cluster's RDS-managed master secret is `active` (`creating` and `rotating` go on; `impaired`,
    RDS's word for a secret it can no longer use or rotate, fails with the reason)."""
    def observe():
        cluster = describe_cluster(client, identifier)
        if cluster is None:
            return Observation("not-found", failed=True, reason="cluster %r disappeared" % identifier)
        secret = cluster.get("MasterUserSecret") or {}
        status = secret.get("SecretStatus") or "absent"
        if status == "impaired":
            return Observation(status, failed=True, reason="the RDS-managed master secret %s of cluster %r is impaired "
                               "(RDS cannot use its secret or KMS key)" % (secret.get("SecretArn"), identifier))
        return Observation(status, done=status == "active")
    return observe


def observe_instances(client, cluster_identifier, count, described=None):
    """Done when the cluster has `count` available instances, one of them its writer. The cluster (its writer, or that
    it is gone) is described only once its instances could be done, or when it has none left: a look while they are
    being created is one describe call, not two."""
    in_hand = dict(described or {})
    look_instances = first_then(in_hand.get("instances"), lambda: describe_cluster_instances(client, cluster_identifier))

    def observe():
        cluster = in_hand.pop("cluster", None)  # what the caller described a moment ago serves the first look only
        instances = [db for db in look_instances() if db.get("DBInstanceStatus") not in INSTANCE_GONE]
        for db in instances:
            status = db.get("DBInstanceStatus")
            problem = statuses.problem("instance", db["DBInstanceIdentifier"], status) if status != "stopped" else \
                "instance %r is stopped: start cluster %r" % (db["DBInstanceIdentifier"], cluster_identifier)
            if problem:
                return Observation("%s %s" % (db["DBInstanceIdentifier"], status), failed=True, reason=problem)
        available = [db for db in instances if db.get("DBInstanceStatus") == "available"]
        statuses_seen = sorted(set(db.get("DBInstanceStatus") for db in instances)) or ["none"]
        status = "%d/%d available (%s)" % (len(available), count, ",".join(statuses_seen))
        if instances and len(available) < count:
            return Observation(status)
        cluster = cluster if cluster is not None else describe_cluster(client, cluster_identifier)
        if cluster is None:
            return Observation("cluster not-found", failed=True, reason="cluster %r disappeared" % cluster_identifier)
        writer = writer_of({"cluster": cluster})
        return Observation(status, done=len(available) >= count and writer in {db["DBInstanceIdentifier"] for db in available})
    return observe


def observe_instances_gone(client, identifiers):
    def observe():
        left = [ident for ident in identifiers if describe_instance(client, ident) is not None]
        return Observation("%d left" % len(left), done=not left)
    return observe
