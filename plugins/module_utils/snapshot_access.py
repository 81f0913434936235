# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""aurora_snapshot_copy's reading side: clients per region, the caller's account, KMS keys, the source snapshot's
selection and the facts returned about a snapshot. The module's SnapshotCopier adds copying, sharing and retention."""

from __future__ import annotations

import datetime

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils import arns
from ansible_collections.dbops.aurora_restore.plugins.module_utils import snapshots as snap
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import aws_client
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import caller_account
from ansible_collections.dbops.aurora_restore.plugins.module_utils.snapshots import SnapshotError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitBudget


class SnapshotAccess:
    """What a snapshot module reads: one client per region, the account, keys, the source snapshot."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.region = module.region
        self.plan = []
        self.result = {"changed": False, "plan": self.plan}
        # Every wait of the run (a copy slot, then the copy) on one budget; a slice of a longer wait cuts it.
        self.budget = WaitBudget(self.params["wait_timeout"], self.params.get("wait_deadline"), self.params.get("wait_started"),
                                 self.params.get("waited_seconds") or 0.0,
                                 expected_wait_seconds=self.params.get("expected_wait_seconds"),
                                 wait_pending=self.params.get("wait_pending"))
        self._clients = {}
        self._account_id = None

    def rds(self, region):
        if region not in self._clients:
            self._clients[region] = aws_client(self.module, "rds", region=region)
        return self._clients[region]

    @property
    def account_id(self):
        if self._account_id is None:
            self._account_id = caller_account(self.module)
        return self._account_id

    def now(self):
        return datetime.datetime.now(datetime.timezone.utc)

    def check_kms_key(self, key_id, region, option):
        """The key must exist in `region`: name the option and region when it does not."""
        arn_region = arns.region_of(key_id)
        if arn_region and arn_region != region:
            raise SnapshotError("%s %r is a key in %s; the copy in %s needs a KMS key in %s" % (option, key_id, arn_region, region, region))
        try:
            return aws_client(self.module, "kms", region=region).describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]["Arn"]
        except botocore.exceptions.ClientError as error:
            if snap.error_code(error) in ("NotFoundException", "InvalidArnException"):
                raise SnapshotError("%s %r is not a KMS key in %s (account %s)" % (option, key_id, region, self.account_id))
            raise

    def encrypted_with_default_key(self, snapshot, region):
        """Encrypted with the AWS managed aws/rds key, which no other account can use.

        AWS reports such a snapshot's KmsKeyId as the key's ARN (…:key/<id>), not as the alias: ask KMS whether the key is
        AWS managed, or is the one behind alias/aws/rds. A key this account cannot describe (another account's) is left
        to AWS to judge.
        """
        key_id = snapshot.get("KmsKeyId")
        if not snapshot.get("StorageEncrypted") or not key_id:
            return False
        if snap.is_default_key(key_id):
            return True
        kms = aws_client(self.module, "kms", region=region)
        try:
            metadata = kms.describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]
            if metadata.get("KeyManager") == "AWS":
                return True
            aliases = kms.list_aliases(aws_retry=True, KeyId=metadata["KeyId"]).get("Aliases", [])
        except botocore.exceptions.ClientError:
            return False
        return any(alias.get("AliasName") == "alias/aws/rds" for alias in aliases)

    def source_region(self):
        identifier = self.params["source_snapshot_identifier"]
        arn = snap.parse_snapshot_arn(identifier) if identifier else None
        if arn and self.params["source_region"] and self.params["source_region"] != arn[0]:
            raise SnapshotError("source_region %r contradicts the region %r of source_snapshot_identifier" % (self.params["source_region"], arn[0]))
        return arn[0] if arn else (self.params["source_region"] or self.region)

    def select_source(self):
        region = self.source_region()
        client = self.rds(region)
        identifier = self.params["source_snapshot_identifier"]
        if identifier:
            found = snap.get_snapshot(client, identifier)
            if not found:
                raise SnapshotError("source snapshot %r not found in %s (account %s)" % (identifier, region, self.account_id))
            if found.get("Status") != "available":
                raise SnapshotError("source snapshot %r is %r, not available" % (identifier, found.get("Status")))
            age = snap.age_hours(found, self.now(), digits=None)
            limit = self.params["max_age_hours"]
            if limit is not None and age is not None and age > limit:
                raise SnapshotError("source snapshot %r is %.1f h old: older than max_age_hours=%s" % (identifier, age, limit))
            chosen, why = found, "named by source_snapshot_identifier"
        else:
            kind = self.params["source_snapshot_type"]
            candidates = snap.list_snapshots(client, kind, self.params["source_cluster_identifier"])
            chosen, why = snap.choose_latest(
                candidates, self.account_id, self.now(), cluster=self.params["source_cluster_identifier"],
                prefix=self.params["source_snapshot_prefix"], kind=kind, max_age_hours=self.params["max_age_hours"], region=region,
            )
        self.result["source_snapshot"] = snap.describe(chosen, self.now(), self.account_id, why)
        return chosen, region

    def snapshot_facts(self, snapshot, region, reused):
        if snapshot.get("Status") == "planned":
            return {"identifier": snapshot["DBClusterSnapshotIdentifier"], "status": "planned", "region": region, "reused": False, "arn": None}
        facts = snap.describe(snapshot, self.now(), self.account_id)
        facts.update(region=region, reused=reused)
        return facts
