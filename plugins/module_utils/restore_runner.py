# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Aurora cluster restore, carrying a plan out (restore_plan.py makes it, rds_api.py reads AWS): one method per action,
one deadline for the whole run, timings per phase, the waits, and the swap's downtime."""

from __future__ import annotations

import re
import time

from ansible_collections.dbops.aurora_restore.plugins.module_utils import markers
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import error_code
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import CERTIFICATE_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import OPERATION_ID_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import READY_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import RENEWING_PREFIX
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import RETIRED_FROM_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SECRET_APPLYING_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SECRET_VERSION_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import with_markers
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import INSTANCE_NOT_FOUND
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import aws_call
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import call
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_cluster
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_cluster_instances
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_instance
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import find_snapshot
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_cluster_available
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_cluster_gone
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_cluster_stopped
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_instances
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_instances_gone
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_master_user_secret
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_password_reset
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import CHANGING
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import INSTANCE_GONE
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreContext
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import cluster_tags
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import live_instances
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import performance_insights_request
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_sources import point_in_time_request
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restore_request
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restored_from
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitFailed
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitTimeout
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitBudget

_QUOTED = re.compile(r"'[^']*'")


def wait_key(step, what):
    """A wait's name that is the same from one slice, attempt or refresh to the next: the plan step's phase and what is
    waited for, without the names of clusters and instances (a temporary cluster's name changes with the operation)."""
    return "%s: %s" % (step["phase"] if step else "run", _QUOTED.sub("_", what))


class RunnerBase:
    """Carries out a plan's steps with a single deadline; records timings per phase, waits and the swap's downtime."""

    def __init__(self, client, ctx, wait_timeout, min_interval, max_interval, password_reader=None, clock=time.monotonic,
                 sleep=time.sleep, on_progress=None, waited_before=0.0, wait_deadline=None, wait_started=None,
                 expected_wait_seconds=None, wait_pending=None, observed=None):
        self.client = client
        self.ctx = RestoreContext.of(ctx)
        self.clock = clock
        self.sleep = sleep
        # Every wait of the run on one budget, cut to a sliced wait's deadline; the first wait continues the slice's.
        # Each wait is timed by its wait_key (budget.timed_wait): the next refresh of the target expects its waits to take
        # about as long; a wait this run's slice ends in becomes the next slice's wait_pending.
        self.budget = WaitBudget(wait_timeout, wait_deadline, wait_started, waited_before, clock=clock,
                                 expected_wait_seconds=expected_wait_seconds, wait_pending=wait_pending)
        self.started = self.budget.started
        self.wait_timeout = wait_timeout
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.password_reader = password_reader
        self.on_progress = on_progress
        self.changed = False
        self.timings = {}
        self.waits = []
        self.done = []
        # What the plan observed a moment ago ({identifier: observe_state entry}): the run's first step, when it is a
        # wait (a slice resuming one), looks at it first instead of describing the same cluster again.
        self.in_hand = {ident: entry for ident, entry in (observed or {}).items() if entry}
        # What AWS answered the step that just ran (the cluster a restore started, the instances just created): the
        # next step's wait looks at it first, as it looks at what the plan saw.
        self.answered = {}
        self.downtime_started = None
        self.downtime_seconds = None
        self.final_snapshots = []
        self.current = None

    @property
    def wait_seconds(self):
        """How long each wait took, by wait_key."""
        return self.budget.durations

    @property
    def wait_pending(self):
        """The wait this run's slice ended in ({name, since}), or None."""
        return self.budget.pending

    @property
    def timed_out(self):
        """A wait ran out of time (the run's, or only the caller's slice of it)."""
        return self.budget.timed_out

    def wait(self, observe, what, fast=False):
        min_interval = min(self.min_interval, 0.5) if fast else self.min_interval
        try:
            report = self.budget.timed_wait(wait_key(self.current, what), observe, what, min_interval=min_interval,
                                            max_interval=max(min_interval, self.max_interval), on_progress=self.on_progress,
                                            sleep=self.sleep, report_spent=False)
        except WaitTimeout as error:
            self.waits.append({"what": what, "status": error.last_status, "polls": error.progress.get("polls"), "timed_out": True})
            raise RestoreError("%s (wait_timeout=%ss for the whole run); run again to resume from here" % (error, self.wait_timeout)) from None
        except WaitFailed as error:
            raise RestoreError(str(error)) from None
        self.waits.append({"what": what, "waited_seconds": report["waited_seconds"], "polls": report["polls"], "status": report["status"]})
        return report

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
            # A step has run: what the plan saw is no longer what is; what AWS answered that step is.
            self.in_hand, self.answered = self.answered, {}
        self.current = None
        self.timings["total"] = round(self.clock() - self.started, 2)

    def _tag(self, ident, tags, what):
        cluster = describe_cluster(self.client, ident)
        if cluster is None:
            raise RestoreError("cluster %r disappeared while %s" % (ident, what))
        aws_call("tagging cluster %r" % ident, self.client.add_tags_to_resource, ResourceName=cluster["DBClusterArn"],
                 Tags=[{"Key": key, "Value": value} for key, value in tags.items()])

    def finish_replace_downtime(self):
        if self.ctx.strategy == "replace" and self.downtime_started is not None:
            self.downtime_seconds = round(self.clock() - self.downtime_started, 2)

    def do_wait_cluster_gone(self, step):
        self.wait(observe_cluster_gone(self.client, step["cluster"], self.in_hand.get(step["cluster"])),
                  "cluster %r to be deleted" % step["cluster"])

    def do_wait_cluster_available(self, step):
        self.wait(observe_cluster_available(self.client, step["cluster"], described=self.in_hand.get(step["cluster"])),
                  "cluster %r to become available" % step["cluster"])


