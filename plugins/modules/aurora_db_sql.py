#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aurora_db_sql
version_added: 0.1.0
short_description: Post-restore SQL (masking) and smoke checks on a restored Aurora PostgreSQL cluster
description:
  - Connects to an Aurora PostgreSQL (or any PostgreSQL) endpoint as the master user, with credentials the module
    reads from AWS Secrets Manager, runs post-restore SQL (masking, sanitising) once per O(restore_marker), then
    read-only smoke checks.
  - Each SQL item runs in one transaction with the record of its application in the table
    C(dbops_aurora_restore.applied_sql) of O(database), so a rerun of the same restore skips what was applied and warns
    when an applied item has changed since. A failing item is rolled back and names itself.
  - Smoke checks run in read-only transactions with a statement timeout, as the master user or as a user of
    O(users_secret_id) (O(smoke_checks[].run_as)); the task fails naming the first check that did not return what was
    expected, with every check's result.
  - Users, roles and grants are the job of M(dbops.aurora_restore.aurora_db_users), which accepts these options too.
  - No password appears in the result, warnings, logs or error messages.
  - O(users_secret_id) is read only for the passwords of O(smoke_checks[].run_as) users and, with a C(combined)
    secret, the master credentials.
notes:
  - Supports check mode. Post-restore SQL reports what would be applied (C(would_apply)) and runs nothing; smoke checks
    are skipped.
  - Requires C(psycopg2) and C(boto3) on the host that runs the module.
author:
  - dbops platform team (@dbops)
extends_documentation_fragment:
  - dbops.aurora_restore.runs_in_worker
  - dbops.aurora_restore.db_connection
  - dbops.aurora_restore.post_restore_sql
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Mask the restored data once per restore, then check it
  dbops.aurora_restore.aurora_db_sql:
    login_host: "{{ restore.endpoint }}"
    login_port: "{{ restore.port }}"
    database: app
    master_secret_id: aurora-restore/dev/master-credentials
    ssl_mode: verify-full
    ca_cert: /etc/pki/rds/global-bundle.pem
    restore_marker: "{{ operation_id }}"
    post_restore_sql:
      - UPDATE customers SET email = 'customer-' || id || '@example.invalid'
    smoke_checks:
      - name: customers are masked
        query: SELECT count(*) FROM customers WHERE email NOT LIKE '%@example.invalid'
        expect_value: 0

- name: A smoke check as the application user of the users secret
  dbops.aurora_restore.aurora_db_sql:
    login_host: "{{ restore.endpoint }}"
    database: app
    master_secret_id: aurora-restore/dev/master-credentials
    users_secret_id: aurora-restore/dev/app-credentials
    smoke_checks:
      - name: the app can read orders
        query: SELECT 1 FROM orders LIMIT 1
        run_as: app_user
"""

RETURN = r"""
changed:
  description: Whether post-restore SQL was applied (or would be, in check mode).
  returned: always
  type: bool
statements:
  description: What was run, one line per applied post-restore SQL item (its name and the start of its sha256).
  returned: always
  type: list
  elements: str
  sample: ["-- post-restore SQL inline[0] (sha256 9f2c4b1a7e3d)"]
post_restore_sql:
  description: What happened to the post-restore SQL.
  returned: always
  type: dict
  contains:
    status:
      description: C(applied), C(skipped) (already applied for this marker), C(would_apply) (check mode) or C(none).
      type: str
    restore_marker:
      description: The marker.
      type: str
    entries:
      description:
        - Each SQL item with C(name), C(sha256) and C(status) (C(applied), C(skipped), C(would_apply)).
        - Named C(items) before 0.2.0 (a return key that ansible-core 2.21 refuses, since it hides the dict method).
      type: list
      elements: dict
  sample:
    status: applied
    restore_marker: op-20250101-0100
    entries: [{name: "inline[0]", sha256: "9f2c...", status: applied}]
smoke_checks:
  description: Result of each smoke check (C(name), C(passed), C(rows), C(value), C(message)); empty in check mode.
  returned: always
  type: list
  elements: dict
  sample: [{name: customers are masked, passed: true, rows: 1, value: "0", message: ok}]
master_user:
  description: The user the module connected as.
  returned: when connected
  type: str
  sample: postgres
"""

try:
    import psycopg2
except ImportError:
    pass  # reported with missing_required_lib

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_post_restore
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import HAS_PSYCOPG2
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import Credentials
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import DbFailure
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import close_quietly
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import connect
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import connection_argument_spec
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import pg_error_text

APPLICATION_NAME = "dbops.aurora_restore.aurora_db_sql"


def run(module, credentials):
    params = module.params
    users, combined_master = [], None
    if params["users_secret_id"]:
        users, combined_master = credentials.users_secret(params["users_secret_id"], params["users_secret_layout"])
    passwords = {user.name: user.password for user in users if user.manages_password}
    for password in passwords.values():
        credentials.protect(password)
    master = credentials.master(params["master_secret_id"], combined_master)
    items = db_post_restore.sql_items(params)  # a missing file fails before connecting

    def connect_as(user, password, attempts=None):
        return connect(params, user, password, credentials.redact, APPLICATION_NAME, attempts=attempts)

    statements = []
    result = {"changed": False, "statements": statements, "smoke_checks": [], "master_user": master[0],
              "post_restore_sql": {"status": "none", "restore_marker": params["restore_marker"], "entries": []}}
    conn = connect_as(*master)
    try:
        warn = getattr(module, "_module", module).warn
        report, changed = db_post_restore.apply_post_restore_sql(conn, items, params["restore_marker"], module.check_mode,
                                                                 credentials.redact, lambda text: warn(credentials.redact(text)),
                                                                 statements)
        result.update(post_restore_sql=report, changed=changed)
        if not module.check_mode:
            try:
                result["smoke_checks"] = db_post_restore.run_smoke_checks(
                    params["smoke_checks"], conn, lambda user, password: connect_as(user, password, attempts=1), passwords,
                    credentials.redact)
            except DbFailure as failure:
                # the SQL stays applied when a smoke check fails
                failure.extra.update(changed=changed, statements=statements, post_restore_sql=report)
                raise
    finally:
        close_quietly(conn, rollback=True)
    return result


def main():
    spec = connection_argument_spec()
    spec.update(db_post_restore.sql_argument_spec())
    module = AnsibleAWSModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"))
    problem = db_post_restore.sql_option_problem(module.params)
    if problem:
        module.fail_json(msg=problem)
    credentials = Credentials(module)
    try:
        result = run(module, credentials)
    except DbFailure as failure:
        extra = {key: value for key, value in failure.extra.items() if value is not None}
        module.fail_json(msg=credentials.redact(str(failure)), **extra)
    except psycopg2.Error as error:
        # never a traceback: a driver error may quote a statement
        module.fail_json(msg=credentials.redact("database error: %s" % pg_error_text(error)))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
