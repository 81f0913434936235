"""clients: the account check once, and failures that keep the botocore error's structure."""
from botocore.exceptions import ClientError

from ansible_collections.dbops.aurora_restore.plugins.module_utils import clients


class Sts:
    def get_caller_identity(self, aws_retry=True):
        return {"Account": "111122223333", "Arn": "arn:aws:sts::111122223333:assumed-role/operator/s"}


class Module:
    def __init__(self):
        self.failed = None

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
