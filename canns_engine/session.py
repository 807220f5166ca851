"""Session files (``.canns``): one HDF5 file per experiment — manifest, events and recording.

Layout (``schema_version`` 2; see ``docs/sessions.md``)::

    /                 attrs: format, schema_version, steps (steps run when saved), saved (ISO time)
    /manifest         the JSON manifest (fixed-length UTF-8 string): model, parameters, task, dt, seed,
                      view; parameters as they were at step 0
    /events/step      (n,) int64: the step at which each edit was applied
    /events/update    (n,) JSON objects: the edit (a parameter, a stimulus drag, a pulse, a protocol)
    /recording/segment_<i>   one recording segment per grid (see :mod:`canns_engine.sink`),
                      chunked and gzip-compressed; absent when nothing was recorded

Replaying the manifest and the events for ``steps`` steps reproduces the recording exactly
(:meth:`LoadedSession.replay`). Presets are the manifest alone, as ``.json``; :func:`open_experiment`
opens either kind. Writes are atomic (:func:`atomic_output`). Reading never trusts the file: every
object is checked for its kind, type and declared size before anything is read, and every problem
becomes a :class:`SessionFormatError` naming the file.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .atomic import atomic_output
from .errors import ConfigError, SessionFormatError
from .manifest import (
    FORMAT,
    MAX_MANIFEST_BYTES,
    SCHEMA_VERSION,
    build_simulation,
    load_manifest,
    manifest_of,
    parse_manifest_text,
    validate_manifest,
)
from .models import MODELS
from .params import validate_params
from .recording import Recording
from .simulation import Frame, Simulation
from .sink import SegmentWriter, rows, state_names

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
DEFAULT_MAX_LOAD_BYTES = 8 * 2**30
"""Largest recording :func:`load_session` reads into memory unless told otherwise."""
MAX_EVENTS = 10_000_000
MAX_SEGMENTS = 10_000
_EVENT_KEYS = frozenset({"dt", "stimulus", "pulse", "task"})


HISTORY_BYTES = 64 << 20
"""Default memory bound of the snapshots :meth:`LoadedSession.replay_with_history` returns."""


@dataclass
class LoadedSession:
    """An experiment read from a session (``.canns``) or a preset (``.json``).

    Attributes
    ----------
    manifest : dict
        The validated manifest (parameters at step 0).
    recording : Recording or None
        The last recording segment (``None`` for presets and unrecorded sessions).
    events : list of dict
        The edit log ``[{"step": n, ...update}, ...]``, as :attr:`Simulation.events`.
    steps : int
        Steps the experiment had run when saved (0 for a preset).
    segments : list of Recording
        Every recording segment, oldest first (more than one after a grid change); the last one is
        ``recording``.
    path : Path or None
        The file it came from.
    """

    manifest: dict[str, Any]
    recording: Recording | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    segments: list[Recording] = field(default_factory=list)
    path: Path | None = None

    def build_simulation(self, **overrides: Any) -> Simulation:
        """A fresh :class:`Simulation` of the manifest, at step 0 (``overrides`` as for Simulation)."""
        return build_simulation(self.manifest, source=None if self.path is None else str(self.path),
                                **overrides)

    def replay(self, steps: int | None = None, *, progress: Callable[[int, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None, **overrides: Any) -> Simulation:
        """Re-run the experiment with its events for ``steps`` (default: as many as were saved)."""
        sim = self.build_simulation(**overrides)
        sim.run(self.steps if steps is None else steps, events=self.events, progress=progress,
                should_stop=should_stop)
        return sim

    def replay_with_history(self, span: float, count: int, *, history_bytes: int = HISTORY_BYTES,
                            **overrides: Any) -> tuple[Simulation, list[Frame]]:
        """Replay as :meth:`replay` and take ``count`` snapshots spread evenly over the last ``span`` of
        simulated time, the last one the saved state: what a viewer's scrolling history showed when the
        session was saved. Fewer snapshots are taken when ``count`` of them, at the size of the state
        where the span starts, would exceed ``history_bytes`` (large sheets). The final state is the
        same, bit for bit, as :meth:`replay`'s."""
        if not (isinstance(span, int | float) and math.isfinite(span) and span >= 0):
            raise ConfigError(f"span must be a finite time ≥ 0, got {span!r}", param="span")
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise ConfigError(f"count must be an integer ≥ 1, got {count!r}", param="count")
        sim = self.build_simulation(**overrides)
        start = max(0, self.steps - round(span / sim.dt))
        self._run_until(sim, start)
        per_frame = sim.model.u.nbytes * (4 if sim.model.sfa else 3)  # u, r, inp (and v) of a Frame
        count = max(1, min(int(count), history_bytes // per_frame))  # at least the current state
        marks = np.unique(np.linspace(start, self.steps, count + 1).round().astype(int)[1:])
        frames = []
        for mark in marks:
            self._run_until(sim, int(mark))
            frames.append(sim.snapshot())
        return sim, frames

    def _run_until(self, sim: Simulation, step: int) -> None:
        """Advance ``sim`` to ``step`` with the events logged in between (each is applied once, as the
        single :meth:`Simulation.run` of :meth:`replay` would)."""
        sim.run(step - sim.step_index, events=[e for e in self.events if sim.step_index <= e["step"] < step])


# -- writing -------------------------------------------------------------------------------------------
def _text_dataset(group: h5py.Group, name: str, texts: str | list[str]) -> None:
    """Store text as fixed-length UTF-8 strings, so a reader knows the size before reading."""
    encoded = [t.encode("utf-8") for t in ([texts] if isinstance(texts, str) else texts)]
    width = max((len(b) for b in encoded), default=1) or 1
    data = np.array(encoded, dtype=h5py.string_dtype("utf-8", width))
    group.create_dataset(name, data=data[0] if isinstance(texts, str) else data)


def save_session(path: str | os.PathLike[str], sim: Simulation, *, name: str = "Untitled experiment",
                 description: str = "", view: dict[str, Any] | None = None,
                 recording: bool = True, compress: bool = True) -> None:
    """Write ``sim``'s experiment to a ``.canns`` session file, atomically.

    Parameters
    ----------
    path : path-like
        The file to write; an existing file is replaced only once the new one is complete.
    sim : Simulation
        The experiment; call this while no other thread steps it.
    name, description : str
        Shown by ``canns-studio info`` and the app.
    view : dict, optional
        The app's display layout (stored untouched).
    recording : bool
        Include the recording (``False``: manifest and events only; replay recomputes the rows — this
        is what autosave uses, as it is cheap and safe while a run goes on).
    compress : bool
        Compress the recorded arrays (:data:`canns_engine.sink.COMPRESSION`); ``False`` writes several
        times faster and ~1.3× larger files.
    """
    manifest = manifest_of(sim, name=name, description=description, view=view, at_start=True)
    segments = [*sim.previous_recordings, sim.recording] if recording and sim.recording else []
    events = list(sim.events)
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update({"format": FORMAT, "schema_version": SCHEMA_VERSION, "steps": sim.step_index,
                        "saved": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")})
        _text_dataset(f, "manifest", json.dumps(manifest))
        ev = f.create_group("events")
        ev.create_dataset("step", data=np.array([e["step"] for e in events], dtype=np.int64))
        _text_dataset(ev, "update", [json.dumps({k: v for k, v in e.items() if k != "step"})
                                     for e in events])
        if segments:
            group = f.create_group("recording")
            for i, rec in enumerate(segments):
                write_segment(group.create_group(f"segment_{i}"), rec, compress=compress)


def write_segment(group: h5py.Group, rec: Recording, *, compress: bool = True,
                  block_rows: int = 4096) -> None:
    """Write one recording into ``group``, a block of rows at a time (bounded memory, sinks too)."""
    n = len(rec)
    writer = SegmentWriter(group, rec, compress=compress, rows=n)
    names = ("step", "summary", *state_names(rec))
    row_bytes = 8 * int(np.prod(np.shape(rec.x))) ** rec.ndim
    block = max(1, min(block_rows, (64 << 20) // row_bytes))
    for start in range(0, n, block):
        stop = min(n, start + block)
        writer.append(**{k: rows(rec, k, start, stop) for k in names})


def save_preset(path: str | os.PathLike[str], manifest: dict[str, Any]) -> None:
    """Write a manifest as a ``.json`` preset, atomically (validated first)."""
    text = json.dumps(validate_manifest(manifest, source=str(path)), indent=2) + "\n"
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# -- reading -------------------------------------------------------------------------------------------
class _Reader:
    """Checked access to an untrusted HDF5 file: every get names the object and the problem."""

    def __init__(self, f: h5py.File, source: str, budget: int) -> None:
        self.f = f
        self.source = source
        self.budget = budget

    def fail(self, msg: str) -> SessionFormatError:
        return SessionFormatError(msg, path=self.source)

    def node(self, group: h5py.Group, name: str, kind: type, *, required: bool = True) -> Any:
        link = group.get(name, getlink=True)
        where = f"{group.name.rstrip('/')}/{name}"
        if link is None:
            if required:
                raise self.fail(f"missing {where}")
            return None
        if not isinstance(link, h5py.HardLink):
            raise self.fail(f"{where} is a {type(link).__name__}; links to other files are not allowed")
        obj = group[name]
        if not isinstance(obj, kind):
            raise self.fail(f"{where} should be a {kind.__name__.lower()}, got a {type(obj).__name__}")
        if isinstance(obj, h5py.Dataset) and (obj.is_virtual or obj.external):
            raise self.fail(f"{where} stores its data outside the file, which is not allowed")
        return obj

    def array(self, group: h5py.Group, name: str, dtype: type, shape: tuple[int | None, ...]) -> np.ndarray:
        """Read a dataset after checking its type and that its shape matches (``None``: any length)."""
        ds = self.node(group, name, h5py.Dataset)
        if ds.dtype != np.dtype(dtype):
            raise self.fail(f"{ds.name} has type {ds.dtype}, expected {np.dtype(dtype)}")
        if len(ds.shape) != len(shape) or any(e is not None and e != s for e, s in zip(shape, ds.shape,
                                                                                        strict=True)):
            raise self.fail(f"{ds.name} has shape {ds.shape}, expected "
                            f"{tuple('n' if e is None else e for e in shape)}")
        self.spend(ds.size * ds.dtype.itemsize, ds.name)
        return ds[()]

    def spend(self, nbytes: int, what: str) -> None:
        if nbytes > self.budget:
            raise self.fail(f"{what} declares {nbytes:,} bytes, more than the {self.budget:,} left to "
                            f"load (a damaged or hostile file, or load it with states=False)")
        self.budget -= nbytes

    def texts(self, group: h5py.Group, name: str, *, scalar: bool) -> list[str]:
        ds = self.node(group, name, h5py.Dataset)
        if ds.dtype.kind != "S" or (ds.shape == ()) != scalar or len(ds.shape) > 1:
            raise self.fail(f"{ds.name} should be {'a' if scalar else 'an array of'} fixed-length "
                            f"UTF-8 string{'' if scalar else 's'}, got {ds.dtype} with shape {ds.shape}")
        nbytes = ds.size * ds.dtype.itemsize
        if nbytes > MAX_MANIFEST_BYTES:
            raise self.fail(f"{ds.name} declares {nbytes:,} bytes of text, more than "
                            f"{MAX_MANIFEST_BYTES:,}")
        raw = ds[()]
        try:
            return [bytes(b).decode("utf-8") for b in np.atleast_1d(raw)]
        except UnicodeDecodeError:
            raise self.fail(f"{ds.name} is not valid UTF-8 text") from None

    def attr(self, obj: h5py.HLObject, name: str, kinds: tuple[type, ...]) -> Any:
        if name not in obj.attrs:
            raise self.fail(f"{obj.name} has no attribute {name!r}")
        if obj.attrs.get_id(name).get_storage_size() > MAX_MANIFEST_BYTES:
            raise self.fail(f"attribute {name!r} of {obj.name} is too large")
        value = obj.attrs[name]
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise self.fail(f"attribute {name!r} of {obj.name} has the wrong type "
                            f"({type(value).__name__})")
        return value


def _read_events(r: _Reader, model_type: str) -> list[dict[str, Any]]:
    group = r.node(r.f, "events", h5py.Group)
    steps_ds = r.node(group, "step", h5py.Dataset)
    if len(steps_ds.shape) != 1 or steps_ds.shape[0] > MAX_EVENTS:
        raise r.fail(f"/events/step has shape {steps_ds.shape}; expected (n,) with n ≤ {MAX_EVENTS:,}")
    steps = r.array(group, "step", np.int64, (steps_ds.shape[0],))
    updates = r.texts(group, "update", scalar=False) if len(steps) else []
    if len(updates) != len(steps):
        raise r.fail(f"/events has {len(steps)} steps but {len(updates)} updates")
    if len(steps) and (steps[0] < 0 or np.any(np.diff(steps) < 0)):
        raise r.fail("/events/step must be non-negative and in order")
    known = _EVENT_KEYS | {p.name for p in MODELS[model_type].param_specs()}
    events = []
    for i, (step, text) in enumerate(zip(steps.tolist(), updates, strict=True)):
        try:
            update = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise r.fail(f"event {i} is not valid JSON") from None
        if not isinstance(update, dict) or not update or not set(update) <= known:
            raise r.fail(f"event {i} must be an object of known keys ({', '.join(sorted(known))}), "
                         f"got {text[:120]!r}")
        events.append({"step": step, **update})
    return events


def _read_segment(r: _Reader, g: h5py.Group, model_type: str, states: bool) -> Recording:
    seg_type = r.attr(g, "model_type", (str,))
    if seg_type != model_type:
        raise r.fail(f"{g.name} holds a {seg_type[:80]} recording but the manifest describes {model_type}")
    cls = MODELS[model_type]
    try:
        params = validate_params(model_type, json.loads(r.attr(g, "params", (str,))))
    except (json.JSONDecodeError, RecursionError, TypeError, AttributeError):
        raise r.fail(f"attribute 'params' of {g.name} is not a JSON object") from None
    except ConfigError as exc:
        raise r.fail(f"{g.name}: parameter {exc}") from None
    dt = r.attr(g, "dt", (float, int))
    record = r.attr(g, "record", (str,))
    every = r.attr(g, "record_every", (int,))
    if not math.isfinite(dt) or dt <= 0:
        raise r.fail(f"{g.name}: dt must be a finite number > 0, got {dt!r}")
    size = params[cls.size_param]
    x = r.array(g, "x", np.float64, (size,))
    if not np.isfinite(x).all():
        raise r.fail(f"{g.name}/x (the grid) must be finite")
    steps_ds = r.node(g, "step", h5py.Dataset)
    n = steps_ds.shape[0] if len(steps_ds.shape) == 1 else -1
    if n < 0:
        raise r.fail(f"{steps_ds.name} has shape {steps_ds.shape}, expected (n,)")
    try:
        rec = Recording(model_type=model_type, params=params, x=x, dt=float(dt), ndim=cls.ndim,
                        sfa=cls.sfa, record=record if states else "summary", record_every=every)
    except ConfigError as exc:
        raise r.fail(f"{g.name}: {exc}") from None
    step = r.array(g, "step", np.int64, (n,))
    if n and (step[0] < 0 or np.any(np.diff(step) <= 0)):
        raise r.fail(f"{g.name}/step must be non-negative and increasing")
    summary = np.column_stack([r.array(g, f, np.float64, (n,)) for f in rec.fields]) if n else (
        np.zeros((0, len(rec.fields))))
    shape = (size,) * cls.ndim
    arrays = {k: r.array(g, k, np.float64, (n, *shape)) for k in state_names(rec)}
    rec.append(step, summary, arrays.get("u"), arrays.get("inp"), v=arrays.get("v"))
    return rec


def load_session(path: str | os.PathLike[str], *, states: bool = True,
                 max_bytes: int = DEFAULT_MAX_LOAD_BYTES) -> LoadedSession:
    """Read a ``.canns`` session file.

    Parameters
    ----------
    path : path-like
        The session file.
    states : bool
        Load the recorded states (``u``, ``inp``, ``v``); ``False`` reads only the summary columns,
        which is quick even for very long recordings.
    max_bytes : int
        Refuse files whose arrays would take more memory than this (checked before reading).

    Raises
    ------
    SessionFormatError
        Naming the file and the problem: not HDF5, damaged, truncated, a newer format, wrong types
        or shapes, non-finite parameters, missing objects, or too large.
    """
    source = str(path)
    try:
        with h5py.File(path, "r") as f:
            return _load(_Reader(f, source, max_bytes), Path(path), states)
    except SessionFormatError:
        raise
    except FileNotFoundError:
        raise SessionFormatError("no such file", path=source) from None
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, RecursionError) as exc:
        raise SessionFormatError(f"not a readable CANN Studio session (damaged, truncated or not "
                                 f"HDF5): {exc}", path=source) from None


def _load(r: _Reader, path: Path, states: bool) -> LoadedSession:
    f = r.f
    fmt = r.attr(f, "format", (str,)) if "format" in f.attrs else None
    if fmt != FORMAT:
        raise r.fail(f"not a CANN Studio session (format is {str(fmt)[:80]!r}, expected {FORMAT!r})")
    version = r.attr(f, "schema_version", (int,))
    if version > SCHEMA_VERSION:
        raise r.fail(f"schema_version {version} is newer than this CANN Studio understands "
                     f"({SCHEMA_VERSION}); update CANN Studio to open it")
    steps = r.attr(f, "steps", (int,))
    if steps < 0:
        raise r.fail(f"the step count is negative ({steps})")
    manifest = parse_manifest_text(r.texts(f, "manifest", scalar=True)[0], source=r.source)
    model_type = manifest["model"]["type"]
    events = _read_events(r, model_type)
    if events and events[-1]["step"] > steps:
        raise r.fail(f"an event at step {events[-1]['step']} lies after the end of the run ({steps})")
    segments = []
    group = r.node(f, "recording", h5py.Group, required=False)
    if group is not None:
        names = sorted(group, key=lambda s: (len(s), s))
        if len(names) > MAX_SEGMENTS or names != [f"segment_{i}" for i in range(len(names))]:
            raise r.fail("/recording must hold segment_0, segment_1, … and nothing else")
        for name in names:
            segments.append(_read_segment(r, r.node(group, name, h5py.Group), model_type, states))
    return LoadedSession(manifest=manifest, recording=segments[-1] if segments else None,
                         events=events, steps=steps, segments=segments, path=path)


def is_session_file(path: str | os.PathLike[str]) -> bool:
    """True when the file starts like HDF5 (a session); presets are JSON text."""
    try:
        with open(path, "rb") as f:
            return f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE
    except OSError:
        return False


def open_experiment(path: str | os.PathLike[str], **kwargs: Any) -> LoadedSession:
    """Open a ``.canns`` session or a ``.json`` preset (told apart by content, not by name).

    ``kwargs`` go to :func:`load_session`. Errors are :class:`SessionFormatError` naming the file.
    """
    if is_session_file(path):
        return load_session(path, **kwargs)
    manifest = load_manifest(path)
    return LoadedSession(manifest=manifest, path=Path(path))


def describe(loaded: LoadedSession) -> str:
    """A short human-readable summary of an experiment (``canns-studio info``)."""
    m = loaded.manifest
    params = ", ".join(f"{k}={v:g}" for k, v in m["model"]["params"].items())
    task = m["task"]
    lines = [
        f"name:        {m['name']}",
        *([f"description: {m['description']}"] if m["description"] else []),
        f"versions:    app {m['versions'].get('app', '?')}, engine {m['versions'].get('engine', '?')}"
        f" (schema {m['schema_version']})",
        f"model:       {m['model']['type']}({params})",
        f"task:        {'none (free run)' if task is None else task['type']}",
        f"dt:          {m['dt']:g}    seed: {m['seed']}    loop: {m['loop']}",
        f"steps run:   {loaded.steps:,} (t = {loaded.steps * m['dt']:g})",
        f"events:      {len(loaded.events):,}",
    ]
    kept = {"full": "states + summaries", "summary": "summaries"}.get(m["recording"]["record"], "")
    for i, rec in enumerate(loaded.segments):
        lines.append(f"recording {i}: {len(rec):,} rows of {kept}, every {rec.record_every} step(s), "
                     f"fields: {', '.join(rec.fields)}")
    if not loaded.segments:
        lines.append("recording:   none" if loaded.steps else "recording:   none (a preset)")
    return "\n".join(lines)


__all__ = ["LoadedSession", "atomic_output", "describe", "is_session_file",
           "load_session", "open_experiment", "save_preset", "save_session", "write_segment"]
