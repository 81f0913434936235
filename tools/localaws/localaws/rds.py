"""AWS's Aurora rules, timing and data, as patches of moto's RDS responses and models.

moto 5.2 answers RDS instantly and accepts what AWS rejects (see tools/localaws/README.md).  `install()` replaces
the RDSResponse handlers of the cluster/snapshot/instance actions the pipeline uses with versions that:
  * validate like AWS and raise AWS's error codes (moto's RDSClientError renders them as AWS does);
  * put resources through AWS's status names via the shared Clock (see clock.py);
  * keep a real PostgreSQL server behind each cluster and a data copy behind each snapshot (dataplane.py).
Everything runs under the server's global lock (middleware.py), so no handler here locks on its own.
"""

from __future__ import annotations

import copy
import datetime
import json
import secrets
from collections.abc import Mapping
import logging
import os
import re

from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.kms.models import kms_backends
from moto.rds.exceptions import (
    DBClusterNotFoundError,
    DBClusterSnapshotAlreadyExistsError,
    DBSnapshotAlreadyExistsError,
    DBClusterSnapshotNotFoundError,
    DBInstanceNotFoundError,
    InvalidParameterCombination,
    InvalidParameterValue,
    KMSKeyNotAccessibleFault,
    RDSClientError,
    SnapshotQuotaExceededFault,
)
from moto.rds.models import DBCluster, DBClusterSnapshot, DBInstance, DBInstanceClustered, MasterUserSecret, rds_backends
from moto.rds.responses import RDSResponse

from . import engines
from . import ram
from .clock import Step
from .dataplane import POSTGRES_ENGINES, done_future
from .iam_requests import partition_of
from .postgres import free_port

log = logging.getLogger("localaws.rds")


class ManagedMasterSecret(MasterUserSecret):
    """The secret RDS creates for ManageMasterUserPassword: `rds!cluster-<uuid>`, tagged with the cluster's ARN,
    holding {"username": the cluster's master user, "password": one RDS generated} (moto's holds a fixed pair)."""

    def __init__(self, cluster, kms_key_id, password):
        self._password = password
        super().__init__(cluster, kms_key_id)

    def _generate_secret_string(self) -> str:
        return json.dumps({"username": self.resource.master_username, "password": self._password})


def generated_master_password(length: int = 32) -> str:
    """What RDS generates: printable ASCII without the characters MasterUserPassword may not contain."""
    alphabet = [chr(code) for code in range(33, 127) if chr(code) not in PASSWORD_FORBIDDEN]
    return "".join(secrets.choice(alphabet) for _ in range(length))

MAX_CROSS_REGION_COPIES_IN_FLIGHT = 5
# Statuses in which AWS lets you act on a cluster (snapshot it, delete it, modify it).
CLUSTER_READY = ("available",)
# Statuses DeleteDBCluster accepts (a stopped cluster must be started first: "Deleting a stopped Aurora cluster").
CLUSTER_DELETABLE = ("available", "failed", "inaccessible-encryption-credentials", "incompatible-parameters",
                     "incompatible-restore", "incompatible-network", "migration-failed", "cloning-failed")
IDENTIFIER_RE = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")
MAX_TAGS_PER_RESOURCE = 50
RESERVED_TAG_PREFIXES = ("aws:", "rds:")
# ModifyDBCluster / CreateDBCluster MasterUserPassword: 8-41 printable ASCII characters; the Aurora User Guide also
# excludes ' and space besides / " @ (the stricter reading).
PASSWORD_FORBIDDEN = "/\"@' "
PASSWORD_LENGTH = (8, 41)
STORAGE_TYPES = ("aurora", "aurora-iopt1")
LIFECYCLE_VALUES = ("open-source-rds-extended-support", "open-source-rds-extended-support-disabled")


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _fault(code: str, message: str) -> RDSClientError:
    return RDSClientError(code, message)


def validate_identifier(value, parameter: str) -> None:
    """RDS identifiers: 1-63 letters, digits or hyphens, a letter first, no trailing or double hyphen."""
    if value is None or not IDENTIFIER_RE.match(str(value)):
        raise InvalidParameterValue(
            f"The parameter {parameter} is not a valid identifier. Identifiers must begin with a letter; must contain "
            "only ASCII letters, digits, and hyphens; must be 1 to 63 characters; and must not end with a hyphen or "
            "contain two consecutive hyphens.")


def tag_dict(tags) -> dict:
    """A tag list (moto's parsed request maps or plain dicts) as {key: value}."""
    return {tag["Key"]: tag.get("Value", "") for tag in tags or [] if isinstance(tag, Mapping) and "Key" in tag}


def validate_tags(tags, existing=None) -> None:
    """AWS's tag rules: no aws:/rds: prefix, keys 1-128 and values 0-256 characters, at most 50 per resource."""
    new = tag_dict(tags)
    for key, value in new.items():
        lowered = key.lower()
        for prefix in RESERVED_TAG_PREFIXES:
            if lowered.startswith(prefix):
                raise InvalidParameterValue(f'Tag keys cannot start with the reserved prefix "{prefix}".')
        if not 1 <= len(key) <= 128:
            raise InvalidParameterValue(f"Tag key {key[:40]!r} must be 1 to 128 characters long.")
        if len(value or "") > 256:
            raise InvalidParameterValue(f"Tag value of {key!r} must be at most 256 characters long.")
    total = set(tag_dict(existing)) | set(new)
    if len(total) > MAX_TAGS_PER_RESOURCE:
        raise InvalidParameterValue(f"Cannot have more than {MAX_TAGS_PER_RESOURCE} tags on a resource; the request "
                                    f"would make {len(total)}.")


def validate_master_password(password) -> None:
    if password is None:
        return
    low, high = PASSWORD_LENGTH
    if len(password) < low:
        raise InvalidParameterValue(f"The parameter MasterUserPassword is not a valid password because it is shorter "
                                    f"than {low} characters.")
    if len(password) > high:
        raise InvalidParameterValue(f"The parameter MasterUserPassword is not a valid password because it is longer "
                                    f"than {high} characters.")
    if any(char in PASSWORD_FORBIDDEN or not 32 <= ord(char) < 127 for char in password):
        raise InvalidParameterValue("The parameter MasterUserPassword is not a valid password. Only printable ASCII "
                                    "characters besides '/', '@', '\"', \"'\", ' ' may be used.")


def validate_serverless_scaling(scaling, engine_version: str) -> None:
    if not scaling:
        return
    minimum, maximum = engines.serverless_range(engine_version)
    try:
        low, high = float(scaling.get("MinCapacity")), float(scaling.get("MaxCapacity"))
    except (TypeError, ValueError):
        raise InvalidParameterValue("Both MinCapacity and MaxCapacity must be specified when you initialize Serverless "
                                    "v2 scaling configuration.") from None
    for name, value in (("minimum", low), ("maximum", high)):
        if value * 2 != int(value * 2):
            raise InvalidParameterValue(f"Serverless v2 {name} capacity {value} isn't valid. Capacity must be a "
                                        "multiple of 0.5 ACU.")
    if high < 1.0:
        raise InvalidParameterValue(f"Serverless v2 maximum capacity {high} isn't valid. The maximum capacity must be "
                                    "at least 1.0.")
    if low < minimum or high > maximum or low > high:
        raise InvalidParameterValue(f"Serverless v2 capacity {low}-{high} isn't valid for aurora-postgresql "
                                    f"{engine_version}: it supports {minimum} to {maximum} ACUs, minimum at most maximum.")


