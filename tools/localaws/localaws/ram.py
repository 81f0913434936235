"""AWS RAM for Aurora DB clusters: resource shares, the invitations they send and their acceptance.

moto 5.2 keeps resource shares but sends no invitations and has no GetResourceShareInvitations or
AcceptResourceShareInvitation. This layer adds them (tools/localaws/README.md, "AWS RAM"):
  * CreateResourceShare of `rds` cluster ARNs checks the clusters exist and belong to the caller, and sends each
    principal account outside the caller's own a PENDING invitation (the emulator's accounts are not in an
    organization that shares with AWS RAM, so no share is accepted on its own);
  * the receiver lists its invitations and accepts one; only then is the cluster shared with its account;
  * `shared_with(cluster_arn, account)` is what RestoreDBClusterToPointInTime asks (rds.py).
Everything runs under the server's global lock.
"""

from __future__ import annotations

import datetime
import json
import uuid

from moto.ram.exceptions import UnknownResourceException
from moto.ram.models import ResourceAccessManagerBackend, ram_backends
from moto.rds.models import rds_backends

# RAM's REST paths (botocore's ram service model, requestUri) and the operations they name.
OPERATIONS = {
    "/createresourceshare": "CreateResourceShare",
    "/getresourceshares": "GetResourceShares",
    "/getresourceshareinvitations": "GetResourceShareInvitations",
    "/acceptresourceshareinvitation": "AcceptResourceShareInvitation",
    "/getresourceshareassociations": "GetResourceShareAssociations",
    "/deleteresourceshare": "DeleteResourceShare",
    "/associateresourceshare": "AssociateResourceShare",
    "/updateresourceshare": "UpdateResourceShare",
}
HANDLED_HERE = ("GetResourceShareInvitations", "AcceptResourceShareInvitation")


class RamError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class Invitations:
    """The invitations every share sent, by ARN."""

    def __init__(self):
        self.by_arn: dict[str, dict] = {}

    def clear(self) -> None:
        self.by_arn.clear()

    def send(self, share, receiver: str) -> None:
        arn = f"arn:{share.partition}:ram:{share.region}:{share.account_id}:resource-share-invitation/{uuid.uuid4()}"
        self.by_arn[arn] = {
            "resourceShareInvitationArn": arn, "resourceShareName": share.name, "resourceShareArn": share.arn,
            "senderAccountId": share.account_id, "receiverAccountId": receiver,
            "invitationTimestamp": datetime.datetime.now(datetime.timezone.utc).timestamp(), "status": "PENDING",
            "_region": share.region,
        }

    def received(self, account: str, region: str, share_arns=(), invitation_arns=()) -> list[dict]:
        found = [item for item in self.by_arn.values() if item["receiverAccountId"] == account and item["_region"] == region]
        if invitation_arns:
            unknown = [arn for arn in invitation_arns if arn not in {item["resourceShareInvitationArn"] for item in found}]
            if unknown:
                raise RamError("ResourceShareInvitationArnNotFoundException",
                               f"ResourceShareInvitationArn {unknown[0]} could not be found.")
            found = [item for item in found if item["resourceShareInvitationArn"] in invitation_arns]
        if share_arns:
            found = [item for item in found if item["resourceShareArn"] in share_arns]
        return found

    def accept(self, account: str, region: str, arn: str) -> dict:
        invitation = self.by_arn.get(arn)
        if invitation is None or invitation["receiverAccountId"] != account or invitation["_region"] != region:
            raise RamError("ResourceShareInvitationArnNotFoundException", f"ResourceShareInvitationArn {arn} could not be found.")
        if invitation["status"] == "ACCEPTED":
            raise RamError("ResourceShareInvitationAlreadyAcceptedException",
                           f"The invitation {arn} has already been accepted.")
        invitation["status"] = "ACCEPTED"
        return invitation


INVITATIONS = Invitations()


def public(invitation: dict) -> dict:
    return {key: value for key, value in invitation.items() if not key.startswith("_")}


def _share(owner: str, region: str, share_arn: str):
    for backend_share in ram_backends[owner][region].resource_shares:
        if backend_share.arn == share_arn:
            return backend_share
    return None


def shared_with(cluster_arn: str, account: str) -> bool:
    """Whether an active share of its owner holds `cluster_arn` for `account`, which accepted the invitation."""
    for invitation in INVITATIONS.by_arn.values():
        if invitation["receiverAccountId"] != account or invitation["status"] != "ACCEPTED":
            continue
        share = _share(invitation["senderAccountId"], invitation["_region"], invitation["resourceShareArn"])
        if share is not None and share.status == "ACTIVE" and cluster_arn in share.resource_arns:
            return True
    return False


def _check_cluster_arns(account: str, region: str, resource_arns) -> None:
    """An Aurora cluster can be shared only by its owner, from its own region, while it exists."""
    for arn in resource_arns or []:
        parts = arn.split(":")
        if len(parts) < 7 or parts[2] != "rds" or parts[5] != "cluster":
            continue  # other resource types: moto's own checks
        backend = rds_backends[parts[4]][parts[3]] if parts[4] == account and parts[3] == region else None
        if backend is None or parts[6] not in backend.clusters:
            raise UnknownResourceException(f"The resource {arn} does not exist or is not owned by account {account} in {region}.")


def install() -> None:
    original_create = ResourceAccessManagerBackend.create_resource_share

    def create_resource_share(self, **kwargs):
        _check_cluster_arns(self.account_id, self.region_name, kwargs.get("resourceArns"))
        answer = original_create(self, **kwargs)
        share = self.resource_shares[-1]
        for principal in kwargs.get("principals") or []:
            if principal.isdigit() and principal != self.account_id:
                INVITATIONS.send(share, principal)
        return answer

    ResourceAccessManagerBackend.create_resource_share = create_resource_share


def handle(action: str, account: str, region: str, params: dict) -> dict:
    """The operations moto lacks; raises RamError as AWS answers."""
    if action == "GetResourceShareInvitations":
        found = INVITATIONS.received(account, region, params.get("resourceShareArns") or (),
                                     params.get("resourceShareInvitationArns") or ())
        return {"resourceShareInvitations": [public(item) for item in found]}
    arn = params.get("resourceShareInvitationArn") or ""
    if not arn.startswith("arn:"):
        raise RamError("MalformedArnException", f"The specified resource share invitation ARN {arn} is not valid.")
    return {"resourceShareInvitation": public(INVITATIONS.accept(account, region, arn))}


def respond(start_response, payload: dict):
    body = json.dumps(payload).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
