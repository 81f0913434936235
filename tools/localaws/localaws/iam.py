"""IAM enforcement: every request of a role (or IAM user) is authorised as AWS authorises it.

* The caller is known from the SigV4 access key: an assumed role's session (moto's STS), an IAM user's key, or
  neither, which is the account's root (the emulator's default `testing` credentials): root may do anything in its
  own account, as on AWS.
* A role's permissions are its inline and attached managed policies (iam_policy.decide); what a request needs is
  iam_requests.checks_for. Refusals carry AWS's error code per service and its message shape: "User: <arn> is not
  authorized to perform: <action> on resource: <arn> because no identity-based policy allows the <action> action".
* sts:AssumeRole needs a role that exists, whose trust policy names the caller (an account principal delegates to
  that account's identity policies), DurationSeconds within its MaxSessionDuration, and at most 1 h when a role
  session assumes a role (role chaining). An expired session's requests fail with ExpiredToken.
* KMS: a key of another account must also allow the caller in its key policy.

The `iam` setting (LOCALAWS_IAM=off, or the admin API) turns enforcement off: moto's default behaviour.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import iam_policy
from .iam_policy import ALLOW, EXPLICIT_DENY, Check
from .iam_requests import Request, checks_for, kms_key, partition_of

log = logging.getLogger("localaws.iam")

ROLE_CHAINING_MAX_SECONDS = 3600
# Organizations creates this role in member accounts, trusted by the management account (AWS Organizations User
# Guide, "Accessing member accounts": OrganizationAccountAccessRole with AdministratorAccess).
MEMBER_ACCOUNT_ROLE = "OrganizationAccountAccessRole"
DEFAULT_MEMBER_ACCOUNTS = ("210987654321",)
ADMINISTRATOR_POLICY = json.dumps({"Version": "2012-10-17",
                                   "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})

# Error code per service for an authorisation refusal (IAM User Guide, "Troubleshoot access denied error
# messages"; codes as the services return them).
DENIED_CODES = {"rds": ("AccessDenied", 403), "sts": ("AccessDenied", 403), "iam": ("AccessDenied", 403),
                "monitoring": ("AccessDenied", 403), "cloudwatch": ("AccessDenied", 403),
                "sns": ("AuthorizationError", 403), "ec2": ("UnauthorizedOperation", 403),
                "dynamodb": ("AccessDeniedException", 400), "kms": ("AccessDeniedException", 400),
                "secretsmanager": ("AccessDeniedException", 400), "ssm": ("AccessDeniedException", 400),
                "sqs": ("AccessDenied", 403), "ram": ("AccessDeniedException", 403)}


@dataclass
class Principal:
    kind: str  # root | role | user
    account: str
    arn: str  # what AWS names in messages (assumed-role session ARN, user ARN, account root)
    role_arn: str | None = None
    documents: list = field(default_factory=list)
    expires: datetime | None = None

    @property
    def is_root(self) -> bool:
        return self.kind == "root"


@dataclass
class Denial(Exception):
    service: str
    code: str
    status: int
    message: str


def _managed_document(policy) -> str:
    return next(version.document for version in policy.versions if version.is_default)


def role_documents(role) -> list:
    return list(role.policies.values()) + [_managed_document(policy) for policy in role.managed_policies.values()]


def _find_role(account: str, partition: str, role_arn: str):
    from moto.iam.models import iam_backends

    backend = iam_backends[account][partition]
    for role in backend.roles.values():
        if role.arn == role_arn:
            return role
    return None


def resolve_principal(access_key: str, region: str) -> Principal:
    from moto.iam.models import get_account_id_from, iam_backends
    from moto.sts.models import sts_backends

    partition = partition_of(region)
    account = get_account_id_from(access_key)
    assumed = sts_backends[account][partition].get_assumed_role_from_access_key(access_key)
    if assumed is not None:
        role = _find_role(account, partition, assumed.role_arn)
        expires = assumed.expiration.replace(tzinfo=timezone.utc) if assumed.expiration.tzinfo is None else assumed.expiration
        return Principal("role", account, assumed.arn, assumed.role_arn, role_documents(role) if role else [], expires)
    backend = iam_backends[account][partition]
    for user in backend.users.values():
        for key in user.access_keys:
            if key.access_key_id == access_key:
                documents = list(user.policies.values()) + [_managed_document(p) for p in user.managed_policies.values()]
                for group in backend.get_groups_for_user(user.name):
                    documents += list(group.policies.values()) + [_managed_document(p) for p in group.managed_policies.values()]
                return Principal("user", account, user.arn, None, documents)
    return Principal("root", account, f"arn:{partition}:iam::{account}:root")


def ensure_member_accounts(accounts=None) -> None:
    """The member accounts' OrganizationAccountAccessRole (administrator, trusted by the management account)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    names = accounts if accounts is not None else [
        item.strip() for item in os.environ.get("LOCALAWS_MEMBER_ACCOUNTS", ",".join(DEFAULT_MEMBER_ACCOUNTS)).split(",")
        if item.strip()]
    for account in names:
        backend = iam_backends[account]["aws"]
        if any(role.name == MEMBER_ACCOUNT_ROLE for role in backend.roles.values()):
            continue
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root"}}]})
        backend.create_role(role_name=MEMBER_ACCOUNT_ROLE, assume_role_policy_document=trust, path="/",
                            permissions_boundary=None, description="Organizations member account access",
                            tags=[], max_session_duration="3600", linked_service=None)
        backend.put_role_policy(MEMBER_ACCOUNT_ROLE, "AdministratorAccess", ADMINISTRATOR_POLICY)


