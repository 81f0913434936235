#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: restore_metrics
short_description: Publish a restore operation's CloudWatch metrics (success, failure, durations per step)
version_added: 0.1.0
description:
  - Publishes metric data points with C(PutMetricData), in batches of at most 1000, for the restore pipeline's
    success and failure counts and its per-step durations, so an alarm can watch failures and a dashboard durations.
  - No bundled amazon.aws or community.aws module publishes CloudWatch metric data, hence this one.
  - Metric data is a time series, every run adds points, so the module always reports C(changed=true) unless there
    is nothing to publish.
author:
  - dbops platform team (@dbops)
options:
  namespace:
    description: The CloudWatch namespace.
    type: str
    default: DBOps/AuroraRestore
  dimensions:
    description: Dimensions added to every metric (for example Environment and Target).
    type: dict
    default: {}
  metrics:
    description: The data points.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The metric name.
        type: str
        required: true
      value:
        description: The value.
        type: float
        required: true
      unit:
        description: The unit.
        type: str
        default: "None"
        choices: [Seconds, Count, Percent, Bytes, Milliseconds, "None"]
      dimensions:
        description: Dimensions of this point, added to I(dimensions).
        type: dict
notes:
  - Supports check mode (nothing is published; the data points are returned).
extends_documentation_fragment:
  - dbops.aurora_restore.runs_in_worker
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Record a successful restore and its step durations
  dbops.aurora_restore.restore_metrics:
    dimensions:
      Environment: dev
    metrics:
      - name: RestoreSucceeded
        value: 1
        unit: Count
      - name: StepDuration
        value: 412.5
        unit: Seconds
        dimensions:
          Step: copy_snapshot
"""

RETURN = r"""
published:
  description: The data points published (or that would be, in check mode), as sent to CloudWatch.
  returned: always
  type: list
  elements: dict
  sample: [{"MetricName": "RestoreSucceeded", "Value": 1.0, "Unit": "Count", "Dimensions": [{"Name": "Environment", "Value": "dev"}]}]
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import aws_client

BATCH_SIZE = 1000  # PutMetricData accepts at most 1000 data points per call
MAX_DIMENSIONS = 30
_NAME_RE = re.compile(r"^[\x20-\x7e]{1,255}$")


def data_points(params):
    """The PutMetricData MetricData list; raises ValueError naming a bad metric."""
    points = []
    for index, metric in enumerate(params["metrics"]):
        if not _NAME_RE.match(metric["name"]):
            raise ValueError("metrics[%d].name %r must be 1-255 printable ASCII characters" % (index, metric["name"]))
        dimensions = dict(params["dimensions"])
        dimensions.update(metric.get("dimensions") or {})
        if len(dimensions) > MAX_DIMENSIONS:
            raise ValueError("metrics[%d] has %d dimensions; CloudWatch allows %d" % (index, len(dimensions), MAX_DIMENSIONS))
        points.append({
            "MetricName": metric["name"],
            "Value": float(metric["value"]),
            "Unit": metric["unit"],
            "Dimensions": [{"Name": str(name), "Value": str(value)} for name, value in sorted(dimensions.items())],
        })
    return points


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            namespace=dict(type="str", default="DBOps/AuroraRestore"),
            dimensions=dict(type="dict", default={}),
            metrics=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                value=dict(type="float", required=True),
                unit=dict(type="str", default="None", choices=["Seconds", "Count", "Percent", "Bytes", "Milliseconds", "None"]),
                dimensions=dict(type="dict"),
            )),
        ),
        supports_check_mode=True,
    )
    if module.params["namespace"].startswith("AWS/"):
        module.fail_json(msg="namespace %r is reserved for AWS services; use your own, e.g. DBOps/AuroraRestore" % module.params["namespace"])
    try:
        points = data_points(module.params)
    except ValueError as error:
        module.fail_json(msg=str(error))
    if points and not module.check_mode:
        client = aws_client(module, "cloudwatch")
        try:
            for start in range(0, len(points), BATCH_SIZE):
                client.put_metric_data(aws_retry=True, Namespace=module.params["namespace"], MetricData=points[start:start + BATCH_SIZE])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            module.fail_json_aws(error, msg="could not publish metrics to namespace %r" % module.params["namespace"])
    module.exit_json(changed=bool(points), published=points)


if __name__ == "__main__":
    main()
