"""aurora_cluster_restore module: option validation and its one-line messages (no AWS needed)."""
import json

import pytest
from ansible_collections.dbops.aurora_restore.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_cluster import RestoreError
from ansible_collections.dbops.aurora_restore.plugins.modules import aurora_cluster_restore as mod


def params(**overrides):
    base = {name: spec.get("default") for name, spec in mod.argument_spec().items()}
    base.update(cluster_identifier="staging", snapshot_identifier="refresh", instances={"count": 1, "instance_class": "db.r6g.large"})
    base.update(overrides)
    return base


def test_valid_options_return_identifiers():
    assert mod.validate_options(params(cluster_identifier="Staging"), "us-east-1") == ("staging", "staging-restoring", "staging-retired", None)


def test_cluster_arn_in_region():
    arn = "arn:aws:rds:us-east-1:123456789012:cluster:staging"
    assert mod.validate_options(params(cluster_identifier=arn), "us-east-1")[0] == "staging"


@pytest.mark.parametrize("overrides, message", [
    ({"cluster_identifier": "arn:aws:rds:eu-west-1:123456789012:cluster:staging"},
     "refusing to restore 'arn:aws:rds:eu-west-1:123456789012:cluster:staging': the cluster ARN is in region 'eu-west-1', "
     "not the configured region 'us-east-1'"),
    ({"cluster_identifier": "arn:aws:rds:us-east-1:123456789012:cluster:staging", "expected_account_id": "111122223333"},
     "refusing to restore 'arn:aws:rds:us-east-1:123456789012:cluster:staging': the cluster ARN is in account '123456789012', "
     "not expected_account_id '111122223333'"),
    ({"cluster_identifier": "staging_db"}, "cluster_identifier 'staging_db' is not a valid RDS identifier"),
    ({"temporary_identifier_suffix": "-" + "t" * 60}, "temporary_identifier_suffix / retired_identifier_suffix: suffix"),
    ({"tags": {"aws:cloudformation:stack-name": "prod"}}, "tags: key 'aws:cloudformation:stack-name' starts with a prefix AWS reserves"),
    ({"tags": {"k%d" % n: "v" for n in range(42)}}, "tags: 42 tags leave no room for the collection's 9 markers"),
    ({"backup_retention_period": 36}, "backup_retention_period must be 1-35 days, got 36"),
    ({"serverless_v2_scaling": {"min_capacity": 0.5, "max_capacity": 0.5}, "instances": {"count": 1, "instance_class": "db.serverless"}},
     "max_capacity >= 1"),
    ({"temporary_identifier_suffix": "-x", "retired_identifier_suffix": "-x"}, "temporary_identifier_suffix and retired_identifier_suffix must differ"),
    ({"retired_identifier_suffix": "--old"}, "retired identifier (cluster_identifier + retired_identifier_suffix) 'staging--old' is not a valid"),
    ({"instances": {"count": 0, "instance_class": "db.r6g.large"}}, "instances.count must be between 1 (the writer) and 16, got 0"),
    ({"instances": {"count": 1, "instance_class": "db.r6g.large", "promotion_tiers": [0, 1]}}, "instances.promotion_tiers has 2 entries for 1 instances"),
    ({"instances": {"count": 2, "instance_class": "db.r6g.large", "promotion_tiers": [0, 16]}}, "instances.promotion_tiers: 16 is not a promotion tier"),
    ({"instances": {"count": 1, "instance_class": "r6g.large"}}, "instances.instance_class 'r6g.large' is not an instance class"),
    ({"instances": {"count": 1, "instance_class": "db.serverless"}},
     "serverless_v2_scaling (min_capacity, max_capacity) is required when instances.instance_class is db.serverless"),
    ({"serverless_v2_scaling": {"min_capacity": 8, "max_capacity": 2}}, "serverless_v2_scaling: need 0 <= min_capacity <= max_capacity <= 256"),
    ({"port": 80}, "port 80 is outside 1150-65535"),
    ({"wait_timeout": 0}, "wait_timeout must be at least 1 second, got 0"),
    ({"poll_interval_min": 10, "poll_interval_max": 5}, "need 0 < poll_interval_min <= poll_interval_max"),
    ({"expected_account_id": "12345"}, "expected_account_id '12345' is not a 12-digit AWS account id"),
    ({"final_snapshot_identifier": "final_1"}, "final_snapshot_identifier 'final_1' is not a valid RDS identifier"),
])
def test_bad_options(overrides, message):
    with pytest.raises(RestoreError) as error:
        mod.validate_options(params(**overrides), "us-east-1")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_argument_spec_choices_through_main(capsys):
    args = {"cluster_identifier": "staging", "snapshot_identifier": "x", "strategy": "blue-green", "region": "us-east-1",
            "instances": {"instance_class": "db.r6g.large"}}
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            mod.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and "value of strategy must be one of: replace, swap, got: blue-green" in result["msg"]


def test_documentation_matches_argument_spec():
    import importlib

    import yaml
    documentation = yaml.safe_load(mod.DOCUMENTATION)
    documented = dict(documentation["options"])
    # The collection's own doc fragments document some options (amazon.aws's: the connection options, not in the spec).
    for fragment in documentation.get("extends_documentation_fragment", []):
        if fragment.startswith("dbops.aurora_restore."):
            source = importlib.import_module("ansible_collections.dbops.aurora_restore.plugins.doc_fragments." + fragment.split(".")[-1])
            documented.update(yaml.safe_load(source.ModuleDocFragment.DOCUMENTATION).get("options") or {})
    assert set(documented) == set(mod.argument_spec())
    assert set(documented["instances"]["suboptions"]) == set(mod.argument_spec()["instances"]["options"])


@pytest.mark.parametrize("actions, continues, needed", [
    (["restore_cluster", "wait_cluster_available", "create_instances"], False, True),
    (["restore_cluster", "wait_cluster_available", "create_instances"], True, True),  # restores: always checked
    (["delete_instances", "wait_instances_gone"], True, True),
    (["wait_cluster_available", "create_instances", "wait_instances_available"], False, True),  # a resume checks again
    (["wait_cluster_available", "create_instances", "wait_instances_available"], True, False),  # a later slice: checked
    (["wait_instances_available", "reset_master_password"], False, False),
])
def test_the_references_are_checked_before_what_they_affect_once_per_wait(actions, continues, needed):
    steps = [{"action": action, "cluster": "t", "phase": "restore"} for action in actions]
    assert mod.needs_reference_check(steps, continues_a_wait=continues) is needed
