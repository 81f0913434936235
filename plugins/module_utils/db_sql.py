# -*- coding: utf-8 -*-
# Copyright (c) 2025 dbops platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQL composition for database users, with redaction of secrets.

Every statement is built with ``psycopg2.sql`` (Identifier / Literal); privilege keywords come from a
fixed whitelist. A :class:`Statement` carries the query to run and a display form in which any
password (or password verifier) is replaced by ``'********'``.
"""

from __future__ import annotations

try:
    from psycopg2 import sql

    HAS_PSYCOPG2_SQL = True
except ImportError:
    sql = None
    HAS_PSYCOPG2_SQL = False

from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import REDACTED
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import Redactor  # noqa: F401  pylint: disable=unused-import

OBJECT_KEYWORDS = {"table": "TABLE", "sequence": "SEQUENCE"}
ALL_KEYWORDS = {"table": "ALL TABLES", "sequence": "ALL SEQUENCES"}
DEFAULT_KEYWORDS = {"table": "TABLES", "sequence": "SEQUENCES"}


class Statement:
    """A statement to execute, its redacted display form and what it does for the report."""

    __slots__ = ("query", "display", "role", "action", "summary")

    def __init__(self, query, display=None, role=None, action=None, summary=None):
        self.query = query
        self.display = display if display is not None else query
        self.role = role
        self.action = action
        self.summary = summary

    def render(self, conn):
        """The display text (passwords redacted)."""
        if isinstance(self.display, str):
            return self.display
        return self.display.as_string(conn)


def _privs(privileges):
    return sql.SQL(", ").join(sql.SQL(p) for p in sorted(privileges))


def _names(names):
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _role_options(connection_limit=None, valid_until=None, login=True, inherit=True):
    parts = []
    if login is not None:
        parts.append(sql.SQL("LOGIN" if login else "NOLOGIN"))
    if inherit is not None:
        parts.append(sql.SQL("INHERIT" if inherit else "NOINHERIT"))
    if connection_limit is not None:
        parts.append(sql.SQL("CONNECTION LIMIT {}").format(sql.Literal(int(connection_limit))))
    if valid_until is not None:
        parts.append(sql.SQL("VALID UNTIL {}").format(sql.Literal(valid_until)))
    return parts


def create_role(name, verifier=None, connection_limit=-1, valid_until=None):
    parts = _role_options(connection_limit, valid_until)
    shown = list(parts)
    if verifier is not None:
        parts.append(sql.SQL("PASSWORD {}").format(sql.Literal(verifier)))
        shown.append(sql.SQL("PASSWORD {}").format(sql.SQL("'" + REDACTED + "'")))
    head = sql.SQL("CREATE ROLE {} WITH ").format(sql.Identifier(name))
    return Statement(head + sql.SQL(" ").join(parts), head + sql.SQL(" ").join(shown), name, "create", "create role")


def alter_role(name, connection_limit=None, valid_until=None, login=None, inherit=None, summary="alter role"):
    parts = _role_options(connection_limit, valid_until, login, inherit)
    query = sql.SQL("ALTER ROLE {} WITH ").format(sql.Identifier(name)) + sql.SQL(" ").join(parts)
    return Statement(query, role=name, action="alter", summary=summary)


def alter_password(name, verifier):
    query = sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(sql.Identifier(name), sql.Literal(verifier))
    display = sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(sql.Identifier(name), sql.SQL("'" + REDACTED + "'"))
    return Statement(query, display, name, "password", "password")


def comment_on_role(name, comment):
    query = sql.SQL("COMMENT ON ROLE {} IS {}").format(sql.Identifier(name), sql.Literal(comment))
    return Statement(query, role=name, action="comment", summary="password version marker")


def grant_database(name, database, privileges, revoke=False):
    fmt = "REVOKE {} ON DATABASE {} FROM {}" if revoke else "GRANT {} ON DATABASE {} TO {}"
    query = sql.SQL(fmt).format(_privs(privileges), sql.Identifier(database), sql.Identifier(name))
    summary = f"{', '.join(sorted(privileges))} ON DATABASE {database}"
    return Statement(query, role=name, action="revoke" if revoke else "grant", summary=summary)


def grant_schema(name, schema, privileges, revoke=False):
    fmt = "REVOKE {} ON SCHEMA {} FROM {}" if revoke else "GRANT {} ON SCHEMA {} TO {}"
    query = sql.SQL(fmt).format(_privs(privileges), sql.Identifier(schema), sql.Identifier(name))
    summary = f"{', '.join(sorted(privileges))} ON SCHEMA {schema}"
    return Statement(query, role=name, action="revoke" if revoke else "grant", summary=summary)


def grant_all_in_schema(name, kind, schema, privileges, revoke=False):
    fmt = "REVOKE {} ON " + ALL_KEYWORDS[kind] + " IN SCHEMA {} FROM {}" if revoke else "GRANT {} ON " + ALL_KEYWORDS[kind] + " IN SCHEMA {} TO {}"
    query = sql.SQL(fmt).format(_privs(privileges), sql.Identifier(schema), sql.Identifier(name))
    summary = f"{', '.join(sorted(privileges))} ON {ALL_KEYWORDS[kind]} IN SCHEMA {schema}"
    return Statement(query, role=name, action="revoke" if revoke else "grant", summary=summary)


def grant_objects(name, kind, schema, objects, privileges, revoke=False):
    targets = sql.SQL(", ").join(sql.Identifier(schema, obj) for obj in objects)
    fmt = "REVOKE {} ON " + OBJECT_KEYWORDS[kind] + " {} FROM {}" if revoke else "GRANT {} ON " + OBJECT_KEYWORDS[kind] + " {} TO {}"
    query = sql.SQL(fmt).format(_privs(privileges), targets, sql.Identifier(name))
    shown = ", ".join(f"{schema}.{obj}" for obj in objects[:5]) + (f" (+{len(objects) - 5} more)" if len(objects) > 5 else "")
    summary = f"{', '.join(sorted(privileges))} ON {OBJECT_KEYWORDS[kind]} {shown}"
    return Statement(query, role=name, action="revoke" if revoke else "grant", summary=summary)


def default_privileges(name, owner, schema, kind, privileges, revoke=False):
    action = "REVOKE {} ON " + DEFAULT_KEYWORDS[kind] + " FROM {}" if revoke else "GRANT {} ON " + DEFAULT_KEYWORDS[kind] + " TO {}"
    fmt = "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} " + action
    query = sql.SQL(fmt).format(sql.Identifier(owner), sql.Identifier(schema), _privs(privileges), sql.Identifier(name))
    summary = f"DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema}: {', '.join(sorted(privileges))} ON {DEFAULT_KEYWORDS[kind]}"
    return Statement(query, role=name, action="revoke" if revoke else "grant", summary=summary)


def grant_membership(name, group, revoke=False):
    fmt = "REVOKE {} FROM {}" if revoke else "GRANT {} TO {}"
    query = sql.SQL(fmt).format(sql.Identifier(group), sql.Identifier(name))
    return Statement(query, role=name, action="revoke" if revoke else "grant", summary=f"MEMBER OF {group}")


def reassign_owned(name, new_owner):
    query = sql.SQL("REASSIGN OWNED BY {} TO {}").format(sql.Identifier(name), sql.Identifier(new_owner))
    return Statement(query, role=name, action="drop", summary=f"reassign owned to {new_owner}")


def drop_owned(name):
    return Statement(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)), role=name, action="drop", summary="drop owned")


def drop_role(name):
    return Statement(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)), role=name, action="drop", summary="drop role")
