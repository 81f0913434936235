# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs a long wait as a loop of module runs in one task (documentation: plugins/modules/wait_in_slices.py).

Why an action plugin: Ansible cannot end an include loop early, so a task file that waits in slices had to include
itself, and a four-hour copy nested hundreds of includes. Here each slice is one run of the module, exactly as the task
would run it (module_defaults applied; in the worker when the task would run it on the controller's own Python,
plugin_utils/module_in_worker.py), and between slices the controller prints a
progress line, records a progress event and renews the assumed role when its session is about to end.
"""

from __future__ import annotations

import string
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.audit_on_controller import record
from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.audit_on_controller import runs_on_controller
from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.module_defaults import with_module_defaults
from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.module_in_worker import run_module

display = Display()

CREDENTIAL_KEYS = ("access_key", "secret_key", "session_token")
AUDIT_MODULE = "dbops.aurora_restore.restore_audit"
ASSUME_ROLE_MODULE = "amazon.aws.sts_assume_role"

ARGUMENT_SPEC = dict(
    module=dict(type="str", required=True),
    module_args=dict(type="dict", required=True),
    timeout=dict(type="int", required=True),
    slice_seconds=dict(type="int", required=True),
    progress=dict(type="dict", default={}),
    progress_line=dict(type="str", default=""),
    record_progress=dict(type="dict"),
    renew_credentials=dict(type="dict", options=dict(
        role_arn=dict(type="str", required=True),
        role_session_name=dict(type="str", required=True),
        duration_seconds=dict(type="int", required=True),
        region=dict(type="str", required=True),
        expires_at=dict(type="float", required=True),
        refresh_seconds=dict(type="float", required=True),
    )),
)


def value_at(result, path):
    """The value at a dotted path of a module result (`wait.status`), or None."""
    value = result
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def first_clause(value):
    """A status for one line: up to its first '; ' (a module's 'run again to resume' advice is not progress)."""
    return value.split("; ", 1)[0] if isinstance(value, str) else value


def progress_of(result, paths):
    return {name: value_at(result, path) for name, path in paths.items()}


def check_line(template, names):
    """Refuse, before the first slice, a progress_line whose fields progress does not give (or that is malformed)."""
    try:
        fields = [field for _text, field, _spec, _conversion in string.Formatter().parse(template) if field is not None]
    except ValueError as error:
        raise AnsibleActionFail("progress_line %r is not a valid line template: %s" % (template, error)) from None
    unknown = sorted(set(fields) - set(names) - {"waited_seconds"})
    if unknown:
        raise AnsibleActionFail("progress_line %r names %s, which progress does not give (it gives: %s)"
                                % (template, ", ".join(unknown), ", ".join(sorted(names) + ["waited_seconds"])))


def format_line(template, details, waited_seconds):
    shown = {name: "?" if value is None else first_clause(value) for name, value in details.items()}
    shown["waited_seconds"] = waited_seconds
    return template.format_map(shown)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        _valid, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if args["timeout"] < 1 or args["slice_seconds"] < 1:
            raise AnsibleActionFail("timeout and slice_seconds must be at least 1 second, got %s and %s"
                                    % (args["timeout"], args["slice_seconds"]))
        check_line(args["progress_line"], args["progress"])
        module = self._resolve(args["module"])
        module_args = self._with_defaults(module, args["module_args"])
        audit_args = None
        if args["record_progress"] and not self._play_context.check_mode:
            audit_args = self._with_defaults(self._resolve(AUDIT_MODULE), dict(args["record_progress"], action="step", step_status="progress"))
        renewal = dict(args["renew_credentials"]) if args["renew_credentials"] else None

        started = time.time()
        deadline = started + args["timeout"]
        slice_seconds = min(args["slice_seconds"], args["timeout"])
        warnings, deprecations, lines = [], [], []
        slices = renewals = 0
        changed = False
        durations, pending = {}, None
        while True:
            if renewal and renewal["expires_at"] - time.time() < renewal["refresh_seconds"]:
                self._renew(renewal, task_vars, [module_args, audit_args])
                renewals += 1
            slice_started = time.time()
            # A module that said which wait its slice ended in is told so in the next slice (it times that wait from
            # its real beginning); other modules never see the option.
            slice_args = dict(module_args, wait_timeout=slice_seconds, wait_deadline=deadline, wait_started=started)
            if pending:
                slice_args["wait_pending"] = pending
            outcome = run_module(self, module, slice_args, task_vars)
            slices += 1
            changed = changed or bool(outcome.get("changed"))
            # Each slice returns how long the waits it saw end took: the task returns them all. A wait the last slice
            # ended in, which this one did not wait for, ended in between: timed up to this slice's start.
            durations.update({key: value for key, value in (outcome.get("wait_seconds") or {}).items() if key not in durations})
            again = (outcome.get("wait_pending") or {}).get("name")
            if pending and pending["name"] not in durations and pending["name"] != again and not outcome.get("failed"):
                durations[pending["name"]] = round(slice_started - started - float(pending["since"]), 1)
            pending = outcome.get("wait_pending")
            warnings += [item for item in outcome.pop("warnings", []) if item not in warnings]
            deprecations += [item for item in outcome.pop("deprecations", []) if item not in deprecations]
            waited = int(round(time.time() - started))
            if outcome.get("failed") or not outcome.get("timed_out"):
                break
            if time.time() > deadline + slice_seconds:
                # A module that ignores wait_deadline would loop for ever: the whole wait's end is final here.
                outcome.update(failed=True, msg="%s did not finish within timeout=%ss" % (module, args["timeout"]))
                break
            details = progress_of(outcome, args["progress"])
            if args["progress_line"]:
                line = format_line(args["progress_line"], details, waited)
                lines.append(line)
                display.display(line)
            if audit_args is not None:
                self._record(audit_args, details, task_vars)

        outcome.pop("invocation", None)
        if outcome.get("failed") and slices > 1:
            outcome["msg"] = "%s (the whole wait: %s s of timeout=%s s, in %d slices)" % (outcome.get("msg", "failed"), waited, args["timeout"], slices)
        result.update(outcome)
        if durations:
            result["wait_seconds"] = durations
        # A later slice finds what the first one started (a copy in flight is reused): the task changed what any did.
        result.update(changed=changed, slices=slices, slice_seconds=slice_seconds, waited_seconds=waited, progress_lines=lines,
                      credentials_renewed=renewals)
        if warnings:
            result["warnings"] = warnings
        if deprecations:
            result["deprecations"] = deprecations
        return result

    def _resolve(self, name):
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(name, collection_list=self._task.collections)
        if not context.resolved:
            raise AnsibleActionFail("module %r is not installed" % name)
        return context.resolved_fqcn

    def _with_defaults(self, fqcn, module_args):
        """The module's arguments as the task would run it: module_defaults (its own and its groups') under them."""
        return with_module_defaults(self, fqcn, module_args)

    def _record(self, audit_args, details, task_vars):
        event_args = dict(audit_args, details=dict(audit_args.get("details") or {}, **details))
        if runs_on_controller(self, task_vars):  # as the restore_audit action would
            recorded = record(event_args, check_mode=False)
        else:
            recorded = self._execute_module(module_name=AUDIT_MODULE, task_vars=task_vars, module_args=event_args)
        if recorded.get("failed"):
            # Progress events are a courtesy; a table that refuses one must not end a wait that is going well.
            display.warning("progress event not recorded: %s" % recorded.get("msg", "restore_audit failed"))

    def _renew(self, renewal, task_vars, argument_sets):
        """Assume the role again, as the job's own identity (not the assumed role: that would be role chaining), and
        hand the new session to the module's and the audit's arguments. The credentials never enter the result."""
        assumed = self._execute_module(module_name=ASSUME_ROLE_MODULE, task_vars=task_vars, module_args=dict(
            role_arn=renewal["role_arn"], role_session_name=renewal["role_session_name"],
            duration_seconds=renewal["duration_seconds"], region=renewal["region"]))
        if assumed.get("failed"):
            raise AnsibleActionFail("renewing the session of %s failed: %s" % (renewal["role_arn"], assumed.get("msg", "")))
        creds = assumed["sts_creds"]
        for arguments in argument_sets:
            if arguments is not None:
                arguments.update({key: creds[key] for key in CREDENTIAL_KEYS})
        renewal["expires_at"] = time.time() + renewal["duration_seconds"]
