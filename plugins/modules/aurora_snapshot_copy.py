#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aurora_snapshot_copy
short_description: Select, share and copy an Aurora cluster snapshot across regions and accounts, re-encrypted, and clean up old copies
version_added: 0.1.0
description:
  - Selects a source cluster snapshot, by identifier or ARN, or the newest C(available) one of a cluster and/or
    identifier prefix and type, optionally no older than I(max_age_hours). The result says what was chosen and why.
  - With I(state=present) (run with the B(target) account's credentials, I(region) the target region) copies it to
    I(region), re-encrypted with I(kms_key_id), under a deterministic identifier so a rerun, or another target that
    needs the same snapshot in the same region, reuses the copy. A snapshot in another account and another region
    is copied in one step where AWS accepts it, else in two (I(cross_account_copy)).
  - An unencrypted source is copied unencrypted even with I(kms_key_id), since Aurora refuses to encrypt a cluster snapshot
    while copying it. RV(encrypt_at_restore) then says to encrypt at restore, which
    M(dbops.aurora_restore.aurora_cluster_restore) does with its I(kms_key_id).
  - The source's tags are copied without those AWS refuses (C(aws:) and C(rds:) prefixes, as CloudFormation stamps)
    and within AWS's 50 tags per snapshot, the collection's markers always kept; RV(dropped_tags) lists what was left out.
  - Copies AWS cannot make are refused before any call, across partitions (C(aws), C(aws-cn), C(aws-us-gov)) and to or
    from the China regions.
  - When 5 cross-region copies are already in flight to the region, waits for a free slot within I(wait_timeout)
    instead of failing.
  - With I(state=shared) (run with the B(source) account's credentials, I(region) the source region) shares the
    snapshot with I(share_with_account_ids), first copying an automated snapshot, or one encrypted with the default
    C(aws/rds) key, to a manual copy encrypted with I(share_kms_key_id).
  - With I(state=absent) deletes copies this collection made (they carry its C(dbops:aurora_restore:created-by) tag)
    beyond the newest I(keep_newest) per source cluster, or older than I(max_age_days), or the one named by
    I(target_snapshot_identifier). A snapshot without the tag is never deleted.
  - Waits poll with jittered backoff, an interval that grows with the time waited (capped by I(poll_interval_max)) and
    a deadline in seconds that may be many hours. The amazon.aws RDS waiters are not used.
author:
  - dbops platform team (@dbops)
options:
  state:
    description:
      - C(present) copies the snapshot to I(region); C(shared) shares it with other accounts; C(absent) deletes old copies.
    type: str
    choices: [present, shared, absent]
    default: present
  source_snapshot_identifier:
    description:
      - The source snapshot, an identifier in I(source_region) or an ARN (required for a snapshot shared by another account).
      - Mutually exclusive with I(source_cluster_identifier) and I(source_snapshot_prefix).
    type: str
  source_cluster_identifier:
    description: Select the newest available snapshot of this cluster.
    type: str
  source_snapshot_prefix:
    description: Select the newest available snapshot whose identifier starts with this prefix.
    type: str
  source_snapshot_type:
    description:
      - The type of snapshot to select from; C(shared) are snapshots other accounts shared with this one.
    type: str
    choices: [manual, automated, shared, any]
    default: any
  max_age_hours:
    description: Fail when the selected snapshot is older than this many hours.
    type: float
  source_region:
    description:
      - The region of the source snapshot. Defaults to the region in I(source_snapshot_identifier) when it is an ARN,
        else to I(region).
    type: str
  kms_key_id:
    description:
      - The KMS key (id, ARN or alias) in I(region) that encrypts the copy. Required when the source is encrypted and the
        copy crosses a region or an account.
    type: str
  intermediate_kms_key_id:
    description:
      - For a source in another account B(and) another region copied in two steps, the KMS key of this account in
        I(source_region) that encrypts the in-region copy made first.
    type: str
  cross_account_copy:
    description:
      - How a snapshot of another account in another region is copied. C(single_step) copies it straight to
        I(region), as the current CopyDBClusterSnapshot allows ("an ARN of a snapshot that is in a different account
        and a different Amazon Web Services Region"), in one copy with no intermediate key. C(two_step) copies it in its own
        region into this account first (I(intermediate_kms_key_id)), then across regions, as AWS required before
        October 2025. C(auto) tries one step and falls back to two when AWS refuses it.
    type: str
    choices: [auto, single_step, two_step]
    default: auto
  final_snapshots_of:
    description:
      - With I(state=absent), apply the retention to the final snapshots M(dbops.aurora_restore.aurora_cluster_restore)
        took of this target cluster (tag C(dbops:aurora_restore:final-snapshot-of)) instead of to the copies. Copy
        retention never deletes a final snapshot.
    type: str
  target_snapshot_identifier:
    description:
      - The copy's identifier. Defaults to a deterministic name made of the source's name and a hash of its ARN, the
        target region and the key, so that the same request always names the same copy.
      - With I(state=absent), delete only this copy.
    type: str
  force_copy:
    description: Copy even when the source is already in I(region), in this account, with the wanted key.
    type: bool
    default: false
  copy_tags:
    description: Copy the source snapshot's tags to the copy (the collection's marker tags are always added).
    type: bool
    default: true
  tags:
    description: Tags for the copy.
    type: dict
  operation_id:
    description: The restore operation making the copy, recorded in a marker tag.
    type: str
  share_with_account_ids:
    description: With I(state=shared), the 12-digit account ids to share the snapshot with.
    type: list
    elements: str
  share_kms_key_id:
    description:
      - With I(state=shared), the customer managed KMS key (in I(region)) for the manual copy made first when the
        snapshot is automated or encrypted with the default C(aws/rds) key. Its key policy must let the target
        accounts use it.
    type: str
  wait:
    description: Wait until the copy is C(available).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for a copy slot and for the copy, in all. Cross-region copies can take hours.
    type: int
    default: 14400
  poll_interval_max:
    description: The longest pause, in seconds, between two describe calls while waiting.
    type: int
    default: 30
  waited_seconds:
    description:
      - Deprecated, use I(wait_started). How long this wait already ran in earlier calls, in seconds.
    type: float
    default: 0
  expected_wait_seconds:
    description:
      - How long each wait for a copy took last time, as RV(wait_seconds) returned it (the restore role passes the
        target's previous refresh, from the audit trail). Until the copy's percentage predicts its end, polls gather
        around the moment it is expected to end instead of growing from the shortest interval; a copy that runs longer
        than last time goes back to the growing interval, one that ends sooner is noticed within I(poll_interval_max).
    type: dict
  keep_newest:
    description: With I(state=absent), keep this many newest copies per source cluster.
    type: int
  max_age_days:
    description: With I(state=absent), delete copies older than this many days.
    type: float
  exclude_snapshot_identifiers:
    description: With I(state=absent), copies never to delete (for example the one just restored).
    type: list
    elements: str
    default: []
notes:
  - Supports check mode, which returns the plan (what would be shared, copied or deleted) and changes nothing.
  - Throttling and transient errors are retried with jittered backoff.
extends_documentation_fragment:
  - dbops.aurora_restore.waits_in_slices
  - dbops.aurora_restore.runs_in_worker
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Copy the newest manual snapshot of production to us-west-2, re-encrypted with the target's key
  dbops.aurora_restore.aurora_snapshot_copy:
    region: us-west-2
    source_region: us-east-1
    source_cluster_identifier: production
    source_snapshot_type: manual
    max_age_hours: 26
    kms_key_id: alias/aurora-restore
    operation_id: "{{ restore_operation.operation.operation_id }}"
  register: snapshot_copy

- name: Copy an explicit snapshot by ARN, without waiting
  dbops.aurora_restore.aurora_snapshot_copy:
    region: us-west-2
    source_snapshot_identifier: arn:aws:rds:us-east-1:111111111111:cluster-snapshot:production-2026-11-22
    kms_key_id: arn:aws:kms:us-west-2:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab
    wait: false

- name: Share the newest automated snapshot with the staging account (source account credentials)
  dbops.aurora_restore.aurora_snapshot_copy:
    state: shared
    region: us-east-1
    source_cluster_identifier: production
    source_snapshot_type: automated
    share_with_account_ids: ["222222222222"]
    share_kms_key_id: alias/aurora-restore-share
  register: shared

- name: In the staging account, copy the shared snapshot to us-west-2 (one step; two if AWS refuses one)
  dbops.aurora_restore.aurora_snapshot_copy:
    region: us-west-2
    source_snapshot_identifier: "{{ shared.snapshot.arn }}"
    kms_key_id: alias/aurora-restore                   # this account's key in us-west-2
    intermediate_kms_key_id: alias/aurora-restore      # this account's key in us-east-1, for the two-step fallback
    access_key: "{{ staging_credentials.access_key }}"
    secret_key: "{{ staging_credentials.secret_key }}"
    session_token: "{{ staging_credentials.session_token }}"

- name: Keep the three newest copies per source cluster in us-west-2, never the one just restored
  dbops.aurora_restore.aurora_snapshot_copy:
    state: absent
    region: us-west-2
    keep_newest: 3
    max_age_days: 14
    exclude_snapshot_identifiers: ["{{ snapshot_copy.snapshot.identifier }}"]
"""

RETURN = r"""
timed_out:
  description: True when the call's slice (I(wait_timeout)) ended before the copy, with I(wait_deadline) still ahead.
  returned: when it waited
  type: bool
source_snapshot:
  description: The selected source snapshot and why it was chosen.
  returned: when state is present or shared
  type: dict
  contains:
    identifier:
      description: Its identifier.
      type: str
    arn:
      description: Its ARN.
      type: str
    cluster_identifier:
      description: The cluster it was taken from.
      type: str
    create_time:
      description: When it was taken (UTC).
      type: str
    age_hours:
      description: Its age in hours.
      type: float
    type:
      description: manual, automated or shared (from this account's point of view).
      type: str
    encrypted:
      description: Whether it is encrypted.
      type: bool
    kms_key_id:
      description: Its KMS key.
      type: str
    engine_version:
      description: Its engine version.
      type: str
    master_username:
      description: Its master user, which a cluster restored from it keeps.
      type: str
    selected_because:
      description: Why it was chosen.
      type: str
      sample: newest of 3 available snapshot(s) matching source_cluster_identifier='production', source_snapshot_type=manual
snapshot:
  description:
    - With I(state=present), the copy in I(region) (or the source itself when no copy was needed); with I(state=shared),
      the snapshot that was shared.
  returned: when state is present or shared
  type: dict
  contains:
    identifier:
      description: Its identifier.
      type: str
    arn:
      description: Its ARN (restore from this).
      type: str
    status:
      description: Its status.
      type: str
    percent_progress:
      description: How much of the copy is done.
      type: int
    region:
      description: Its region.
      type: str
    reused:
      description: True when an existing copy was found and reused instead of starting a new one.
      type: bool
copy_needed:
  description: False when the source is already in I(region), in this account, with the wanted key.
  returned: when state=present
  type: bool
intermediate_snapshot:
  description: The in-region copy made first for a source in another account and region.
  returned: when that two-step copy was needed
  type: dict
copy_path:
  description: C(single-step) or C(two-step) (a source in another account and region that AWS refused to copy at once).
  returned: when state=present and a copy was needed
  type: str
  sample: single-step
single_step_refused:
  description: The error code with which AWS refused a single-step copy before the two steps were made.
  returned: when that happened
  type: str
encrypt_at_restore:
  description: True when the source is unencrypted, so the copy stays unencrypted and the restore must encrypt.
  returned: when state=present
  type: bool
dropped_tags:
  description: Source tags left out of the copy, by reason (C(reserved_prefix), C(over_limit)).
  returned: when some were left out
  type: dict
  sample: {"reserved_prefix": ["aws:cloudformation:stack-name"], "over_limit": []}
wait:
  description: How the wait went, waited_seconds, polls, the last status and percent, and the status changes with elapsed seconds.
  returned: when the module waited
  type: dict
wait_seconds:
  description:
    - How long each wait for a copy took, in seconds, by wait name (C(snapshot copy), or the two steps' names). Pass it
      as I(expected_wait_seconds) next time.
  returned: when the module waited for a copy
  type: dict
  sample: {"snapshot copy": 1260.4}
wait_pending:
  description:
    - The wait this call's slice ended in, C(name) (as in RV(wait_seconds)) and C(since) (when it began, in seconds from
      I(wait_started)), when only the slice timed out. Pass it as I(wait_pending) to the next slice.
  returned: when timed_out during a wait for a copy
  type: dict
waited_for_copy_slot_seconds:
  description: Seconds spent waiting because 5 cross-region copies were already in flight to I(region).
  returned: when state=present
  type: float
shared_with:
  description: The account ids the snapshot is shared with now.
  returned: when state=shared
  type: list
  elements: str
shared_added:
  description: The account ids this run added.
  returned: when state=shared
  type: list
  elements: str
deleted:
  description: The copies deleted (or that would be, in check mode), with identifier, create time and age.
  returned: when state=absent
  type: list
  elements: dict
kept:
  description: The collection's copies kept.
  returned: when state=absent
  type: list
  elements: str
plan:
  description: What the module does, or would do in check mode, in order.
  returned: always
  type: list
  elements: str
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils import markers
from ansible_collections.dbops.aurora_restore.plugins.module_utils import naming
from ansible_collections.dbops.aurora_restore.plugins.module_utils import snapshots as snap
from ansible_collections.dbops.aurora_restore.plugins.module_utils.snapshot_access import SnapshotAccess
from ansible_collections.dbops.aurora_restore.plugins.module_utils.snapshots import SnapshotError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import Observation
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitFailed
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitTimeout
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import first_then
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import wait_pending_problem
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import wait_seconds_problem

MAX_CROSS_REGION_COPIES_IN_FLIGHT = 5
_ACCOUNT_RE = re.compile(r"^\d{12}$")


class SnapshotCopies(SnapshotAccess):
    """Copying a snapshot: a slot among AWS's concurrent copies, the request, its tags, the wait, one or two steps."""

    def copy(self, source, source_region, destination_region, kms_key_id, identifier, original, describe_as):
        """Copy `source` into `destination_region` as `identifier`, or reuse that copy; wait unless told not to.

        Returns the snapshot dict (planned in check mode) and whether it was reused.
        """
        client = self.rds(destination_region)
        original_arn = original["DBClusterSnapshotArn"]
        existing = snap.get_snapshot(client, identifier)
        if existing:
            if not snap.copy_is_ours_for(existing, original_arn):
                raise SnapshotError(
                    "snapshot %r already exists in %s but is not this collection's copy of %s; set target_snapshot_identifier to another name"
                    % (identifier, destination_region, original_arn)
                )
            self.plan.append("reuse %s %r in %s (%s)" % (describe_as, identifier, destination_region, existing.get("Status")))
            return self.finish_copy(client, existing, describe_as), True
        action = "copy %s to %s as %r" % (source.get("DBClusterSnapshotArn") or source["DBClusterSnapshotIdentifier"], destination_region, identifier)
        if kms_key_id:
            action += " encrypted with %s" % kms_key_id
        self.plan.append(action)
        if self.module.check_mode:
            self.result["changed"] = True
            return {"DBClusterSnapshotIdentifier": identifier, "Status": "planned", "DBClusterSnapshotArn": None}, False
        params = dict(
            SourceDBClusterSnapshotIdentifier=source["DBClusterSnapshotArn"],
            TargetDBClusterSnapshotIdentifier=identifier,
            Tags=self.copy_tags(source, original),
        )
        if kms_key_id:
            params["KmsKeyId"] = kms_key_id
        if source_region != destination_region:
            params["SourceRegion"] = source_region  # boto3 signs the PreSignedUrl AWS needs from this
        started = self.start_copy(client, params, destination_region, cross_region=source_region != destination_region)
        if started is None:  # another run created the same copy a moment ago: reuse it
            return self.copy(source, source_region, destination_region, kms_key_id, identifier, original, describe_as)
        self.result["changed"] = True
        return self.finish_copy(client, started, describe_as), False

    def copy_tags(self, source, original):
        """The copy's tags: the source's (copy_tags) without the aws:/rds: keys AWS refuses and within its 50 tags,
        then the user's tags, then the markers. What was left out is reported (dropped_tags) and warned about."""
        user = dict(self.params["tags"] or {})
        copied, reserved, over = {}, [], []
        if self.params["copy_tags"]:
            copied, reserved, over = markers.fit_copied_tags(markers.tags_dict(original.get("TagList")), user, markers.COPY_MARKERS)
        if reserved or over:
            self.result["dropped_tags"] = {"reserved_prefix": reserved, "over_limit": over}
            self.module.warn("the copy of %s leaves out %d source tag(s): %s" % (
                original["DBClusterSnapshotArn"], len(reserved) + len(over),
                "; ".join(part for part in (
                    ("%s (AWS reserves the aws: and rds: prefixes)" % ", ".join(reserved)) if reserved else "",
                    ("%s (over AWS's %d tags per snapshot)" % (", ".join(over), markers.MAX_TAGS)) if over else "") if part)))
        copied.update(user)
        return markers.with_markers(copied, source_snapshot_arn=original["DBClusterSnapshotArn"], operation_id=self.params["operation_id"],
                                    source_cluster=original.get("DBClusterIdentifier"))

    def start_copy(self, client, params, region, cross_region):
        """CopyDBClusterSnapshot, waiting for a free slot while 5 cross-region copies are in flight."""
        slot_wait_started = self.now()
        outcome = {}

        def try_copy():
            try:
                outcome["snapshot"] = client.copy_db_cluster_snapshot(aws_retry=True, **params)["DBClusterSnapshot"]
                return Observation("copy-started", done=True)
            except botocore.exceptions.ClientError as error:
                code = snap.error_code(error)
                if code == "DBClusterSnapshotAlreadyExistsFault":
                    outcome["snapshot"] = None
                    return Observation("already-exists", done=True)
                # The same code means "too many copies in flight" (wait) or "too many snapshots" (do not). Any copy in
                # flight means a slot (one may have ended since the refusal: then the next try gets it); none, the quota.
                slot_limit = code in ("SnapshotQuotaExceeded", "SnapshotQuotaExceededFault") and cross_region
                if slot_limit and self.copies_in_flight(client) > 0:
                    return Observation("waiting-for-copy-slot")
                raise

        try:
            self.budget.wait(try_copy, "a free cross-region copy slot in %s (%d copies in flight)" % (region, MAX_CROSS_REGION_COPIES_IN_FLIGHT),
                             max_interval=self.params["poll_interval_max"], continues=False)
        finally:
            self.result["waited_for_copy_slot_seconds"] = round((self.now() - slot_wait_started).total_seconds(), 1)
        return outcome["snapshot"]

    def copies_in_flight(self, client):
        return len([item for item in snap.list_snapshots(client, "manual") if item.get("Status") == "copying"])

    def finish_copy(self, client, snapshot, describe_as):
        if not self.params["wait"] or snapshot.get("Status") == "available":
            return snapshot
        identifier = snapshot["DBClusterSnapshotIdentifier"]
        # The wait's first look is the snapshot in hand (described or started a moment ago), not another describe:
        # each slice of a long copy comes here once.
        look = first_then(snapshot, lambda: snap.get_snapshot(client, identifier))

        def observe():
            current = look()
            if current is None:
                return Observation("deleted", failed=True)
            status = current.get("Status")
            return Observation(status, done=status == "available", failed=status in snap.FAILED_STATUSES,
                               percent=current.get("PercentProgress"), resource=current)

        self.result["wait_seconds"] = self.budget.durations
        report = self.budget.timed_wait(describe_as, observe, "%s %r" % (describe_as, identifier),
                                        max_interval=self.params["poll_interval_max"])
        resource = report.pop("resource")
        self.result.setdefault("waits", []).append(dict(report, snapshot=identifier))
        self.result["wait"] = report
        return resource

    def single_step_copy(self, source, source_region, kms_arn, identifier, refusal_is_final):
        """The copy in one step, or None when AWS refuses it (the two-step rule) and the two steps may follow."""
        try:
            copied, reused = self.copy(source, source_region, self.region, kms_arn, identifier, source, "snapshot copy")
        except botocore.exceptions.ClientError as error:
            if refusal_is_final or snap.error_code(error) not in snap.SINGLE_STEP_REFUSALS:
                raise
            self.plan.append("AWS refused the single-step copy (%s): two steps instead" % snap.error_code(error))
            self.result["single_step_refused"] = snap.error_code(error)
            return None
        self.result["copy_path"] = "single-step"
        self.result["snapshot"] = self.snapshot_facts(copied, self.region, reused)
        return copied

    def two_step_copy(self, source, source_region, encrypted, kms_arn, identifier):
        """In-region into this account first, then cross-region (the rule AWS applied before October 2025)."""
        source_arn = source["DBClusterSnapshotArn"]
        source_account = snap.parse_snapshot_arn(source_arn)[1]
        intermediate_key = self.params["intermediate_kms_key_id"]
        if encrypted and not intermediate_key:
            raise SnapshotError(
                "source snapshot %r is in account %s and region %s and AWS refused to copy it in one step: the in-region copy "
                "made first needs intermediate_kms_key_id, a KMS key of account %s in %s"
                % (source_arn, source_account, source_region, self.account_id, source_region)
            )
        self.result["copy_path"] = "two-step"
        intermediate_arn = self.check_kms_key(intermediate_key, source_region, "intermediate_kms_key_id") if intermediate_key else None
        in_region = naming.snapshot_copy(source_arn, source_region, intermediate_arn)
        intermediate, reused = self.copy(source, source_region, source_region, intermediate_arn, in_region, source, "in-region copy")
        self.result["intermediate_snapshot"] = self.snapshot_facts(intermediate, source_region, reused)
        if not self.module.check_mode and intermediate.get("Status") != "available":
            self.result["snapshot"] = None
            return  # wait=false: the cross-region copy starts on a later run, once this one is available
        copied, reused = self.copy(intermediate, source_region, self.region, kms_arn, identifier, source, "snapshot copy")
        self.result["snapshot"] = self.snapshot_facts(copied, self.region, reused)


class SnapshotCopier(SnapshotCopies):
    """The module's three states: present (select, copy), shared (share with accounts), absent (retention)."""

    def run_present(self):
        source, source_region = self.select_source()
        source_arn = source["DBClusterSnapshotArn"]
        arn_region, source_account, dummy = snap.parse_snapshot_arn(source_arn)
        refusal = snap.copy_refusal(source_region, self.region)
        if refusal:
            raise SnapshotError(refusal)
        cross_region = source_region != self.region
        cross_account = source_account != self.account_id
        encrypted = bool(source.get("StorageEncrypted"))
        kms_key_id = self.params["kms_key_id"]
        if encrypted and (cross_region or cross_account) and not kms_key_id:
            raise SnapshotError(
                "source snapshot %r is encrypted and the copy crosses %s: set kms_key_id to a KMS key of account %s in %s"
                % (source["DBClusterSnapshotIdentifier"], "regions" if cross_region else "accounts", self.account_id, self.region)
            )
        if cross_account and encrypted and self.encrypted_with_default_key(source, source_region):
            raise SnapshotError(
                "source snapshot %r is encrypted with the default aws/rds key of account %s, which other accounts cannot use: "
                "share a copy encrypted with a customer managed key (state=shared with share_kms_key_id)" % (source_arn, source_account)
            )
        kms_arn = self.check_kms_key(kms_key_id, self.region, "kms_key_id") if kms_key_id else None
        self.result["encrypt_at_restore"] = False
        if kms_arn and not encrypted:
            # "If you copy an unencrypted DB cluster snapshot and specify a value for the KmsKeyId parameter, an error is
            # returned": Aurora encrypts at restore instead (RestoreDBClusterFromSnapshot KmsKeyId).
            self.plan.append("the source is unencrypted: the copy stays unencrypted; the restore encrypts the cluster with %s" % kms_arn)
            self.result["encrypt_at_restore"] = True
            kms_arn = None
        needs_copy = cross_region or cross_account or self.params["force_copy"] or (kms_arn and kms_arn != source.get("KmsKeyId"))
        self.result["copy_needed"] = bool(needs_copy)
        if not needs_copy:
            self.plan.append("no copy needed: %s is already in %s, in account %s, with the wanted key" % (source_arn, self.region, self.account_id))
            self.result["snapshot"] = self.snapshot_facts(source, self.region, reused=True)
            return

        identifier = self.params["target_snapshot_identifier"] or naming.snapshot_copy(source_arn, self.region, kms_arn)
        if cross_region and cross_account:
            mode = self.params["cross_account_copy"]
            if mode != "two_step":
                # The current CopyDBClusterSnapshot accepts "an ARN of a snapshot that is in a different account and a
                # different Amazon Web Services Region": one copy, no intermediate key.
                copied = self.single_step_copy(source, source_region, kms_arn, identifier, refusal_is_final=mode == "single_step")
                if copied is not None:
                    return
            self.two_step_copy(source, source_region, encrypted, kms_arn, identifier)
            return
        self.result["copy_path"] = "single-step"
        copied, reused = self.copy(source, source_region, self.region, kms_arn, identifier, source, "snapshot copy")
        self.result["snapshot"] = self.snapshot_facts(copied, self.region, reused)

    def run_shared(self):
        accounts = self.params["share_with_account_ids"]
        bad = [account for account in accounts if not _ACCOUNT_RE.match(account)]
        if bad:
            raise SnapshotError("share_with_account_ids must be 12-digit account ids; got %s" % ", ".join(repr(account) for account in bad))
        source, source_region = self.select_source()
        if source_region != self.region:
            raise SnapshotError("state=shared works in the snapshot's own region: set region to %s" % source_region)
        kind = snap.snapshot_type(source, self.account_id)
        if kind == "shared":
            raise SnapshotError("snapshot %r belongs to another account; share it with that account's credentials" % source["DBClusterSnapshotArn"])
        to_share = source
        default_key = self.encrypted_with_default_key(source, self.region)
        if kind == "automated" or default_key:
            share_key = self.params["share_kms_key_id"]
            if default_key and not share_key:
                raise SnapshotError(
                    "snapshot %r is encrypted with the default aws/rds key, which cannot be shared: set share_kms_key_id to a customer "
                    "managed key whose policy lets accounts %s use it, and a re-encrypted manual copy is shared instead"
                    % (source["DBClusterSnapshotIdentifier"], ", ".join(accounts))
                )
            share_arn = self.check_kms_key(share_key, self.region, "share_kms_key_id") if share_key else None
            identifier = naming.snapshot_copy(source["DBClusterSnapshotArn"], self.region, share_arn or source.get("KmsKeyId"), prefix=naming.SHARE_PREFIX)
            why = "automated snapshots cannot be shared" if kind == "automated" else "default-key snapshots cannot be shared"
            self.plan.append("copy to a manual snapshot first (%s)" % why)
            to_share, reused = self.copy(source, self.region, self.region, share_arn, identifier, source, "manual copy")
            if not self.module.check_mode and to_share.get("Status") != "available":
                raise SnapshotError("manual copy %r is %r; run again once it is available (or with wait=true)"
                                    % (identifier, to_share.get("Status")))
        identifier = to_share["DBClusterSnapshotIdentifier"]
        current = [] if to_share.get("Status") == "planned" else snap.restore_accounts(self.rds(self.region), identifier)
        missing = [account for account in accounts if account not in current]
        if missing:
            self.plan.append("share %r with %s" % (identifier, ", ".join(missing)))
            self.result["changed"] = True
            if not self.module.check_mode:
                self.rds(self.region).modify_db_cluster_snapshot_attribute(
                    aws_retry=True, DBClusterSnapshotIdentifier=identifier, AttributeName="restore", ValuesToAdd=missing)
        self.result.update(snapshot=self.snapshot_facts(to_share, self.region, reused=to_share is not source),
                           shared_with=sorted(set(current) | set(accounts)), shared_added=missing)

    def run_absent(self):
        client = self.rds(self.region)
        identifier = self.params["target_snapshot_identifier"]
        if identifier:
            found = snap.get_snapshot(client, identifier)
            candidates = [found] if found else []
            if found and not markers.is_ours(found.get("TagList")):
                raise SnapshotError("snapshot %r has no %s tag: this module deletes only copies it made" % (identifier, markers.CREATED_BY_KEY))
            to_delete, kept = candidates, []
        else:
            if self.params["keep_newest"] is None and self.params["max_age_days"] is None:
                raise SnapshotError("state=absent needs target_snapshot_identifier, keep_newest or max_age_days")
            to_delete, kept = snap.retention_plan(snap.list_snapshots(client, "manual"), self.now(), self.params["keep_newest"],
                                                  self.params["max_age_days"], self.params["exclude_snapshot_identifiers"],
                                                  final_snapshots_of=self.params["final_snapshots_of"])
        deleted = []
        for snapshot in to_delete:
            facts = snap.describe(snapshot, self.now(), self.account_id)
            deleted.append({key: facts[key] for key in ("identifier", "arn", "create_time", "age_hours", "cluster_identifier")})
            self.plan.append("delete %r (%s h old)" % (facts["identifier"], facts["age_hours"]))
            if not self.module.check_mode:
                try:
                    client.delete_db_cluster_snapshot(aws_retry=True, DBClusterSnapshotIdentifier=facts["identifier"])
                except botocore.exceptions.ClientError as error:
                    if snap.error_code(error) != "DBClusterSnapshotNotFoundFault":  # gone already: what we wanted
                        raise
        self.result.update(changed=bool(deleted), deleted=deleted, kept=[item["DBClusterSnapshotIdentifier"] for item in kept])


def validate(params):
    if params["wait_timeout"] < 1:
        raise SnapshotError("wait_timeout must be at least 1 second, got %d" % params["wait_timeout"])
    if params["poll_interval_max"] < 1:
        raise SnapshotError("poll_interval_max must be at least 1 second, got %d" % params["poll_interval_max"])
    if params["waited_seconds"] < 0:
        raise SnapshotError("waited_seconds must be 0 or more, got %s" % params["waited_seconds"])
    for problem in (wait_seconds_problem(params["expected_wait_seconds"]), wait_pending_problem(params["wait_pending"])):
        if problem:
            raise SnapshotError(problem)
    if params["keep_newest"] is not None and params["keep_newest"] < 0:
        raise SnapshotError("keep_newest must be 0 or more, got %d" % params["keep_newest"])
    if params["final_snapshots_of"] and params["state"] != "absent":
        raise SnapshotError("final_snapshots_of applies to state=absent only")
    if params["max_age_hours"] is not None and params["max_age_hours"] <= 0:
        raise SnapshotError("max_age_hours must be more than 0, got %s" % params["max_age_hours"])
    if params["state"] != "absent" and not (params["source_snapshot_identifier"] or params["source_cluster_identifier"] or params["source_snapshot_prefix"]):
        raise SnapshotError("state=%s needs source_snapshot_identifier, source_cluster_identifier or source_snapshot_prefix" % params["state"])
    if params["source_snapshot_identifier"]:
        snap.parse_snapshot_arn(params["source_snapshot_identifier"])


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "shared", "absent"], default="present"),
        source_snapshot_identifier=dict(type="str"),
        source_cluster_identifier=dict(type="str"),
        source_snapshot_prefix=dict(type="str"),
        source_snapshot_type=dict(type="str", choices=list(snap.SNAPSHOT_TYPES), default="any"),
        max_age_hours=dict(type="float"),
        source_region=dict(type="str"),
        kms_key_id=dict(type="str"),
        intermediate_kms_key_id=dict(type="str"),
        cross_account_copy=dict(type="str", choices=["auto", "single_step", "two_step"], default="auto"),
        final_snapshots_of=dict(type="str"),
        target_snapshot_identifier=dict(type="str"),
        force_copy=dict(type="bool", default=False),
        copy_tags=dict(type="bool", default=True),
        tags=dict(type="dict"),
        operation_id=dict(type="str"),
        share_with_account_ids=dict(type="list", elements="str"),
        share_kms_key_id=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=14400),
        poll_interval_max=dict(type="int", default=30),
        waited_seconds=dict(type="float", default=0, removed_in_version="1.0.0", removed_from_collection="dbops.aurora_restore"),
        wait_deadline=dict(type="float"),
        wait_started=dict(type="float"),
        expected_wait_seconds=dict(type="dict"),
        wait_pending=dict(type="dict"),
        keep_newest=dict(type="int"),
        max_age_days=dict(type="float"),
        exclude_snapshot_identifiers=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[
            ("source_snapshot_identifier", "source_cluster_identifier"),
            ("source_snapshot_identifier", "source_snapshot_prefix"),
        ],
        required_if=[("state", "shared", ["share_with_account_ids"])],
    )
    copier = SnapshotCopier(module)
    try:
        validate(module.params)
        {"present": copier.run_present, "shared": copier.run_shared, "absent": copier.run_absent}[module.params["state"]]()
    except WaitTimeout as error:
        # The wait so far (status, percent, trail) comes back too: a caller waiting in slices reports it.
        copier.result["wait"] = {key: value for key, value in error.progress.items() if key != "resource"}
        copier.result["timed_out"] = True
        if copier.budget.pending:
            copier.result["wait_pending"] = copier.budget.pending
        if copier.budget.ended_early():
            module.exit_json(**copier.result)
        module.fail_json(msg=str(error), **copier.result)
    except (SnapshotError, WaitFailed) as error:
        module.fail_json(msg=str(error), **copier.result)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="RDS request failed (state=%s)" % module.params["state"], **copier.result)
    module.exit_json(**copier.result)


if __name__ == "__main__":
    main()