class TeardownSteps(RunnerBase):
    """Deleting a cluster: deletion protection off, instances (readers, then the writer), the cluster, its final snapshot."""

    def do_disable_deletion_protection(self, step):
        ident = step["cluster"]
        self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)
        aws_call("turning off deletion protection of cluster %r" % ident, self.client.modify_db_cluster,
                 DBClusterIdentifier=ident, DeletionProtection=False, ApplyImmediately=True)
        self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)

    def do_delete_instances(self, step):
        ident = step["cluster"]
        if self.ctx.strategy == "replace" and step["phase"] == "delete_target" and self.downtime_started is None:
            self.downtime_started = self.clock()
        # The run's first step: the cluster and its instances as the plan described them a moment ago.
        seen = self.in_hand.get(ident) or {}
        cluster = seen["cluster"] if seen.get("cluster") else describe_cluster(self.client, ident)
        known = {db["DBInstanceIdentifier"]: db for db in seen.get("instances") or []}
        if cluster is not None and cluster.get("Status") not in ("available", "deleting"):
            self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)
            known = {}  # described before a wait: no longer what is
        pending = []
        for name in step["instances"]:  # readers first, the writer last
            instance = known[name] if name in known else describe_instance(self.client, name)
            if instance is None:
                continue
            pending.append(name)
            if instance.get("DBInstanceStatus") in INSTANCE_GONE:
                continue
            try:
                call("deleting instance %r of cluster %r" % (name, ident), self.client.delete_db_instance,
                     INSTANCE_NOT_FOUND, DBInstanceIdentifier=name, SkipFinalSnapshot=True)
            except RestoreError as error:
                # Another deletion got there first (the instance is going or gone): nothing left to do for it.
                if error_code(error.aws_error) != "InvalidDBInstanceState" or describe_instance(self.client, name) is not None:
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
                cluster = aws_call("deleting cluster %r" % ident, self.client.delete_db_cluster, **request).get("DBCluster")
            except RestoreError as error:
                if error_code(error.aws_error) == "DBClusterSnapshotAlreadyExistsFault":
                    raise RestoreError("final snapshot %r already exists; cluster %r was not deleted: choose another final_snapshot_identifier"
                                       % (final, ident), aws_error=error.aws_error) from None
                raise
            if final:
                self.final_snapshots.append(final)
            self.changed = True
        # The first look is the cluster as deleted (or found deleting) a moment ago.
        self.wait(observe_cluster_gone(self.client, ident, {"cluster": cluster}), "cluster %r to be deleted" % ident)
        if final and final in self.final_snapshots:
            self._mark_final_snapshot(final)

    def _mark_final_snapshot(self, name):
        """The final snapshot carries the collection's markers, so retention finds it (DeleteDBCluster takes no tags)."""
        found = find_snapshot(self.client, name)
        if found is None:
            raise RestoreError("final snapshot %r is missing after the delete of its cluster" % name)
        aws_call("tagging final snapshot %r" % name, self.client.add_tags_to_resource, ResourceName=found["DBClusterSnapshotArn"],
                 Tags=markers.final_snapshot_markers(self.ctx.target, self.ctx.operation_id))


