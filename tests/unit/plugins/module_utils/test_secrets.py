"""read_json_secret: value and version, and one-line errors that never contain the secret's value."""
import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import SecretError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import master_password_problem
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import read_json_secret
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import sensitive_leaves

SECRET = "Sup3r-S3cret-Value"
V1, V2, V3 = "1" * 32, "2" * 32, "3" * 32


@pytest.fixture
def client():
    sm = boto3.client("secretsmanager", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(sm) as stub:
        sm.stub = stub
        yield sm


def _ok(client, text, version=V1):
    client.stub.add_response("get_secret_value", {"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:s", "Name": "s", "VersionId": version,
                                                  "SecretString": text}, {"SecretId": "s"})


def test_reads_value_and_version(client):
    _ok(client, '{"username": "master", "password": "%s"}' % SECRET, V2)
    value, version = read_json_secret(client, "s")
    assert value == {"username": "master", "password": SECRET}
    assert version == V2


@pytest.mark.parametrize("text, message", [
    ("{'password': 'Sup3r-S3cret-Value'}", "secret 's' is not valid JSON (error at line 1 column 2)"),
    ("Sup3r-S3cret-Value", "secret 's' is not valid JSON (error at line 1 column 1)"),
    ('["Sup3r-S3cret-Value"]', "secret 's' is JSON but not an object (got list); expected {\"key\": \"value\", ...}"),
    ('"Sup3r-S3cret-Value"', "secret 's' is JSON but not an object (got str); expected {\"key\": \"value\", ...}"),
])
def test_malformed(client, text, message):
    _ok(client, text)
    with pytest.raises(SecretError) as info:
        read_json_secret(client, "s")
    assert str(info.value) == message
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert info.value.__cause__ is None


def test_missing_keys(client):
    _ok(client, '{"password": "%s"}' % SECRET)
    with pytest.raises(SecretError, match=r"^secret 's' lacks required key\(s\): username$"):
        read_json_secret(client, "s", required_keys=("username", "password"))


def test_binary_secret(client):
    client.stub.add_response("get_secret_value", {"Name": "s", "VersionId": V1, "SecretBinary": b"\x00\x01"}, {"SecretId": "s"})
    with pytest.raises(SecretError, match="has no SecretString"):
        read_json_secret(client, "s")


@pytest.mark.parametrize("code, message", [
    ("ResourceNotFoundException", "secret 's' not found (or it has no version AWSCURRENT)"),
    ("AccessDeniedException", "access denied reading secret 's' (AccessDeniedException): check secretsmanager:GetSecretValue and kms:Decrypt"),
    ("DecryptionFailure", "secret 's' cannot be decrypted (DecryptionFailure): check its KMS key and kms:Decrypt"),
    ("InternalServiceError", "error reading secret 's': InternalServiceError: boom"),
])
def test_client_errors(client, code, message):
    client.stub.add_client_error("get_secret_value", service_error_code=code, service_message="boom", http_status_code=400)
    with pytest.raises(SecretError) as info:
        read_json_secret(client, "s")
    assert str(info.value) == message
    assert info.value.code == code


def test_throttling_is_retried(client, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda _s: None)
    client.stub.add_client_error("get_secret_value", service_error_code="ThrottlingException", http_status_code=400)
    _ok(client, "{}", V3)
    assert read_json_secret(client, "s") == ({}, V3)


def test_version_stage_passed(client):
    client.stub.add_response("get_secret_value", {"Name": "s", "VersionId": V1, "SecretString": "{}"},
                             {"SecretId": "s", "VersionStage": "AWSPREVIOUS"})
    assert read_json_secret(client, "s", version_stage="AWSPREVIOUS") == ({}, V1)


def test_requires_id():
    with pytest.raises(SecretError, match="secret id"):
        read_json_secret(None, "")


def test_sensitive_leaves_are_the_values_under_secret_looking_keys():
    secret = {"username": "app", "password": "p1", "nested": {"username": "u", "password": "p2"}, "db_secret": ["p3"],
              "api_token": "p4", "host": "h"}
    assert sorted(sensitive_leaves(secret)) == ["p1", "p2", "p3", "p4"]


@pytest.mark.parametrize("password,valid", [("Long-enough-1", True), ("Sh0rt", False), ("has space 123", False),
                                            ("with/slash-1", False), ("with'quote-1", False), ('with"quote-1', False),
                                            ("at@sign-123", False), ("tab\there-123", False), ("caf\u00e9-pass-1", False),
                                            ("x" * 41, True), ("x" * 42, False), ("Mixed;Chars#1$%^&*()", True)])
def test_master_password_rules(password, valid):
    problem = master_password_problem(password, "m")
    assert (problem is None) == valid
    assert problem is None or password not in problem
