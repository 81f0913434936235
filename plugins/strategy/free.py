# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: free
short_description: The free strategy, idle while every host is running a task
description:
  - Runs a play exactly as the C(ansible.builtin.free) strategy does. Each host goes through its tasks at its own pace,
    and a host that waits hours for a snapshot copy never holds back another.
  - The difference is what the controller does while every host is running a task. C(ansible.builtin.free) looks at
    each host's next task every C(internal_poll_interval) seconds all the same. In a play with nested blocks and
    includes, such as the restore role's, that look is the controller's main cost through a long wait (measured with
    the collection's C(make bench), about 2.5 CPU seconds a minute for one target at C(internal_poll_interval=0.01)).
  - This strategy then only checks, every C(internal_poll_interval) seconds, whether a task's result has arrived, for
    at most half a second at a time. A result is taken up as soon as C(ansible.builtin.free) would take it up.
  - When a host is not running a task (it has finished its tasks, or waits for a free fork), this strategy is
    C(ansible.builtin.free).
author:
  - dbops platform team (@dbops)
"""

import time

from ansible import constants as C
from ansible.executor.play_iterator import IteratingStates
from ansible.plugins.strategy.free import StrategyModule as FreeStrategyModule

# The longest idle stretch before the free strategy's own loop runs again: that loop also notices what no result
# announces (a host that failed or became unreachable outside a task, an interrupted run).
IDLE_AT_MOST_SECONDS = 0.5


class StrategyModule(FreeStrategyModule):

    def _process_pending_results(self, iterator, *args, **kwargs):
        # The free strategy calls this once per pass over the hosts, after queueing what it could, then sleeps
        # internal_poll_interval and looks at every host again.
        self._idle_until_a_result(iterator)
        return super()._process_pending_results(iterator, *args, **kwargs)

    def _idle_until_a_result(self, iterator):
        if self._pending_results <= 0 or not self._every_host_busy_or_done(iterator):
            return
        idle_until = time.monotonic() + IDLE_AT_MOST_SECONDS
        while not self._results and not self._tqm._terminated and time.monotonic() < idle_until:
            time.sleep(C.DEFAULT_INTERNAL_POLL_INTERVAL)

    def _every_host_busy_or_done(self, iterator):
        """No host can be given a task before a result arrives: each is running one or has finished the play."""
        for host in self.get_hosts_left(iterator):
            if self._blocked_hosts.get(host.name, False):
                continue
            if iterator.get_state_for_host(host.name).run_state != IteratingStates.COMPLETE:
                return False
        return True
