"""What AWS authorises for each request: the IAM action, the resource ARN(s) and the condition keys.

Sources: the Service Authorization Reference ("Actions, resources, and condition keys for <service>": the
resource types of each action, their ARN formats and condition keys, and the dependent actions), the Aurora User
Guide ("Authorizing use of a customer managed key": kms:CreateGrant and kms:DescribeKey for encrypted resources;
tag-on-create needs rds:AddTagsToResource), the Secrets Manager guide (GetSecretValue of a secret under a customer
managed key needs kms:Decrypt) and the SNS guide (publishers to an encrypted topic need kms:GenerateDataKey* and
kms:Decrypt). tools/localaws/README.md lists each rule with its source.

moto's own authoriser checks every request against Resource "*"; these resolvers name the real resources, read the
tags AWS would see (aws:ResourceTag/*, rds:cluster-tag/*, ...) from moto's backends, and add the request's tags
(aws:RequestTag/*, aws:TagKeys, rds:req-tag/*).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .iam_policy import Check


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass
class Request:
    """One API request as the authoriser sees it."""

    service: str
    action: str  # the API operation, e.g. CopyDBClusterSnapshot
    region: str
    account: str  # the caller's account
    params: dict = field(default_factory=dict)  # query: flat "A.B.1" keys; JSON/CBOR: the decoded body

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    def arn(self, service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region is None else region}:" \
               f"{self.account if account is None else account}:{resource}"

    def get(self, name: str, default=None):
        return self.params.get(name, default)

    def members(self, prefix: str) -> list[str]:
        """Query-protocol list members `<prefix>.1`, `<prefix>.2`, ... in order."""
        found = []
        for key, value in self.params.items():
            match = re.fullmatch(re.escape(prefix) + r"\.(\d+)", key)
            if match:
                found.append((int(match.group(1)), value))
        return [value for _, value in sorted(found)]

    def query_tags(self, prefix: str = "Tags.Tag") -> dict[str, str]:
        tags = {}
        index = 1
        while f"{prefix}.{index}.Key" in self.params:
            tags[self.params[f"{prefix}.{index}.Key"]] = self.params.get(f"{prefix}.{index}.Value", "")
            index += 1
        return tags


def tag_context(tags: dict[str, str], *prefixes: str) -> dict:
    """Condition keys of a resource's tags, under each key prefix (aws:ResourceTag, rds:cluster-tag, ...)."""
    context = {}
    for key, value in tags.items():
        for prefix in prefixes:
            context[f"{prefix}/{key}"] = value
    return context


def request_tag_context(tags: dict[str, str], service_prefix: str | None = None) -> dict:
    context = tag_context(tags, "aws:RequestTag", *([f"{service_prefix}:req-tag"] if service_prefix else []))
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    return context


def _tags_of(model) -> dict[str, str]:
    tags = getattr(model, "tags", None) or []
    if isinstance(tags, dict):
        return dict(tags)
    return {tag.get("Key"): tag.get("Value", "") for tag in tags if isinstance(tag, Mapping)}


# --- RDS -------------------------------------------------------------------------------------------------------
_RDS_KIND_TAG_KEY = {"cluster": "rds:cluster-tag", "cluster-snapshot": "rds:cluster-snapshot-tag", "db": "rds:db-tag",
                     "subgrp": "rds:subgrp-tag", "cluster-pg": "rds:cluster-pg-tag", "pg": "rds:pg-tag",
                     "og": "rds:og-tag"}


def _rds_backend(account: str, region: str):
    from moto.rds.models import rds_backends

    return rds_backends[account][region]


def _split_rds_arn(request: Request, identifier: str, kind: str) -> tuple[str, str, str]:
    """(region, account, name) of an RDS resource named by ARN or by name (in the request's region/account)."""
    if identifier.startswith("arn:"):
        parts = identifier.split(":")
        if len(parts) >= 7:
            return parts[3], parts[4], ":".join(parts[6:])
    return request.region, request.account, identifier


