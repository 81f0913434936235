# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Making a database's login roles match the desired users (aurora_db_users): what to create, alter, grant, revoke
or drop, computed from the catalog, then executed in one transaction the caller commits or rolls back."""

from __future__ import annotations

try:
    import psycopg2
    import psycopg2.extensions
except ImportError:
    psycopg2 = None

from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_privileges
from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_sql
from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_users
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import DbFailure
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import pg_error_text

LOCK_KEY = "dbops.aurora_restore.aurora_db_users"


class UserReconciler:
    """The users of one connection's database: `execute(cursor, statement)` runs (and records) each statement."""

    def __init__(self, conn, params, master, execute, warn):
        self.conn = conn
        self.params = params
        self.master = master
        self.execute = execute
        self.warn = warn
        self.known_roles = set()

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
            raise DbFailure(str(e)) from None
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
                raise DbFailure(f"reassign_owned_to role {target!r} does not exist or would be dropped")
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
                    except DbFailure as e:
                        hint = " (it still has objects or privileges in another database: run there too, or keep it)" if "depend" in str(e) else ""
                        raise DbFailure(f"cannot drop unmanaged user {name!r}{hint}: {e}") from None
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
                raise DbFailure(f"default_privileges_for role {owner!r} does not exist")
        known_roles = set(catalog.roles) | set(names)
        self.known_roles = known_roles
        for user in users:
            missing = [group for group in user.member_of if group not in known_roles]
            if missing:
                raise DbFailure(f"user {user.name!r}: member_of role(s) {', '.join(missing)} do not exist")
        valid_until = {}
        for value in sorted({u.valid_until for u in users if u.valid_until}):
            try:
                cursor.execute("SAVEPOINT valid_until")
                cursor.execute("SELECT %s::timestamptz::text", (value,))
                valid_until[value] = cursor.fetchone()[0]
                cursor.execute("RELEASE SAVEPOINT valid_until")
            except psycopg2.Error as e:
                raise DbFailure(f"valid_until {value!r} is not a PostgreSQL timestamp: {pg_error_text(e)}") from None

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
