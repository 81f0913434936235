#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025 dbops platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aurora_db_users
version_added: 0.1.0
short_description: Database users, grants, post-restore SQL and smoke checks on a restored Aurora PostgreSQL cluster
description:
  - Connects to an Aurora PostgreSQL (or any PostgreSQL) endpoint as the master user, with credentials read by the
    module from AWS Secrets Manager, and makes the database users match a users secret or an explicit list.
  - Users come from a users secret in one of three layouts (C(nested), C(flat), C(combined)) or from O(users), each
    with a profile (C(app), C(readonly), C(devops)) or custom grants, a connection limit, a validity date and role
    memberships.
  - Idempotent. Roles, grants, default privileges and memberships are compared with the catalog and only what differs
    is created, altered, granted or revoked. Aurora cannot read C(pg_authid), so the module records the Secrets Manager
    C(VersionId) that set each password in the role's comment and changes a password only when that version changes or
    when O(force_password_reset=true). Passwords are sent as SCRAM (or MD5, following the server's
    C(password_encryption)) verifiers computed on the client, never as plain text.
  - Users not in the desired set are reported in RV(unmanaged_users) and dropped only with O(exclusive=true), after
    reassigning what they own. The master user, the connected user, superusers and C(rds*) / C(pg_*) roles are never
    dropped.
  - Optional post-restore SQL (masking, sanitising) runs once per O(restore_marker) in a transaction, recorded in the
    table C(dbops_aurora_restore.applied_sql) of O(database); optional smoke checks fail the task with a clear message.
  - Every statement is composed with C(psycopg2.sql) (identifiers and literals quoted); no password appears in the result,
    warnings, logs or error messages.
options:
  users:
    description:
      - Explicit users, in addition to those of O(users_secret_id).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Role name. Any printable characters are allowed (names are always quoted); names starting with C(pg_) or
            C(rds), reserved names and names longer than 63 bytes are refused.
        type: str
        required: true
      password_secret_id:
        description:
          - Name or ARN of the Secrets Manager secret holding this user's password. Without it the password is not
            managed (for example for IAM database authentication with O(users[].member_of=[rds_iam])).
        type: str
      password_secret_key:
        description:
          - Key of the password in O(users[].password_secret_id); dots address nested objects (C(application_user.password)).
        type: str
        default: password
      profile:
        description:
          - C(app) is CONNECT and TEMPORARY on the database, USAGE on O(schemas), SELECT, INSERT, UPDATE, DELETE on their
            tables, USAGE, SELECT, UPDATE on their sequences, and the same default privileges.
          - C(readonly) is CONNECT, USAGE, SELECT on tables and sequences, and SELECT default privileges.
          - C(devops) is C(app) plus CREATE on the schemas and membership of C(pg_monitor) and C(pg_signal_backend)
            where they exist.
          - C(custom) is only O(users[].grants).
        type: str
        default: app
        choices: [app, readonly, devops, custom]
      grants:
        description:
          - Extra privileges, added to the profile's.
        type: list
        elements: dict
        default: []
        suboptions:
          type:
            description:
              - Kind of object.
            type: str
            default: table
            choices: [database, schema, table, sequence]
          privileges:
            description:
              - Privileges, or C(ALL).
            type: list
            elements: str
            required: true
          schemas:
            description:
              - Schemas the grant applies to; defaults to O(schemas).
            type: list
            elements: str
          objects:
            description:
              - Table or sequence names within the schemas; without it, every table (or sequence) of the schemas.
            type: list
            elements: str
          default_privileges:
            description:
              - Also grant these privileges on future objects (ALTER DEFAULT PRIVILEGES) created by
                O(default_privileges_for). Defaults to true when O(users[].grants[].objects) is not given.
            type: bool
      connection_limit:
        description:
          - Connection limit; C(-1) is unlimited.
        type: int
        default: -1
      valid_until:
        description:
          - Password expiry as a PostgreSQL timestamp (C(2030-01-01), C(infinity)). Unset means no expiry.
        type: str
      member_of:
        description:
          - Roles this user is a member of. Other memberships are revoked, except of C(rds*) roles.
        type: list
        elements: str
        default: []
  schemas:
    description:
      - Schemas of O(database) whose privileges the profiles grant and the module manages.
    type: list
    elements: str
    default: [public]
  default_privileges_for:
    description:
      - Roles whose future tables and sequences get the profiles' default privileges. Defaults to the master user.
      - The master user must be a member of each of these roles.
    type: list
    elements: str
  exclusive:
    description:
      - Drop login roles that are not in the desired set (after REASSIGN OWNED and DROP OWNED in O(database)).
      - Never drops the master user, the connected user, superusers, C(rds*) and C(pg_*) roles or O(keep_users).
    type: bool
    default: false
  keep_users:
    description:
      - Login roles that O(exclusive) must never drop and that are not reported as unmanaged.
    type: list
    elements: str
    default: []
  reassign_owned_to:
    description:
      - Role that receives the objects of dropped users. Defaults to the master user.
    type: str
  force_password_reset:
    description:
      - Set every managed password even when the secret's version has not changed.
    type: bool
    default: false
