"""The restore role's argument_specs says what the role does: its defaults are defaults/main.yml's, and the options it
hands to a module (smoke checks, sslmode) are that module's, so the role's validation speaks before the module's."""
from pathlib import Path

import yaml

from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_connection import connection_argument_spec
from ansible_collections.dbops.aurora_restore.plugins.module_utils.db_post_restore import sql_argument_spec

ROLE = Path(__file__).resolve().parents[3] / "roles" / "restore"
SPEC = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
OPTIONS = SPEC["options"]
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def test_the_entry_point_is_described():
    assert SPEC["short_description"] and SPEC["description"]


def test_every_default_is_documented_with_its_value():
    assert set(OPTIONS) == set(DEFAULTS)
    for name, value in DEFAULTS.items():
        if isinstance(value, str) and "{{" in value:
            assert "default" not in OPTIONS[name] and "default" in str(OPTIONS[name]["description"]), name
        else:
            assert OPTIONS[name].get("default") == value, name


def test_options_handed_to_a_module_are_that_modules():
    module_checks = sql_argument_spec()["smoke_checks"]["options"]
    role_checks = OPTIONS["restore_smoke_checks"]["options"]
    assert set(role_checks) == set(module_checks)
    for name, option in module_checks.items():
        assert role_checks[name]["type"] == option["type"], name
        assert role_checks[name].get("required", False) == option.get("required", False), name
        assert role_checks[name].get("default") == option.get("default"), name
    assert OPTIONS["restore_ssl_mode"]["choices"] == connection_argument_spec()["ssl_mode"]["choices"]
