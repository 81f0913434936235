#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aurora_cluster_share
short_description: Share an Aurora cluster with another account through AWS RAM, or accept such a share
version_added: 0.1.0
description:
  - A clone across accounts needs the source cluster shared with the target account through AWS Resource Access
    Manager (RAM). This module does each account's half.
  - With I(state=shared), run as the cluster's owner, it makes sure a resource share named I(share_name) holds the
    cluster I(cluster_identifier) for the account I(principal_account_id), creating it when it is missing. A
    share of that name that holds another cluster or account is refused, never changed.
  - With I(state=accepted), run as the receiving account, it accepts the pending invitation of the share
    I(resource_share_arn). An invitation already accepted is C(changed=false); a share inside an AWS Organization
    that shares with RAM sends no invitation and needs nothing.
  - The receiving account then clones the cluster by its ARN (M(dbops.aurora_restore.aurora_cluster_restore) with
    I(source_cluster_arn)). An encrypted source must be under a customer managed key whose key policy lets the
    receiving account use it; a cluster under the AWS managed key C(aws/rds) cannot be cloned by another account.
author:
  - dbops platform team (@dbops)
options:
  state:
    description: C(shared) (the owner's half) or C(accepted) (the receiver's half).
    type: str
    choices: [shared, accepted]
    required: true
  cluster_identifier:
    description: The cluster to share, in the credentials' account and region. Required with I(state=shared).
    type: str
  principal_account_id:
    description: The AWS account (12 digits) the cluster is shared with. Required with I(state=shared).
    type: str
  share_name:
    description:
      - The resource share's name. The default, C(dbops-aurora-restore-<cluster>-<account>), gives each pair of
        cluster and account a share of its own.
    type: str
  resource_share_arn:
    description: The share whose invitation to accept (RV(resource_share_arn) of the owner's run). Required with I(state=accepted).
    type: str
  expected_account_id:
    description: Refuse to act unless the credentials are for this AWS account.
    type: str
notes:
  - Supports check mode, which says what would be done and changes nothing.
  - IAM, owner side; C(ram:GetResourceShares), C(ram:GetResourceShareAssociations), C(ram:CreateResourceShare) (on
    C(resource-share/*), condition C(ram:RequestedResourceType=rds:Cluster)) and C(rds:DescribeDBClusters).
    Receiver side; C(ram:GetResourceShareInvitations) and C(ram:AcceptResourceShareInvitation).
extends_documentation_fragment:
  - dbops.aurora_restore.runs_in_worker
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Share production with the staging account (as production's account)
  dbops.aurora_restore.aurora_cluster_share:
    state: shared
    cluster_identifier: production
    principal_account_id: "210987654321"
    region: us-east-1
  register: production_share

- name: Accept it (as the staging account)
  dbops.aurora_restore.aurora_cluster_share:
    state: accepted
    resource_share_arn: "{{ production_share.resource_share_arn }}"
    region: us-east-1
    access_key: "{{ staging_credentials.access_key }}"
    secret_key: "{{ staging_credentials.secret_key }}"
    session_token: "{{ staging_credentials.session_token }}"
"""

RETURN = r"""
resource_share_arn:
  description: The resource share's ARN.
  returned: always
  type: str
  sample: arn:aws:ram:us-east-1:123456789012:resource-share/2f1e0c1a-0f4e-4d0f-9a4b-0d6b8c2f6e11
cluster_arn:
  description: The shared cluster's ARN (I(state=shared)).
  returned: when state is shared
  type: str
  sample: arn:aws:rds:us-east-1:123456789012:cluster:production
principal_account_id:
  description: The account the cluster is shared with (I(state=shared)).
  returned: when state is shared
  type: str
  sample: "210987654321"
invitation_status:
  description: The invitation's status after the run (I(state=accepted)); C(none) when the share sent none.
  returned: when state is accepted
  type: str
  sample: ACCEPTED
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import account_refusal
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import aws_client
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import fail_with
from ansible_collections.dbops.aurora_restore.plugins.module_utils.cluster_shares import ShareRefused
from ansible_collections.dbops.aurora_restore.plugins.module_utils.cluster_shares import accept_share
from ansible_collections.dbops.aurora_restore.plugins.module_utils.cluster_shares import share_cluster


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=["shared", "accepted"]),
            cluster_identifier=dict(type="str"),
            principal_account_id=dict(type="str"),
            share_name=dict(type="str"),
            resource_share_arn=dict(type="str"),
            expected_account_id=dict(type="str"),
        ),
        required_if=[("state", "shared", ["cluster_identifier", "principal_account_id"]),
                     ("state", "accepted", ["resource_share_arn"])],
        supports_check_mode=True,
    )
    params = module.params
    refusal = account_refusal(module, params["expected_account_id"], "share or accept an Aurora cluster")
    if refusal:
        module.fail_json(msg=refusal)
    ram = aws_client(module, "ram")
    try:
        if params["state"] == "shared":
            result = share_cluster(ram, aws_client(module, "rds"), params["cluster_identifier"], params["principal_account_id"],
                                   params["share_name"], module.check_mode)
        else:
            result = accept_share(ram, params["resource_share_arn"], module.check_mode)
    except ShareRefused as error:
        module.fail_json(msg=str(error))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        fail_with(module, "AWS RAM request failed (state=%s): %s" % (params["state"], error), aws_error=error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
