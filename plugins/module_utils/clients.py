# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS clients with the collection's retry policy.

RDS allows about 12 requests a second per account and region, shared with everyone else using it:
every call backs off with jitter on throttling and on transient server errors, and gives up only
after a budget long enough to ride out a busy minute.
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import gather_sdk_versions
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

# Codes AWSRetry does not retry by default, that RDS, KMS, Secrets Manager and DynamoDB use for "try again".
TRANSIENT_ERROR_CODES = [
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",  # DynamoDB: a transaction with the same request token is still running
]

RETRY = AWSRetry.jittered_backoff(retries=10, delay=2, max_delay=60, catch_extra_error_codes=TRANSIENT_ERROR_CODES)


def error_code(error):
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    try:
        return error.response.get("Error", {}).get("Code") or ""
    except AttributeError:
        return ""


def aws_client(module, service, region=None):
    """A boto3 client for `service` (in `region`, or the module's), whose calls retry with `aws_retry=True`."""
    if region:
        return module.client(service, region=region, retry_decorator=RETRY)
    return module.client(service, retry_decorator=RETRY)


def client_factory(module):
    """A function service -> client that creates each service's client once, when first needed."""
    clients = {}

    def client_for(service):
        if service not in clients:
            clients[service] = aws_client(module, service)
        return clients[service]

    return client_for


# Accounts already asked for, by access key id, for the life of this process: the slices of a wait that run in one
# controller worker (plugins/plugin_utils/module_in_worker.py) ask once. An access key belongs to one account for ever.
_ACCOUNTS_BY_ACCESS_KEY = {}


def caller_account(module):
    """The account of the module's credentials (sts:GetCallerIdentity, which no policy can deny)."""
    access_key = module.params.get("access_key")
    if access_key and access_key in _ACCOUNTS_BY_ACCESS_KEY:
        return _ACCOUNTS_BY_ACCESS_KEY[access_key]
    account = aws_client(module, "sts").get_caller_identity(aws_retry=True)["Account"]
    if access_key:
        _ACCOUNTS_BY_ACCESS_KEY[access_key] = account
    return account


def account_refusal(module, expected_account_id, refusing):
    """None when `expected_account_id` is unset or is the credentials' account; else the one-line refusal
    "refusing to <refusing>: the AWS credentials are for account '…', not expected_account_id '…'"."""
    if not expected_account_id:
        return None
    account = caller_account(module)
    if account == expected_account_id:
        return None
    return "refusing to %s: the AWS credentials are for account %r, not expected_account_id %r" % (refusing, account, expected_account_id)


def fail_with(module, message, aws_error=None, **result):
    """fail_json with a one-line `message`; with the botocore error behind it, its structured fields too (error code,
    response metadata, SDK versions), as fail_json_aws returns them, without repeating the error in the message."""
    if aws_error is not None and getattr(aws_error, "response", None) is not None:
        result.update(gather_sdk_versions())
        result.update(camel_dict_to_snake_dict(aws_error.response))
    module.fail_json(msg=message, **result)
