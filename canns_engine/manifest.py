"""Experiment manifests: the JSON description of an experiment (model, parameters, protocol, seed).

A manifest is what a preset file holds and what a session file carries next to its recording. It is
plain JSON (schema version 2)::

    {"format": "canns-studio-session", "schema_version": 2,
     "versions": {"app": "0.1.0", "engine": "0.1.0"},
     "name": "...", "description": "...",
     "model": {"type": "CANN1D", "params": {"num": 128, "k": 8.1, ...}},
     "task": {"type": "SmoothTracking1D", "Iext": [...], "duration": [...]},
     "dt": 0.05, "seed": 0, "loop": false,
     "recording": {"record": "full", "record_every": 1, "max_bytes": null},
     "view": {...}}

``task`` may be ``null`` (free run: no input until a stimulus is set). ``view`` belongs to the app and
is kept untouched. :func:`build_simulation` turns a manifest into a ready :class:`Simulation`;
:func:`manifest_of` describes a Simulation (all parameters, defaults included).

Files from older schema versions are upgraded step by step by :data:`MIGRATIONS` when they are read;
files from newer versions are refused with a message saying so. :func:`validate_manifest` is strict:
unknown keys, wrong types, non-finite or out-of-range parameters are errors naming the key, never
silently dropped, because a manifest must reproduce its experiment exactly.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ConfigError, SessionFormatError
from .models import MODELS, make_model
from .params import validate_params
from .recording import RECORD_MODES
from .simulation import Simulation
from .tasks import TASKS, make_task

FORMAT = "canns-studio-session"
SCHEMA_VERSION = 2
MAX_MANIFEST_BYTES = 64 * 2**20
"""Largest manifest text read (long custom trajectories fit; a hostile file cannot exhaust memory)."""
MAX_TEXT_CHARS = 100_000
"""Longest ``name``/``description``."""

_TOP_KEYS = frozenset({"format", "schema_version", "versions", "name", "description", "model", "task",
                       "dt", "seed", "loop", "recording", "view"})
_RECORDING_KEYS = frozenset({"record", "record_every", "max_bytes"})


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept one ``engine_version`` string and no memory bound for the recording."""
    version = data.pop("engine_version", "unknown")
    data["versions"] = {"app": version, "engine": version}
    recording = data.get("recording")
    if isinstance(recording, dict):
        data["recording"] = {"max_bytes": None, **recording}
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}
"""``MIGRATIONS[n]`` upgrades a version-``n`` manifest to version ``n + 1`` (it may edit its argument)."""


def package_version() -> str:
    """The installed CANN Studio version (the app and the engine ship in one distribution)."""
    from . import __version__

    return __version__


def migrate(data: dict[str, Any], *, source: str | None = None) -> dict[str, Any]:
    """Upgrade a manifest of an older ``schema_version`` to :data:`SCHEMA_VERSION` (a new dict)."""
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SessionFormatError(f"schema_version must be an integer, got {version!r}", path=source)
    if version > SCHEMA_VERSION:
        raise SessionFormatError(
            f"schema_version {version} is newer than this CANN Studio understands ({SCHEMA_VERSION}); "
            f"update CANN Studio (this is {package_version()}) to open it", path=source)
    if version < min(MIGRATIONS, default=SCHEMA_VERSION):
        raise SessionFormatError(f"schema_version {version} is older than any CANN Studio release "
                                 f"and cannot be read", path=source)
    data = json.loads(json.dumps(data))  # a deep copy: migrations edit in place
    while data["schema_version"] < SCHEMA_VERSION:
        data = MIGRATIONS[data["schema_version"]](data)
        data["schema_version"] += 1
    return data


