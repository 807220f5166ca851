"""Recordings: what a run keeps, chunk by chunk, in memory or streamed to a sink.

A :class:`Recording` keeps every ``record_every``-th state (``u``, ``inp``, ``v`` for SFA) when
``record="full"``, and always the per-step summary table (``analysis.SUMMARY_FIELDS_*``: stimulus and
decoded position, error, bump height and width, total activity). Summary-only recordings cost a few
numbers per recorded step, so arbitrarily long runs fit in memory: the summary columns are kept as float32
(32 bytes a step in 2D; their values are read-outs of a state that is itself only promised to 1e-6) and the
step indices of a chunk as a ``range``. ``max_bytes`` bounds the in-memory size: the run stops with a clear
error before exceeding it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .analysis import SUMMARY_FIELDS_1D, SUMMARY_FIELDS_2D
from .errors import ConfigError

RECORD_MODES = ("full", "summary", "none")

SUMMARY_DTYPE = np.float32
"""Storage type of the summary columns (float32 resolves a position on the ring to ~2e-7 rad)."""


class Recording:
    """Arrays of a run: ``t``, ``step``, ``u``, ``inp``, ``v`` and the summary columns by name.

    Attributes are concatenated on access (``rec.u`` has shape ``(n, num)`` or ``(n, L, L)``); summary
    columns are attributes too (``rec.decoded_pos``, ``rec.error``, …) and ``rec.summary`` is the
    ``(n, fields)`` table (float32, :data:`SUMMARY_DTYPE`).

    With a ``sink`` attached (:meth:`attach_sink`), rows go to it instead of memory and the attributes
    read them back from it.
    """

    spill: ClassVar[Callable[[Recording], Any] | None] = None
    """Process-wide overflow policy: when set (``canns_engine.sink.spill_to_disk()``), a recording about
    to exceed ``max_bytes`` moves to the sink ``spill(recording)`` returns instead of raising."""

    def __init__(self, *, model_type: str, params: dict[str, Any], x: np.ndarray, dt: float,
                 ndim: int, sfa: bool, record: str = "full", record_every: int = 1,
                 max_bytes: int | None = None) -> None:
        if record not in RECORD_MODES:
            raise ConfigError(f"record must be one of {RECORD_MODES}, got {record!r}",
                              param="record")
        if isinstance(record_every, bool) or not isinstance(record_every, int | np.integer) or (
            record_every < 1
        ):
            raise ConfigError(f"record_every must be an integer ≥ 1, got {record_every!r}",
                              param="record_every")
        self.model_type = model_type
        self.params = dict(params)
        self.x = x
        self.dt = dt
        self.ndim = ndim
        self.sfa = sfa
        self.record = record
        self.record_every = int(record_every)
        self.max_bytes = max_bytes
        self.fields = SUMMARY_FIELDS_1D if ndim == 1 else SUMMARY_FIELDS_2D
        self._chunks: dict[str, list[np.ndarray]] = {
            k: [] for k in ("step", "u", "inp", "v", "summary")
        }
        self._cache: dict[str, np.ndarray] = {}
        self.nbytes = 0
        self.sink: Any = None

    @property
    def full(self) -> bool:
        """True when whole states are kept, not only summaries."""
        return self.record == "full"

    def check_room(self, rows: int, state_size: int) -> None:
        """Raise (or spill to a sink, see :attr:`spill`) before appending ``rows`` would exceed
        ``max_bytes``."""
        if self.max_bytes is None or self.sink is not None:
            return
        per_row = np.dtype(SUMMARY_DTYPE).itemsize * len(self.fields) + (
            8 * state_size * (3 if self.sfa else 2) if self.full else 0)
        if self.nbytes + rows * per_row > self.max_bytes:
            if Recording.spill is not None:
                self.attach_sink(Recording.spill(self))
                return
            raise ConfigError(
                f"the recording would exceed max_bytes = {self.max_bytes:,} bytes after "
                f"{len(self):,} rows; record every n-th step (record_every), keep summaries only "
                f"(record='summary') or stream to a file", param="max_bytes")

    def append(self, step: np.ndarray | range, summary: np.ndarray, u: np.ndarray | None = None,
               inp: np.ndarray | None = None, v: np.ndarray | None = None) -> None:
        """Add a chunk of recorded rows (state arrays are taken over, not copied; ``step`` may be a
        ``range``, kept as such; the summary is stored as float32)."""
        if len(step) == 0:
            return
        if self.sink is not None:
            self.sink.append(step=np.asarray(step), summary=summary, u=u, inp=inp, v=v)
            return
        with np.errstate(over="ignore"):  # a diverging network's read-outs beyond float32 are stored as inf
            summary = np.asarray(summary, dtype=SUMMARY_DTYPE)
        for name, arr in (("step", step), ("summary", summary), ("u", u), ("inp", inp), ("v", v)):
            if arr is not None:
                self._chunks[name].append(arr)
                self.nbytes += arr.nbytes if isinstance(arr, np.ndarray) else 0
        self._cache.clear()

    def attach_sink(self, sink: Any) -> None:
        """Move the rows kept so far to ``sink`` and send every later chunk there instead of memory.

        ``sink`` takes ``append(step=, summary=, u=, inp=, v=)`` and has ``read(name)``, ``__contains__``
        and ``__len__`` (:class:`canns_engine.sink.HDF5Sink`).
        """
        if len(self):
            sink.append(**{k: self._joined(k) if self._chunks[k] else None for k in self._chunks})
        self._chunks = {k: [] for k in self._chunks}
        self._cache.clear()
        self.nbytes = 0
        self.sink = sink

    def _joined(self, name: str) -> np.ndarray:
        if self.sink is not None and name in self.sink:
            data = self.sink.read(name)
            return np.asarray(data, dtype=SUMMARY_DTYPE) if name == "summary" else data
        if name not in self._cache:
            chunks = self._chunks[name]
            if not chunks:
                if name in ("u", "inp", "v"):
                    why = ("this model has no adaptation variable v" if name == "v" and not self.sfa
                           else f"the run recorded summaries only (record={self.record!r})")
                    raise AttributeError(f"no {name} in this recording: {why}")
                width = {"step": (), "summary": (len(self.fields),)}[name]
                self._cache[name] = np.zeros((0, *width), dtype=np.int64 if name == "step" else
                                             SUMMARY_DTYPE)
            else:
                chunks = [np.arange(c.start, c.stop, c.step) if isinstance(c, range) else c
                          for c in chunks]
                self._cache[name] = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
                self._chunks[name] = [self._cache[name]]
        return self._cache[name]

    def __len__(self) -> int:
        if self.sink is not None:
            return len(self.sink)
        return sum(len(c) for c in self._chunks["step"])

    @property
    def step(self) -> np.ndarray:
        """Index of each recorded step (the state after that step)."""
        return self._joined("step")

    @property
    def t(self) -> np.ndarray:
        """Simulated time of each recorded state: ``(step + 1) · dt``."""
        return (self.step + 1) * self.dt

    @property
    def u(self) -> np.ndarray:
        """Recorded states ``u``."""
        return self._joined("u")

    @property
    def inp(self) -> np.ndarray:
        """External input used in each recorded step."""
        return self._joined("inp")

    @property
    def v(self) -> np.ndarray:
        """Recorded adaptation ``v`` (SFA models)."""
        return self._joined("v")

    @property
    def r(self) -> np.ndarray:
        """Firing rates ``u² / (1 + k Σu²)`` of the recorded states (with the recording's ``k``)."""
        u = self.u
        axes = tuple(range(1, u.ndim))
        return u**2 / (1.0 + self.params["k"] * (u**2).sum(axis=axes, keepdims=True))

    @property
    def summary(self) -> np.ndarray:
        """The ``(n, len(fields))`` summary table."""
        return self._joined("summary")

    def __getattr__(self, name: str) -> np.ndarray:
        if name in ("u", "inp", "v"):  # a property raised: say why instead of "no attribute"
            return self._joined(name)
        fields = self.__dict__.get("fields", ())
        if name in fields:
            return self.summary[:, fields.index(name)]
        raise AttributeError(f"Recording has no attribute {name!r}")

    def to_dict(self) -> dict[str, np.ndarray]:
        """Every recorded array by name (states only when recorded)."""
        out = {"t": self.t, "step": self.step}
        out.update({name: self.summary[:, i] for i, name in enumerate(self.fields)})
        if self.full and len(self):
            out["u"] = self.u
            out["inp"] = self.inp
            if self.sfa:
                out["v"] = self.v
        return out
