"""What both run controllers share (the basic models' :class:`~app.controller.SimulationController`
and path integration's :class:`~app.navigation.controller.NavigationController`).

* :class:`RunLoop` — one worker thread at a time iterating a generator over the simulation, with run /
  pause (optionally waiting until the worker is gone) / resume-when-stopped, and the run state.
* :class:`WorkerGC` and :class:`SwitchInterval` — the process-wide settings every run needs while its
  worker is alive: no garbage collection in worker threads, a short thread switch interval.
"""

from __future__ import annotations

import enum
import gc
import logging
import sys
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Signal

from .workers import create_worker

log = logging.getLogger(__name__)

RUN_SWITCH_INTERVAL = 0.0002
"""Python's thread switch interval while a run is on (the default is 5 ms). The worker needs the GIL
only briefly between compiled chunks, but it must wait for the GUI thread (which holds it while it draws)
to give it up: up to a switch interval each time, a couple of times per chunk. A CANN1D-512 chunk of the
app's size next to a thread running Python (``bench_app``'s contention probe, alternating): +3.3–4.3 ms at
1 ms, +1.1 ms at 0.2 ms, against 5–9 ms alone. The GUI thread is asked for the GIL only that often, so a
short interval costs it nothing measurable."""


class RunState(enum.Enum):
    """Whether a worker is running the simulation."""

    IDLE = "idle"
    RUNNING = "running"
    STOPPING = "stopping"


class SwitchInterval:
    """Lower Python's thread switch interval to :data:`RUN_SWITCH_INTERVAL` while any run is on."""

    holders = 0
    saved = 0.005

    @classmethod
    def hold(cls) -> None:
        if cls.holders == 0:
            cls.saved = sys.getswitchinterval()
            sys.setswitchinterval(min(cls.saved, RUN_SWITCH_INTERVAL))
        cls.holders += 1

    @classmethod
    def release(cls) -> None:
        cls.holders = max(0, cls.holders - 1)
        if cls.holders == 0:
            sys.setswitchinterval(cls.saved)


class WorkerGC:
    """Keep Python's cyclic garbage collector out of worker threads while they run.

    A collection runs in whichever thread happens to allocate; in a worker it may destroy Qt objects
    (old views, closed windows) there, and Qt crashes later on their timers (seen in the test suite).
    While any worker of the app runs, automatic collection is off and :meth:`collect` (called from the
    GUI thread's timers) does it instead, with the interpreter's own thresholds. :meth:`freeze` (after
    start-up) moves the ~200,000 long-lived objects of Qt, numba and the engine out of the collector's
    way: a full collection then takes well under a millisecond instead of ~150 ms (an event-loop stall).
    """

    holders = 0
    was_enabled = True

    @classmethod
    def hold(cls) -> None:
        if cls.holders == 0:
            cls.was_enabled = gc.isenabled()
            gc.disable()
        cls.holders += 1

    @classmethod
    def release(cls) -> None:
        cls.holders = max(0, cls.holders - 1)
        if cls.holders == 0 and cls.was_enabled:
            gc.enable()

    @staticmethod
    def freeze() -> None:
        """Exempt everything alive now from future collections (call once start-up is done)."""
        gc.freeze()

    @staticmethod
    def collect() -> None:
        """What automatic collection would have done by now (GUI thread)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return


class RunLoop(QObject):
    """One run at a time: a worker thread iterates ``generator(*args)`` and this object, in the GUI
    thread, hears of each item it yields (:meth:`_on_worker_yielded`), of its return value or error, and
    of its end.

    Subclasses implement :meth:`start` (calling :meth:`_start_worker`), the ``_on_worker_*`` hooks and
    :meth:`_after_run` (what to do once the worker is gone: draw the last frame, apply queued edits).
    """

    run_state_changed = Signal(object)  # RunState

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = None
        self._start_when_ready = False  # run again as soon as the current worker has stopped
        self._state = RunState.IDLE

    @property
    def state(self) -> RunState:
        return self._state

    @property
    def is_running(self) -> bool:
        return self._state is RunState.RUNNING

    def start(self) -> Any:
        raise NotImplementedError

    def _start_worker(self, generator: Callable[..., Generator], *args: Any) -> None:
        """Start a worker on ``generator(*args)`` (the caller checked that none is running)."""
        self._worker = create_worker(
            generator, *args, _start_thread=False,
            _connect={"yielded": self._on_worker_yielded, "errored": self._on_worker_errored,
                      "returned": self._on_worker_returned, "finished": self._on_worker_finished})
        WorkerGC.hold()
        SwitchInterval.hold()
        self._worker.start()
        self._set_state(RunState.RUNNING)

    def stop(self, wait: bool = False, timeout: float = 2.0) -> None:
        """Pause: ask the worker to quit after its current chunk (and, with ``wait``, until it has)."""
        self._start_when_ready = False
        if self._worker is None:
            return
        self._worker.quit()
        if self._state is RunState.RUNNING:
            self._set_state(RunState.STOPPING)
        if wait:
            # The worker's own event (see Worker.wait). An event shared by all workers, or one owned here
            # and connected to ``finished``, went wrong twice: the previous worker's thread, marking it
            # late, ended this wait with the next worker still running; and once the loop had dropped
            # such an event, the thread's late call into it crashed the interpreter.
            if not self._worker.wait(timeout):
                log.warning("the %s worker did not stop within %.1f s", type(self).__name__, timeout)
            QCoreApplication.sendPostedEvents(self)  # deliver its last items and 'finished' now

    def toggle_running(self) -> None:
        """Space: run when paused, pause when running."""
        if self._state is RunState.RUNNING or self._start_when_ready:
            self.stop()
        else:
            self.start()

    def _on_worker_yielded(self, item: Any) -> None:
        raise NotImplementedError

    def _on_worker_errored(self, exc: Exception) -> None:
        raise NotImplementedError

    def _on_worker_returned(self, value: Any) -> None:
        """The generator's return value (it ended by itself); ignored unless overridden."""

    def _on_worker_finished(self) -> None:
        # A new worker only starts once this one is gone, so this always refers to the current one.
        self._worker = None
        WorkerGC.release()
        SwitchInterval.release()
        self._set_state(RunState.IDLE)
        self._after_run()
        if self._start_when_ready:
            self._start_when_ready = False
            self.start()

    def _after_run(self) -> None:
        """The worker is gone (GUI thread): the subclass's clean-up."""

    def _set_state(self, state: RunState) -> None:
        if state is not self._state:
            self._state = state
            self.run_state_changed.emit(state)
