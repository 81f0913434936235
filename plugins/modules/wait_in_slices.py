#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# The documentation of the action plugin plugins/action/wait_in_slices.py, which does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wait_in_slices
short_description: Run a long wait of a dbops.aurora_restore module as slices, with progress in between
version_added: 0.1.0
description:
  - Runs I(module) with I(module_args) again and again, each run waiting at most I(slice_seconds), until it finishes,
    fails, or I(timeout) seconds have passed since the first run. Every run gets C(wait_timeout), C(wait_deadline)
    and C(wait_started), so a run that ends before the deadline returns its progress (C(timed_out=true)) instead
    of failing, and its polling carries on at the interval the wait had reached.
  - Between two runs it prints I(progress_line), records a progress event of the step with
    M(dbops.aurora_restore.restore_audit) (which also renews the target's lock), and assumes I(renew_credentials)'s
    role again when its session is about to end.
  - The task's result is the last run's result (for example C(snapshot) and C(wait), or C(endpoint)), with the keys
    below added; C(changed) is true when any run changed something.
  - All in one task, so a wait of hours does not nest include files. Each run is a normal module run on the managed
    node, with the task's C(module_defaults) applied.
  - The modules it can drive are M(dbops.aurora_restore.aurora_snapshot_copy) and
    M(dbops.aurora_restore.aurora_cluster_restore), or any module with the same three options and C(timed_out).
author:
  - dbops platform team (@dbops)
options:
  module:
    description: The module to run, by its fully qualified name.
    type: str
    required: true
  module_args:
    description: The module's arguments, without C(wait_timeout), C(wait_deadline) and C(wait_started).
    type: dict
    required: true
  timeout:
    description: Seconds the whole wait may take. The run that reaches this fails with the module's timeout message.
    type: int
    required: true
  slice_seconds:
    description: Seconds one run may wait; a progress line and event follow each run that ends before the wait.
    type: int
    required: true
  progress:
    description:
      - What a progress line and event show, as C(name) and the dotted path of its value in the module's result
        (for example C(status) and C(wait.status)).
    type: dict
    default: {}
  progress_line:
    description:
      - The line printed after each slice, with C({name}) fields of I(progress) and C({waited_seconds}). A status
        is shown up to its first C(; ). Empty prints nothing.
    type: str
    default: ""
  record_progress:
    description:
      - M(dbops.aurora_restore.restore_audit) arguments (C(operation_id), C(step)) for a C(step_status=progress) event
        after each slice, with the I(progress) values as its details. Not recorded in check mode. A refused event is
        a warning, not a failure.
    type: dict
  renew_credentials:
    description:
      - The target's role, assumed again with M(amazon.aws.sts_assume_role) (as the job's own identity, which is not
        role chaining) before a slice when fewer than I(refresh_seconds) of its session remain; the new session
        goes to the module and the audit calls. The credentials never appear in the result.
    type: dict
    suboptions:
      role_arn:
        description: The role's ARN.
        type: str
        required: true
      role_session_name:
        description: The session's name.
        type: str
        required: true
      duration_seconds:
        description: How long a session lasts.
        type: int
        required: true
      region:
        description: The STS region.
        type: str
        required: true
      expires_at:
        description: When the current session ends, in epoch seconds.
        type: float
        required: true
      refresh_seconds:
        description: Renew when fewer seconds than this remain.
        type: float
        required: true
notes:
  - This is an action plugin; it runs on the controller and supports check mode as the driven module does.
attributes:
  check_mode:
    support: full
    description: The driven module runs in check mode; no progress event is recorded.
  diff_mode:
    support: none
    description: No diff.
  action:
    support: full
    description: Runs on the controller, and runs the module on the host.
"""

EXAMPLES = r"""
- name: Copy a snapshot, re-encrypted, with a progress line every minute for up to four hours
  dbops.aurora_restore.wait_in_slices:
    module: dbops.aurora_restore.aurora_snapshot_copy
    module_args:
      source_snapshot_identifier: arn:aws:rds:us-east-1:111111111111:cluster-snapshot:rds:production-2026-12-01-03-10
      kms_key_id: alias/aurora-restore
      operation_id: "{{ restore_op_id }}"
    timeout: 14400
    slice_seconds: 60
    progress:
      status: wait.status
      percent_progress: wait.percent_progress
    progress_line: "snapshot copy {status}, {percent_progress}% after {waited_seconds} s"
    record_progress:
      operation_id: "{{ restore_op_id }}"
      step: copy_snapshot
  register: copied
"""

RETURN = r"""
slices:
  description: How many times the module ran.
  returned: always
  type: int
  sample: 12
slice_seconds:
  description: The longest wait of one run.
  returned: always
  type: int
  sample: 60
waited_seconds:
  description: Seconds from the first run's start to the last run's end.
  returned: always
  type: int
  sample: 713
progress_lines:
  description: The progress lines printed, in order.
  returned: always
  type: list
  elements: str
  sample: ["dev-app: snapshot copy copying, 40% after 60 s"]
wait_seconds:
  description:
    - The C(wait_seconds) of every slice together (when the module returns them), how long each wait took by wait
      name; the first slice that saw a wait end gives its figure.
    - When a module returns C(wait_pending) (the wait its slice ended in), the next slice gets it as the module's
      I(wait_pending) option; if that slice did not wait for it, the wait ended in between and is timed up to the
      slice's start.
  returned: when the module returned wait_seconds
  type: dict
  sample: {"snapshot copy": 1260.4}
credentials_renewed:
  description: How many times the role was assumed again during the wait.
  returned: always
  type: int
  sample: 0
"""
