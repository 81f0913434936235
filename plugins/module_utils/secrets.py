# -*- coding: utf-8 -*-
# Copyright (c) 2025 dbops platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read an AWS Secrets Manager secret as a JSON object.

Generic and boto3-client based, so any module of the collection can reuse it (database users,
the cluster restore's master password, ...). Every failure is a :class:`SecretError` with a one-line
message that names the secret but never contains any part of its value.
"""

from __future__ import annotations

import json

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule (check_boto3)
    BotoCoreError = ClientError = None

from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import RETRY
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import error_code
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import is_secret_key

NOT_FOUND_CODES = ("ResourceNotFoundException",)
DENIED_CODES = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException",
                "InvalidSignatureException", "ExpiredTokenException")
DECRYPT_CODES = ("DecryptionFailure", "KMSAccessDeniedException", "KMSDisabledException", "KMSInvalidStateException")


class SecretError(Exception):
    """A secret could not be read or is not usable; ``str()`` is a safe one-line message."""

    def __init__(self, message, secret_id=None, code=None):
        super().__init__(message)
        self.secret_id = secret_id
        self.code = code


def _first_line(text):
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


def get_secret_value(client, secret_id, version_id=None, version_stage=None):
    """Call GetSecretValue with the collection's retry policy (clients.RETRY); return the raw response dict.

    ``client`` is a plain boto3 ``secretsmanager`` client (or anything with the same method).
    Raises :class:`SecretError` with a one-line message.
    """
    params = {"SecretId": secret_id}
    if version_id:
        params["VersionId"] = version_id
    if version_stage:
        params["VersionStage"] = version_stage

    @RETRY
    def _call():
        return client.get_secret_value(**params)

    try:
        return _call()
    except Exception as e:  # pylint: disable=broad-except
        if ClientError is not None and isinstance(e, ClientError):
            code = error_code(e)
            if code in NOT_FOUND_CODES:
                raise SecretError(f"secret {secret_id!r} not found (or it has no version {version_stage or version_id or 'AWSCURRENT'})",
                                  secret_id, code) from None
            if code in DENIED_CODES:
                raise SecretError(f"access denied reading secret {secret_id!r} ({code}): check secretsmanager:GetSecretValue and kms:Decrypt",
                                  secret_id, code) from None
            if code in DECRYPT_CODES:
                raise SecretError(f"secret {secret_id!r} cannot be decrypted ({code}): check its KMS key and kms:Decrypt", secret_id, code) from None
            if code == "InvalidRequestException":
                raise SecretError(f"secret {secret_id!r} cannot be read now (it may be scheduled for deletion): {code}", secret_id, code) from None
            message = _first_line(e.response.get("Error", {}).get("Message", "")) or code
            raise SecretError(f"error reading secret {secret_id!r}: {code}: {message}", secret_id, code) from None
        if BotoCoreError is not None and isinstance(e, BotoCoreError):
            raise SecretError(f"cannot reach Secrets Manager to read secret {secret_id!r}: {_first_line(e)}", secret_id,
                              type(e).__name__) from None
        raise


def read_json_secret(client, secret_id, version_id=None, version_stage=None, required_keys=()):
    """Read ``secret_id`` and parse its SecretString as a JSON object.

    Returns ``(value, version_id)``: the decoded dict and the VersionId that was read.
    Raises :class:`SecretError` (not found, access denied, binary secret, not JSON, not an object,
    missing keys) with a one-line message that never contains the secret's value.
    """
    if not secret_id or not isinstance(secret_id, str):
        raise SecretError("a secret id (name or ARN) is required")
    response = get_secret_value(client, secret_id, version_id=version_id, version_stage=version_stage)
    text = response.get("SecretString")
    if text is None:
        raise SecretError(f"secret {secret_id!r} has no SecretString (binary secrets are not supported); store a JSON object", secret_id,
                          "NotString")
    try:
        value = json.loads(text)
    except ValueError as e:
        # The decoder's position is safe to show; its message never echoes the document.
        position = f"line {e.lineno} column {e.colno}" if hasattr(e, "lineno") else "unknown position"
        raise SecretError(f"secret {secret_id!r} is not valid JSON (error at {position})", secret_id, "NotJSON") from None
    if not isinstance(value, dict):
        raise SecretError(f"secret {secret_id!r} is JSON but not an object (got {type(value).__name__}); expected {{\"key\": \"value\", ...}}",
                          secret_id, "NotObject")
    missing = [key for key in required_keys if key not in value]
    if missing:
        raise SecretError(f"secret {secret_id!r} lacks required key(s): {', '.join(sorted(missing))}", secret_id, "MissingKeys")
    return value, response.get("VersionId")


def sensitive_leaves(value, sensitive=False):
    """String values of a decoded secret stored under a key that looks secret (redaction.is_secret_key), to register
    as no_log values."""
    if isinstance(value, str):
        if sensitive:
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from sensitive_leaves(item, sensitive or is_secret_key(key))
    elif isinstance(value, list):
        for item in value:
            yield from sensitive_leaves(item, sensitive)


def master_password_of(value, secret_id):
    """The password of a decoded master secret (key 'password' or 'master_password'); SecretError when unusable."""
    password = value.get("password")
    if password is None:
        password = value.get("master_password")
    if not isinstance(password, str) or not password:
        raise SecretError("master secret %r has no usable 'password' (or 'master_password') key" % secret_id)
    return password


# ModifyDBCluster MasterUserPassword: "Must contain from 8 to 41 characters. Can contain any printable ASCII character
# except "/", """, or "@"" (RDS API reference); the Aurora User Guide also excludes ' and space (the stricter reading).
MASTER_PASSWORD_LENGTH = (8, 41)
MASTER_PASSWORD_FORBIDDEN = "/\"@' "


def master_password_problem(password, secret_id):
    """None for a valid Aurora master password, else a one-line reason that never shows the value."""
    low, high = MASTER_PASSWORD_LENGTH
    if not low <= len(password) <= high or any(ch in MASTER_PASSWORD_FORBIDDEN or not 32 < ord(ch) < 127 for ch in password):
        return ("master secret %r: its password is not a valid Aurora master password (%d-%d printable ASCII characters, "
                "no '/', '\"', '@', \"'\" or space)" % (secret_id, low, high))
    return None