def rds_resource(request: Request, kind: str, identifier: str | None) -> tuple[str, dict]:
    """(ARN, resource condition keys) of an RDS resource; `identifier` None means every resource of the kind."""
    if not identifier:
        return request.arn("rds", f"{kind}:*"), {}
    region, account, name = _split_rds_arn(request, identifier, kind)
    name = name.lower() if kind in ("cluster", "db", "cluster-snapshot") and not name.startswith("rds:") else name
    arn = request.arn("rds", f"{kind}:{name}", region=region, account=account)
    model = None
    try:
        backend = _rds_backend(account, region)
        model = {"cluster": backend.clusters, "db": backend.databases, "cluster-snapshot": backend.cluster_snapshots,
                 "subgrp": backend.subnet_groups, "cluster-pg": backend.db_cluster_parameter_groups,
                 "pg": backend.db_parameter_groups}.get(kind, {}).get(name)
    except Exception:  # noqa: BLE001 - an unknown account/region simply has no such resource
        model = None
    tags = _tags_of(model) if model is not None else {}
    return arn, tag_context(tags, "aws:ResourceTag", _RDS_KIND_TAG_KEY.get(kind, "rds:tag"))


def _rds_check(request: Request, action: str, kind: str, identifier: str | None, extra: dict | None = None) -> Check:
    arn, context = rds_resource(request, kind, identifier)
    context.update(extra or {})
    return Check(f"rds:{action}", arn, context)


def _kms_checks_for_rds(request: Request, key_id: str | None, actions=("kms:CreateGrant", "kms:DescribeKey"),
                        key_region: str | None = None) -> list[Check]:
    """RDS acts on the caller's behalf with a customer managed key: the caller needs these on it."""
    if not key_id:
        return []
    key = kms_key(request, key_id, region=key_region)
    if key is None or key.get("aws_managed"):
        return []
    context = dict(key["context"])
    context.update({"kms:ViaService": f"rds.{key_region or request.region}.amazonaws.com",
                    "kms:GrantIsForAWSResource": "true", "kms:CallerAccount": request.account})
    return [Check(action, key["arn"], dict(context)) for action in actions]


def _managed_master_secret_checks(request: Request, key_id: str | None) -> list[Check]:
    """ManageMasterUserPassword: RDS creates and tags the `rds!cluster-…` secret as the caller ("Permissions required
    for Secrets Manager integration", Aurora User Guide), under the caller's customer managed key when one is named.
    The secret's name is not known before it exists: its ARN is authorised as `secret:rds!cluster-*`."""
    arn = request.arn("secretsmanager", "secret:rds!cluster-*")
    checks = [Check("secretsmanager:CreateSecret", arn, {}), Check("secretsmanager:TagResource", arn, {})]
    key = kms_key(request, key_id) if key_id else None
    if key is not None and not key["aws_managed"]:
        context = dict(key["context"])
        context.update({"kms:ViaService": f"secretsmanager.{request.region}.amazonaws.com", "kms:CallerAccount": request.account})
        checks += [Check(action, key["arn"], dict(context)) for action in ("kms:GenerateDataKey", "kms:Decrypt")]
    return checks


def _snapshot_model(request: Request, identifier: str):
    region, account, name = _split_rds_arn(request, identifier, "cluster-snapshot")
    try:
        return _rds_backend(account, region).cluster_snapshots.get(name)
    except Exception:  # noqa: BLE001
        return None


def _cross_account_source_key(request: Request, snapshot_identifier: str | None) -> list[Check]:
    """A snapshot another account encrypted: the caller must be allowed to use that account's key."""
    snapshot = _snapshot_model(request, snapshot_identifier) if snapshot_identifier else None
    if snapshot is None or not getattr(snapshot, "encrypted", False):
        return []
    shared = (getattr(snapshot, "attributes", None) or {}).get("restore", [])
    if request.account not in shared and "all" not in shared:
        return []  # not visible to the caller: RDS answers "not found" before it would use the key
    key_id = getattr(snapshot, "kms_key_id", None) or ""
    if not key_id.startswith("arn:") or key_id.split(":")[4] == request.account:
        return []
    return _kms_checks_for_rds(request, key_id, key_region=key_id.split(":")[3])


