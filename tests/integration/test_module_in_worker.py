"""The collection's modules run in the controller's worker only when they would run on the controller's own Python,
and give the same result there as their own process does (plugins/plugin_utils/module_in_worker.py)."""
import json
import os
import sys

import boto3

from helpers.ansible_run import run_playbook

REGION = "us-east-1"
# No play-level interpreter: each case sets its own.
HEADER = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
"""


def task(name, options, interpreter="{{ ansible_playbook_python }}", environment=None):
    lines = ["    - name: %s\n      dbops.aurora_restore.aurora_references_info: %s\n      ignore_errors: true\n" % (name, json.dumps(options))]
    if interpreter is not None:
        lines.append("      vars:\n        ansible_python_interpreter: %s\n" % json.dumps(interpreter))
    if environment:
        lines.append("      environment: %s\n" % json.dumps(environment))
    return "".join(lines)


def module_processes(output):
    """The command lines that started a module's interpreter (-vvv shows each): one per task run as a process."""
    return [line for line in output.splitlines() if "EXEC /bin/sh -c" in line and "python" in line]


def test_a_module_runs_in_the_worker_only_on_the_controllers_own_python(aws_env, tmp_path):
    other_path = tmp_path / "python"  # the same interpreter under another name: not provably this process's Python
    os.symlink(sys.executable, other_path)
    options = dict(region=REGION, db_subnet_group_name="no-such-group")
    play = HEADER + "".join([
        task("in the worker", options),
        task("with an environment", options, environment={"AWS_MAX_ATTEMPTS": "2"}),
        task("another interpreter path", options, interpreter=str(other_path)),
    ])
    run = run_playbook(play, tmp_path, args=("-vvv",))
    # Three tasks, two processes: the one with an environment, and the one on another interpreter path.
    processes = module_processes(run.output)
    assert len(processes) == 2, processes
    assert "AWS_MAX_ATTEMPTS=2 %s" % sys.executable in processes[0] and str(other_path) in processes[1]
    results = [run.result(name) for name in ("in the worker", "with an environment", "another interpreter path")]
    assert results[0]["problems"] == ["db_subnet_group_name 'no-such-group' does not exist in region us-east-1"]
    assert results[1] == results[0] and results[2] == results[0]


def test_the_same_result_and_the_same_masking_in_the_worker_and_as_a_process(aws_env, tmp_path):
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName="pg15", DBParameterGroupFamily="aurora-postgresql15", Description="t")
    secret_key = os.environ["AWS_SECRET_ACCESS_KEY"]
    options = dict(region=REGION, db_cluster_parameter_group_name="pg15", db_parameter_group_name="missing-pg",
                   access_key=os.environ["AWS_ACCESS_KEY_ID"], secret_key=secret_key, engine_version="15.4")
    play = HEADER + task("in the worker", options) + task("as a process", options, environment={"AWS_MAX_ATTEMPTS": "3"})
    run = run_playbook(play, tmp_path, args=("-v",))
    worker, process = run.result("in the worker"), run.result("as a process")
    assert worker == process
    assert [problem for problem in worker["problems"] if "missing-pg" in problem]
    assert worker["invocation"]["module_args"]["secret_key"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert secret_key not in run.output


def test_check_mode_and_a_module_failure_reach_the_worker_as_they_reach_a_process(aws_env, tmp_path):
    play = HEADER + "".join([
        "    - name: metrics %s\n      dbops.aurora_restore.restore_metrics:\n        region: %s\n"
        "        metrics: [{name: RestoreSucceeded, value: 1}]\n      vars:\n"
        "        ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n%s" % (name, REGION, extra)
        for name, extra in (("in the worker", ""), ("as a process", "      environment: {AWS_MAX_ATTEMPTS: '3'}\n"))])
    checked = run_playbook(play, tmp_path, check=True)
    assert checked.rc == 0
    assert checked.result("metrics in the worker") == checked.result("metrics as a process")
    assert checked.result("metrics in the worker")["changed"] is True
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    assert cloudwatch.list_metrics(Namespace="DBOps/AuroraRestore")["Metrics"] == []  # check mode sent nothing
