"""Every status AWS documents for clusters, instances and snapshots has a meaning for a wait; any other stops it."""
import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils import statuses


@pytest.mark.parametrize("kind, status, verdict", [
    ("cluster", "available", "steady"), ("cluster", "stopped", "steady"), ("cluster", "starting", "transitional"),
    ("cluster", "resetting-master-credentials", "transitional"), ("cluster", "storage-optimization", "transitional"),
    ("cluster", "inaccessible-encryption-credentials-recoverable", "failed"), ("cluster", "cloning-failed", "failed"),
    ("instance", "insufficient-capacity", "failed"), ("instance", "restore-error", "failed"),
    ("instance", "delete-precheck", "transitional"), ("instance", "configuring-log-exports", "transitional"),
    ("snapshot", "copying", "transitional"), ("snapshot", "failed", "failed"),
    ("cluster", "exploding", "unknown"), ("instance", "", "unknown"),
])
def test_classification(kind, status, verdict):
    assert statuses.classify(kind, status) == verdict


def test_failures_and_unknown_statuses_say_why_in_one_line():
    message = statuses.problem("instance", "dev-app-1", "insufficient-capacity")
    assert message.startswith("instance 'dev-app-1' is insufficient-capacity: AWS has no capacity")
    assert "does not know" in statuses.problem("cluster", "dev-app", "exploding")
    assert statuses.problem("cluster", "dev-app", "modifying") is None
    assert "\n" not in message


def test_delete_precheck_counts_as_deleting():
    assert "delete-precheck" in statuses.INSTANCE_GONE and "deleting" in statuses.INSTANCE_GONE