def _cross_account_source_cluster_key(request: Request, cluster_identifier: str | None) -> list[Check]:
    """A clone of another account's encrypted cluster (shared through AWS RAM): RDS reads it with that account's key,
    whose key policy must allow the caller."""
    if not cluster_identifier or not cluster_identifier.startswith("arn:"):
        return []
    region, account, name = _split_rds_arn(request, cluster_identifier, "cluster")
    if account == request.account:
        return []
    try:
        cluster = _rds_backend(account, region).clusters.get(name)
    except Exception:  # noqa: BLE001
        return []
    if cluster is None or not getattr(cluster, "storage_encrypted", False):
        return []
    key_id = getattr(cluster, "kms_key_id", None) or ""
    if not key_id.startswith("arn:") or key_id.split(":")[4] == request.account:
        return []
    return _kms_checks_for_rds(request, key_id, key_region=key_id.split(":")[3])


def rds_checks(request: Request) -> list[Check]:
    action, get = request.action, request.get
    tags = request.query_tags()
    tag_keys = request_tag_context(tags, "rds")
    checks: list[Check] = []

    def tagging(kind: str, identifier: str) -> None:
        # Tag-on-create: RDS also authorises rds:AddTagsToResource on the new resource.
        if tags:
            checks.append(_rds_check(request, "AddTagsToResource", kind, identifier, tag_keys))

    if action in ("DescribeDBClusters", "StartDBCluster", "StopDBCluster", "FailoverDBCluster"):
        checks.append(_rds_check(request, action, "cluster", get("DBClusterIdentifier")))
    elif action == "DescribeDBInstances":
        checks.append(_rds_check(request, action, "db", get("DBInstanceIdentifier")))
    elif action in ("DescribeDBClusterSnapshots", "DescribeDBClusterSnapshotAttributes", "DeleteDBClusterSnapshot",
                    "ModifyDBClusterSnapshotAttribute"):
        checks.append(_rds_check(request, action, "cluster-snapshot", get("DBClusterSnapshotIdentifier")))
    elif action == "DescribeDBSubnetGroups":
        checks.append(_rds_check(request, action, "subgrp", get("DBSubnetGroupName")))
    elif action == "DescribeDBClusterParameterGroups":
        checks.append(_rds_check(request, action, "cluster-pg", get("DBClusterParameterGroupName")))
    elif action == "DescribeDBParameterGroups":
        checks.append(_rds_check(request, action, "pg", get("DBParameterGroupName")))
    elif action in ("ListTagsForResource", "AddTagsToResource", "RemoveTagsFromResource"):
        arn = get("ResourceName") or ""
        kind = arn.split(":")[5] if arn.count(":") >= 6 else "cluster"
        extra = tag_keys if action == "AddTagsToResource" else {}
        if action == "RemoveTagsFromResource":
            keys = request.members("TagKeys.member") or request.members("TagKeys")
            extra = {"aws:TagKeys": keys} if keys else {}
        checks.append(_rds_check(request, action, kind, arn, extra))
    elif action == "CopyDBClusterSnapshot":
        target = get("TargetDBClusterSnapshotIdentifier")
        checks.append(_rds_check(request, action, "cluster-snapshot", target, tag_keys))
        tagging("cluster-snapshot", target)
        checks += _kms_checks_for_rds(request, get("KmsKeyId"))
        checks += _cross_account_source_key(request, get("SourceDBClusterSnapshotIdentifier"))
    elif action == "CreateDBClusterSnapshot":
        snapshot = get("DBClusterSnapshotIdentifier")
        checks.append(_rds_check(request, action, "cluster", get("DBClusterIdentifier"), tag_keys))
        checks.append(_rds_check(request, action, "cluster-snapshot", snapshot, tag_keys))
        tagging("cluster-snapshot", snapshot)
    elif action in ("RestoreDBClusterFromSnapshot", "RestoreDBClusterToPointInTime"):
        cluster = get("DBClusterIdentifier")
        checks.append(_rds_check(request, action, "cluster", cluster, tag_keys))
        if action == "RestoreDBClusterFromSnapshot":
            checks.append(_rds_check(request, action, "cluster-snapshot", get("SnapshotIdentifier")))
        else:
            checks.append(_rds_check(request, action, "cluster", get("SourceDBClusterIdentifier")))
        checks.append(_rds_check(request, action, "subgrp", get("DBSubnetGroupName") or "default"))
        engine = get("Engine") or "aurora-postgresql"
        checks.append(_rds_check(request, action, "cluster-pg", get("DBClusterParameterGroupName") or f"default.{engine}"))
        checks.append(_rds_check(request, action, "og", get("OptionGroupName") or f"default:{engine}"))
        tagging("cluster", cluster)
        key = get("KmsKeyId")
        if action == "RestoreDBClusterToPointInTime":
            checks += _cross_account_source_cluster_key(request, get("SourceDBClusterIdentifier"))
        if not key and action == "RestoreDBClusterFromSnapshot":
            snapshot = _snapshot_model(request, get("SnapshotIdentifier") or "")
            key = getattr(snapshot, "kms_key_id", None) if snapshot is not None and snapshot.encrypted else None
            key = key if key and (not key.startswith("arn:") or key.split(":")[3] == request.region) else None
        checks += _kms_checks_for_rds(request, key)
    elif action == "CreateDBInstance":
        instance = get("DBInstanceIdentifier")
        checks.append(_rds_check(request, action, "db", instance, tag_keys))
        if get("DBClusterIdentifier"):
            checks.append(_rds_check(request, action, "cluster", get("DBClusterIdentifier")))
        if get("DBParameterGroupName"):
            checks.append(_rds_check(request, action, "pg", get("DBParameterGroupName")))
        tagging("db", instance)
    elif action in ("DeleteDBInstance", "RebootDBInstance", "ModifyDBInstance"):
        checks.append(_rds_check(request, action, "db", get("DBInstanceIdentifier")))
    elif action == "DeleteDBCluster":
        cluster = get("DBClusterIdentifier")
        checks.append(_rds_check(request, action, "cluster", cluster))
        final = get("FinalDBSnapshotIdentifier")
        if final:
            checks.append(_rds_check(request, action, "cluster-snapshot", final))
            # The final snapshot is a cluster snapshot the caller creates.
            checks.append(_rds_check(request, "CreateDBClusterSnapshot", "cluster", cluster))
            checks.append(_rds_check(request, "CreateDBClusterSnapshot", "cluster-snapshot", final))
    elif action == "ModifyDBCluster":
        checks.append(_rds_check(request, action, "cluster", get("DBClusterIdentifier")))
        if get("DBClusterParameterGroupName"):
            checks.append(_rds_check(request, action, "cluster-pg", get("DBClusterParameterGroupName")))
        if str(get("ManageMasterUserPassword")).lower() == "true":
            checks += _managed_master_secret_checks(request, get("MasterUserSecretKmsKeyId"))
    elif action == "CreateDBCluster":
        cluster = get("DBClusterIdentifier")
        checks.append(_rds_check(request, action, "cluster", cluster, tag_keys))
        tagging("cluster", cluster)
        checks += _kms_checks_for_rds(request, get("KmsKeyId"))
    else:
        # Actions without a resource type of their own (DescribeOrderableDBInstanceOptions, DescribeDBEngineVersions,
        # DescribeEvents, ...): granted by Resource "*" only.
        checks.append(Check(f"rds:{action}", None, {}))
    return checks


