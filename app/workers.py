"""Background work on Qt's global thread pool: :func:`create_worker` runs a function (or iterates a
generator) in a pool thread and reports through Qt signals, which arrive in the GUI thread.

The subset of superqt's ``create_worker`` that the app uses, with the same call shape, in one small
module: importing superqt pulled in qtpy, whose star imports of QtCore/QtGui/QtWidgets made every class of
those modules load — 0.3–0.45 s before the first window could be shown.

Signals of a :class:`Worker`: ``started``; ``yielded(value)`` for each value a generator yields;
``returned(value)`` when the function returns (not after :meth:`Worker.quit`); ``errored(exception)``;
``finished`` always, last. A generator is asked to stop with :meth:`Worker.quit`, honoured at its next
``yield``; a plain function cannot be interrupted.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Signals(QObject):
    """A worker's signals; the object lives in the thread that made the worker (the GUI thread)."""

    started = Signal()
    yielded = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    finished = Signal()

    def __init__(self, worker: Worker) -> None:
        super().__init__()
        self._worker = worker
        self.finished.connect(self.forget)  # queued: runs in this object's thread

    @Slot()
    def forget(self) -> None:
        """Drop the finished worker from :attr:`Worker.running` — in the GUI thread, so the worker is never
        destroyed by the pool thread while that thread is still inside its ``run``."""
        Worker.running.discard(self._worker)


class Worker(QRunnable):
    """``fn(*args, **kwargs)`` run by :meth:`start` on ``QThreadPool.globalInstance()``."""

    running: ClassVar[set[Worker]] = set()
    """Workers started and not yet done (each kept alive here until its ``finished`` has been delivered)."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it: Qt must not delete it under a connected signal
        self._call = (fn, args, kwargs)
        self._quit = threading.Event()
        self._ended = threading.Event()  # set by the pool thread after it has posted ``finished``
        self._signals = _Signals(self)
        self.started = self._signals.started
        self.yielded = self._signals.yielded
        self.returned = self._signals.returned
        self.errored = self._signals.errored
        self.finished = self._signals.finished

    def start(self) -> None:
        Worker.running.add(self)
        QThreadPool.globalInstance().start(self)

    def quit(self) -> None:
        """Ask a generator to stop at its next ``yield`` (no ``returned`` is emitted then)."""
        self._quit.set()

    @property
    def done(self) -> bool:
        """The pool thread has posted ``finished`` (it may still be on its way to the GUI thread) and is
        leaving ``run``."""
        return self._ended.is_set()

    def wait(self, timeout: float) -> bool:
        """Block until the pool thread has finished ``run`` and posted ``finished`` (False on timeout).

        The event belongs to this worker, so a late mark from an earlier worker's thread cannot end the
        wait, and the pool thread never touches an object its owner may already have dropped."""
        return self._ended.wait(timeout)

    def run(self) -> None:  # pool thread
        fn, args, kwargs = self._call
        self.started.emit()
        try:
            result = fn(*args, **kwargs)
            if inspect.isgenerator(result):
                result = self._iterate(result)
            if not self._quit.is_set():
                self.returned.emit(result)
        except Exception as exc:
            self.errored.emit(exc)
        finally:
            self.finished.emit()
            self._ended.set()

    def _iterate(self, gen: Iterator[Any]) -> Any:
        """Pass on every value ``gen`` yields until it returns (its value) or :meth:`quit` is called."""
        while not self._quit.is_set():
            try:
                value = next(gen)
            except StopIteration as stop:
                return stop.value
            self.yielded.emit(value)
        gen.close()
        return None

    @classmethod
    def await_workers(cls, msecs: int) -> bool:
        """Ask every running worker to quit and wait up to ``msecs`` for all; False if some still run."""
        for worker in list(cls.running):
            worker.quit()
        QThreadPool.globalInstance().waitForDone(msecs)
        return all(worker.done for worker in list(cls.running))


def create_worker(fn: Callable[..., Any], *args: Any, _start_thread: bool = False,
                  _connect: dict[str, Callable[..., Any]] | None = None, **kwargs: Any) -> Worker:
    """A :class:`Worker` for ``fn(*args, **kwargs)``, its signals connected as named in ``_connect``
    (``{"returned": slot, ...}``), started at once with ``_start_thread``."""
    worker = Worker(fn, *args, **kwargs)
    for name, slot in (_connect or {}).items():
        getattr(worker, name).connect(slot)
    if _start_thread:
        worker.start()
    return worker


@contextlib.contextmanager
def signals_blocked(obj: QObject) -> Iterator[None]:
    """Block ``obj``'s signals inside the ``with`` block (restoring the previous state after)."""
    previous = obj.blockSignals(True)
    try:
        yield
    finally:
        obj.blockSignals(previous)
