# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's modules run inside the controller's worker, when that is where they would run anyway.

Why: a refresh runs about ten module processes per target, and each pays a Python start, the AnsiballZ unpack and the
boto3 import (about half a second of controller CPU, measured by `make bench`): with 30 targets on 2 cores that CPU,
not AWS, sets the pace. When a task's connection is local, its module runs on the controller either way; running it
in the worker Ansible already forked for the task changes where the same code runs, not what it does:

- the module's own main(), with its own AnsibleModule (argument spec, aliases, defaults, no_log masking, check mode,
  warnings, `invocation`), given the arguments Ansible would have written to its args file, in the same JSON
  encoding (ansible-core's module serialization profile), and its printed result parsed as Ansible parses a module's;
- only when the module would run on this Python: the task's interpreter is this one (localhost's usual
  `ansible_python_interpreter: "{{ ansible_playbook_python }}"`, or the implicit localhost), it sets no
  `environment` (which reaches only a module's process), and it is not async.

Anything else runs the module as a process, exactly as before. ansible.netcommon runs network modules in the worker
the same way (its `import_modules` option): main() called, stdout captured, SystemExit caught. Here the module reads
its arguments from the buffer AnsibleModule reads a process's standard input into (`_ANSIBLE_ARGS`), so its own
parameter loading runs unchanged on every ansible-core line.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import io
import json
import os
import sys

from ansible.module_utils import basic
from ansible.plugins.action import ActionBase

try:  # ansible-core 2.19+: the module serialization profiles
    from ansible.module_utils.common.json import Direction
    from ansible.module_utils.common.json import get_module_encoder
    _PROFILES = True
except ImportError:  # ansible-core 2.17 and 2.18: plain JSON, vaulted values as text
    _PROFILES = False

try:
    # Imported here so that the controller's main process holds it for every forked worker.
    import boto3  # noqa: F401 pylint: disable=unused-import
    import botocore.loaders
    import botocore.session
    HAS_SDK = True
except ImportError:  # the module, run as a process, says what is missing
    HAS_SDK = False

PROFILE = "legacy"  # the collection's modules declare no other
# Where a module process finds its arguments, set for one run in the worker and put back after it.
_MODULE_GLOBALS = ("_ANSIBLE_ARGS", "_ANSIBLE_PROFILE", "_PARSED_MODULE_ARGS")
# The services the collection's modules call: their models are read once, in the controller's main process.
WARM_SERVICES = ("rds", "ec2", "kms", "secretsmanager", "sns", "sts", "cloudwatch", "dynamodb", "ram")


def _warm_loader():
    """botocore's loader of the default data path with the models of WARM_SERVICES (and the endpoint data) read.

    Made when the strategy first loads one of the collection's actions, in the controller's main process, so each
    forked worker inherits it: a module run in a worker then creates its clients without reading and parsing botocore's
    JSON files again (the RDS model alone is 1.5 MB; a module process pays this for every client it makes)."""
    loader = botocore.loaders.create_loader()
    session = botocore.session.get_session()
    session.register_component("data_loader", loader)
    for service in WARM_SERVICES:
        session.create_client(service, region_name="us-east-1", aws_access_key_id="warm-up", aws_secret_access_key="warm-up")
    return loader


WARM_LOADER = _warm_loader() if HAS_SDK else None


@contextlib.contextmanager
def _warm_models():
    """Every botocore session made meanwhile (amazon.aws makes one per client) reads models through WARM_LOADER, unless
    it has a data path of its own (AWS_DATA_PATH): the same files, read once."""
    original = botocore.session.create_loader

    def create_loader(search_path_string=None):
        return WARM_LOADER if search_path_string is None else original(search_path_string)

    botocore.session.create_loader = create_loader
    try:
        yield
    finally:
        botocore.session.create_loader = original


def runs_in_worker(action, task_vars):
    """Whether `action`'s task may run a module of this collection in its worker (the module docstring says why)."""
    if not HAS_SDK or action._connection.transport != "local" or any(action._task.environment or ()):
        return False
    if getattr(action._task, "async_val", 0):
        return False
    interpreter = (task_vars or {}).get("ansible_python_interpreter")
    if interpreter is None:
        return False  # interpreter discovery would choose: the module's own process finds out which
    try:
        interpreter = action._templar.template(interpreter)
    except Exception:  # pylint: disable=broad-except  # an interpreter we cannot resolve here is the process's to find
        return False
    return isinstance(interpreter, str) and os.path.abspath(interpreter) == os.path.abspath(sys.executable)


def run_module(action, fqcn, module_args, task_vars):
    """The result of the module `fqcn` with `module_args` (module_defaults applied by the caller), as
    `action._execute_module` would return it: in the worker when runs_in_worker allows, else as a process."""
    if not runs_in_worker(action, task_vars):
        return action._execute_module(module_name=fqcn, module_args=module_args, task_vars=task_vars)
    module_args = copy.deepcopy(module_args)
    action._update_module_args(fqcn, module_args, task_vars)
    module = importlib.import_module(_python_name(action, fqcn))
    stdout, stderr = _run_main(module, _args_file(module_args))
    return _as_ansible_parses_it(action, stdout, stderr)


def _python_name(action, fqcn):
    context = action._shared_loader_obj.module_loader.find_plugin_with_context(fqcn, collection_list=action._task.collections)
    return context.plugin_resolved_name


def _args_file(module_args):
    """What Ansible hands a module process as its arguments (the AnsiballZ args): JSON in the controller's encoding for
    modules (ansible-core 2.19+: the module serialization profile's; earlier: vaulted values as text)."""
    params = dict(ANSIBLE_MODULE_ARGS=module_args)
    if _PROFILES:
        return json.dumps(params, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)).encode("utf-8")
    from ansible.module_utils.common.json import AnsibleJSONEncoder  # pylint: disable=import-outside-toplevel
    return json.dumps(params, cls=AnsibleJSONEncoder, vault_to_text=True).encode("utf-8")