def validate_manifest(data: Any, *, source: str | None = None) -> dict[str, Any]:
    """Migrate and check a manifest; return it complete (optional keys filled in, params coerced).

    Raises :class:`SessionFormatError` naming ``source`` and the problem: unknown or missing keys,
    wrong types, unknown models or tasks, parameters that are not finite or out of range.
    """
    def fail(msg: str) -> SessionFormatError:
        return SessionFormatError(msg, path=source)

    if not isinstance(data, dict):
        raise fail(f"a manifest must be a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise fail(f"not a CANN Studio experiment (format is {str(data.get('format'))[:80]!r}, "
                   f"expected {FORMAT!r})")
    data = migrate(data, source=source)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} in the manifest (known: {', '.join(sorted(_TOP_KEYS))})")
    out: dict[str, Any] = {"format": FORMAT, "schema_version": SCHEMA_VERSION}
    versions = data.get("versions", {})
    if not isinstance(versions, dict) or not all(isinstance(v, str) for v in versions.values()):
        raise fail("'versions' must map 'app' and 'engine' to version strings")
    out["versions"] = {k: versions[k] for k in ("app", "engine") if k in versions}
    for key, default in (("name", "Untitled experiment"), ("description", "")):
        text = data.get(key, default)
        if not isinstance(text, str) or len(text) > MAX_TEXT_CHARS:
            raise fail(f"'{key}' must be text of at most {MAX_TEXT_CHARS:,} characters")
        out[key] = text
    out["model"] = _check_model(data.get("model"), fail)
    out["task"] = _check_task(data.get("task"), fail)
    task = out["task"]
    dt = data.get("dt", task.get("time_step", 0.1) if task else 0.1)
    if isinstance(dt, bool) or not isinstance(dt, int | float) or not math.isfinite(dt) or dt <= 0:
        raise fail(f"dt must be a finite number > 0, got {dt!r}")
    out["dt"] = float(dt)
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64):
        raise fail(f"seed must be an integer between 0 and 2**64 - 1, or null; got {seed!r}")
    out["seed"] = seed
    loop = data.get("loop", False)
    if not isinstance(loop, bool):
        raise fail(f"loop must be true or false, got {loop!r}")
    out["loop"] = loop
    out["recording"] = _check_recording(data.get("recording", {}), fail)
    view = data.get("view", {})
    if not isinstance(view, dict):
        raise fail(f"'view' must be an object, got {type(view).__name__}")
    out["view"] = view
    return out


def _check_model(model: Any, fail: Callable[[str], SessionFormatError]) -> dict[str, Any]:
    if not isinstance(model, dict) or not isinstance(model.get("type"), str):
        raise fail("missing 'model' object with a 'type' name")
    extra = sorted(set(model) - {"type", "params"})
    if extra:
        raise fail(f"unknown key {extra[0]!r} in 'model' (known: type, params)")
    if model["type"] not in MODELS:
        raise fail(f"unknown model {model['type'][:80]!r}; known: {', '.join(MODELS)}")
    params = model.get("params", {})
    if not isinstance(params, dict):
        raise fail("'model.params' must be an object of parameter values")
    try:
        return {"type": model["type"], "params": validate_params(model["type"], params)}
    except ConfigError as exc:
        raise fail(f"model parameter {exc}") from None


def _check_task(task: Any, fail: Callable[[str], SessionFormatError]) -> dict[str, Any] | None:
    if task is None:
        return None
    if not isinstance(task, dict) or not isinstance(task.get("type"), str):
        raise fail("'task' must be null or an object with a 'type' name")
    if task["type"] not in TASKS:
        raise fail(f"unknown task {task['type'][:80]!r}; known: {', '.join(TASKS)}")
    return dict(task)


def _check_recording(rec: Any, fail: Callable[[str], SessionFormatError]) -> dict[str, Any]:
    if not isinstance(rec, dict):
        raise fail("'recording' must be an object")
    extra = sorted(set(rec) - _RECORDING_KEYS)
    if extra:
        raise fail(f"unknown key {extra[0]!r} in 'recording' (known: {', '.join(sorted(_RECORDING_KEYS))})")
    out = {"record": rec.get("record", "full"), "record_every": rec.get("record_every", 1),
           "max_bytes": rec.get("max_bytes")}
    if out["record"] not in RECORD_MODES:
        raise fail(f"recording.record must be one of {', '.join(RECORD_MODES)}, got {out['record']!r}")
    for key, low, optional in (("record_every", 1, False), ("max_bytes", 1, True)):
        value = out[key]
        if optional and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise fail(f"recording.{key} must be an integer ≥ {low}{' or null' if optional else ''}, "
                       f"got {value!r}")
    return out


