"""Fault injection (Throttling, 5xx, dropped connections) and per-action request accounting."""

import json
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from localaws import Emulator
from localaws_helpers import client, error_code, expect_error, scratch_dir  # noqa: F401 (fixture)


def test_throttling_then_success_with_retries_and_counts(aws_env):
    aws_env.set_faults([{"service": "rds", "action": "DescribeDBClusters", "kind": "throttle", "rate": 1.0,
                         "times": 2}])
    expect_error("Throttling", client("rds").describe_db_clusters)
    retrying = client("rds", config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    assert retrying.describe_db_clusters()["DBClusters"] == []  # second throttle absorbed by a retry
    # Other actions were never affected.
    assert client("rds").describe_db_cluster_snapshots()["DBClusterSnapshots"] == []
    counts = aws_env.counts()["services"]["rds"]
    assert counts["DescribeDBClusters"] == 3 and counts["DescribeDBClusterSnapshots"] == 1
    with urllib.request.urlopen(f"{aws_env.endpoint_url}/_localaws/counts") as response:  # plain HTTP too
        assert json.loads(response.read())["services"]["rds"]["DescribeDBClusters"] == 3


def test_server_errors_are_5xx(aws_env):
    aws_env.set_faults([{"service": "kms", "action": "*", "kind": "5xx", "rate": 1.0, "times": 1}])
    with pytest.raises(ClientError) as excinfo:
        client("kms").list_keys()
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error_code(excinfo) == "InternalFailure"
    assert client("kms").list_keys()["Keys"] == []


def test_dropped_connection(aws_env):
    aws_env.set_faults([{"service": "rds", "action": "DescribeDBInstances", "kind": "drop", "rate": 1.0,
                         "times": 1}])
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client("rds").describe_db_instances()
    assert client("rds").describe_db_instances()["DBInstances"] == []


def test_rate_is_deterministic_with_a_seed(aws_env):
    def pattern():
        aws_env.set_faults([{"service": "sts", "action": "GetCallerIdentity", "kind": "throttle", "rate": 0.5}],
                           seed=7)
        sts = client("sts")
        outcome = []
        for _ in range(16):
            try:
                sts.get_caller_identity()
                outcome.append("ok")
            except ClientError as exc:
                outcome.append(exc.response["Error"]["Code"])
        return outcome

    first, second = pattern(), pattern()
    assert first == second and "ok" in first and "Throttling" in first


def test_faults_and_durations_from_env_and_counts_file_at_shutdown(scratch_dir):
    emu = Emulator(state_dir=scratch_dir, env={"LOCALAWS_FAULTS": "rds:DescribeDBClusters:throttle:1:1",
                                         "LOCALAWS_DURATION_COPY": "7.5"})
    with emu:
        rds = emu.client("rds", config=Config(retries={"total_max_attempts": 1}))
        with pytest.raises(ClientError) as excinfo:
            rds.describe_db_clusters()
        assert error_code(excinfo) == "Throttling"
        rds.describe_db_clusters()
        assert emu.durations()["copy"] == 7.5
    counts = json.loads((emu.counts_file).read_text())
    assert counts["services"]["rds"]["DescribeDBClusters"] == 2 and counts["total"] == 2


def test_bad_knobs_are_rejected(aws_env):
    from localaws import EmulatorError

    with pytest.raises(EmulatorError, match="unknown duration"):
        aws_env.set_durations(cpoy=3)
    with pytest.raises(EmulatorError, match="unknown fault kind"):
        aws_env.set_faults([{"kind": "explode"}])
