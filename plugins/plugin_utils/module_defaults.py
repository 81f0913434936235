# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A module's arguments as a task of an action plugin would run it, with module_defaults applied."""

from __future__ import annotations

try:  # ansible-core 2.19+
    from ansible.executor.module_common import _apply_action_arg_defaults
    get_action_args_with_defaults = None
except ImportError:  # ansible-core 2.17 and 2.18
    _apply_action_arg_defaults = None
    from ansible.executor.module_common import get_action_args_with_defaults


def with_module_defaults(action, fqcn, module_args):
    """`module_args` (None values dropped) over the module_defaults, its own and its groups', of `action`'s task."""
    module_args = {key: value for key, value in module_args.items() if value is not None}
    if _apply_action_arg_defaults is not None:
        return _apply_action_arg_defaults(fqcn, action._task, module_args, action._templar)
    return get_action_args_with_defaults(fqcn, module_args, action._task.module_defaults, action._templar,
                                         action_groups=action._task._parent._play._action_groups)
