# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""restore_audit's logic run inside the controller's worker, with no module process.

A refresh records about fourteen audit events per target; as module runs, each paid a Python start, the
AnsiballZ unpack and a boto3 import (~0.8 s of CPU), about a third of a refresh's controller cost. The events are
DynamoDB writes made from the controller either way when the task's connection is local, so nothing moves: the
same argument spec, the same AWS options and environment fallbacks as the module (amazon.aws's), the same logic
(module_utils/audit_actions.py), the same result, and secrets masked the same way.
"""

from __future__ import annotations

import os
import traceback

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.common.parameters import remove_values

try:
    import boto3
    import botocore
    import botocore.config
    import botocore.session
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import _aws_connection_info
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import _boto3_conn
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import _get_user_agent_string
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import _merge_botocore_config
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import gather_sdk_versions
    from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleBotocoreError
    from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
    HAS_SDK = True
except ImportError:  # the module, run by the controller's Python or another, says what is missing
    HAS_SDK = False

from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import REQUIRED_IF
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import argument_spec
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import input_refusal
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import perform
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_actions import values_to_hide
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import AuditStoreError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.audit_store import LockHeldError
from ansible_collections.dbops.aurora_restore.plugins.module_utils.clients import RETRY
from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.module_in_worker import WARM_LOADER
from ansible_collections.dbops.aurora_restore.plugins.plugin_utils.module_in_worker import runs_in_worker


PLACEBO = {"_ANSIBLE_PLACEBO_RECORD", "_ANSIBLE_PLACEBO_REPLAY"}


def runs_on_controller(action, task_vars):
    """Whether a task of `action` (an ActionBase) may run the audit here instead of as a module: where any of the
    collection's modules would run in the worker (plugin_utils/module_in_worker.py: a local connection, the
    controller's own Python, no `environment`), and this Python has the AWS SDK."""
    return HAS_SDK and runs_in_worker(action, task_vars)


def _spec():
    spec = aws_argument_spec()
    spec.update(argument_spec())
    return spec


def record(module_args, check_mode):
    """restore_audit with `module_args` (module_defaults already applied), as the module's result would be."""
    validated = ArgumentSpecValidator(_spec(), required_if=REQUIRED_IF).validate(module_args)
    hidden = set(validated._no_log_values)
    if validated.error_messages:
        return _masked(dict(failed=True, msg="; ".join(validated.error_messages)), hidden)
    params = validated.validated_parameters
    hidden.update(values_to_hide(params))
    result = _outcome(params, check_mode)
    if validated._deprecations:
        result["deprecations"] = validated._deprecations
    if validated._warnings:
        result["warnings"] = [warning["warning"] if isinstance(warning, dict) else warning for warning in validated._warnings]
    result["invocation"] = dict(module_args=params)
    return _masked(result, hidden)


def _outcome(params, check_mode):
    refusal = input_refusal(params)
    if refusal:
        return dict(failed=True, msg=refusal)
    try:
        return perform(params, check_mode, _dynamodb(params))
    except LockHeldError as error:
        return dict(failed=True, msg=str(error), lock_holder=error.holder)
    except (AuditStoreError, AnsibleBotocoreError) as error:
        return dict(failed=True, msg=str(error))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, ValueError) as error:
        # What AnsibleAWSModule.fail_json_aws returns: the message, the SDK versions and the error's response fields.
        failure = dict(failed=True, msg="DynamoDB request failed during action=%s: %s" % (params["action"], error),
                       exception=traceback.format_exc(), **gather_sdk_versions())
        if getattr(error, "response", None) is not None:
            failure.update(camel_dict_to_snake_dict(error.response))
        return failure


def _warm_session():
    """A botocore session that reads botocore's models through module_in_worker's WARM_LOADER, which the controller's
    main process filled (DynamoDB's model among them) before forking the workers: a client then takes milliseconds
    instead of the ~0.1 s a fresh session spends reading botocore's JSON files."""
    session = botocore.session.get_session()
    session.register_component("data_loader", WARM_LOADER)
    return session


WARM_SESSION = _warm_session() if HAS_SDK else None


def _dynamodb(params):
    region, endpoint_url, connection = _aws_connection_info(params)
    # A named profile needs a session of its own, and amazon.aws's placebo recording hooks into a fresh one.
    if connection.get("profile_name") or PLACEBO.intersection(os.environ):
        client = _boto3_conn(conn_type="client", resource="dynamodb", region=region, endpoint=endpoint_url, **connection)
    else:  # what _boto3_conn does, on the warm session
        config = _merge_botocore_config(botocore.config.Config(user_agent=_get_user_agent_string()), connection.pop("aws_config", None))
        connection.pop("profile_name", None)
        client = boto3.session.Session(botocore_session=WARM_SESSION).client(
            "dynamodb", config=config, region_name=region, endpoint_url=endpoint_url, **connection)
    return RetryingBotoClientWrapper(client, RETRY)


def _masked(result, hidden):
    return remove_values(result, hidden) if hidden else result
