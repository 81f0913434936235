"""Run real `ansible-playbook` from tests and read back each task's result.

Tests write a playbook (YAML text) to a temp dir and run it with the ansible.posix.json callback,
so every task's module result is available as a dict, exactly as Ansible produced it.
"""
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# The head of a test playbook run on the control node; tasks follow, indented by four spaces.
LOCAL_PLAY_HEADER = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
"""
COLLECTIONS_PATH = REPO_ROOT / ".collections"


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    report: dict = field(default_factory=dict)

    def tasks(self, host="localhost"):
        """Every task result of `host`, in order, as (task name, result)."""
        found = []
        for play in self.report.get("plays", []):
            for task in play.get("tasks", []):
                result = task.get("hosts", {}).get(host)
                if result is not None:
                    found.append((task["task"]["name"], result))
        return found

    def result(self, name, host="localhost"):
        """The result of the last task called `name`."""
        matches = [result for task_name, result in self.tasks(host) if task_name == name]
        if not matches:
            raise KeyError(f"no task named {name!r} ran on {host}; ran: {[task_name for task_name, _result in self.tasks(host)]}")
        return matches[-1]

    def stats(self, host="localhost"):
        return self.report.get("stats", {}).get(host, {})

    @property
    def output(self):
        """Everything the run printed, for asserting that no secret ever appears."""
        return self.stdout + self.stderr


def ansible_env(extra_env=None):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCAL_TEMP=os.environ.get("ANSIBLE_LOCAL_TEMP", "/tmp/ansible-local"),
    )
    env.update(extra_env or {})
    return env


def run_playbook(playbook, tmp_path, extra_vars=None, check=False, diff=False, extra_env=None,
                 inventory="localhost,", args=(), timeout=900):
    """Run `playbook` (YAML text or a path) with ansible-playbook; return a PlaybookRun."""
    if isinstance(playbook, Path):
        playbook_path = playbook
    else:
        playbook_path = Path(tmp_path) / "playbook.yml"
        playbook_path.write_text(playbook)
    command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", inventory, str(playbook_path)]
    if extra_vars:
        command += ["--extra-vars", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    command += list(args)
    proc = subprocess.run(command, capture_output=True, text=True, env=ansible_env(extra_env),
                          timeout=timeout, cwd=str(REPO_ROOT), check=False)
    report = {}
    start = proc.stdout.find("{")
    if start >= 0:
        try:
            report = json.loads(proc.stdout[start:])
        except json.JSONDecodeError:
            report = {}
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, report)
