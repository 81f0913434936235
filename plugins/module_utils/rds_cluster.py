# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Aurora cluster restore: the names kept importable from here since 0.1.0 (nothing is defined in this file).

The restore lives in three modules, by kind:
  restore_plan.py    pure: RestoreContext, guards, the plan from the observed state, the restore request
  rds_api.py         reads AWS: one error rule (`call`), describes, observers for waits
  restore_runner.py  carries a plan out (Runner)
and its tags in markers.py.
"""

from __future__ import annotations

# pylint: disable=unused-import
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import CERTIFICATE_KEY  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import READY_KEY  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import RENEWING_PREFIX  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import RETIRED_FROM_KEY  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SECRET_APPLYING_KEY  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.markers import SECRET_VERSION_KEY  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import aws_call  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_cluster  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_cluster_instances  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_instance  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import describe_snapshot  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import error_text  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_cluster_available  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_cluster_gone  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_cluster_stopped  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_instances  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_password_reset  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import observe_state  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import paginate  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.rds_api import snapshot_exists  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import CHANGING  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import GuardRefused  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreContext  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import RestoreError  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import free_instance_names  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import guard  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import instance_specs  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import live_instances  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import parse_cluster_arn  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import plan  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import plan_changes  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import public_plan  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restore_request  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import restored_from  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import validate_identifier  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_plan import writer_of  # noqa: F401
from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_runner import Runner  # noqa: F401
