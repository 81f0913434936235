# -*- coding: utf-8 -*-
# Copyright (c) 2025 dbops platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Privilege model for database users: profiles, custom grants, the catalog as it is, and the diff.

``desired_privileges`` turns a profile plus custom grants into plain sets; ``read_catalog`` reads every
role, membership and ACL that matters in a handful of queries (never ``pg_authid``); ``diff_privileges``
returns the grant / revoke statements that make the catalog match, touching only the managed scope
(the database, the managed schemas, their tables and sequences, and default privileges of the
chosen owner roles).
"""

from __future__ import annotations

from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_sql

KINDS = ("table", "sequence")
VALID_PRIVILEGES = {
    "database": ("CONNECT", "CREATE", "TEMPORARY"),
    "schema": ("CREATE", "USAGE"),
    "table": ("DELETE", "INSERT", "REFERENCES", "SELECT", "TRIGGER", "TRUNCATE", "UPDATE"),
    "sequence": ("SELECT", "UPDATE", "USAGE"),
}
PRIVILEGE_ALIASES = {"TEMP": "TEMPORARY"}

_APP_TABLE = frozenset(("SELECT", "INSERT", "UPDATE", "DELETE"))
_APP_SEQUENCE = frozenset(("USAGE", "SELECT", "UPDATE"))
PROFILE_PRIVILEGES = {
    "app": {"database": frozenset(("CONNECT", "TEMPORARY")), "schema": frozenset(("USAGE",)), "table": _APP_TABLE,
            "sequence": _APP_SEQUENCE, "optional_roles": ()},
    "readonly": {"database": frozenset(("CONNECT",)), "schema": frozenset(("USAGE",)), "table": frozenset(("SELECT",)),
                 "sequence": frozenset(("SELECT",)), "optional_roles": ()},
    "devops": {"database": frozenset(("CONNECT", "TEMPORARY")), "schema": frozenset(("USAGE", "CREATE")), "table": _APP_TABLE,
               "sequence": _APP_SEQUENCE, "optional_roles": ("pg_monitor", "pg_signal_backend")},
    "custom": {"database": frozenset(), "schema": frozenset(), "table": frozenset(), "sequence": frozenset(), "optional_roles": ()},
}
# Memberships the module never revokes (granted by AWS features such as IAM authentication).
PROTECTED_GROUP_PREFIXES = ("rds",)


class PrivilegeError(Exception):
    """Invalid grant specification or managed scope; ``str()`` is a one-line message."""


def normalize_privileges(privileges, kind, where):
    """Upper-case, resolve aliases and ALL, and validate privileges for ``kind``."""
    if isinstance(privileges, str):
        privileges = [p for p in privileges.replace(",", " ").split() if p]
    result = set()
    for privilege in privileges or []:
        name = str(privilege).strip().upper().replace("ALL PRIVILEGES", "ALL")
        name = PRIVILEGE_ALIASES.get(name, name)
        if name == "ALL":
            result.update(VALID_PRIVILEGES[kind])
        elif name in VALID_PRIVILEGES[kind]:
            result.add(name)
        else:
            raise PrivilegeError(f"{where}: privilege {privilege!r} is not valid on a {kind}; use {', '.join(VALID_PRIVILEGES[kind])} or ALL")
    if not result:
        raise PrivilegeError(f"{where}: no privileges given")
    return result


class Desired:
    """What one user should have, as plain sets."""

    def __init__(self):
        self.database = set()
        self.schemas = {}           # schema -> set
        self.relations = {}         # (schema, kind) -> {"all": set, "objects": {name: set}}
        self.defaults = {}          # (schema, kind) -> set
        self.roles = set()          # required memberships
        self.optional_roles = set()  # memberships granted when the role exists

    def scope_schemas(self):
        names = set(self.schemas)
        names.update(key[0] for key in self.relations)
        names.update(key[0] for key in self.defaults)
        return names

    def _relation(self, schema, kind):
        return self.relations.setdefault((schema, kind), {"all": set(), "objects": {}})

    def add_profile(self, profile, schemas):
        spec = PROFILE_PRIVILEGES[profile]
        self.database |= spec["database"]
        for schema in schemas:
            if spec["schema"]:
                self.schemas.setdefault(schema, set()).update(spec["schema"])
            for kind in KINDS:
                if spec[kind]:
                    self._relation(schema, kind)["all"].update(spec[kind])
                    self.defaults.setdefault((schema, kind), set()).update(spec[kind])
        self.optional_roles.update(spec["optional_roles"])

    def add_grant(self, grant, default_schemas, where):
        kind = grant.get("type") or "table"
        if kind not in VALID_PRIVILEGES:
            raise PrivilegeError(f"{where}: grant type {kind!r} is not one of {', '.join(VALID_PRIVILEGES)}")
        privileges = normalize_privileges(grant.get("privileges"), kind, where)
        if kind == "database":
            self.database |= privileges
            return
        schemas = grant.get("schemas") or default_schemas
        if kind == "schema":
            for schema in schemas:
                self.schemas.setdefault(schema, set()).update(privileges)
            return
        objects = grant.get("objects") or []
        defaults = grant.get("default_privileges")
        if defaults is None:
            defaults = not objects
        for schema in schemas:
            relation = self._relation(schema, kind)
            if objects:
                for obj in objects:
                    relation["objects"].setdefault(obj, set()).update(privileges)
            else:
                relation["all"].update(privileges)
            if defaults:
                self.defaults.setdefault((schema, kind), set()).update(privileges)
        # a schema's objects are unreachable without USAGE on it
        for schema in schemas:
            self.schemas.setdefault(schema, set()).add("USAGE")


def desired_privileges(profile, grants, schemas, member_of, where):
    desired = Desired()
    desired.add_profile(profile, schemas)
    for grant in grants or []:
        desired.add_grant(grant, schemas, where)
    desired.roles.update(member_of or [])
    return desired


# ---------------------------------------------------------------- catalog

ROLES_QUERY = """
SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolinherit, r.rolconnlimit, r.rolvaliduntil::text,
       shobj_description(r.oid, 'pg_authid') AS comment
  FROM pg_catalog.pg_roles r
