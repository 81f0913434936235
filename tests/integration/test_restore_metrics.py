"""restore_metrics through ansible-playbook against the emulator's CloudWatch."""
import json

import boto3

from helpers.ansible_run import LOCAL_PLAY_HEADER
from helpers.ansible_run import run_playbook

PLAY = LOCAL_PLAY_HEADER + """    - name: publish
      dbops.aurora_restore.restore_metrics: %s
      ignore_errors: true
"""


def publish(tmp_path, check=False, **options):
    return run_playbook(PLAY % json.dumps(options), tmp_path, check=check).result("publish")


def test_metrics_are_published_with_dimensions(aws_env, tmp_path):
    result = publish(tmp_path, dimensions={"Environment": "dev"}, metrics=[
        {"name": "RestoreSucceeded", "value": 1, "unit": "Count"},
        {"name": "StepDuration", "value": 12.5, "unit": "Seconds", "dimensions": {"Step": "copy_snapshot"}},
    ])
    assert result["changed"] is True
    listed = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace="DBOps/AuroraRestore")["Metrics"]
    found = {(metric["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in metric["Dimensions"]))) for metric in listed}
    assert found == {("RestoreSucceeded", (("Environment", "dev"),)),
                     ("StepDuration", (("Environment", "dev"), ("Step", "copy_snapshot")))}


def test_check_mode_publishes_nothing(aws_env, tmp_path):
    result = publish(tmp_path, check=True, metrics=[{"name": "RestoreFailed", "value": 1, "unit": "Count"}])
    assert result["changed"] is True and result["published"][0]["MetricName"] == "RestoreFailed"
    assert boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace="DBOps/AuroraRestore")["Metrics"] == []


def test_bad_input_is_named(aws_env, tmp_path):
    assert publish(tmp_path, namespace="AWS/RDS", metrics=[{"name": "x", "value": 1}])["msg"] == (
        "namespace 'AWS/RDS' is reserved for AWS services; use your own, e.g. DBOps/AuroraRestore")
    assert publish(tmp_path, metrics=[{"name": "", "value": 1}])["msg"] == "metrics[0].name '' must be 1-255 printable ASCII characters"
    assert publish(tmp_path, metrics=[{"name": "x", "value": "many"}])["msg"].startswith(
        "argument 'value' is of type str found in 'metrics'. and we were unable to convert to float")
