# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's tag rules (module_utils/markers.py) for playbooks: one definition of "protected"."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.dbops.aurora_restore.plugins.module_utils import markers


def is_protected(tags):
    """True when a cluster's tags (a dict, or a boto3 TagList) carry the protection tag set to anything but false."""
    if tags is None:
        return False
    if not isinstance(tags, (dict, list)):
        raise AnsibleFilterError("is_protected expects a cluster's tags (a dict or a list of Key/Value items), got %s"
                                 % type(tags).__name__)
    return markers.is_protected(tags)


class FilterModule:
    def filters(self):
        return {"is_protected": is_protected}
