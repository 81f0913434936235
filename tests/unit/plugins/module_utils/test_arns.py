"""arns: the one ARN parser (any partition), RDS resources by type, regions of key ARNs."""
import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils import arns


@pytest.mark.parametrize("value, parsed", [
    ("arn:aws:rds:us-east-1:111122223333:cluster:prod", ("aws", "rds", "us-east-1", "111122223333", "cluster:prod")),
    ("arn:aws-cn:kms:cn-north-1:111122223333:key/abc", ("aws-cn", "kms", "cn-north-1", "111122223333", "key/abc")),
    ("arn:aws-us-gov:iam::111122223333:role/dbops/x", ("aws-us-gov", "iam", "", "111122223333", "role/dbops/x")),
    ("arn:aws:s3:::bucket", ("aws", "s3", "", None, "bucket")),
])
def test_parse_any_partition(value, parsed):
    assert tuple(arns.parse(value)) == parsed


@pytest.mark.parametrize("value", ["prod", "", None, 12, "arn:", "arn:aws:rds", "alias/aws/rds", "arn:other:rds:us-east-1:1:x"])
def test_not_arns(value):
    assert arns.parse(value) is None
    assert arns.region_account(value) == (None, None)


def test_rds_resources_by_type():
    snapshot = "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:rds:prod-2026-12-01"
    assert arns.rds_resource(snapshot, "cluster-snapshot") == ("eu-west-1", "111122223333", "rds:prod-2026-12-01")
    assert arns.rds_resource(snapshot, "cluster") is None
    assert arns.rds_resource("arn:aws:rds:eu-west-1:111122223333:cluster:x", "cluster") == ("eu-west-1", "111122223333", "x")
    # no region or account: not a usable RDS ARN
    assert arns.rds_resource("arn:aws:rds::111122223333:cluster:x", "cluster") is None
    assert arns.rds_resource("arn:aws:rds:eu-west-1::cluster:x", "cluster") is None
    assert arns.rds_resource("arn:aws:kms:eu-west-1:111122223333:cluster:x", "cluster") is None


def test_regions_and_partitions():
    assert arns.region_of("arn:aws:kms:us-west-2:111122223333:key/k") == "us-west-2"
    assert arns.region_of("alias/aurora") is None
    assert arns.partition_of("arn:aws-cn:sts::111122223333:assumed-role/r/s") == "aws-cn"
    assert arns.is_arn("arn:x") and not arns.is_arn("x")
