"""playbooks/restore.yml through ansible-runner, the way AWX runs a job template: a private data dir,
the project (this checkout) as the working directory, the inventory, and the survey's answers as extra vars."""
import os
from pathlib import Path

import ansible_runner

from helpers import restore_env
from helpers.ansible_run import COLLECTIONS_PATH, REPO_ROOT

STEPS = ("preflight", "select_snapshot", "copy_snapshot", "restore_cluster", "db_users", "archive")


def test_restore_through_ansible_runner(aws_env, tmp_path):
    restore_env.prepare(aws_env, environments=("dev",))
    private_data_dir = tmp_path / "job"
    private_data_dir.mkdir()
    # What a job template's survey sends (see playbooks/awx_configure.yml).
    extravars = {"restore_source_snapshot_identifier": "production-seed", "restore_strategy": "replace",
                 "restore_operation_id": ""}
    envvars = restore_env.aws_environment(aws_env)
    envvars.update(ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    result = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        project_dir=str(REPO_ROOT),
        playbook="playbooks/restore.yml",
        inventory=str(REPO_ROOT / "inventories" / "local"),
        limit="dev-app",
        extravars=extravars,
        envvars=envvars,
        ident="restore-dev",
        quiet=True,
        timeout=900,
    )
    assert result.status == "successful", "".join(result.stdout.read()[-4000:]) if result.stdout else result.status
    assert result.rc == 0

    events = list(result.events)
    ok_tasks = {event["event_data"].get("task") for event in events
                if event["event"] == "runner_on_ok" and event["event_data"].get("host") == "dev-app"}
    # A step's success is recorded by its own task, but the last's, which the finish records in its write, and a quick
    # step's followed by a quick step (preflight, then select_snapshot; db_users, then archive), which that step's does.
    for step in STEPS[:-1]:
        recorded_by_its_own_task = step not in ("preflight", "db_users")
        assert (f"Record the success of {step}" in ok_tasks) == recorded_by_its_own_task, (step, sorted(ok_tasks))
    assert "Finish the operation as SUCCEEDED" in ok_tasks
    assert not [event for event in events if event["event"] == "runner_on_failed"]
    assert result.stats["ok"].get("dev-app", 0) > 0 and not result.stats.get("failures", {}).get("dev-app")

    # The artifacts AWX reads back: status, rc, the command and one file per event.
    artifacts = Path(result.config.artifact_dir)
    assert artifacts == private_data_dir / "artifacts" / "restore-dev"
    assert (artifacts / "status").read_text().strip() == "successful"
    assert (artifacts / "rc").read_text().strip() == "0"
    assert (artifacts / "stdout").is_file() and (artifacts / "job_events").is_dir()
    assert len(os.listdir(artifacts / "job_events")) == len(events)
    # The survey answers reached the play as extra vars (written by ansible-runner into env/extravars).
    assert "production-seed" in (private_data_dir / "env" / "extravars").read_text()
    stdout = (artifacts / "stdout").read_text()
    assert "dev-app SUCCEEDED" in stdout
    for secret in restore_env.passwords("dev"):
        assert secret not in stdout
