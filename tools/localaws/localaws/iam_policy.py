"""IAM policy evaluation as AWS documents it, on plain data (no moto): the emulator's authoriser uses it.

A request is a list of `Check`s (action, resource ARN, context keys); each is decided against the principal's
identity policies (and, where AWS asks for it, a resource policy):

  * an applicable Deny statement decides "explicit deny";
  * otherwise an applicable Allow decides "allow";
  * otherwise "implicit deny".

A statement applies when its Action/NotAction, Resource/NotResource and every Condition match. A condition on a
key the request does not carry is false, except for the negated operators, `...IfExists`, `Null` and
`ForAllValues:` (AWS IAM User Guide, "IAM JSON policy elements: Condition operators" and "Single-valued vs.
multivalued context keys").
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

ALLOW = "allow"
EXPLICIT_DENY = "explicit-deny"
IMPLICIT_DENY = "implicit-deny"


@dataclass
class Check:
    """One authorisation AWS makes for a request: `action` on `resource` with `context` condition keys.

    Context values are strings, or lists of strings for multivalued keys (aws:TagKeys, kms:ResourceAliases).
    `resource` is None for actions without a resource type (the policy's Resource must then match "*").
    """

    action: str
    resource: str | None = None
    context: dict = field(default_factory=dict)


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters (colons included), `?` one character; nothing else is special."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Service prefix and action name are case-insensitive; wildcards allowed."""
    return _glob(pattern, action, ignore_case=True)


def resource_matches(pattern: str, resource: str | None) -> bool:
    if resource is None:  # an action without a resource type is granted by "*" only
        return pattern == "*"
    return _glob(pattern, resource)


# --- conditions ----------------------------------------------------------------------------------------------
def _context_value(context: dict, key: str):
    """Condition key names are case-insensitive; the tag key after the slash is matched as written."""
    if key in context:
        return context[key]
    prefix, slash, rest = key.partition("/")
    for name, value in context.items():
        name_prefix, name_slash, name_rest = name.partition("/")
        if name_prefix.lower() == prefix.lower() and name_slash == slash and name_rest == rest:
            return value
    return None


def _to_bool(text) -> bool | None:
    lowered = str(text).strip().lower()
    return {"true": True, "false": False}.get(lowered)


def _to_number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _to_date(text):
    try:
        if re.fullmatch(r"\d+(\.\d+)?", str(text)):
            return float(text)
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _arn_like(pattern: str, value: str) -> bool:
    """ARN operators compare the six colon-separated parts; wildcards allowed within each."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(_glob(p, v) for p, v in zip(pattern_parts, value_parts))


def _ip_in(pattern: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(pattern, strict=False)
    except ValueError:
        return False


# operator -> (compare(policy value, request value) -> bool, negated)
_BASE_OPERATORS = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (lambda p, v: _glob(p, v), False),
    "StringNotLike": (lambda p, v: _glob(p, v), True),
    "NumericEquals": (lambda p, v: _num(p, v, lambda a, b: a == b), False),
    "NumericNotEquals": (lambda p, v: _num(p, v, lambda a, b: a == b), True),
    "NumericLessThan": (lambda p, v: _num(p, v, lambda a, b: b < a), False),
    "NumericLessThanEquals": (lambda p, v: _num(p, v, lambda a, b: b <= a), False),
    "NumericGreaterThan": (lambda p, v: _num(p, v, lambda a, b: b > a), False),
    "NumericGreaterThanEquals": (lambda p, v: _num(p, v, lambda a, b: b >= a), False),
    "DateEquals": (lambda p, v: _date(p, v, lambda a, b: a == b), False),
    "DateNotEquals": (lambda p, v: _date(p, v, lambda a, b: a == b), True),
    "DateLessThan": (lambda p, v: _date(p, v, lambda a, b: b < a), False),
    "DateLessThanEquals": (lambda p, v: _date(p, v, lambda a, b: b <= a), False),
    "DateGreaterThan": (lambda p, v: _date(p, v, lambda a, b: b > a), False),
    "DateGreaterThanEquals": (lambda p, v: _date(p, v, lambda a, b: b >= a), False),
    "Bool": (lambda p, v: _to_bool(p) is not None and _to_bool(p) == _to_bool(v), False),
    "BinaryEquals": (lambda p, v: p == v, False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
}


def _num(policy_value, request_value, compare) -> bool:
    a, b = _to_number(policy_value), _to_number(request_value)
    return a is not None and b is not None and compare(a, b)


def _date(policy_value, request_value, compare) -> bool:
    a, b = _to_date(policy_value), _to_date(request_value)
    return a is not None and b is not None and compare(a, b)


class PolicyError(ValueError):
    """A policy the evaluator cannot read (AWS would have refused it with MalformedPolicyDocument)."""


def condition_holds(operator: str, key: str, policy_values, context: dict) -> bool:
    """One operator/key pair of a Condition block."""
    set_operator, _, operator = operator.rpartition(":")
    if operator == "Null":
        present = _context_value(context, key) not in (None, [], "")
        wants_absent = [_to_bool(value) for value in _as_list(policy_values)]
        return any(present != absent for absent in wants_absent if absent is not None)
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if base not in _BASE_OPERATORS:
        raise PolicyError(f"unknown condition operator {operator!r}")
    compare, negated = _BASE_OPERATORS[base]
    policy_values = [str(value).lower() if isinstance(value, bool) else str(value) for value in _as_list(policy_values)]
    request_values = [str(value).lower() if isinstance(value, bool) else str(value)
                      for value in _as_list(_context_value(context, key))]
    if not request_values:
        if set_operator == "ForAllValues":
            return True
        return if_exists or negated
    if set_operator == "ForAllValues":
        if negated:
            return all(not any(compare(p, v) for p in policy_values) for v in request_values)
        return all(any(compare(p, v) for p in policy_values) for v in request_values)
    # Single-valued keys and ForAnyValue: true when some request value matches some policy value. A negated
    # operator on a single value is true when no policy value matches it.
    if negated:
        if set_operator == "ForAnyValue":
            return any(not any(compare(p, v) for p in policy_values) for v in request_values)
        return not any(compare(p, v) for p in policy_values for v in request_values)
    return any(compare(p, v) for p in policy_values for v in request_values)


def conditions_hold(condition: dict | None, context: dict) -> bool:
    for operator, keys in (condition or {}).items():
        if not isinstance(keys, dict):
            raise PolicyError(f"condition {operator!r} must map keys to values")
        for key, values in keys.items():
            if not condition_holds(operator, key, values, context):
                return False
    return True


# --- statements and policies ---------------------------------------------------------------------------------
def statement_applies(statement: dict, check: Check) -> bool:
    if "NotAction" in statement:
        if any(action_matches(pattern, check.action) for pattern in _as_list(statement["NotAction"])):
            return False
    elif not any(action_matches(pattern, check.action) for pattern in _as_list(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(resource_matches(pattern, check.resource) for pattern in _as_list(statement["NotResource"])):
            return False
    elif "Resource" in statement:
        if not any(resource_matches(pattern, check.resource) for pattern in _as_list(statement["Resource"])):
            return False
    return conditions_hold(statement.get("Condition"), check.context)


def statements_of(document) -> list[dict]:
    """The statements of a policy document (JSON text or dict)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise PolicyError(f"policy is not JSON: {error}") from None
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def decide(documents, check: Check, principal_matches=None) -> str:
    """ALLOW, EXPLICIT_DENY or IMPLICIT_DENY for `check` under `documents` (policy documents).

    `principal_matches(principal_element) -> bool`, given for resource policies (trust and key policies),
    restricts statements to those whose Principal names the caller.
    """
    return decide_with_grants(documents, check, principal_matches)[0]


def decide_with_grants(documents, check: Check, principal_matches=None) -> tuple[str, list[tuple[str, str]]]:
    """The decision, and for an allow the (statement Sid, Action pattern) pairs that granted it (usage accounting)."""
    grants = []
    for document in documents:
        for index, statement in enumerate(statements_of(document)):
            if principal_matches is not None and not principal_matches(statement):
                continue
            if not statement_applies(statement, check):
                continue
            if statement.get("Effect") == "Deny":
                return EXPLICIT_DENY, []
            if statement.get("Effect") == "Allow":
                sid = statement.get("Sid") or f"statement-{index}"
                patterns = [pattern for pattern in _as_list(statement.get("Action")) if action_matches(pattern, check.action)]
                grants += [(sid, pattern) for pattern in patterns or ["NotAction"]]
    return (ALLOW if grants else IMPLICIT_DENY), grants


def principal_values(statement: dict) -> tuple[list[str], list[str]]:
    """(AWS principals, service principals) a resource-policy statement names; ["*"] for `"Principal": "*"`."""
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"], []
    if not isinstance(principal, dict):
        return [], []
    return [str(value) for value in _as_list(principal.get("AWS"))], [str(value) for value in _as_list(principal.get("Service"))]
