from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import REDACTED
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import is_secret_key
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import redact
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import redact_text
from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import secret_paths
import pytest


@pytest.mark.parametrize("key", ["password", "db_password", "MasterUserPassword", "passwd", "pwd", "api_key", "apiKey",
                                 "token", "session_token", "client_secret", "secret", "private_key", "credentials"])
def test_secret_keys_are_recognised(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["secret_id", "master_secret_arn", "users_secret_name", "secret_version_id", "token_ref",
                                 "snapshot", "cluster_identifier", "kms_key_id", "endpoint", "username"])
def test_references_and_ordinary_keys_are_kept(key):
    assert not is_secret_key(key)


def test_nested_secrets_are_redacted_and_reported():
    details = {"user": {"name": "app", "password": "s3cr3t"}, "items": [{"token": "t0k"}], "count": 3}
    found = []
    cleaned = redact(details, found=found)
    assert cleaned == {"user": {"name": "app", "password": REDACTED}, "items": [{"token": REDACTED}], "count": 3}
    assert sorted(found) == ["items[0].token", "user.password"]
    assert details["user"]["password"] == "s3cr3t", "the input is not modified"


def test_empty_secret_values_are_not_reported():
    assert secret_paths({"password": "", "token": None}) == []


@pytest.mark.parametrize("text,expected", [
    ("postgresql://app:p%40ss@db:5432/x failed", "postgresql://app:" + REDACTED + "@db:5432/x failed"),
    ("connect failed: host=db password='a b' user=x", "connect failed: host=db password=" + REDACTED + " user=x"),
    ("PASSWORD=abc;", "PASSWORD=" + REDACTED),
    ("no credentials here", "no credentials here"),
])
def test_credentials_in_text_are_masked(text, expected):
    assert redact_text(text) == expected


def test_secret_values_are_collected_for_masking():
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import secret_values

    value = {"details": {"password": "p1", "nested": [{"token": "t1"}], "note": "dsn postgresql://u:p2@h/db"}, "error": "password=p3 x"}
    assert sorted(secret_values(value)) == ["p1", "p2", "p3", "t1"]


def test_a_measure_under_a_secret_looking_key_is_kept_and_a_secret_is_not():
    """timings.master_password is how long the master password reset took (aurora_cluster_restore's RETURN): a number
    of seconds stays; text or a whole number (a numeric password, as YAML reads it) under the same key is masked."""
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.redaction import secret_values

    details = {"timings": {"master_password": 12.5, "restore": 300.25}, "master_password_reset": True,
               "users": [{"password": "Pw-1"}, {"password": 123456}], "token": {"value": "t"}}
    found = []
    cleaned = redact(details, found=found)
    assert cleaned == {"timings": {"master_password": 12.5, "restore": 300.25}, "master_password_reset": True,
                       "users": [{"password": REDACTED}, {"password": REDACTED}], "token": REDACTED}
    assert sorted(found) == ["token", "users[0].password", "users[1].password"]
    assert sorted(secret_values(details)) == ["123456", "Pw-1", "t"]
