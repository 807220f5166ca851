"""The stimulus protocols the parameter panel offers, their fields, defaults and text formats.

The engine's tasks (``canns_engine.TASKS``) take lists of positions and durations; the panel edits them
as text (``0, 2, -1`` in 1D, ``(0, 0), (2, 1)`` in 2D). This module describes each protocol's fields
(label, unit, help) and converts between task specs and those texts. It also builds the default
experiment of each model type (File ▸ New and the model selector).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from canns_engine import MODEL_PARAMS, MODELS
from canns_engine.manifest import FORMAT, SCHEMA_VERSION

DEFAULT_DT = 0.05
"""Step size of new experiments (the canns tutorials' ``dt``)."""


@dataclass(frozen=True)
class TaskField:
    """One argument of a task: ``kind`` is ``duration``, ``durations``, ``position``, ``positions``,
    ``level`` (a number ≥ 0) or ``seed`` (an integer, empty for none)."""

    name: str
    label: str
    kind: str
    help: str
    unit: str = ""


@dataclass(frozen=True)
class Protocol:
    """A family of tasks (``<key>1D`` / ``<key>2D``) with its fields and a one-line explanation."""

    key: str
    label: str
    help: str
    fields: tuple[TaskField, ...]

    def task_type(self, ndim: int) -> str:
        return f"{self.key}{ndim}D"


PROTOCOLS: dict[str, Protocol] = {p.key: p for p in (
    Protocol("SmoothTracking", "Smooth tracking",
             "The stimulus moves at constant speed from one key position to the next; the bump follows.",
             (TaskField("Iext", "Key positions", "positions", "positions the stimulus passes through"),
              TaskField("duration", "Segment durations", "durations",
                        "time to go from each key position to the next (one fewer than positions)",
                        "τ"))),
    Protocol("PopulationCoding", "Population coding",
             "No input, then a fixed stimulus, then no input again: a bump that persists is working memory.",
             (TaskField("Iext", "Stimulus position", "position", "where the stimulus is"),
              TaskField("before_duration", "Before", "duration", "time without input first", "τ"),
              TaskField("duration", "Stimulus on", "duration", "how long the stimulus is on", "τ"),
              TaskField("after_duration", "After", "duration", "time without input at the end", "τ"))),
    Protocol("TemplateMatching", "Template matching",
             "A fixed stimulus plus fresh noise every step: the network cleans up the noisy input.",
             (TaskField("Iext", "Stimulus position", "position", "where the stimulus is"),
              TaskField("duration", "Duration", "duration", "length of the protocol", "τ"),
              TaskField("noise_level", "Noise level", "level",
                        "noise standard deviation per neuron and step, as a fraction of A"),
              TaskField("seed", "Noise seed", "seed", "seed of the task's noise (empty: none)"))),
)}
"""Editable protocols, in menu order. (Custom trajectories come from files and are shown read-only.)"""


def protocol_of(task_type: str | None) -> Protocol | None:
    """The editable protocol of a task type (``None`` for free runs and custom trajectories)."""
    if task_type is None:
        return None
    return PROTOCOLS.get(task_type[:-2])


def default_task(protocol: Protocol, ndim: int) -> dict[str, Any]:
    """A sensible task spec for ``protocol`` in ``ndim`` dimensions (without ``time_step``)."""
    pos = (lambda x, y: x) if ndim == 1 else (lambda x, y: [x, y])
    spec: dict[str, Any] = {"type": protocol.task_type(ndim)}
    if protocol.key == "SmoothTracking":
        spec.update(Iext=[pos(0.0, 0.0), pos(2.0, 1.0), pos(-1.0, 2.0), pos(0.0, 0.0)],
                    duration=[20.0, 30.0, 20.0])
    elif protocol.key == "PopulationCoding":
        spec.update(Iext=pos(1.0, 1.0), before_duration=5.0, duration=10.0, after_duration=50.0)
    else:
        spec.update(Iext=pos(0.5, 0.5), duration=100.0, noise_level=0.5, seed=0)
    return spec


def default_manifest(model_type: str) -> dict[str, Any]:
    """A new experiment of ``model_type``: canns defaults, a small network, smooth tracking, looped."""
    cls = MODELS[model_type]
    size = 128 if cls.ndim == 1 else 48
    params = {p.name: p.default for p in MODEL_PARAMS[model_type]}
    params[cls.size_param] = size
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "name": f"New {model_type} experiment",
            "description": "", "model": {"type": model_type, "params": params},
            "task": default_task(PROTOCOLS["SmoothTracking"], cls.ndim), "dt": DEFAULT_DT, "seed": 0,
            "loop": True}


