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
# On a final snapshot taken when a target's cluster was deleted (replaced or retired): the target's name.
FINAL_SNAPSHOT_OF_KEY = "dbops:aurora_restore:final-snapshot-of"

# The restore module's progress on a cluster it restored (or retired): what a rerun reads to know how far it got.
READY_KEY = "dbops:aurora_restore:ready"  # "true" once instances are up and the master password is reset
SECRET_VERSION_KEY = "dbops:aurora_restore:master-secret-version"  # VersionId of the secret last applied
# Set once ModifyDBCluster accepted a reset from that secret version: a rerun waits for it instead of starting over.
SECRET_APPLYING_KEY = "dbops:aurora_restore:master-secret-applying"
RETIRED_FROM_KEY = "dbops:aurora_restore:retired-from"  # on a target renamed away by a swap: its old name
# The cluster name its TLS certificate was issued for: a renamed cluster serves the old name's certificate until it
# is stopped and started ("Modifying an Amazon Aurora DB cluster": change the identifier, then stop and restart).
CERTIFICATE_KEY = "dbops:aurora_restore:certificate-name"
RENEWING_PREFIX = "renewing:"  # the certificate tag's value from the stop until the start that renews it

# AWS's tag rules for RDS resources (Tag in the RDS API reference, "Tagging Amazon RDS resources"): at most 50 tags,
# keys 1-128 characters and values up to 256, neither starting with "aws:" or "rds:".
MAX_TAGS = 50
RESERVED_PREFIXES = ("aws:", "rds:")
# Markers a restored cluster can carry at once: created-by, source-snapshot, operation-id, target, and those of the
# restore module (ready, master-secret-version, master-secret-applying, certificate-name, retired-from).
CLUSTER_MARKERS = 9
# Markers a snapshot copy carries: created-by, source-snapshot, source-cluster, operation-id.
COPY_MARKERS = 4


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


def final_snapshot_markers(target, operation_id=None):
    """The markers of a final snapshot, as a boto3 tag list: ours, of this target."""
    tags = marker_tags(operation_id=operation_id, target=target)
    tags[FINAL_SNAPSHOT_OF_KEY] = target
    return ansible_dict_to_boto3_tag_list(tags)


def is_final_snapshot(tag_list):
    return FINAL_SNAPSHOT_OF_KEY in tags_dict(tag_list)


def reserved(key):
    return str(key).lower().startswith(RESERVED_PREFIXES)


def tag_problems(tags, option="tags"):
    """One line per tag AWS would refuse (reserved prefix, length), naming the option."""
    problems = []
    for key, value in (tags or {}).items():
        if reserved(key):
            problems.append("%s: key %r starts with a prefix AWS reserves (aws:, rds:)" % (option, key))
        elif not 1 <= len(str(key)) <= 128:
            problems.append("%s: key %r must be 1-128 characters" % (option, str(key)[:40]))
        if len(str(value if value is not None else "")) > 256:
            problems.append("%s: the value of %r is longer than 256 characters" % (option, key))
    return problems


def fit_copied_tags(source_tags, user_tags, marker_count):
    """The source's tags a copy may carry: without AWS's reserved prefixes, and only as many as fit beside the user's
    tags and the markers within AWS's 50. Returns (kept, dropped_reserved, dropped_over_limit); the user's tags and the
    markers win over source tags of the same key."""
    room = MAX_TAGS - marker_count - len(user_tags or {})
    kept, dropped_reserved, dropped_over = {}, [], []
    for key in sorted(source_tags or {}):
        if key in (user_tags or {}) or key.startswith("dbops:aurora_restore:"):
            continue
        if reserved(key):
            dropped_reserved.append(key)
        elif len(kept) < room:
            kept[key] = source_tags[key]
        else:
            dropped_over.append(key)
    return kept, dropped_reserved, dropped_over


def is_protected(tags):
    """True when the protection tag is set to anything but false/no/0/empty. `tags`: a boto3 TagList or a dict."""
    value = (tags if isinstance(tags, dict) else tags_dict(tags)).get(PROTECTED_KEY)
    return value is not None and str(value).strip().lower() not in ("false", "no", "0", "")
