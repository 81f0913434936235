import pytest

from ansible_collections.dbops.aurora_restore.plugins.module_utils import waiting
from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import Observation


class FakeTime:
    """A clock that only moves when the loop sleeps, so waits of hours run instantly."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def copying_until(fake, done_at, percent_every=None):
    def observe():
        if fake.now >= done_at:
            return Observation("available", done=True, percent=100, resource={"id": "snap"})
        percent = int(100 * fake.now / done_at) // 10 * 10
        return Observation("copying", percent=percent)
    return observe


def test_waits_until_done_and_reports_progress():
    fake = FakeTime()
    seen = []
    report = waiting.wait_until(copying_until(fake, 600), "snapshot s", timeout=3600, clock=fake.clock, sleep=fake.sleep,
                                on_progress=seen.append, rand=lambda: 0.5)
    assert report["status"] == "available" and report["percent_progress"] == 100
    assert report["resource"] == {"id": "snap"}
    assert [step["status"] for step in report["progress"]][-1] == "available"
    assert [step["percent_progress"] for step in report["progress"][:-1]] == sorted(step["percent_progress"] for step in report["progress"][:-1])
    assert len(seen) == len(report["progress"])
    # Noticed within the interval cap of the real finish.
    assert 600 <= report["waited_seconds"] <= 600 + waiting.DEFAULT_MAX_INTERVAL


def test_interval_grows_with_elapsed_time_within_bounds():
    assert waiting.next_interval(0, rand=lambda: 0.5) == waiting.DEFAULT_MIN_INTERVAL
    assert waiting.next_interval(200, rand=lambda: 0.5) == pytest.approx(10.0)
    assert waiting.next_interval(10 ** 6, rand=lambda: 0.5) == waiting.DEFAULT_MAX_INTERVAL
    jittered = {round(waiting.next_interval(200, rand=lambda value=value: value), 2) for value in (0.0, 1.0)}
    assert jittered == {8.0, 12.0}


def test_long_waits_cost_few_polls():
    fake = FakeTime()
    report = waiting.wait_until(copying_until(fake, 4 * 3600), "snapshot s", timeout=6 * 3600, clock=fake.clock, sleep=fake.sleep)
    polls_per_minute = report["polls"] / (report["waited_seconds"] / 60)
    assert polls_per_minute < 2.5, "a 4 h copy costs about two describe calls a minute, got %.2f" % polls_per_minute


def test_timeout_names_the_resource_and_its_last_status():
    fake = FakeTime()
    with pytest.raises(waiting.WaitTimeout) as raised:
        waiting.wait_until(copying_until(fake, 10 ** 6), "snapshot 'dbops-copy'", timeout=120, clock=fake.clock, sleep=fake.sleep)
    assert str(raised.value).startswith("timed out after 120s waiting for snapshot 'dbops-copy' (last status 'copying', 0% done)")
    assert raised.value.last_status == "copying"
    assert fake.now == 120, "the last sleep is cut to the deadline"


def test_a_terminal_failure_status_ends_the_wait():
    with pytest.raises(waiting.WaitFailed, match="cluster 'x' reached status 'incompatible-restore'"):
        waiting.wait_until(lambda: Observation("incompatible-restore", failed=True), "cluster 'x'", timeout=60,
                           clock=FakeTime().clock, sleep=FakeTime().sleep)


def test_already_done_needs_one_poll_and_no_sleep():
    fake = FakeTime()
    report = waiting.wait_until(lambda: Observation("available", done=True), "x", timeout=10, clock=fake.clock, sleep=fake.sleep)
    assert report["polls"] == 1 and fake.sleeps == []


def linear_copy(fake, queued_until, done_at):
    """A copy at 0 % while queued, then rising linearly in whole percents, available at `done_at`."""
    def observe():
        if fake.now >= done_at:
            return Observation("available", done=True, percent=100)
        if fake.now < queued_until:
            return Observation("copying", percent=0)
        return Observation("copying", percent=int(100 * (fake.now - queued_until) / (done_at - queued_until)))
    return observe


@pytest.mark.parametrize("queued_until,done_at", [(0, 1200), (600, 1800), (0, 20)])
def test_a_moving_percentage_predicts_the_end(queued_until, done_at):
    predicted, plain = FakeTime(), FakeTime()
    report = waiting.wait_until(linear_copy(predicted, queued_until, done_at), "snapshot s", timeout=7200,
                                clock=predicted.clock, sleep=predicted.sleep, rand=lambda: 0.5)

    def without_percent(fake):
        inner = linear_copy(fake, queued_until, done_at)
        return lambda: Observation(inner().status, done=inner().done)
    baseline = waiting.wait_until(without_percent(plain), "snapshot s", timeout=7200, clock=plain.clock, sleep=plain.sleep,
                                  rand=lambda: 0.5)
    late = report["waited_seconds"] - done_at
    assert 0 <= late <= max(waiting.DEFAULT_MIN_INTERVAL, 0.02 * done_at), "noticed %.1f s late" % late
    assert late < baseline["waited_seconds"] - done_at or late <= waiting.DEFAULT_MIN_INTERVAL
    assert report["polls"] <= baseline["polls"]


def test_no_prediction_until_the_percentage_moves_nor_at_100():
    rate = waiting.ProgressRate()
    assert rate.remaining(0, 0) is None       # first sight
    assert rate.remaining(60, 0) is None      # queued, not moving
    assert rate.remaining(70, 10) is None     # first move: the anchor
    assert rate.remaining(80, 20) == pytest.approx(80.0)
    assert rate.remaining(160, 100) is None   # 100 % but maybe not available yet
    assert waiting.ProgressRate().remaining(5, None) is None


def test_a_predicted_end_is_kept_within_the_interval_bounds():
    assert waiting.next_interval(0, predicted_remaining=0.2) == waiting.DEFAULT_MIN_INTERVAL
    assert waiting.next_interval(0, predicted_remaining=7.5) == 7.5
    assert waiting.next_interval(0, predicted_remaining=900) == waiting.DEFAULT_MAX_INTERVAL


def test_a_later_slice_goes_on_at_the_interval_reached():
    fresh, resumed = FakeTime(), FakeTime()
    for fake, waited_before in ((fresh, 0.0), (resumed, 1200.0)):
        with pytest.raises(waiting.WaitTimeout):
            waiting.wait_until(copying_until(fake, 10 ** 6), "s", timeout=60, clock=fake.clock, sleep=fake.sleep, rand=lambda: 0.5,
                               waited_before=waited_before)
    assert fresh.sleeps[0] == waiting.DEFAULT_MIN_INTERVAL and resumed.sleeps[0] == waiting.DEFAULT_MAX_INTERVAL
    assert len(resumed.sleeps) < len(fresh.sleeps) / 4


def test_a_slice_waits_at_most_until_the_deadline_and_ends_early_only_before_it():
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.waiting import slice_budget, slice_ended_early

    assert slice_budget(60, None, now=lambda: 1000.0) == 60.0
    assert slice_budget(60, 1030.0, now=lambda: 1000.0) == 30.0
    assert slice_budget(60, 900.0, now=lambda: 1000.0) == 0.0
    assert slice_ended_early(1100.0, now=lambda: 1000.0) is True
    assert slice_ended_early(1000.5, now=lambda: 1000.0) is False  # within the margin: the whole wait is over
    assert slice_ended_early(None) is False  # a call without a deadline is the whole wait


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_budget_is_cut_to_the_deadline_and_its_first_wait_continues_the_slices():
    clock = FakeClock()
    wall = 1000.0
    budget = waiting.WaitBudget(60, wait_deadline=wall + 20.5, wait_started=wall - 600, clock=clock, now=lambda: wall)
    assert budget.seconds == 20 and budget.waited_before == 600
    seen = []

    def observe():
        seen.append(clock.now)
        return waiting.Observation("copying")

    with pytest.raises(waiting.WaitTimeout):
        budget.wait(observe, "copy", max_interval=30, sleep=clock.sleep)
    # Ten minutes into the wait, the interval is 5 % of it (30 s, cut to what is left), not the shortest (2 s).
    assert seen[:2] == [0.0, 20.0] and budget.timed_out and budget.ended_early()
    assert budget.waited_before == 0.0  # a later wait of the run starts its own intervals


def test_a_slice_before_the_deadline_does_not_look_again_at_its_end_the_next_slice_looks_first():
    wall = 1000.0
    seen = {}
    for name, deadline in (("a slice", wall + 600), ("the last slice", wall + 60.5)):
        clock = FakeClock()
        seen[name] = []

        def observe(clock=clock, looks=seen[name]):
            looks.append(clock.now)
            return waiting.Observation("copying", percent=10)

        budget = waiting.WaitBudget(60, wait_deadline=deadline, wait_started=wall - 1200, clock=clock, now=lambda: wall)
        with pytest.raises(waiting.WaitTimeout, match="last status 'copying', 10% done") as raised:
            budget.wait(observe, "copy", max_interval=25, sleep=clock.sleep)
        assert clock.now == 60 and raised.value.progress["waited_seconds"] == 60
    # Polls about 25 s apart (jittered): a slice sleeps to its end (the next slice's plan describes the copy first
    # thing); the last slice of the wait looks once more at the deadline.
    assert len(seen["a slice"]) == 3 and seen["a slice"][-1] < 60
    assert len(seen["the last slice"]) == 4 and seen["the last slice"][-1] == 60


def test_wait_budget_without_a_deadline_is_the_wait_timeout_on_one_clock():
    clock = FakeClock()
    budget = waiting.WaitBudget(30, clock=clock)
    clock.now = 12.0
    assert budget.seconds == 30 and budget.spent() == 12.0 and budget.remaining() == 18.0
    assert not budget.ended_early()


def creating_until(fake, done_at):
    """A resource that reports no percentage (a cluster being restored), done at `done_at`."""
    def observe():
        if fake.now >= done_at:
            return Observation("available", done=True)
        return Observation("creating")
    return observe


@pytest.mark.parametrize("expected, actual", [(100, 100), (210, 210), (1800, 1800), (100, 103), (100, 97)])
def test_a_wait_expected_from_last_time_is_noticed_within_2_percent_with_few_polls(expected, actual):
    fake, cold = FakeTime(), FakeTime()
    report = waiting.wait_until(creating_until(fake, actual), "cluster c", timeout=7200, clock=fake.clock, sleep=fake.sleep,
                                rand=lambda: 0.5, expected_remaining=expected)
    baseline = waiting.wait_until(creating_until(cold, actual), "cluster c", timeout=7200, clock=cold.clock, sleep=cold.sleep,
                                  rand=lambda: 0.5)
    late = report["waited_seconds"] - actual
    assert 0 <= late <= max(2.0, 0.02 * actual) + 0.01, "noticed %.1f s late" % late
    assert report["polls"] / (actual / 60) <= 6, "%d polls in %d s" % (report["polls"], actual)
    # Short waits cost a fraction of the polls; long ones the longest pause's (both: fewer than half to two thirds).
    assert report["polls"] < baseline["polls"] * 0.6


def test_a_wait_that_ends_sooner_than_expected_is_noticed_within_the_longest_interval():
    fake = FakeTime()
    report = waiting.wait_until(creating_until(fake, 100), "cluster c", timeout=7200, clock=fake.clock, sleep=fake.sleep,
                                rand=lambda: 0.5, expected_remaining=1000, max_interval=30)
    assert 100 <= report["waited_seconds"] <= 130


def test_a_wait_that_runs_longer_than_expected_goes_back_to_the_growing_interval():
    fake = FakeTime()
    report = waiting.wait_until(creating_until(fake, 1000), "cluster c", timeout=7200, clock=fake.clock, sleep=fake.sleep,
                                rand=lambda: 0.5, expected_remaining=100, max_interval=30)
    assert 1000 <= report["waited_seconds"] <= 1000 + 0.05 * 1000 * 1.2 + 0.01
    # After the close polls around 100 s, the pauses are 5 % of the time waited again, not 2 s.
    late_sleeps = [pause for pause in fake.sleeps if pause > 0][-5:]
    assert min(late_sleeps) > 20


def test_the_expected_schedule_is_clamped_and_ends_after_the_close_polls():
    assert waiting.expected_interval(0, 100) == waiting.DEFAULT_MAX_INTERVAL  # far from the end: the longest pause
    assert waiting.expected_interval(80, 100) == 15  # cut so the first close poll lands 5 s before the end
    assert waiting.expected_interval(96, 100) == waiting.DEFAULT_MIN_INTERVAL  # 2 % of 100 s is below the shortest
    assert waiting.expected_interval(1000, 2000) == 30  # 2 % of 2000 s is 40 s, within the longest pause
    assert waiting.expected_interval(105, 100) is None  # past the close polls: the growing interval again
    # A percentage's prediction wins over last time's end.
    assert waiting.next_interval(0, predicted_remaining=7.5, expected_end=100) == 7.5


def test_a_wait_budget_times_an_expected_wait_from_when_it_began_in_an_earlier_slice():
    clock = FakeClock()
    wall = 1000.0
    # The third slice of a wait that began 120 s ago; the cluster wait in it began 100 s in, and took 50 s last time.
    budget = waiting.WaitBudget(60, wait_deadline=wall + 3600, wait_started=wall - 120, clock=clock, now=lambda: wall)
    done_at = 151.0

    def observe():
        return waiting.Observation("available", done=True) if 120 + clock.now >= done_at else waiting.Observation("creating")

    report = budget.wait(observe, "cluster c", sleep=clock.sleep, expected_seconds=50, began=100)
    assert budget.offset() == pytest.approx(120 + report["waited_seconds"])
    assert 151 <= budget.offset() <= 151 + 2.01 and report["polls"] <= 8
    # An expected end already passed is ignored: the growing interval applies.
    assert budget.wait(lambda: waiting.Observation("available", done=True), "again", expected_seconds=10, began=0)["polls"] == 1


def test_a_timed_wait_goes_on_from_the_pending_wait_of_its_name_and_keeps_its_duration():
    clock = FakeClock()
    wall = 1000.0
    # The second slice of a wait that began 60 s ago; the previous slice ended in the restore wait, begun 40 s in.
    budget = waiting.WaitBudget(60, wait_deadline=wall + 3600, wait_started=wall - 60, clock=clock, now=lambda: wall,
                                expected_wait_seconds={"restore": "70", "other": 5}, wait_pending={"name": "restore", "since": 40})

    def available_at(offset):
        return lambda: waiting.Observation("available", done=True) if 60 + clock.now >= offset else waiting.Observation("creating")

    report = budget.timed_wait("restore", available_at(111), "cluster c", sleep=clock.sleep)
    # Expected to end at 40 + 70 = 110 s: polled closely there, so noticed within 2 s of 111 s, with few polls.
    assert 111 <= budget.offset() <= 113 and report["polls"] <= 8
    assert budget.durations == {"restore": pytest.approx(budget.offset() - 40, abs=0.1)} and budget.pending is None
    # The resumed wait is used once: the same name again is a new wait, begun now, with no expectation left.
    budget.timed_wait("restore", lambda: waiting.Observation("available", done=True), "cluster c", sleep=clock.sleep)
    assert list(budget.durations) == ["restore"] and budget.durations["restore"] > 70
    # A wait the slice ends in stays pending, from when it began.
    began = round(budget.offset(), 1)
    with pytest.raises(waiting.WaitTimeout):
        budget.timed_wait("other", lambda: waiting.Observation("creating"), "cluster d", sleep=clock.sleep)
    assert budget.pending == {"name": "other", "since": began} and "other" not in budget.durations


@pytest.mark.parametrize("value, problem", [
    ({"a": 12.5, "b": 0}, None),
    (None, None),
    ({"a": "soon"}, "expected_wait_seconds: 'soon' is not a number of seconds 0 or more (wait 'a')"),
    ({"a": -1}, "expected_wait_seconds: -1 is not a number of seconds 0 or more (wait 'a')"),
    ({"a": True}, "expected_wait_seconds: True is not a number of seconds 0 or more (wait 'a')"),
    ({"a": float("nan")}, "expected_wait_seconds: nan is not a number of seconds 0 or more (wait 'a')"),
])
def test_expected_wait_seconds_are_numbers_of_seconds(value, problem):
    assert waiting.wait_seconds_problem(value) == problem
    if problem is None:
        assert all(isinstance(seconds, float) for seconds in waiting.wait_seconds(value).values())


@pytest.mark.parametrize("value, good", [
    (None, True), ({"name": "snapshot copy", "since": 12.5}, True), ({"name": "snapshot copy"}, False),
    ({"since": 3}, False), ({"name": "x", "since": "later"}, False), ({"name": "x", "since": -2}, False),
])
def test_a_pending_wait_has_a_name_and_when_it_began(value, good):
    problem = waiting.wait_pending_problem(value)
    assert (problem is None) == good
    if not good:
        assert problem.startswith("wait_pending: needs name (text) and since (seconds 0 or more)")


def test_a_restore_wait_has_the_same_name_from_one_refresh_to_the_next():
    from ansible_collections.dbops.aurora_restore.plugins.module_utils.restore_runner import wait_key

    tonight = wait_key({"phase": "restore", "action": "wait_cluster_available"}, "cluster 'dev-app-restoring' to become available")
    assert tonight == "restore: cluster _ to become available"
    # Another night's temporary cluster, in another slice (where the plan goes on with the wait step itself).
    assert wait_key({"phase": "restore", "action": "restore_cluster"}, "cluster 'dev-app-restoring-2' to become available") == tonight
    assert wait_key({"phase": "instances", "action": "wait_instances_available"}, "the instances of cluster 'x' to become available") != tonight
    assert wait_key(None, "cluster 'x' to start") == "run: cluster _ to start"
