"""The bootstrap's operator role for tests that build their world with boto3: the policy is rendered from
roles/bootstrap_iam's own template with its own defaults (test_bootstrap.py checks that the role creates the same
document), so a pipeline test run as this role fails where the bootstrap policy would deny it on AWS.
"""
import json
from pathlib import Path

import jinja2
import yaml
from ansible.plugins.filter.core import FilterModule as CoreFilters

from ansible_collections.dbops.aurora_restore.plugins.filter.resource_names import FilterModule as NameFilters

ROLE = Path(__file__).resolve().parents[2] / "roles" / "bootstrap_iam"
ROLE_NAME = "aurora-restore-operator"
ROLE_PATH = "/dbops/"


def render_policy(account, partition="aws", **variables):
    """The operator policy document for `account`, with the role's defaults overridden by `variables`."""
    values = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    values.update(variables)
    values.update(__bootstrap_iam_account=account, __bootstrap_iam_partition=partition)
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    # Ansible's own `default` expects its templar's undefined values; Jinja's does the same job here.
    environment.filters.update({name: function for name, function in CoreFilters().filters().items() if name not in ("default", "d")})
    environment.filters.update({"dbops.aurora_restore." + name: function for name, function in NameFilters().filters().items()})
    text = environment.from_string((ROLE / "templates" / "operator_policy.json.j2").read_text()).render(**values)
    return json.loads(text)


def operator_role_arn(account):
    return "arn:aws:iam::%s:role%s%s" % (account, ROLE_PATH, ROLE_NAME)


def create_operator_role(session, account, trusted=None, **variables):
    """Create the operator role in `session`'s account with the rendered policy; returns its ARN."""
    iam = session.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": list(trusted or ["arn:aws:iam::%s:root" % account])}}]}
    iam.create_role(RoleName=ROLE_NAME, Path=ROLE_PATH, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=43200)
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName=ROLE_NAME, PolicyDocument=json.dumps(render_policy(account, **variables)))
    return operator_role_arn(account)
