"""RestoreContext: a frozen value built from the module's values, carrying only the request options."""
import dataclasses

import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RESTORE_OPTION_KEYS
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreContext
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restore_options

BASE = {"target": "staging", "temp_id": "staging-restoring", "retired_id": "staging-retired", "strategy": "swap",
        "region": "us-east-1", "snapshot": {"DBClusterSnapshotArn": "arn:aws:rds:us-east-1:111122223333:cluster-snapshot:s"},
        "instance_specs": [{"instance_class": "db.r6g.large", "promotion_tier": 0}]}


def test_frozen_and_read_only():
    ctx = RestoreContext.of(dict(BASE, restore_options={"tags": {"a": "b"}, "wait_timeout": 60, "master_secret_id": "m"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.target = "other"
    with pytest.raises(TypeError):
        ctx.snapshot["DBClusterSnapshotArn"] = "x"
    with pytest.raises(TypeError):
        ctx.restore_options["tags"] = {}
    # The module's other params (waits, secrets) are not carried: only what the requests are built from.
    assert set(ctx.restore_options) == {"tags"}
    assert ctx.cutover is True and ctx.refresh_certificate is True and ctx.master_secret_id is None


def test_of_is_idempotent_and_refuses_unknown_fields():
    ctx = RestoreContext.of(BASE)
    assert RestoreContext.of(ctx) is ctx
    with pytest.raises(TypeError, match="no field wait_timeout"):
        RestoreContext.of(dict(BASE, wait_timeout=3))


def test_restore_options_keep_the_request_keys_only():
    params = {key: "v" for key in RESTORE_OPTION_KEYS}
    params.update(wait_timeout=1, poll_interval_min=2, master_secret_id="m", operation_id="o")
    assert set(restore_options(params)) == set(RESTORE_OPTION_KEYS)
    assert dict(restore_options(None)) == {}