# --- KMS -------------------------------------------------------------------------------------------------------
def kms_key(request: Request, key_id: str, region: str | None = None) -> dict | None:
    """{"arn", "context", "policy", "account", "aws_managed"} of a key named by id, ARN, alias or alias ARN."""
    from moto.kms.models import kms_backends

    region = region or request.region
    account = request.account
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        if len(parts) >= 6:
            region, account = parts[3], parts[4]
    try:
        backend = kms_backends[account][region]
        key = backend.describe_key(key_id if not key_id.startswith("arn:") or ":key/" in key_id
                                   else "alias/" + key_id.split(":alias/", 1)[-1])
    except Exception:  # noqa: BLE001 - unknown key: KMS answers NotFound after authorisation
        return None
    aliases = sorted(key.aliases) if isinstance(getattr(key, "aliases", None), dict) else []
    context = tag_context(_tags_of_kms(backend, key), "aws:ResourceTag")
    if aliases:
        context["kms:ResourceAliases"] = aliases
    return {"arn": key.arn, "context": context, "policy": getattr(key, "policy", None), "account": account,
            "aws_managed": any(alias.startswith("alias/aws/") for alias in aliases)}


def _tags_of_kms(backend, key) -> dict[str, str]:
    try:
        return {tag["TagKey"]: tag["TagValue"] for tag in backend.list_resource_tags(key.id).get("Tags", [])}
    except Exception:  # noqa: BLE001
        return {}


