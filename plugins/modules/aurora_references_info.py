#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aurora_references_info
short_description: Check the AWS resources an Aurora restore will use in its target region
version_added: 0.1.0
description:
  - Describes the DB subnet group, VPC security groups, cluster and instance parameter groups, KMS key and Secrets
    Manager secrets that a restore names, in the target region and account, and reports what is wrong with them as
    one-line problems, all at once.
  - Checks that each exists, that the security groups share the subnet group's VPC, that the parameter groups are of
    the family of the engine version being restored, and that the KMS key is in the region and enabled.
  - With I(snapshot_engine_version), also what AWS checks only at restore time, after a replaced target is gone; that
    the version restored (I(engine_version), else the snapshot's) is the snapshot's or one of its upgrade targets
    (C(DescribeDBEngineVersions)), that I(instance_class) is offered for it in the region
    (C(DescribeOrderableDBInstanceOptions)), and that I(serverless_v2_scaling) is within that version's Serverless v2
    range (0.5 ACU steps, a maximum of at least 1; 0 ACU and 256 ACU only on versions that support them).
  - I(sns_topic_arn) is checked with C(GetTopicAttributes) only, the permission the operator policy grants.
  - A describe the credentials may not make is a problem of its own ("may not read it, or it does not exist"), as AWS
    does not say whether a resource the caller may not describe exists.
  - The restore role runs it in its preflight, so a typo in an inventory fails the run before a snapshot copy that can
    take hours. M(dbops.aurora_restore.aurora_cluster_restore) checks the same again before it deletes anything.
  - I(secret_ids) are described with C(DescribeSecret), without reading them. I(master_secret_id) and
    I(users_secret_id) are read and parsed, so a malformed secret fails a preflight instead of a restore; their
    values are kept out of the result and logs.
  - No bundled module describes a DB subnet group, hence this one.
author:
  - dbops platform team (@dbops)
options:
  db_subnet_group_name:
    description: The DB subnet group of the restored cluster (C(default) is not checked).
    type: str
  vpc_security_group_ids:
    description: The VPC security groups of the restored cluster.
    type: list
    elements: str
  db_cluster_parameter_group_name:
    description: The cluster parameter group (a C(default.<family>) group is not looked up, only its family checked).
    type: str
  db_parameter_group_name:
    description: The instance parameter group (a C(default.<family>) group is not looked up, only its family checked).
    type: str
  kms_key_id:
    description: The KMS key (id, ARN or alias) the restored cluster is encrypted with.
    type: str
  master_user_secret_kms_key_id:
    description: The KMS key (id, ARN or alias) RDS encrypts the managed master secret with (C(master_password_mode=managed)).
    type: str
  engine_version:
    description:
      - The Aurora PostgreSQL engine version to be restored. With it, parameter groups of another family are a problem.
      - With I(snapshot_engine_version), the version asked for instead of the snapshot's (it must be one of the
        snapshot version's upgrade targets); without it, the snapshot's version is restored.
    type: str
  snapshot_engine_version:
    description:
      - The engine version of the snapshot to be restored. Turns on the engine version, instance class and Serverless
        v2 checks.
    type: str
  instance_class:
    description: The instance class of the restored cluster's instances (checked with I(snapshot_engine_version)).
    type: str
  serverless_v2_scaling:
    description: The Serverless v2 capacity range (checked with I(snapshot_engine_version)).
    type: dict
    suboptions:
      min_capacity:
        description: Minimum capacity in ACU.
        type: float
        required: true
      max_capacity:
        description: Maximum capacity in ACU.
        type: float
        required: true
  sns_topic_arn:
    description: The topic the pipeline notifies; it must exist and be readable.
    type: str
  secret_ids:
    description: Secrets Manager secret ids or ARNs that must exist (for example the master and users secrets).
    type: list
    elements: str
    default: []
  master_secret_id:
    description:
      - A master secret to read and check. It must hold a C(password) (or C(master_password)) that Aurora accepts as a
        master password. The value never appears in the result.
    type: str
  master_username:
    description:
      - The source's master user (the snapshot's or the cloned cluster's C(MasterUsername)), which a restored cluster
        keeps. When I(master_secret_id) names another user (C(username) or C(master_username)), that is a problem, as
        the pipeline resets only the password, so the secret's user could not log in.
    type: str
  users_secret_id:
    description:
      - A users secret to read and check. It must parse in I(users_secret_layout) (the layouts of
        M(dbops.aurora_restore.aurora_db_users)), with valid and distinct user names. Values never appear in the result.
    type: str
  users_secret_layout:
    description: The layout of I(users_secret_id).
    type: str
    choices: [auto, nested, flat, combined]
    default: auto
  target_cluster_identifier:
    description:
      - The cluster the restore will replace. Described as it is now (absent is fine); one carrying the tag
        C(dbops:aurora_restore:protected) is a problem, as the pipeline never replaces it.
    type: str
notes:
  - An info module; it changes nothing and supports check mode. Missing resources are reported in RV(problems), not
    as a failure, so a play decides what to do with them.
extends_documentation_fragment:
  - dbops.aurora_restore.runs_in_worker
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Check what the restore of staging will use, before copying anything
  dbops.aurora_restore.aurora_references_info:
    region: us-west-2
    db_subnet_group_name: aurora-nonprod
    vpc_security_group_ids: [sg-0123456789abcdef0]
    db_cluster_parameter_group_name: staging-aurora-pg15
    kms_key_id: alias/aurora-restore
    snapshot_engine_version: "15.4"
    instance_class: db.r7g.large
    sns_topic_arn: arn:aws:sns:us-west-2:210987654321:aurora-restore-notifications
    secret_ids:
      - aurora-restore/staging/master-credentials
      - aurora-restore/staging/app-credentials
  register: references

- name: Stop on the first run of a bad inventory
  ansible.builtin.assert:
    that: references.problems | length == 0
    fail_msg: "{{ references.problems | join('; ') }}"
"""

RETURN = r"""
problems:
  description: What is wrong, one line each, naming the option and the value. Empty when everything checks out.
  returned: always
  type: list
  elements: str
  sample: ["db_subnet_group_name 'aurora-nonprd' does not exist in region us-west-2"]
references:
  description: What was found for each reference given.
  returned: always
  type: dict
  contains:
    db_subnet_group:
      description: The subnet group's name, VPC, subnets and availability zones.
      returned: when found
      type: dict
      sample: {"name": "aurora-nonprod", "vpc_id": "vpc-0a1b2c3d", "subnet_ids": ["subnet-1", "subnet-2"], "availability_zones": ["us-west-2a", "us-west-2b"]}
    security_groups:
      description: The security groups found, with their VPC.
      returned: when vpc_security_group_ids is given
      type: list
      elements: dict
      sample: [{"group_id": "sg-0123456789abcdef0", "group_name": "aurora-nonprod", "vpc_id": "vpc-0a1b2c3d"}]
    db_cluster_parameter_group_name:
      description: The cluster parameter group and its family.
      returned: when found
      type: dict
      sample: {"name": "staging-aurora-pg15", "family": "aurora-postgresql15"}
    db_parameter_group_name:
      description: The instance parameter group and its family.
      returned: when found
      type: dict
      sample: {"name": "default.aurora-postgresql15", "family": "aurora-postgresql15"}
    kms_key:
      description: The key's id, ARN and state.
      returned: when found
      type: dict
      sample:
        key_id: 1234abcd-12ab-34cd-56ef-1234567890ab
        arn: arn:aws:kms:us-west-2:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab
        state: Enabled
    master_user_secret_kms_key:
      description: The managed master secret's key (I(master_user_secret_kms_key_id)), its id, ARN and state.
      returned: when found
      type: dict
      sample:
        key_id: 1234abcd-12ab-34cd-56ef-1234567890ab
        arn: arn:aws:kms:us-west-2:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab
        state: Enabled
    engine:
      description:
        - The version the restore will run, the snapshot's, the snapshot version's upgrade targets, the parameter group
          family and the Serverless v2 capacity range of the version restored.
      returned: when snapshot_engine_version is given and offered
      type: dict
      sample: {"version": "15.4", "snapshot_version": "15.4", "upgrade_targets": ["15.7", "16.3"], "family": "aurora-postgresql15",
               "serverless_v2_capacity": [0.5, 128.0]}
    sns_topic:
      description: The topic's ARN and its KMS key (the publisher needs kms:GenerateDataKey* and kms:Decrypt on it).
      returned: when sns_topic_arn is given and found
      type: dict
      sample: {"arn": "arn:aws:sns:us-west-2:210987654321:aurora-restore-notifications", "kms_master_key_id": "alias/aurora-restore"}
    target_cluster:
      description: The cluster the restore will replace, as it is now.
      returned: when target_cluster_identifier is given and may be described
      type: dict
      sample: {"identifier": "dev-app", "exists": true, "status": "available", "protected": false}
    secrets:
      description: The secrets found (metadata only).
      returned: when secret_ids is given
      type: list
      elements: dict
      sample:
        - secret_id: aurora-restore/staging/master-credentials
          scheduled_for_deletion: false
          name: aurora-restore/staging/master-credentials
          arn: arn:aws:secretsmanager:us-west-2:210987654321:secret:aurora-restore/staging/master-credentials-AbCdEf
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import client_factory
from ansible_collections.dbops.aurora_restore.plugins.module_utils.references import check_references
from ansible_collections.dbops.aurora_restore.plugins.module_utils.references import check_secret_contents
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import read_json_secret
from ansible_collections.dbops.aurora_restore.plugins.module_utils.secrets import sensitive_leaves


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_subnet_group_name=dict(type="str"),
            vpc_security_group_ids=dict(type="list", elements="str"),
            db_cluster_parameter_group_name=dict(type="str"),
            db_parameter_group_name=dict(type="str"),
            kms_key_id=dict(type="str"),
            master_user_secret_kms_key_id=dict(type="str"),
            engine_version=dict(type="str"),
            snapshot_engine_version=dict(type="str"),
            instance_class=dict(type="str"),
            serverless_v2_scaling=dict(type="dict", options=dict(
                min_capacity=dict(type="float", required=True),
                max_capacity=dict(type="float", required=True),
            )),
            sns_topic_arn=dict(type="str"),
            secret_ids=dict(type="list", elements="str", default=[], no_log=False),  # names of secrets, not their values
            master_secret_id=dict(type="str", no_log=False),
            master_username=dict(type="str"),
            users_secret_id=dict(type="str", no_log=False),
            users_secret_layout=dict(type="str", choices=["auto", "nested", "flat", "combined"], default="auto"),
            target_cluster_identifier=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    client_for = client_factory(module)

    def read_secret(secret_id):
        value, version = read_json_secret(client_for("secretsmanager"), secret_id)
        for leaf in sensitive_leaves(value):
            module.no_log_values.add(leaf)
        return value, version

    try:
        facts, problems = check_references(
            client_for, module.region, db_subnet_group_name=params["db_subnet_group_name"],
            vpc_security_group_ids=params["vpc_security_group_ids"],
            db_cluster_parameter_group_name=params["db_cluster_parameter_group_name"],
            db_parameter_group_name=params["db_parameter_group_name"], kms_key_id=params["kms_key_id"],
            engine_version=params["engine_version"], secret_ids=[item for item in params["secret_ids"] if item],
            snapshot_engine_version=params["snapshot_engine_version"], instance_class=params["instance_class"],
            serverless_v2_scaling=params["serverless_v2_scaling"], sns_topic_arn=params["sns_topic_arn"],
            master_user_secret_kms_key_id=params["master_user_secret_kms_key_id"],
            target_cluster_identifier=params["target_cluster_identifier"])
        # A secret also named in secret_ids that is missing or being deleted has its problem already: read only the others.
        unreadable = ({item for item in params["secret_ids"] if item}
                      - {secret["secret_id"] for secret in facts.get("secrets", []) if not secret["scheduled_for_deletion"]})
        problems += check_secret_contents(
            read_secret, master_secret_id=params["master_secret_id"] if params["master_secret_id"] not in unreadable else None,
            users_secret_id=params["users_secret_id"] if params["users_secret_id"] not in unreadable else None,
            users_secret_layout=params["users_secret_layout"], master_username=params["master_username"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="could not describe the restore's references in region %s" % module.region)
    module.exit_json(changed=False, problems=problems, references=facts)


if __name__ == "__main__":
    main()
