"""Bounded histories for the time-based views (no Qt): scalar traces and a kymograph of columns.

The views see every frame the engine produces (``ingest``) but draw only the newest one, so the
histories are filled at the engine's frame rate and read at the display rate. Memory is bounded: a
trace keeps its last ``capacity`` rows, a kymograph a fixed number of columns on a regular time grid.
"""

from __future__ import annotations

import numpy as np

TRACE_CAPACITY = 20_000
KYMOGRAPH_COLUMNS = 480


class TraceBuffer:
    """A ring buffer of rows ``(t, value_0, value_1, …)``.

    Parameters
    ----------
    width : int
        Number of values per row (besides ``t``).
    capacity : int
        Rows kept; older rows are overwritten.
    """

    def __init__(self, width: int, capacity: int = TRACE_CAPACITY) -> None:
        self._data = np.full((capacity, width + 1), np.nan)
        self._count = 0

    def __len__(self) -> int:
        return min(self._count, len(self._data))

    def append(self, t: float, values: np.ndarray | list[float]) -> None:
        """Add one row at time ``t``."""
        row = self._count % len(self._data)
        self._data[row, 0] = t
        self._data[row, 1:] = values
        self._count += 1

    def last(self) -> np.ndarray | None:
        """The newest row ``(t, values…)``, or ``None`` when empty."""
        if self._count == 0:
            return None
        return self._data[(self._count - 1) % len(self._data)].copy()

    def rows(self, since: float = -np.inf) -> np.ndarray:
        """Rows with ``t >= since``, oldest first (a copy)."""
        n, cap = len(self), len(self._data)
        if self._count <= cap:
            out = self._data[:n]
        else:
            start = self._count % cap
            out = np.concatenate([self._data[start:], self._data[:start]])
        if since > -np.inf and n:
            out = out[np.searchsorted(out[:, 0], since):]
        return out.copy()

    def clear(self) -> None:
        self._count = 0


def break_at_wraps(t: np.ndarray, y: np.ndarray, z_range: float) -> tuple[np.ndarray, np.ndarray]:
    """Insert a NaN wherever ``y`` jumps by more than half the period, so a line drawn through the
    points (``connect="finite"``) has no vertical stroke where a position wraps at ±π."""
    if len(y) < 2:
        return t, y
    jumps = np.flatnonzero(np.abs(np.diff(y)) > z_range / 2) + 1
    if len(jumps) == 0:
        return t, y
    return (np.insert(t.astype(float), jumps, np.nan), np.insert(y.astype(float), jumps, np.nan))


def wrap_position(p: np.ndarray | float, z_min: float, z_range: float) -> np.ndarray:
    """Positions mapped into ``[z_min, z_min + z_range)`` (a held stimulus may lie outside)."""
    return z_min + np.remainder(np.asarray(p, dtype=float) - z_min, z_range)


class KymographBuffer:
    """Columns of a 1D state on a regular time grid (space × time).

    Column ``j`` covers ``[j · dt_col, (j + 1) · dt_col)``. Frames arrive at the engine's pace, which may
    be slower than one per column: the columns between two frames take the state of whichever frame is
    nearer in time, so the picture is never shifted in time (at most half a frame interval off).

    The columns are stored time-major (one contiguous row of memory per column) in a ring that is kept
    twice, end to end: a frame is written with a few slice assignments whatever the number of columns it
    covers, and the newest ``columns`` columns are always one contiguous slice (no re-ordering to draw).

    Parameters
    ----------
    rows : int
        Neurons (the length of a column).
    window : float
        Simulated time the buffer spans.
    columns : int
        Resolution of the time axis.
    """

    def __init__(self, rows: int, window: float, columns: int = KYMOGRAPH_COLUMNS) -> None:
        self.rows = rows
        self.window = float(window)
        self.dt_col = self.window / columns
        # [column % columns, neuron], and the same again at [column % columns + columns, neuron]
        self._data = np.zeros((2 * columns, rows), dtype=np.float32)
        self._last = -1  # absolute index of the newest column
        self._first = -1  # absolute index of the oldest column ever written
        self._last_t = 0.0  # time of the newest frame

    @property
    def columns(self) -> int:
        return self._data.shape[0] // 2

    def _fill(self, j0: int, j1: int, value: np.ndarray) -> None:
        """Set absolute columns ``j0 … j1 - 1`` (at most ``columns`` of them) to ``value``."""
        n = self.columns
        if j1 <= j0:
            return
        a, b = j0 % n, (j1 - 1) % n + 1
        segments = [(a, b)] if a < b else [(a, n), (0, b)]  # the second when it wraps around the ring
        for a, b in segments:
            self._data[a:b] = value
            self._data[a + n:b + n] = value

    def add(self, t: float, column: np.ndarray) -> None:
        """Record the state ``column`` at time ``t``."""
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging state is shown as it is
            column = np.asarray(column, dtype=np.float32)
        k = int(np.floor(t / self.dt_col + 1e-9))
        n = self.columns
        if self._last < 0:
            self._first = k
            self._fill(k, k + 1, column)
        elif k <= self._last:  # same column again: keep the newest state
            k = self._last
            self._fill(k, k + 1, column)
        else:
            start = max(self._last + 1, k - n + 1)
            # columns whose centre is nearer the previous frame keep its state (a prefix of start … k)
            centres = (np.arange(start, k + 1) + 0.5) * self.dt_col
            split = start + int(np.count_nonzero(centres - self._last_t < t - centres))
            if split > start:
                self._fill(start, split, self._data[self._last % n].copy())
            self._fill(split, k + 1, column)
        self._last = k
        self._last_t = t

    def image(self, row_stride: int = 1) -> tuple[np.ndarray, float] | None:
        """``(rows × n columns, oldest first; start time)``, or ``None`` before the first frame.

        With ``row_stride`` only every n-th row (neuron) is returned. The array is a copy (column ``j``
        of it is time ``start + j · dt_col``), laid out time-major: a transposed view, which pyqtgraph
        colours as fast as a contiguous array.
        """
        if self._last < 0:
            return None
        first = max(self._first, self._last - self.columns + 1)
        a = first % self.columns
        out = self._data[a:a + self._last - first + 1, ::row_stride].copy()
        return out.T, first * self.dt_col

    def end_time(self) -> float:
        """Time at the end of the newest column."""
        return (self._last + 1) * self.dt_col

    def resampled(self, window: float) -> KymographBuffer:
        """A buffer spanning ``window`` holding what this one has (nearest earlier column)."""
        new = KymographBuffer(self.rows, window, self.columns)
        if self._last < 0:
            return new
        first = max(self._first, self._last - self.columns + 1)
        t_end = self.end_time()
        k_first = int(np.ceil(max(first * self.dt_col, t_end - new.window) / new.dt_col))
        k_last = int(np.floor(t_end / new.dt_col - 1e-9))
        if k_last < k_first:
            return new
        ks = np.arange(k_first, k_last + 1)
        old = np.clip(np.floor(ks * new.dt_col / self.dt_col + 1e-9).astype(int), first, self._last)
        values = self._data[old % self.columns]
        new._data[ks % new.columns] = values
        new._data[ks % new.columns + new.columns] = values
        new._first, new._last, new._last_t = k_first, k_last, self._last_t
        return new

    def clear(self) -> None:
        self._last = self._first = -1
