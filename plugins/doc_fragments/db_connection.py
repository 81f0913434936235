# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The connection options of the db modules (aurora_db_users, aurora_db_sql): module_utils/db_connection.py."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  login_host:
    description:
      - Host name or address of the cluster endpoint (typically the writer endpoint from the restore result).
    type: str
    required: true
    aliases: [host]
  login_port:
    description:
      - Port of the endpoint.
    type: int
    default: 5432
    aliases: [port]
  database:
    description:
      - Database to connect to; grants on schemas, tables and sequences, default privileges, post-restore SQL and smoke
        checks apply to this database. Roles are cluster-wide.
    type: str
    default: postgres
    aliases: [login_db, db]
  master_secret_id:
    description:
      - Name or ARN of the Secrets Manager secret holding the master credentials, as keys C(username) and C(password)
        (or C(master_username) and C(master_password)).
      - May be omitted when O(users_secret_id) is a C(combined) secret, whose C(master_*) keys are then used.
    type: str
  ssl_mode:
    description:
      - libpq C(sslmode). Use C(verify-full) with O(ca_cert) (the RDS CA bundle) to verify the endpoint.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  ca_cert:
    description:
      - Path of a CA bundle (for example C(global-bundle.pem) from AWS) used with O(ssl_mode=verify-ca) or
        O(ssl_mode=verify-full).
    type: path
    aliases: [ssl_rootcert]
  connect_timeout:
    description:
      - Seconds to wait for each connection attempt.
    type: int
    default: 10
  connect_retries:
    description:
      - Extra connection attempts while a new endpoint warms up (refused, timed out, not resolvable, starting up).
      - Authentication failures are never retried.
    type: int
    default: 5
  connect_retry_delay:
    description:
      - Seconds between connection attempts.
    type: float
    default: 5.0
  users_secret_id:
    description:
      - Name or ARN of a Secrets Manager secret holding the users, in the layout given by O(users_secret_layout).
      - Its users get the profile of their key (C(application_user) / C(app_*) is C(app), C(readonly_user) /
        C(readonly_*) is C(readonly), C(devops_user) / C(devops_*) is C(devops)).
    type: str
  users_secret_layout:
    description:
      - Layout of O(users_secret_id).
      - C(nested) has keys C(application_user), C(readonly_user), C(devops_user), each an object with C(username) and
        C(password).
      - C(flat) has keys C(app_username), C(app_password), C(readonly_username), C(readonly_password), C(devops_username),
        C(devops_password).
      - C(combined) is C(flat) (or C(nested)) plus C(master_username) and C(master_password).
      - C(auto) detects the layout from the keys.
    type: str
    default: auto
    choices: [auto, nested, flat, combined]
"""