"""
MEMBERS_QUERY = """
SELECT m.rolname AS member, g.rolname AS grp
  FROM pg_catalog.pg_auth_members am
  JOIN pg_catalog.pg_roles m ON m.oid = am.member
  JOIN pg_catalog.pg_roles g ON g.oid = am.roleid
"""
DATABASE_ACL_QUERY = """
SELECT g.rolname, a.privilege_type
  FROM pg_catalog.pg_database d
 CROSS JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
  JOIN pg_catalog.pg_roles g ON g.oid = a.grantee
 WHERE d.datname = current_database() AND g.rolname = ANY(%(grantees)s)
"""
SCHEMAS_QUERY = """
SELECT n.nspname, pg_catalog.pg_get_userbyid(n.nspowner) AS owner
  FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY(%(schemas)s)
"""
SCHEMA_ACL_QUERY = """
SELECT n.nspname, g.rolname, a.privilege_type
  FROM pg_catalog.pg_namespace n
 CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
  JOIN pg_catalog.pg_roles g ON g.oid = a.grantee
 WHERE n.nspname = ANY(%(schemas)s) AND g.rolname = ANY(%(grantees)s)
"""
RELATIONS_QUERY = """
SELECT n.nspname, c.relname, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS kind,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner, pg_catalog.pg_has_role(c.relowner, 'USAGE') AS manageable
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
"""
RELATION_ACL_QUERY = """
SELECT n.nspname, c.relname, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS kind, g.rolname, a.privilege_type
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL aclexplode(c.relacl) a
  JOIN pg_catalog.pg_roles g ON g.oid = a.grantee
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relacl IS NOT NULL
   AND g.rolname = ANY(%(grantees)s)
"""
DEFAULT_ACL_QUERY = """
SELECT pg_catalog.pg_get_userbyid(d.defaclrole) AS owner, n.nspname,
       CASE WHEN d.defaclobjtype = 'S' THEN 'sequence' ELSE 'table' END AS kind, g.rolname, a.privilege_type
  FROM pg_catalog.pg_default_acl d JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
 CROSS JOIN LATERAL aclexplode(d.defaclacl) a
  JOIN pg_catalog.pg_roles g ON g.oid = a.grantee
 WHERE n.nspname = ANY(%(schemas)s) AND d.defaclobjtype IN ('r', 'S') AND g.rolname = ANY(%(grantees)s)
