"""Parameters of the hierarchical network: canns' names and defaults, plus CANN Studio's few additions."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from canns_engine.errors import ConfigError

# The dense grid→place readout holds num_place²·num_module·grid_num² float64 weights.
MAX_READOUT_WEIGHTS = 40_000_000


def check_int(name: str, value: object, lo: int, hi: int) -> None:
    """Raise ConfigError unless ``value`` is an integer in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}", param=name)


def check_float(
    name: str, value: object, lo: float = -math.inf, hi: float = math.inf, *, open_lo: bool = False
) -> None:
    """Raise ConfigError unless ``value`` is a finite real number in [lo, hi] (or (lo, hi] if open_lo)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > lo if open_lo else value >= lo) and value <= hi
    if not ok:
        bracket = "(" if open_lo else "["
        raise ConfigError(
            f"{name} must be a finite number in {bracket}{lo:g}, {hi:g}], got {value!r}", param=name
        )


@dataclass(frozen=True)
class HierarchicalParams:
    """All parameters of :class:`HierarchicalNetwork`, validated on construction.

    The first block is canns 1.5.0's ``HierarchicalNetwork`` signature with its defaults. ``num_place`` is
    the number of place cells **per side** (P = num_place²), as in canns. ``grid_A`` scales the band→grid
    input (amplitude 5000·grid_A; canns ignores grid_A and always uses 5000, which is identical at the
    default 1). The second block is ours: ``dt`` (canns takes it from brainpy's global dt; its example uses
    0.05 s), the arena spanned by the place-cell centres (canns hard-codes [0, 5]²), and the seed of the
    shifter noise (used only when band_noise > 0).
    """

    num_module: int = 5
    num_place: int = 30
    spacing_min: float = 2.0
    spacing_max: float = 5.0
    module_angle: float = 0.0
    band_size: int = 180
    band_noise: float = 0.0
    band_w_L2S: float = 0.2
    band_w_S2L: float = 1.0
    band_gain: float = 0.2
    grid_num: int = 20
    grid_tau: float = 0.1
    grid_tau_v: float = 10.0
    grid_k: float = 5e-3
    grid_a: float = math.pi / 9
    grid_A: float = 1.0
    grid_J0: float = 1.0
    grid_mbar: float = 1.0
    gauss_tau: float = 1.0
    gauss_J0: float = 1.1
    gauss_k: float = 5e-4
    gauss_a: float = 2 * math.pi / 9
    nonrec_tau: float = 0.1
    dt: float = 0.05
    arena_width: float = 5.0
    arena_height: float = 5.0
    seed: int | None = None

    def __post_init__(self) -> None:
        check_int("num_module", self.num_module, 1, 16)
        check_int("num_place", self.num_place, 2, 100)
        check_int("band_size", self.band_size, 8, 1024)
        check_int("grid_num", self.grid_num, 4, 48)
        check_float("spacing_min", self.spacing_min, 0.0, open_lo=True)
        check_float("spacing_max", self.spacing_max, self.spacing_min)
        for name in ("module_angle", "band_w_L2S", "band_w_S2L", "band_gain", "grid_A", "grid_J0",
                     "gauss_J0", "grid_mbar"):
            check_float(name, getattr(self, name))
        for name in ("band_noise", "grid_k", "gauss_k"):
            check_float(name, getattr(self, name), 0.0)
        for name in ("grid_tau", "grid_tau_v", "gauss_tau", "nonrec_tau", "dt", "arena_width",
                     "arena_height"):
            check_float(name, getattr(self, name), 0.0, open_lo=True)
        for name in ("grid_a", "gauss_a"):
            check_float(name, getattr(self, name), 0.0, 2 * math.pi, open_lo=True)
        if self.dt > self.nonrec_tau:
            raise ConfigError(
                f"dt must be <= nonrec_tau = {self.nonrec_tau:g} s, got {self.dt:g}: the forward-Euler "
                "shifter update overshoots for larger steps",
                param="dt",
            )
        if self.seed is not None:
            check_int("seed", self.seed, 0, 2**63 - 1)
        weights = self.num_place**2 * self.num_module * self.grid_num**2
        if weights > MAX_READOUT_WEIGHTS:
            raise ConfigError(
                f"num_place² · num_module · grid_num² = {weights:,} readout weights exceeds "
                f"{MAX_READOUT_WEIGHTS:,}; reduce num_place, num_module or grid_num",
                param="num_place",
            )

    @classmethod
    def from_kwargs(cls, **kwargs: object) -> HierarchicalParams:
        """Build from keyword arguments, rejecting unknown names with a ConfigError."""
        names = {f.name for f in dataclasses.fields(cls)}
        for key in kwargs:
            if key not in names:
                raise ConfigError(
                    f"unknown parameter {key!r} of HierarchicalNetwork; valid: {', '.join(sorted(names))}",
                    param=key,
                )
        return cls(**kwargs)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """Plain dict of all parameters (for session files)."""
        return dataclasses.asdict(self)
