"""Time for moto's instant resources: statuses that pass through AWS's names over configured durations.

A resource (a moto model object) gets a queue of Steps.  The head step's status is the resource's status
until its duration has elapsed *and* its `wait_for` condition holds; then its `on_done` runs and the next step
starts at the moment the previous one finished (so lazy evaluation gives the same answer as a real clock).
When the queue empties the resource takes `final_status` (or disappears, if `on_done` removed it).

`tick()` is called before every request and by a background thread, under the server's global lock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger("localaws.clock")


@dataclass
class Step:
    status: str
    duration: float
    on_done: Callable[[], None] | None = None
    final_status: str | None = "available"
    wait_for: Callable[[], bool] | None = None
    progress: bool = False  # maintain PercentProgress (snapshots)
    started: float | None = None


@dataclass
class _Track:
    obj: Any
    steps: list[Step] = field(default_factory=list)


class Clock:
    def __init__(self, now: Callable[[], float] = time.monotonic):
        self.now = now
        self._tracks: dict[int, _Track] = {}

    def schedule(self, obj: Any, step: Step) -> None:
        """Queue a step for obj; if it is the only one, it starts now and sets obj.status immediately."""
        track = self._tracks.setdefault(id(obj), _Track(obj))
        track.steps.append(step)
        if len(track.steps) == 1:
            self._begin(track, self.now())

    def busy(self, obj: Any) -> bool:
        track = self._tracks.get(id(obj))
        return bool(track and track.steps)

    def pending_statuses(self, obj: Any) -> list[str]:
        track = self._tracks.get(id(obj))
        return [step.status for step in track.steps] if track else []

    def forget(self, obj: Any) -> None:
        self._tracks.pop(id(obj), None)

    def clear(self) -> None:
        self._tracks.clear()

    def _begin(self, track: _Track, at: float) -> None:
        step = track.steps[0]
        step.started = at
        track.obj.status = step.status
        if step.progress:
            track.obj.percent_progress = 0

    def tick(self) -> None:
        now = self.now()
        for key, track in list(self._tracks.items()):
            while track.steps:
                step = track.steps[0]
                ends = step.started + step.duration
                if now < ends or (step.wait_for is not None and not step.wait_for()):
                    if step.progress and step.duration > 0:
                        # AWS reports progress in whole percent and never 100 before `available`.
                        done = (now - step.started) / step.duration
                        track.obj.percent_progress = max(0, min(99, int(done * 100)))
                    break
                track.steps.pop(0)
                if step.progress:
                    track.obj.percent_progress = 100
                if step.final_status is not None:
                    track.obj.status = step.final_status
                if step.on_done is not None:
                    try:
                        step.on_done()
                    except Exception:  # noqa: BLE001 - one broken resource must not stop time for the others
                        log.exception("completing %s of %r failed", step.status, track.obj)
                        track.obj.status = "failed"
                        track.steps.clear()
                if track.steps:
                    self._begin(track, max(ends, now) if step.wait_for else ends)
            if not track.steps:
                self._tracks.pop(key, None)
