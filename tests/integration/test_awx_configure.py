"""playbooks/awx_configure.yml: syntax-checked by ansible-playbook, and every awx.awx task's arguments (rendered
the way Ansible renders them, module_defaults included, once per loop item) validated against the argument spec
of the module's own code, with no controller."""
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar

from helpers.ansible_run import COLLECTIONS_PATH, REPO_ROOT, ansible_env

PLAYBOOK = REPO_ROOT / "playbooks" / "awx_configure.yml"
CONNECTION = {"controller_host": "https://awx.example.com", "controller_oauthtoken": "placeholder-token"}


class CapturedSpec(Exception):
    def __init__(self, argument_spec, kwargs):
        super().__init__("captured")
        self.argument_spec = argument_spec
        self.kwargs = kwargs


def module_spec(name):
    """(argument_spec, validator keyword arguments) that awx.awx.<name> builds in main(), plus the auth options."""
    module = importlib.import_module(f"ansible_collections.awx.awx.plugins.modules.{name}")
    controller_api = importlib.import_module("ansible_collections.awx.awx.plugins.module_utils.controller_api")

    def capture(argument_spec=None, **kwargs):
        raise CapturedSpec(argument_spec, kwargs)

    original = module.ControllerAPIModule
    module.ControllerAPIModule = capture
    try:
        with pytest.raises(CapturedSpec) as captured:
            module.main()
    finally:
        module.ControllerAPIModule = original
    spec = dict(captured.value.argument_spec)
    spec.update(controller_api.ControllerModule.AUTH_ARGSPEC)
    keys = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")
    return spec, {key: value for key, value in captured.value.kwargs.items() if key in keys}


def awx_invocations():
    """(task name, module short name, rendered arguments) for each awx.awx task and loop item."""
    init_plugin_loader([str(COLLECTIONS_PATH)])  # lookups and filters resolve as in ansible-playbook
    loader = DataLoader()
    the_play = loader.load_from_file(str(PLAYBOOK), trusted_as_template=True)[0]
    variables = dict(the_play["vars"], ansible_playbook_python=sys.executable, **CONNECTION)
    defaults = the_play.get("module_defaults", {}).get("group/awx.awx.controller", {})
    found = []
    for task in the_play["tasks"]:
        modules = [key for key in task if key.startswith("awx.awx.")]
        if not modules:
            continue
        items = [None]
        loop_var = task.get("loop_control", {}).get("loop_var", "item")
        if "loop" in task:
            items = Templar(loader=loader, variables=variables).template(task["loop"])
        for item in items:
            scope = dict(variables, **({loop_var: item} if item is not None else {}))
            templar = Templar(loader=loader, variables=scope)
            arguments = dict(templar.template(defaults))
            arguments.update(templar.template(task[modules[0]]))
            found.append((task["name"], modules[0].rsplit(".", 1)[1], arguments))
    return found


INVOCATIONS = awx_invocations()


def test_syntax_check():
    proc = subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "--syntax-check", str(PLAYBOOK)],
                          capture_output=True, text=True, env=ansible_env(), cwd=str(REPO_ROOT), timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_kind_of_object_is_configured():
    modules = {module for _name, module, _arguments in INVOCATIONS}
    assert modules >= {"organization", "execution_environment", "project", "credential", "inventory", "inventory_source",
                       "notification_template", "job_template", "schedule"}


@pytest.mark.parametrize("name,module,arguments", INVOCATIONS,
                         ids=[f"{module}:{arguments.get('name')}" for _name, module, arguments in INVOCATIONS])
def test_arguments_match_the_module(name, module, arguments):
    spec, constraints = module_spec(module)
    result = ArgumentSpecValidator(spec, **constraints).validate(arguments)
    assert not result.error_messages, f"{name}: {result.error_messages}"
    assert result.validated_parameters["controller_host"] == CONNECTION["controller_host"]


def by_module(module):
    return [arguments for _name, name, arguments in INVOCATIONS if name == module]


def test_restore_job_templates_and_survey():
    role_options = yaml.safe_load((REPO_ROOT / "roles" / "restore" / "meta" / "argument_specs.yml").read_text())
    options = role_options["argument_specs"]["main"]["options"]
    restores = [template for template in by_module("job_template") if template["playbook"] == "playbooks/restore.yml"]
    assert {template["limit"] for template in restores} == {"dev", "staging"}
    credentials = {credential["name"] for credential in by_module("credential")}
    notifications = {template["name"] for template in by_module("notification_template")}
    for template in restores:
        assert template["ask_limit_on_launch"] is True and template["survey_enabled"] is True
        # One job per environment unless awx_restore_job_slice_count (or the environment's job_slice_count) says more.
        assert template["job_slice_count"] == 1 and "instance_groups" not in template
        assert set(template["credentials"]) <= credentials
        assert set(template["notification_templates_error"]) | set(template["notification_templates_success"]) <= notifications
        questions = {question["variable"]: question for question in template["survey_spec"]["spec"]}
        assert set(questions) == {"restore_source_snapshot_identifier", "restore_strategy", "restore_operation_id"}
        assert set(questions) <= set(options)
        assert questions["restore_strategy"]["choices"] == options["restore_strategy"]["choices"]
        assert questions["restore_strategy"]["default"] in ("replace", "swap")
    bootstraps = [template for template in by_module("job_template") if template["playbook"] == "playbooks/bootstrap.yml"]
    assert len(bootstraps) == len(by_module("credential"))


def test_daily_schedule_at_one_utc():
    schedules = by_module("schedule")
    templates = {template["name"] for template in by_module("job_template")}
    assert len(schedules) == 2
    for schedule in schedules:
        assert re.fullmatch(r"DTSTART:\d{8}T010000Z RRULE:FREQ=DAILY;INTERVAL=1", schedule["rrule"]), schedule["rrule"]
        assert schedule["unified_job_template"] in templates


def test_inventory_source_path_exists():
    for source in by_module("inventory_source"):
        assert (REPO_ROOT / source["source_path"]).is_file(), source["source_path"]
        assert source["source_project"] in {project["name"] for project in by_module("project")}
    hosts = yaml.safe_load((REPO_ROOT / "inventories" / "example" / "hosts.yml").read_text())
    assert set(hosts["all"]["children"]) >= {source["limit"] for source in by_module("inventory_source")}
