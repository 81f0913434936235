"""The collection's free strategy (plugins/strategy/free.py) runs a play as ansible.builtin.free does: each host at its
own pace, includes, a failed host beside the others, the same recap. Its controller CPU figure is `make bench`'s."""
from datetime import datetime

from helpers.ansible_run import run_playbook

# Host slow waits in its first task; host quick's tasks (an include among them) come after that task in the play and
# must not wait for it; host failing fails halfway and the others go on.
PLAY = """
- hosts: all
  connection: local
  gather_facts: false
  strategy: {strategy}
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
    - name: slow wait
      ansible.builtin.command: sleep {sleep}
      changed_when: false
      when: inventory_hostname == 'slow'
    - name: included
      ansible.builtin.include_tasks: included.yml
    - name: fail one host
      ansible.builtin.fail:
        msg: failing on purpose
      when: inventory_hostname == 'failing'
    - name: last
      ansible.builtin.command: "true"
      changed_when: false
"""
INCLUDED = """
- name: included first
  ansible.builtin.set_fact:
    included_first: true
- name: included second
  ansible.builtin.debug:
    msg: "{{ included_first }}"
"""


def when(stamp):
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")


def run(tmp_path, strategy, sleep):
    (tmp_path / "included.yml").write_text(INCLUDED)
    return run_playbook(PLAY.format(strategy=strategy, sleep=sleep), tmp_path, inventory="slow,quick,failing,",
                        args=("--forks", "5"))


def test_each_host_goes_at_its_own_pace_and_a_failed_host_stops_alone(tmp_path):
    played = run(tmp_path, "dbops.aurora_restore.free", sleep=8)
    assert played.rc == 2, played.output  # one host failed
    slow_wait = played.result("slow wait", host="slow")
    quick_last = played.result("last", host="quick")
    # Host quick finished the play while host slow was still in its first task.
    assert when(quick_last["end"]) < when(slow_wait["end"]), (quick_last["end"], slow_wait["end"])
    for host in ("slow", "quick"):
        assert played.result("included second", host=host)["msg"] is True
        assert played.stats(host)["failures"] == 0 and played.stats(host)["ok"] >= 4
    assert played.result("fail one host", host="failing")["msg"] == "failing on purpose"
    assert played.stats("failing")["failures"] == 1
    assert [name for name, _result in played.tasks("failing")][-1] == "fail one host"
    # The same tasks and recap as ansible.builtin.free gives (whose run may wait less: only its outcome is compared).
    builtin = run(tmp_path, "ansible.builtin.free", sleep=1)
    assert builtin.rc == 2 and builtin.report["stats"] == played.report["stats"]
    for host in ("slow", "quick", "failing"):
        assert [name for name, _result in played.tasks(host)] == [name for name, _result in builtin.tasks(host)]