def kms_checks(request: Request) -> list[Check]:
    action = request.action
    if action in ("ListAliases", "ListKeys", "CreateKey", "GenerateRandom"):
        return [Check(f"kms:{action}", None, {})]
    key_id = request.get("KeyId") or request.get("TargetKeyId") or request.get("DestinationKeyId")
    if action == "CreateAlias":
        key_id = request.get("TargetKeyId")
    if action == "ReEncrypt":
        checks = []
        for name, key_param in (("kms:ReEncryptFrom", "SourceKeyId"), ("kms:ReEncryptTo", "DestinationKeyId")):
            key = kms_key(request, request.get(key_param) or "")
            checks.append(Check(name, key["arn"] if key else _unknown_key_arn(request, request.get(key_param)),
                                dict(key["context"]) if key else {}))
        return checks
    key = kms_key(request, key_id) if key_id else None
    arn = key["arn"] if key else _unknown_key_arn(request, key_id)
    context = dict(key["context"]) if key else {}
    context["kms:CallerAccount"] = request.account
    if action == "CreateGrant":
        context["kms:GrantIsForAWSResource"] = "false"
    return [Check(f"kms:{action}", arn, context)]


def _unknown_key_arn(request: Request, key_id: str | None) -> str:
    if key_id and key_id.startswith("arn:"):
        return key_id
    if key_id and key_id.startswith("alias/"):
        return request.arn("kms", key_id)
    return request.arn("kms", f"key/{key_id or '*'}")


# --- Secrets Manager, SNS, DynamoDB, CloudWatch, STS, IAM, EC2 -------------------------------------------------
def secretsmanager_checks(request: Request) -> list[Check]:
    from moto.secretsmanager.models import secretsmanager_backends

    action = request.action
    if action in ("ListSecrets", "GetRandomPassword", "BatchGetSecretValue"):
        return [Check(f"secretsmanager:{action}", None, {})]
    secret_id = request.get("SecretId") or request.get("Name") or ""
    secret = None
    try:
        secret = secretsmanager_backends[request.account][request.region].secrets.get(secret_id)
    except Exception:  # noqa: BLE001
        secret = None
    if secret is not None:
        arn, context = secret.arn, tag_context(_tags_of(secret), "aws:ResourceTag")
    else:
        # AWS does not say whether a secret the caller may not read exists: the name is authorised as given.
        arn, context = (secret_id if secret_id.startswith("arn:") else request.arn("secretsmanager", f"secret:{secret_id}")), {}
    if action == "CreateSecret":
        tags = {tag.get("Key"): tag.get("Value", "") for tag in request.get("Tags") or []}
        context.update(request_tag_context(tags))
    checks = [Check(f"secretsmanager:{action}", arn, context)]
    key_id = getattr(secret, "kms_key_id", None) if secret is not None else None
    if action == "GetSecretValue" and key_id and not key_id.startswith("alias/aws/"):
        key = kms_key(request, key_id)
        if key is not None and not key["aws_managed"]:
            kms_context = dict(key["context"])
            kms_context.update({"kms:ViaService": f"secretsmanager.{request.region}.amazonaws.com",
                                "kms:CallerAccount": request.account})
            checks.append(Check("kms:Decrypt", key["arn"], kms_context))
    return checks


def sns_checks(request: Request) -> list[Check]:
    action = request.action
    if action in ("ListTopics", "ListSubscriptions", "CreateTopic"):
        if action == "CreateTopic":
            return [Check("sns:CreateTopic", request.arn("sns", request.get("Name") or "*"), {})]
        return [Check(f"sns:{action}", None, {})]
    arn = request.get("TopicArn") or request.get("ResourceArn") or request.get("SubscriptionArn") or "*"
    checks = [Check(f"sns:{action}", arn, {})]
    if action == "Publish":
        key_id = _topic_kms_key(request, arn)
        if key_id:
            key = kms_key(request, key_id)
            if key is not None and not key["aws_managed"]:
                context = dict(key["context"])
                context.update({"kms:ViaService": f"sns.{request.region}.amazonaws.com",
                                "kms:CallerAccount": request.account})
                checks += [Check("kms:GenerateDataKey", key["arn"], dict(context)),
                           Check("kms:Decrypt", key["arn"], dict(context))]
    return checks


