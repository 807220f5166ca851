"""Experiment manifests: the JSON description of an experiment (model, parameters, protocol, seed).

A manifest is what a preset file holds and what a session file carries next to its recording. It is
plain JSON::

    {"format": "canns-studio-session", "schema_version": 1, "name": "...", "description": "...",
     "model": {"type": "CANN1D", "params": {"num": 128, "k": 8.1, ...}},
     "task": {"type": "SmoothTracking1D", "time_step": 0.05, "Iext": [...], "duration": [...]},
     "dt": 0.05, "seed": 0, "loop": false,
     "recording": {"record": "full", "record_every": 1},
     "view": {...}}

``task`` may be ``null`` (free run: no input until a stimulus is set). ``view`` belongs to the app and
is kept untouched. :func:`build_simulation` turns a manifest into a ready :class:`Simulation`;
:func:`manifest_of` describes a Simulation (parameters as they are now, defaults included).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .errors import ConfigError, SessionFormatError
from .models import make_model
from .simulation import Simulation
from .tasks import make_task

FORMAT = "canns-studio-session"
SCHEMA_VERSION = 1


def _engine_version() -> str:
    from . import __version__

    return __version__


def validate_manifest(data: Any, *, source: str | None = None) -> dict[str, Any]:
    """Check the structure of a manifest and return it with optional keys filled in.

    Raises :class:`SessionFormatError` naming ``source`` and the problem.
    """
    def fail(msg: str) -> SessionFormatError:
        return SessionFormatError(msg, path=source)

    if not isinstance(data, dict):
        raise fail(f"a manifest must be a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise fail(f"not a CANN Studio experiment (format is {data.get('format')!r}, "
                   f"expected {FORMAT!r})")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(f"schema_version must be an integer, got {version!r}")
    if version > SCHEMA_VERSION:
        raise fail(f"schema_version {version} is newer than this CANN Studio understands "
                   f"({SCHEMA_VERSION}); update CANN Studio to open it")
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("type"), str):
        raise fail("missing 'model' object with a 'type' name")
    if not isinstance(model.get("params", {}), dict):
        raise fail("'model.params' must be an object of parameter values")
    task = data.get("task")
    if task is not None and (not isinstance(task, dict) or not isinstance(task.get("type"), str)):
        raise fail("'task' must be null or an object with a 'type' name")
    dt = data.get("dt", task.get("time_step") if isinstance(task, dict) else 0.1)
    if isinstance(dt, bool) or not isinstance(dt, int | float) or not math.isfinite(dt) or dt <= 0:
        raise fail(f"dt must be a finite number > 0, got {dt!r}")
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise fail(f"seed must be a non-negative integer or null, got {seed!r}")
    out = dict(data)
    out.setdefault("name", "Untitled experiment")
    out.setdefault("description", "")
    out["model"] = {"type": model["type"], "params": dict(model.get("params", {}))}
    out["dt"] = float(dt)
    out.setdefault("seed", None)
    out.setdefault("loop", False)
    out.setdefault("recording", {"record": "full", "record_every": 1})
    out.setdefault("view", {})
    return out


def build_simulation(manifest: dict[str, Any], *, source: str | None = None,
                     **overrides: Any) -> Simulation:
    """Create the model, task and :class:`Simulation` a manifest describes.

    ``overrides`` are passed to :class:`Simulation` (e.g. ``record="summary"``). Parameter errors come
    back as :class:`SessionFormatError` naming ``source`` and the parameter.
    """
    m = validate_manifest(manifest, source=source)
    try:
        model = make_model(m["model"]["type"], m["model"]["params"], dt=m["dt"])
        task = None
        if m["task"] is not None:
            task = make_task(model, {**m["task"], "time_step": m["dt"]})
        kwargs = {**m["recording"], "seed": m["seed"], "loop": bool(m["loop"]), **overrides}
        return Simulation(model, task, **kwargs)
    except (ConfigError, TypeError) as exc:
        raise SessionFormatError(f"invalid experiment: {exc}", path=source) from exc


def manifest_of(sim: Simulation, *, name: str = "Untitled experiment", description: str = "",
                view: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of ``sim`` as it is now (current parameters, protocol, seed)."""
    rec = sim.recording
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "engine_version": _engine_version(),
        "name": name,
        "description": description,
        "model": {"type": sim.model.model_type, "params": sim.model.params},
        "task": None if sim.task is None else {k: v for k, v in sim.task.spec.items()
                                               if k != "time_step"},
        "dt": sim.dt,
        "seed": sim.seed,
        "loop": sim.loop,
        "recording": ({"record": "none", "record_every": 1} if rec is None else
                      {"record": rec.record, "record_every": rec.record_every}),
        "view": dict(view or {}),
    }


def load_manifest(path: str | Path) -> dict[str, Any]:
    """Read and validate a ``.json`` preset; errors name the file and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SessionFormatError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    except UnicodeDecodeError:
        raise SessionFormatError("not a text file (expected a JSON preset)", path=str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SessionFormatError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                 f"{exc.msg})", path=str(path)) from None
    return validate_manifest(data, source=str(path))


__all__ = ["FORMAT", "SCHEMA_VERSION", "build_simulation", "load_manifest",
           "manifest_of", "validate_manifest"]
