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


def test_copied_tags_drop_what_aws_refuses_and_fit_the_limit():
    source = {"aws:cloudformation:stack-name": "prod", "AWS:backup:plan": "x", "rds:owner": "y",
              "dbops:aurora_restore:operation-id": "old"}
    source.update({"team-%02d" % n: "v" for n in range(50)})
    kept, reserved, over = markers.fit_copied_tags(source, {"env": "staging"}, markers.COPY_MARKERS)
    assert sorted(reserved) == ["AWS:backup:plan", "aws:cloudformation:stack-name", "rds:owner"]
    assert len(kept) + 1 + markers.COPY_MARKERS == markers.MAX_TAGS and len(over) == 50 - len(kept)
    assert "dbops:aurora_restore:operation-id" not in kept


def test_tag_problems_name_the_key():
    assert markers.tag_problems({"aws:x": "1", "ok": "fine", "k": "v" * 257}) == [
        "tags: key 'aws:x' starts with a prefix AWS reserves (aws:, rds:)", "tags: the value of 'k' is longer than 256 characters"]


def test_final_snapshot_markers():
    tags = markers.tags_dict(markers.final_snapshot_markers("dev-app", "op-1"))
    assert tags[markers.FINAL_SNAPSHOT_OF_KEY] == "dev-app" and markers.is_ours(markers.final_snapshot_markers("dev-app"))
    assert markers.is_final_snapshot(markers.final_snapshot_markers("dev-app")) and tags[markers.OPERATION_ID_KEY] == "op-1"
