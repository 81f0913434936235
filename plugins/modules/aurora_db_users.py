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
  login_host:
    description:
      - Host name or address of the cluster endpoint (typically the writer endpoint from the restore result).
    type: str
    required: true
    aliases: [host]
  login_port:
    description:
      - Port of the endpoint.
    type: int
    default: 5432
    aliases: [port]
  database:
    description:
      - Database to connect to; grants on schemas, tables and sequences, default privileges, post-restore SQL and smoke
        checks apply to this database. Roles are cluster-wide.
    type: str
    default: postgres
    aliases: [login_db, db]
  master_secret_id:
    description:
      - Name or ARN of the Secrets Manager secret holding the master credentials, as keys C(username) and C(password)
        (or C(master_username) and C(master_password)).
      - May be omitted when O(users_secret_id) is a C(combined) secret, whose C(master_*) keys are then used.
    type: str
  ssl_mode:
    description:
      - libpq C(sslmode). Use C(verify-full) with O(ca_cert) (the RDS CA bundle) to verify the endpoint.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description:
      - Path of a CA bundle (for example C(global-bundle.pem) from AWS) used with O(ssl_mode=verify-ca) or
        O(ssl_mode=verify-full).
    type: path
    aliases: [ssl_rootcert]
  connect_timeout:
    description:
      - Seconds to wait for each connection attempt.
    type: int
    default: 10
  connect_retries:
    description:
      - Extra connection attempts while a new endpoint warms up (refused, timed out, not resolvable, starting up).
      - Authentication failures are never retried.
    type: int
    default: 5
  connect_retry_delay:
    description:
      - Seconds between connection attempts.
    type: float
    default: 5.0
  users_secret_id:
    description:
      - Name or ARN of a Secrets Manager secret holding the users, in the layout given by O(users_secret_layout).
      - Its users get the profile of their key (C(application_user) / C(app_*) is C(app), C(readonly_user) /
        C(readonly_*) is C(readonly), C(devops_user) / C(devops_*) is C(devops)).
    type: str
  users_secret_layout:
    description:
      - Layout of O(users_secret_id).
      - C(nested) has keys C(application_user), C(readonly_user), C(devops_user), each an object with C(username) and
        C(password).
      - C(flat) has keys C(app_username), C(app_password), C(readonly_username), C(readonly_password), C(devops_username),
        C(devops_password).
      - C(combined) is C(flat) (or C(nested)) plus C(master_username) and C(master_password).
      - C(auto) detects the layout from the keys.
    type: str
    default: auto
    choices: [auto, nested, flat, combined]
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
  post_restore_sql:
    description:
      - SQL to run once per O(restore_marker) (masking, sanitising), in order, in one transaction with the record of
        its application. Each item may contain several statements.
    type: list
    elements: str
    default: []
  post_restore_sql_files:
    description:
      - Files (on the managed node) of SQL to run like O(post_restore_sql), after it.
    type: list
    elements: path
    default: []
  restore_marker:
    description:
      - Identifier of this restore (operation id, snapshot id). Post-restore SQL items already recorded under this
        marker are skipped. Required with O(post_restore_sql) or O(post_restore_sql_files).
    type: str
  smoke_checks:
    description:
      - Queries run after everything else; the task fails when one does not return what is expected.
      - Skipped in check mode.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name shown in the result and in the failure message.
        type: str
        required: true
      query:
        description:
          - A read-only query. It runs in a read-only transaction.
        type: str
        required: true
      expect_rows:
        description:
          - C(true) (the default without O(smoke_checks[].expect_value)) requires at least one row, C(false) requires none.
        type: bool
      expect_value:
        description:
          - Expected value of the first column of the first row, compared as text (booleans as C(true) / C(false)).
        type: raw
      run_as:
        description:
          - Run the query logged in as this managed user (with the password from its secret) instead of the master user.
        type: str
      timeout:
        description:
          - Statement timeout in seconds.
        type: int
        default: 30
notes:
  - Supports check mode. User changes are executed in a transaction that is rolled back; post-restore SQL is not run and
    smoke checks are skipped.
  - Supports diff mode for changed users.
  - Requires C(psycopg2) and C(boto3) on the host that runs the module.
  - The module never reads C(pg_authid).
author:
  - dbops platform team (@dbops)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Database users of a restored cluster, from the seeds' nested users secret
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
    items:
      description: Each item with C(name), C(sha256) and C(status) (C(applied), C(skipped), C(would_apply)).
      type: list
      elements: dict
  sample:
    status: applied
    restore_marker: op-20250101-0100
    items: [{name: "inline[0]", sha256: "9f2c...", status: applied}]
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

