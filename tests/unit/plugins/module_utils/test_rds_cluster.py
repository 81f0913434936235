"""rds_cluster: identifiers, guards, the plan from each observed state (resume points), observers (no AWS needed)."""
import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils import rds_cluster as rc
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import CREATED_BY_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import CREATED_BY_VALUE
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import OPERATION_ID_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SOURCE_SNAPSHOT_KEY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import TARGET_KEY

ACCOUNT = "123456789012"
SNAP = "arn:aws:rds:us-east-1:%s:cluster-snapshot:refresh" % ACCOUNT
OTHER_SNAP = "arn:aws:rds:us-east-1:%s:cluster-snapshot:older" % ACCOUNT


def ctx(**overrides):
    base = {
        "target": "staging", "temp_id": "staging-restoring", "retired_id": "staging-retired", "strategy": "replace",
        "region": "us-east-1", "snapshot": {"DBClusterSnapshotArn": SNAP, "DBClusterSnapshotIdentifier": "refresh",
                                            "DBClusterIdentifier": "production", "Engine": "aurora-postgresql"},
        "instance_specs": rc.instance_specs({"count": 2, "instance_class": "db.r6g.large"}, "staging"),
        "master_secret_id": "staging/master", "secret_version": "v1", "final_snapshot_identifier": None,
        "allow_disable_deletion_protection": False, "source_cluster_identifier": None, "expected_account_id": None,
        "operation_id": "op-1", "restore_options": {"tags": {"env": "staging"}},
    }
    base.update(overrides)
    return base


def entry(ident, tags=None, status="available", instances=("1", "2"), dp=False, instance_status="available", region="us-east-1"):
    names = ["%s-i%s" % (ident, n) for n in instances]
    cluster = {"DBClusterIdentifier": ident, "Status": status, "DeletionProtection": dp,
               "DBClusterArn": "arn:aws:rds:%s:%s:cluster:%s" % (region, ACCOUNT, ident),
               "TagList": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
               "DBClusterMembers": [{"DBInstanceIdentifier": n, "IsClusterWriter": i == 0} for i, n in enumerate(names)]}
    dbs = [{"DBInstanceIdentifier": n, "DBInstanceStatus": instance_status, "PromotionTier": i} for i, n in enumerate(names)]
    return {"cluster": cluster, "instances": dbs}


def ours(snapshot=SNAP, ready=True, version="v1", target="staging", **extra):
    tags = {CREATED_BY_KEY: CREATED_BY_VALUE, SOURCE_SNAPSHOT_KEY: snapshot, TARGET_KEY: target}
    if ready:
        tags[rc.READY_KEY] = "true"
        tags[rc.SECRET_VERSION_KEY] = version
    tags.update(extra)
    return tags


def actions(steps):
    return [(s["action"], s["cluster"]) for s in steps]


# ----------------------------------------------------------------------------------------- identifiers
@pytest.mark.parametrize("value", ["staging", "a", "Staging-2", "a" * 63])
def test_valid_identifiers(value):
    assert rc.validate_identifier(value, "x") == value.lower()


@pytest.mark.parametrize("value", ["", "1abc", "a--b", "abc-", "a_b", "a" * 64, None])
def test_invalid_identifiers(value):
    with pytest.raises(rc.RestoreError, match="is not a valid RDS identifier"):
        rc.validate_identifier(value, "cluster_identifier")


def test_parse_cluster_arn():
    assert rc.parse_cluster_arn("arn:aws:rds:eu-west-1:111122223333:cluster:x") == ("eu-west-1", "111122223333", "x")
    assert rc.parse_cluster_arn("staging") is None


def test_free_instance_names_skip_taken():
    taken = {"staging-1", "staging-3"}
    assert rc.free_instance_names("staging", 3, taken) == ["staging-2", "staging-4", "staging-5"]


def test_instance_specs_writer_first():
    specs = rc.instance_specs({"count": 3, "instance_class": "db.serverless", "promotion_tiers": [0, 2],
                               "availability_zones": ["a", "b"]}, "t")
    assert [s["promotion_tier"] for s in specs] == [0, 2, 2]
    assert [s["availability_zone"] for s in specs] == ["a", "b", "a"]