notes:
  - Supports check mode. User changes are executed in a transaction that is rolled back; post-restore SQL is not run and
    smoke checks are skipped.
  - Supports diff mode for changed users.
  - Requires C(psycopg2) and C(boto3) on the host that runs the module.
  - The module never reads C(pg_authid).
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
- name: Database users of a restored cluster, from a nested users secret (the original design's layout)
  dbops.aurora_restore.aurora_db_users:
    login_host: "{{ restore.cluster.endpoint }}"
    login_port: "{{ restore.cluster.port }}"
    database: app
    master_secret_id: aurora-restore/dev/master-credentials
    users_secret_id: aurora-restore/dev/app-credentials
    users_secret_layout: nested
    ssl_mode: verify-full
    ca_cert: /etc/pki/rds/global-bundle.pem

- name: One combined secret (master_* keys plus app_* / readonly_*), drop everyone else
  dbops.aurora_restore.aurora_db_users:
    login_host: "{{ restore.cluster.endpoint }}"
    database: app
    users_secret_id: /aurora-restore/db-credentials
    users_secret_layout: combined
    exclusive: true
    keep_users: [replication_monitor]

- name: Explicit users, masking once per restore, and smoke checks
  dbops.aurora_restore.aurora_db_users:
    login_host: "{{ restore.cluster.endpoint }}"
    database: app
    master_secret_id: aurora-restore/staging/master-credentials
    schemas: [public, billing]
    users:
      - name: reporting
        profile: readonly
        password_secret_id: aurora-restore/staging/reporting
        connection_limit: 10
      - name: etl
        profile: custom
        password_secret_id: aurora-restore/staging/etl
        password_secret_key: etl_password
        grants:
          - type: table
            schemas: [billing]
            privileges: [SELECT, INSERT]
        member_of: [rds_iam]
    restore_marker: "{{ restore.operation_id }}"
    post_restore_sql:
      - UPDATE public.customers SET email = 'user' || id || '@example.invalid'
    post_restore_sql_files:
      - "{{ playbook_dir }}/files/mask_billing.sql"
    smoke_checks:
      - name: customers are masked
        query: SELECT count(*) FROM public.customers WHERE email NOT LIKE '%@example.invalid'
        expect_value: 0
      - name: reporting can read
        query: SELECT 1 FROM public.customers LIMIT 1
        run_as: reporting
"""

RETURN = r"""
changed:
  description: Whether a role, grant, password or post-restore SQL changed (or would change in check mode).
  returned: always
  type: bool
users:
  description: One entry per desired user.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Role name.
      type: str
      sample: app_user
    profile:
      description: Profile applied.
      type: str
      sample: app
    origin:
      description: Where the user comes from (C(secret:application_user), C(secret:app), C(users)).
      type: str
      sample: secret:app
    created:
      description: Whether the role was created.
      type: bool
    altered:
      description: Role attributes changed.
      type: list
      elements: str
      sample: [connection limit 10]
    password_changed:
      description: Whether the password was set (never the password itself).
      type: bool
    password_reason:
      description: Why the password was set or kept (C(new role), C(secret version changed), C(forced), C(unchanged), C(not managed)).
      type: str
    grants_added:
      description: Privileges and memberships granted.
      type: list
      elements: str
      sample: ["CONNECT, TEMPORARY ON DATABASE app", "DELETE, INSERT, SELECT, UPDATE ON ALL TABLES IN SCHEMA public"]
    grants_revoked:
      description: Privileges and memberships revoked.
      type: list
      elements: str
    changed:
      description: Whether anything changed for this user.
      type: bool
  sample:
    - name: app_user
      profile: app
      origin: secret:application_user
      created: true
      altered: []
      password_changed: true
      password_reason: new role
      grants_added: ["CONNECT, TEMPORARY ON DATABASE app"]
      grants_revoked: []
      changed: true
unmanaged_users:
  description: Login roles that are not in the desired set and are not protected (dropped when O(exclusive=true)).
  returned: always
  type: list
  elements: str
  sample: [old_app_user]
dropped:
  description: Roles dropped by O(exclusive=true).
  returned: always
  type: list
  elements: str
statements:
  description: Statements executed (or rolled back in check mode), passwords redacted as C('********').
  returned: always
  type: list
  elements: str
  sample: ["CREATE ROLE \"app_user\" WITH LOGIN INHERIT CONNECTION LIMIT -1 PASSWORD '********'"]
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
server_version:
  description: PostgreSQL server version number.
  returned: when connected
  type: int
  sample: 150008
"""

try:
    import psycopg2

    HAS_PSYCOPG2 = True
except ImportError:
    HAS_PSYCOPG2 = False

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_post_restore
from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_users
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import Credentials
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import DbFailure as ModuleFailure
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import close_quietly
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import connect
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import connection_argument_spec
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import pg_error_text
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_post_restore import as_text as _as_text  # noqa: F401  pylint: disable=unused-import
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_post_restore import sql_argument_spec
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_post_restore import sql_option_problem
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_reconcile import UserReconciler

APPLICATION_NAME = "dbops.aurora_restore.aurora_db_users"


class DbUsers:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.credentials = Credentials(module)
        self.redact = self.credentials.redact
        self.statements = []
        self.conn = None
        self.master = None
        self.passwords = {}   # user name -> password (for run_as)

    def warn(self, message):
        # AnsibleModule.warn directly: AnsibleAWSModule re-injects warnings into exit_json, which ansible-core 2.19 deprecates
        getattr(self.module, "_module", self.module).warn(self.redact(message))

    # ------------------------------------------------------------ secrets
    def load_users(self):
        users = []
        master = None
        if self.params["users_secret_id"]:
            users, master = self.credentials.users_secret(self.params["users_secret_id"], self.params["users_secret_layout"])
        for index, item in enumerate(self.params["users"]):
            where = f"users[{index}]"
            user = db_users.UserSpec(item["name"], item["profile"], grants=item["grants"], connection_limit=item["connection_limit"],
                                     valid_until=item["valid_until"], member_of=item["member_of"], origin="users")
            if item["password_secret_id"]:
                secret_id, key = item["password_secret_id"], item["password_secret_key"]
                value, version = self.credentials.secret(secret_id)
                try:
                    user.password = db_users.secret_key_value(value, key, secret_id)
                except db_users.LayoutError as e:
                    raise ModuleFailure(f"{where} ({item['name']!r}): {e}") from None
                user.password_source = db_users.source_digest(secret_id, key)
                user.password_version = version
            users.append(user)
        for user in users:
            problem = db_users.validate_role_name(user.name)
            if problem:
                raise ModuleFailure(problem)
            if user.manages_password:
                problem = db_users.validate_password(user.password, f"password of user {user.name!r}")
                if problem:
                    raise ModuleFailure(problem)
                self.passwords[user.name] = user.password
                self.credentials.protect(user.password)
        try:
            db_users.check_unique(users)
        except db_users.LayoutError as e:
            raise ModuleFailure(str(e)) from None
        self.master = self.credentials.master(self.params["master_secret_id"], master)
        for user in users:
            if user.name == self.master[0]:
                raise ModuleFailure(f"user {user.name!r} is the master user; the master password is managed by the cluster restore, not here")
        return users

    # ------------------------------------------------------------ connection
    def connect(self, user, password, attempts=None):
        return connect(self.params, user, password, self.redact, APPLICATION_NAME, attempts=attempts)

    def execute(self, cursor, statement):
        try:
            cursor.execute(statement.query)
        except psycopg2.Error as e:
            shown = self.redact(statement.render(self.conn))
            raise ModuleFailure(f"statement failed: {shown}: {self.redact(pg_error_text(e))}") from None
        self.statements.append(self.redact(statement.render(self.conn)))

    # ------------------------------------------------------------ users (module_utils/db_reconcile.py)
    def manage_users(self, users):
        return UserReconciler(self.conn, self.params, self.master, self.execute, self.warn).manage_users(users)

    # ------------------------------------------------------------ post-restore SQL and smoke checks (also aurora_db_sql)
    def post_restore_sql(self):
        items = db_post_restore.sql_items(self.params)
        return db_post_restore.apply_post_restore_sql(self.conn, items, self.params["restore_marker"], self.module.check_mode,
                                                      self.redact, self.warn, self.statements)

    def smoke_checks(self):
        return db_post_restore.run_smoke_checks(self.params["smoke_checks"], self.conn,
                                                lambda user, password: self.connect(user, password, attempts=1), self.passwords, self.redact)

    def smoke_check(self, conn, check):
        return db_post_restore.smoke_check(conn, check, self.redact)

    # ------------------------------------------------------------ run
    def run(self):
        p = self.params
        users = self.load_users()
        self.conn = self.connect(*self.master)
        result = {"changed": False, "users": [], "unmanaged_users": [], "dropped": [], "statements": self.statements,
                  "post_restore_sql": {"status": "none", "restore_marker": p["restore_marker"], "entries": []}, "smoke_checks": [],
                  "master_user": self.master[0], "server_version": self.conn.server_version}
        committed = None  # what is already committed when a later step fails: (changed, statements)
        try:
            managed, diff = self.manage_users(users)
            result.update(managed)
            users_changed = bool(self.statements)
            if self.module.check_mode:
                self.conn.rollback()
            else:
                self.conn.commit()
                committed = (users_changed, list(self.statements))
            post, post_changed = self.post_restore_sql()
            result["post_restore_sql"] = post
            result["changed"] = users_changed or post_changed
            if not self.module.check_mode:
                committed = (result["changed"], list(self.statements))
            if self.module._diff and (diff["before"] or diff["after"]):
                result["diff"] = diff
            if not self.module.check_mode:
                result["smoke_checks"] = self.smoke_checks()
        except ModuleFailure as e:
            try:
                self.conn.rollback()
            except psycopg2.Error:
                pass
            if self.module.check_mode:
                e.extra.setdefault("statements", self.statements)
            elif committed is not None:
                # users (and post-restore SQL) stay applied when a later step, such as a smoke check, fails
                e.extra.setdefault("changed", committed[0])
                e.extra.setdefault("statements", committed[1])
            else:
                e.extra.setdefault("statements", [])
            raise
        finally:
            close_quietly(self.conn)
        return result


def argument_spec():
    grant_spec = dict(
        type=dict(type="str", default="table", choices=["database", "schema", "table", "sequence"]),
        privileges=dict(type="list", elements="str", required=True),
        schemas=dict(type="list", elements="str"),
        objects=dict(type="list", elements="str"),
        default_privileges=dict(type="bool"),
    )
    user_spec = dict(
        name=dict(type="str", required=True),
        password_secret_id=dict(type="str"),
        password_secret_key=dict(type="str", default="password", no_log=False),
        profile=dict(type="str", default="app", choices=list(db_users.PROFILES)),
        grants=dict(type="list", elements="dict", default=[], options=grant_spec),
        connection_limit=dict(type="int", default=-1),
        valid_until=dict(type="str"),
        member_of=dict(type="list", elements="str", default=[]),
    )
    spec = connection_argument_spec()
    spec.update(sql_argument_spec())
    spec.update(
        users=dict(type="list", elements="dict", default=[], options=user_spec),
        schemas=dict(type="list", elements="str", default=["public"]),
        default_privileges_for=dict(type="list", elements="str"),
        exclusive=dict(type="bool", default=False),
        keep_users=dict(type="list", elements="str", default=[]),
        reassign_owned_to=dict(type="str"),
        force_password_reset=dict(type="bool", default=False, no_log=False),
    )
    return spec


def main():
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
    )
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"))
    p = module.params
    problem = sql_option_problem(p)
    if problem:
        module.fail_json(msg=problem)
    if p["exclusive"] and not (p["users"] or p["users_secret_id"]):
        module.fail_json(msg="exclusive=true needs a desired set of users (users_secret_id or users); refusing to drop every user")
    if not p["schemas"]:
        module.fail_json(msg="schemas must name at least one schema")

    runner = DbUsers(module)
    try:
        result = runner.run()
    except ModuleFailure as e:
        extra = {k: v for k, v in e.extra.items() if v is not None}
        module.fail_json(msg=runner.redact(str(e)), **extra)
    except psycopg2.Error as e:
        # never a traceback: a driver error may quote a statement
        module.fail_json(msg=runner.redact(f"database error: {pg_error_text(e)}"))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
