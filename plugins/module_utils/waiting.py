# -*- coding: utf-8 -*-
# Copyright: dbops.aurora_restore contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One polling loop for every long AWS wait (snapshot copies, restores, instances, renames, deletes).

Why not the amazon.aws RDS waiters: their throttling acceptors end a wait as success, and their fixed
attempt counts give up after 20-30 minutes, while a queued cross-region copy can take hours. This loop
has a deadline in seconds, an interval that grows with the time already waited (so a short wait is noticed
quickly and a long one costs few describe calls against RDS's shared ~12 requests/s), jitter so parallel
targets do not poll in step, and it keeps a progress trail for the module's result.

When the resource reports a percentage (snapshot copies do), the rate since it began to move predicts the end:
the loop sleeps until then (within the interval bounds), so a copy is noticed about when it ends, with few calls.
When the caller knows how long the same wait took last time (the target's previous refresh, recorded in the audit
trail), the loop polls at the longest interval until shortly before that moment, then closely around it, and falls
back to the growing interval once it has passed: a daily refresh is noticed within about 2 % of its wait, with
few calls, and a wait that runs longer or shorter than last time is still noticed within the longest interval.
A caller that waits in slices (the restore role's dbops.aurora_restore.wait_in_slices) passes when the whole wait
started and when it must end: each slice's intervals go on growing from there, and only the slice that reaches the end
fails. WaitBudget holds this for one module run, on one clock.
"""

from __future__ import annotations

import random
import time

# Poll at this fraction of the time already waited: a wait is noticed within about 5 % of its length.
DEFAULT_ELAPSED_FRACTION = 0.05
DEFAULT_MIN_INTERVAL = 2.0
DEFAULT_MAX_INTERVAL = 30.0
DEFAULT_JITTER = 0.2
# With an expected end: close polls begin this fraction of it before (at least one shortest interval before), and
# are this fraction of it apart (at least the shortest interval), until as long after it as they began before.
EXPECTED_LEAD_FRACTION = 0.05
EXPECTED_PRECISION_FRACTION = 0.02
PROGRESS_TRAIL_LIMIT = 50


class WaitTimeout(Exception):
    """The deadline passed before the resource reached the wanted state; the message names it and its last status."""

    def __init__(self, message, last_status=None, progress=None):
        super().__init__(message)
        self.last_status = last_status
        self.progress = progress or {}


class WaitFailed(Exception):
    """The resource reached a state it cannot leave towards the wanted one (e.g. `failed`, `incompatible-restore`)."""

    def __init__(self, message, last_status=None):
        super().__init__(message)
        self.last_status = last_status


class Observation:
    """What one describe call saw: a status, an optional percent, and whether the wait is over."""

    def __init__(self, status, done=False, failed=False, percent=None, resource=None, reason=None):
        self.status = status
        self.done = done
        self.failed = failed
        self.percent = percent
        self.resource = resource
        self.reason = reason  # why a failed wait cannot go on, one line (statuses.problem)


def next_interval(elapsed, min_interval=DEFAULT_MIN_INTERVAL, max_interval=DEFAULT_MAX_INTERVAL,
                  elapsed_fraction=DEFAULT_ELAPSED_FRACTION, jitter=DEFAULT_JITTER, rand=random.random, predicted_remaining=None,
                  expected_end=None):
    """The pause before the next poll.

    With a predicted remaining time: that time, clamped (the next poll lands about when the wait ends).
    With an expected end (seconds into the wait, from an earlier run of the same wait): see expected_interval.
    Otherwise a fraction of the time waited, clamped, with +/- jitter.
    """
    if predicted_remaining is not None:
        return max(min_interval, min(max_interval, predicted_remaining))
    if expected_end is not None:
        interval = expected_interval(elapsed, expected_end, min_interval, max_interval)
        if interval is not None:
            return interval
    base = min(max_interval, max(min_interval, elapsed * elapsed_fraction))
    spread = base * jitter * (2 * rand() - 1)
    return max(0.1, min(max_interval, base + spread))


def wait_seconds_problem(value, option="expected_wait_seconds"):
    """Why `value` is not a map of wait names to seconds (as a module's wait_seconds returns it), one line; None when
    it is one (or empty)."""
    for name, seconds in (value or {}).items():
        try:
            number = float(seconds)
        except (TypeError, ValueError):
            number = None
        if isinstance(seconds, bool) or number is None or not 0 <= number < float("inf"):
            return "%s: %r is not a number of seconds 0 or more (wait %r)" % (option, seconds, name)
    return None


def wait_pending_problem(value):
    """Why `value` is not a wait a slice ended in ({name, since}, as a module's wait_pending returns it), or None."""
    if value is None:
        return None
    if not isinstance(value.get("name"), str) or wait_seconds_problem({value["name"]: value.get("since")}, "wait_pending"):
        return "wait_pending: needs name (text) and since (seconds 0 or more), as the previous slice returned it; got %r" % (value,)
    return None


def wait_seconds(value):
    """`value` (checked by wait_seconds_problem) as wait name -> float seconds."""
    return {str(name): float(seconds) for name, seconds in (value or {}).items()}


def first_then(first, look):
    """`look`, except that its first call returns `first` (what the caller described or started a moment ago) when it
    is not None: a wait's first look then costs no API call."""
    in_hand = [] if first is None else [first]
    return lambda: in_hand.pop() if in_hand else look()


def expected_interval(elapsed, expected_end, min_interval=DEFAULT_MIN_INTERVAL, max_interval=DEFAULT_MAX_INTERVAL):
    """The pause before the next poll of a wait expected to end `expected_end` seconds in, `elapsed` seconds in; None
    once the close polls around that end are over (the wait took longer than expected: the growing interval takes over).

    Before the close polls: the longest interval, cut so the first close poll lands when they begin. The longest
    interval still bounds how late a wait that ends early is noticed.
    """
    precision = min(max_interval, max(min_interval, expected_end * EXPECTED_PRECISION_FRACTION))
    lead = max(precision, expected_end * EXPECTED_LEAD_FRACTION)
    close_from, close_until = expected_end - lead, expected_end + lead
    if elapsed >= close_until:
        return None
    if elapsed < close_from:
        return max(min_interval, min(max_interval, close_from - elapsed))
    return precision


class ProgressRate:
    """Predicts the end of a wait from its percentages, measured from when the percentage first moved.

    Measuring from the first move leaves out a copy's time queued at 0 %, which would make the rate look slow.
    No prediction before the percentage has moved twice, nor at 100 % (the status may still lag behind).
    """

    def __init__(self):
        self.anchor = None  # (elapsed, percent) when the percentage first moved in this wait
        self.first = None

    def remaining(self, elapsed, percent):
        if percent is None:
            return None
        if self.first is None:
            self.first = percent
            return None
        if self.anchor is None:
            if percent > self.first:
                self.anchor = (elapsed, percent)
            return None
        anchor_elapsed, anchor_percent = self.anchor
        if percent >= 100 or percent <= anchor_percent or elapsed <= anchor_elapsed:
            return None
        rate = (percent - anchor_percent) / (elapsed - anchor_elapsed)
        return (100 - percent) / rate


def wait_until(observe, what, timeout, min_interval=DEFAULT_MIN_INTERVAL, max_interval=DEFAULT_MAX_INTERVAL,
               elapsed_fraction=DEFAULT_ELAPSED_FRACTION, on_progress=None, clock=time.monotonic, sleep=time.sleep,
               rand=random.random, already_spent=0.0, waited_before=0.0, expected_remaining=None, look_at_timeout=True):
    """Call `observe()` until it reports done, fails, or `timeout` seconds pass.

    `already_spent` is what the caller's overall budget lost before this wait (earlier waits, API calls):
    the timeout message reports the whole budget, which is what the user configured.
    `waited_before` is how long this same wait ran in earlier calls (slices): the interval grows from there.
    `expected_remaining`: in how many seconds the wait is expected to end (the same wait took that long last time);
    the polls gather around that moment (expected_interval).
    `look_at_timeout`: look once more when the timeout comes between two polls. Without it (a slice whose next slice
    looks first thing), the wait sleeps until the timeout and raises WaitTimeout with the last look's status.

    `observe` returns an Observation. `on_progress(report)` is called whenever the status or percent
    changes (to log or heartbeat). Returns a report dict: waited_seconds, polls, status, percent_progress,
    progress (status changes with elapsed seconds), resource (the last Observation's resource).
    """
    started = clock()
    trail = []
    polls = 0
    last = None
    rate = ProgressRate()
    expected_end = None if expected_remaining is None else waited_before + max(0.0, expected_remaining)
    while True:
        observation = observe()
        polls += 1
        elapsed = clock() - started
        if last is None or (observation.status, observation.percent) != (last.status, last.percent):
            trail.append({"elapsed_seconds": round(elapsed, 1), "status": observation.status, "percent_progress": observation.percent})
            del trail[:-PROGRESS_TRAIL_LIMIT]
            if on_progress:
                on_progress(_report(elapsed, polls, observation, trail))
        last = observation
        if observation.failed:
            if observation.reason:
                raise WaitFailed("waiting for %s: %s" % (what, observation.reason), observation.status)
            raise WaitFailed("%s reached status %r, which cannot become the one waited for" % (what, observation.status), observation.status)
        if observation.done:
            return _report(elapsed, polls, observation, trail)
        remaining = timeout - elapsed
        if remaining > 0:
            interval = next_interval(elapsed + waited_before, min_interval, max_interval, elapsed_fraction, rand=rand,
                                     predicted_remaining=rate.remaining(elapsed, observation.percent), expected_end=expected_end)
            sleep(min(remaining, interval))
            if look_at_timeout or interval < remaining:
                continue
            elapsed = clock() - started
        percent = "" if observation.percent is None else ", %s%% done" % observation.percent
        raise WaitTimeout(
            "timed out after %ds waiting for %s (last status %r%s)" % (int(round(elapsed + already_spent)), what, observation.status, percent),
            observation.status,
            _report(elapsed, polls, observation, trail),
        )


def _report(elapsed, polls, observation, trail):
    return {
        "waited_seconds": round(elapsed, 1),
        "polls": polls,
        "status": observation.status,
        "percent_progress": observation.percent,
        "progress": list(trail),
        "resource": observation.resource,
    }


# --- waits in slices: one call waits at most a slice, the whole wait ends at an absolute deadline --------------
def slice_budget(wait_timeout, wait_deadline=None, now=time.time):
    """Seconds this call may wait: its wait_timeout (as given, so messages quote it), cut to the whole seconds left
    before wait_deadline (epoch seconds)."""
    if wait_deadline is None:
        return wait_timeout
    left = float(wait_deadline) - now()
    return wait_timeout if left >= wait_timeout else max(0, int(left))


def slice_ended_early(wait_deadline=None, now=time.time, margin=1.0):
    """True when a wait that timed out was only a slice: the whole wait's deadline is still ahead (by `margin`), so
    the caller returns its progress (timed_out) instead of failing, and the next slice carries on."""
    return wait_deadline is not None and float(wait_deadline) - now() > margin


class WaitBudget:
    """Every wait of one module run, on one clock.

    The run may wait `wait_timeout` seconds in all, cut to the whole seconds left before `wait_deadline` (epoch
    seconds) when the run is one slice of a longer wait. `wait_started` (epoch seconds) is when that longer wait
    began: the run's first wait continues it, so its intervals start from there, not from the shortest.
    `waited_before` is the deprecated way to say the same (seconds).
    offset() is how far into that longer wait (or into this run, without one) the run is, the same clock from one
    slice to the next: a wait that began in an earlier slice is timed from there (`began`).
    timed_wait() names a wait (wait_key) and keeps its duration in `durations`, which the next refresh passes as
    `expected_wait_seconds` to poll around the moment it ended; a wait the run's slice ends in is `pending` (its name,
    and its beginning in offset()), which the next slice passes as `wait_pending` to time it from that beginning.
    """

    def __init__(self, wait_timeout, wait_deadline=None, wait_started=None, waited_before=0.0, clock=time.monotonic,
                 now=time.time, expected_wait_seconds=None, wait_pending=None):
        self.clock = clock
        self.now = now
        self.wait_timeout = wait_timeout
        self.wait_deadline = wait_deadline
        self.seconds = slice_budget(wait_timeout, wait_deadline, now)
        # The run is a slice that ends before the whole wait's deadline: the next slice looks first thing, so a wait
        # that reaches the slice's end between two polls does not look once more.
        self.next_slice_looks = wait_deadline is not None and float(wait_deadline) - now() > wait_timeout + 1.0
        self.started = clock()
        if wait_started is not None:
            waited_before = max(0.0, now() - float(wait_started))
        self.waited_before = float(waited_before or 0.0)
        self.offset_at_start = self.waited_before
        self.timed_out = False  # a wait ran out of time (the run's, or only the caller's slice of it)
        self.expected_wait_seconds = dict(expected_wait_seconds or {})
        self.resumed = dict(wait_pending) if wait_pending else None
        self.durations = {}
        self.pending = None

    def spent(self):
        return self.clock() - self.started

    def remaining(self):
        return max(0.0, self.seconds - self.spent())

    def offset(self):
        return self.offset_at_start + self.spent()

    def ended_early(self):
        """The run timed out, and only its slice ended: the whole wait's deadline is still ahead."""
        return self.timed_out and slice_ended_early(self.wait_deadline, self.now)

    def wait(self, observe, what, min_interval=DEFAULT_MIN_INTERVAL, max_interval=DEFAULT_MAX_INTERVAL, on_progress=None,
             sleep=time.sleep, report_spent=True, continues=True, expected_seconds=None, began=None):
        """wait_until with what is left of the budget. `report_spent`: a timeout message counts the whole run's
        seconds (what the user configured), not this wait's alone. `continues`: this wait is the one an earlier
        slice was waiting on (the first such wait of the run takes over its elapsed time). `expected_seconds`: how
        long the same wait took last time, from `began` (the offset() at which it began, now by default); ignored once
        passed."""
        waited_before = 0.0
        if continues:
            waited_before, self.waited_before = self.waited_before, 0.0
        expected_remaining = None
        if expected_seconds is not None:
            expected_end = (self.offset() if began is None else float(began)) + float(expected_seconds)
            if expected_end > self.offset():
                expected_remaining = expected_end - self.offset()
        try:
            return wait_until(observe, what, self.remaining(), min_interval=min_interval, max_interval=max_interval,
                              on_progress=on_progress, clock=self.clock, sleep=sleep,
                              already_spent=self.spent() if report_spent else 0.0, waited_before=waited_before,
                              expected_remaining=expected_remaining, look_at_timeout=not self.next_slice_looks)
        except WaitTimeout:
            self.timed_out = True
            raise

    def timed_wait(self, key, observe, what, **options):
        """wait() for the wait named `key`, from its real beginning (the resumed wait_pending of that name, else now),
        expecting it to take what it took last time; its duration is kept in `durations` (the first, when one run waits
        twice for the same thing), and it stays `pending` when it raises."""
        began = self.offset()
        if self.resumed and self.resumed.get("name") == key:
            began, self.resumed = float(self.resumed.get("since", began)), None
        self.pending = {"name": key, "since": round(began, 1)}
        expected = None if key in self.durations else self.expected_wait_seconds.get(key)
        expected = None if expected is None else float(expected)
        report = self.wait(observe, what, expected_seconds=expected, began=began, **options)
        self.pending = None
        self.durations.setdefault(key, round(self.offset() - began, 1))
        return report