def build_simulation(manifest: dict[str, Any], *, source: str | None = None,
                     **overrides: Any) -> Simulation:
    """Create the model, task and :class:`Simulation` a manifest describes.

    ``overrides`` are passed to :class:`Simulation` (e.g. ``record="summary"``). A manifest without a
    seed gets a fresh random one, kept in ``sim.seed``, so the run can still be saved and replayed.
    Parameter errors come back as :class:`SessionFormatError` naming ``source`` and the parameter.
    """
    m = validate_manifest(manifest, source=source)
    try:
        model = make_model(m["model"]["type"], m["model"]["params"], dt=m["dt"])
        task = None
        if m["task"] is not None:
            task = make_task(model, {**m["task"], "time_step": m["dt"]})
        seed = m["seed"]
        if seed is None and (task is None or task.seed is None):
            seed = secrets.randbits(32)
        kwargs = {**m["recording"], "seed": seed, "loop": m["loop"], **overrides}
        return Simulation(model, task, **kwargs)
    except (ConfigError, TypeError) as exc:
        raise SessionFormatError(f"invalid experiment: {exc}", path=source) from exc


def manifest_of(sim: Simulation, *, name: str = "Untitled experiment", description: str = "",
                view: dict[str, Any] | None = None, at_start: bool = False) -> dict[str, Any]:
    """The manifest of ``sim``: its parameters as they are now, or as the run began (``at_start``).

    A saved session needs the start (its events replay the edits from there): ``Simulation.start``.
    """
    rec = sim.recording
    params, dt = sim.model.params, sim.dt
    task = None if sim.task is None else sim.task.spec
    if at_start:
        params, dt, task = dict(sim.start["params"]), sim.start["dt"], sim.start["task"]
    return {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "versions": {"app": package_version(), "engine": package_version()},
        "name": name,
        "description": description,
        "model": {"type": sim.model.model_type, "params": params},
        "task": None if task is None else {k: v for k, v in task.items() if k != "time_step"},
        "dt": dt,
        "seed": sim.seed,
        "loop": sim.loop,
        "recording": ({"record": "none", "record_every": 1, "max_bytes": None} if rec is None else
                      {"record": rec.record, "record_every": rec.record_every,
                       "max_bytes": rec.max_bytes}),
        "view": dict(view or {}),
    }


def parse_manifest_text(text: str | bytes, *, source: str | None = None) -> dict[str, Any]:
    """Parse JSON text and validate it as a manifest (errors name ``source``)."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise SessionFormatError(f"the manifest is {len(text):,} bytes, more than the "
                                 f"{MAX_MANIFEST_BYTES:,} a CANN Studio manifest may have", path=source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SessionFormatError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                                 path=source) from None
    except UnicodeDecodeError:
        raise SessionFormatError("not a text file (expected a JSON preset)", path=source) from None
    except RecursionError:
        raise SessionFormatError("the JSON is nested too deeply to be a manifest", path=source) from None
    return validate_manifest(data, source=source)


def load_manifest(path: str | Path) -> dict[str, Any]:
    """Read and validate a ``.json`` preset; errors name the file and the problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise SessionFormatError(f"the file is {size:,} bytes, too large for a preset "
                                     f"(at most {MAX_MANIFEST_BYTES:,})", path=str(path))
        raw = path.read_bytes()
    except OSError as exc:
        raise SessionFormatError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    return parse_manifest_text(raw, source=str(path))


__all__ = ["FORMAT", "MIGRATIONS", "SCHEMA_VERSION", "build_simulation", "load_manifest", "manifest_of",
           "migrate", "package_version", "parse_manifest_text", "validate_manifest"]