# -- text formats ---------------------------------------------------------------------------------------
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


class FieldError(ValueError):
    """A field's text cannot be read; the message says what is expected."""


def format_value(kind: str, value: Any) -> str:
    """Text shown in a field for a spec value."""
    if kind in ("positions", "durations"):
        return ", ".join(format_value("position" if kind == "positions" else "duration", v) for v in value)
    if kind == "position" and isinstance(value, list | tuple):
        return f"({value[0]:g}, {value[1]:g})"
    if kind == "seed":
        return "" if value is None else str(value)
    return f"{value:g}"


FORMAT_HINTS = {
    ("positions", 1): "positions in rad, e.g. 0, 2, -1",
    ("positions", 2): "positions (x, y) in rad, e.g. (0, 0), (2, 1)",
    ("position", 1): "a position in rad, e.g. 1.0",
    ("position", 2): "a position (x, y) in rad, e.g. (1.0, 0.5)",
    ("durations", 1): "durations separated by commas, e.g. 20, 30",
    ("seed", 1): "a whole number, or empty for none",
}


def format_hint(kind: str, ndim: int) -> str:
    """How a field's text is written (placeholder and tooltip)."""
    return FORMAT_HINTS.get((kind, ndim), FORMAT_HINTS.get((kind, 1), "a number ≥ 0"))


def parse_value(kind: str, text: str, ndim: int) -> Any:
    """Read a field's text as a spec value; raise :class:`FieldError` explaining the format."""
    text = text.strip()
    if kind == "seed":
        if not text:
            return None
        if not re.fullmatch(r"\d+", text):
            raise FieldError("a seed is a whole number ≥ 0 (or empty for none)")
        return int(text)
    if kind in ("duration", "level"):
        values = _numbers(text)
        if len(values) != 1 or values[0] < 0:
            raise FieldError("expected one number ≥ 0")
        return values[0]
    if kind == "durations":
        values = _numbers(text)
        if not values or min(values) < 0:
            raise FieldError("expected durations ≥ 0 separated by commas, e.g. 20, 30")
        return values
    if kind == "position":
        values = _numbers(text)
        if len(values) != ndim:
            raise FieldError("expected one position in rad, e.g. 1.0" if ndim == 1 else
                             "expected a position (x, y) in rad, e.g. (1.0, 0.5)")
        return values[0] if ndim == 1 else values
    if kind == "positions":
        if ndim == 1:
            values = _numbers(text)
            if len(values) < 2:
                raise FieldError("expected at least two positions in rad, e.g. 0, 2, -1")
            return values
        pairs = [_numbers(p) for p in re.findall(r"\(([^)]*)\)", text)]
        if len(pairs) < 2 or any(len(p) != 2 for p in pairs):
            raise FieldError("expected at least two positions (x, y), e.g. (0, 0), (2, 1)")
        return pairs
    raise ValueError(f"unknown field kind {kind!r}")


def _numbers(text: str) -> list[float]:
    """All numbers in ``text``; anything but numbers, commas, semicolons, brackets and spaces is an error."""
    if re.sub(r"[\s,;()]", "", re.sub(_NUMBER, "", text)):
        raise FieldError(f"cannot read {text!r} as numbers")
    return [float(v) for v in re.findall(_NUMBER, text)]
