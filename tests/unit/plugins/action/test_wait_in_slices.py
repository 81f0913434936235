"""The pure parts of the wait_in_slices action: reading progress from a result, and its progress line.
(The loop itself runs in real ansible-playbook runs: tests/integration/test_aurora_snapshot_copy.py.)"""
import pytest
from ansible.errors import AnsibleActionFail
from ansible_collections.dbops.aurora_restore.plugins.action import wait_in_slices as action


def test_progress_is_read_by_dotted_path_and_missing_values_are_none():
    result = {"wait": {"status": "copying", "percent_progress": 40}, "wait_phase": "restore"}
    assert action.progress_of(result, {"status": "wait.status", "percent": "wait.percent_progress", "phase": "wait_phase",
                                       "gone": "wait.status.deeper", "absent": "nothing"}) == \
        {"status": "copying", "percent": 40, "phase": "restore", "gone": None, "absent": None}


def test_a_line_shows_a_status_up_to_its_first_clause_and_question_marks_for_what_is_unknown():
    details = {"status": "waiting for cluster 'x' (last status 'creating'); run again to resume from here", "percent": None}
    assert action.format_line("{status} {percent}% after {waited_seconds} s", details, 42) == \
        "waiting for cluster 'x' (last status 'creating') ?% after 42 s"


@pytest.mark.parametrize("template, message", [
    ("{state}", "names state, which progress does not give (it gives: status, waited_seconds)"),
    ("{status", "is not a valid line template"),
])
def test_a_line_naming_what_progress_does_not_give_is_refused(template, message):
    with pytest.raises(AnsibleActionFail, match=message.replace("(", r"\(").replace(")", r"\)")):
        action.check_line(template, {"status": "wait.status"})
    action.check_line("{status} after {waited_seconds} s", {"status": "wait.status"})
