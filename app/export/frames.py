"""The Frames a movie shows, from a recorded session or from re-running the experiment.

Both sources yield :class:`canns_engine.Frame` objects, so the views draw a movie exactly as they draw
a live run. Pure numpy and engine code (no Qt), read row block by row block: a recording streamed to
disk is never loaded whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from canns_engine import Frame, Recording, Simulation
from canns_engine.manifest import build_simulation
from canns_engine.sink import rows

BLOCK_FRAMES = 64


@dataclass(frozen=True)
class FramePlan:
    """Which steps a movie shows: ``count`` frames, one every ``stride`` steps (or recorded rows)."""

    first: int
    stride: int
    count: int


def plan_frames(available: int, *, fps: float, duration: float | None = None, start: int = 0,
                stop: int | None = None) -> FramePlan:
    """Spread a movie of ``duration`` seconds at ``fps`` over items ``start:stop`` of ``available``.

    With no ``duration`` every item becomes a frame. Items are recorded rows (from a recording) or
    steps (re-running); the stride is whole, so a movie never shows the same state twice.
    """
    stop = available if stop is None else min(stop, available)
    start = max(0, min(start, stop))
    span = stop - start
    if span <= 0:
        raise ValueError("the chosen time range holds no recorded state")
    wanted = span if duration is None else max(1, round(duration * fps))
    stride = max(1, -(-span // wanted))  # ceil: never more frames than asked for
    return FramePlan(first=start, stride=stride, count=-(-span // stride))


class ParamTimeline:
    """Model parameters at any step: the manifest's values updated by the logged events."""

    def __init__(self, params: dict[str, Any], events: Sequence[dict[str, Any]] = ()) -> None:
        self._changes = sorted(((e["step"], {k: v for k, v in e.items() if k in params}) for e in events),
                               key=lambda c: c[0])
        self._start = dict(params)

    def at(self, step: int) -> dict[str, Any]:
        """Parameters in force during ``step`` (edits logged at ``step`` included)."""
        params = dict(self._start)
        for when, change in self._changes:
            if when > step:
                break
            params.update(change)
        return params


def recording_frames(rec: Recording, manifest: dict[str, Any], events: Sequence[dict[str, Any]] = (),
                     plan: FramePlan | None = None) -> Iterator[Frame]:
    """Frames of recorded rows (``plan`` picks them; default: every row). Needs full states."""
    if not rec.full:
        raise ValueError("this recording holds summaries only; re-run the experiment to make a movie")
    plan = plan or FramePlan(0, 1, len(rec))
    timeline = ParamTimeline(manifest["model"]["params"], events)
    picks = plan.first + plan.stride * np.arange(plan.count)
    point = rec.ndim == 1
    for block in range(0, plan.count, BLOCK_FRAMES):
        index = picks[block:block + BLOCK_FRAMES]
        lo, hi = int(index[0]), int(index[-1]) + 1
        local = index - lo
        data = {name: rows(rec, name, lo, hi)[local] for name in ("step", "summary", "u", "inp")}
        v = rows(rec, "v", lo, hi)[local] if rec.sfa else None
        for i, step in enumerate(data["step"].tolist()):
            summary = dict(zip(rec.fields, data["summary"][i].tolist(), strict=True))
            params = timeline.at(step)
            u = data["u"][i]
            sq = u**2
            stim = summary["stim_pos"] if point else np.array([summary["stim_x"], summary["stim_y"]])
            decoded = summary["decoded_pos"] if point else np.array([summary["decoded_x"],
                                                                     summary["decoded_y"]])
            yield Frame(step=step + 1, t=(step + 1) * rec.dt, model_type=rec.model_type, params=params,
                        x=rec.x, u=u, r=sq / (1.0 + params["k"] * sq.sum()), inp=data["inp"][i],
                        v=None if v is None else v[i], stim_pos=stim, decoded_pos=decoded,
                        summary=summary, done=bool(block + i == plan.count - 1))


def run_until(sim: Simulation, events: Sequence[dict[str, Any]], step: int) -> None:
    """Advance ``sim`` to ``step``, applying the logged ``events`` that fall in between (and none twice)."""
    sim.run(step - sim.step_index, events=[e for e in events if e["step"] >= sim.step_index])


def rerun_frames(manifest: dict[str, Any], events: Sequence[dict[str, Any]], plan: FramePlan, *,
                 source: str | None = None) -> Iterator[Frame]:
    """Frames of a fresh run of ``manifest`` with ``events``: the state after steps ``first + stride·i``.

    The run is independent of any live Simulation (it is rebuilt from the manifest), so an export can
    go on while the app keeps running.
    """
    sim = build_simulation(manifest, source=source, record="none")
    for i in range(plan.count):
        run_until(sim, events, plan.first + plan.stride * (i + 1))
        yield replace(sim.snapshot(), done=i == plan.count - 1)


__all__ = ["FramePlan", "ParamTimeline", "plan_frames", "recording_frames", "rerun_frames", "run_until"]
