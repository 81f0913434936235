#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: restore_audit
short_description: Record restore operations, their steps and audit trail in DynamoDB, under a per-target lock
version_added: 0.1.0
description:
  - Keeps the state of Aurora restore operations in a DynamoDB I(state table) (hash key C(operation_id)) and an
    append-only audit trail in an I(audit table) (hash key C(operation_id), range key C(timestamp)), the tables of
    the original pipeline design.
  - C(action=start) starts an operation for a target, or resumes an unfinished one when I(operation_id) is given,
    and takes the target's lock. Only one operation can hold a target's lock; the lock is a conditional write, so two
    runs started at the same moment cannot both win.
  - The lock is a lease. Every recorded event renews it; a run that crashed stops holding the target once
    I(lock_lease_seconds) have passed, and the next C(action=start) takes it over and records that it did.
  - C(action=step) records a step as started, succeeded, failed or skipped, with details and timings; C(progress)
    records how a running step's wait goes (status, percent) without changing its status, and renews the lease.
  - C(action=finish) finishes the operation as C(SUCCEEDED) or C(FAILED) and releases the lock.
  - C(action=get) reads an operation back with its ordered steps, the steps already done and the step a resume
    starts from; C(action=list) lists a target's recent operations; C(action=release_lock) releases a lock.
  - Secrets never reach the tables. Detail keys that look like passwords, secrets or tokens are redacted (or
    refused with I(on_secret=fail)), and credentials embedded in URLs or C(password=) pairs in error texts are masked.
  - Audit items carry an C(expires_at) attribute (epoch seconds) for DynamoDB TTL, I(retention_days) ahead.
    Timestamps are UTC ISO-8601 with microseconds; the audit range key adds a per-operation sequence number so the
    order of events is stable.
author:
  - dbops platform team (@dbops)
options:
  action:
    description: What to do.
    type: str
    required: true
    choices: [start, step, finish, get, list, release_lock]
  target:
    description:
      - The restore target (normally the target cluster identifier); the lock is per target.
      - Required for I(action=start), I(action=release_lock); filters I(action=list).
    type: str
  operation_id:
    description:
      - The operation. With I(action=start), resume this operation (it must exist, be the target's and be unfinished;
        an id that does not exist is refused, so a typo of a resume never starts a new operation, unless I(create));
        a new operation with a generated id is started when omitted.
      - Required for I(action=step), I(action=finish), I(action=get), I(action=release_lock).
    type: str
  environment:
    description: The environment (inventory group) of the target, stored with a new operation.
    type: str
  step:
    description: The step name, lower-case letters, digits and underscores. Required for I(action=step).
    type: str
  step_status:
    description: The step's new status. Required for I(action=step).
    type: str
    choices: [started, progress, succeeded, failed, skipped]
  next_step:
    description:
      - With I(action=step) and I(step_status=succeeded) or C(skipped), also record the start of this step, the one
        that runs next, in the same call (two events at the same moment, one write of the operation).
    type: str
  first_step:
    description:
      - With I(action=start), also record the start of this step when the operation is new, in the same write (a
        resumed operation records its next start itself, once it knows which step runs first). The result's
        C(step_started) names it.
    type: str
    version_added: 0.2.0
  last_step:
    description:
      - With I(action=finish) and I(status=SUCCEEDED), first record the success of this step, the pipeline's last, in
        the finish's own write (its event comes right before the operation's; nothing is added when that success is
        recorded already).
    type: str
    version_added: 0.2.0
  last_step_details:
    description:
      - The details of I(last_step)'s success, as I(details) are for a step. Keys that look like secrets are
        redacted or refused, see I(on_secret).
    type: dict
    version_added: 0.2.0
  previous_step:
    description:
      - First record the success of this step, the one before the step this call records (I(step) with
        I(action=step), I(last_step) with I(action=finish)), and so the start of that step, both at
        I(previous_step_ended_at), in the same write.
      - One write fewer for a short step whose success the next step's write can carry (the restore role does it for
        a C(quick) step followed by a quick step). Until that write, the state table shows the previous step still
        running, and a resume after a crash runs it again.
      - The events keep their order. Their time is kept between the operation's last recorded change and now.
    type: str
    version_added: 0.2.0
  previous_step_details:
    description:
      - The details of I(previous_step)'s success, as I(details) are for a step. Keys that look like secrets are
        redacted or refused, see I(on_secret).
    type: dict
    version_added: 0.2.0
  previous_step_ended_at:
    description:
      - When I(previous_step) succeeded, in epoch seconds (the restore role takes it from Jinja2's C(now) function).
        Required with I(previous_step).
    type: float
    version_added: 0.2.0
  status:
    description: The operation's final status. Required for I(action=finish).
    type: str
    choices: [SUCCEEDED, FAILED]
  details:
    description:
      - Facts to record with the event (identifiers, sizes, durations). Values may be nested.
      - Keys that look like secrets are redacted or refused, see I(on_secret).
    type: dict
  error:
    description: The error text of a failed step or operation. Credentials embedded in it are masked.
    type: str
  pipeline_steps:
    description:
      - The pipeline's steps in order. When given, C(resume_from) is the first of them not yet succeeded or skipped;
        otherwise it is the first recorded step not yet done.
    type: list
    elements: str
  include_events:
    description: With I(action=get), also return the operation's audit events in order.
    type: bool
    default: false
  limit:
    description: With I(action=list), the number of most recent operations returned.
    type: int
    default: 10
  list_status:
    description: With I(action=list), only operations with this status.
    type: str
    choices: [RUNNING, SUCCEEDED, FAILED]
  force:
    description:
      - With I(action=release_lock), release the target's lock whoever holds it (an operator clearing a stuck lock).
      - Without it, only the holder I(operation_id) releases the lock.
    type: bool
    default: false
  create:
    description:
      - With I(action=start) and an I(operation_id) that no operation has yet, start a new operation with that id
        (a chosen id, such as one per night, that a rerun resumes) instead of refusing it.
    type: bool
    default: false
  state_table:
    description: The DynamoDB state table (hash key C(operation_id) of type S).
    type: str
    default: aurora-restore-state
  audit_table:
    description: The DynamoDB audit table (hash key C(operation_id), range key C(timestamp), both of type S).
    type: str
    default: aurora-restore-audit
  retention_days:
    description: Days an audit item is kept; its C(expires_at) TTL attribute is set this far ahead.
    type: int
    default: 90
  lock_lease_seconds:
    description:
      - How long the lock is held without a new event before another run may take it over.
      - Make it longer than the longest single step (a cross-region copy can take hours).
    type: int
    default: 21600
  on_secret:
    description: What to do with detail keys that look like secrets; C(redact) masks their values, C(fail) refuses the call.
    type: str
    choices: [redact, fail]
    default: redact
notes:
  - Supports check mode. I(action=start) in check mode checks the lock and reports what it would do; nothing is written.
  - Throttling and transient DynamoDB errors are retried with jittered backoff.
  - When the task would run this module on the controller's own Python (its connection is local, its
    C(ansible_python_interpreter) is the playbook's, and it sets no C(environment)), the action plugin of the same name
    runs this logic inside the controller's worker process (no module process; the controller's Python needs boto3). Anywhere
    else, or without boto3 on the controller, it runs as a module. Arguments, result and masking are the same.
  - C(action=list) scans the state table, which holds one item per operation and one per locked target.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Start (or resume) a restore of the dev target, taking its lock
  dbops.aurora_restore.restore_audit:
    action: start
    target: dev-app-cluster
    environment: dev
    operation_id: "{{ resume_operation_id | default(omit) }}"
    pipeline_steps: [preflight, select_snapshot, copy_snapshot, restore_cluster, db_users, archive]
    # a new operation starts its first step at once
    first_step: preflight
  register: restore_operation

