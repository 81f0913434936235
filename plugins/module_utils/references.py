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

from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import error_code
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import LayoutError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import check_unique
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import parse_users_secret
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_users import validate_role_name
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import SecretError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import master_password_of
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import master_password_problem

SUBNET_GROUP_MISSING = ("DBSubnetGroupNotFoundFault",)
PARAMETER_GROUP_MISSING = ("DBParameterGroupNotFound", "DBClusterParameterGroupNotFound", "DBParameterGroupNotFoundFault")
SECURITY_GROUP_MISSING = ("InvalidGroup.NotFound", "InvalidGroupId.Malformed", "InvalidGroupId.NotFound")
KMS_KEY_MISSING = ("NotFoundException", "NotFound", "InvalidArnException", "ValidationException")
SECRET_MISSING = ("ResourceNotFoundException",)


def aurora_postgresql_family(engine_version):
    """The parameter group family of an Aurora PostgreSQL engine version: 15.4 -> aurora-postgresql15, 9.6.22 -> aurora-postgresql9.6."""
    match = re.match(r"^(\d+)(?:\.(\d+))?", str(engine_version or ""))
    if not match:
        return None
    major = int(match.group(1))
    if major < 10 and match.group(2) is not None:
        return "aurora-postgresql%d.%s" % (major, match.group(2))
    return "aurora-postgresql%d" % major


class ReferenceCheck:
    """Describes each named resource once; `facts` holds what was found, `problems` what is wrong."""

    def __init__(self, client_for, region):
        self.client_for = client_for  # service name -> boto3 client (created only for what is checked)
        self.region = region
        self.facts = {}
        self.problems = []

    def _describe(self, service, method, missing_codes, **kwargs):
        try:
            return getattr(self.client_for(service), method)(aws_retry=True, **kwargs)
        except botocore.exceptions.ClientError as error:
            if error_code(error) in missing_codes:
                return None
            raise

    def subnet_group(self, name):
        if not name or name.lower() == "default":  # the default VPC's group: AWS resolves it at restore time
            return
        found = self._describe("rds", "describe_db_subnet_groups", SUBNET_GROUP_MISSING, DBSubnetGroupName=name)
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
            described = self._describe("ec2", "describe_security_groups", SECURITY_GROUP_MISSING, GroupIds=[group_id])
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
                found = self._describe("rds", "describe_db_cluster_parameter_groups", PARAMETER_GROUP_MISSING, DBClusterParameterGroupName=name)
                groups = (found or {}).get("DBClusterParameterGroups", [])
            else:
                found = self._describe("rds", "describe_db_parameter_groups", PARAMETER_GROUP_MISSING, DBParameterGroupName=name)
                groups = (found or {}).get("DBParameterGroups", [])
            if not groups:
                self.problems.append("%s %r does not exist in region %s" % (option, name, self.region))
                return
            family = groups[0].get("DBParameterGroupFamily")
        self.facts[option] = {"name": name, "family": family}
        wanted = aurora_postgresql_family(engine_version)
        if wanted and family and family.startswith("aurora-postgresql") and family != wanted:
            self.problems.append("%s %r is of family %s; engine version %s needs family %s" % (option, name, family, engine_version, wanted))

    def kms_key(self, key):
        if not key:
            return
        parts = key.split(":")
        key_region = parts[3] if key.startswith("arn:") and len(parts) > 4 else self.region
        if key_region != self.region:
            self.problems.append("kms_key_id %r is in region %r; the restored cluster needs a key in %r" % (key, key_region, self.region))
            return
        described = self._describe("kms", "describe_key", KMS_KEY_MISSING, KeyId=key)
        if described is None:
            self.problems.append("kms_key_id %r does not exist in region %s" % (key, self.region))
            return
        metadata = described["KeyMetadata"]
        state = metadata.get("KeyState", "Enabled")
        self.facts["kms_key"] = {"key_id": metadata.get("KeyId"), "arn": metadata.get("Arn"), "state": state}
        if state != "Enabled":
            self.problems.append("kms_key_id %r is not enabled (state %s)" % (key, state))

    def secrets(self, secret_ids):
        found = []
        for secret_id in secret_ids or []:
            # DescribeSecret: the metadata only, never the value.
            described = self._describe("secretsmanager", "describe_secret", SECRET_MISSING, SecretId=secret_id)
            if described is None:
                self.problems.append("secret %r does not exist in region %s" % (secret_id, self.region))
                continue
            if described.get("DeletedDate"):
                self.problems.append("secret %r is scheduled for deletion; restore it or name another" % secret_id)
            found.append({"secret_id": secret_id, "arn": described.get("ARN"), "name": described.get("Name"),
                          "scheduled_for_deletion": bool(described.get("DeletedDate"))})
        if secret_ids:
            self.facts["secrets"] = found


def check_references(client_for, region, db_subnet_group_name=None, vpc_security_group_ids=None, db_cluster_parameter_group_name=None,
                     db_parameter_group_name=None, kms_key_id=None, engine_version=None, secret_ids=None):
    """(facts, problems) for the references a restore will use in `region`."""
    check = ReferenceCheck(client_for, region)
    check.subnet_group(db_subnet_group_name)
    check.security_groups(vpc_security_group_ids)
    check.parameter_group("db_cluster_parameter_group_name", db_cluster_parameter_group_name, engine_version, cluster_level=True)
    check.parameter_group("db_parameter_group_name", db_parameter_group_name, engine_version, cluster_level=False)
    check.kms_key(kms_key_id)
    check.secrets(secret_ids)
    return check.facts, check.problems


def check_secret_contents(read_secret, master_secret_id=None, users_secret_id=None, users_secret_layout="auto"):
    """Problems with what the secrets hold: a usable Aurora master password; users that parse in the layout, with
    valid, distinct names. `read_secret(id)` returns (decoded value, version id) and keeps the values out of output."""
    problems = []
    if master_secret_id:
        try:
            value, dummy = read_secret(master_secret_id)
            problem = master_password_problem(master_password_of(value, master_secret_id), master_secret_id)
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
