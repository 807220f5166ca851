"""RunLoop, the one-worker-at-a-time loop under the simulation and navigation controllers: a worker's
thread must never call into anything the GUI thread may already have let go of."""

from __future__ import annotations

import gc

from app.run_loop import RunLoop, RunState
from app.workers import Worker


class CountingLoop(RunLoop):
    """Runs a three-item generator, over and over (each run restarts from the last one's ``finished``)."""

    def __init__(self, runs: int) -> None:
        super().__init__()
        self.runs_left = runs
        self.items = 0
        self.errors: list[Exception] = []

    def start(self) -> bool:
        self.runs_left -= 1
        self._start_worker(_three_items)
        return True

    def _on_worker_yielded(self, item: int) -> None:
        self.items += 1

    def _on_worker_errored(self, exc: Exception) -> None:
        self.errors.append(exc)

    def _after_run(self) -> None:
        if self.runs_left > 0:
            self._start_when_ready = True
        if self.runs_left % 100 == 0:
            gc.collect()


def _three_items():
    yield from range(3)


def test_a_thousand_runs_back_to_back_end_cleanly(qtbot):
    """Each run ends by itself and the next starts from its ``finished``, while the finished worker's
    thread may still be on its last lines. When the loop owned the event its ``stop`` waited on, and
    connected it directly to ``finished``, the thread's late call into an event the loop had replaced
    crashed the interpreter (this test, 4 tries out of 4; CI once)."""
    loop = CountingLoop(runs=1000)
    loop.start()
    qtbot.waitUntil(lambda: loop.runs_left == 0 and loop.state is RunState.IDLE, timeout=60_000)
    assert loop.items == 3 * 1000 and not loop.errors
    loop.stop(wait=True)
    assert not [w for w in Worker.running if w is loop._worker]
