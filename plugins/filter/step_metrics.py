# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turn an operation's recorded steps into CloudWatch data points for dbops.aurora_restore.restore_metrics."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def step_metrics(steps, target, metric_name="StepDuration"):
    """One `StepDuration` point (Seconds) per step that has a duration, with Step and Target dimensions."""
    if not isinstance(steps, list):
        raise AnsibleFilterError("step_metrics expects the list of steps of restore_audit's operation, got %s" % type(steps).__name__)
    points = []
    for step in steps:
        if not isinstance(step, dict) or step.get("duration_seconds") is None:
            continue
        points.append({
            "name": metric_name,
            "value": float(step["duration_seconds"]),
            "unit": "Seconds",
            "dimensions": {"Step": str(step.get("name", "?")), "Target": str(target)},
        })
    return points


class FilterModule:
    def filters(self):
        return {"step_metrics": step_metrics}
