"""Movie export: choose frames, render them offscreen, encode them one by one; with progress and Cancel.

The core is a generator (:func:`write_movie`) that renders and encodes one frame per ``next()`` and
yields the count done. The command line drives it to the end (:func:`export_recording_movie`); the app
drives it in short time slices on the GUI thread (:class:`MovieExportJob`), because widgets may only be
painted there — the window stays responsive, and Cancel closes the generator, which drops the partial
file. Memory stays constant: one frame at a time, recordings read in blocks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from canns_engine import Frame, Recording

from .frames import FramePlan, plan_frames, recording_frames, rerun_frames
from .render import PanelFactory, PanelRenderer
from .writer import MovieWriter, even_size, movie_format

SLICE_SECONDS = 0.03
"""GUI time given to the export per event-loop turn (the window repaints in between)."""


@dataclass
class MovieSettings:
    """What a movie shows and how.

    ``duration`` is the movie's length in seconds (``None``: one frame per recorded row, or per step
    when re-running); ``t_start``/``t_stop`` limit the simulated time range; ``views`` picks views by
    name (``None``: the whole panel).
    """

    path: Path
    fps: float = 30.0
    size: tuple[int, int] = (1280, 720)
    duration: float | None = 10.0
    t_start: float | None = None
    t_stop: float | None = None
    views: list[str] | None = None
    timestamp: bool = True
    light: bool = False
    factory: PanelFactory | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if movie_format(self.path) == "mp4":
            self.size = even_size(*self.size)
        if self.duration is not None and not self.duration > 0:
            raise ValueError(f"the movie duration must be > 0 seconds, got {self.duration!r}")


def _index_range(times: np.ndarray, t_start: float | None, t_stop: float | None) -> tuple[int, int]:
    start = 0 if t_start is None else int(np.searchsorted(times, t_start, side="left"))
    stop = len(times) if t_stop is None else int(np.searchsorted(times, t_stop, side="right"))
    return start, stop


def plan_from_recording(settings: MovieSettings, rec: Recording) -> FramePlan:
    """Recorded rows to show (the time range is matched against the rows' times)."""
    start, stop = _index_range(rec.t, settings.t_start, settings.t_stop)
    return plan_frames(len(rec), fps=settings.fps, duration=settings.duration, start=start, stop=stop)


def plan_from_steps(settings: MovieSettings, steps: int, dt: float) -> FramePlan:
    """Steps to show when re-running an experiment of ``steps`` steps of ``dt``."""
    start, stop = _index_range(np.arange(1, steps + 1) * dt, settings.t_start, settings.t_stop)
    return plan_frames(steps, fps=settings.fps, duration=settings.duration, start=start, stop=stop)


def movie_source(settings: MovieSettings, manifest: dict[str, Any], events: Sequence[dict[str, Any]], *,
                 recording: Recording | None = None, steps: int | None = None
                 ) -> tuple[Iterator[Frame], int]:
    """The frames of a movie and their number: from ``recording`` when it holds states, else by
    re-running ``manifest`` with ``events`` for ``steps`` steps."""
    if recording is not None and recording.full:
        plan = plan_from_recording(settings, recording)
        return recording_frames(recording, manifest, events, plan), plan.count
    if steps is None:
        raise ValueError("no recorded states to film: give the number of steps to re-run")
    plan = plan_from_steps(settings, steps, manifest["dt"])
    return rerun_frames(manifest, events, plan), plan.count


def write_movie(settings: MovieSettings, frames: Iterator[Frame]) -> Generator[int, None, Path]:
    """Render and encode ``frames``, yielding the number written after each; returns the path.

    Closing the generator early (Cancel) or an error removes the partial file.
    """
    renderer = PanelRenderer(settings.size, views=settings.views, timestamp=settings.timestamp,
                             light=settings.light, factory=settings.factory)
    with renderer, MovieWriter(settings.path, fps=settings.fps, size=settings.size) as movie:
        for frame in frames:
            movie.write(renderer.render(frame))
            yield movie.frames
    return settings.path


def export_recording_movie(path: str | os.PathLike[str], rec: Recording | None, manifest: dict[str, Any], *,
                           events: Sequence[dict[str, Any]] = (), steps: int | None = None,
                           progress: Callable[[int, int], None] | None = None, **options: Any) -> Path:
    """Write a movie synchronously (the command line): from ``rec``'s states, or by re-running.

    ``options`` are :class:`MovieSettings` fields (``fps``, ``size``, ``duration``, ``views`` …).
    """
    settings = MovieSettings(Path(path), **options)
    frames, total = movie_source(settings, manifest, events, recording=rec, steps=steps)
    job = write_movie(settings, frames)
    try:
        while True:
            done = next(job)
            if progress is not None:
                progress(done, total)
    except StopIteration as stop:
        return stop.value


class MovieExportJob(QObject):
    """Runs :func:`write_movie` in time slices on the GUI thread; ``cancel()`` stops it cleanly.

    Signals: ``progress(done, total)``, ``finished(path)``, ``failed(exception)``, ``cancelled()``.
    """

    progress = Signal(int, int)  # frames done, frames total
    finished = Signal(object)  # Path
    failed = Signal(object)  # Exception
    cancelled = Signal()

    def __init__(self, settings: MovieSettings, frames: Iterator[Frame], total: int,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.total = total
        self._job: Generator[int, None, Path] | None = write_movie(settings, frames)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def running(self) -> bool:
        return self._job is not None

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        """Stop now; the partial movie is deleted and an older file of the same name is kept."""
        if self._job is None:
            return
        self._timer.stop()
        job, self._job = self._job, None
        try:
            job.close()
        except Exception as exc:  # cleanup failed: report it rather than lose it
            self.failed.emit(exc)
            return
        self.cancelled.emit()

    def _on_timer_timeout(self) -> None:
        if self._job is None:
            return
        deadline = time.perf_counter() + SLICE_SECONDS
        done = 0
        try:
            while time.perf_counter() < deadline:
                done = next(self._job)
        except StopIteration as stop:
            self._job = None
            self.progress.emit(self.total, self.total)
            self.finished.emit(stop.value)
            return
        except Exception as exc:
            self._job = None
            self.failed.emit(exc)
            return
        self.progress.emit(done, self.total)
        self._timer.start()


__all__ = ["MovieExportJob", "MovieSettings", "export_recording_movie", "movie_source", "plan_from_recording",
           "plan_from_steps", "write_movie"]
