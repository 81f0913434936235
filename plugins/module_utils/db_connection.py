# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connecting to a restored cluster's database, for the db modules (aurora_db_users, aurora_db_sql): the shared
connection options, credentials from Secrets Manager kept out of every output, connection retry, error text."""

from __future__ import annotations

import time

try:
    import psycopg2

    HAS_PSYCOPG2 = True
except ImportError:
    psycopg2 = None
    HAS_PSYCOPG2 = False

from ansible_collections.dbops.aurora_restore.plugins.module_utils import db_users
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import Redactor
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import SecretError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import read_json_secret
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import sensitive_leaves

# Connection failures that waiting cannot fix: fail at once (a refused, timed out, unresolvable or starting endpoint is retried).
NOT_RETRIED = ("authentication failed", "no pg_hba.conf entry", "does not exist", "certificate", "ssl error", "does not support ssl",
               "permission denied", "invalid sslmode", "is not permitted to log in", "root certificate file")


def connection_argument_spec():
    """The options every db module connects with."""
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
    )


class DbFailure(Exception):
    """A failure with a safe one-line message (already redacted); `extra` goes into the module's result."""

    def __init__(self, message, **extra):
        super().__init__(message)
        self.extra = extra


def first_line(text):
    for line in str(text).splitlines():
        line = line.strip()
        if line:
            return line
    return ""


def pg_error_text(error):
    """A one-line description of a psycopg2 error: the primary message only (never the statement)."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or first_line(error) or type(error).__name__
    for prefix in ("FATAL:", "ERROR:"):
        text = text.replace(prefix, "").strip()
    return text


class Credentials:
    """Secrets read once each; every secret-looking value in them is masked (no_log) and redacted from any text."""

    def __init__(self, module, redact=None):
        self.module = module
        self.redact = redact if redact is not None else Redactor()
        self.secrets = {}
        self._client = None

    def protect(self, value):
        self.redact.add(value)
        if isinstance(value, str) and value:
            self.module.no_log_values.add(value)

    def secret(self, secret_id):
        """(decoded value, version id) of a JSON secret."""
        if secret_id not in self.secrets:
            if self._client is None:
                self._client = self.module.client("secretsmanager")
            try:
                self.secrets[secret_id] = read_json_secret(self._client, secret_id)
            except SecretError as e:
                raise DbFailure(str(e)) from None
            for value in sensitive_leaves(self.secrets[secret_id][0]):
                self.protect(value)
        return self.secrets[secret_id]

    def users_secret(self, secret_id, layout):
        """([UserSpec], master or None) of a users secret."""
        value, version = self.secret(secret_id)
        try:
            return db_users.parse_users_secret(value, layout, secret_id, version)
        except db_users.LayoutError as e:
            raise DbFailure(str(e)) from None

    def master(self, master_secret_id, from_users_secret=None):
        """(user, password) of the master secret, else the combined users secret's master; protected."""
        master = from_users_secret
        if master_secret_id:
            value, dummy = self.secret(master_secret_id)
            try:
                master = db_users.parse_master_secret(value, master_secret_id)
            except db_users.LayoutError as e:
                raise DbFailure(str(e)) from None
        if master is None:
            raise DbFailure("no master credentials: set master_secret_id, or use a combined users secret with master_username and master_password")
        self.protect(master[1])
        return master


def connect(params, user, password, redact, application_name, attempts=None):
    """A psycopg2 connection (autocommit off) with `params`' connection options, retried on what waiting can fix."""
    attempts = 1 + max(0, params["connect_retries"]) if attempts is None else attempts
    kwargs = dict(host=params["login_host"], port=params["login_port"], dbname=params["database"], user=user, password=password,
                  sslmode=params["ssl_mode"], connect_timeout=params["connect_timeout"], application_name=application_name)
    if params["ca_cert"]:
        kwargs["sslrootcert"] = params["ca_cert"]
    where = f"{params['login_host']}:{params['login_port']} (database {params['database']!r}) as {user!r}"
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            conn = psycopg2.connect(**kwargs)
            conn.autocommit = False
            return conn
        except psycopg2.Error as e:
            text = redact(pg_error_text(e))
            reason = text.split(" failed: ", 1)[-1] if " failed: " in text else text
            reason = " ".join(reason.split())
            lowered = reason.lower()
            if any(marker in lowered for marker in NOT_RETRIED) or attempt == attempts:
                elapsed = time.monotonic() - started
                tries = f" after {attempt} attempt(s) in {elapsed:.1f}s" if attempt > 1 else ""
                raise DbFailure(f"cannot connect to {where}{tries}: {reason}") from None
        time.sleep(params["connect_retry_delay"])
    raise DbFailure(f"cannot connect to {where}")


def close_quietly(conn, rollback=False):
    if conn is None:
        return
    try:
        if rollback:
            conn.rollback()
        conn.close()
    except psycopg2.Error:
        pass