# ----------------------------------------------------------------------------------------- guards
@pytest.mark.parametrize("target, overrides, message", [
    (entry("staging", tags={"dbops:aurora_restore:protected": "yes"}), {},
     "refusing to replace cluster 'staging': it carries the protection tag dbops:aurora_restore:protected=yes; remove the tag to allow it"),
    (entry("staging", dp=True), {},
     "refusing to replace cluster 'staging': deletion protection is enabled; set allow_disable_deletion_protection=true "
     "to turn it off as part of the restore"),
    (entry("production"), {"target": "production"},
     "refusing to replace cluster 'production': it is the source cluster of snapshot 'refresh'"),
    (entry("staging"), {"source_cluster_identifier": "Staging"},
     "refusing to replace cluster 'staging': it is the source cluster (source_cluster_identifier)"),
    (entry("staging"), {"expected_account_id": "111122223333"},
     "refusing to replace cluster 'staging': it is in account '123456789012', not expected_account_id '111122223333'"),
    (entry("staging", region="eu-west-1"), {},
     "refusing to replace cluster 'staging': it is in region 'eu-west-1', not the configured region 'us-east-1'"),
])
def test_guards_refuse_before_any_step(target, overrides, message):
    context = ctx(**overrides)
    ident = target["cluster"]["DBClusterIdentifier"]
    with pytest.raises(rc.GuardRefused) as refused:
        rc.plan(context, {ident: target}, set())
    assert str(refused.value) == message


def test_protection_tag_false_is_not_protection():
    steps = rc.plan(ctx(), {"staging": entry("staging", tags={"dbops:aurora_restore:protected": "false"})}, set())
    assert actions(steps)[0] == ("delete_instances", "staging")


def test_deletion_protection_allowed_is_turned_off_first():
    steps = rc.plan(ctx(allow_disable_deletion_protection=True), {"staging": entry("staging", dp=True)}, set())
    assert actions(steps)[:3] == [("disable_deletion_protection", "staging"), ("delete_instances", "staging"), ("delete_cluster", "staging")]


def test_swap_guards_the_target_and_foreign_temp_and_retired():
    with pytest.raises(rc.GuardRefused, match="refusing to swap cluster 'staging': deletion protection"):
        rc.plan(ctx(strategy="swap"), {"staging": entry("staging", dp=True)}, set())
    with pytest.raises(rc.GuardRefused, match="temporary identifier 'staging-restoring' is taken by a cluster this module did not create"):
        rc.plan(ctx(strategy="swap"), {"staging": entry("staging"), "staging-restoring": entry("staging-restoring")}, set())
    with pytest.raises(rc.GuardRefused, match="retired identifier 'staging-retired' is taken by a cluster this module did not retire"):
        rc.plan(ctx(strategy="swap"), {"staging": entry("staging"), "staging-retired": entry("staging-retired")}, set())


# ----------------------------------------------------------------------------------------- replace plans
def test_replace_fresh_target():
    steps = rc.plan(ctx(), {"staging": None}, set())
    assert [s["action"] for s in steps] == ["restore_cluster", "wait_cluster_available", "create_instances", "wait_instances_available",
                                            "reset_master_password", "mark_ready"]
    assert [i["identifier"] for i in steps[2]["instances"]] == ["staging-1", "staging-2"]
    assert rc.plan_changes(steps)


def test_replace_existing_target_readers_then_writer_with_final_snapshot():
    steps = rc.plan(ctx(final_snapshot_identifier="staging-final"), {"staging": entry("staging", instances=("1", "2", "3"))},
                    {"staging-i1", "staging-i2", "staging-i3", "staging-1"})
    assert steps[0]["instances"] == ["staging-i3", "staging-i2", "staging-i1"]
    assert steps[1] == {"action": "delete_cluster", "phase": "delete_target", "cluster": "staging", "final_snapshot_identifier": "staging-final"}
    assert steps[4]["action"] == "create_instances"
    assert [i["identifier"] for i in steps[4]["instances"]] == ["staging-2", "staging-3"]


def test_replace_done_is_empty_plan():
    assert rc.plan(ctx(), {"staging": entry("staging", tags=ours())}, set()) == []


