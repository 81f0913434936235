# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The resource names the collection derives from a target, as IAM resource patterns (module_utils/naming.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.dbops.aurora_restore.plugins.module_utils import naming


def _target(value):
    if not isinstance(value, str) or not naming.is_valid_identifier(value):
        raise AnsibleFilterError("expected a valid RDS cluster identifier, got %r" % (value,))
    return value.lower()


def cluster_name_patterns(target):
    """Patterns of the target and of every cluster or instance name derived from it (temporary, retired, instances)."""
    return naming.iam_cluster_patterns(_target(target))


def final_snapshot_patterns(target):
    """Patterns of the final snapshots the restore module names after the target."""
    target = _target(target)
    prefix = naming.final_snapshot_prefix(target)
    patterns = [prefix + "*"]
    if not prefix.startswith(target):
        patterns.append("%s*-%s-final-*" % (target[:naming.IAM_STEM_LENGTH], naming.digest(target)))
    return patterns


class FilterModule:
    def filters(self):
        return {"cluster_name_patterns": cluster_name_patterns, "final_snapshot_patterns": final_snapshot_patterns}
