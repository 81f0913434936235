"""The is_protected filter: the restore module's protection rule, for playbooks (dict or TagList)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.dbops.aurora_restore.plugins.filter.markers import is_protected

KEY = "dbops:aurora_restore:protected"


@pytest.mark.parametrize("value, protected", [
    ("true", True), ("yes", True), ("anything", True), ("false", False), ("No", False), ("0", False), ("", False),
    (" FALSE ", False),
])
def test_values(value, protected):
    assert is_protected({KEY: value}) is protected
    assert is_protected([{"Key": KEY, "Value": value}]) is protected


def test_untagged_and_bad_input():
    assert is_protected({}) is False and is_protected(None) is False and is_protected([]) is False
    with pytest.raises(AnsibleFilterError, match="is_protected expects a cluster's tags"):
        is_protected("dbops:aurora_restore:protected")
