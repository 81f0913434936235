# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""After a restore: SQL run once per restore (masking, fix-ups), recorded in the database itself, and read-only
smoke checks. Used by aurora_db_sql (and by aurora_db_users, which still accepts both)."""

from __future__ import annotations

import hashlib
import os

try:
    import psycopg2
    from psycopg2 import sql
except ImportError:
    psycopg2 = sql = None

from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import DbFailure
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import pg_error_text

MARKER_SCHEMA = "dbops_aurora_restore"
MARKER_TABLE = "applied_sql"
LOCK_KEY = "dbops.aurora_restore.aurora_db_users.sql"


def sql_argument_spec():
    """The options of post-restore SQL and smoke checks."""
    return dict(
        post_restore_sql=dict(type="list", elements="str", default=[]),
        post_restore_sql_files=dict(type="list", elements="path", default=[]),
        restore_marker=dict(type="str"),
        smoke_checks=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            query=dict(type="str", required=True),
            expect_rows=dict(type="bool"),
            expect_value=dict(type="raw"),
            run_as=dict(type="str"),
            timeout=dict(type="int", default=30),
        )),
    )


def sql_option_problem(params):
    """One line naming the bad option, or None."""
    if (params["post_restore_sql"] or params["post_restore_sql_files"]) and not params["restore_marker"]:
        return "restore_marker is required with post_restore_sql or post_restore_sql_files (it makes them run once per restore)"
    for check in params["smoke_checks"]:
        if check["expect_rows"] is not None and check["expect_value"] is not None:
            return f"smoke check {check['name']!r}: set expect_rows or expect_value, not both"
    return None


def sql_items(params):
    """[(name, text)]: the inline items, then the files (named by their base name)."""
    items = [(f"inline[{i}]", text) for i, text in enumerate(params["post_restore_sql"])]
    for path in params["post_restore_sql_files"]:
        try:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise DbFailure(f"cannot read post_restore_sql_files item {path!r}: {getattr(e, 'strerror', None) or e}") from None
        items.append((os.path.basename(path), text))
    return items


def apply_post_restore_sql(conn, items, marker, check_mode, redact, warn, statements):
    """Run each item not yet applied for `marker`, in one transaction; (report, changed). Applied items are recorded
    in dbops_aurora_restore.applied_sql, so a rerun of the same restore skips them."""
    if not items:
        return {"status": "none", "restore_marker": marker, "entries": []}, False
    table = sql.Identifier(MARKER_SCHEMA, MARKER_TABLE)
    cursor = conn.cursor()
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,))
    cursor.execute("SELECT to_regclass(%s)", (f"{MARKER_SCHEMA}.{MARKER_TABLE}",))
    applied = {}
    if cursor.fetchone()[0] is not None:
        cursor.execute(sql.SQL("SELECT item, sha256 FROM {} WHERE restore_marker = %s").format(table), (marker,))
        applied = dict(cursor.fetchall())
    report, todo = [], []
    for name, text in items:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if name in applied:
            status = "skipped"
            if applied[name] != digest:
                warn(f"post-restore SQL item {name!r} changed since it was applied for restore marker {marker!r}; not run again")
        else:
            status = "would_apply" if check_mode else "applied"
            todo.append((name, text, digest))
        report.append({"name": name, "sha256": digest, "status": status})
    if not todo or check_mode:
        cursor.close()
        conn.rollback()
        return {"status": "would_apply" if todo else "skipped", "restore_marker": marker, "entries": report}, bool(todo)
    cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(MARKER_SCHEMA)))
    cursor.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (restore_marker text NOT NULL, item text NOT NULL, sha256 text NOT NULL, "
                           "applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL DEFAULT current_user, "
                           "PRIMARY KEY (restore_marker, item))").format(table))
    for name, text, digest in todo:
        try:
            cursor.execute(text)
        except psycopg2.Error as e:
            conn.rollback()
            raise DbFailure(f"post-restore SQL {name!r} failed (nothing of it was applied): {redact(pg_error_text(e))}") from None
        cursor.execute(sql.SQL("INSERT INTO {} (restore_marker, item, sha256) VALUES (%s, %s, %s)").format(table), (marker, name, digest))
        statements.append(f"-- post-restore SQL {name} (sha256 {digest[:12]})")
    conn.commit()
    cursor.close()
    return {"status": "applied", "restore_marker": marker, "entries": report}, True


def as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    return str(value)


def smoke_check(conn, check, redact):
    """One read-only check: {name, passed, rows, value, message}; never raises for the query's own errors."""
    result = {"name": check["name"], "passed": False, "rows": None, "value": None, "message": ""}
    cursor = conn.cursor()
    try:
        conn.rollback()
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", (f"{max(1, check['timeout'])}s",))
        cursor.execute(check["query"])
        rows = cursor.fetchall() if cursor.description is not None else []
    except psycopg2.Error as e:
        conn.rollback()
        result["message"] = f"query error: {redact(pg_error_text(e))}"
        return result
    finally:
        cursor.close()
    conn.rollback()
    result["rows"] = len(rows)
    if rows and rows[0]:
        result["value"] = as_text(rows[0][0])
    if check["expect_value"] is not None:
        want = as_text(check["expect_value"])
        if not rows:
            result["message"] = f"expected value {want!r}, got no rows"
        elif result["value"] != want:
            result["message"] = f"expected value {want!r}, got {result['value']!r}"
        else:
            result.update(passed=True, message="ok")
    else:
        expect_rows = True if check["expect_rows"] is None else check["expect_rows"]
        if expect_rows and not rows:
            result["message"] = "expected at least one row, got none"
        elif not expect_rows and rows:
            result["message"] = f"expected no rows, got {len(rows)}"
        else:
            result.update(passed=True, message="ok")
    result["value"] = redact(result["value"])
    return result


def run_smoke_checks(checks, conn, connect_as, passwords, redact):
    """Every check (as the master, or as its run_as user); DbFailure naming the first failed one, with all results."""
    results = []
    for check in checks:
        name = check["name"]
        if check["run_as"]:
            if check["run_as"] not in passwords:
                raise DbFailure(f"smoke check {name!r}: run_as {check['run_as']!r} is not a managed user with a password")
            own = connect_as(check["run_as"], passwords[check["run_as"]])
            try:
                results.append(smoke_check(own, check, redact))
            finally:
                own.close()
        else:
            results.append(smoke_check(conn, check, redact))
    failed = [r for r in results if not r["passed"]]
    if failed:
        first = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise DbFailure(f"smoke check {first['name']!r} failed: {first['message']}{more}", smoke_checks=results)
    return results
