"""The restore role's input rules (plugins/filter/restore_inputs.py): each bad input gives one line naming it."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.dbops.aurora_restore.plugins.filter.restore_inputs import restore_input_problems
from ansible_collections.dbops.aurora_restore.plugins.filter.restore_inputs import restore_time_window_problem

GOOD = dict(restore_snapshot_max_age_hours=0, restore_archive_keep_newest=2, restore_metric_namespace="DBOps/AuroraRestore",
            restore_database="appdb", restore_ssl_mode="prefer", restore_ssl_ca_cert="", restore_post_restore_sql=[],
            restore_smoke_checks=[], restore_master_secret_id="aurora-restore/dev/master-credentials",
            restore_master_password_mode="secret", restore_source_restore_time="")
NO_FALLBACK = {"HOME": "/nonexistent"}


def problems(**changes):
    return restore_input_problems(dict(GOOD, **changes), environ=NO_FALLBACK)


def test_good_inputs_and_their_edges_pass(tmp_path):
    ca = tmp_path / "rds-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert problems() == []
    assert problems(restore_snapshot_max_age_hours=0.5, restore_archive_keep_newest=0, restore_database="d" * 63,
                    restore_metric_namespace="n" * 255, restore_ssl_mode="verify-full", restore_ssl_ca_cert=str(ca)) == []
    # libpq's fallbacks for a CA bundle count.
    assert restore_input_problems(dict(GOOD, restore_ssl_mode="verify-ca"), environ={"PGSSLROOTCERT": str(ca)}) == []
    (tmp_path / ".postgresql").mkdir()
    (tmp_path / ".postgresql" / "root.crt").write_text("x")
    assert restore_input_problems(dict(GOOD, restore_ssl_mode="verify-ca"), environ={"HOME": str(tmp_path)}) == []
    # Managed master passwords: the RDS-managed secret reaches the cluster.
    assert problems(restore_master_secret_id="", restore_master_password_mode="managed", restore_post_restore_sql=["SELECT 1"]) == []


def test_a_ca_file_without_a_certificate_is_refused(tmp_path):
    key = tmp_path / "server.key"
    key.write_text("-----BEGIN EC PRIVATE KEY-----\n")
    found = problems(restore_ssl_mode="verify-full", restore_ssl_ca_cert=str(key))
    assert found == ["restore_ssl_ca_cert %r holds no PEM certificate (-----BEGIN CERTIFICATE-----): it should be the RDS "
                     "CA bundle of the region, not a key or another file" % str(key)]


@pytest.mark.parametrize("changes, line", [
    (dict(restore_snapshot_max_age_hours=-5), "restore_snapshot_max_age_hours is -5: it must be 0 (no limit) or more"),
    (dict(restore_archive_keep_newest=-1), "restore_archive_keep_newest is -1: it must be 0 or more"),
    (dict(restore_metric_namespace="AWS/RDS"),
     "restore_metric_namespace 'AWS/RDS' is reserved: namespaces that begin with AWS/ are AWS's own (CloudWatch)"),
    (dict(restore_metric_namespace=""), "restore_metric_namespace '' must be 1 to 255 characters, not starting with ':'"),
    (dict(restore_metric_namespace=":x"), "restore_metric_namespace ':x' must be 1 to 255 characters, not starting with ':'"),
    (dict(restore_metric_namespace="n" * 256), "must be 1 to 255 characters"),
    (dict(restore_database=""), "restore_database '' is not a PostgreSQL database name (1 to 63 bytes)"),
    (dict(restore_database="é" * 32), "is not a PostgreSQL database name (1 to 63 bytes)"),
    (dict(restore_ssl_ca_cert="/no/such/rds-ca.pem"),
     "restore_ssl_ca_cert '/no/such/rds-ca.pem' is not a file on the controller (where the role's modules run)"),
    (dict(restore_ssl_mode="verify-full"),
     "restore_ssl_mode verify-full verifies the server's certificate, so it needs restore_ssl_ca_cert (the RDS CA bundle "
     "of the region; neither PGSSLROOTCERT nor ~/.postgresql/root.crt is a file)"),
    (dict(restore_master_secret_id="", restore_post_restore_sql=["UPDATE customers SET email = 'x'"]),
     "restore_post_restore_sql is set but no master secret reaches the restored cluster (restore_master_secret_id is "
     "empty): the SQL, masking included, would never run"),
    (dict(restore_master_secret_id="", restore_smoke_checks=[{"name": "rows", "query": "SELECT 1"}]),
     "restore_smoke_checks is set but no master secret reaches the restored cluster"),
    (dict(restore_post_restore_sql=["SELECT 1", "  "]), "restore_post_restore_sql item 1 is empty"),
    (dict(restore_smoke_checks=[{"name": "rows", "query": "SELECT 1", "expect_rows": True, "expect_value": 1}]),
     "restore_smoke_checks item 'rows': set expect_rows or expect_value, not both"),
    (dict(restore_source_restore_time="yesterday"),
     "restore_source_restore_time 'yesterday' is not an ISO-8601 time with a time zone (for example 2026-12-01T23:00:00Z)"),
    (dict(restore_source_restore_time="2026-12-01T23:00:00"), "restore_source_restore_time '2026-12-01T23:00:00' is not an ISO-8601"),
])
def test_each_bad_input_gives_one_line_naming_it(changes, line):
    found = problems(**changes)
    assert len(found) == 1 and line in found[0], found


def test_several_bad_inputs_are_all_named():
    found = problems(restore_snapshot_max_age_hours=-1, restore_archive_keep_newest=-1, restore_metric_namespace="AWS/X")
    assert [line.split(" ", 1)[0] for line in found] == [
        "restore_snapshot_max_age_hours", "restore_archive_keep_newest", "restore_metric_namespace"]


def test_a_missing_input_is_a_usage_error():
    with pytest.raises(AnsibleFilterError, match="restore_input_problems expects a dict with"):
        restore_input_problems({"restore_database": "appdb"})


# DescribeDBClusters' window as amazon.aws.rds_cluster_info returns it (snake_case, ISO strings with an offset).
WINDOW = {"db_cluster_identifier": "prod-west", "earliest_restorable_time": "2026-12-01T00:00:00.000000+00:00",
          "latest_restorable_time": "2026-12-07T06:55:00.250000+00:00"}


@pytest.mark.parametrize("moment", ["2026-12-01T00:00:00Z", "2026-12-07T06:55:00.25Z", "2026-12-07T08:55:00+02:00",
                                    "2026-12-03T12:00:00.123456Z"])
def test_a_time_within_the_restorable_window_passes(moment):
    assert restore_time_window_problem(moment, WINDOW) == ""


@pytest.mark.parametrize("moment", ["2026-11-30T23:59:59Z", "2026-12-07T06:55:01Z", "2026-12-07T07:55:01+01:00"])
def test_a_time_outside_the_restorable_window_names_both(moment):
    assert restore_time_window_problem(moment, WINDOW) == (
        "restore_source_restore_time %s is outside the restorable window of prod-west, 2026-12-01T00:00:00+00:00 to "
        "2026-12-07T06:55:00.250000+00:00" % moment)


def test_a_window_without_a_bound_checks_the_other_and_a_bad_time_is_a_usage_error():
    assert restore_time_window_problem("2000-01-01T00:00:00Z", {"latest_restorable_time": WINDOW["latest_restorable_time"]}) == ""
    assert "outside" in restore_time_window_problem("2099-01-01T00:00:00Z", {"latest_restorable_time": WINDOW["latest_restorable_time"]})
    with pytest.raises(AnsibleFilterError, match="is not an ISO-8601 time"):
        restore_time_window_problem("soon", WINDOW)
