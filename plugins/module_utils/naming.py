# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every name this collection generates for AWS resources, and the rules AWS applies to them.

RDS identifiers of clusters, instances and cluster snapshots (CreateDBCluster, CreateDBInstance,
CopyDBClusterSnapshot, CreateDBClusterSnapshot in the RDS API reference): 1-63 letters, digits or hyphens, a letter
first, no trailing hyphen, no two consecutive hyphens; stored in lower case. A generated name that would be longer
keeps as much of its stem as fits, then a short digest of the whole stem, then its suffix: deterministic (a rerun
finds the same name) and still unique (two stems that share a long prefix differ in the digest).
"""

from __future__ import annotations

import hashlib
import re

MAX_IDENTIFIER_LENGTH = 63
IDENTIFIER_RE = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")
_DIGEST_LENGTH = 6
# The operator policy names derived clusters by this much of the target's name when a name had to be shortened
# (every suffix the collection uses by default is at most 26 characters: "-final-<14 digits>" is 21).
IAM_STEM_LENGTH = 30

TEMPORARY_SUFFIX = "-restoring"
RETIRED_SUFFIX = "-retired"
FINAL_SNAPSHOT_INFIX = "-final-"
COPY_PREFIX = "dbops"
SHARE_PREFIX = "dbops-share"


class NamingError(ValueError):
    """A name AWS would refuse; the message names the option."""


def is_valid_identifier(value):
    return bool(IDENTIFIER_RE.match(value or ""))


def identifier_problem(value, option):
    """None, or one line saying why AWS would refuse `value` as an RDS identifier."""
    if is_valid_identifier(value):
        return None
    return ("%s %r is not a valid RDS identifier (1-63 letters, digits or hyphens, starting with a letter, no trailing "
            "hyphen and no two consecutive hyphens)" % (option, value))


def digest(text, length=_DIGEST_LENGTH):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def sanitize(text):
    """Letters, digits and single hyphens, starting with a letter: what RDS accepts in an identifier."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    cleaned = re.sub(r"-{2,}", "-", cleaned)
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "s-" + cleaned
    return cleaned


def fit(stem, suffix="", key=None):
    """`stem + suffix` when it is a valid length; else the stem cut to fit, a digest of `key` (default the stem), the suffix."""
    name = (stem + suffix).lower()
    if len(name) <= MAX_IDENTIFIER_LENGTH:
        return name
    mark = digest(key if key is not None else stem)
    keep = MAX_IDENTIFIER_LENGTH - len(suffix) - len(mark) - 1
    if keep < 1:
        raise NamingError("suffix %r leaves no room for a name (63 characters at most)" % suffix)
    return ("%s-%s%s" % (stem[:keep].rstrip("-"), mark, suffix)).lower()


def temporary_cluster(target, suffix=TEMPORARY_SUFFIX):
    """The cluster a swap restores before the renames."""
    return fit(target, suffix)


def retired_cluster(target, suffix=RETIRED_SUFFIX):
    """The name a swap gives the old target before deleting it."""
    return fit(target, suffix)


def instance(target, number):
    """The n-th instance of a target's cluster: <target>-<n>."""
    return fit(target, "-%d" % number)


def final_snapshot(target, moment):
    """The final snapshot of a deleted (replaced or retired) cluster: <target>-final-<UTC time>."""
    return fit(target, FINAL_SNAPSHOT_INFIX + moment.strftime("%Y%m%d%H%M%S"))


def final_snapshot_prefix(target):
    """What every final snapshot of `target` starts with (retention lists them by it)."""
    return fit(target, FINAL_SNAPSHOT_INFIX + "00000000000000")[: -len("00000000000000")]


def snapshot_copy(source_arn, destination_region, kms_key_id, prefix=COPY_PREFIX):
    """A deterministic copy name: the same source, region and key always give the same identifier, so a rerun, or
    another target needing the same snapshot in the same region, finds and reuses the copy."""
    name = source_arn.split(":cluster-snapshot:")[-1]
    mark = hashlib.sha256("|".join([source_arn, destination_region, kms_key_id or ""]).encode()).hexdigest()[:10]
    base = sanitize("%s-%s" % (prefix, name))[: MAX_IDENTIFIER_LENGTH - len(mark) - 1].rstrip("-")
    return "%s-%s" % (base, mark)


def iam_cluster_patterns(target):
    """Resource-name patterns matching `target` and every name derived from it (temporary, retired, instances,
    final snapshots), for the operator policy: `<target>`, `<target>-*`, and for long names the shortened form."""
    target = target.lower()
    patterns = [target, target + "-*"]
    if len(target) > MAX_IDENTIFIER_LENGTH - len(FINAL_SNAPSHOT_INFIX) - 14:
        patterns.append("%s*-%s*" % (target[:IAM_STEM_LENGTH], digest(target)))
    return patterns
