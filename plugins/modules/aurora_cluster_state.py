#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aurora_cluster_state
short_description: Start or stop an Aurora cluster and wait until it is there
version_added: 0.1.0
description:
  - Starts (C(StartDBCluster)) or stops (C(StopDBCluster)) the Aurora cluster I(cluster_identifier) and waits with the
    collection's polling loop until it is C(available) (with its writer) or C(stopped).
  - A cluster that is C(stopping) is waited for before it is started; one that is C(starting) or in another
    transitional status is waited for before it is stopped. A cluster already in the wanted state is C(changed=false).
  - Dev and staging clusters are often stopped at night to save cost; the restore role stops a refreshed cluster
    again at the end of a run when C(restore_stop_after_refresh) is set. AWS starts a stopped cluster on its own
    after seven days (RV(automatic_restart_time)).
  - A wait on a failure status (for example C(inaccessible-encryption-credentials-recoverable)) or on a status the
    module does not know stops at once, naming it.
author:
  - dbops platform team (@dbops)
options:
  cluster_identifier:
    description: The cluster (identifier).
    type: str
    required: true
  state:
    description: C(started) or C(stopped).
    type: str
    choices: [started, stopped]
    required: true
  wait:
    description: Wait until the cluster is in I(state).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait in all.
    type: int
    default: 3600
  poll_interval_max:
    description: The longest pause, in seconds, between two describe calls.
    type: float
    default: 30
  expected_account_id:
    description: Refuse to act unless the credentials are for this AWS account.
    type: str
notes:
  - Supports check mode, which says what would be done and changes nothing.
extends_documentation_fragment:
  - dbops.aurora_restore.runs_in_worker
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Stop the refreshed dev cluster until the next working day
  dbops.aurora_restore.aurora_cluster_state:
    region: us-west-2
    cluster_identifier: dev-app
    state: stopped

- name: Start it again, waiting for its writer
  dbops.aurora_restore.aurora_cluster_state:
    cluster_identifier: dev-app
    state: started
    wait_timeout: 1800
"""

RETURN = r"""
cluster_identifier:
  description: The cluster.
  returned: always
  type: str
  sample: dev-app
previous_status:
  description: Its status before this run.
  returned: always
  type: str
  sample: stopped
status:
  description: Its status after this run (C(planned) values in check mode are the status it would reach).
  returned: always
  type: str
  sample: available
automatic_restart_time:
  description: When AWS will start the stopped cluster on its own (seven days after it was stopped).
  returned: when the cluster is stopped
  type: str
waits:
  description: Each wait, with what it waited for, seconds, polls and the last status.
  returned: always
  type: list
  elements: dict
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.dbops.aurora_restore.plugins.module_utils import statuses
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import account_refusal
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import aws_client
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import fail_with
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import aws_call
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_cluster
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_cluster_available
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_cluster_stopped
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import validate_identifier
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitFailed
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitTimeout
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import WaitBudget


class PowerState:
    """Brings one cluster to `started` or `stopped` under one deadline."""

    def __init__(self, module, client, identifier):
        self.module = module
        self.client = client
        self.identifier = identifier
        self.params = module.params
        self.waits = []
        self.changed = False
        self.budget = WaitBudget(self.params["wait_timeout"])

    def wait(self, observe, what):
        report = self.budget.wait(observe, what, max_interval=self.params["poll_interval_max"])
        self.waits.append({"what": what, "waited_seconds": report["waited_seconds"], "polls": report["polls"],
                           "status": report["status"]})
        return report["resource"]

    def until_available(self):
        return self.wait(observe_cluster_available(self.client, self.identifier, need_writer=True),
                         "cluster %r to be available with its writer" % self.identifier)

    def until_stopped(self):
        return self.wait(observe_cluster_stopped(self.client, self.identifier), "cluster %r to stop" % self.identifier)

    def act(self, verb, call):
        self.changed = True
        if not self.module.check_mode:
            aws_call("%s cluster %r" % (verb, self.identifier), call, DBClusterIdentifier=self.identifier)

    def start(self, status):
        if status == "available":
            return status
        if status == "stopping":
            status = self.until_stopped()["Status"] if self.params["wait"] and not self.module.check_mode else "stopped"
        if status == "stopped":
            self.act("starting", self.client.start_db_cluster)
            if self.module.check_mode or not self.params["wait"]:
                return "available" if self.module.check_mode else "starting"
        if not self.params["wait"]:
            return status
        return self.until_available()["Status"]

    def stop(self, status):
        if status == "stopped":
            return status
        if status == "stopping":
            return self.until_stopped()["Status"] if self.params["wait"] and not self.module.check_mode else status
        if status != "available":
            if self.module.check_mode:
                self.changed = True
                return "stopped"
            status = self.until_available()["Status"]
        self.act("stopping", self.client.stop_db_cluster)
        if self.module.check_mode:
            return "stopped"
        return self.until_stopped()["Status"] if self.params["wait"] else "stopping"


def run(module):
    params = module.params
    identifier = validate_identifier(params["cluster_identifier"], "cluster_identifier")
    if params["wait_timeout"] < 1:
        raise RestoreError("wait_timeout must be at least 1 second, got %d" % params["wait_timeout"])
    refusal = account_refusal(module, params["expected_account_id"],
                              "%s cluster %r" % ("start" if params["state"] == "started" else "stop", identifier))
    if refusal:
        raise RestoreError(refusal)
    client = aws_client(module, "rds")
    cluster = describe_cluster(client, identifier)
    if cluster is None:
        raise RestoreError("cluster_identifier %r: no such cluster in region %s" % (identifier, module.region))
    previous = cluster.get("Status")
    problem = statuses.problem("cluster", identifier, previous)
    if problem:
        raise RestoreError(problem)
    power = PowerState(module, client, identifier)
    status = power.start(previous) if params["state"] == "started" else power.stop(previous)
    result = dict(changed=power.changed, cluster_identifier=identifier, previous_status=previous, status=status,
                  waits=power.waits)
    if status == "stopped" and not module.check_mode:
        restart = (describe_cluster(client, identifier) or {}).get("AutomaticRestartTime")
        if restart is not None:
            result["automatic_restart_time"] = restart.isoformat() if hasattr(restart, "isoformat") else str(restart)
    return result


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster_identifier=dict(type="str", required=True),
            state=dict(type="str", choices=["started", "stopped"], required=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=3600),
            poll_interval_max=dict(type="float", default=30),
            expected_account_id=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module))
    except RestoreError as error:
        fail_with(module, str(error), error.aws_error)
    except (WaitTimeout, WaitFailed) as error:
        module.fail_json(msg=str(error))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="RDS request failed for cluster %r" % module.params["cluster_identifier"])


if __name__ == "__main__":
    main()
