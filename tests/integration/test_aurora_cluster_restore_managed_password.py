"""aurora_cluster_restore with master_password_mode=managed: RDS keeps the master password in its own secret
(ModifyDBCluster ManageMasterUserPassword), for both strategies, through real ansible-playbook runs against the
emulator (real PostgreSQL behind each cluster). The secret's ARN is returned; its value is never printed."""
import json

import psycopg2

from test_aurora_cluster_restore import SECRET
from test_aurora_cluster_restore import TARGET
from test_aurora_cluster_restore import cluster
from test_aurora_cluster_restore import module_args
from test_aurora_cluster_restore import mutations
from test_aurora_cluster_restore import run
# The seeded production, its "refresh" snapshot and an older staging target, as a fixture.
from test_aurora_cluster_restore import env  # noqa: F401  pylint: disable=unused-import


def managed(**overrides):
    args = module_args(master_password_mode="managed", **overrides)
    args.pop("master_secret_id")
    return args


def managed_credentials(env, result):
    arn = result["master_user_secret_arn"]
    value = json.loads(env.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    return arn, value


def rows(result, password):
    with psycopg2.connect(host=result["endpoint"], port=result["port"], user="postgres", password=password, dbname="appdb",
                          connect_timeout=5) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM customers")
            count = cur.fetchone()[0]
    conn.close()
    return count


def test_replace_with_a_managed_master_password_then_a_rerun_changes_nothing(env, tmp_path):
    first = run(tmp_path, managed())
    assert first.rc == 0, first.output[-3000:]
    result = first.result("restore0")
    assert result["changed"] is True and "manage_master_password" in [step["action"] for step in result["plan"]]
    arn, value = managed_credentials(env, result)
    assert ":secret:rds!cluster-" in arn and cluster(env, TARGET)["MasterUserSecret"]["SecretArn"] == arn
    assert rows(result, value["password"]) == 2000 and value["username"] == "postgres"
    assert value["password"] not in first.output
    before = mutations(env)
    again = run(tmp_path, managed())
    assert again.rc == 0 and again.result("restore0")["changed"] is False and again.result("restore0")["plan"] == []
    assert again.result("restore0")["master_user_secret_arn"] == arn and mutations(env) == before


def test_swap_keeps_the_secret_with_the_cluster_that_takes_the_targets_name(env, tmp_path):
    swapped = run(tmp_path, managed(strategy="swap"))
    assert swapped.rc == 0, swapped.output[-3000:]
    result = swapped.result("restore0")
    arn, value = managed_credentials(env, result)
    assert cluster(env, TARGET)["MasterUserSecret"]["SecretArn"] == arn
    assert rows(result, value["password"]) == 2000


def test_managed_refuses_a_master_secret_and_a_key_without_it_with_nothing_changed(env, tmp_path):
    before = mutations(env)
    refused = run(tmp_path, module_args(master_password_mode="managed"), module_args(master_user_secret_kms_key_id="alias/aurora"),
                  ignore_errors=True)
    first, second = refused.result("restore0"), refused.result("restore1")
    assert first["failed"] and first["msg"] == ("master_secret_id (%r) applies to master_password_mode=secret; with managed, RDS "
                                                "keeps the master password in a secret of its own" % SECRET)
    assert second["failed"] and second["msg"] == "master_user_secret_kms_key_id applies to master_password_mode=managed"
    assert mutations(env) == before and "MasterUserSecret" not in cluster(env, TARGET)
