# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The options of a module whose long wait a caller runs in slices (dbops.aurora_restore.wait_in_slices)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  wait_deadline:
    description:
      - The absolute end of the whole wait, in epoch seconds, for callers that wait in slices of I(wait_timeout)
        seconds (the restore role does). A slice that ends before it returns without failing, with
        RV(timed_out=true) and the wait's progress, and the next call carries on; once it has passed, the wait fails
        with the timeout message.
    type: float
  wait_started:
    description:
      - When the whole wait began, in epoch seconds, for callers that wait in slices (with I(wait_deadline)). Polling
        goes on at the interval the wait had reached instead of starting again at the shortest one.
    type: float
  wait_pending:
    description:
      - For callers that wait in slices, the RV(wait_pending) of the previous slice (the wait it ended in, and since
        when). That wait, if this call waits for it again, is timed from its real beginning in RV(wait_seconds).
      - Given it, M(dbops.aurora_restore.aurora_cluster_restore) does not check the references again before creating
        instances (the slice that began the wait checked them); it checks them before anything that deletes or
        restores.
    type: dict
"""
