"""rds_api.call: one rule for AWS errors (not found is None, the rest one line with the botocore error kept)."""
import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import EndpointConnectionError

from ansible_collections.dbops.aurora_restore.plugins.module_utils import rds_api
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreError


def failing(code, message="first line\nsecond line"):
    def call(aws_retry=True, **kwargs):
        raise ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"RequestId": "r-1"}}, "DescribeDBClusters")
    return call


def test_not_found_codes_are_none_and_others_one_line_with_the_error_kept():
    assert rds_api.call("describing cluster 'x'", failing("DBClusterNotFoundFault"), rds_api.CLUSTER_NOT_FOUND) is None
    with pytest.raises(RestoreError) as refused:
        rds_api.call("describing cluster 'x'", failing("AccessDenied"), rds_api.CLUSTER_NOT_FOUND)
    assert str(refused.value) == "describing cluster 'x' failed: AccessDenied: first line"
    assert refused.value.aws_error.response["ResponseMetadata"]["RequestId"] == "r-1"


def test_not_found_is_an_error_unless_asked_for():
    with pytest.raises(RestoreError, match="deleting cluster 'x' failed: DBClusterNotFoundFault"):
        rds_api.aws_call("deleting cluster 'x'", failing("DBClusterNotFoundFault"))


def test_connection_errors_are_one_line_and_other_exceptions_pass():
    def unreachable(aws_retry=True, **kwargs):
        raise EndpointConnectionError(endpoint_url="https://rds.example")

    with pytest.raises(RestoreError, match="^listing failed: EndpointConnectionError: Could not connect"):
        rds_api.call("listing", unreachable)

    def bug(aws_retry=True, **kwargs):
        raise KeyError("x")

    with pytest.raises(KeyError):
        rds_api.call("listing", bug)


def test_describes_return_none_when_gone():
    class Gone:
        describe_db_clusters = staticmethod(failing("DBClusterNotFoundFault"))
        describe_db_instances = staticmethod(failing("DBInstanceNotFound"))
        describe_db_cluster_snapshots = staticmethod(failing("DBClusterSnapshotNotFoundFault"))

    assert rds_api.describe_cluster(Gone, "x") is None
    assert rds_api.describe_instance(Gone, "x-1") is None
    assert rds_api.snapshot_exists(Gone, "snap") is False
    with pytest.raises(RestoreError, match="^snapshot_identifier 'snap': no such cluster snapshot"):
        rds_api.describe_snapshot(Gone, "snap")


class CountingClient:
    """describe_db_clusters answering `status`, counting its calls."""

    def __init__(self, status):
        self.status = status
        self.calls = 0

    def describe_db_clusters(self, aws_retry=True, **kwargs):
        self.calls += 1
        return {"DBClusters": [{"DBClusterIdentifier": kwargs["DBClusterIdentifier"], "Status": self.status}]}


def test_a_wait_looks_first_at_the_cluster_in_hand_then_describes():
    client = CountingClient("available")
    observe = rds_api.observe_cluster_available(client, "c", described={"cluster": {"Status": "creating"}, "instances": []})
    assert observe().status == "creating" and client.calls == 0
    assert observe().done and client.calls == 1
    # Nothing in hand (the cluster did not exist when the plan looked): every look describes.
    observe = rds_api.observe_cluster_gone(client, "c")
    assert observe().status == "available" and client.calls == 2


class InstancesClient(CountingClient):
    """A cluster whose instances become available one describe call at a time, counting both describes."""

    def __init__(self, statuses):
        super().__init__("available")
        self.statuses = list(statuses)
        self.instance_calls = 0

    def describe_db_clusters(self, aws_retry=True, **kwargs):
        found = super().describe_db_clusters(**kwargs)
        found["DBClusters"][0]["DBClusterMembers"] = [{"DBInstanceIdentifier": "c-1", "IsClusterWriter": True}]
        return found

    def get_paginator(self, name):
        client = self

        class Pages:
            def paginate(self, **kwargs):
                return self

            def build_full_result(self):
                client.instance_calls += 1
                status = client.statuses.pop(0) if len(client.statuses) > 1 else client.statuses[0]
                return {"DBInstances": [] if status is None else [
                    {"DBInstanceIdentifier": "c-1", "DBClusterIdentifier": "c", "DBInstanceStatus": status}]}
        assert name == "describe_db_instances"
        return Pages()


def test_an_instance_wait_describes_the_cluster_only_once_its_instances_could_be_done():
    client = InstancesClient(["creating", "creating", "available"])
    observe = rds_api.observe_instances(client, "c", 1)
    assert observe().status == "0/1 available (creating)" and (client.instance_calls, client.calls) == (1, 0)
    assert not observe().done and (client.instance_calls, client.calls) == (2, 0)
    assert observe().done and (client.instance_calls, client.calls) == (3, 1)
    # No instance left (deleted, say): the cluster is described, to see it is still there.
    client = InstancesClient([None])
    assert not rds_api.observe_instances(client, "c", 1)().done and client.calls == 1
    # The cluster in hand serves the first look only, even when that look did not need it.
    client = InstancesClient(["creating", "available"])
    observe = rds_api.observe_instances(client, "c", 1, described={"cluster": {"Status": "available", "DBClusterMembers": []}})
    assert not observe().done and observe().done and client.calls == 1
