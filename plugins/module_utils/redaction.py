# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Keep secrets out of everything the collection writes: audit items, results, notifications.

A detail whose key looks like it holds a secret is replaced by REDACTED wherever it is nested;
URLs with embedded credentials have their password masked.
"""

from __future__ import annotations

import re

REDACTED = "********"

# Keys that name a secret value. `secret_id`/`secret_arn`/`*_secret_name` only *reference* a secret
# and are safe to keep: operators need them to find what was used.
_SECRET_KEY = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|credential|private[_-]?key|api[_-]?key|auth[_-]?key|session[_-]?key|signature)",
    re.IGNORECASE,
)
_SECRET_REFERENCE_KEY = re.compile(r"(secret|token)[_-]?(id|arn|name|version|version[_-]?id|ref|reference)s?$", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):(?P<password>[^@\s]+)@", re.IGNORECASE)
_KEY_VALUE_PASSWORD = re.compile(r"(?P<key>\b(password|passwd|pwd)\s*=\s*)(?P<value>'[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE)


def is_secret_key(key):
    """True when a detail key names a secret value (not merely a reference to one)."""
    key = str(key)
    if _SECRET_REFERENCE_KEY.search(key):
        return False
    return bool(_SECRET_KEY.search(key))


def redact_text(text):
    """Mask credentials embedded in free text (connection URLs, `password=...` pairs)."""
    if not isinstance(text, str):
        return text
    text = _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + m.group("user") + ":" + REDACTED + "@", text)
    return _KEY_VALUE_PASSWORD.sub(lambda m: m.group("key") + REDACTED, text)


def embedded_secrets(text):
    """The credentials embedded in free text, so a caller can also keep them out of its own output."""
    if not isinstance(text, str):
        return []
    found = [match.group("password") for match in _URL_CREDENTIALS.finditer(text)]
    found += [match.group("value").strip("'\"") for match in _KEY_VALUE_PASSWORD.finditer(text)]
    return [value for value in found if value]


def could_be_secret(item):
    """Whether a value under a secret-looking key may be the secret: text or a whole number (YAML reads a numeric
    password as one). A float or a boolean is a measure or a flag (timings.master_password: 12.5), never a secret."""
    return isinstance(item, (str, int)) and not isinstance(item, bool) and item != ""


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [str(value)] if could_be_secret(value) else []


def secret_values(value):
    """Every secret value in `value` (under a secret-looking key, or embedded in text), for no_log masking."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and could_be_secret(item):
                found.append(str(item))
            elif is_secret_key(key) and isinstance(item, (dict, list, tuple)):
                found.extend(_leaves(item))  # masked whole by redact(): every text or whole number in it
            else:
                found.extend(secret_values(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(secret_values(item))
    else:
        found.extend(embedded_secrets(value))
    return found


def redact(value, path="", found=None):
    """Return a copy of `value` with secret-looking keys masked; `found` collects the masked paths."""
    if found is None:
        found = []
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            item_path = "%s.%s" % (path, key) if path else str(key)
            # A nested value under a secret-looking key is masked whole; a float or a boolean is kept (could_be_secret).
            if is_secret_key(key) and (could_be_secret(item) or isinstance(item, (dict, list, tuple))):
                cleaned[key] = REDACTED
                found.append(item_path)
            else:
                cleaned[key] = redact(item, item_path, found)
        return cleaned
    if isinstance(value, (list, tuple)):
        return [redact(item, "%s[%d]" % (path, index), found) for index, item in enumerate(value)]
    return redact_text(value)


def secret_paths(value):
    """The paths of every secret-looking key in `value` (empty when it is clean)."""
    found = []
    redact(value, found=found)
    return found


class Redactor:
    """Remove known secret values (and their quoted forms) from any text before it leaves the module."""

    def __init__(self):
        self._secrets = set()

    def add(self, value):
        if isinstance(value, str) and value:
            self._secrets.add(value)
            self._secrets.add(value.replace("'", "''"))
            self._secrets.add(value.replace("\\", "\\\\"))
            self._secrets.add(repr(value)[1:-1])

    def __call__(self, text):
        if text is None:
            return text
        text = str(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret and secret in text:
                text = text.replace(secret, REDACTED)
        return text

    @property
    def values(self):
        return set(self._secrets)
