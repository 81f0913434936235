# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Post-restore SQL and smoke checks (aurora_db_sql, aurora_db_users): module_utils/db_post_restore.py."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  post_restore_sql:
    description:
      - SQL to run once per O(restore_marker) (masking, sanitising), in order, in one transaction with the record of
        its application. Each item may contain several statements.
    type: list
    elements: str
    default: []
  post_restore_sql_files:
    description:
      - Files (on the managed node) of SQL to run like O(post_restore_sql), after it.
    type: list
    elements: path
    default: []
  restore_marker:
    description:
      - Identifier of this restore (operation id, snapshot id). Post-restore SQL items already recorded under this
        marker are skipped. Required with O(post_restore_sql) or O(post_restore_sql_files).
    type: str
  smoke_checks:
    description:
      - Queries run after everything else; the task fails when one does not return what is expected.
      - Skipped in check mode.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name shown in the result and in the failure message.
        type: str
        required: true
      query:
        description:
          - A read-only query. It runs in a read-only transaction.
        type: str
        required: true
      expect_rows:
        description:
          - C(true) (the default without O(smoke_checks[].expect_value)) requires at least one row, C(false) requires none.
        type: bool
      expect_value:
        description:
          - Expected value of the first column of the first row, compared as text (booleans as C(true) / C(false)).
        type: raw
      run_as:
        description:
          - Run the query logged in as this managed user (with the password from its secret) instead of the master user.
        type: str
      timeout:
        description:
          - Statement timeout in seconds.
        type: int
        default: 30
"""
