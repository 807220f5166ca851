"""Recordings on disk: the HDF5 layout of one recording segment, and a sink that streams rows to it.

A segment is an HDF5 group holding one :class:`~canns_engine.recording.Recording` (one grid: a
structural change such as a new ``num`` starts a new segment)::

    attrs   model_type, params (JSON), dt, record, record_every, fields (JSON)
    x       (size,)            grid coordinates
    step    (n,)   int64       index of each recorded step
    t       (n,)   float64     simulated time, (step + 1) · dt
    <field> (n,)   float64     one column per summary field (stim_pos, decoded_pos, error, …)
    u, inp  (n, *shape)        states and inputs (record="full")
    v       (n, *shape)        adaptation (SFA models, record="full")

Session files (:mod:`canns_engine.session`) store segments compressed; :class:`HDF5Sink` writes them
uncompressed to a temporary file while a long run goes on, so that memory stays bounded.
:func:`spill_to_disk` makes every recording that reaches its ``max_bytes`` move to such a sink.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .recording import Recording

if TYPE_CHECKING:
    import h5py

STATE_NAMES = ("u", "inp", "v")
COMPRESSION = "gzip level 1 + shuffle"
"""The filter of compressed segments: plain deflate, readable by MATLAB, h5py and HDFView without
plugins; level 1 writes ~50 MB/s and compresses states about as well as level 9."""
CHUNK_BYTES = 1 << 20
"""Target size of one HDF5 chunk of states (h5py's advice: 10 KiB – 1 MiB)."""
COLUMN_CHUNK_ROWS = 8192
"""Rows per chunk of the one-number-per-step columns (64 KiB)."""
UNITS = {"t": "time (model units, same as tau)", "step": "step index", "x": "rad", "stim_pos": "rad",
         "decoded_pos": "rad", "decoded_com": "rad", "stim_x": "rad", "stim_y": "rad",
         "decoded_x": "rad", "decoded_y": "rad", "error": "rad", "bump_height": "activity u",
         "bump_width": "rad", "total_activity": "summed firing rate r", "u": "synaptic input u",
         "inp": "external input", "v": "adaptation v"}
"""Units of every stored variable (written as a ``units`` attribute and in CSV headers)."""


def state_names(rec: Recording) -> tuple[str, ...]:
    """The state arrays a recording keeps: ``u`` and ``inp`` (and ``v`` with SFA) when full."""
    if not rec.full:
        return ()
    return STATE_NAMES if rec.sfa else STATE_NAMES[:2]


class SegmentWriter:
    """Appends the rows of one recording to a new segment group (datasets grow as rows arrive).

    ``rows`` (when known) keeps the chunks of short recordings small: a chunk is stored whole.
    """

    def __init__(self, group: h5py.Group, rec: Recording, *, compress: bool = False,
                 rows: int | None = None) -> None:
        self.group = group
        self.fields = rec.fields
        self.dt = rec.dt
        self.states = state_names(rec)
        group.attrs.update({"model_type": rec.model_type, "params": json.dumps(rec.params),
                            "dt": rec.dt, "record": rec.record, "record_every": rec.record_every,
                            "fields": json.dumps(list(rec.fields))})
        group.create_dataset("x", data=np.asarray(rec.x, dtype=np.float64)).attrs["units"] = UNITS["x"]
        opts = {"compression": "gzip", "compression_opts": 1, "shuffle": True} if compress else {}
        shape = tuple(int(n) for n in np.asarray(rec.x).shape) * rec.ndim
        limit = max(1, rows) if rows is not None else 1 << 62
        column_chunk = min(COLUMN_CHUNK_ROWS, limit)
        for name, dtype in (("step", np.int64), ("t", np.float64), *((f, np.float64) for f in rec.fields)):
            group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype,
                                 chunks=(column_chunk,), **opts).attrs["units"] = UNITS[name]
        state_chunk = min(max(1, CHUNK_BYTES // (8 * int(np.prod(shape)))), limit)
        for name in self.states:
            group.create_dataset(name, shape=(0, *shape), maxshape=(None, *shape), dtype=np.float64,
                                 chunks=(state_chunk, *shape), **opts).attrs["units"] = UNITS[name]
        self.rows = 0

    def append(self, *, step: np.ndarray, summary: np.ndarray, u: np.ndarray | None = None,
               inp: np.ndarray | None = None, v: np.ndarray | None = None) -> None:
        """Write a block of rows (the arguments of :meth:`Recording.append`)."""
        n = len(step)
        if n == 0:
            return
        start, stop = self.rows, self.rows + n
        columns = {"step": np.asarray(step, dtype=np.int64), "t": (np.asarray(step) + 1) * self.dt}
        columns.update({f: summary[:, i] for i, f in enumerate(self.fields)})
        columns.update({k: a for k, a in (("u", u), ("inp", inp), ("v", v)) if k in self.states})
        for name, values in columns.items():
            if values is None:
                raise ValueError(f"the segment keeps {name} but the block has none")
            ds = self.group[name]
            ds.resize(stop, axis=0)
            ds[start:stop] = values
        self.rows = stop


class HDF5Sink:
    """Rows of a recording kept in an HDF5 file instead of memory (see :meth:`Recording.attach_sink`).

    Parameters
    ----------
    path : path-like
        The file to write (created or overwritten).
    rec : Recording
        The recording whose rows will arrive (its metadata sets the layout).
    temporary : bool
        Delete the file when the sink is closed or garbage-collected.
    """

    def __init__(self, path: str | os.PathLike[str], rec: Recording, *, temporary: bool = False) -> None:
        import h5py  # here, not at import: h5py takes 0.2 s the app's start-up need not wait for

        self.path = Path(path)
        self.fields = rec.fields
        self._file = h5py.File(self.path, "w")
        self._writer = SegmentWriter(self._file.create_group("segment"), rec)
        cleanup = (self._file.close, functools.partial(_remove, self.path)) if temporary else (
            self._file.close,)
        self._finalizer = weakref.finalize(self, _run_all, cleanup)

    @classmethod
    def temporary(cls, rec: Recording, directory: str | os.PathLike[str] | None = None) -> HDF5Sink:
        """A sink in a new temporary file (in ``directory`` or the system's temporary folder)."""
        fd, name = tempfile.mkstemp(prefix="canns-recording-", suffix=".h5", dir=directory)
        os.close(fd)
        return cls(name, rec, temporary=True)

    @property
    def group(self) -> h5py.Group:
        """The segment group (for copying it into a session file)."""
        return self._writer.group

    def append(self, **block: Any) -> None:
        """Write a block of rows (called by :meth:`Recording.append`)."""
        self._writer.append(**block)

    def __len__(self) -> int:
        return self._writer.rows

    def __contains__(self, name: str) -> bool:
        return name in ("step", "summary", *self._writer.states)

    def read(self, name: str) -> np.ndarray:
        """A whole array: ``step``, ``summary`` (``(n, fields)``) or a state (may be large)."""
        return self.read_rows(name, 0, len(self))

    def read_rows(self, name: str, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of an array, read from disk."""
        g = self.group
        if name == "summary":
            return np.column_stack([g[f][start:stop] for f in self.fields]) if stop > start else (
                np.zeros((0, len(self.fields))))
        return g[name][start:stop]

    def close(self) -> None:
        """Close the file (and delete it if it is temporary)."""
        self._finalizer()


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _run_all(calls: tuple[Any, ...]) -> None:
    for call in calls:
        call()


def spill_to_disk(directory: str | os.PathLike[str] | None = None, *, enabled: bool = True) -> None:
    """Make every recording that would exceed its ``max_bytes`` continue in a temporary HDF5 file.

    This is a process-wide policy (like :data:`tempfile.tempdir`): the app and the command line turn it
    on at start-up; ``enabled=False`` restores the default (stop with an error).
    """
    Recording.spill = functools.partial(HDF5Sink.temporary, directory=directory) if enabled else None


def rows(rec: Recording, name: str, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of ``rec``'s array ``name`` (``step``, ``summary`` or a state), read from its
    sink when it has one, so that whole on-disk arrays are never loaded at once."""
    if rec.sink is not None:
        return rec.sink.read_rows(name, start, stop)
    return getattr(rec, name)[start:stop]


__all__ = ["UNITS", "HDF5Sink", "SegmentWriter", "rows", "spill_to_disk", "state_names"]
