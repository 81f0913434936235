from ansible_collections.dbops.aurora_restore.plugins.module_utils import markers


def test_markers_win_over_user_tags_and_come_back_as_a_dict():
    tags = markers.with_markers({"team": "dba", markers.CREATED_BY_KEY: "someone-else"}, source_snapshot_arn="arn:x", operation_id="op-1")
    as_dict = markers.tags_dict(tags)
    assert as_dict == {"team": "dba", markers.CREATED_BY_KEY: "dbops.aurora_restore",
                       markers.SOURCE_SNAPSHOT_KEY: "arn:x", markers.OPERATION_ID_KEY: "op-1"}
    assert markers.is_ours(tags)


def test_unmarked_resources_are_not_ours():
    assert not markers.is_ours([{"Key": "team", "Value": "dba"}])
    assert not markers.is_ours(None)


def test_protection_tag_values():
    assert markers.is_protected([{"Key": markers.PROTECTED_KEY, "Value": "true"}])
    assert markers.is_protected([{"Key": markers.PROTECTED_KEY, "Value": "production"}])
    assert not markers.is_protected([{"Key": markers.PROTECTED_KEY, "Value": "false"}])
    assert not markers.is_protected([])
