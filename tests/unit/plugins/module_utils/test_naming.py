"""Generated names fit AWS's identifier rules for the longest valid inputs, and stay deterministic and unique."""
import datetime
import fnmatch

import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils import naming

ACCOUNT = "123456789012"
MOMENT = datetime.datetime(2026, 12, 2, 1, 2, 3, tzinfo=datetime.timezone.utc)
LONGEST_TARGET = "a" + "b1-" * 20 + "c"  # 62 characters, hyphens inside, the longest shape a user may give
LONGEST_TARGET_63 = "t" * 63


def derived(target):
    return {
        "temporary": naming.temporary_cluster(target),
        "retired": naming.retired_cluster(target),
        "instance_1": naming.instance(target, 1),
        "instance_16": naming.instance(target, 16),
        "final": naming.final_snapshot(target, MOMENT),
    }


@pytest.mark.parametrize("target", ["dev-app", LONGEST_TARGET, LONGEST_TARGET_63, "x" * 42, "x" * 43])
def test_every_derived_name_is_a_valid_identifier(target):
    for kind, name in derived(target).items():
        assert naming.is_valid_identifier(name), (kind, name)
        assert len(name) <= 63 and name == name.lower()


def test_short_names_keep_their_readable_form():
    assert derived("dev-app") == {"temporary": "dev-app-restoring", "retired": "dev-app-retired", "instance_1": "dev-app-1",
                                  "instance_16": "dev-app-16", "final": "dev-app-final-20261202010203"}


def test_long_names_are_deterministic_and_unique_per_target():
    other = LONGEST_TARGET_63[:-1] + "u"  # shares 62 characters with LONGEST_TARGET_63
    assert derived(LONGEST_TARGET_63) == derived(LONGEST_TARGET_63)
    mine, theirs = derived(LONGEST_TARGET_63), derived(other)
    for kind in mine:
        assert mine[kind] != theirs[kind], kind
    assert mine["temporary"].endswith("-restoring") and mine["final"].endswith("-final-20261202010203")
    assert naming.final_snapshot(LONGEST_TARGET_63, MOMENT).startswith(naming.final_snapshot_prefix(LONGEST_TARGET_63))


@pytest.mark.parametrize("target", ["dev-app", LONGEST_TARGET, LONGEST_TARGET_63])
def test_the_operator_policy_patterns_cover_every_derived_name(target):
    patterns = naming.iam_cluster_patterns(target)
    for kind, name in dict(derived(target), target=target).items():
        assert any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns), (kind, name, patterns)
    assert not any(fnmatch.fnmatchcase("other-app-restoring", pattern) for pattern in patterns)


@pytest.mark.parametrize("source", [
    "arn:aws:rds:us-east-1:%s:cluster-snapshot:%s" % (ACCOUNT, "p" * 63),
    "arn:aws:rds:us-east-1:%s:cluster-snapshot:rds:%s-2026-11-22-03-00" % (ACCOUNT, "production-" * 5),
    "arn:aws:rds:us-east-1:%s:cluster-snapshot:%s" % (ACCOUNT, "1-starts-with-a-digit"),
])
def test_copy_names_fit_for_the_longest_sources(source):
    for prefix in (naming.COPY_PREFIX, naming.SHARE_PREFIX):
        name = naming.snapshot_copy(source, "us-west-2", "arn:aws:kms:us-west-2:%s:key/k" % ACCOUNT, prefix=prefix)
        assert naming.is_valid_identifier(name), name
        assert name.startswith(prefix + "-")


def test_copy_names_are_deterministic_and_distinct():
    arn = "arn:aws:rds:us-east-1:%s:cluster-snapshot:rds:production-2026-11-22-03-00" % ACCOUNT
    first = naming.snapshot_copy(arn, "us-west-2", "key-a")
    assert first == naming.snapshot_copy(arn, "us-west-2", "key-a")
    assert first != naming.snapshot_copy(arn, "eu-west-1", "key-a") != naming.snapshot_copy(arn, "us-west-2", "key-b")
    assert first.startswith("dbops-rds-production-2026-11-22-03-00-")


@pytest.mark.parametrize("value", ["", "1abc", "abc-", "a--b", "a_b", "a" * 64])
def test_identifier_problems_name_the_option(value):
    assert naming.identifier_problem(value, "cluster_identifier").startswith("cluster_identifier %r is not a valid RDS identifier" % value)


def test_a_suffix_that_leaves_no_room_is_refused():
    with pytest.raises(naming.NamingError, match="leaves no room"):
        naming.fit("x" * 70, "-" + "s" * 60)
