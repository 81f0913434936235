# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ARNs: the one parser for every ARN the collection reads (clusters, cluster snapshots, KMS keys, topics, roles).

arn:<partition>:<service>:<region>:<account>:<resource>, where an RDS resource is <type>:<name> and a KMS key
key/<id> or alias/<name> ("Amazon Resource Names (ARNs)", AWS General Reference). Any partition: aws, aws-cn,
aws-us-gov and the isolated ones.
"""

from __future__ import annotations

import re
from collections import namedtuple

_ARN_RE = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|aws)?:(?P<resource>.+)$")

Arn = namedtuple("Arn", "partition service region account resource")


def parse(value):
    """The Arn of `value`, or None when it is not an ARN (a plain identifier, an alias name, a key id)."""
    match = _ARN_RE.match(value or "") if isinstance(value, str) else None
    return Arn(**match.groupdict()) if match else None


def is_arn(value):
    return isinstance(value, str) and value.startswith("arn:")


def rds_resource(value, resource_type):
    """(region, account, name) of an RDS ARN of `resource_type` ("cluster", "cluster-snapshot", "db"), else None."""
    arn = parse(value)
    if arn is None or arn.service != "rds" or not arn.region or not (arn.account or "").isdigit():
        return None
    kind, dummy, name = arn.resource.partition(":")
    if kind != resource_type or not name:
        return None
    return arn.region, arn.account, name


def region_account(value):
    """(region, account) of an ARN; (None, None) for anything else."""
    arn = parse(value)
    return (arn.region, arn.account) if arn else (None, None)


def region_of(value):
    """The region an ARN names, or None (a plain id or alias means the caller's region)."""
    return region_account(value)[0] or None


def partition_of(value):
    """The partition of an ARN (the caller's ARN from sts:GetCallerIdentity gives the credentials' partition)."""
    arn = parse(value)
    return arn.partition if arn else None