def test_force_restores_a_current_target_again_but_a_resume_of_the_same_operation_carries_on():
    # Restored from this snapshot by an earlier operation: force replaces it (a dev database reset to the snapshot).
    earlier = {"staging": entry("staging", tags=ours(**{OPERATION_ID_KEY: "op-0"}))}
    steps = rc.plan(ctx(force=True), earlier, set())
    assert [s["action"] for s in steps][:3] == ["delete_instances", "delete_cluster", "restore_cluster"]
    assert rc.plan(ctx(), earlier, set()) == []  # without force it is current
    # Made ready by this operation (op-1): a resume after a timeout has nothing left to do.
    assert rc.plan(ctx(force=True), {"staging": entry("staging", tags=ours(**{OPERATION_ID_KEY: "op-1"}))}, set()) == []
    # A swap with force: the current target is swapped out for a new restore, behind the temporary name.
    swap = rc.plan(ctx(force=True, strategy="swap", cutover=False),
                   dict(earlier, **{"staging-restoring": None, "staging-retired": None}), set())
    assert actions(swap)[0] == ("restore_cluster", "staging-restoring")


def test_new_secret_version_resets_password_again():
    steps = rc.plan(ctx(secret_version="v2"), {"staging": entry("staging", tags=ours())}, set())
    assert [s["action"] for s in steps] == ["reset_master_password", "mark_ready"]


@pytest.mark.parametrize("state, expected", [
    # half-deleted target: instances going, then the cluster
    ({"staging": entry("staging", instance_status="deleting")}, ["wait_instances_gone", "delete_cluster", "restore_cluster"]),
    ({"staging": entry("staging", status="deleting", instances=())}, ["wait_cluster_gone", "restore_cluster"]),
    # restored, still creating
    ({"staging": entry("staging", tags=ours(ready=False), status="creating", instances=())},
     ["wait_cluster_available", "create_instances", "wait_instances_available", "reset_master_password", "mark_ready"]),
    # instance missing
    ({"staging": entry("staging", tags=ours(ready=False), instances=("1",))},
     ["create_instances", "wait_instances_available", "reset_master_password", "mark_ready"]),
    # reset accepted by an earlier run
    ({"staging": entry("staging", tags=ours(ready=False, **{rc.SECRET_APPLYING_KEY: "v1"}))}, ["wait_master_password", "mark_ready"]),
])
def test_replace_resume_points(state, expected):
    assert [s["action"] for s in rc.plan(ctx(), state, set())][:len(expected)] == expected


def test_replace_instance_missing_gets_one_more():
    steps = rc.plan(ctx(), {"staging": entry("staging", tags=ours(), instances=("1",))}, {"staging-i1", "staging-1"})
    assert steps[0]["instances"] == [{"identifier": "staging-2", "instance_class": "db.r6g.large", "promotion_tier": 1, "availability_zone": None}]


# ----------------------------------------------------------------------------------------- swap plans
def test_swap_full_plan():
    state = {"staging": entry("staging"), "staging-restoring": None, "staging-retired": None}
    steps = rc.plan(ctx(strategy="swap", final_snapshot_identifier="f"), state, set())
    assert actions(steps) == [
        ("restore_cluster", "staging-restoring"), ("wait_cluster_available", "staging-restoring"),
        ("create_instances", "staging-restoring"), ("wait_instances_available", "staging-restoring"),
        ("reset_master_password", "staging-restoring"), ("mark_ready", "staging-restoring"),
        ("tag_retired", "staging"), ("rename", "staging"), ("rename", "staging-restoring"),
        ("refresh_certificate", "staging"), ("delete_instances", "staging-retired"), ("delete_cluster", "staging-retired")]
    assert steps[7]["new_identifier"] == "staging-retired" and steps[7]["downtime"] == "start"
    assert steps[8]["new_identifier"] == "staging" and steps[8]["downtime"] is None
    assert steps[9]["downtime"] == "end"  # the downtime lasts until the restart that renews the certificate
    assert steps[-1]["final_snapshot_identifier"] == "f"


def test_swap_without_certificate_refresh_ends_downtime_at_the_rename():
    state = {"staging": entry("staging"), "staging-restoring": None, "staging-retired": None}
    steps = rc.plan(ctx(strategy="swap", refresh_certificate=False), state, set())
    assert "refresh_certificate" not in [s["action"] for s in steps]
    assert [s["downtime"] for s in steps if s["action"] == "rename"] == ["start", "end"]


