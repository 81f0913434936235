# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where the collection's modules run (plugins/plugin_utils/module_in_worker.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
notes:
  - When the task would run this module on the controller's own Python (its connection is local, its
    C(ansible_python_interpreter) is the playbook's, as the implicit localhost's is, and it sets no C(environment) and
    no C(async)), the action plugin of the same name runs the module inside the controller's worker process instead of
    starting a module process. The arguments, the result, check mode and the masking of C(no_log) values are the same.
    Anywhere else it runs as a module process.
"""
