"""clients: the account check once, and failures that keep the botocore error's structure."""
from botocore.exceptions import ClientError

from ansible_collections.dbops.aurora_restore.plugins.module_utils import clients


class Sts:
    calls = 0

    def get_caller_identity(self, aws_retry=True):
        Sts.calls += 1
        return {"Account": "111122223333", "Arn": "arn:aws:sts::111122223333:assumed-role/operator/s"}


class Module:
    def __init__(self, access_key=None):
        self.failed = None
        self.params = {"access_key": access_key}

    def client(self, service, region=None, retry_decorator=None):
        assert service == "sts" and retry_decorator is clients.RETRY
        return Sts()

    def fail_json(self, **result):
        self.failed = result


def test_account_refusal():
    module = Module()
    assert clients.account_refusal(module, None, "restore 'x'") is None
    assert clients.account_refusal(module, "111122223333", "restore 'x'") is None
    assert clients.account_refusal(module, "210987654321", "restore 'x'") == (
        "refusing to restore 'x': the AWS credentials are for account '111122223333', not expected_account_id '210987654321'")


def test_the_account_of_an_access_key_is_asked_once_per_process(monkeypatch):
    monkeypatch.setattr(clients, "_ACCOUNTS_BY_ACCESS_KEY", {})
    before = Sts.calls
    assert clients.caller_account(Module("ASIAEXAMPLE1")) == "111122223333"
    assert clients.caller_account(Module("ASIAEXAMPLE1")) == "111122223333"
    assert Sts.calls == before + 1
    # Credentials from the environment or a profile have no key in the module's arguments: asked each time.
    clients.caller_account(Module())
    clients.caller_account(Module())
    assert Sts.calls == before + 3


def test_fail_with_keeps_the_error_structure_and_one_line():
    module = Module()
    error = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}, "ResponseMetadata": {"RequestId": "r-9"}}, "RestoreDBClusterFromSnapshot")
    clients.fail_with(module, "restoring cluster 'x' failed: AccessDenied: no", error, changed=False)
    assert module.failed["msg"] == "restoring cluster 'x' failed: AccessDenied: no"
    assert module.failed["error"] == {"code": "AccessDenied", "message": "no"}
    assert module.failed["response_metadata"]["request_id"] == "r-9" and module.failed["changed"] is False
    assert "boto3_version" in module.failed
    plain = Module()
    clients.fail_with(plain, "bad input")
    assert plain.failed == {"msg": "bad input"}
