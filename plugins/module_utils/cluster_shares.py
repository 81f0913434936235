# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS RAM shares of Aurora clusters, each account's half (the module aurora_cluster_share)."""

from __future__ import annotations

import re

from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import validate_identifier

ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
SHARE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


class ShareRefused(Exception):
    """A one-line refusal naming the bad input; nothing was changed."""


def default_share_name(cluster_identifier, account_id):
    return "dbops-aurora-restore-%s-%s" % (cluster_identifier, account_id)


def _all(call, key, **kwargs):
    found, token = [], None
    while True:
        page = call(aws_retry=True, **(dict(kwargs, nextToken=token) if token else kwargs))
        found += page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return found


def _associated(ram, share_arn, association_type):
    listed = _all(ram.get_resource_share_associations, "resourceShareAssociations",
                  associationType=association_type, resourceShareArns=[share_arn])
    return {item["associatedEntity"] for item in listed if item.get("status", "ASSOCIATED") in ("ASSOCIATED", "ASSOCIATING")}


def share_cluster(ram, rds, cluster_identifier, account_id, share_name, check_mode):
    """The owner's half: a share named `share_name` holding the cluster for `account_id`; made when missing."""
    try:
        identifier = validate_identifier(cluster_identifier, "cluster_identifier")
    except RestoreError as error:
        raise ShareRefused(str(error)) from None
    if not ACCOUNT_ID.match(account_id or ""):
        raise ShareRefused("principal_account_id %r is not an AWS account id (12 digits)" % account_id)
    name = share_name or default_share_name(identifier, account_id)
    if not SHARE_NAME.match(name):
        raise ShareRefused("share_name %r: use 1-255 letters, digits and . _ -" % name)
    clusters = rds.describe_db_clusters(aws_retry=True, Filters=[{"Name": "db-cluster-id", "Values": [identifier]}])["DBClusters"]
    if not clusters:
        raise ShareRefused("cluster %r does not exist in this account and region: nothing to share" % identifier)
    cluster_arn = clusters[0]["DBClusterArn"]
    if cluster_arn.split(":")[4] == account_id:
        raise ShareRefused("principal_account_id %s owns cluster %r already: a share is for another account" % (account_id, identifier))
    result = dict(changed=False, cluster_arn=cluster_arn, principal_account_id=account_id, share_name=name)
    existing = [share for share in _all(ram.get_resource_shares, "resourceShares", resourceOwner="SELF")
                if share.get("name") == name and share.get("status") == "ACTIVE"]
    if existing:
        share_arn = existing[0]["resourceShareArn"]
        resources, principals = _associated(ram, share_arn, "RESOURCE"), _associated(ram, share_arn, "PRINCIPAL")
        if cluster_arn not in resources or account_id not in principals:
            raise ShareRefused("resource share %r (%s) exists but does not share %s with %s; it is left as it is: "
                               "name another share_name or fix that share" % (name, share_arn, cluster_arn, account_id))
        return dict(result, resource_share_arn=share_arn)
    result["changed"] = True
    if check_mode:
        return dict(result, resource_share_arn=None)
    created = ram.create_resource_share(aws_retry=True, name=name, resourceArns=[cluster_arn], principals=[account_id],
                                        allowExternalPrincipals=True,
                                        tags=[{"key": "dbops:aurora_restore:managed", "value": "true"}])["resourceShare"]
    return dict(result, resource_share_arn=created["resourceShareArn"])


def accept_share(ram, share_arn, check_mode):
    """The receiver's half: accept the share's pending invitation (none is needed inside an organization)."""
    if not (share_arn or "").startswith("arn:") or ":resource-share/" not in share_arn:
        raise ShareRefused("resource_share_arn %r is not a resource share ARN (arn:aws:ram:<region>:<account>:resource-share/<id>)" % share_arn)
    invitations = _all(ram.get_resource_share_invitations, "resourceShareInvitations", resourceShareArns=[share_arn])
    result = dict(changed=False, resource_share_arn=share_arn, invitation_status="none")
    if not invitations:
        return result
    latest = sorted(invitations, key=lambda item: str(item.get("invitationTimestamp", "")))[-1]
    status = latest["status"]
    if status in ("REJECTED", "EXPIRED"):
        raise ShareRefused("the invitation to resource share %s is %s: the owner must share the cluster again" % (share_arn, status))
    if status == "PENDING":
        result["changed"] = True
        if not check_mode:
            status = ram.accept_resource_share_invitation(
                aws_retry=True, resourceShareInvitationArn=latest["resourceShareInvitationArn"])["resourceShareInvitation"]["status"]
        else:
            status = "ACCEPTED"
    return dict(result, invitation_status=status)
