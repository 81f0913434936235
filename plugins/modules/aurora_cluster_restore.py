#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aurora_cluster_restore
short_description: Replace or swap an Aurora cluster from a snapshot, with instances, master password reset and guards
version_added: 0.1.0
description:
  - Restores the Aurora cluster I(cluster_identifier) from the cluster snapshot I(snapshot_identifier) in the module's
    region, creates its instances (writer first) and resets its master password from a Secrets Manager secret.
  - With I(strategy=replace) the existing target is deleted (readers, writer, then the cluster, optionally with a final
    snapshot), then the snapshot is restored under the target's name. The target is down for the whole restore.
  - With I(strategy=swap) the snapshot is restored under a temporary identifier and brought fully up (instances,
    password); then the old target is renamed to a retired identifier, the new cluster to the target's name, and the
    retired cluster is deleted. The target is down only for the renames; the result reports that window.
  - Guards refuse, before anything is changed, to delete or rename a target that carries the tag
    C(dbops:aurora_restore:protected), has deletion protection (unless I(allow_disable_deletion_protection=true)),
    is the source cluster of the snapshot (or I(source_cluster_identifier)), or is not in the module's region or the
    I(expected_account_id).
  - Every run computes its plan from what exists, so a rerun after a failure or a crash continues where the last run
    stopped (half-deleted target, temporary cluster present, instance missing, retired cluster left). A rerun after
    success is C(changed=false) - the target carries the collection's markers naming the snapshot it was restored
    from, and the version of the master secret last applied (a new secret version resets the password again).
  - A restored cluster keeps the source's master password until it is reset. The module reads the password from
    I(master_secret_id) itself; it never appears in Ansible variables, results or logs.
  - A target (or a retired or temporary cluster) that is C(stopped) is started first, and one that is C(stopping) is
    waited for and started, since AWS refuses to delete, rename or modify a stopped cluster.
  - Before anything is deleted, what AWS would check only at restore time is checked, namely the references (subnet group,
    security groups, parameter groups, KMS key), the engine version (the snapshot's, or one of its upgrade targets),
    the instance class (offered for that version in the region) and the Serverless v2 range.
  - The restore sends the snapshot's engine version and storage type unless told otherwise; without them AWS would use
    the region's default engine version and standard C(aurora) storage (RV(engine_version_source) says which).
  - A swap renames the restored cluster to the target's name; Aurora keeps serving the old name's TLS certificate
    until the cluster is stopped and started, so the cutover does that (I(refresh_certificate_after_rename)) and the
    downtime includes it.
  - A final snapshot carries the collection's markers (C(dbops:aurora_restore:final-snapshot-of)), so
    M(dbops.aurora_restore.aurora_snapshot_copy) can keep the newest of them and delete the others.
  - All waits are polls with jittered backoff under one deadline, I(wait_timeout), which may be hours; RDS calls are
    retried on throttling. The amazon.aws RDS waiters are not used. A wait on a failure status
    (C(insufficient-capacity), C(restore-error), C(inaccessible-encryption-credentials-recoverable), ...) or on a
    status the module does not know stops at once, naming it.
  - Instead of a snapshot, the source can be a cluster of the same account and region (I(source_type)), restored
    with RestoreDBClusterToPointInTime as a copy-on-write clone (C(clone), minutes whatever its size) or as a full copy
    at a point in time (C(point_in_time), I(restore_to_time) or its latest restorable time). Both keep the source's
    engine version. Everything after the restore (instances, password, swap, guards, resume) is the same.
  - In check mode the module returns the plan (what would be deleted, created, renamed) and changes nothing.
author:
  - dbops platform team (@dbops)
options:
  cluster_identifier:
    description:
      - The target cluster (identifier or ARN). An ARN must name the module's region (and I(expected_account_id)).
    type: str
    required: true
    aliases: [target]
  snapshot_identifier:
    description:
      - The cluster snapshot to restore, by identifier or ARN (for example a shared or copied snapshot). It must be
        C(available) and in the module's region.
      - Required with I(source_type=snapshot); not allowed with the other source types.
    type: str
  source_type:
    description:
      - C(snapshot) restores I(snapshot_identifier).
      - C(clone) makes a copy-on-write clone of I(source_cluster_identifier) as it is now (same account and region;
        the source needs an instance).
      - C(point_in_time) restores a full copy of I(source_cluster_identifier) as it was at I(restore_to_time), or at
        its latest restorable time.
      - A clone or a latest-time restore belongs to its I(operation_id) - a rerun of the same operation resumes it, a
        new operation restores again; a restore to a given time is the same restore for every operation.
    type: str
    choices: [snapshot, clone, point_in_time]
    default: snapshot
  restore_to_time:
    description:
      - With I(source_type=point_in_time), the moment to restore to, ISO-8601 with a time zone (for example
        C(2026-12-01T23:00:00Z)); it must be within the source's EarliestRestorableTime and LatestRestorableTime.
        Omitted, the latest restorable time.
    type: str
  strategy:
    description:
      - C(replace) deletes the target, then restores under its name. C(swap) restores under a temporary name first and
        swaps the names, so the target's downtime is only the renames.
    type: str
    choices: [replace, swap]
    default: replace
  cutover:
    description:
      - With I(strategy=swap), C(false) stops once the temporary cluster is ready (restored, instances up, master
        password reset) and returns its endpoint, so users, masking SQL and smoke checks can run on it before it takes
        the target's name. A later call with C(true) does the renames and deletes the retired cluster.
      - If a crash left the target renamed away and the temporary cluster not yet renamed, the renames are finished
        even with C(false), because the target is down until they are.
      - Ignored with I(strategy=replace).
    type: bool
    default: true
  db_subnet_group_name:
    description: DB subnet group of the restored cluster.
    type: str
  vpc_security_group_ids:
    description: VPC security groups of the restored cluster.
    type: list
    elements: str
  kms_key_id:
    description: KMS key (in the module's region) to encrypt the restored cluster with; default the snapshot's.
    type: str
  db_cluster_parameter_group_name:
    description: Cluster parameter group of the restored cluster.
    type: str
  db_parameter_group_name:
    description: DB parameter group of the restored cluster's instances.
    type: str
  port:
    description: Port of the restored cluster; default the snapshot's.
    type: int
  engine_version:
    description:
      - Engine version of the restored cluster; default the snapshot's (sent explicitly, since AWS would otherwise use the
        region's default version). It must be the snapshot's version or one of its upgrade targets.
    type: str
  storage_type:
    description:
      - Storage of the restored cluster, C(aurora) (standard) or C(aurora-iopt1) (I/O-Optimized); default the
        snapshot's (AWS's own default is C(aurora), whatever the source used).
    type: str
    choices: [aurora, aurora-iopt1]
  engine_lifecycle_support:
    description:
      - C(open-source-rds-extended-support-disabled) (the default here, for refreshed non-production clusters) lets
        AWS upgrade a restored cluster whose major version is past its end of standard support instead of charging
        RDS Extended Support; C(open-source-rds-extended-support) keeps the version and pays for Extended Support.
    type: str
    choices: [open-source-rds-extended-support, open-source-rds-extended-support-disabled]
    default: open-source-rds-extended-support-disabled
  copy_tags_to_snapshot:
    description: Copy the restored cluster's tags to its snapshots.
    type: bool
  backup_retention_period:
    description: Days of automated backups of the restored cluster (1-35); default the snapshot's setting.
    type: int
  refresh_certificate_after_rename:
    description:
      - With I(strategy=swap), stop and start the cluster after it takes the target's name, so its TLS certificate
        names the new endpoints ("If you're using SSL endpoints and change the DB cluster identifier, stop and
        restart the DB cluster", Aurora User Guide). The downtime includes it.
      - C(false) skips it when no client verifies the server's host name (C(sslmode) other than C(verify-full)).
    type: bool
    default: true
  tags:
    description:
      - Tags of the restored cluster and its instances. The collection's marker tags (C(dbops:aurora_restore:*)) are
        added and win over tags of the same key.
    type: dict
    default: {}
  deletion_protection:
    description: Deletion protection of the restored cluster.
    type: bool
    default: false
  enable_iam_database_authentication:
    description: Enable IAM database authentication on the restored cluster.
    type: bool
  enable_cloudwatch_logs_exports:
    description: Log types to export to CloudWatch Logs (for Aurora PostgreSQL C(postgresql)).
    type: list
    elements: str
  serverless_v2_scaling:
    description:
      - Serverless v2 capacity range; required when I(instances.instance_class=db.serverless).
    type: dict
    suboptions:
      min_capacity:
        description: Minimum capacity in Aurora capacity units (ACU).
        type: float
        required: true
      max_capacity:
        description: Maximum capacity in Aurora capacity units (ACU).
        type: float
        required: true
  instances:
    description:
      - The instances of the restored cluster; the first is the writer. A restored cluster without an available writer
        is never reported as done.
      - Instances are named C(<cluster_identifier>-<n>) with the lowest free numbers.
    type: dict
    required: true
    suboptions:
      count:
        description: Number of instances (writer plus readers).
        type: int
        default: 1
      instance_class:
        description: Instance class, for example C(db.r6g.large) or C(db.serverless).
        type: str
        required: true
      promotion_tiers:
        description:
          - Failover priority per instance, writer first (0-15). Default 0 for the writer, then 1, 2, ...
        type: list
        elements: int
      availability_zones:
        description: Availability zones, used in turn for the instances (writer first). Default chosen by RDS.
        type: list
        elements: str
      performance_insights:
        description: Performance Insights of the instances (on Aurora it is set per instance).
        type: dict
        suboptions:
          enabled:
            description: Turn Performance Insights on or off.
            type: bool
          retention_days:
            description: Days to keep its data, 7 (free) or 31 times a number of months up to 731.
            type: int
          kms_key_id:
            description: KMS key of its data.
            type: str
  master_secret_id:
    description:
      - Secrets Manager secret (name or ARN) of the target environment holding the master password as JSON, with keys
        C(username)/C(password) or C(master_username)/C(master_password). The master password is reset from it, and
        the reset is waited for.
      - Without it the restored cluster keeps the source's master password (a warning says so), unless
        I(master_password_mode=managed).
    type: str
  master_password_mode:
    description:
      - C(secret) resets the master password from I(master_secret_id).
      - C(managed) has RDS manage it (ModifyDBCluster C(ManageMasterUserPassword)). RDS generates the password,
        keeps it in a secret of its own (C(rds!cluster-...)), and rotates it. The secret's ARN is returned as
        RV(master_user_secret_arn); its value is never read by this module. It cannot be combined with
        I(master_secret_id). With I(strategy=replace) every refresh makes a new cluster, so a new secret with a new
        ARN; with I(strategy=swap) the secret stays with the cluster that takes the target's name.
    type: str
    choices: [secret, managed]
    default: secret
  master_user_secret_kms_key_id:
    description:
      - With I(master_password_mode=managed), the KMS key (in the target's region) that encrypts RDS's secret;
        without it Secrets Manager's own key C(aws/secretsmanager) does.
    type: str
  allow_disable_deletion_protection:
    description: Allow turning off deletion protection of the cluster being replaced or retired; otherwise it is refused.
    type: bool
    default: false
  final_snapshot:
    description: Take a final snapshot of the cluster being deleted (the replaced or retired target).
    type: bool
    default: false
  final_snapshot_identifier:
    description:
      - Name of the final snapshot; implies I(final_snapshot=true). Default C(<cluster_identifier>-final-<UTC time>),
        unique. A name that already exists is refused before anything is changed.
    type: str
  source_cluster_identifier:
    description:
      - The production (source) cluster. The module refuses to replace or rename it. The cluster the snapshot was
        taken from (in the same account and region) is always refused.
      - With I(source_type=clone) or C(point_in_time), the cluster restored from (identifier or ARN, in the module's
        region); required then.
      - Another account's cluster is named by its ARN and can only be cloned (I(source_type=clone)), once its owner
        shared it with this account through AWS RAM and this account accepted (M(dbops.aurora_restore.aurora_cluster_share)).
        An encrypted one needs I(kms_key_id), and an account holds one clone of it at a time (AWS's limits), so
        I(strategy=swap) cannot refresh a target that is already its clone.
    type: str
  expected_account_id:
    description: Refuse to act unless the credentials and the target are in this AWS account.
    type: str
  temporary_identifier_suffix:
    description: Suffix of the temporary cluster of I(strategy=swap).
    type: str
    default: "-restoring"
  retired_identifier_suffix:
    description: Suffix the old target is renamed to by I(strategy=swap) before it is deleted.
    type: str
    default: "-retired"
  wait_timeout:
    description:
      - Seconds the whole run may spend waiting (restores can take hours). When it runs out, the module fails with the
        step it was waiting for; a rerun resumes from there.
    type: int
    default: 7200
  poll_interval_min:
    description:
      - Shortest pause between two status polls, in seconds. The pause grows with the time waited (5 % of it), so a
        short wait is noticed within this and a long one costs few calls.
    type: float
    default: 2
  poll_interval_max:
    description: Longest pause between two status polls, in seconds (the pause grows with the time waited).
    type: float
    default: 30
  waited_seconds:
    description:
      - Deprecated, use I(wait_started). How long this wait already ran in earlier calls, in seconds.
    type: float
    default: 0
  expected_wait_seconds:
    description:
      - How long each wait took last time, as RV(wait_seconds) returned it (the restore role passes the target's
        previous refresh, from the audit trail). Polls gather around the moment each wait is expected to end, a
        fraction of it apart, instead of growing from the shortest interval; a wait that runs longer than last time
        goes back to the growing interval, one that ends sooner is noticed within I(poll_interval_max).
    type: dict
  operation_id:
    description: The restore operation (see M(dbops.aurora_restore.restore_audit)); recorded in the marker tags.
    type: str
  force:
    description:
      - Restore again even when the target was already restored from this snapshot (for example to reset a dev
        database that was written to since). The target then counts as current only when I(operation_id) made it
        ready, so a resume of the same operation carries on where it stopped instead of restoring a third time.
      - Every guard still applies (protection tag, deletion protection, final snapshot, swap's identifiers).
    type: bool
    default: false
extends_documentation_fragment:
  - dbops.aurora_restore.waits_in_slices
  - dbops.aurora_restore.runs_in_worker
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Refresh staging from the nightly production snapshot, keeping downtime to the renames
  dbops.aurora_restore.aurora_cluster_restore:
    region: eu-west-1
    cluster_identifier: staging-aurora
    snapshot_identifier: "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:production-2025-01-01"
    strategy: swap
    db_subnet_group_name: staging-db
    vpc_security_group_ids: [sg-0123456789abcdef0]
    kms_key_id: alias/staging-aurora
    db_cluster_parameter_group_name: staging-aurora-pg15
    instances:
      count: 2
      instance_class: db.r6g.large
    master_secret_id: staging/aurora/master
    source_cluster_identifier: production-aurora
    expected_account_id: "111122223333"
    allow_disable_deletion_protection: true
    deletion_protection: true
    final_snapshot: true
    operation_id: "{{ restore_operation_id }}"
    tags:
      env: staging
  register: restored

- name: Replace a dev cluster (deleted first) with a Serverless v2 writer
  dbops.aurora_restore.aurora_cluster_restore:
    cluster_identifier: dev-aurora
    snapshot_identifier: dev-refresh-copy
    strategy: replace
    instances:
      instance_class: db.serverless
    serverless_v2_scaling:
      min_capacity: 0.5
      max_capacity: 4
    master_secret_id: dev/aurora/master
    wait_timeout: 10800

- name: Show what a restore would do
  dbops.aurora_restore.aurora_cluster_restore:
    cluster_identifier: staging-aurora
    snapshot_identifier: production-2025-01-01
    strategy: swap
    instances:
      instance_class: db.r6g.large
  check_mode: true
  register: restore_plan
"""

RETURN = r"""
timed_out:
  description:
    - True when the call's slice (I(wait_timeout)) ended with I(wait_deadline) still ahead; the result then also has
      C(wait_phase) (the phase it was in) and C(wait_status) (what it waited for, one line).
  returned: when a slice ended early
  type: bool
cluster_identifier:
  description: The target cluster.
  returned: always
  type: str
  sample: staging-aurora
awaiting_cutover:
  description:
    - C(true) when a swap stopped before its renames (I(cutover=false)); the endpoint and instances returned are then
      those of the temporary cluster, RV(ready_cluster_identifier).
  returned: always
  type: bool
  sample: false
ready_cluster_identifier:
  description: The cluster whose endpoint, instances and status are returned (the target, or the temporary cluster of a swap awaiting cutover).
  returned: always
  type: str
  sample: staging-aurora-restoring
cluster_arn:
  description: ARN of the target cluster after the restore.
  returned: when the target exists
  type: str
  sample: arn:aws:rds:eu-west-1:111122223333:cluster:staging-aurora
endpoint:
  description: Writer endpoint of the target.
  returned: when the target exists
  type: str
  sample: staging-aurora.cluster-abc.eu-west-1.rds.amazonaws.com
reader_endpoint:
  description: Reader endpoint of the target.
  returned: when the target exists
  type: str
port:
  description: Port of the target.
  returned: when the target exists
  type: int
  sample: 5432
status:
  description: Status of the target cluster.
  returned: when the target exists
  type: str
  sample: available
instances:
  description: Instance identifiers of the target, writer first.
  returned: when the target exists
  type: list
  elements: str
  sample: [staging-aurora-1, staging-aurora-2]
writer_instance:
  description: The writer instance of the target.
  returned: when the target exists
  type: str
cluster_create_time:
  description:
    - When AWS created the cluster now serving (UTC, ISO-8601). Later than the operation's start when this operation
      restored it; earlier when the target was already current and nothing was restored.
  returned: when the target exists
  type: str
  sample: "2026-12-03T02:14:07.000000Z"
master_user_secret_arn:
  description:
    - ARN of the secret in which RDS manages the master password (I(master_password_mode=managed)); null when RDS
      does not manage it. The secret's value is never read or returned.
  returned: when the target exists
  type: str
  sample: "arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!cluster-1b2c3d4e-aaaa-bbbb-cccc-0123456789ab-AbCdEf"
snapshot_restored:
  description:
    - ARN of the snapshot the target is restored from; for a clone or a point-in-time restore, what the target is
      tagged with instead, C(clone:<source ARN>@latest#<operation digest>) or C(point-in-time:<source ARN>@<time>).
  returned: always
  type: str
source_type:
  description: The kind of source, I(source_type).
  returned: always
  type: str
  sample: clone
strategy:
  description: The strategy used.
  returned: always
  type: str
plan:
  description:
    - The steps of this run, in order (in check mode, the steps a run would take). Each has C(action) (for example
      C(delete_instances), C(delete_cluster), C(restore_cluster), C(create_instances), C(reset_master_password),
      C(rename)), C(phase), C(cluster) and the step's details (instance names, new identifier, final snapshot).
    - Empty when the target is already restored from the snapshot.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "rename", "phase": "swap", "cluster": "staging-aurora", "new_identifier": "staging-aurora-retired"}]
completed_steps:
  description: The steps completed by this run (C(action:cluster)); on failure, where a rerun resumes after.
  returned: always
  type: list
  elements: str
timings:
  description: Seconds spent per phase (delete_target, restore, instances, master_password, swap, delete_retired, cleanup) and in total.
  returned: always
  type: dict
  sample: {"restore": 601.2, "instances": 420.5, "master_password": 35.1, "swap": 62.0, "delete_retired": 300.4, "total": 1419.2}
waits:
  description: Each wait of the run with what it waited for, seconds, polls and the last status.
  returned: always
  type: list
  elements: dict
wait_seconds:
  description:
    - How long each wait of the run took, in seconds, by wait name (the plan's phase and what was waited for, without
      the names of clusters). Pass it as I(expected_wait_seconds) next time.
  returned: always
  type: dict
  sample: {"restore: cluster _ to become available": 412.3, "instances: the instances of cluster _ to become available": 493.1}
wait_pending:
  description:
    - The wait this call's slice ended in, C(name) (as in RV(wait_seconds)) and C(since) (when it began, in seconds from
      I(wait_started)), when only the slice timed out. Pass it as I(wait_pending) to the next slice.
  returned: when timed_out
  type: dict
downtime_seconds:
  description:
    - Seconds the target name did not answer with the restored data and password. With C(swap), from the first
      rename to the target name answering again with an available writer; with C(replace), from the first deletion
      to the end of the master password reset.
    - Null when this run did not take the target down.
  returned: always
  type: float
  sample: 61.8
failed_step:
  description: On failure, the step (C(action:cluster)) that failed; a rerun resumes there.
  returned: on failure after the restore started
  type: str
  sample: "wait_instances_available:staging-aurora-restoring"
failed_phase:
  description: On failure, the phase of the step that failed.
  returned: on failure after the restore started
  type: str
  sample: instances
final_snapshots:
  description: Final snapshots taken by this run (tagged with the collection's markers).
  returned: always
  type: list
  elements: str
engine_version:
  description: The engine version sent with the restore.
  returned: always
  type: str
  sample: "15.4"
engine_version_source:
  description: Where I(engine_version) came from, C(snapshot), C(engine_version option) or C(source cluster).
  returned: always
  type: str
  sample: snapshot
storage_type:
  description: The storage type sent with the restore.
  returned: always
  type: str
  sample: aurora-iopt1
"""

import datetime

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils import arns
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_tables import iso
from ansible_collections.dbops.aurora_restore.plugins.module_utils import markers
from ansible_collections.dbops.aurora_restore.plugins.module_utils import naming
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import account_refusal
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import aws_client
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import caller_account
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import client_factory
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import fail_with
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_cluster
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_cluster_instances
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_snapshot
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_state
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import paginate
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import snapshot_exists
from ansible_collections.dbops.aurora_restore.plugins.module_utils.snapshots import utc
from ansible_collections.dbops.aurora_restore.plugins.module_utils.references import check_references
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreContext
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_sources import SOURCE_TYPES
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_sources import source_of_cluster
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import instance_specs
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import live_instances
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import parse_cluster_arn
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import plan
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import plan_changes
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import public_plan
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restore_engine_version
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restore_options
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restore_storage_type
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import is_current
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import validate_identifier
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import writer_of
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_runner import Runner
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import wait_seconds
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import wait_pending_problem
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import wait_seconds_problem
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import SecretError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import master_password_of
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import master_password_problem
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import read_json_secret


# "You can create up to 15 clones based on a copy" (Aurora User Guide, "Limitations of Aurora cloning", earlier
# editions; the current one says up to the Region's DB cluster quota): the stricter reading.
CLONES_PER_SOURCE = 15


def argument_spec():
    return dict(
        cluster_identifier=dict(type="str", required=True, aliases=["target"]),
        snapshot_identifier=dict(type="str"),
        source_type=dict(type="str", choices=list(SOURCE_TYPES), default="snapshot"),
        restore_to_time=dict(type="str"),
        strategy=dict(type="str", choices=["replace", "swap"], default="replace"),
        cutover=dict(type="bool", default=True),
        db_subnet_group_name=dict(type="str"),
        vpc_security_group_ids=dict(type="list", elements="str"),
        kms_key_id=dict(type="str"),
        db_cluster_parameter_group_name=dict(type="str"),
        db_parameter_group_name=dict(type="str"),
        port=dict(type="int"),
        engine_version=dict(type="str"),
        storage_type=dict(type="str", choices=["aurora", "aurora-iopt1"]),
        engine_lifecycle_support=dict(type="str", choices=["open-source-rds-extended-support",
                                                           "open-source-rds-extended-support-disabled"],
                                      default="open-source-rds-extended-support-disabled"),
        copy_tags_to_snapshot=dict(type="bool"),
        backup_retention_period=dict(type="int"),
        refresh_certificate_after_rename=dict(type="bool", default=True),
        tags=dict(type="dict", default={}),
        deletion_protection=dict(type="bool", default=False),
        enable_iam_database_authentication=dict(type="bool"),
        enable_cloudwatch_logs_exports=dict(type="list", elements="str"),
        serverless_v2_scaling=dict(type="dict", options=dict(
            min_capacity=dict(type="float", required=True),
            max_capacity=dict(type="float", required=True),
        )),
        instances=dict(type="dict", required=True, options=dict(
            count=dict(type="int", default=1),
            instance_class=dict(type="str", required=True),
            promotion_tiers=dict(type="list", elements="int"),
            availability_zones=dict(type="list", elements="str"),
            performance_insights=dict(type="dict", options=dict(
                enabled=dict(type="bool"),
                retention_days=dict(type="int"),
                kms_key_id=dict(type="str"),
            )),
        )),
        master_secret_id=dict(type="str"),
        master_password_mode=dict(type="str", choices=["secret", "managed"], default="secret"),
        master_user_secret_kms_key_id=dict(type="str"),
        allow_disable_deletion_protection=dict(type="bool", default=False),
        final_snapshot=dict(type="bool", default=False),
        final_snapshot_identifier=dict(type="str"),
        source_cluster_identifier=dict(type="str"),
        expected_account_id=dict(type="str"),
        temporary_identifier_suffix=dict(type="str", default="-restoring"),
        retired_identifier_suffix=dict(type="str", default="-retired"),
        wait_timeout=dict(type="int", default=7200),
        poll_interval_min=dict(type="float", default=2),
        poll_interval_max=dict(type="float", default=30),
        waited_seconds=dict(type="float", default=0, removed_in_version="1.0.0", removed_from_collection="dbops.aurora_restore"),
        wait_deadline=dict(type="float"),
        wait_started=dict(type="float"),
        expected_wait_seconds=dict(type="dict"),
        wait_pending=dict(type="dict"),
        operation_id=dict(type="str"),
        force=dict(type="bool", default=False),
    )


def validate_options(params, region):
    """Checks the argument spec cannot express; RestoreError naming the bad input. Returns the identifiers."""
    target = params["cluster_identifier"]
    arn = parse_cluster_arn(target)
    arn_account = None
    if arn:
        arn_region, arn_account, target = arn
        if arn_region != region:
            raise RestoreError("refusing to restore %r: the cluster ARN is in region %r, not the configured region %r"
                               % (params["cluster_identifier"], arn_region, region))
    target = validate_identifier(target, "cluster_identifier")
    if params["master_password_mode"] == "managed" and params["master_secret_id"]:
        raise RestoreError("master_secret_id (%r) applies to master_password_mode=secret; with managed, RDS keeps the master "
                           "password in a secret of its own" % params["master_secret_id"])
    if params["master_user_secret_kms_key_id"] and params["master_password_mode"] != "managed":
        raise RestoreError("master_user_secret_kms_key_id applies to master_password_mode=managed")
    if params["temporary_identifier_suffix"] == "" or params["retired_identifier_suffix"] == "":
        raise RestoreError("temporary_identifier_suffix and retired_identifier_suffix must not be empty")
    try:
        temp = validate_identifier(naming.temporary_cluster(target, params["temporary_identifier_suffix"]),
                                   "temporary identifier (cluster_identifier + temporary_identifier_suffix)")
        retired = validate_identifier(naming.retired_cluster(target, params["retired_identifier_suffix"]),
                                      "retired identifier (cluster_identifier + retired_identifier_suffix)")
    except naming.NamingError as error:
        raise RestoreError("temporary_identifier_suffix / retired_identifier_suffix: %s" % error) from None
    if temp == retired:
        raise RestoreError("temporary_identifier_suffix and retired_identifier_suffix must differ")
    instances = params["instances"]
    if instances["count"] < 1 or instances["count"] > 16:
        raise RestoreError("instances.count must be between 1 (the writer) and 16, got %d" % instances["count"])
    tiers = instances.get("promotion_tiers") or []
    if len(tiers) > instances["count"]:
        raise RestoreError("instances.promotion_tiers has %d entries for %d instances" % (len(tiers), instances["count"]))
    for tier in tiers:
        if not 0 <= tier <= 15:
            raise RestoreError("instances.promotion_tiers: %d is not a promotion tier (0-15)" % tier)
    if not (instances["instance_class"] or "").startswith("db."):
        raise RestoreError("instances.instance_class %r is not an instance class (db.r6g.large, db.serverless, ...)" % instances["instance_class"])
    scaling = params["serverless_v2_scaling"]
    if instances["instance_class"] == "db.serverless" and not scaling:
        raise RestoreError("serverless_v2_scaling (min_capacity, max_capacity) is required when instances.instance_class is db.serverless")
    if scaling:
        if not 0 <= scaling["min_capacity"] <= scaling["max_capacity"] <= 256 or scaling["max_capacity"] < 1:
            raise RestoreError("serverless_v2_scaling: need 0 <= min_capacity <= max_capacity <= 256 and max_capacity >= 1, got %s..%s"
                               % (scaling["min_capacity"], scaling["max_capacity"]))
    tag_problems = markers.tag_problems(params["tags"])
    if tag_problems:
        raise RestoreError("; ".join(tag_problems))
    if len(params["tags"]) > markers.MAX_TAGS - markers.CLUSTER_MARKERS:
        raise RestoreError("tags: %d tags leave no room for the collection's %d markers within AWS's %d per resource"
                           % (len(params["tags"]), markers.CLUSTER_MARKERS, markers.MAX_TAGS))
    if params["backup_retention_period"] is not None and not 1 <= params["backup_retention_period"] <= 35:
        raise RestoreError("backup_retention_period must be 1-35 days, got %d" % params["backup_retention_period"])
    insights = instances.get("performance_insights") or {}
    retention = insights.get("retention_days")
    if retention is not None and not (retention == 7 or (retention % 31 == 0 and 31 <= retention <= 713) or retention == 731):
        raise RestoreError("instances.performance_insights.retention_days must be 7, 731 or a multiple of 31 up to 713, got %d" % retention)
    if params["port"] is not None and not 1150 <= params["port"] <= 65535:
        raise RestoreError("port %d is outside 1150-65535" % params["port"])
    if params["wait_timeout"] < 1:
        raise RestoreError("wait_timeout must be at least 1 second, got %d" % params["wait_timeout"])
    if params["waited_seconds"] < 0:
        raise RestoreError("waited_seconds must be 0 or more, got %s" % params["waited_seconds"])
    if params["poll_interval_min"] <= 0 or params["poll_interval_max"] < params["poll_interval_min"]:
        raise RestoreError("poll intervals: need 0 < poll_interval_min <= poll_interval_max, got %s and %s"
                           % (params["poll_interval_min"], params["poll_interval_max"]))
    for problem in (wait_seconds_problem(params["expected_wait_seconds"]), wait_pending_problem(params["wait_pending"])):
        if problem:
            raise RestoreError(problem)
    account = params["expected_account_id"]
    if account is not None and not (len(account) == 12 and account.isdigit()):
        raise RestoreError("expected_account_id %r is not a 12-digit AWS account id" % account)
    if account and arn_account and arn_account != account:
        raise RestoreError("refusing to restore %r: the cluster ARN is in account %r, not expected_account_id %r"
                           % (params["cluster_identifier"], arn_account, account))
    if params["operation_id"] is not None and not 0 < len(params["operation_id"]) <= 200:
        raise RestoreError("operation_id must be 1-200 characters")
    if params["final_snapshot_identifier"]:
        validate_identifier(params["final_snapshot_identifier"], "final_snapshot_identifier")
    validate_source_options(params)
    return target, temp, retired, arn_account


def validate_source_options(params):
    """snapshot_identifier for a snapshot; a source cluster (and no engine_version) for a clone or a point in time."""
    kind = params["source_type"]
    if kind == "snapshot":
        if not params["snapshot_identifier"]:
            raise RestoreError("snapshot_identifier is required with source_type=snapshot")
        if params["restore_to_time"]:
            raise RestoreError("restore_to_time applies to source_type=point_in_time only")
        return
    if params["snapshot_identifier"]:
        raise RestoreError("snapshot_identifier is not used with source_type=%s: the source is source_cluster_identifier" % kind)
    if not params["source_cluster_identifier"]:
        raise RestoreError("source_cluster_identifier is required with source_type=%s (the cluster to restore from)" % kind)
    if params["engine_version"]:
        raise RestoreError("engine_version: a %s keeps the source cluster's engine version" % kind.replace("_", "-"))
    if params["restore_to_time"]:
        if kind != "point_in_time":
            raise RestoreError("restore_to_time applies to source_type=point_in_time only (a clone is of the source as it is now)")
        params["restore_to_time"] = utc_time(params["restore_to_time"], "restore_to_time").isoformat().replace("+00:00", "Z")


def utc_time(value, option):
    """An ISO-8601 time with a time zone, in UTC; RestoreError naming `option` otherwise."""
    try:
        moment = datetime.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise RestoreError("%s %r is not an ISO-8601 time with a time zone (for example 2026-12-01T23:00:00Z)" % (option, value))
    return moment.astimezone(datetime.timezone.utc)


def describe_shared_source_cluster(client, params, arn, target):
    """Another account's cluster, shared with this one through AWS RAM: only a copy-on-write clone can be made of it,
    under a key of this account when it is encrypted, and an account holds one clone of it."""
    if params["source_type"] != "clone":
        raise RestoreError("source_cluster_identifier %r is another account's cluster: only source_type=clone can restore "
                           "from it (AWS allows no point-in-time restore of a cluster shared through RAM)" % arn)
    found = call_ignoring_not_found(client.describe_db_clusters, DBClusterIdentifier=arn, IncludeShared=True)
    if not found:
        raise RestoreError("source_cluster_identifier %r is not shared with this account: its owner shares it through AWS RAM "
                           "and this account accepts (dbops.aurora_restore.aurora_cluster_share)" % arn)
    cluster = found[0]
    if cluster.get("Status") != "available":
        raise RestoreError("source_cluster_identifier %r is %s; a clone needs it available" % (arn, cluster.get("Status")))
    if cluster.get("StorageEncrypted") and not params["kms_key_id"]:
        raise RestoreError("source_cluster_identifier %r is encrypted: a clone of it in this account needs kms_key_id "
                           "(a key of this account, or the owner's key if its policy lets this account use it)" % arn)
    group = cluster.get("CloneGroupId")
    held = [c["DBClusterIdentifier"] for c in paginate(client.get_paginator("describe_db_clusters")).get("DBClusters", [])
            if group and c.get("CloneGroupId") == group]
    if [name for name in held if not (params["strategy"] == "replace" and name.lower() == target)]:
        raise RestoreError("this account already holds a clone of %r (%s), and AWS allows one cross-account clone of a cluster "
                           "per account: delete it, or use strategy=replace on it" % (arn, ", ".join(held)))
    return source_of_cluster(cluster, "clone", None, params["operation_id"], by_arn=True)


def call_ignoring_not_found(call, **kwargs):
    try:
        return call(aws_retry=True, **kwargs)["DBClusters"]
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") == "DBClusterNotFoundFault":
            return []
        raise


def describe_source_cluster(client, params, region, target, own_account):
    """The cluster a clone or a point-in-time restore is made from, as the plan reads a snapshot; refused in one line
    when it is missing, not available, the target itself, has no instance to clone, or the time is out of range."""
    kind, ident = params["source_type"], params["source_cluster_identifier"]
    arn = parse_cluster_arn(ident)
    if arn and (arn[0] != region):
        raise RestoreError("source_cluster_identifier %r is in region %r: a %s is made in the source's region, not %r"
                           % (ident, arn[0], kind.replace("_", "-"), region))
    if arn and arn[1] != own_account():
        return describe_shared_source_cluster(client, params, ident, target)
    name = arn[2] if arn else ident
    cluster = describe_cluster(client, name)
    if cluster is None:
        raise RestoreError("source_cluster_identifier %r: no such cluster in region %s (another account's cluster needs an AWS RAM "
                           "share)" % (ident, region))
    if cluster["DBClusterIdentifier"].lower() == target:
        raise RestoreError("refusing to restore %r from itself: source_cluster_identifier is the target" % target)
    if cluster.get("Status") != "available":
        raise RestoreError("source_cluster_identifier %r is %s; a %s needs it available"
                           % (ident, cluster.get("Status"), kind.replace("_", "-")))
    if kind == "clone":
        if not live_instances({"cluster": cluster, "instances": describe_cluster_instances(client, name)}):
            raise RestoreError("source_cluster_identifier %r has no DB instance, and AWS clones only a cluster that has one" % ident)
        group = cluster.get("CloneGroupId")
        if group:
            clones = [c for c in paginate(client.get_paginator("describe_db_clusters")).get("DBClusters", [])
                      if c.get("CloneGroupId") == group and c["DBClusterArn"] != cluster["DBClusterArn"]]
            if len(clones) >= CLONES_PER_SOURCE:
                raise RestoreError("source_cluster_identifier %r has %d clones, AWS's limit of %d: delete one, or use "
                                   "source_type=point_in_time (a full copy)" % (ident, len(clones), CLONES_PER_SOURCE))
    elif params["restore_to_time"]:
        moment = utc_time(params["restore_to_time"], "restore_to_time")
        earliest, latest = cluster.get("EarliestRestorableTime"), cluster.get("LatestRestorableTime")
        if (earliest and moment < as_utc(earliest)) or (latest and moment > as_utc(latest)):
            raise RestoreError("restore_to_time %s is outside the restorable window of %r, %s to %s"
                               % (params["restore_to_time"], ident, as_utc(earliest).isoformat() if earliest else "?",
                                  as_utc(latest).isoformat() if latest else "?"))
    return source_of_cluster(cluster, kind, params["restore_to_time"], params["operation_id"])


def as_utc(value):
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def validate_references(module, params, region, snapshot):
    """What AWS checks at restore time, checked before anything is deleted: subnet group, security groups, parameter
    groups (and their family), KMS key, engine version (restorable from the snapshot's), instance class (orderable for
    it), Serverless v2 range (within its bounds)."""
    dummy, problems = check_references(
        client_factory(module), region,
        db_subnet_group_name=params["db_subnet_group_name"], vpc_security_group_ids=params["vpc_security_group_ids"],
        db_cluster_parameter_group_name=params["db_cluster_parameter_group_name"],
        db_parameter_group_name=params["db_parameter_group_name"], kms_key_id=params["kms_key_id"],
        engine_version=params["engine_version"], snapshot_engine_version=snapshot.get("EngineVersion"),
        instance_class=params["instances"]["instance_class"], serverless_v2_scaling=params["serverless_v2_scaling"])
    if problems:
        raise RestoreError("; ".join(problems) + " (nothing was changed)")


def read_master_secret(module, secret_id):
    """(password, version id); the password is registered as a no_log value at once."""
    client = aws_client(module, "secretsmanager")
    value, version = read_json_secret(client, secret_id)
    password = master_password_of(value, secret_id)
    module.no_log_values.add(password)
    problem = master_password_problem(password, secret_id)
    if problem:
        raise RestoreError(problem)
    username = value.get("username", value.get("master_username"))
    return password, version, username


def snapshot_source(client, snapshot_id, region):
    snapshot_arn = arns.rds_resource(snapshot_id, "cluster-snapshot")
    if snapshot_arn and snapshot_arn[0] != region:
        raise RestoreError("snapshot_identifier %r is in region %r; copy it to %r first (aurora_snapshot_copy)" % (snapshot_id, snapshot_arn[0], region))
    snapshot = describe_snapshot(client, snapshot_id)
    if not (snapshot.get("Engine") or "").startswith("aurora"):
        raise RestoreError("snapshot_identifier %r is a %r snapshot, not an Aurora cluster snapshot" % (snapshot_id, snapshot.get("Engine")))
    return snapshot


def taken_instance_ids(client, prefix):
    result = paginate(client.get_paginator("describe_db_instances"))
    return {db["DBInstanceIdentifier"].lower() for db in result.get("DBInstances", []) if db["DBInstanceIdentifier"].lower().startswith(prefix)}


def target_facts(client, target):
    cluster = describe_cluster(client, target)
    if cluster is None:
        return {}
    entry = {"cluster": cluster, "instances": describe_cluster_instances(client, target)}
    return {
        "cluster_arn": cluster.get("DBClusterArn"),
        "endpoint": cluster.get("Endpoint"),
        "reader_endpoint": cluster.get("ReaderEndpoint"),
        "port": cluster.get("Port"),
        "status": cluster.get("Status"),
        "instances": [db["DBInstanceIdentifier"] for db in live_instances(entry)],
        "writer_instance": writer_of(entry),
        "master_user_secret_arn": (cluster.get("MasterUserSecret") or {}).get("SecretArn"),
        "cluster_create_time": iso(utc(cluster["ClusterCreateTime"])) if cluster.get("ClusterCreateTime") else None,
    }


def needs_reference_check(steps, continues_a_wait):
    """Whether the plan's steps need the references checked first: anything that deletes or restores does; creating
    instances does too, unless this run is a later slice of a wait (wait_pending, handed on by wait_in_slices), whose
    first slice checked them for the same plan moments ago."""
    actions = {step["action"] for step in steps}
    if actions & {"delete_instances", "delete_cluster", "restore_cluster"}:
        return True
    return "create_instances" in actions and not continues_a_wait


def run(module):
    params = module.params
    region = module.region
    target, temp, retired, dummy = validate_options(params, region)
    client = aws_client(module, "rds")

    # Preflight: everything the restore needs, checked before anything changes.
    refusal = account_refusal(module, params["expected_account_id"], "restore %r" % target)
    if refusal:
        raise RestoreError(refusal)
    if params["source_type"] == "snapshot":
        snapshot = snapshot_source(client, params["snapshot_identifier"], region)
    else:
        snapshot = describe_source_cluster(client, params, region, target, lambda: caller_account(module))

    password_holder = {}
    secret_version = None
    if params["master_secret_id"]:
        password, secret_version, username = read_master_secret(module, params["master_secret_id"])
        password_holder["password"] = password
        if username and snapshot.get("MasterUsername") and username != snapshot["MasterUsername"]:
            module.warn("master secret %r names user %r but the snapshot's master user is %r; only the password is reset"
                        % (params["master_secret_id"], username, snapshot["MasterUsername"]))
    elif params["master_password_mode"] != "managed":
        module.warn("no master_secret_id: the restored cluster keeps the source's master password")

    final = None
    if params["final_snapshot"] or params["final_snapshot_identifier"]:
        final = (params["final_snapshot_identifier"]
                 or naming.final_snapshot(target, datetime.datetime.now(datetime.timezone.utc))).lower()

    ctx = RestoreContext.of(dict(
        target=target, temp_id=temp, retired_id=retired, strategy=params["strategy"], region=region,
        snapshot=snapshot, instance_specs=instance_specs(params["instances"], target),
        master_secret_id=params["master_secret_id"], secret_version=secret_version,
        master_password_mode=params["master_password_mode"], master_user_secret_kms_key_id=params["master_user_secret_kms_key_id"],
        final_snapshot_identifier=final, allow_disable_deletion_protection=params["allow_disable_deletion_protection"],
        source_cluster_identifier=params["source_cluster_identifier"], expected_account_id=params["expected_account_id"],
        operation_id=params["operation_id"], restore_options=restore_options(params),
        cutover=params["cutover"] or params["strategy"] != "swap",
        refresh_certificate=params["refresh_certificate_after_rename"],
        source_type=params["source_type"], restore_to_time=params["restore_to_time"], force=params["force"],
    ))
    state = observe_state(client, [target, temp, retired] if params["strategy"] == "swap" else [target])
    steps = plan(ctx, state, lambda: taken_instance_ids(client, target))
    if needs_reference_check(steps, continues_a_wait=bool(params["wait_pending"])):
        validate_references(module, params, region, snapshot)
    for step in steps:
        name = step.get("final_snapshot_identifier")
        if step["action"] == "delete_cluster" and name and snapshot_exists(client, name):
            raise RestoreError("final snapshot %r already exists; choose another final_snapshot_identifier (nothing was changed)" % name)

    awaiting_cutover = awaits_cutover(ctx, state, steps)
    ready = temp if awaiting_cutover else target
    version, version_source = restore_engine_version(params, snapshot)
    if params["source_type"] != "snapshot":
        version_source = "source cluster"
    result = dict(changed=plan_changes(steps), cluster_identifier=target, strategy=params["strategy"],
                  snapshot_restored=snapshot["DBClusterSnapshotArn"], source_type=params["source_type"],
                  plan=public_plan(steps), completed_steps=[],
                  timings={}, waits=[], wait_seconds={}, downtime_seconds=None, final_snapshots=[], awaiting_cutover=awaiting_cutover,
                  ready_cluster_identifier=ready, engine_version=version, engine_version_source=version_source,
                  storage_type=restore_storage_type(params, snapshot))
    if module.check_mode:
        result.update(target_facts(client, ready))
        return result, None

    runner = Runner(client, ctx, params["wait_timeout"], params["poll_interval_min"], params["poll_interval_max"],
                    password_reader=lambda: password_holder["password"], waited_before=params["waited_seconds"],
                    wait_deadline=params["wait_deadline"], wait_started=params["wait_started"],
                    expected_wait_seconds=wait_seconds(params["expected_wait_seconds"]), wait_pending=params["wait_pending"],
                    observed=state)
    try:
        runner.run(steps)
    except RestoreError as error:
        return result, (error, runner)
    runner.finish_replace_downtime()
    result.update(changed=runner.changed, completed_steps=runner.done, timings=runner.timings, waits=runner.waits,
                  wait_seconds=runner.wait_seconds, downtime_seconds=runner.downtime_seconds, final_snapshots=runner.final_snapshots)
    result.update(target_facts(client, ready))
    if len(result.get("instances") or []) > params["instances"]["count"]:
        module.warn("cluster %r has %d instances, more than instances.count=%d; extra instances are not deleted"
                    % (target, len(result["instances"]), params["instances"]["count"]))
    return result, None


def awaits_cutover(ctx, state, steps):
    """True when a swap stops before its renames (cutover=false, the target not yet the restored cluster)."""
    target = state.get(ctx.target)
    if ctx.cutover or (target and is_current(target["cluster"], ctx)):
        return False
    return not any(step["action"] == "rename" for step in steps)


def main():
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
    )
    try:
        result, failure = run(module)
    except RestoreError as error:
        fail_with(module, str(error), error.aws_error, changed=False)
    except SecretError as error:
        module.fail_json(msg=str(error), changed=False)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="AWS request failed before the restore started (nothing was changed)")
    if failure:
        error, runner = failure
        result.update(changed=runner.changed, completed_steps=runner.done, timings=runner.timings, waits=runner.waits,
                      wait_seconds=runner.wait_seconds, final_snapshots=runner.final_snapshots)
        if runner.budget.ended_early():
            # Only this call's slice ended: its progress, and the next call carries on from what exists.
            result.update(timed_out=True, wait_phase=runner.current["phase"] if runner.current else None, wait_status=str(error),
                          wait_pending=runner.wait_pending)
            module.exit_json(**result)
        if runner.current:
            result.update(failed_step="%s:%s" % (runner.current["action"], runner.current["cluster"]), failed_phase=runner.current["phase"])
        fail_with(module, str(error), error.aws_error, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
