"""Parameter definitions: one table per model, shared by validation, the GUI form and session files.

Each :class:`ParamSpec` carries what a user needs to set a value well (label, unit, range, help) and
whether a change can apply *live* to a running network (``k``, ``A``, ``tau``, ``m``, ``tau_v``) or is
*structural* and rebuilds the grid or the connectivity (``num``, ``a``, ``J0``, ``z_min``, ``z_max``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConfigError


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter: name, default, allowed range and UI hints.

    ``minimum``/``maximum`` are inclusive unless ``exclusive_minimum`` is set (for ``> 0`` ranges).
    A ``boolean`` parameter is a switch: only ``True``/``False`` are accepted.
    """

    name: str
    default: float | int | bool
    label: str
    help: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    integer: bool = False
    live: bool = False
    boolean: bool = False

    def range_text(self) -> str:
        """The allowed range as a short phrase, e.g. ``"> 0"`` or ``"between 8 and 16384"``."""
        if self.boolean:
            return "true or false"
        if self.minimum is None:
            return "any finite number" if self.maximum is None else f"≤ {self.maximum:g}"
        low = f"{'>' if self.exclusive_minimum else '≥'} {self.minimum:g}"
        if self.maximum is None:
            return low
        if self.exclusive_minimum:
            return f"{low} and ≤ {self.maximum:g}"
        return f"between {self.minimum:g} and {self.maximum:g}"

    def validate(self, value: Any) -> float | int | bool:
        """Return ``value`` coerced to the parameter's type, or raise :class:`ConfigError`."""
        if self.boolean:
            if not isinstance(value, bool | np.bool_):
                raise ConfigError(f"{self.name} must be true or false, got {value!r} "
                                  f"({type(value).__name__})", param=self.name)
            return bool(value)
        kind = "an integer" if self.integer else "a number"
        if isinstance(value, bool) or (not isinstance(value, int | float) and not hasattr(
            value, "__float__"
        )):
            raise ConfigError(
                f"{self.name} must be {kind}, got {value!r} ({type(value).__name__})",
                param=self.name,
            )
        number = float(value)
        if not math.isfinite(number):
            raise ConfigError(f"{self.name} must be finite, got {value!r}", param=self.name)
        if self.integer and number != int(number):
            raise ConfigError(f"{self.name} must be an integer, got {value!r}", param=self.name)
        too_low = self.minimum is not None and (
            number <= self.minimum if self.exclusive_minimum else number < self.minimum
        )
        too_high = self.maximum is not None and number > self.maximum
        if too_low or too_high:
            raise ConfigError(
                f"{self.name} must be {self.range_text()} ({self.help}), got {value!r}",
                param=self.name,
            )
        return int(number) if self.integer else number


def _spec(name: str, default: float | int, label: str, help: str, **kw: Any) -> ParamSpec:
    return ParamSpec(name=name, default=default, label=label, help=help, **kw)


_NUM = _spec("num", 512, "Neurons", "number of neurons on the ring", minimum=8, maximum=65536,
             integer=True)
_LENGTH = _spec("length", 64, "Side length", "neurons per side of the L×L sheet", minimum=4,
                maximum=512, integer=True)
_TAU = _spec("tau", 1.0, "τ", "synaptic time constant", unit="time", minimum=0.0,
             exclusive_minimum=True, live=True)
_K = _spec("k", 8.1, "k", "global divisive inhibition strength", minimum=0.0, live=True)
_Z_MIN = _spec("z_min", -math.pi, "z min", "lower end of the feature space", unit="rad")
_Z_MAX = _spec("z_max", math.pi, "z max", "upper end of the feature space", unit="rad")
_ENDPOINT = _spec("endpoint", True, "Endpoint included",
                  "canns' grid linspace(z_min, z_max, num) includes both ends, so the first and last neuron "
                  "share one angle; off: num distinct neurons evenly around the ring (canns' recipe for its "
                  "'fft' mode)", boolean=True)
_TAU_V = _spec("tau_v", 50.0, "τ_v", "adaptation time constant", unit="time", minimum=0.0,
               exclusive_minimum=True, live=True)
_M = _spec("m", 0.3, "m", "adaptation strength (travelling bump when m > τ/τ_v)", minimum=0.0,
           live=True)


def _basic(a: float, A: float, J0: float) -> tuple[ParamSpec, ...]:
    """The parameters every CANN shares, with the model's own defaults for ``a``, ``A``, ``J0``."""
    return (
        _TAU,
        _K,
        _spec("a", a, "a", "half-width of the excitatory connections", unit="rad", minimum=0.0,
              exclusive_minimum=True),
        _spec("A", A, "A", "stimulus amplitude", minimum=0.0, live=True),
        _spec("J0", J0, "J₀", "maximum recurrent connection strength", minimum=0.0),
        _Z_MIN,
        _Z_MAX,
        _ENDPOINT,
    )


MODEL_PARAMS: dict[str, tuple[ParamSpec, ...]] = {
    "CANN1D": (_NUM, *_basic(0.5, 10.0, 4.0)),
    "CANN1D_SFA": (_NUM, *_basic(0.3, 0.2, 1.0), _TAU_V, _M),
    "CANN2D": (_LENGTH, *_basic(0.5, 10.0, 4.0)),
    "CANN2D_SFA": (_LENGTH, *_basic(0.3, 0.2, 1.0), _TAU_V, _M),
}
"""Parameter tables of the four basic models, in display order (canns 1.5 defaults)."""

LIVE_PARAMS = frozenset(p.name for specs in MODEL_PARAMS.values() for p in specs if p.live)
"""Parameters that a running network takes at the next step, without a rebuild."""


def validate_params(model: str, values: dict[str, Any]) -> dict[str, float | int]:
    """Validate ``values`` for ``model`` and return the complete, coerced parameter set.

    Unknown names raise :class:`ConfigError` listing the known ones; missing ones take defaults.
    """
    specs = {p.name: p for p in MODEL_PARAMS[model]}
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ConfigError(
            f"{model} has no parameter {', '.join(unknown)}; known: {', '.join(specs)}",
            param=unknown[0],
        )
    out = {name: spec.validate(values.get(name, spec.default)) for name, spec in specs.items()}
    if out["z_max"] <= out["z_min"]:
        raise ConfigError(
            f"z_max must be greater than z_min, got z_min={out['z_min']:g}, z_max={out['z_max']:g}",
            param="z_max",
        )
    return out