def test_swap_resumed_after_the_renames_still_renews_the_certificate():
    target = entry("staging", tags=ours(**{rc.CERTIFICATE_KEY: "staging-restoring"}))
    steps = rc.plan(ctx(strategy="swap"), {"staging": target, "staging-restoring": None, "staging-retired": None}, set())
    assert actions(steps) == [("refresh_certificate", "staging")]
    renewed = entry("staging", tags=ours(**{rc.CERTIFICATE_KEY: "staging"}))
    assert rc.plan(ctx(strategy="swap"), {"staging": renewed, "staging-restoring": None, "staging-retired": None}, set()) == []


@pytest.mark.parametrize("status, first", [("stopped", ["start_cluster"]), ("stopping", ["start_cluster"])])
def test_a_stopped_target_is_started_before_it_is_replaced(status, first):
    target = entry("staging", status=status, instance_status="stopped")
    steps = rc.plan(ctx(), {"staging": target}, set())
    assert [s["action"] for s in steps][:3] == first + ["delete_instances", "delete_cluster"]


def test_a_stopped_target_is_started_before_the_swap_renames_it():
    state = {"staging": entry("staging", status="stopped", instance_status="stopped"), "staging-restoring": None,
             "staging-retired": None}
    steps = [s["action"] for s in rc.plan(ctx(strategy="swap"), state, set())]
    assert steps.index("start_cluster") < steps.index("tag_retired") < steps.index("rename")


def test_a_ready_target_someone_stopped_stays_stopped():
    target = entry("staging", status="stopped", tags=ours(**{rc.CERTIFICATE_KEY: "staging"}), instance_status="stopped")
    assert rc.plan(ctx(), {"staging": target}, set()) == []


def test_swap_first_restore_only_renames():
    steps = rc.plan(ctx(strategy="swap"), {"staging": None, "staging-restoring": entry("staging-restoring", tags=ours()), "staging-retired": None},
                    set())
    assert actions(steps) == [("rename", "staging-restoring"), ("refresh_certificate", "staging")]


def test_swap_crash_between_renames():
    retired = entry("staging-retired", tags={rc.RETIRED_FROM_KEY: "staging"})
    steps = rc.plan(ctx(strategy="swap"), {"staging": None, "staging-restoring": entry("staging-restoring", tags=ours()),
                                           "staging-retired": retired}, set())
    assert actions(steps) == [("rename", "staging-restoring"), ("refresh_certificate", "staging"),
                              ("delete_instances", "staging-retired"), ("delete_cluster", "staging-retired")]


def test_swap_retired_left_is_deleted():
    retired = entry("staging-retired", tags={rc.RETIRED_FROM_KEY: "staging"}, dp=True)
    state = {"staging": entry("staging", tags=ours()), "staging-restoring": None, "staging-retired": retired}
    with pytest.raises(rc.GuardRefused, match="deletion protection"):
        rc.plan(ctx(strategy="swap"), state, set())
    steps = rc.plan(ctx(strategy="swap", allow_disable_deletion_protection=True), state, set())
    assert [s["action"] for s in steps] == ["disable_deletion_protection", "delete_instances", "delete_cluster"]


def test_swap_stale_temp_from_other_snapshot_is_replaced():
    state = {"staging": entry("staging"), "staging-restoring": entry("staging-restoring", tags=ours(snapshot=OTHER_SNAP, ready=False)),
             "staging-retired": None}
    steps = rc.plan(ctx(strategy="swap"), state, set())
    assert actions(steps)[:3] == [("delete_instances", "staging-restoring"), ("delete_cluster", "staging-restoring"),
                                  ("restore_cluster", "staging-restoring")]
    assert steps[1]["final_snapshot_identifier"] is None


def test_swap_resumes_temp_with_missing_instance():
    state = {"staging": entry("staging"), "staging-restoring": entry("staging-restoring", tags=ours(ready=False), instances=("1",)),
             "staging-retired": None}
    steps = rc.plan(ctx(strategy="swap"), state, {"staging-1"})
    assert actions(steps)[0] == ("create_instances", "staging-restoring")
    assert "restore_cluster" not in [s["action"] for s in steps]