def _topic_kms_key(request: Request, arn: str) -> str | None:
    from moto.sns.models import sns_backends

    try:
        topic = sns_backends[request.account][request.region].topics.get(arn)
    except Exception:  # noqa: BLE001
        return None
    return (getattr(topic, "kms_master_key_id", None) or None) if topic is not None else None


# A transaction is authorised item by item, as the action each item performs (DynamoDB Developer Guide, "Using IAM
# with DynamoDB transactions"): there is no dynamodb:TransactWriteItems permission to grant.
_TRANSACTION_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                             "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def dynamodb_checks(request: Request) -> list[Check]:
    action = request.action
    if action in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
        return [Check(f"dynamodb:{action}", None, {})]
    if action in ("TransactWriteItems", "TransactGetItems"):
        checks = []
        for entry in request.get("TransactItems") or []:
            for kind, operation in entry.items():
                table = operation.get("TableName") or "*"
                arn = table if table.startswith("arn:") else request.arn("dynamodb", f"table/{table}")
                checks.append(Check(f"dynamodb:{_TRANSACTION_ITEM_ACTIONS.get(kind, kind)}", arn, {}))
        return checks
    table = request.get("TableName") or request.get("ResourceArn") or "*"
    arn = table if table.startswith("arn:") else request.arn("dynamodb", f"table/{table}")
    return [Check(f"dynamodb:{action}", arn, {})]


def cloudwatch_checks(request: Request) -> list[Check]:
    context = {"cloudwatch:namespace": request.get("Namespace")} if request.get("Namespace") else {}
    return [Check(f"cloudwatch:{request.action}", None, context)]


def sts_checks(request: Request) -> list[Check]:
    if request.action == "AssumeRole":
        return [Check("sts:AssumeRole", request.get("RoleArn"), {"sts:RoleSessionName": request.get("RoleSessionName")})]
    return [Check(f"sts:{request.action}", None, {})]


def iam_checks(request: Request) -> list[Check]:
    for param, kind in (("RoleName", "role"), ("UserName", "user"), ("PolicyArn", None), ("GroupName", "group")):
        value = request.get(param)
        if value:
            arn = value if kind is None else f"arn:{request.partition}:iam::{request.account}:{kind}/{value}"
            return [Check(f"iam:{request.action}", arn, {})]
    return [Check(f"iam:{request.action}", None, {})]


def ram_checks(request: Request) -> list[Check]:
    """AWS RAM (Service Authorization Reference, "Actions defined by AWS Resource Access Manager"): a share is created
    on `resource-share/*` with the shared resource's ARN and type as condition keys; an invitation is accepted on its
    own ARN; the reads are on `*`."""
    action, get = request.action, request.get
    if action == "CreateResourceShare":
        checks = []
        for resource in get("resourceArns") or [None]:
            context = {}
            if resource:
                kind = resource.split(":")[5] if resource.count(":") >= 6 else ""
                context = {"ram:ResourceArn": resource, "ram:RequestedResourceType": f"{resource.split(':')[2]}:{kind.capitalize()}"}
            checks.append(Check("ram:CreateResourceShare", request.arn("ram", "resource-share/*"), context))
        return checks
    if action == "AcceptResourceShareInvitation":
        return [Check("ram:AcceptResourceShareInvitation", get("resourceShareInvitationArn") or None, {})]
    if action in ("DeleteResourceShare", "AssociateResourceShare", "UpdateResourceShare"):
        return [Check(f"ram:{action}", get("resourceShareArn") or None, {})]
    return [Check(f"ram:{action}", None, {})]


def generic_checks(request: Request) -> list[Check]:
    return [Check(f"{request.service}:{request.action}", None, {})]


RESOLVERS = {
    "rds": rds_checks, "kms": kms_checks, "secretsmanager": secretsmanager_checks, "sns": sns_checks,
    "dynamodb": dynamodb_checks, "monitoring": cloudwatch_checks, "cloudwatch": cloudwatch_checks, "sts": sts_checks,
    "iam": iam_checks, "ram": ram_checks,
}


def checks_for(request: Request) -> list[Check]:
    return RESOLVERS.get(request.service, generic_checks)(request)
