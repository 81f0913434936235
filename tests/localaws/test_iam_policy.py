"""The policy evaluator on plain data: AWS's evaluation logic and condition operators (IAM User Guide, "Policy
evaluation logic", "Condition operators", "Single-valued vs. multivalued context keys")."""

import pytest

from localaws.iam_policy import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Check, condition_holds, decide

ARN = "arn:aws:rds:us-west-2:123456789012:cluster:dev-app"


def allow(**statement):
    return {"Statement": [dict({"Effect": "Allow", "Action": "rds:*", "Resource": "*"}, **statement)]}


def test_deny_wins_over_allow_and_nothing_is_allowed_by_default():
    check = Check("rds:DeleteDBCluster", ARN)
    assert decide([], check) == IMPLICIT_DENY
    assert decide([allow()], check) == ALLOW
    assert decide([allow(), {"Statement": {"Effect": "Deny", "Action": "rds:Delete*", "Resource": "*"}}], check) == EXPLICIT_DENY


def test_actions_are_case_insensitive_and_resources_are_not():
    assert decide([allow(Action="RDS:deletedbcluster")], Check("rds:DeleteDBCluster", ARN)) == ALLOW
    assert decide([allow(Resource=ARN.upper())], Check("rds:DeleteDBCluster", ARN)) == IMPLICIT_DENY
    assert decide([allow(Resource="arn:aws:rds:*:123456789012:cluster:dev-?pp")], Check("rds:DeleteDBCluster", ARN)) == ALLOW


def test_not_action_and_not_resource():
    assert decide([{"Statement": [{"Effect": "Allow", "NotAction": "rds:Delete*", "Resource": "*"}]}],
                  Check("rds:DeleteDBCluster", ARN)) == IMPLICIT_DENY
    assert decide([{"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": ARN}]}],
                  Check("rds:DeleteDBCluster", ARN)) == IMPLICIT_DENY


def test_an_action_without_a_resource_type_is_granted_by_star_only():
    check = Check("rds:DescribeDBEngineVersions", None)
    assert decide([allow(Resource=ARN)], check) == IMPLICIT_DENY
    assert decide([allow()], check) == ALLOW


@pytest.mark.parametrize("operator, key, values, context, expected", [
    ("StringEquals", "aws:ResourceTag/owner", "me", {"aws:ResourceTag/owner": "me"}, True),
    ("StringEquals", "aws:ResourceTag/owner", "me", {}, False),                   # a missing key: false
    ("StringNotEquals", "aws:ResourceTag/owner", "me", {}, True),                 # ... except for negated operators
    ("StringEqualsIfExists", "aws:ResourceTag/owner", "me", {}, True),
    ("StringLike", "kms:ViaService", "rds.*.amazonaws.com", {"kms:ViaService": "rds.us-west-2.amazonaws.com"}, True),
    ("StringEquals", "AWS:RESOURCETAG/owner", "me", {"aws:ResourceTag/owner": "me"}, True),  # key names ignore case
    ("StringEquals", "aws:ResourceTag/OWNER", "me", {"aws:ResourceTag/owner": "me"}, False),  # ... not the tag key
    ("Null", "aws:ResourceTag/owner", "true", {}, True),
    ("Null", "aws:ResourceTag/owner", "false", {}, False),
    ("Bool", "kms:GrantIsForAWSResource", "true", {"kms:GrantIsForAWSResource": "true"}, True),
    ("Bool", "kms:GrantIsForAWSResource", True, {"kms:GrantIsForAWSResource": "false"}, False),
    ("NumericLessThan", "sts:DurationSeconds", "3600", {"sts:DurationSeconds": "900"}, True),
    ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/dbops/*", {"aws:PrincipalArn": "arn:aws:iam::1:role/dbops/op"}, True),
    ("ForAnyValue:StringEquals", "kms:ResourceAliases", "alias/a", {"kms:ResourceAliases": ["alias/b", "alias/a"]}, True),
    ("ForAnyValue:StringEquals", "kms:ResourceAliases", "alias/a", {}, False),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"], {"aws:TagKeys": ["a"]}, True),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"], {"aws:TagKeys": ["a", "c"]}, False),
    ("ForAllValues:StringEquals", "aws:TagKeys", ["a"], {}, True),                 # no key: vacuously true
])
def test_condition_operators(operator, key, values, context, expected):
    assert condition_holds(operator, key, values, context) is expected


def test_a_failing_condition_makes_a_statement_not_apply_rather_than_deny():
    tagged = allow(Action="rds:DeleteDBCluster", Condition={"StringEquals": {"aws:ResourceTag/owner": "me"}})
    by_name = allow(Action="rds:DeleteDBCluster", Resource=ARN)
    assert decide([tagged, by_name], Check("rds:DeleteDBCluster", ARN)) == ALLOW
