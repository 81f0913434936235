"""aurora_db_users module: argument validation, error text sanitising, smoke-check evaluation (no server needed)."""
import json

import psycopg2
import pytest
from ansible_collections.dbops.aurora_restore.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dbops.aurora_restore.plugins.modules import aurora_db_users as mod


class Exit(Exception):
    pass


def run_main(args, capsys):
    base = {"login_host": "127.0.0.1", "region": "us-east-1"}
    base.update(args)
    with patch_module_args(base):
        with pytest.raises(SystemExit):
            mod.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args, message", [
    ({"post_restore_sql": ["SELECT 1"]}, "restore_marker is required with post_restore_sql or post_restore_sql_files"),
    ({"exclusive": True}, "exclusive=true needs a desired set of users (users_secret_id or users); refusing to drop every user"),
    ({"schemas": []}, "schemas must name at least one schema"),
    ({"smoke_checks": [{"name": "x", "query": "SELECT 1", "expect_rows": True, "expect_value": 1}]},
     "smoke check 'x': set expect_rows or expect_value, not both"),
    ({"users": [{"name": "a", "profile": "admin"}]}, "value of profile must be one of: app, readonly, devops, custom"),
])
def test_argument_errors(args, message, capsys):
    result = run_main(args, capsys)
    assert result["failed"] is True
    assert message in result["msg"]


def test_no_master_credentials(capsys):
    result = run_main({"users": [{"name": "a"}]}, capsys)
    assert result["msg"] == "no master credentials: set master_secret_id, or use a combined users secret with master_username and master_password"


class FakeError(psycopg2.Error):
    pass


def test_pg_error_text_uses_primary_message_only():
    error = FakeError("ERROR:  syntax error at or near \"x\"\nLINE 1: ALTER ROLE a PASSWORD 'leak'\n")
    assert mod.pg_error_text(error) == 'syntax error at or near "x"'


def test_as_text():
    assert mod._as_text(True) == "true" and mod._as_text(0) == "0" and mod._as_text(None) is None


class FakeCursor:
    def __init__(self, rows, fail=None):
        self.rows, self.fail, self.description = rows, fail, None

    def execute(self, query, params=None):
        if self.fail and query not in ("SET TRANSACTION READ ONLY",) and params is None:
            raise self.fail
        self.description = [("c",)]

    def fetchall(self):
        return self.rows

    def close(self):
        pass


class FakeConn:
    def __init__(self, rows, fail=None):
        self.rows, self.fail = rows, fail

    def cursor(self):
        return FakeCursor(self.rows, self.fail)

    def rollback(self):
        pass


class FakeModule:
    params = {}
    check_mode = False


def check(**kw):
    base = {"name": "c", "query": "SELECT 1", "expect_rows": None, "expect_value": None, "run_as": None, "timeout": 5}
    base.update(kw)
    return base


@pytest.mark.parametrize("rows, kw, passed, message", [
    ([(1,)], {}, True, "ok"),
    ([], {}, False, "expected at least one row, got none"),
    ([], {"expect_rows": False}, True, "ok"),
    ([(1,), (2,)], {"expect_rows": False}, False, "expected no rows, got 2"),
    ([(0,)], {"expect_value": 0}, True, "ok"),
    ([(5,)], {"expect_value": "0"}, False, "expected value '0', got '5'"),
    ([], {"expect_value": 0}, False, "expected value '0', got no rows"),
    ([(True,)], {"expect_value": True}, True, "ok"),
])
def test_smoke_check_evaluation(rows, kw, passed, message):
    runner = mod.DbUsers(FakeModule())
    result = runner.smoke_check(FakeConn(rows), check(**kw))
    assert (result["passed"], result["message"]) == (passed, message)


def test_smoke_check_query_error_is_redacted():
    runner = mod.DbUsers(FakeModule())
    runner.redact.add("S3cret!")
    error_text = 'column "S3cret!" does not exist'
    result = runner.smoke_check(FakeConn([], fail=FakeErrorWithDiag(error_text)), check())
    assert result["passed"] is False
    assert result["message"] == 'query error: column "********" does not exist'


class FakeErrorWithDiag(psycopg2.Error):
    def __init__(self, text):
        super().__init__(text)
        self.text = text

    def __str__(self):
        return "ERROR:  " + self.text
