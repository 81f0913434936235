# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""restore_audit (documentation: plugins/modules/restore_audit.py) on the controller when the task's connection
is local, as the module everywhere else (plugin_utils/audit_on_controller.py says why and what stays the same)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.audit_on_controller import record
from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.audit_on_controller import runs_on_controller
from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.module_defaults import with_module_defaults

AUDIT_MODULE = "dbops.aurora_restore.restore_audit"


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        if runs_on_controller(self, task_vars):
            result.update(record(with_module_defaults(self, AUDIT_MODULE, self._task.args), self._play_context.check_mode))
        else:
            result.update(self._execute_module(module_name=AUDIT_MODULE, task_vars=task_vars))
        return result
