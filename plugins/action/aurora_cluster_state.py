# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""aurora_cluster_state (documentation: plugins/modules/aurora_cluster_state.py) in the controller's worker when its task would run it on the
controller's own Python, as the module process everywhere else (plugin_utils/module_in_worker.py says why and how)."""

from __future__ import annotations

from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.module_in_worker import ModuleInWorkerAction


class ActionModule(ModuleInWorkerAction):
    pass
