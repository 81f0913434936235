# -*- coding: utf-8 -*-
# Copyright (c) 2025 dbops platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Database users from Secrets Manager: secret layouts, user specs, name validation.

Pure Python (no database, no AWS): parse the three users-secret layouts of the original pipeline
(nested, flat, combined with ``master_*`` keys), the master secret, and validate role names.
Error messages name keys and secrets, never values.
"""

from __future__ import annotations

import hashlib
import re

LAYOUTS = ("auto", "nested", "flat", "combined")
PROFILES = ("app", "readonly", "devops", "custom")

# nested layout: top-level key -> profile
NESTED_KEYS = (("application_user", "app"), ("readonly_user", "readonly"), ("devops_user", "devops"))
# flat / combined layout: key prefix -> profile
FLAT_PREFIXES = (("app", "app"), ("readonly", "readonly"), ("devops", "devops"))
NESTED_NAMES = tuple(key for key, profile in NESTED_KEYS)
FLAT_USER_KEYS = tuple(f"{prefix}_username" for prefix, profile in FLAT_PREFIXES)

PASSWORD_MARKER_PREFIX = "dbops.aurora_restore"
_MARKER_RE = re.compile(r"^dbops\.aurora_restore secret-version=(?P<version>\S+) source=(?P<source>[0-9a-f]+)")

MAX_IDENTIFIER_BYTES = 63
RESERVED_ROLE_NAMES = ("public", "none", "current_user", "session_user", "current_role", "user", "all")


class LayoutError(Exception):
    """A secret does not have the expected layout; ``str()`` is a safe one-line message."""


class UserSpec:
    """One desired database user."""

    __slots__ = ("name", "profile", "password", "password_source", "password_version", "grants", "connection_limit",
                 "valid_until", "member_of", "origin")

    def __init__(self, name, profile="app", password=None, password_source=None, password_version=None, grants=None,
                 connection_limit=-1, valid_until=None, member_of=None, origin="users"):
        self.name = name
        self.profile = profile
        self.password = password
        self.password_source = password_source
        self.password_version = password_version
        self.grants = list(grants or [])
        self.connection_limit = -1 if connection_limit is None else connection_limit
        self.valid_until = valid_until
        self.member_of = list(member_of or [])
        self.origin = origin

    def __repr__(self):  # never shows the password
        return f"UserSpec({self.name!r}, profile={self.profile!r}, origin={self.origin!r})"

    @property
    def manages_password(self):
        return self.password is not None

    def password_marker(self):
        """The role comment that records which secret version set the password."""
        if not self.manages_password:
            return None
        return password_marker(self.password_source, self.password_version)


def source_digest(secret_id, key_path):
    """A short, stable, non-secret fingerprint of where a password comes from."""
    return hashlib.sha256(f"{secret_id}#{key_path}".encode("utf-8")).hexdigest()[:12]


def password_marker(source, version):
    return f"{PASSWORD_MARKER_PREFIX} secret-version={version or 'unknown'} source={source}"


def parse_password_marker(comment):
    """Return (version, source) recorded in a role comment, or (None, None)."""
    if not comment:
        return None, None
    match = _MARKER_RE.match(comment)
    if not match:
        return None, None
    return match.group("version"), match.group("source")


def validate_role_name(name):
    """Return None when ``name`` is usable as a managed role name, else a one-line reason.

    Any printable character is allowed (every statement quotes names with psycopg2.sql.Identifier);
    what PostgreSQL or Aurora reserve is refused.
    """
    if not isinstance(name, str) or name == "":
        return "user name must be a non-empty string"
    shown = repr(name) if len(name) <= 80 else repr(name[:80] + "...")
    if len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        return f"user name {shown} is longer than {MAX_IDENTIFIER_BYTES} bytes (PostgreSQL would truncate it)"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return f"user name {shown} contains a control character"
    if name != name.strip():
        return f"user name {shown} has leading or trailing whitespace"
    lowered = name.lower()
    if lowered in RESERVED_ROLE_NAMES:
        return f"user name {shown} is reserved by PostgreSQL"
    if lowered.startswith("pg_"):
        return f"user name {shown} starts with 'pg_', which PostgreSQL reserves"
    if lowered.startswith("rds"):
        return f"user name {shown} starts with 'rds', which Amazon RDS/Aurora reserves"
    return None


def validate_password(password, where):
    """Return None when ``password`` is usable, else a one-line reason (never the value)."""
    if not isinstance(password, str):
        return f"{where} must be a string (got {type(password).__name__})"
    if password == "":
        return f"{where} is empty"
    if "\x00" in password:
        return f"{where} contains a NUL character, which PostgreSQL cannot store"
    return None


def _string(secret_id, value, key):
    if not isinstance(value, str) or value == "":
        kind = "missing" if value is None else ("empty" if value == "" else f"a {type(value).__name__}, not a string")
        raise LayoutError(f"secret {secret_id!r}: key {key!r} is {kind}")
    return value


def detect_layout(value):
    """Guess the layout of a users secret: nested, flat or combined."""
    if any(key in value for key in NESTED_NAMES):
        has_master = "master_username" in value or "master_password" in value
        return "combined" if has_master else "nested"
    if any(key in value for key in FLAT_USER_KEYS):
        return "combined" if "master_username" in value else "flat"
    return None


def parse_users_secret(value, layout, secret_id, version_id):
    """Turn a decoded users secret into ([UserSpec], master) where master is (user, password) or None.

    ``layout`` is one of LAYOUTS. ``combined`` is the flat (or nested) layout plus ``master_username`` /
    ``master_password``. Raises LayoutError with a one-line message.
    """
    if layout not in LAYOUTS:
        raise LayoutError(f"unknown users_secret_layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    effective = layout
    if layout == "auto":
        effective = detect_layout(value)
        if effective is None:
            expected = ", ".join(NESTED_NAMES + FLAT_USER_KEYS)
            raise LayoutError(f"secret {secret_id!r}: cannot detect its layout; expected one of the keys {expected}")

    users = []
    nested = any(key in value for key in NESTED_NAMES)
    if effective == "nested" or (effective == "combined" and nested):
        for key, profile in NESTED_KEYS:
            if key not in value:
                continue
            entry = value[key]
            if not isinstance(entry, dict):
                raise LayoutError(f"secret {secret_id!r}: {key!r} must be an object with 'username' and 'password' keys")
            name = _string(secret_id, entry.get("username"), f"{key}.username")
            password = _string(secret_id, entry.get("password"), f"{key}.password")
            users.append(UserSpec(name, profile, password, source_digest(secret_id, f"{key}.password"), version_id,
                                  origin=f"secret:{key}"))
        if not users:
            raise LayoutError(f"secret {secret_id!r}: nested layout needs at least one of {', '.join(NESTED_NAMES)}")
    else:
        for prefix, profile in FLAT_PREFIXES:
            user_key, password_key = f"{prefix}_username", f"{prefix}_password"
            if user_key not in value and password_key not in value:
                continue
            name = _string(secret_id, value.get(user_key), user_key)
            password = _string(secret_id, value.get(password_key), password_key)
            users.append(UserSpec(name, profile, password, source_digest(secret_id, password_key), version_id,
                                  origin=f"secret:{prefix}"))
        if not users:
            raise LayoutError(f"secret {secret_id!r}: {effective} layout needs at least one of "
                              f"{', '.join(FLAT_USER_KEYS)}")

    master = None
    if effective == "combined":
        master = (_string(secret_id, value.get("master_username"), "master_username"),
                  _string(secret_id, value.get("master_password"), "master_password"))
    return users, master


def parse_master_secret(value, secret_id):
    """Return (username, password) from a master secret: username/password or master_username/master_password."""
    for user_key, password_key in (("username", "password"), ("master_username", "master_password")):
        if user_key in value or password_key in value:
            return _string(secret_id, value.get(user_key), user_key), _string(secret_id, value.get(password_key), password_key)
    raise LayoutError(f"secret {secret_id!r}: expected keys 'username' and 'password' (or 'master_username' and 'master_password')")


def secret_key_value(value, key_path, secret_id):
    """Look up ``key_path`` (dotted for nested objects, e.g. ``application_user.password``) in a decoded secret."""
    current = value
    for part in key_path.split("."):
        if not isinstance(current, dict) or part not in current:
            raise LayoutError(f"secret {secret_id!r} has no key {key_path!r}")
        current = current[part]
    return _string(secret_id, current, key_path)


def check_unique(users):
    """Raise LayoutError when two desired users share a name."""
    seen = {}
    for user in users:
        if user.name in seen:
            raise LayoutError(f"user {user.name!r} is defined twice ({seen[user.name]} and {user.origin})")
        seen[user.name] = user.origin
