# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tags this collection puts on what it creates, so it only ever cleans up or reuses its own resources."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

CREATED_BY_KEY = "dbops:aurora_restore:created-by"
CREATED_BY_VALUE = "dbops.aurora_restore"
SOURCE_SNAPSHOT_KEY = "dbops:aurora_restore:source-snapshot"
SOURCE_CLUSTER_KEY = "dbops:aurora_restore:source-cluster"
OPERATION_ID_KEY = "dbops:aurora_restore:operation-id"
TARGET_KEY = "dbops:aurora_restore:target"
# A target cluster carrying this tag (any value but "false") is never deleted, replaced or swapped.
PROTECTED_KEY = "dbops:aurora_restore:protected"


def marker_tags(source_snapshot_arn=None, operation_id=None, target=None, source_cluster=None):
    """The collection's own markers, as an Ansible-style dict."""
    tags = {CREATED_BY_KEY: CREATED_BY_VALUE}
    if source_snapshot_arn:
        tags[SOURCE_SNAPSHOT_KEY] = source_snapshot_arn
    if source_cluster:
        tags[SOURCE_CLUSTER_KEY] = source_cluster
    if operation_id:
        tags[OPERATION_ID_KEY] = operation_id
    if target:
        tags[TARGET_KEY] = target
    return tags


def with_markers(user_tags=None, **markers):
    """User tags plus the markers (the markers win: they are what cleanup trusts), as a boto3 tag list."""
    merged = dict(user_tags or {})
    merged.update(marker_tags(**markers))
    return ansible_dict_to_boto3_tag_list(merged)


def tags_dict(tag_list):
    """A boto3 TagList (or None) as a dict."""
    return boto3_tag_list_to_ansible_dict(tag_list or [])


def is_ours(tag_list):
    """True when the resource carries the collection's created-by marker."""
    return tags_dict(tag_list).get(CREATED_BY_KEY) == CREATED_BY_VALUE


def is_protected(tag_list):
    value = tags_dict(tag_list).get(PROTECTED_KEY)
    return value is not None and str(value).strip().lower() not in ("false", "no", "0", "")