def test_swap_done_is_empty_plan():
    assert rc.plan(ctx(strategy="swap"), {"staging": entry("staging", tags=ours()), "staging-restoring": None, "staging-retired": None}, set()) == []


# ----------------------------------------------------------------------------------------- requests and observers
def test_restore_request_has_markers_and_options():
    context = ctx(restore_options={"tags": {"env": "staging"}, "port": 5433, "vpc_security_group_ids": ["sg-1"], "kms_key_id": None,
                                   "serverless_v2_scaling": {"min_capacity": 0.5, "max_capacity": 4}, "deletion_protection": True,
                                   "enable_cloudwatch_logs_exports": []})
    request = rc.restore_request(context, "staging-restoring")
    tags = {t["Key"]: t["Value"] for t in request["Tags"]}
    assert tags[SOURCE_SNAPSHOT_KEY] == SNAP and tags[TARGET_KEY] == "staging" and tags["env"] == "staging"
    assert request["Port"] == 5433 and request["VpcSecurityGroupIds"] == ["sg-1"] and request["DeletionProtection"] is True
    assert request["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    assert "KmsKeyId" not in request and "EnableCloudwatchLogsExports" not in request


class FakeRds:
    def __init__(self, clusters):
        self.clusters = list(clusters)

    def describe_db_clusters(self, aws_retry=True, DBClusterIdentifier=None):
        current = self.clusters.pop(0) if len(self.clusters) > 1 else self.clusters[0]
        return {"DBClusters": [current] if current else []}


def test_password_observer_needs_the_reset_seen_or_grace():
    observe = rc.observe_password_reset(FakeRds([{"Status": "available"}]), "x", started=100.0, saw_reset=[False], clock=lambda: 101.0)
    assert observe().done is False
    observe = rc.observe_password_reset(FakeRds([{"Status": "resetting-master-credentials"}, {"Status": "available"}]), "x",
                                        started=100.0, saw_reset=[False], clock=lambda: 101.0)
    assert observe().done is False and observe().done is True
    pending = {"Status": "available", "PendingModifiedValues": {"MasterUserPassword": "****"}}
    assert rc.observe_password_reset(FakeRds([pending]), "x", 0.0, [True], clock=lambda: 100.0)().done is False


def test_cluster_observer_failed_status():
    observation = rc.observe_cluster_available(FakeRds([{"Status": "incompatible-restore"}]), "x")()
    assert observation.failed is True


def test_runner_timeout_message():
    clock = iter(range(0, 1000, 1))
    runner = rc.Runner(FakeRds([{"Status": "creating"}]), ctx(), wait_timeout=3, min_interval=1, max_interval=1,
                       clock=lambda: float(next(clock)), sleep=lambda s: None)
    with pytest.raises(rc.RestoreError) as error:
        runner.run([{"action": "wait_cluster_available", "phase": "restore", "cluster": "staging"}])
    assert str(error.value).startswith("timed out after ")
    assert "waiting for cluster 'staging' to become available (last status 'creating')" in str(error.value)
    assert str(error.value).endswith("(wait_timeout=3s for the whole run); run again to resume from here")
    assert runner.current["phase"] == "restore"


def test_swap_without_cutover_stops_before_the_renames():
    state = {"staging": entry("staging"), "staging-restoring": None, "staging-retired": None}
    steps = rc.plan(ctx(strategy="swap", cutover=False), state, set())
    assert actions(steps)[-1] == ("mark_ready", "staging-restoring")
    assert "rename" not in [s["action"] for s in steps]
    ready = {"staging": entry("staging"), "staging-restoring": entry("staging-restoring", tags=ours()), "staging-retired": None}
    assert rc.plan(ctx(strategy="swap", cutover=False), ready, set()) == []
    first = {"staging": None, "staging-restoring": entry("staging-restoring", tags=ours()), "staging-retired": None}
    assert rc.plan(ctx(strategy="swap", cutover=False), first, set()) == []


def test_swap_without_cutover_still_finishes_renames_a_crash_left_half_done():
    retired = entry("staging-retired", tags={rc.RETIRED_FROM_KEY: "staging"})
    state = {"staging": None, "staging-restoring": entry("staging-restoring", tags=ours()), "staging-retired": retired}
    steps = rc.plan(ctx(strategy="swap", cutover=False), state, set())
    assert actions(steps)[0] == ("rename", "staging-restoring")


def test_the_taken_instance_names_are_listed_only_when_the_plan_names_instances():
    listed = []

    def taken():
        listed.append(True)
        return {"staging-1"}

    # Every instance exists and is creating: the plan waits, names nothing, and the account's instances are not listed.
    waiting = {"staging": entry("staging", tags=ours(ready=False), instances=("1", "2"), instance_status="creating")}
    steps = rc.plan(ctx(), waiting, taken)
    assert "create_instances" not in [step["action"] for step in steps] and listed == []
    # A fresh restore names its instances: then they are listed, once.
    steps = rc.plan(ctx(), {}, taken)
    assert listed == [True]
    created = [step for step in steps if step["action"] == "create_instances"][0]
    assert [spec["identifier"] for spec in created["instances"]] == ["staging-2", "staging-3"]


class AnsweringRds(FakeRds):
    """Answers a restore with the cluster `creating` and counts describe calls (available from the first)."""

    def __init__(self):
        super().__init__([{"Status": "available", "DBClusterIdentifier": "staging"}])
        self.describes = 0

    def describe_db_clusters(self, aws_retry=True, DBClusterIdentifier=None):
        self.describes += 1
        return super().describe_db_clusters(DBClusterIdentifier=DBClusterIdentifier)

    def restore_db_cluster_from_snapshot(self, aws_retry=True, **request):
        return {"DBCluster": {"DBClusterIdentifier": request["DBClusterIdentifier"], "Status": "creating"}}


def test_the_wait_after_a_restore_looks_first_at_the_cluster_aws_answered():
    client, sleeps = AnsweringRds(), []
    runner = rc.Runner(client, ctx(), wait_timeout=60, min_interval=1, max_interval=1, clock=lambda: float(len(sleeps)),
                       sleep=sleeps.append)
    runner.run([{"action": "restore_cluster", "phase": "restore", "cluster": "staging", "snapshot": SNAP},
                {"action": "wait_cluster_available", "phase": "restore", "cluster": "staging"}])
    # The first look (creating, from the restore's answer) cost no call; the second described it available.
    assert runner.waits[-1]["polls"] == 2 and client.describes == 1 and len(sleeps) == 1
    # Only the step right after: a later wait describes.
    runner.run([{"action": "wait_cluster_available", "phase": "restore", "cluster": "staging"}])
    assert client.describes == 2


class DeletingRds(AnsweringRds):
    """Instances that are gone once deleted; counts describe calls of both kinds."""

    def __init__(self):
        super().__init__()
        self.deleted, self.instance_describes = [], 0

    def delete_db_instance(self, aws_retry=True, **request):
        self.deleted.append(request["DBInstanceIdentifier"])
        return {"DBInstance": {"DBInstanceIdentifier": request["DBInstanceIdentifier"], "DBInstanceStatus": "deleting"}}

    def describe_db_instances(self, aws_retry=True, DBInstanceIdentifier=None):
        from botocore.exceptions import ClientError
        self.instance_describes += 1
        raise ClientError({"Error": {"Code": "DBInstanceNotFound", "Message": "gone"}}, "DescribeDBInstances")


def test_the_first_step_deletes_the_instances_the_plan_described_without_describing_them_again():
    seen = entry("staging")
    client, sleeps = DeletingRds(), []
    runner = rc.Runner(client, ctx(), wait_timeout=60, min_interval=1, max_interval=1, clock=lambda: float(len(sleeps)),
                       sleep=sleeps.append, observed={"staging": seen})
    step = {"action": "delete_instances", "phase": "delete_target", "cluster": "staging", "instances": ["staging-i2", "staging-i1"]}
    runner.run([step])
    # The cluster and its instances come from the plan's look; only the wait for them to be gone describes (once each).
    assert client.deleted == ["staging-i2", "staging-i1"] and client.describes == 0 and client.instance_describes == 2
    # A later step of the run describes them first.
    client.deleted.clear()
    runner.run([step])
    assert client.describes == 1 and client.instance_describes == 4 and client.deleted == []