def _message(principal: Principal, check: Check, decision: str, policy_type: str = "identity-based") -> str:
    on = f" on resource: {check.resource}" if check.resource else ""
    if policy_type is None:  # sts:AssumeRole refusals name no policy type
        return f"User: {principal.arn} is not authorized to perform: {check.action}{on}"
    if decision == EXPLICIT_DENY:
        article = "an" if policy_type[0] in "aeiou" else "a"
        return f"User: {principal.arn} is not authorized to perform: {check.action}{on} with an explicit deny in " \
               f"{article} {policy_type} policy"
    return f"User: {principal.arn} is not authorized to perform: {check.action}{on} because no {policy_type} policy " \
           f"allows the {check.action} action"


def _principal_statement_matcher(principal: Principal):
    """For resource policies (trust, key): does a statement's Principal name this caller?"""
    account_root = f"arn:{principal.arn.split(':')[1]}:iam::{principal.account}:root"

    def matches(statement: dict) -> bool:
        aws, _services = iam_policy.principal_values(statement)
        for value in aws:
            if value in ("*", principal.account, account_root, principal.arn) or value == principal.role_arn:
                return True
        return False

    return matches


def _names_caller_exactly(statement: dict, principal: Principal) -> bool:
    aws, _ = iam_policy.principal_values(statement)
    return any(value in (principal.arn, principal.role_arn, "*") for value in aws if value)