def _run_main(module, args_file):
    """Run `module.main()` reading `args_file` where a module process reads its standard input; its printed output and
    error text. The module's own AnsibleModule decodes, validates and masks as it would in a process."""
    saved = {name: getattr(basic, name) for name in _MODULE_GLOBALS if hasattr(basic, name)}
    basic._ANSIBLE_ARGS = args_file
    if _PROFILES:
        basic._ANSIBLE_PROFILE = PROFILE
    out, err = io.StringIO(), io.StringIO()
    try:
        with _warm_models(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                module.main()
            except SystemExit:
                pass  # exit_json and fail_json end the module so
    finally:
        for name, value in saved.items():
            setattr(basic, name, value)
    return out.getvalue(), err.getvalue()


def _as_ansible_parses_it(action, stdout, stderr):
    """What _execute_module makes of a module's output: its JSON parsed (a module that printed none fails with the
    output shown), the keys a module may not set removed. ansible-core 2.21 parses into a task result object,
    earlier lines into a dict."""
    response = dict(rc=0, stdout=stdout, stdout_lines=stdout.splitlines(), stderr=stderr, stderr_lines=stderr.splitlines())
    if "profile" in inspect.signature(action._parse_returned_data).parameters:
        parsed = action._parse_returned_data(response, PROFILE)
    else:
        parsed = action._parse_returned_data(response)
    if hasattr(parsed, "as_result_dict"):  # ansible-core 2.21+
        parsed.remove_internal_keys()
        return parsed.as_result_dict(for_round_trip=True)
    from ansible.vars.clean import remove_internal_keys  # pylint: disable=import-outside-toplevel
    remove_internal_keys(parsed)
    return parsed


class ModuleInWorkerAction(ActionBase):
    """The action of a module of this collection: the module, in the worker when runs_in_worker allows."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        result.update(run_module(self, self._task.resolved_action, self._task.args, task_vars))
        return result