def validate_engine_version(version: str) -> None:
    if not engines.known(version):
        raise InvalidParameterCombination(f"Cannot find version {version} for aurora-postgresql")


def validate_storage_and_lifecycle(params) -> None:
    if params.get("StorageType") and params["StorageType"] not in STORAGE_TYPES:
        raise InvalidParameterValue(f"Invalid storage type for Aurora DB clusters: {params['StorageType']}. "
                                    f"Valid values: {', '.join(STORAGE_TYPES)}.")
    if params.get("EngineLifecycleSupport") and params["EngineLifecycleSupport"] not in LIFECYCLE_VALUES:
        raise InvalidParameterValue(f"Invalid EngineLifecycleSupport {params['EngineLifecycleSupport']}. Valid values: "
                                    f"{', '.join(LIFECYCLE_VALUES)}.")


class RdsLayer:
    """Installed once per server process; `runtime` gives the clock, durations, data plane and endpoint host."""

    def __init__(self, runtime):
        self.rt = runtime

    # --- helpers ----------------------------------------------------------------------------------
    def dur(self, name: str) -> float:
        return self.rt.durations[name]

    @staticmethod
    def backend(account: str, region: str):
        return rds_backends[account][region]

    def find_cluster(self, backend, identifier: str) -> DBCluster:
        if identifier.startswith("arn:"):
            identifier = identifier.split(":")[-1]
        cluster = backend.clusters.get(identifier)
        if cluster is None:
            raise DBClusterNotFoundError(identifier)
        return cluster

    def find_snapshot(self, account: str, region: str, identifier: str) -> DBClusterSnapshot:
        """By name in this account/region, or by ARN from any region/account it is visible to."""
        if identifier.startswith("arn:"):
            parts = identifier.split(":")
            if len(parts) < 7:
                raise InvalidParameterValue(f"Invalid snapshot ARN: {identifier}")
            # An automated snapshot's name has a colon of its own (rds:<cluster>-<time>).
            src_region, src_account, name = parts[3], parts[4], ":".join(parts[6:])
            snapshot = self.backend(src_account, src_region).cluster_snapshots.get(name)
            if snapshot is None or (src_account != account and not self.shared_with(snapshot, account)):
                # AWS does not reveal whether a snapshot you cannot see exists.
                raise DBClusterSnapshotNotFoundError(identifier)
            if partition_of(src_region) != partition_of(region) or parts[1] != partition_of(src_region):
                raise DBClusterSnapshotNotFoundError(identifier)  # another partition is another AWS
            if src_account != account and src_region != region \
                    and self.rt.settings["cross_account_region_copy"] == "two-step":
                # The rule before October 2025: a shared snapshot is visible in its own region only, so across
                # accounts *and* regions took two steps (copy in-region in the target account, then cross-region).
                raise DBClusterSnapshotNotFoundError(identifier)
            return snapshot
        snapshot = self.backend(account, region).cluster_snapshots.get(identifier)
        if snapshot is None:
            raise DBClusterSnapshotNotFoundError(identifier)
        return snapshot

    @staticmethod
    def shared_with(snapshot: DBClusterSnapshot, account: str) -> bool:
        restore = snapshot.attributes.get("restore", [])
        return account in restore or "all" in restore

    @staticmethod
    def is_default_key(kms_key_id: str | None) -> bool:
        return not kms_key_id or kms_key_id == "default_kms_key_id" or kms_key_id.endswith("alias/aws/rds")

    @staticmethod
    def default_key_arn(account: str, region: str) -> str:
        return f"arn:{partition_of(region)}:kms:{region}:{account}:alias/aws/rds"

    def validate_kms_key(self, account: str, region: str, key_id: str) -> str:
        """A key that exists in *this* region (and account, unless named by ARN): AWS's KMSKeyNotAccessibleFault."""
        if key_id.endswith("alias/aws/rds"):
            return self.default_key_arn(account, region)
        match = re.fullmatch(r"arn:aws[a-z-]*:kms:([^:]+):(\d+):(.+)", key_id)
        key_account, key_region, key = account, region, key_id
        if match:
            key_region, key_account, key = match.group(1), match.group(2), match.group(3)
            if key_region != region:
                raise KMSKeyNotAccessibleFault(key_id)
            if key.startswith("key/"):
                key = key[4:]
        try:
            found = kms_backends[key_account][key_region].describe_key(key)
        except Exception:  # noqa: BLE001 - moto raises NotFound / KeyError depending on the form
            raise KMSKeyNotAccessibleFault(key_id) from None
        if getattr(found, "key_state", "Enabled") not in ("Enabled",):
            raise KMSKeyNotAccessibleFault(key_id)
        return found.arn

    def validate_references(self, account: str, region: str, params) -> None:
        """What RestoreDBClusterFromSnapshot / CreateDBCluster check before creating anything."""
        backend = self.backend(account, region)
        subnet_group = params.get("DBSubnetGroupName")
        if subnet_group and subnet_group.lower() != "default" and subnet_group not in backend.subnet_groups:
            raise _fault("DBSubnetGroupNotFoundFault", f"DBSubnetGroup {subnet_group} not found.")
        groups = params.get("VpcSecurityGroupIds") or []
        if groups:
            ec2 = ec2_backends[account][region]
            known = {group.id for vpc_groups in ec2.groups.values() for group in vpc_groups.values()}
            for group_id in groups:
                if group_id not in known:
                    raise InvalidParameterValue(f"Invalid security group , groupId= {group_id}, groupName=.")
        param_group = params.get("DBClusterParameterGroupName")
        if param_group and not param_group.startswith("default.") \
                and param_group not in backend.db_cluster_parameter_groups:
            raise _fault("DBClusterParameterGroupNotFound", f"DBClusterParameterGroup not found: {param_group}")
        if params.get("KmsKeyId"):
            params["KmsKeyId"] = self.validate_kms_key(account, region, params["KmsKeyId"])

    def require_cluster_status(self, cluster: DBCluster, action: str) -> None:
        if cluster.status not in CLUSTER_READY:
            raise _fault("InvalidDBClusterStateFault",
                         f"DbCluster {cluster.db_cluster_identifier} is not in an available state "
                         f"(it is {cluster.status}) and cannot be {action}.")

    @staticmethod
    def instances_of(backend, cluster: DBCluster) -> list[DBInstanceClustered]:
        return [db for db in backend.databases.values()
                if isinstance(db, DBInstanceClustered) and getattr(db, "cluster", None) is cluster]

    # --- data plane glue --------------------------------------------------------------------------
    def attach_new_server(self, cluster: DBCluster) -> None:
        cluster._lx_pg, cluster._lx_ready, cluster._lx_start = None, done_future(), None
        if cluster.engine in POSTGRES_ENGINES:
            password = getattr(cluster, "_master_user_password", None) or ""
            cluster._lx_pg, cluster._lx_ready = self.rt.data.new_cluster(cluster.master_username, password)

    def snapshot_data(self, snapshot: DBClusterSnapshot):
        """(data dir, Future of its completion).  moto's automated snapshots have none: they take the cluster's
        current data (an automated backup is, roughly, the latest state)."""
        if getattr(snapshot, "_lx_data", None) is None:
            source = self.backend(snapshot.account_id, snapshot.region).clusters.get(snapshot.db_cluster_identifier)
            server = getattr(source, "_lx_pg", None) if source is not None else None
            if server is not None:
                snapshot._lx_data, snapshot._lx_ready = self.rt.data.snapshot(server, after=source._lx_ready)
        return getattr(snapshot, "_lx_data", None), getattr(snapshot, "_lx_ready", None) or done_future()

    def server_started(self, cluster: DBCluster) -> bool:
        """wait_for of an instance: submit the cluster server's start once, report when it is done."""
        server = getattr(cluster, "_lx_pg", None)
        if server is None:
            return True
        future = cluster._lx_start
        if future is None or (future.done() and future.exception() is None and not server.running):
            future = cluster._lx_start = self.rt.data.start(server, cluster.port, self.forces_ssl(cluster))
        return future.done()

    def forces_ssl(self, cluster: DBCluster) -> bool:
        """rds.force_ssl = 1 in the cluster's parameter group (read when its server starts)."""
        groups = self.backend(cluster.account_id, cluster.region).db_cluster_parameter_groups
        group = groups.get(str(getattr(cluster, "parameter_group", "") or "").lower())
        value = group.parameters.get("rds.force_ssl", {}).get("ParameterValue") if group is not None else None
        return str(value) == "1"

    def adopt_server_port(self, backend, cluster: DBCluster) -> None:
        """on_done of an instance: raise if the server failed to start; follow it if it had to change port."""
        if getattr(cluster, "_lx_pg", None) is None:
            return
        port = cluster._lx_start.result()
        if port != cluster.port:
            cluster.port = port
            for db in self.instances_of(backend, cluster):
                db.port = port

    def stop_cluster_server_if_idle(self, backend, cluster: DBCluster) -> None:
        """No available instance left: nothing serves the endpoint any more (as on Aurora)."""
        server = getattr(cluster, "_lx_pg", None)
        if server is None:
            return
        if not any(db.status == "available" for db in self.instances_of(backend, cluster)):
            self.rt.data.stop(server)
            cluster._lx_start = None

    def prepare_cluster(self, account: str, region: str, cluster: DBCluster, step_name: str, params=None) -> None:
        """Common to create and restore: a port of its own, AWS-like defaults, `creating` → `available`."""
        params = params or {}
        cluster.port = free_port()
        cluster._lx_pending_rename = None
        # Defaults of the RDS API reference (CreateDBCluster / RestoreDBClusterFromSnapshot): StorageType "aurora",
        # EngineLifecycleSupport "open-source-rds-extended-support", CopyTagsToSnapshot false.
        cluster.storage_type = params.get("StorageType") or "aurora"
        cluster.engine_lifecycle_support = params.get("EngineLifecycleSupport") or LIFECYCLE_VALUES[0]
        cluster.copy_tags_to_snapshot = bool(params.get("CopyTagsToSnapshot"))
        self.issue_certificate(cluster)
        ready = cluster._lx_ready  # its storage (data directory) exists
        self.rt.clock.schedule(cluster, Step("creating", self.dur(step_name), wait_for=ready.done,
                                             on_done=ready.result))

    # --- patched actions ----------------------------------------------------------------------------
    def create_db_cluster(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        ident = params["DBClusterIdentifier"]
        validate_identifier(ident, "DBClusterIdentifier")
        validate_tags(params.get("Tags"))
        validate_master_password(params.get("MasterUserPassword"))
        validate_storage_and_lifecycle(params)
        if ident.lower() in backend.clusters:
            raise _fault("DBClusterAlreadyExistsFault", "DB Cluster already exists")
        if params.get("Engine", "aurora-postgresql") == engines.ENGINE:
            params["EngineVersion"] = params.get("EngineVersion") or engines.DEFAULT_VERSION
            validate_engine_version(params["EngineVersion"])
            validate_serverless_scaling(params.get("ServerlessV2ScalingConfiguration"), params["EngineVersion"])
        self.validate_references(account, region, params)
        if params.get("StorageEncrypted") and not params.get("KmsKeyId"):
            params["KmsKeyId"] = self.default_key_arn(account, region)
        aurora_storage = {"StorageType": params.pop("StorageType", None)}  # moto knows only gp2/io1 storage
        cluster = backend.create_db_cluster(params)
        params.update(aurora_storage)
        self.attach_new_server(cluster)
        self.prepare_cluster(account, region, cluster, "cluster_create", params)
        return ActionResult({"DBCluster": cluster})

    @staticmethod
    def check_new_cluster(backend, params) -> None:
        """What every restore checks of the cluster it creates: its name, tags, storage and lifecycle, that it is new."""
        ident = params["DBClusterIdentifier"]
        validate_identifier(ident, "DBClusterIdentifier")
        validate_tags(params.get("Tags"))
        validate_storage_and_lifecycle(params)
        if ident.lower() in backend.clusters:
            raise _fault("DBClusterAlreadyExistsFault", "DB Cluster already exists")

    @staticmethod
    def restored_props(source_cfg: dict, params, skip=()) -> dict:
        """A restored cluster's model arguments: the source's configuration without its runtime state, protection,
        tags and references (a restore takes what the request says), then the request's values."""
        props = copy.copy(source_cfg)
        for stale in ("_status", "_lx_pg", "_lx_pending_rename", "url_identifier", "_lx_backups", "_lx_clone_group",
                      "clone_group_id", "_lx_ready", "_lx_start", "_lx_certificate_names", "_lx_cross_account_clone",
                      "_lx_cross_account_clones"):
            props.pop(stale, None)
        props.update(deletion_protection=False, tags=[], vpc_security_group_ids=[], db_subnet_group_name=None,
                     db_cluster_parameter_group_name=None)
        for key, value in params.items():
            if key not in skip and value not in (None, "", []):
                props[key] = value
        if params.get("KmsKeyId"):
            props["storage_encrypted"] = True
        props.pop("storage_type", None)  # moto knows only gp2/io1 storage; prepare_cluster sets Aurora's
        return props

    def restore_db_cluster_from_snapshot(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        self.check_new_cluster(backend, params)
        snapshot = self.find_snapshot(account, region, params["SnapshotIdentifier"])
        if snapshot.status != "available":
            raise _fault("InvalidDBClusterSnapshotStateFault",
                         f"Snapshot {snapshot.db_cluster_snapshot_identifier} is not in available state.")
        self.validate_references(account, region, params)
        if snapshot.encrypted and snapshot.account_id != account and self.is_default_key(snapshot.kms_key_id):
            raise KMSKeyNotAccessibleFault(snapshot.kms_key_id)
        if snapshot.region != region:
            # A snapshot is restorable only in its own region; cross-region needs a copy first.
            raise _fault("DBClusterSnapshotNotFoundFault", f"DBClusterSnapshot {params['SnapshotIdentifier']} not found.")
        version = self.restore_engine_version(snapshot, params.get("EngineVersion"))
        validate_serverless_scaling(params.get("ServerlessV2ScalingConfiguration"), version)
        source_cfg = dict(snapshot.cluster.get_cfg(), storage_encrypted=snapshot.encrypted, kms_key_id=snapshot.kms_key_id)
        props = self.restored_props(source_cfg, params)
        props["engine_version"] = version
        data, data_ready = self.snapshot_data(snapshot)
        if data is not None and data_ready.done():
            # The restored cluster answers with the password that was in the snapshot: the source's.
            from .postgres import PostgresServer

            props["master_user_password"] = PostgresServer(data).password
        cluster = backend.create_db_cluster(props)
        cluster._lx_pg, cluster._lx_ready, cluster._lx_start = None, done_future(), None
        if data is not None:
            cluster._lx_pg, cluster._lx_ready = self.rt.data.cluster_from_snapshot(
                data, cluster.master_username, props.get("master_user_password") or "", ready=data_ready)
        self.prepare_cluster(account, region, cluster, "restore", params)
        return ActionResult({"DBCluster": cluster})

    # --- point in time and clones ---------------------------------------------------------------------
    CLONES_PER_SOURCE = 15  # Aurora User Guide (older editions), "Limitations of Aurora cloning": the stricter reading

    def find_source_cluster(self, account: str, region: str, identifier: str) -> DBCluster:
        """SourceDBClusterIdentifier: a name in this account and region, or an ARN. Another region's cluster cannot be
        restored or cloned here ("You can't create a clone in a different AWS Region"); another account's only when
        its owner shared it with this account through AWS RAM and this account accepted (ram.py): otherwise not
        found, as AWS answers for a cluster it does not show you."""
        owner = account
        if identifier.startswith("arn:"):
            parts = identifier.split(":")
            if len(parts) < 7 or parts[3] != region or parts[5] != "cluster":
                raise DBClusterNotFoundError(identifier)
            if parts[4] != account and not ram.shared_with(identifier, account):
                raise DBClusterNotFoundError(identifier)
            owner, identifier = parts[4], parts[6]
        return self.find_cluster(self.backend(owner, region), identifier.lower())

    def describe_db_clusters(self, resp: RDSResponse) -> ActionResult:
        """Another account's cluster, named by ARN, only with IncludeShared and once shared with the caller through AWS
        RAM (DescribeDBClusters `IncludeShared`: "clusters shared from other Amazon Web Services accounts")."""
        identifier = resp.params.get("DBClusterIdentifier") or ""
        parts = identifier.split(":")
        if not identifier.startswith("arn:") or len(parts) < 7 or parts[4] == resp.current_account:
            return self.original["describe_db_clusters"](resp)
        include_shared = str(resp.params.get("IncludeShared", "")).lower() == "true"
        if not include_shared or parts[3] != resp.region or not ram.shared_with(identifier, resp.current_account):
            raise DBClusterNotFoundError(identifier)
        return ActionResult({"DBClusters": [self.find_cluster(self.backend(parts[4], parts[3]), parts[6].lower())]})

    CROSS_ACCOUNT_CLONES_PER_ACCOUNT = 1  # "Limitations of cross-account cloning": one clone of a cluster per account

    def check_cross_account_clone(self, backend, source: DBCluster, restore_type: str, params) -> None:
        """AWS's rules for a clone of another account's cluster ("Cross-account cloning with AWS RAM and Amazon
        Aurora"), each the stricter reading where the guide is not explicit (tools/localaws/README.md)."""
        if restore_type != "copy-on-write":
            raise InvalidParameterCombination(
                f"DB cluster {source.db_cluster_arn} belongs to another account: only a copy-on-write clone of it can be "
                "made (RestoreType=copy-on-write)")
        if getattr(source, "storage_encrypted", False):
            if self.is_default_key(getattr(source, "kms_key_id", None)):
                raise KMSKeyNotAccessibleFault(
                    f"DB cluster {source.db_cluster_arn} is encrypted with its account's AWS managed key aws/rds, which "
                    "no other account can use: it cannot be cloned across accounts")
            if not params.get("KmsKeyId"):
                raise InvalidParameterCombination(
                    f"DB cluster {source.db_cluster_arn} is encrypted: a clone of it in another account needs KmsKeyId")
        group = getattr(source, "_lx_clone_group", None)
        here = [cluster for cluster in backend.clusters.values() if group and getattr(cluster, "_lx_clone_group", None) == group]
        if len(here) >= self.CROSS_ACCOUNT_CLONES_PER_ACCOUNT:
            raise _fault("DBClusterQuotaExceededFault",
                         f"This account already has a clone of DB cluster {source.db_cluster_arn} "
                         f"({here[0].db_cluster_identifier}); an account can hold one cross-account clone of a cluster.")

    def record_backup(self, cluster: DBCluster):
        """A timestamped base copy of the cluster's data: what its continuous backup could restore to from now on.
        Returns (answer, Future of the copy)."""
        server = getattr(cluster, "_lx_pg", None)
        if server is None:
            raise ValueError(f"cluster {cluster.db_cluster_identifier} has no data to back up")
        data, ready = self.rt.data.snapshot(server, after=cluster._lx_ready)
        moment = datetime.datetime.now(datetime.timezone.utc)
        backups = cluster.__dict__.setdefault("_lx_backups", [])
        backups.append((moment, data, ready))
        return {"ok": True, "cluster": cluster.db_cluster_identifier, "time": moment.isoformat()}, ready

    @staticmethod
    def backup_at(cluster: DBCluster, moment: datetime.datetime):
        """The newest base copy taken at or before `moment`, or None."""
        found = [entry for entry in getattr(cluster, "_lx_backups", []) if entry[0] <= moment]
        return found[-1] if found else None

    @staticmethod
    def restore_time(value) -> datetime.datetime:
        if isinstance(value, datetime.datetime):
            moment = value
        else:
            try:
                moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise InvalidParameterValue(f"Invalid RestoreToTime: {value}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)

    def restore_db_cluster_to_point_in_time(self, resp: RDSResponse) -> ActionResult:
        """A full copy of the source at a time (or its latest restorable time), or a copy-on-write clone of it now."""
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        self.check_new_cluster(backend, params)
        restore_type = params.get("RestoreType") or "full-copy"
        if restore_type not in ("full-copy", "copy-on-write"):
            raise InvalidParameterValue(f"Invalid RestoreType: {restore_type}. Valid values: full-copy, copy-on-write")
        latest = str(params.get("UseLatestRestorableTime", "")).lower() == "true"
        to_time = params.get("RestoreToTime")
        if to_time and latest:
            raise InvalidParameterCombination("Cannot specify both RestoreToTime and UseLatestRestorableTime")
        if to_time and restore_type == "copy-on-write":
            raise InvalidParameterCombination("RestoreToTime cannot be specified when RestoreType is copy-on-write")
        if not to_time and not latest:
            raise InvalidParameterCombination("Either RestoreToTime or UseLatestRestorableTime must be specified")
        source = self.find_source_cluster(account, region, params.get("SourceDBClusterIdentifier") or "")
        if source.status not in CLUSTER_READY:
            raise _fault("InvalidDBClusterStateFault",
                         f"DbCluster {source.db_cluster_identifier} is not in an available state (it is {source.status}).")
        base = None
        cross_account = source.account_id != account
        if cross_account:
            self.check_cross_account_clone(backend, source, restore_type, params)
        if restore_type == "copy-on-write":
            if not self.instances_of(self.backend(source.account_id, region), source):
                raise _fault("InvalidDBClusterStateFault",
                             f"Cannot clone DB cluster {source.db_cluster_identifier}: it has no DB instance.")
            group = getattr(source, "_lx_clone_group", None)
            members = [c for c in self.backend(source.account_id, region).clusters.values()
                       if group and getattr(c, "_lx_clone_group", None) == group and c is not source]
            members += [c for c in getattr(source, "_lx_cross_account_clones", [])
                        if c.db_cluster_identifier in self.backend(c.account_id, region).clusters]
            if len(members) >= self.CLONES_PER_SOURCE:
                raise _fault("DBClusterQuotaExceededFault",
                             f"Cannot create more than {self.CLONES_PER_SOURCE} clones of DB cluster {source.db_cluster_identifier}.")
        elif to_time:
            moment = self.restore_time(to_time)
            earliest = getattr(source, "earliest_restorable_time", None)
            now = datetime.datetime.now(datetime.timezone.utc)
            if moment > now or (earliest is not None and moment < _aware(earliest)):
                raise _fault("InvalidRestoreFault", f"The requested RestoreToTime {moment.isoformat()} is outside the restorable "
                                                    f"window of DB cluster {source.db_cluster_identifier}.")
            base = self.backup_at(source, moment)
            if base is None and getattr(source, "_lx_pg", None) is not None:
                raise _fault("InvalidRestoreFault", f"No backup of DB cluster {source.db_cluster_identifier} covers "
                                                    f"{moment.isoformat()} (the emulator restores only to times after a recorded "
                                                    f"base copy: POST /_localaws/backup).")
        self.validate_references(account, region, params)
        props = self.restored_props(source.get_cfg(), params, skip=(
            "restore_type", "use_latest_restorable_time", "restore_to_time", "source_db_cluster_identifier"))
        server = getattr(source, "_lx_pg", None)
        if server is not None:
            props["master_user_password"] = server.password
        cluster = backend.create_db_cluster(props)
        cluster._lx_pg, cluster._lx_ready, cluster._lx_start = None, done_future(), None
        if server is not None:
            data, ready = (base[1], base[2]) if base is not None else self.rt.data.snapshot(server, after=source._lx_ready)
            cluster._lx_pg, cluster._lx_ready = self.rt.data.cluster_from_snapshot(
                data, cluster.master_username, server.password, ready=ready)
        if restore_type == "copy-on-write":
            group = getattr(source, "_lx_clone_group", None) or "clone-group-" + source.resource_id
            source._lx_clone_group = cluster._lx_clone_group = group
            source.clone_group_id = cluster.clone_group_id = group  # DescribeDBClusters' CloneGroupId
            if cross_account:
                cluster._lx_cross_account_clone = True  # DescribeDBClusters' CrossAccountClone
                source.__dict__.setdefault("_lx_cross_account_clones", []).append(cluster)
        self.prepare_cluster(account, region, cluster, "clone" if restore_type == "copy-on-write" else "restore", params)
        return ActionResult({"DBCluster": cluster})

    @staticmethod
    def restore_engine_version(snapshot: DBClusterSnapshot, requested: str | None) -> str:
        """The version a restore gets: the requested one (the snapshot's, or one of its upgrade targets), else the
        region's default ("If you don't specify an engine version, the default version for the database engine in
        the Amazon Web Services Region is used"), never lower than the snapshot's."""
        current = getattr(snapshot.cluster, "engine_version", None) or engines.DEFAULT_VERSION
        if snapshot.cluster.engine != engines.ENGINE:
            return requested or current
        if requested:
            validate_engine_version(requested)
            if requested != current and requested not in engines.upgrade_targets(current):
                raise InvalidParameterCombination(
                    f"Cannot restore a DB cluster snapshot of aurora-postgresql {current} to version {requested}: "
                    f"it is not a valid upgrade target of {current}.")
            return requested
        if engines.parse(engines.DEFAULT_VERSION) < engines.parse(current):
            return current
        return engines.DEFAULT_VERSION

    def create_db_instance(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        cluster_id = params.get("DBClusterIdentifier")
        if not cluster_id:
            database = backend.create_db_instance(params)
            self.rt.clock.schedule(database, Step("creating", self.dur("instance_create")))
            return ActionResult({"DBInstance": database})
        validate_identifier(params.get("DBInstanceIdentifier"), "DBInstanceIdentifier")
        validate_tags(params.get("Tags"))
        cluster = self.find_cluster(backend, cluster_id)
        if cluster.status in ("deleting", "failed", "stopped", "stopping", "starting"):
            raise _fault("InvalidDBClusterStateFault",
                         f"DbCluster {cluster.db_cluster_identifier} is in {cluster.status} state.")
        params.setdefault("Engine", cluster.engine)
        instance_class = params.get("DBInstanceClass")
        if cluster.engine == engines.ENGINE and not engines.orderable(instance_class, cluster.engine_version):
            raise InvalidParameterCombination(
                f"RDS does not support creating a DB instance with the following combination: DBInstanceClass="
                f"{instance_class}, Engine={cluster.engine}, EngineVersion={cluster.engine_version}, "
                "LicenseModel=postgresql-license. For supported combinations of instance class and database engine "
                "version, see the documentation.")
        database = backend.create_db_instance(params)
        database.port = cluster.port

        def cluster_ready() -> bool:
            # An instance cannot serve before its cluster exists; then it waits for the server to be up.
            return cluster.status != "creating" and self.server_started(cluster)

        def became_available() -> None:
            self.adopt_server_port(backend, cluster)

        self.rt.clock.schedule(database, Step("creating", self.dur("instance_create"), on_done=became_available,
                                              wait_for=cluster_ready))
        return ActionResult({"DBInstance": database})

    def delete_db_instance(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        ident = params["DBInstanceIdentifier"]
        database = backend.databases.get(ident)
        if database is None:
            raise DBInstanceNotFoundError(ident)
        if database.deletion_protection:
            raise InvalidParameterCombination(
                "Cannot delete protected DB Instance, please disable deletion protection and try again.")
        if database.status == "deleting":
            raise _fault("InvalidDBInstanceState", f"Instance {ident} is already being deleted.")
        cluster = getattr(database, "cluster", None) if isinstance(database, DBInstanceClustered) else None
        if cluster is not None and cluster.status in ("stopped", "stopping", "starting"):
            raise _fault("InvalidDBClusterStateFault",
                         f"Db cluster {cluster.db_cluster_identifier} is in {cluster.status} state.")
        self.rt.clock.forget(database)

        def gone() -> None:
            backend.databases.pop(ident, None)
            if cluster is not None:
                if database.is_cluster_writer:
                    cluster.designate_writer()  # AWS fails over to the next promotion tier
                self.stop_cluster_server_if_idle(backend, cluster)

        self.rt.clock.schedule(database, Step("deleting", self.dur("instance_delete"), on_done=gone,
                                              final_status=None))
        return ActionResult({"DBInstance": database})

    def create_db_cluster_snapshot(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        cluster = self.find_cluster(backend, params["DBClusterIdentifier"])
        validate_identifier(params.get("DBClusterSnapshotIdentifier"), "DBClusterSnapshotIdentifier")
        validate_tags(params.get("Tags"))
        self.require_cluster_status(cluster, "snapshotted")
        snapshot = backend.create_db_cluster_snapshot(
            cluster.db_cluster_identifier, params["DBClusterSnapshotIdentifier"], tags=params.get("Tags"))
        self._start_snapshot(cluster, snapshot, set_backing_up=True)
        return ActionResult({"DBClusterSnapshot": snapshot})

    def _start_snapshot(self, cluster: DBCluster, snapshot: DBClusterSnapshot, set_backing_up: bool) -> None:
        server = getattr(cluster, "_lx_pg", None)
        snapshot._lx_data, snapshot._lx_ready = None, done_future()
        if server is not None:
            snapshot._lx_data, snapshot._lx_ready = self.rt.data.snapshot(server, after=cluster._lx_ready)
        snapshot._lx_cross_region = False
        snapshot.storage_type = getattr(cluster, "storage_type", "aurora")
        ready = snapshot._lx_ready
        self.rt.clock.schedule(snapshot, Step("creating", self.dur("snapshot_create"), progress=True,
                                              wait_for=ready.done, on_done=ready.result))
        if set_backing_up and not self.rt.clock.busy(cluster):
            self.rt.clock.schedule(cluster, Step("backing-up", self.dur("snapshot_create")))

    def copy_db_cluster_snapshot(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        target = params["TargetDBClusterSnapshotIdentifier"]
        validate_identifier(target, "TargetDBClusterSnapshotIdentifier")
        target = target.lower()
        source = self.find_snapshot(account, region, params["SourceDBClusterSnapshotIdentifier"])
        if target in backend.cluster_snapshots:
            raise DBClusterSnapshotAlreadyExistsError(target)
        if source.status != "available":
            raise _fault("InvalidDBClusterSnapshotStateFault",
                         f"Source snapshot {source.db_cluster_snapshot_identifier} is not in available state.")
        cross_region = source.region != region
        cross_account = source.account_id != account
        if cross_region and (source.region.startswith("cn-") or region.startswith("cn-")):
            # "You can't copy a snapshot to or from the following AWS Regions: China (Beijing), China (Ningxia)".
            raise InvalidParameterValue(f"Cross-Region snapshot copy is not supported from {source.region} to {region}.")
        kms_key_id = params.get("KmsKeyId")
        if kms_key_id and not source.encrypted:
            # "If you copy an unencrypted DB cluster snapshot and specify a value for the KmsKeyId parameter, an
            # error is returned." (Aurora cannot encrypt a cluster snapshot while copying it.)
            raise InvalidParameterCombination(
                f"Cannot specify KmsKeyId when copying the unencrypted DB cluster snapshot "
                f"{source.db_cluster_snapshot_identifier}: Aurora cannot encrypt an unencrypted snapshot while copying "
                "it; restore it with a KmsKeyId instead.")
        if source.encrypted:
            if cross_account and self.is_default_key(source.kms_key_id):
                raise _fault("KMSKeyNotAccessibleFault",
                             f"The source snapshot KMS key [{source.kms_key_id}] does not exist, is not enabled "
                             "or you do not have permissions to access it.")
            if cross_region and not kms_key_id:
                raise KMSKeyNotAccessibleFault(str(kms_key_id))
        if kms_key_id:
            kms_key_id = self.validate_kms_key(account, region, kms_key_id)
        elif source.encrypted and not cross_region:
            kms_key_id = source.kms_key_id
        manual = [s for s in backend.cluster_snapshots.values() if s.snapshot_type == "manual"]
        if len(manual) >= backend.SNAPSHOT_QUOTA:
            raise SnapshotQuotaExceededFault()
        if cross_region:
            in_flight = [s for s in backend.cluster_snapshots.values()
                         if getattr(s, "_lx_cross_region", False) and s.status == "copying"]
            if len(in_flight) >= MAX_CROSS_REGION_COPIES_IN_FLIGHT:
                raise _fault("SnapshotQuotaExceeded",
                             f"Cannot have more than {MAX_CROSS_REGION_COPIES_IN_FLIGHT} cross-region DB cluster "
                             f"snapshot copies in progress in {region}.")
        tags = list(source.tags or []) if params.get("CopyTags") else []
        given = tag_dict(params.get("Tags"))
        tags = [tag for tag in tags if tag.get("Key") not in given] + list(params.get("Tags") or [])
        validate_tags(tags)
        snapshot = DBClusterSnapshot(backend, source.cluster, target, tags=tags, kms_key_id=kms_key_id)
        snapshot.storage_type = getattr(source, "storage_type", None) or "aurora"
        if not source.encrypted and not kms_key_id:
            snapshot.encrypted = snapshot.storage_encrypted = False
        backend.cluster_snapshots[target] = snapshot
        data, data_ready = self.snapshot_data(source)
        snapshot._lx_data, snapshot._lx_ready = None, done_future()
        if data is not None:
            snapshot._lx_data, snapshot._lx_ready = self.rt.data.copy_snapshot(data, ready=data_ready)
        snapshot._lx_cross_region = cross_region
        snapshot.source_db_cluster_snapshot_arn = source.arn
        ready = snapshot._lx_ready
        self.rt.clock.schedule(snapshot, Step("copying", self.dur("copy"), progress=True, wait_for=ready.done,
                                              on_done=ready.result))
        return ActionResult({"DBClusterSnapshot": snapshot})

    def delete_db_cluster_snapshot(self, resp: RDSResponse) -> ActionResult:
        backend = self.backend(resp.current_account, resp.region)
        ident = resp.params["DBClusterSnapshotIdentifier"]
        snapshot = backend.cluster_snapshots.get(ident)
        if snapshot is None:
            raise DBClusterSnapshotNotFoundError(ident)
        if snapshot.snapshot_type == "automated":
            raise _fault("InvalidDBClusterSnapshotStateFault", "Automated snapshots cannot be deleted.")
        backend.cluster_snapshots.pop(ident)
        self.rt.clock.forget(snapshot)
        self.rt.data.delete_snapshot(getattr(snapshot, "_lx_data", None), getattr(snapshot, "_lx_ready", None))
        snapshot.status = "deleted"
        return ActionResult({"DBClusterSnapshot": snapshot})

    def describe_db_cluster_snapshots(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        ident = params.get("DBClusterSnapshotIdentifier")
        if ident and ident.startswith("arn:"):
            snapshots = [self.find_snapshot(account, region, ident)]
        else:
            filters = {f["Name"]: f["Values"] for f in params.get("Filters", [])}
            snapshots = backend.describe_db_cluster_snapshots(
                params.get("DBClusterIdentifier"), ident, params.get("SnapshotType"), filters)
        if ident:
            # "If this identifier is for an automated snapshot, the SnapshotType parameter must also be specified."
            if any(item.snapshot_type == "automated" for item in snapshots) and params.get("SnapshotType") != "automated":
                raise DBClusterSnapshotNotFoundError(ident)
            return ActionResult({"DBClusterSnapshots": snapshots})
        if params.get("IncludeShared") and not params.get("SnapshotType"):
            snapshots = list(snapshots) + backend.get_shared_db_cluster_snapshots()
        return ActionResult({"DBClusterSnapshots": snapshots})

    def modify_db_cluster_snapshot_attribute(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        snapshot = self.find_snapshot(account, region, params["DBClusterSnapshotIdentifier"])
        if params.get("AttributeName") == "restore" and params.get("ValuesToAdd"):
            if snapshot.snapshot_type == "automated":
                raise _fault("InvalidDBClusterSnapshotStateFault",
                             "Automated snapshots cannot be shared: copy it to a manual snapshot first.")
            if snapshot.encrypted and self.is_default_key(snapshot.kms_key_id):
                raise InvalidParameterValue(
                    "Snapshots encrypted with the default aws/rds KMS key cannot be shared: copy it with a "
                    "customer managed key first.")
            if snapshot.status != "available":
                raise _fault("InvalidDBClusterSnapshotStateFault",
                             f"Snapshot {snapshot.db_cluster_snapshot_identifier} is not in available state.")
        return self.original["modify_db_cluster_snapshot_attribute"](resp)

    def delete_db_cluster(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        cluster = self.find_cluster(backend, params["DBClusterIdentifier"])
        ident = cluster.db_cluster_identifier
        if cluster.deletion_protection:
            raise InvalidParameterCombination(
                "Cannot delete protected Cluster, please disable deletion protection and try again.")
        if self.instances_of(backend, cluster):
            raise _fault("InvalidDBClusterStateFault",
                         "Cluster cannot be deleted, it still contains DB instances in non-deleting state.")
        if cluster.status not in CLUSTER_DELETABLE:
            raise _fault("InvalidDBClusterStateFault", f"Db cluster {ident} is in {cluster.status} state.")
        skip = bool(params.get("SkipFinalSnapshot"))
        final_name = params.get("FinalDBSnapshotIdentifier")
        if skip and final_name:
            raise InvalidParameterCombination(
                "FinalDBSnapshotIdentifier can not be specified when deleting a cluster with SkipFinalSnapshot "
                "set to true.")
        if not skip and not final_name:
            raise InvalidParameterCombination("FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is set.")
        final_ready = done_future()
        if final_name:
            validate_identifier(final_name, "FinalDBSnapshotIdentifier")
            final_name = final_name.lower()
            if final_name in backend.cluster_snapshots:
                raise DBClusterSnapshotAlreadyExistsError(final_name)
            snapshot = backend.create_db_cluster_snapshot(ident, final_name)
            self._start_snapshot(cluster, snapshot, set_backing_up=False)
            final_ready = snapshot._lx_ready
        if cluster.manage_master_user_password:
            cluster.master_user_secret.delete_secret()

        def gone() -> None:
            if backend.clusters.get(ident) is cluster:
                backend.clusters.pop(ident)
            server = getattr(cluster, "_lx_pg", None)
            if server is not None:
                self.rt.data.destroy(server)

        # The data goes only once the final snapshot has its copy of it.
        self.rt.clock.schedule(cluster, Step("deleting", self.dur("cluster_delete"), on_done=gone, final_status=None,
                                             wait_for=final_ready.done))
        return ActionResult({"DBCluster": cluster})

    def managed_password_change(self, account: str, region: str, cluster, params, new_password):
        """ModifyDBCluster's ManageMasterUserPassword rules (API reference, ModifyDBCluster): not with
        MasterUserPassword when turning it on; MasterUserSecretKmsKeyId only while turning it on; turning it off
        needs MasterUserPassword. Returns (True, key) to turn it on, (False, None) to turn it off, (None, None)."""
        manage = params.pop("ManageMasterUserPassword", None)
        key = params.pop("MasterUserSecretKmsKeyId", None)
        managed = bool(getattr(cluster, "manage_master_user_password", False))
        if manage is True and new_password is not None:
            raise InvalidParameterCombination("You can't specify MasterUserPassword when ManageMasterUserPassword is turned on.")
        if key and not (manage is True and not managed):
            raise InvalidParameterCombination("MasterUserSecretKmsKeyId is valid only when turning on ManageMasterUserPassword "
                                              "for a DB cluster that doesn't manage its master user password.")
        if manage is False and managed and new_password is None:
            raise InvalidParameterCombination("You must specify MasterUserPassword when turning off ManageMasterUserPassword.")
        if manage is True and managed:
            return None, None  # already managed: nothing to change
        if manage is True:
            return True, (self.validate_kms_key(account, region, key) if key else None)
        if manage is False and managed:
            cluster.master_user_secret.delete_secret()
            del cluster.master_user_secret
            cluster.manage_master_user_password = False
        return None, None

    def modify_db_cluster(self, resp: RDSResponse) -> ActionResult:
        params, account, region = resp.params, resp.current_account, resp.region
        backend = self.backend(account, region)
        cluster = self.find_cluster(backend, params["DBClusterIdentifier"])
        old_id = cluster.db_cluster_identifier
        self.require_cluster_status(cluster, "modified")
        new_id = params.pop("NewDBClusterIdentifier", None)
        new_password = params.pop("MasterUserPassword", None)
        if new_id is not None:
            validate_identifier(new_id, "NewDBClusterIdentifier")
        validate_master_password(new_password)
        manage, manage_key = self.managed_password_change(account, region, cluster, params, new_password)
        if cluster.engine == engines.ENGINE:
            validate_serverless_scaling(params.get("ServerlessV2ScalingConfiguration"), cluster.engine_version)
        apply_now = bool(params.get("ApplyImmediately"))
        if new_id and new_id.lower() != old_id:
            if new_id.lower() in backend.clusters:
                raise _fault("DBClusterAlreadyExistsFault", f"DB Cluster {new_id} already exists")
            if not apply_now:
                # AWS defers the rename to the maintenance window; the emulator has none, so it stays pending.
                cluster._lx_pending_rename = new_id.lower()
                new_id = None
        else:
            new_id = None
        if params.get("VpcSecurityGroupIds") or params.get("DBClusterParameterGroupName") or params.get("KmsKeyId"):
            self.validate_references(account, region, params)
        structural = {k for k, v in params.items() if v not in (None, "", [])} - {
            "db_cluster_identifier", "apply_immediately", "deletion_protection", "backup_retention_period",
            "preferred_backup_window", "preferred_maintenance_window", "copy_tags_to_snapshot"}
        backend.modify_db_cluster(params)  # moto sets plain attributes and the status; ours follow
        self.rt.clock.forget(cluster)
        if new_id:
            new_id = new_id.lower()
            backend.clusters.pop(old_id, None)
            cluster.db_cluster_identifier = new_id
            backend.clusters[new_id] = cluster
            # moto matches members by identifier: follow the rename so membership survives it.
            for db in self.instances_of(backend, cluster):
                db.db_cluster_identifier = new_id
            self.rt.clock.schedule(cluster, Step("renaming", self.dur("rename")))
        if structural:
            self.rt.clock.schedule(cluster, Step("modifying", self.dur("modify")))
        if manage is True:
            # RDS generates the password, keeps it in its secret, and resets the master user to it.
            new_password = generated_master_password()
            cluster.master_user_secret = ManagedMasterSecret(cluster, manage_key, new_password)
            cluster.manage_master_user_password = True
        if new_password is not None:
            def reset_password() -> None:
                cluster.master_user_password = new_password
                server = getattr(cluster, "_lx_pg", None)
                if server is not None:
                    self.rt.data.set_password(server, new_password)

            self.rt.clock.schedule(cluster, Step("resetting-master-credentials", self.dur("password_reset"),
                                                 on_done=reset_password))
        if not self.rt.clock.busy(cluster):
            cluster.status = "available"
        return ActionResult({"DBCluster": cluster})

    def stop_db_cluster(self, resp: RDSResponse) -> ActionResult:
        """`stopping` → `stopped` (instances too); the endpoint stops answering. Only from `available`."""
        backend = self.backend(resp.current_account, resp.region)
        cluster = self.find_cluster(backend, resp.params["DBClusterIdentifier"])
        if cluster.status != "available":
            raise _fault("InvalidDBClusterStateFault", f"DbCluster {cluster.db_cluster_identifier} is in "
                                                       f"{cluster.status} state but expected it to be one of available.")
        instances = self.instances_of(backend, cluster)
        for db in instances:
            db.status = "stopping"

        def stopped() -> None:
            server = getattr(cluster, "_lx_pg", None)
            if server is not None:
                self.rt.data.stop(server)
                cluster._lx_start = None
            for db in self.instances_of(backend, cluster):
                db.status = "stopped"
            # "If you don't manually start your DB cluster after seven days, your DB cluster is automatically started"
            cluster.automatic_restart_time = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)

        self.rt.clock.schedule(cluster, Step("stopping", self.dur("cluster_stop"), on_done=stopped,
                                             final_status="stopped"))
        return ActionResult({"DBCluster": cluster})

    def start_db_cluster(self, resp: RDSResponse) -> ActionResult:
        """`starting` → `available` once the server is up again; its certificate is issued anew (names follow)."""
        backend = self.backend(resp.current_account, resp.region)
        cluster = self.find_cluster(backend, resp.params["DBClusterIdentifier"])
        if cluster.status != "stopped":
            raise _fault("InvalidDBClusterStateFault",
                         f"DbCluster {cluster.db_cluster_identifier} is in {cluster.status} state but expected it to "
                         "be one of stopped,inaccessible-encryption-credentials-recoverable.")
        for db in self.instances_of(backend, cluster):
            db.status = "starting"

        def started() -> None:
            self.adopt_server_port(backend, cluster)
            for db in self.instances_of(backend, cluster):
                db.status = "available"
            cluster.automatic_restart_time = None
            self.issue_certificate(cluster)

        self.rt.clock.schedule(cluster, Step("starting", self.dur("cluster_start"), on_done=started,
                                             wait_for=lambda: self.server_started(cluster)))
        return ActionResult({"DBCluster": cluster})

    def reboot_db_instance(self, resp: RDSResponse) -> ActionResult:
        backend = self.backend(resp.current_account, resp.region)
        ident = resp.params["DBInstanceIdentifier"]
        database = backend.databases.get(ident)
        if database is None:
            raise DBInstanceNotFoundError(ident)
        if database.status != "available":
            raise _fault("InvalidDBInstanceState", f"DB instance {ident} is not in available state.")
        self.rt.clock.schedule(database, Step("rebooting", self.dur("instance_reboot")))
        return ActionResult({"DBInstance": database})

    def add_tags_to_resource(self, resp: RDSResponse) -> ActionResult:
        backend = self.backend(resp.current_account, resp.region)
        arn = resp.params.get("ResourceName") or ""
        existing = []
        try:
            existing = backend.list_tags_for_resource(arn)
        except RDSClientError:
            existing = []
        validate_tags(resp.params.get("Tags"), existing)
        return self.original["add_tags_to_resource"](resp)

    def describe_db_engine_versions(self, resp: RDSResponse) -> ActionResult:
        params = resp.params
        engine = params.get("Engine")
        if engine not in (None, engines.ENGINE):
            return ActionResult({"DBEngineVersions": []})
        versions = [params["EngineVersion"]] if params.get("EngineVersion") else list(engines.VERSIONS)
        if params.get("DefaultOnly"):
            versions = [engines.DEFAULT_VERSION]
        return ActionResult({"DBEngineVersions": [engines.engine_version_record(version) for version in versions
                                                  if engines.known(version)]})

    def describe_orderable_db_instance_options(self, resp: RDSResponse) -> ActionResult:
        params, region = resp.params, resp.region
        if params.get("Engine") != engines.ENGINE:
            return ActionResult({"OrderableDBInstanceOptions": []})
        versions = [params["EngineVersion"]] if params.get("EngineVersion") else list(engines.VERSIONS)
        classes = [params["DBInstanceClass"]] if params.get("DBInstanceClass") else sorted(engines.CLASSES)
        options = [engines.orderable_record(instance_class, version, region) for version in versions
                   for instance_class in classes if engines.orderable(instance_class, version)]
        return ActionResult({"OrderableDBInstanceOptions": options})

    # --- TLS: the names a cluster's certificate covers ----------------------------------------------
    def issue_certificate(self, cluster: DBCluster) -> None:
        """A server certificate names the endpoints as they are when it is issued (create, restore, start). A rename
        does not reissue it: "If you're using SSL endpoints and change the DB cluster identifier, stop and restart
        the DB cluster to update the SSL endpoints" (Aurora User Guide, "Modifying an Amazon Aurora DB cluster")."""
        cluster._lx_certificate_names = self.aws_endpoint_names(cluster)

    def aws_endpoint_names(self, cluster: DBCluster) -> list[str]:
        return [self.aws_cluster_endpoint(cluster), self.aws_reader_endpoint(cluster)]

    def certificate_state(self, cluster: DBCluster) -> dict:
        names = getattr(cluster, "_lx_certificate_names", [])
        return {"certificate_names": names, "certificate_covers_endpoint": self.aws_cluster_endpoint(cluster) in names}

    # --- installation -------------------------------------------------------------------------------
    PATCHED = ("create_db_cluster", "restore_db_cluster_from_snapshot", "create_db_instance", "delete_db_instance",
               "create_db_cluster_snapshot", "copy_db_cluster_snapshot", "delete_db_cluster_snapshot",
               "describe_db_cluster_snapshots", "modify_db_cluster_snapshot_attribute", "delete_db_cluster",
               "modify_db_cluster", "stop_db_cluster", "start_db_cluster", "reboot_db_instance", "add_tags_to_resource",
               "describe_db_engine_versions", "describe_orderable_db_instance_options", "restore_db_cluster_to_point_in_time",
               "describe_db_clusters")

    def install(self) -> None:
        self.original = {name: getattr(RDSResponse, name, None) for name in self.PATCHED}
        layer = self
        for name in self.PATCHED:
            def handler(resp, _name=name):
                return getattr(layer, _name)(resp)
            setattr(RDSResponse, name, handler)
        _patch_models(self)
        # AWS's default quota of manual cluster snapshots per region (moto defaults to 1000).
        os.environ.setdefault("MOTO_RDS_SNAPSHOT_LIMIT", "100")


def _patch_models(layer: RdsLayer) -> None:
    """Statuses are plain attributes driven by the Clock; endpoints point where the servers listen."""

    def get_status(self):
        return self._status

    def set_status(self, value):
        self._status = value

    DBCluster.status = property(get_status, set_status)  # moto flips `creating` on the first read
    DBCluster.cross_account_clone = property(lambda self: bool(getattr(self, "_lx_cross_account_clone", False)))

    original_save_automated_backup = DBCluster.save_automated_backup

    def save_automated_backup(self):
        # moto names automated backups rds:<cluster>-<minute>; a cluster re-created under the same name within the
        # same minute (replace, swap) collided with the deleted one's backup, which AWS keeps apart.
        try:
            original_save_automated_backup(self)
        except DBClusterSnapshotAlreadyExistsError:
            pass

    DBCluster.save_automated_backup = save_automated_backup

    original_save_instance_backup = DBInstance.save_automated_backup

    def save_instance_backup(self):
        # The same for instances: a replaced cluster's new writer takes its predecessor's name within the minute.
        try:
            original_save_instance_backup(self)
        except DBSnapshotAlreadyExistsError:
            pass

    DBInstance.save_automated_backup = save_instance_backup

    original_cluster_endpoint = DBCluster.endpoint.fget
    original_reader_endpoint = DBCluster.reader_endpoint.fget
    original_address = DBInstance.address.fget
    layer.aws_cluster_endpoint = original_cluster_endpoint  # the names a certificate covers
    layer.aws_reader_endpoint = original_reader_endpoint

    def cluster_endpoint(self):
        return layer.rt.endpoint_host or original_cluster_endpoint(self)

    def reader_endpoint(self):
        return layer.rt.endpoint_host or original_reader_endpoint(self)

    def address(self):
        if isinstance(self, DBInstanceClustered):
            return layer.rt.endpoint_host or original_address(self)
        return original_address(self)

    DBCluster.endpoint = property(cluster_endpoint)
    DBCluster.reader_endpoint = property(reader_endpoint)
    DBInstance.address = property(address)