class Authorizer:
    def __init__(self):
        self.denied = 0
        # role ARN -> {"<Sid> <action pattern>": times it granted a request}: which parts of a policy were used
        # (like IAM's last-accessed information), so a test can find permissions nothing needs.
        self.usage: dict[str, dict[str, int]] = {}

    def reset(self) -> None:
        self.denied = 0
        self.usage.clear()

    def usage_of(self, role_arn: str | None = None) -> dict:
        if role_arn:
            return dict(self.usage.get(role_arn, {}))
        return {arn: dict(used) for arn, used in self.usage.items()}

    def _record(self, principal: Principal, grants) -> None:
        if principal.role_arn:
            used = self.usage.setdefault(principal.role_arn, {})
            for sid, pattern in grants:
                key = f"{sid} {pattern}"
                used[key] = used.get(key, 0) + 1

    def authorize(self, service: str, action: str, region: str, access_key: str, params: dict) -> None:
        """Raise Denial when AWS would refuse the request; return when it would let it through."""
        if not access_key:
            return
        principal = resolve_principal(access_key, region)
        request = Request(service, action, region, principal.account, params)
        if service == "sts" and action == "GetCallerIdentity":
            return  # always allowed, even with an explicit deny (STS API reference)
        if principal.expires is not None and principal.expires < datetime.now(timezone.utc):
            code = "ExpiredTokenException" if DENIED_CODES.get(service, ("", 400))[1] == 400 else "ExpiredToken"
            raise Denial(service, code, 400, "The security token included in the request is expired")
        if service == "sts" and action == "AssumeRole":
            self._authorize_assume_role(principal, request)
            return
        if principal.is_root:
            self._check_cross_account_keys(principal, request, checks_for(request))
            return
        checks = checks_for(request)
        for check in checks:
            decision, grants = iam_policy.decide_with_grants(principal.documents, check)
            if decision != ALLOW and not self._same_account_resource_policy_allows(principal, request, check):
                self._deny(service, principal, check, decision)
            self._record(principal, grants)
        self._check_cross_account_keys(principal, request, checks)

    def _deny(self, service: str, principal: Principal, check: Check, decision: str, policy_type="identity-based"):
        self.denied += 1
        code, status = DENIED_CODES.get(service, ("AccessDenied", 403))
        message = _message(principal, check, decision, policy_type)
        if code == "UnauthorizedOperation":
            message = "You are not authorized to perform this operation. " + message
        log.info("denied: %s", message)
        raise Denial(service, code, status, message)

    @staticmethod
    def _same_account_resource_policy_allows(principal: Principal, request: Request, check: Check) -> bool:
        """A key policy that names the caller itself allows without an identity policy (same account only)."""
        if not check.action.lower().startswith("kms:") or not check.resource:
            return False
        key = kms_key(request, check.resource)
        if key is None or key["account"] != principal.account or not key["policy"]:
            return False
        matcher = _principal_statement_matcher(principal)
        try:
            statements = iam_policy.statements_of(key["policy"])
        except iam_policy.PolicyError:
            return False
        exact = [s for s in statements if matcher(s) and _names_caller_exactly(s, principal)]
        return bool(exact) and iam_policy.decide([{"Statement": exact}], check) == ALLOW

    def _check_cross_account_keys(self, principal: Principal, request: Request, checks) -> None:
        """A key of another account: its key policy must allow the caller too (resource policy + identity policy)."""
        for check in checks:
            if not check.action.lower().startswith("kms:") or not check.resource or ":kms:" not in check.resource:
                continue
            key_account = check.resource.split(":")[4]
            if key_account == principal.account:
                continue
            key = kms_key(request, check.resource)
            if key is None:
                continue
            policy = key["policy"] or ""
            if iam_policy.decide([policy], check, principal_matches=_principal_statement_matcher(principal)) != ALLOW:
                self._deny(request.service, principal, check, "implicit-deny", policy_type="resource-based")

    def _authorize_assume_role(self, caller: Principal, request: Request) -> None:
        role_arn = request.get("RoleArn") or ""
        parts = role_arn.split(":")
        check = Check("sts:AssumeRole", role_arn, {"sts:RoleSessionName": request.get("RoleSessionName") or "",
                                                    "aws:PrincipalAccount": caller.account,
                                                    "aws:PrincipalArn": caller.role_arn or caller.arn})
        if len(parts) < 6:
            self._deny("sts", caller, check, "implicit-deny", policy_type=None)
        role = _find_role(parts[4], parts[1], role_arn)
        if role is None:
            # AWS does not say whether a role the caller may not assume exists.
            self._deny("sts", caller, check, "implicit-deny", policy_type=None)
        external_id = request.get("ExternalId")
        if external_id is not None:
            check.context["sts:ExternalId"] = external_id
        trust = iam_policy.decide([role.assume_role_policy_document], check,
                                  principal_matches=_principal_statement_matcher(caller))
        if trust == EXPLICIT_DENY:
            self._deny("sts", caller, check, trust, policy_type=None)
        trusted_exactly = any(_names_caller_exactly(statement, caller)
                              for statement in iam_policy.statements_of(role.assume_role_policy_document)
                              if _principal_statement_matcher(caller)(statement))
        if trust != ALLOW:
            self._deny("sts", caller, check, "implicit-deny", policy_type=None)
        same_account = parts[4] == caller.account
        if not caller.is_root and not (same_account and trusted_exactly):
            # The trust policy delegates to the caller's account: its identity policies must allow sts:AssumeRole.
            decision, grants = iam_policy.decide_with_grants(caller.documents, check)
            if decision != ALLOW:
                self._deny("sts", caller, check, decision)
            self._record(caller, grants)
        duration = int(request.get("DurationSeconds") or 3600)
        maximum = int(getattr(role, "max_session_duration", None) or 3600)
        if caller.kind == "role" and duration > ROLE_CHAINING_MAX_SECONDS:
            raise Denial("sts", "ValidationError", 400,
                         f"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
                         f"chaining.")
        if duration > maximum:
            raise Denial("sts", "ValidationError", 400,
                         "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
