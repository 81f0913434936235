# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWS resources a restore names in its target region, checked before anything changes.

Used by aurora_references_info (the restore role's preflight, before a copy that can take hours) and by
aurora_cluster_restore (again, right before it deletes or creates anything). Every problem is one line that names
the option and the value; all problems are collected, so a preflight reports them at once.
"""

from __future__ import annotations

import re

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.dbops.aurora_restore.plugins.module_utils import arns
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import error_code
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import LayoutError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import check_unique
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import parse_users_secret
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import validate_role_name
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import PROTECTED_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import is_protected
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import SecretError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import master_password_of
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import master_password_problem

SUBNET_GROUP_MISSING = ("DBSubnetGroupNotFoundFault",)
PARAMETER_GROUP_MISSING = ("DBParameterGroupNotFound", "DBClusterParameterGroupNotFound", "DBParameterGroupNotFoundFault")
SECURITY_GROUP_MISSING = ("InvalidGroup.NotFound", "InvalidGroupId.Malformed", "InvalidGroupId.NotFound")
KMS_KEY_MISSING = ("NotFoundException", "NotFound", "InvalidArnException", "ValidationException")
SECRET_MISSING = ("ResourceNotFoundException",)
TOPIC_MISSING = ("NotFound", "NotFoundException", "InvalidParameter")
CLUSTER_MISSING = ("DBClusterNotFoundFault",)
# What each service answers when the credentials may not make the call.
DENIED = ("AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation")
ENGINE = "aurora-postgresql"


def aurora_postgresql_family(engine_version):
    """The parameter group family of an Aurora PostgreSQL engine version: 15.4 -> aurora-postgresql15, 9.6.22 -> aurora-postgresql9.6."""
    match = re.match(r"^(\d+)(?:\.(\d+))?", str(engine_version or ""))
    if not match:
        return None
    major = int(match.group(1))
    if major < 10 and match.group(2) is not None:
        return "aurora-postgresql%d.%s" % (major, match.group(2))
    return "aurora-postgresql%d" % major


class Denied(Exception):
    """The credentials may not make a describe call: a problem of its own, not "missing"."""


def _first_line(error):
    message = (error.response.get("Error", {}).get("Message") or "").strip().splitlines()
    return message[0] if message else ""


class ReferenceCheck:
    """Describes each named resource once; `facts` holds what was found, `problems` what is wrong."""

    def __init__(self, client_for, region):
        self.client_for = client_for  # service name -> boto3 client (created only for what is checked)
        self.region = region
        self.facts = {}
        self.problems = []

    def _describe(self, service, method, missing_codes, what=None, **kwargs):
        try:
            return getattr(self.client_for(service), method)(aws_retry=True, **kwargs)
        except botocore.exceptions.ClientError as error:
            if error_code(error) in missing_codes:
                return None
            if error_code(error) in DENIED:
                # AWS does not say whether a resource the caller may not describe exists: both are possible.
                raise Denied("%s: the credentials may not read it, or it does not exist (%s: %s)"
                             % (what or method, error_code(error), _first_line(error))) from None
            raise

    def run(self, check, *args, **kwargs):
        """Call one check; a denied describe becomes its problem and the others go on."""
        try:
            check(*args, **kwargs)
        except Denied as denied:
            self.problems.append(str(denied))

    def subnet_group(self, name):
        if not name or name.lower() == "default":  # the default VPC's group: AWS resolves it at restore time
            return
        found = self._describe("rds", "describe_db_subnet_groups", SUBNET_GROUP_MISSING,
                               "db_subnet_group_name %r in region %s" % (name, self.region), DBSubnetGroupName=name)
        groups = (found or {}).get("DBSubnetGroups", [])
        if not groups:
            self.problems.append("db_subnet_group_name %r does not exist in region %s" % (name, self.region))
            return
        group = groups[0]
        self.facts["db_subnet_group"] = {
            "name": group["DBSubnetGroupName"],
            "vpc_id": group.get("VpcId"),
            "subnet_ids": sorted(subnet["SubnetIdentifier"] for subnet in group.get("Subnets", [])),
            "availability_zones": sorted({subnet.get("SubnetAvailabilityZone", {}).get("Name") for subnet in group.get("Subnets", [])} - {None}),
        }

    def security_groups(self, group_ids):
        found = []
        for group_id in group_ids or []:
            described = self._describe("ec2", "describe_security_groups", SECURITY_GROUP_MISSING,
                                       "vpc_security_group_ids: security group %r" % group_id, GroupIds=[group_id])
            groups = (described or {}).get("SecurityGroups", [])
            if not groups:
                self.problems.append("vpc_security_group_ids: security group %r does not exist in region %s" % (group_id, self.region))
                continue
            found.append({"group_id": groups[0]["GroupId"], "group_name": groups[0].get("GroupName"), "vpc_id": groups[0].get("VpcId")})
        if group_ids:
            self.facts["security_groups"] = found
        subnet_vpc = self.facts.get("db_subnet_group", {}).get("vpc_id")
        for group in found:
            if subnet_vpc and group["vpc_id"] and group["vpc_id"] != subnet_vpc:
                self.problems.append("security group %r is in VPC %s but db_subnet_group_name %r is in VPC %s: they must share a VPC"
                                     % (group["group_id"], group["vpc_id"], self.facts["db_subnet_group"]["name"], subnet_vpc))

    def parameter_group(self, option, name, engine_version, cluster_level):
        if not name:
            return
        if name.startswith("default."):
            family = name[len("default."):]
        else:
            if cluster_level:
                found = self._describe("rds", "describe_db_cluster_parameter_groups", PARAMETER_GROUP_MISSING,
                                       "%s %r" % (option, name), DBClusterParameterGroupName=name)
                groups = (found or {}).get("DBClusterParameterGroups", [])
            else:
                found = self._describe("rds", "describe_db_parameter_groups", PARAMETER_GROUP_MISSING, "%s %r" % (option, name),
                                       DBParameterGroupName=name)
                groups = (found or {}).get("DBParameterGroups", [])
            if not groups:
                self.problems.append("%s %r does not exist in region %s" % (option, name, self.region))
                return
            family = groups[0].get("DBParameterGroupFamily")
        self.facts[option] = {"name": name, "family": family}
        wanted = aurora_postgresql_family(engine_version)
        if wanted and family and family.startswith("aurora-postgresql") and family != wanted:
            self.problems.append("%s %r is of family %s; engine version %s needs family %s" % (option, name, family, engine_version, wanted))

    def kms_key(self, key, option="kms_key_id", fact="kms_key", what="the restored cluster"):
        if not key:
            return
        key_region = arns.region_of(key) or self.region
        if key_region != self.region:
            self.problems.append("%s %r is in region %r; %s needs a key in %r" % (option, key, key_region, what, self.region))
            return
        described = self._describe("kms", "describe_key", KMS_KEY_MISSING, "%s %r in region %s" % (option, key, self.region), KeyId=key)
        if described is None:
            self.problems.append("%s %r does not exist in region %s" % (option, key, self.region))
            return
        metadata = described["KeyMetadata"]
        state = metadata.get("KeyState", "Enabled")
        self.facts[fact] = {"key_id": metadata.get("KeyId"), "arn": metadata.get("Arn"), "state": state}
        if state != "Enabled":
            self.problems.append("%s %r is not enabled (state %s)" % (option, key, state))

    def secrets(self, secret_ids):
        found = []
        for secret_id in secret_ids or []:
            # DescribeSecret: the metadata only, never the value.
            try:
                described = self._describe("secretsmanager", "describe_secret", SECRET_MISSING,
                                           "secret %r in region %s" % (secret_id, self.region), SecretId=secret_id)
            except Denied as denied:
                self.problems.append(str(denied))
                continue
            if described is None:
                self.problems.append("secret %r does not exist in region %s" % (secret_id, self.region))
                continue
            if described.get("DeletedDate"):
                self.problems.append("secret %r is scheduled for deletion; restore it or name another" % secret_id)
            found.append({"secret_id": secret_id, "arn": described.get("ARN"), "name": described.get("Name"),
                          "scheduled_for_deletion": bool(described.get("DeletedDate"))})
        if secret_ids:
            self.facts["secrets"] = found

    def topic(self, arn):
        """The notification topic must exist and be readable (sns:GetTopicAttributes, which the operator policy grants)."""
        if not arn:
            return
        found = self._describe("sns", "get_topic_attributes", TOPIC_MISSING, "sns_topic_arn %r" % arn, TopicArn=arn)
        if found is None:
            self.problems.append("sns_topic_arn %r does not exist" % arn)
            return
        self.facts["sns_topic"] = {"arn": arn, "kms_master_key_id": found.get("Attributes", {}).get("KmsMasterKeyId")}

    def target_cluster(self, identifier):
        """The cluster a restore will replace, as it is now: absent, or there and not protected from this pipeline."""
        if not identifier:
            return
        found = self._describe("rds", "describe_db_clusters", CLUSTER_MISSING, "target_cluster_identifier %r" % identifier,
                               DBClusterIdentifier=identifier)
        clusters = (found or {}).get("DBClusters", [])
        cluster = clusters[0] if clusters else None
        self.facts["target_cluster"] = {
            "identifier": identifier,
            "exists": cluster is not None,
            "status": cluster["Status"] if cluster else "absent",
            "protected": bool(cluster) and is_protected(cluster.get("TagList")),
        }
        if self.facts["target_cluster"]["protected"]:
            self.problems.append("target_cluster_identifier %r carries the tag %s: this pipeline never replaces it"
                                 % (identifier, PROTECTED_KEY))

    def engine(self, snapshot_version, requested_version=None):
        """The version a restore will run: the snapshot's, or one of its upgrade targets (DescribeDBEngineVersions)."""
        if not snapshot_version:
            return None
        found = self._describe("rds", "describe_db_engine_versions", (), "engine version %s" % snapshot_version,
                               Engine=ENGINE, EngineVersion=snapshot_version)
        records = (found or {}).get("DBEngineVersions", [])
        if not records:
            self.problems.append("engine version %s (the snapshot's) is not offered for %s in region %s; set engine_version "
                                 "to one that is" % (snapshot_version, ENGINE, self.region))
            return None
        record = records[0]
        targets = [target["EngineVersion"] for target in record.get("ValidUpgradeTarget", [])]
        version = requested_version or snapshot_version
        if requested_version and requested_version != snapshot_version and requested_version not in targets:
            self.problems.append("engine_version %s: a snapshot of %s restores to %s or one of its upgrade targets (%s)"
                                 % (requested_version, snapshot_version, snapshot_version, ", ".join(targets) or "none"))
            return None
        if version != snapshot_version:
            found = self._describe("rds", "describe_db_engine_versions", (), "engine version %s" % version,
                                   Engine=ENGINE, EngineVersion=version)
            records = (found or {}).get("DBEngineVersions", []) or [record]
            record = records[0]
        support = record.get("ServerlessV2FeaturesSupport") or {}
        self.facts["engine"] = {"version": version, "snapshot_version": snapshot_version, "upgrade_targets": targets,
                                "family": record.get("DBParameterGroupFamily"),
                                "serverless_v2_capacity": [support.get("MinCapacity"), support.get("MaxCapacity")] if support else None}
        return self.facts["engine"]

    def instance_class(self, instance_class, version):
        """The class must be orderable for the engine version in the region (DescribeOrderableDBInstanceOptions)."""
        if not instance_class or not version:
            return
        found = self._describe("rds", "describe_orderable_db_instance_options", (), "instance class %s" % instance_class,
                               Engine=ENGINE, EngineVersion=version, DBInstanceClass=instance_class)
        if not (found or {}).get("OrderableDBInstanceOptions"):
            self.problems.append("instances.instance_class %s is not offered for %s %s in region %s"
                                 % (instance_class, ENGINE, version, self.region))

    def serverless(self, scaling, instance_class):
        """Serverless v2 capacity: 0.5 ACU steps, a maximum of at least 1, within the engine version's range."""
        if not scaling:
            if instance_class == "db.serverless":
                self.problems.append("serverless_v2_scaling (min_capacity, max_capacity) is required with instance class db.serverless")
            return
        low, high = float(scaling.get("min_capacity")), float(scaling.get("max_capacity"))
        bounds = (self.facts.get("engine") or {}).get("serverless_v2_capacity") or [None, None]
        minimum = 0.0 if bounds[0] is None else float(bounds[0])
        maximum = 256.0 if bounds[1] is None else float(bounds[1])
        version = (self.facts.get("engine") or {}).get("version", "?")
        if any(value * 2 != int(value * 2) for value in (low, high)) or high < 1 or low > high \
                or low < minimum or high > maximum:
            self.problems.append("serverless_v2_scaling %s-%s ACU: %s %s allows %s-%s in steps of 0.5, a maximum of at least 1 "
                                 "and min_capacity <= max_capacity" % (low, high, ENGINE, version, minimum, maximum))


def check_references(client_for, region, db_subnet_group_name=None, vpc_security_group_ids=None, db_cluster_parameter_group_name=None,
                     db_parameter_group_name=None, kms_key_id=None, engine_version=None, secret_ids=None, snapshot_engine_version=None,
                     instance_class=None, serverless_v2_scaling=None, sns_topic_arn=None, master_user_secret_kms_key_id=None,
                     target_cluster_identifier=None):
    """(facts, problems) for the references a restore will use in `region`.

    With `snapshot_engine_version`, the version the restore will run (`engine_version`, else the snapshot's) must be
    restorable from it, the instance class orderable for it and the Serverless v2 range within its bounds.
    """
    check = ReferenceCheck(client_for, region)
    check.run(check.subnet_group, db_subnet_group_name)
    check.run(check.security_groups, vpc_security_group_ids)
    version = engine_version or snapshot_engine_version
    if snapshot_engine_version:
        check.run(check.engine, snapshot_engine_version, engine_version)
        version = (check.facts.get("engine") or {}).get("version")
        check.run(check.instance_class, instance_class, version)
        check.serverless(serverless_v2_scaling, instance_class)
    check.run(check.parameter_group, "db_cluster_parameter_group_name", db_cluster_parameter_group_name, version, cluster_level=True)
    check.run(check.parameter_group, "db_parameter_group_name", db_parameter_group_name, version, cluster_level=False)
    check.run(check.kms_key, kms_key_id)
    check.run(check.kms_key, master_user_secret_kms_key_id, "master_user_secret_kms_key_id", "master_user_secret_kms_key",
              "the RDS-managed master secret")
    check.secrets(secret_ids)
    check.run(check.topic, sns_topic_arn)
    check.run(check.target_cluster, target_cluster_identifier)
    return check.facts, check.problems


def check_secret_contents(read_secret, master_secret_id=None, users_secret_id=None, users_secret_layout="auto",
                          master_username=None):
    """Problems with what the secrets hold: a usable Aurora master password, and the master user the restore keeps
    (`master_username`, the source's) when the secret names one; users that parse in the layout, with valid, distinct
    names. `read_secret(id)` returns (decoded value, version id) and keeps the values out of output."""
    problems = []
    if master_secret_id:
        try:
            value, dummy = read_secret(master_secret_id)
            problem = (master_password_problem(master_password_of(value, master_secret_id), master_secret_id)
                       or master_username_problem(value, master_secret_id, master_username))
            if problem:
                problems.append(problem)
        except SecretError as error:
            problems.append(str(error))
    if users_secret_id:
        try:
            value, version = read_secret(users_secret_id)
            users, dummy = parse_users_secret(value, users_secret_layout, users_secret_id, version)
            problems.extend(problem for problem in (validate_role_name(user.name) for user in users) if problem)
            check_unique(users)
        except (SecretError, LayoutError) as error:
            problems.append(str(error))
    return problems


def master_username_problem(value, secret_id, master_username):
    """A restored cluster keeps the snapshot's (or the cloned cluster's) master user and only its password is reset,
    so a master secret naming another user cannot log in after the restore: the problem, or None."""
    username = value.get("username", value.get("master_username"))
    if not master_username or not isinstance(username, str) or username == master_username:
        return None
    return ("master_secret_id %r names user %r but the source's master user is %r, which a restore keeps (only its "
            "password is reset): set the secret's username to %r" % (secret_id, username, master_username, master_username))