- name: Record that the snapshot copy started
  dbops.aurora_restore.restore_audit:
    action: step
    operation_id: "{{ restore_operation.operation.operation_id }}"
    step: copy_snapshot
    step_status: started
    details:
      source_snapshot_arn: arn:aws:rds:us-east-1:111111111111:cluster-snapshot:prod-2026-11-22
      target_region: us-west-2

- name: Record that it succeeded
  dbops.aurora_restore.restore_audit:
    action: step
    operation_id: "{{ restore_operation.operation.operation_id }}"
    step: copy_snapshot
    step_status: succeeded
    details:
      copy_identifier: dbops-prod-2026-11-22-usw2
    # and that restore_cluster starts now
    next_step: restore_cluster

- name: Record that select_snapshot succeeded, with the success of preflight a few seconds earlier, in one write
  dbops.aurora_restore.restore_audit:
    action: step
    operation_id: "{{ restore_operation.operation.operation_id }}"
    previous_step: preflight
    previous_step_details:
      checked: [snapshot, references]
    previous_step_ended_at: "{{ preflight_ended_at }}"
    step: select_snapshot
    step_status: succeeded
    next_step: copy_snapshot

- name: Finish the operation as succeeded, with its last step's success in the same write (releases the lock)
  dbops.aurora_restore.restore_audit:
    action: finish
    operation_id: "{{ restore_operation.operation.operation_id }}"
    status: SUCCEEDED
    last_step: archive
    last_step_details:
      deleted: []

- name: Finish the operation as failed (releases the lock, keeps the record for a resume)
  dbops.aurora_restore.restore_audit:
    action: finish
    operation_id: "{{ restore_operation.operation.operation_id }}"
    status: FAILED
    error: "{{ ansible_failed_result.msg | default('unknown error') }}"

- name: Read an operation back with its audit trail
  dbops.aurora_restore.restore_audit:
    action: get
    operation_id: dev-app-cluster-20261122T010000Z-1a2b3c4d
    include_events: true
  register: operation

