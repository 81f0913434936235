"""aurora_db_sql through real ansible-playbook, against a real PostgreSQL and the Secrets Manager emulator: post-restore
SQL once per marker, smoke checks as the master or as a user aurora_db_users made, failures in one line."""
import pytest

# The Aurora-like database (test_aurora_db_users.Cluster) and its secrets, as fixtures.
from test_aurora_db_users import cluster  # noqa: F401  pylint: disable=unused-import
from test_aurora_db_users import aws  # noqa: F401  pylint: disable=unused-import
from test_aurora_db_users import pg  # noqa: F401  pylint: disable=unused-import


def sql_task(cluster, name="sql", **args):
    base = {"login_host": cluster.server.host, "login_port": cluster.server.port, "database": "app",
            "master_secret_id": cluster.name("master"), "connect_retries": 0}
    base.update(args)
    return {"name": name, "dbops.aurora_restore.aurora_db_sql": base}


def test_masking_once_per_marker_then_smoke_checks_as_a_managed_user(cluster, tmp_path):
    users = cluster.put("users", {"app_username": "app_user", "app_password": "app-pw-1"})
    create_users = {"name": "users", "dbops.aurora_restore.aurora_db_users": {
        "login_host": cluster.server.host, "login_port": cluster.server.port, "database": "app",
        "master_secret_id": cluster.name("master"), "users_secret_id": users, "connect_retries": 0}}
    sql = sql_task(cluster, users_secret_id=users, restore_marker="op-1",
                   post_restore_sql=["UPDATE public.customers SET email = 'user' || id || '@example.invalid', visits = visits + 1"],
                   smoke_checks=[{"name": "masked", "query": "SELECT count(*) FROM customers WHERE email NOT LIKE '%@example.invalid'",
                                  "expect_value": 0},
                                 {"name": "app can read", "query": "SELECT 1 FROM customers", "run_as": "app_user"}])

    planned = cluster.run(tmp_path, tasks=[create_users, sql], check=True)
    assert planned.rc == 0, planned.output
    assert planned.result("sql")["post_restore_sql"]["status"] == "would_apply" and planned.result("sql")["changed"] is True
    assert planned.result("sql")["smoke_checks"] == []
    assert cluster.admin("SELECT visits FROM customers ORDER BY id") == [(0,), (0,)]

    first = cluster.run(tmp_path, tasks=[create_users, sql])
    assert first.rc == 0, first.output
    result = first.result("sql")
    assert result["changed"] is True and result["post_restore_sql"]["status"] == "applied"
    assert result["statements"][0].startswith("-- post-restore SQL inline[0] (sha256 ")
    assert [check["passed"] for check in result["smoke_checks"]] == [True, True] and result["master_user"] == "master"
    assert cluster.admin("SELECT visits, email FROM customers ORDER BY id") == [(1, "user1@example.invalid"), (1, "user2@example.invalid")]

    again = cluster.run(tmp_path, tasks=[sql])
    assert again.rc == 0 and again.result("sql")["changed"] is False
    assert again.result("sql")["post_restore_sql"]["status"] == "skipped"
    assert [(entry["name"], entry["status"]) for entry in again.result("sql")["post_restore_sql"]["entries"]] == [("inline[0]", "skipped")]
    assert cluster.admin("SELECT visits FROM customers ORDER BY id") == [(1,), (1,)]


def test_a_failing_smoke_check_keeps_the_applied_sql_and_names_itself(cluster, tmp_path):
    task = sql_task(cluster, restore_marker="op-1", post_restore_sql=["UPDATE public.customers SET visits = 5"],
                    smoke_checks=[{"name": "three customers", "query": "SELECT count(*) FROM customers", "expect_value": 3}])
    run = cluster.run(tmp_path, tasks=[task])
    assert run.rc != 0
    result = run.result("sql")
    assert result["msg"] == "smoke check 'three customers' failed: expected value '3', got '2'"
    assert result["changed"] is True and result["post_restore_sql"]["status"] == "applied"
    assert result["smoke_checks"][0]["passed"] is False
    assert cluster.admin("SELECT visits FROM customers ORDER BY id") == [(5,), (5,)]


@pytest.mark.parametrize("args, message", [
    ({"post_restore_sql": ["SELECT 1"]},
     "restore_marker is required with post_restore_sql or post_restore_sql_files (it makes them run once per restore)"),
    ({"smoke_checks": [{"name": "both", "query": "SELECT 1", "expect_rows": True, "expect_value": 1}]},
     "smoke check 'both': set expect_rows or expect_value, not both"),
    ({"smoke_checks": [{"name": "as whom", "query": "SELECT 1", "run_as": "nobody"}]},
     "smoke check 'as whom': run_as 'nobody' is not a managed user with a password"),
    ({"restore_marker": "m", "post_restore_sql_files": ["/nonexistent/mask.sql"]},
     "cannot read post_restore_sql_files item '/nonexistent/mask.sql': No such file or directory"),
    ({"restore_marker": "m", "post_restore_sql": ["UPDATE nope SET x = 1"]},
     "post-restore SQL 'inline[0]' failed (nothing of it was applied): relation \"nope\" does not exist"),
    ({"master_secret_id": None}, "no master credentials: set master_secret_id, or use a combined users secret with master_username and master_password"),
])
def test_bad_inputs_fail_in_one_line_and_change_nothing(cluster, tmp_path, args, message):
    task = sql_task(cluster, **args)
    if task["dbops.aurora_restore.aurora_db_sql"]["master_secret_id"] is None:
        del task["dbops.aurora_restore.aurora_db_sql"]["master_secret_id"]
    run = cluster.run(tmp_path, tasks=[task])
    assert run.rc != 0
    assert run.result("sql")["msg"] == message
    assert cluster.admin("SELECT to_regclass('dbops_aurora_restore.applied_sql')") == [(None,)]