class Runner(TeardownSteps):
    """Every step of a plan (restore_plan.CHANGING and the waits): restore, instances, password, tags, renames, start,
    certificate renewal; the teardown steps and the loop are inherited."""

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

    def do_restore_cluster(self, step):
        ident = step["cluster"]
        if self.ctx.source_type == "snapshot":
            what, call = "restoring cluster %r from snapshot %r" % (ident, step["snapshot"]), self.client.restore_db_cluster_from_snapshot
            request = restore_request(self.ctx, ident)
        else:
            source = self.ctx.snapshot["DBClusterIdentifier"]
            what = ("cloning cluster %r as %r" % (source, ident) if self.ctx.source_type == "clone"
                    else "restoring cluster %r to a point in time of %r" % (ident, source))
            call, request = self.client.restore_db_cluster_to_point_in_time, point_in_time_request(self.ctx, ident)
        try:
            response = aws_call(what, call, **request)
        except RestoreError as error:
            if error_code(error.aws_error) == "DBClusterAlreadyExistsFault":
                existing = describe_cluster(self.client, ident)
                if existing is not None and restored_from(existing, step["snapshot"], self.ctx.target):
                    return  # an earlier attempt's request went through after all
            raise
        if response.get("DBCluster"):
            self.answered[ident] = {"cluster": response["DBCluster"], "instances": []}  # a restored cluster has none yet

    def do_create_instances(self, step):
        ident = step["cluster"]
        engine = self.ctx.snapshot.get("Engine") or "aurora-postgresql"
        options = self.ctx.restore_options
        tags = with_markers(options.get("tags"), source_snapshot_arn=self.ctx.snapshot["DBClusterSnapshotArn"],
                            operation_id=self.ctx.operation_id, target=self.ctx.target)
        created = []
        for spec in step["instances"]:  # the writer first: the first instance of a cluster becomes its writer
            request = {"DBInstanceIdentifier": spec["identifier"], "DBClusterIdentifier": ident, "Engine": engine,
                       "DBInstanceClass": spec["instance_class"], "PromotionTier": spec["promotion_tier"], "Tags": tags}
            if spec.get("availability_zone"):
                request["AvailabilityZone"] = spec["availability_zone"]
            if options.get("db_parameter_group_name"):
                request["DBParameterGroupName"] = options["db_parameter_group_name"]
            request.update(performance_insights_request(options["instances"].get("performance_insights")))
            try:
                created.append(aws_call("creating instance %r in cluster %r" % (spec["identifier"], ident), self.client.create_db_instance,
                                        **request).get("DBInstance"))
            except RestoreError as error:
                if error_code(error.aws_error) == "DBInstanceAlreadyExists":
                    existing = describe_instance(self.client, spec["identifier"])
                    if existing and (existing.get("DBClusterIdentifier") or "").lower() == ident:
                        created.append(None)  # not in this answer: the wait describes them all
                        continue
                raise
        if created and all(created):
            # The instances being created, as AWS answered: the wait's first look (observe_instances needs the cluster
            # only once they could be available).
            self.answered[ident] = {"instances": created}

    def do_wait_instances_available(self, step):
        self.wait(observe_instances(self.client, step["cluster"], len(self.ctx.instance_specs), self.in_hand.get(step["cluster"])),
                  "the instances of cluster %r to become available" % step["cluster"])

    def do_reset_master_password(self, step):
        ident = step["cluster"]
        password = self.password_reader()
        self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)
        started = self.clock()
        response = aws_call("resetting the master password of cluster %r" % ident, self.client.modify_db_cluster,
                            DBClusterIdentifier=ident, MasterUserPassword=password, ApplyImmediately=True)
        saw_reset = [response.get("DBCluster", {}).get("Status") not in (None, "available")]
        self._tag(ident, {SECRET_APPLYING_KEY: self.ctx.secret_version or "unknown"}, "recording the password reset")
        self.wait(observe_password_reset(self.client, ident, started, saw_reset, clock=self.clock),
                  "the master password reset of cluster %r" % ident)

    def do_manage_master_password(self, step):
        """ManageMasterUserPassword: RDS generates the password, keeps it in its own secret and resets the master user
        to it; the wait ends when the reset is done and the secret is active."""
        ident = step["cluster"]
        self.wait(observe_cluster_available(self.client, ident), "cluster %r to become available" % ident)
        started = self.clock()
        request = dict(DBClusterIdentifier=ident, ManageMasterUserPassword=True, ApplyImmediately=True)
        if self.ctx.master_user_secret_kms_key_id:
            request["MasterUserSecretKmsKeyId"] = self.ctx.master_user_secret_kms_key_id
        response = aws_call("turning on the RDS-managed master password of cluster %r" % ident, self.client.modify_db_cluster, **request)
        saw_reset = [response.get("DBCluster", {}).get("Status") not in (None, "available")]
        self.wait(observe_password_reset(self.client, ident, started, saw_reset, clock=self.clock),
                  "the master password reset of cluster %r" % ident)
        self.wait(observe_master_user_secret(self.client, ident), "the RDS-managed master secret of cluster %r" % ident)

    def do_wait_master_password(self, step):
        ident = step["cluster"]
        # An earlier run's reset was accepted: it completes on its own, wait for it.
        self.wait(observe_password_reset(self.client, ident, self.clock() - 3600, [True], clock=self.clock),
                  "the master password reset of cluster %r" % ident)

    def do_mark_ready(self, step):
        tags = {READY_KEY: "true", CERTIFICATE_KEY: step["cluster"]}
        if self.ctx.master_secret_id:
            tags[SECRET_VERSION_KEY] = self.ctx.secret_version or "unknown"
        if self.ctx.operation_id:
            tags[OPERATION_ID_KEY] = self.ctx.operation_id
        self._tag(step["cluster"], tags, "marking it ready")

    def do_tag_retired(self, step):
        self._tag(step["cluster"], {RETIRED_FROM_KEY: self.ctx.target}, "marking it for retirement")

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