- name: The last five operations of a target
  dbops.aurora_restore.restore_audit:
    action: list
    target: dev-app-cluster
    limit: 5

- name: Clear a lock left by a run that cannot be resumed (operator action)
  dbops.aurora_restore.restore_audit:
    action: release_lock
    target: dev-app-cluster
    force: true
"""

RETURN = r"""
outcome:
  description:
    - What I(action=start) did, C(started) a new operation, C(resumed) an unfinished one, or found it
      C(already_succeeded) (nothing changed, the lock not taken).
  returned: when action=start
  type: str
  sample: resumed
operation:
  description: The operation record.
  returned: when action is start, step, finish or get
  type: dict
  contains:
    operation_id:
      description: The operation id.
      type: str
      sample: dev-app-cluster-20261122T010000Z-1a2b3c4d
    target:
      description: The target it restores.
      type: str
    environment:
      description: The target's environment.
      type: str
    status:
      description: RUNNING, SUCCEEDED or FAILED.
      type: str
    attempt:
      description: 1 for the first run, incremented by every resume.
      type: int
    started_at:
      description: UTC ISO-8601 start time.
      type: str
    finished_at:
      description: UTC ISO-8601 finish time, once finished.
      type: str
    duration_seconds:
      description: Seconds from start to finish, once finished.
      type: float
    current_step:
      description: The step recorded last.
      type: str
    error:
      description: The error of a failed operation.
      type: str
    steps:
      description: The steps in the order they were first recorded, with status, times, duration, details, error.
      type: list
      elements: dict
    completed_steps:
      description: Names of steps that succeeded or were skipped.
      type: list
      elements: str
    resume_from:
      description: The first step not yet done (of I(pipeline_steps) when given); null once the operation succeeded.
      type: str
lock:
  description: The target's lock as taken (or as it would be taken in check mode).
  returned: when action=start and the operation is not already succeeded
  type: dict
  contains:
    holder_operation_id:
      description: The operation holding the lock.
      type: str
    acquired_at:
      description: When the holder took it (UTC ISO-8601).
      type: str
    lease_expires_at:
      description: Epoch seconds after which another run may take it over.
      type: int
wait_history:
  description:
    - How long the waits of the target's last successful refresh took, kept at that operation's finish (the state
      table's item C(history#<target>)), from each step's C(details.wait_seconds); null before the first one. The
      restore role hands each step's to its wait module as C(expected_wait_seconds).
  returned: when action=start and the operation is not already succeeded
  type: dict
  contains:
    operation_id:
      description: The operation the history comes from.
      type: str
    finished_at:
      description: When it finished (UTC ISO-8601).
      type: str
    steps:
      description: Step name -> wait name -> seconds that wait took.
      type: dict
  sample: {"operation_id": "dev-app-20261122T043000Z-1a2b3c4d", "finished_at": "2026-11-22T05:02:11.000000+00:00",
           "steps": {"copy_snapshot": {"snapshot copy": 1260.4}, "restore_cluster": {"restore: cluster _ to become available": 412.3}}}
step_started:
  description: The step whose start I(action=start) recorded (I(first_step), for a new operation), else null.
  returned: when action=start
  type: str
  sample: preflight
lock_taken_over_from:
  description: The operation whose expired lease this start took over.
  returned: when action=start took over an expired lock
  type: str
events:
  description: The operation's audit events in order.
  returned: when action=get and include_events=true
  type: list
  elements: dict
operations:
  description: The most recent operations, newest first.
  returned: when action=list
  type: list
  elements: dict
released:
  description: Whether the lock was released.
  returned: when action is finish or release_lock
  type: bool
redacted_keys:
  description: Detail keys whose values were redacted because they looked like secrets.
  returned: always
  type: list
  elements: str
  sample: [db_password]
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import REQUIRED_IF
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import argument_spec
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import input_refusal
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import perform
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import values_to_hide
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import LockHeldError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import aws_client


# The role runs this logic on the controller (plugins/action/restore_audit.py, one process less per event);
# this module is what runs anywhere else, and what the action falls back to.
def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True, required_if=REQUIRED_IF)
    # Secrets passed in details or error text are masked in everything Ansible prints, the echoed
    # module arguments included, not only in what reaches DynamoDB.
    module.no_log_values.update(values_to_hide(module.params))
    refusal = input_refusal(module.params)
    if refusal:
        module.fail_json(msg=refusal)
    try:
        module.exit_json(**perform(module.params, module.check_mode, aws_client(module, "dynamodb")))
    except LockHeldError as error:
        module.fail_json(msg=str(error), lock_holder=error.holder)
    except AuditStoreError as error:
        module.fail_json(msg=str(error))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="DynamoDB request failed during action=%s" % module.params["action"])


if __name__ == "__main__":
    main()