"""


class Catalog:
    """The catalog state that matters, as plain data (built by read_catalog or by tests)."""

    def __init__(self, database="postgres"):
        self.database = database
        self.roles = {}         # name -> dict(login, super, inherit, connlimit, validuntil, comment)
        self.members = {}       # member -> set(groups)
        self.db_acl = {}        # grantee -> set
        self.schemas = {}       # schema -> owner
        self.schema_acl = {}    # (schema, grantee) -> set
        self.relations = {}     # (schema, kind) -> {name: owner}
        self.relation_acl = {}  # (schema, kind, name, grantee) -> set
        self.default_acl = {}   # (owner, schema, kind, grantee) -> set
        self.unmanageable = {}  # (schema, kind, name) -> owner: objects whose owner the connected user cannot act for


def read_catalog(cursor, database, schemas, grantees):
    """Read the catalog for ``schemas`` and the ACL entries of ``grantees`` (list of role names)."""
    catalog = Catalog(database)
    params = {"schemas": sorted(schemas), "grantees": sorted(grantees)}
    cursor.execute(ROLES_QUERY)
    for name, login, superuser, inherit, connlimit, validuntil, comment in cursor.fetchall():
        catalog.roles[name] = {"login": login, "super": superuser, "inherit": inherit, "connlimit": connlimit,
                               "validuntil": validuntil, "comment": comment}
    cursor.execute(MEMBERS_QUERY)
    for member, group in cursor.fetchall():
        catalog.members.setdefault(member, set()).add(group)
    cursor.execute(DATABASE_ACL_QUERY, params)
    for grantee, privilege in cursor.fetchall():
        catalog.db_acl.setdefault(grantee, set()).add(privilege)
    cursor.execute(SCHEMAS_QUERY, params)
    catalog.schemas = dict(cursor.fetchall())
    cursor.execute(SCHEMA_ACL_QUERY, params)
    for schema, grantee, privilege in cursor.fetchall():
        catalog.schema_acl.setdefault((schema, grantee), set()).add(privilege)
    cursor.execute(RELATIONS_QUERY, params)
    for schema, name, kind, owner, manageable in cursor.fetchall():
        catalog.relations.setdefault((schema, kind), {})[name] = owner
        if not manageable:
            catalog.unmanageable[(schema, kind, name)] = owner
    cursor.execute(RELATION_ACL_QUERY, params)
    for schema, name, kind, grantee, privilege in cursor.fetchall():
        catalog.relation_acl.setdefault((schema, kind, name, grantee), set()).add(privilege)
    cursor.execute(DEFAULT_ACL_QUERY, params)
    for owner, schema, kind, grantee, privilege in cursor.fetchall():
        catalog.default_acl.setdefault((owner, schema, kind, grantee), set()).add(privilege)
    return catalog


# ---------------------------------------------------------------- diff

def _relation_statements(user, kind, schema, desired_rel, catalog, revoke_scope):
    """Grant what is missing and revoke what is extra on the tables or sequences of one schema."""
    statements = []
    existing = catalog.relations.get((schema, kind), {})
    missing, extra = {}, {}
    for name, owner in existing.items():
        if owner == user or (schema, kind, name) in catalog.unmanageable:
            continue  # the owner has every privilege implicitly; objects of roles we cannot act for are left alone
        want = set(desired_rel["all"]) | desired_rel["objects"].get(name, set()) if desired_rel else set()
        have = catalog.relation_acl.get((schema, kind, name, user), set())
        if want - have:
            missing.setdefault(frozenset(want - have), []).append(name)
        if revoke_scope and have - want:
            extra.setdefault(frozenset(have - want), []).append(name)
    owns_some = any(owner == user or (schema, kind, name) in catalog.unmanageable for name, owner in existing.items())
    for revoke, groups in ((False, missing), (True, extra)):
        for privileges, names in sorted(groups.items(), key=lambda item: sorted(item[0])):
            if len(names) == len(existing) and not owns_some:
                statements.append(db_sql.grant_all_in_schema(user, kind, schema, privileges, revoke=revoke))
            else:
                statements.append(db_sql.grant_objects(user, kind, schema, sorted(names), privileges, revoke=revoke))
    if desired_rel:
        for name in sorted(desired_rel["objects"]):
            if name not in existing:
                raise PrivilegeError(f"user {user!r}: {kind} {schema}.{name} does not exist in database {catalog.database!r}")
    return statements


def diff_privileges(user, desired, catalog, managed_schemas, default_owners, known_roles=None):
    """Statements (grants first, then revokes) that give ``user`` exactly ``desired`` within the managed scope."""
    statements = []
    database = catalog.database
    have = catalog.db_acl.get(user, set())
    if desired.database - have:
        statements.append(db_sql.grant_database(user, database, desired.database - have))
    if have - desired.database:
        statements.append(db_sql.grant_database(user, database, have - desired.database, revoke=True))

    scope = set(managed_schemas) | desired.scope_schemas()
    for schema in sorted(scope):
        if schema not in catalog.schemas:
            raise PrivilegeError(f"schema {schema!r} does not exist in database {database!r}")
        owner = catalog.schemas[schema]
        want = desired.schemas.get(schema, set())
        have = catalog.schema_acl.get((schema, user), set())
        if owner != user:
            if want - have:
                statements.append(db_sql.grant_schema(user, schema, want - have))
            if have - want:
                statements.append(db_sql.grant_schema(user, schema, have - want, revoke=True))
        for kind in KINDS:
            statements += _relation_statements(user, kind, schema, desired.relations.get((schema, kind)), catalog, True)
        for owner_role in default_owners:
            if owner_role == user:
                continue
            for kind in KINDS:
                want = desired.defaults.get((schema, kind), set())
                have = catalog.default_acl.get((owner_role, schema, kind, user), set())
                if want - have:
                    statements.append(db_sql.default_privileges(user, owner_role, schema, kind, want - have))
                if have - want:
                    statements.append(db_sql.default_privileges(user, owner_role, schema, kind, have - want, revoke=True))

    known = set(catalog.roles) | set(known_roles or ())
    wanted_roles = set(desired.roles) | {role for role in desired.optional_roles if role in known}
    missing_roles = sorted(role for role in desired.roles if role not in known)
    if missing_roles:
        raise PrivilegeError(f"user {user!r}: member_of role(s) {', '.join(missing_roles)} do not exist")
    current = catalog.members.get(user, set())
    for group in sorted(wanted_roles - current):
        statements.append(db_sql.grant_membership(user, group))
    for group in sorted(current - wanted_roles):
        if not group.lower().startswith(PROTECTED_GROUP_PREFIXES):
            statements.append(db_sql.grant_membership(user, group, revoke=True))
    # grants before revokes keeps the report readable; order does not change the outcome
    return [s for s in statements if s.action == "grant"] + [s for s in statements if s.action == "revoke"]