import hashlib
import os
import time

try:
    import psycopg2
    import psycopg2.extensions
    from psycopg2 import sql

    HAS_PSYCOPG2 = True
except ImportError:
    HAS_PSYCOPG2 = False

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_privileges
from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_sql
from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_users
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import SecretError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import read_json_secret
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import sensitive_leaves

APPLICATION_NAME = "dbops.aurora_restore.aurora_db_users"
MARKER_SCHEMA = "dbops_aurora_restore"
MARKER_TABLE = "applied_sql"
LOCK_KEY = "dbops.aurora_restore.aurora_db_users"
# Connection failures that waiting cannot fix: fail at once (a refused, timed out, unresolvable or starting endpoint is retried).
NOT_RETRIED = ("authentication failed", "no pg_hba.conf entry", "does not exist", "certificate", "ssl error", "does not support ssl",
               "permission denied", "invalid sslmode", "is not permitted to log in", "root certificate file")


class ModuleFailure(Exception):
    """A failure with a safe one-line message (already redacted)."""

    def __init__(self, message, **extra):
        super().__init__(message)
        self.extra = extra


def _first_line(text):
    for line in str(text).splitlines():
        line = line.strip()
        if line:
            return line
    return ""


def pg_error_text(error):
    """A one-line description of a psycopg2 error: the primary message only (never the statement)."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or _first_line(error) or type(error).__name__
    for prefix in ("FATAL:", "ERROR:"):
        text = text.replace(prefix, "").strip()
    return text


class DbUsers:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.redact = db_sql.Redactor()
        self.statements = []
        self.conn = None
        self.master = None
        self.secrets = {}
        self.passwords = {}   # user name -> password (for run_as)
        self._sm = None
        self.known_roles = set()

    def warn(self, message):
        # AnsibleModule.warn directly: AnsibleAWSModule re-injects warnings into exit_json, which ansible-core 2.19 deprecates
        getattr(self.module, "_module", self.module).warn(self.redact(message))

    # ------------------------------------------------------------ secrets
    def protect(self, value):
        self.redact.add(value)
        if isinstance(value, str) and value:
            self.module.no_log_values.add(value)

    def secret(self, secret_id):
        if secret_id not in self.secrets:
            if self._sm is None:
                self._sm = self.module.client("secretsmanager")
            try:
                self.secrets[secret_id] = read_json_secret(self._sm, secret_id)
            except SecretError as e:
                raise ModuleFailure(str(e)) from None
            for value in sensitive_leaves(self.secrets[secret_id][0]):
                self.protect(value)
        return self.secrets[secret_id]

    def load_users(self):
        users = []
        master = None
        if self.params["users_secret_id"]:
            secret_id = self.params["users_secret_id"]
            value, version = self.secret(secret_id)
            try:
                users, master = db_users.parse_users_secret(value, self.params["users_secret_layout"], secret_id, version)
            except db_users.LayoutError as e:
                raise ModuleFailure(str(e)) from None
        for index, item in enumerate(self.params["users"]):
            where = f"users[{index}]"
            user = db_users.UserSpec(item["name"], item["profile"], grants=item["grants"], connection_limit=item["connection_limit"],
                                     valid_until=item["valid_until"], member_of=item["member_of"], origin="users")
            if item["password_secret_id"]:
                secret_id, key = item["password_secret_id"], item["password_secret_key"]
                value, version = self.secret(secret_id)
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
                self.protect(user.password)
        try:
            db_users.check_unique(users)
        except db_users.LayoutError as e:
            raise ModuleFailure(str(e)) from None

        if self.params["master_secret_id"]:
            secret_id = self.params["master_secret_id"]
            value, _version = self.secret(secret_id)
            try:
                master = db_users.parse_master_secret(value, secret_id)
            except db_users.LayoutError as e:
                raise ModuleFailure(str(e)) from None
        if master is None:
            raise ModuleFailure("no master credentials: set master_secret_id, or use a combined users secret with master_username and master_password")
        self.master = master
        self.protect(master[1])
        for user in users:
            if user.name == master[0]:
                raise ModuleFailure(f"user {user.name!r} is the master user; the master password is managed by the cluster restore, not here")
        return users

    # ------------------------------------------------------------ connection
    def connect(self, user, password, attempts=None):
        p = self.params
        attempts = 1 + max(0, p["connect_retries"]) if attempts is None else attempts
        kwargs = dict(host=p["login_host"], port=p["login_port"], dbname=p["database"], user=user, password=password,
                      sslmode=p["ssl_mode"], connect_timeout=p["connect_timeout"], application_name=APPLICATION_NAME)
        if p["ca_cert"]:
            kwargs["sslrootcert"] = p["ca_cert"]
        where = f"{p['login_host']}:{p['login_port']} (database {p['database']!r}) as {user!r}"
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                conn = psycopg2.connect(**kwargs)
                conn.autocommit = False
                return conn
            except psycopg2.Error as e:
                text = self.redact(pg_error_text(e))
                reason = text.split(" failed: ", 1)[-1] if " failed: " in text else text
                reason = " ".join(reason.split())
                lowered = reason.lower()
                if any(marker in lowered for marker in NOT_RETRIED) or attempt == attempts:
                    elapsed = time.monotonic() - started
                    tries = f" after {attempt} attempt(s) in {elapsed:.1f}s" if attempt > 1 else ""
                    raise ModuleFailure(f"cannot connect to {where}{tries}: {reason}") from None
            time.sleep(p["connect_retry_delay"])
        raise ModuleFailure(f"cannot connect to {where}")

    def execute(self, cursor, statement):
        try:
            cursor.execute(statement.query)
        except psycopg2.Error as e:
            shown = self.redact(statement.render(self.conn))
            raise ModuleFailure(f"statement failed: {shown}: {self.redact(pg_error_text(e))}") from None
        self.statements.append(self.redact(statement.render(self.conn)))

    # ------------------------------------------------------------ users
    def verifier(self, algorithm, user):
        return psycopg2.extensions.encrypt_password(user.password, user.name, self.conn, algorithm)

    def plan_user(self, cursor, user, catalog, valid_until, algorithm, default_owners):
        existing = catalog.roles.get(user.name)
        report = {"name": user.name, "profile": user.profile, "origin": user.origin, "created": existing is None, "altered": [],
                  "password_changed": False, "password_reason": "not managed", "grants_added": [], "grants_revoked": [], "changed": False}
        before = None
        statements = []
        if existing is None:
            verifier = self.verifier(algorithm, user) if user.manages_password else None
            statements.append(db_sql.create_role(user.name, verifier, user.connection_limit, user.valid_until))
            if user.manages_password:
                report.update(password_changed=True, password_reason="new role")
                statements.append(db_sql.comment_on_role(user.name, user.password_marker()))
        else:
            before = {"login": existing["login"], "inherit": existing["inherit"], "connection_limit": existing["connlimit"],
                      "valid_until": existing["validuntil"], "password_version": db_users.parse_password_marker(existing["comment"])[0],
                      "member_of": sorted(catalog.members.get(user.name, ()))}
            changes = {}
            if not existing["login"]:
                changes["login"] = True
                report["altered"].append("login")
            if not existing["inherit"]:
                changes["inherit"] = True
                report["altered"].append("inherit")
            if existing["connlimit"] != user.connection_limit:
                changes["connection_limit"] = user.connection_limit
                report["altered"].append(f"connection limit {user.connection_limit}")
            want_until = valid_until.get(user.valid_until) if user.valid_until else "infinity"
            have_until = existing["validuntil"] or "infinity"
            if want_until != have_until:
                changes["valid_until"] = user.valid_until or "infinity"
                report["altered"].append(f"valid until {changes['valid_until']}")
            if changes:
                statements.append(db_sql.alter_role(user.name, summary=", ".join(report["altered"]), **changes))
            if user.manages_password:
                marker = user.password_marker()
                if self.params["force_password_reset"]:
                    reason = "forced"
                elif existing["comment"] != marker:
                    reason = "secret version changed" if db_users.parse_password_marker(existing["comment"])[0] else "no recorded secret version"
                else:
                    reason = None
                if reason:
                    statements.append(db_sql.alter_password(user.name, self.verifier(algorithm, user)))
                    report.update(password_changed=True, password_reason=reason)
                    if existing["comment"] != marker:
                        statements.append(db_sql.comment_on_role(user.name, marker))
                else:
                    report["password_reason"] = "unchanged"
        try:
            desired = db_privileges.desired_privileges(user.profile, user.grants, self.params["schemas"], user.member_of, f"user {user.name!r}")
            grants = db_privileges.diff_privileges(user.name, desired, catalog, self.params["schemas"], default_owners,
                                                   known_roles=self.known_roles)
        except db_privileges.PrivilegeError as e:
            raise ModuleFailure(str(e)) from None
        for statement in grants:
            report["grants_added" if statement.action == "grant" else "grants_revoked"].append(statement.summary)
        statements += grants
        report["changed"] = bool(statements)
        prefix = "MEMBER OF "
        added = {s.summary[len(prefix):] for s in grants if s.action == "grant" and s.summary.startswith(prefix)}
        removed = {s.summary[len(prefix):] for s in grants if s.action == "revoke" and s.summary.startswith(prefix)}
        member_of = sorted(((set(before["member_of"]) if before else set()) | added) - removed)
        after = {"login": True, "inherit": True, "connection_limit": user.connection_limit, "valid_until": user.valid_until or "infinity",
                 "password_version": user.password_version if user.manages_password else None, "member_of": member_of,
                 "grants_added": report["grants_added"], "grants_revoked": report["grants_revoked"]}
        return statements, report, before, after

    def protected(self, name, role, current_user):
        lowered = name.lower()
        return (name in (self.master[0], current_user) or role["super"] or lowered.startswith(("rds", "pg_"))
                or name in self.params["keep_users"])

    def manage_users(self, users):
        p = self.params
        result = {"users": [], "unmanaged_users": [], "dropped": []}
        diff = {"before": {}, "after": {}}
        cursor = self.conn.cursor()
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY,))
        cursor.execute("SELECT current_user, current_setting('password_encryption')")
        current_user, algorithm = cursor.fetchone()
        if algorithm not in ("scram-sha-256", "md5"):
            algorithm = "scram-sha-256"
        names = [u.name for u in users]
        default_owners = p["default_privileges_for"] or [self.master[0]]
        scope = set(p["schemas"])
        for user in users:
            for grant in user.grants:
                scope.update(grant.get("schemas") or [])
        catalog = db_privileges.read_catalog(cursor, p["database"], scope, names)
        # unmanaged users first: with exclusive=true they are dropped before grants are planned, so that
        # what they owned (now the master's) gets the profiles' privileges in the same run
        desired = set(names)
        for name in sorted(catalog.roles):
            role = catalog.roles[name]
            if name in desired or role is None or not role["login"] or self.protected(name, role, current_user):
                continue
            result["unmanaged_users"].append(name)
        if p["exclusive"] and result["unmanaged_users"]:
            target = p["reassign_owned_to"] or self.master[0]
            if target not in catalog.roles or target in result["unmanaged_users"]:
                raise ModuleFailure(f"reassign_owned_to role {target!r} does not exist or would be dropped")
            for name in result["unmanaged_users"]:
                steps = [db_sql.reassign_owned(name, target), db_sql.drop_owned(name), db_sql.drop_role(name)]
                cursor.execute("SELECT pg_has_role(%s, 'MEMBER'), pg_has_role(%s, 'MEMBER')", (name, target))
                member_of_dropped, member_of_target = cursor.fetchone()
                # REASSIGN / DROP OWNED need the privileges of both roles; a non-superuser master (Aurora) gets them
                # by membership, which disappears with the dropped role
                if not member_of_target:
                    steps.insert(0, db_sql.grant_membership(current_user, target))
                if not member_of_dropped:
                    steps.insert(0, db_sql.grant_membership(current_user, name))
                for statement in steps:
                    try:
                        self.execute(cursor, statement)
                    except ModuleFailure as e:
                        hint = " (it still has objects or privileges in another database: run there too, or keep it)" if "depend" in str(e) else ""
                        raise ModuleFailure(f"cannot drop unmanaged user {name!r}{hint}: {e}") from None
                result["dropped"].append(name)
                diff["before"][name] = {"exists": True}
                diff["after"][name] = {"exists": False}
        if result["dropped"]:
            catalog = db_privileges.read_catalog(cursor, p["database"], scope, names)
        if catalog.unmanageable:
            sample = sorted(catalog.unmanageable.items())[:3]
            shown = ", ".join(f"{schema}.{name} (owner {owner})" for (schema, _kind, name), owner in sample)
            self.warn(f"{len(catalog.unmanageable)} table(s)/sequence(s) in the managed schemas belong to roles {self.master[0]!r} "
                      f"cannot act for, so their privileges are not managed: {shown}")
        for owner in default_owners:
            if owner not in catalog.roles:
                raise ModuleFailure(f"default_privileges_for role {owner!r} does not exist")
        known_roles = set(catalog.roles) | set(names)
        self.known_roles = known_roles
        for user in users:
            missing = [group for group in user.member_of if group not in known_roles]
            if missing:
                raise ModuleFailure(f"user {user.name!r}: member_of role(s) {', '.join(missing)} do not exist")
        valid_until = {}
        for value in sorted({u.valid_until for u in users if u.valid_until}):
            try:
                cursor.execute("SAVEPOINT valid_until")
                cursor.execute("SELECT %s::timestamptz::text", (value,))
                valid_until[value] = cursor.fetchone()[0]
                cursor.execute("RELEASE SAVEPOINT valid_until")
            except psycopg2.Error as e:
                raise ModuleFailure(f"valid_until {value!r} is not a PostgreSQL timestamp: {pg_error_text(e)}") from None

        planned = []
        for user in users:
            statements, report, before, after = self.plan_user(cursor, user, catalog, valid_until, algorithm, default_owners)
            # roles created in this run count as existing for membership grants of later users
            catalog.roles.setdefault(user.name, {"login": True, "super": False, "inherit": True, "connlimit": user.connection_limit,
                                                 "validuntil": None, "comment": None})
            planned.append((statements, report))
            result["users"].append(report)
            if report["changed"]:
                diff["before"][user.name] = before if before is not None else {"exists": False}
                diff["after"][user.name] = after
        # creates and attribute changes first, then privileges, so memberships between managed users work
        for phase in (("create", "alter", "password", "comment"), ("grant", "revoke")):
            for statements, _report in planned:
                for statement in statements:
                    if statement.action in phase:
                        self.execute(cursor, statement)

        cursor.close()
        return result, diff

    # ------------------------------------------------------------ post-restore SQL
    def post_restore_sql(self):
        p = self.params
        items = [(f"inline[{i}]", text) for i, text in enumerate(p["post_restore_sql"])]
        for path in p["post_restore_sql_files"]:
            try:
                with open(path, "rb") as handle:
                    text = handle.read().decode("utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise ModuleFailure(f"cannot read post_restore_sql_files item {path!r}: {getattr(e, 'strerror', None) or e}") from None
            items.append((os.path.basename(path), text))
        if not items:
            return {"status": "none", "restore_marker": p["restore_marker"], "items": []}, False
        marker = p["restore_marker"]
        cursor = self.conn.cursor()
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK_KEY + ".sql",))
        cursor.execute("SELECT to_regclass(%s)", (f"{MARKER_SCHEMA}.{MARKER_TABLE}",))
        applied = {}
        if cursor.fetchone()[0] is not None:
            cursor.execute(sql.SQL("SELECT item, sha256 FROM {} WHERE restore_marker = %s").format(sql.Identifier(MARKER_SCHEMA, MARKER_TABLE)),
                           (marker,))
            applied = dict(cursor.fetchall())
        report = []
        todo = []
        for name, text in items:
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if name in applied:
                status = "skipped"
                if applied[name] != digest:
                    self.warn(f"post-restore SQL item {name!r} changed since it was applied for restore marker {marker!r}; not run again")
            else:
                status = "would_apply" if self.module.check_mode else "applied"
                todo.append((name, text, digest))
            report.append({"name": name, "sha256": digest, "status": status})
        if not todo:
            cursor.close()
            self.conn.rollback()
            return {"status": "skipped", "restore_marker": marker, "items": report}, False
        if self.module.check_mode:
            cursor.close()
            self.conn.rollback()
            return {"status": "would_apply", "restore_marker": marker, "items": report}, True
        cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(MARKER_SCHEMA)))
        cursor.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (restore_marker text NOT NULL, item text NOT NULL, sha256 text NOT NULL, "
                               "applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL DEFAULT current_user, "
                               "PRIMARY KEY (restore_marker, item))").format(sql.Identifier(MARKER_SCHEMA, MARKER_TABLE)))
        for name, text, digest in todo:
            try:
                cursor.execute(text)
            except psycopg2.Error as e:
                self.conn.rollback()
                raise ModuleFailure(f"post-restore SQL {name!r} failed (nothing of it was applied): {self.redact(pg_error_text(e))}") from None
            cursor.execute(sql.SQL("INSERT INTO {} (restore_marker, item, sha256) VALUES (%s, %s, %s)").format(
                sql.Identifier(MARKER_SCHEMA, MARKER_TABLE)), (marker, name, digest))
            self.statements.append(f"-- post-restore SQL {name} (sha256 {digest[:12]})")
        self.conn.commit()
        cursor.close()
        return {"status": "applied", "restore_marker": marker, "items": report}, True

    # ------------------------------------------------------------ smoke checks
    def smoke_checks(self):
        results = []
        for check in self.params["smoke_checks"]:
            name = check["name"]
            conn = self.conn
            own = False
            if check["run_as"]:
                if check["run_as"] not in self.passwords:
                    raise ModuleFailure(f"smoke check {name!r}: run_as {check['run_as']!r} is not a managed user with a password")
                conn = self.connect(check["run_as"], self.passwords[check["run_as"]], attempts=1)
                own = True
            try:
                results.append(self.smoke_check(conn, check))
            finally:
                if own:
                    conn.close()
        failed = [r for r in results if not r["passed"]]
        if failed:
            first = failed[0]
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            raise ModuleFailure(f"smoke check {first['name']!r} failed: {first['message']}{more}", smoke_checks=results)
        return results

    def smoke_check(self, conn, check):
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
            result["message"] = f"query error: {self.redact(pg_error_text(e))}"
            return result
        finally:
            cursor.close()
        conn.rollback()
        result["rows"] = len(rows)
        if rows and rows[0]:
            result["value"] = _as_text(rows[0][0])
        if check["expect_value"] is not None:
            want = _as_text(check["expect_value"])
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
        result["value"] = self.redact(result["value"])
        return result

    # ------------------------------------------------------------ run
    def run(self):
        p = self.params
        users = self.load_users()
        self.conn = self.connect(*self.master)
        result = {"changed": False, "users": [], "unmanaged_users": [], "dropped": [], "statements": self.statements,
                  "post_restore_sql": {"status": "none", "restore_marker": p["restore_marker"], "items": []}, "smoke_checks": [],
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
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
        return result


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    return str(value)


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
    smoke_spec = dict(
        name=dict(type="str", required=True),
        query=dict(type="str", required=True),
        expect_rows=dict(type="bool"),
        expect_value=dict(type="raw"),
        run_as=dict(type="str"),
        timeout=dict(type="int", default=30),
    )
    return dict(
        login_host=dict(type="str", required=True, aliases=["host"]),
        login_port=dict(type="int", default=5432, aliases=["port"]),
        database=dict(type="str", default="postgres", aliases=["login_db", "db"]),
        master_secret_id=dict(type="str"),
        ssl_mode=dict(type="str", default="prefer", choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
        ca_cert=dict(type="path", aliases=["ssl_rootcert"]),
        connect_timeout=dict(type="int", default=10),
        connect_retries=dict(type="int", default=5),
        connect_retry_delay=dict(type="float", default=5.0),
        users_secret_id=dict(type="str"),
        users_secret_layout=dict(type="str", default="auto", choices=list(db_users.LAYOUTS)),
        users=dict(type="list", elements="dict", default=[], options=user_spec),
        schemas=dict(type="list", elements="str", default=["public"]),
        default_privileges_for=dict(type="list", elements="str"),
        exclusive=dict(type="bool", default=False),
        keep_users=dict(type="list", elements="str", default=[]),
        reassign_owned_to=dict(type="str"),
        force_password_reset=dict(type="bool", default=False, no_log=False),
        post_restore_sql=dict(type="list", elements="str", default=[]),
        post_restore_sql_files=dict(type="list", elements="path", default=[]),
        restore_marker=dict(type="str"),
        smoke_checks=dict(type="list", elements="dict", default=[], options=smoke_spec),
    )


def main():
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
    )
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"))
    p = module.params
    if (p["post_restore_sql"] or p["post_restore_sql_files"]) and not p["restore_marker"]:
        module.fail_json(msg="restore_marker is required with post_restore_sql or post_restore_sql_files (it makes them run once per restore)")
    if p["exclusive"] and not (p["users"] or p["users_secret_id"]):
        module.fail_json(msg="exclusive=true needs a desired set of users (users_secret_id or users); refusing to drop every user")
    if not p["schemas"]:
        module.fail_json(msg="schemas must name at least one schema")
    for check in p["smoke_checks"]:
        if check["expect_rows"] is not None and check["expect_value"] is not None:
            module.fail_json(msg=f"smoke check {check['name']!r}: set expect_rows or expect_value, not both")

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
