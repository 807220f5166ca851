"""HierarchicalNetwork: canns 1.5.0's band → grid → place path-integration network, compiled.

The equations are canns' (HIERARCHICAL.md §2–§7), including its one-step lags; only the linear algebra is
restructured (Fourier form of the circulant band rings, 2-D DFT of the block-circulant grid recurrence, place
readout only when it is read). With band_noise = 0 the network is a deterministic function of its inputs.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from canns_engine.errors import ConfigError, NumericalInstabilityError
from canns_engine.hierarchical import _connectivity as conn
from canns_engine.hierarchical import _kernels as kern
from canns_engine.hierarchical.params import HierarchicalParams

NOISE_CHUNK = 256  # steps of shifter noise drawn at a time (the draws do not depend on it)


class NetworkTrace(NamedTuple):
    """What :meth:`HierarchicalNetwork.run` records every ``record_every`` steps (R rows).

    ``band_phase`` (R, M, 3): decoded phases of bands x, y, z; ``grid_centre`` (R, M, 2); ``decoded``
    (R, 2) or None; ``place_rates`` (R, P) or None.
    """

    band_phase: np.ndarray
    grid_centre: np.ndarray
    decoded: np.ndarray | None
    place_rates: np.ndarray | None


class HierarchicalNetwork:
    """Band cells → grid cells → place cells path integration (canns ``HierarchicalNetwork``).

    Each of ``num_module`` modules (spacings linspace(spacing_min, spacing_max)) has three band-cell rings
    whose wave vectors point at module_angle − 90°, −30° and +30° (bands x, y, z at module_angle, +60°,
    +120°) and integrate the projected velocity; bands x and y drive a grid sheet on a hexagonal torus; the
    grid sheets of all modules drive num_place² place cells, whose half-max centroid is the decoded position.

    Parameters
    ----------
    num_module, num_place : int
        Number of modules and place cells per side, as in canns.
    **params
        Any other field of :class:`HierarchicalParams` (canns' names and defaults, plus ``dt``,
        ``arena_width``, ``arena_height`` and ``seed``).

    Examples
    --------
    >>> net = HierarchicalNetwork(num_module=5, num_place=30, dt=0.05)
    >>> net.update(velocity=(0.0, 0.0), loc=(2.5, 2.5), loc_input_stre=100.0)
    >>> net.decoded_pos.shape
    (2,)

    References
    ----------
    canns 1.5.0, ``canns/models/basic/hierarchical_model.py``; CANN Studio ``docs/hierarchical.md``.
    """

    def __init__(self, num_module: int = 5, num_place: int = 30, **params: object) -> None:
        self.params = HierarchicalParams.from_kwargs(num_module=num_module, num_place=num_place, **params)
        p = self.params
        self.spacing = np.linspace(p.spacing_min, p.spacing_max, p.num_module)
        self.place_center = conn.place_centres(p.num_place, p.arena_width, p.arena_height)
        self._rc = self._ring_consts()
        self._sc = self._sheet_consts()
        self._ro = self._readout()
        self._rs = kern.RingState(
            u=np.zeros((3 * p.num_module, p.band_size)),
            r=np.zeros((3 * p.num_module, p.band_size)),
            r_sum=np.zeros((3 * p.num_module, self._rc.proj.shape[1])),
            s_sum=np.zeros((3 * p.num_module, self._rc.proj.shape[1])),
            usq=np.zeros(3 * p.num_module),
            centre=np.zeros(3 * p.num_module),
        )
        n2 = p.grid_num**2
        self._ss = kern.SheetState(
            u=np.zeros((p.num_module, n2)),
            v=np.zeros((p.num_module, n2)),
            r=np.zeros((p.num_module, n2)),
            centre=np.zeros((p.num_module, 2)),
        )
        self._net = kern.Network(self._rc, self._rs, self._sc, self._ss,
                                 kern.sheet_work(p.num_module, p.grid_num), self._ro)
        self._scratch = (np.empty(self.num_place), np.empty(self.num_place, dtype=np.int64))
        self.reset()

    # ---------------------------------------------------------------- construction
    def _band_proj_k(self) -> np.ndarray:
        p = self.params
        return np.array(
            [
                conn.proj_k(p.module_angle + i * math.pi / 3, spacing)
                for spacing in self.spacing
                for i in range(3)
            ]
        )

    def _ring_consts(self) -> kern.RingConsts:
        p = self.params
        op = conn.ring_operator(p.band_size, p.gauss_a, p.gauss_J0, p.gauss_k, p.band_w_S2L)
        return kern.RingConsts(
            x=conn.ring_lattice(p.band_size),
            proj=np.ascontiguousarray(np.hstack([op.cos_xm, op.sin_xm])),
            synth=np.ascontiguousarray(np.vstack([op.cos_mx, op.sin_mx])),
            lam_rec=op.lam_rec,
            lam_left=op.lam_left,
            lam_right=op.lam_right,
            proj_k=self._band_proj_k(),
            dt_tau=p.dt / p.gauss_tau,
            dt_tau_s=p.dt / p.nonrec_tau,
            k=p.gauss_k,
            a=p.gauss_a,
            w_L2S=p.band_w_L2S,
            gain=p.band_gain,
            noise=p.band_noise,
        )

    def _sheet_consts(self) -> kern.SheetConsts:
        p = self.params
        op = conn.grid_operator(p.grid_num, p.grid_a, p.grid_J0)
        phases = conn.grid_phases(p.grid_num)
        return kern.SheetConsts(
            px=np.ascontiguousarray(phases[:, 0]),
            py=np.ascontiguousarray(phases[:, 1]),
            cos_px=np.cos(phases[:, 0]),
            sin_px=np.sin(phases[:, 0]),
            cos_py=np.cos(phases[:, 1]),
            sin_py=np.sin(phases[:, 1]),
            col_fwd=op.col_fwd,
            row_fwd=op.row_fwd,
            spectrum=op.spectrum,
            row_inv=op.row_inv,
            col_inv=op.col_inv,
            fix_row=op.fix_row,
            fix_col=op.fix_col,
            fix_val=op.fix_val,
            n=p.grid_num,
            decay_u=-math.expm1(-p.dt / p.grid_tau),
            decay_v=-math.expm1(-p.dt / p.grid_tau_v),
            m=p.grid_mbar * p.grid_tau / p.grid_tau_v,
            k=p.grid_k,
            a_in=p.gauss_a,
            amp_in=5000.0 * p.grid_A / (math.sqrt(2 * math.pi) * p.gauss_a),
            h=2 * math.pi / p.grid_num,
            input_table=conn.hex_input_table(p.grid_num, p.gauss_a),
        )

    def _readout(self) -> kern.Readout:
        p = self.params
        k = self._rc.proj_k
        blocks = [
            conn.grid_to_place(self.place_center, k[3 * m], k[3 * m + 1], p.grid_num, p.gauss_a)
            for m in range(p.num_module)
        ]
        w = np.hstack(blocks)
        return kern.Readout(
            w=w, w_t32=np.ascontiguousarray(w.T, dtype=np.float32), w_max=float(w.max()),
            centres=self.place_center
        )

    # ---------------------------------------------------------------- state
    def reset(self, seed: int | None = None) -> None:
        """Restore the constructor state: band bumps at phase 0, shifters and grid sheets at rest.

        ``seed`` replaces the constructor's ``seed`` for the shifter noise (used when band_noise > 0).
        """
        p = self.params
        bump = conn.gaussian(conn.ring_lattice(p.band_size), p.gauss_a)
        rs = self._rs
        rs.u[:] = 10.0 * bump
        rs.r[:] = 30.0 * bump
        rs.r_sum[:] = rs.r @ self._rc.proj
        rs.s_sum[:] = 0.0
        rs.usq[:] = np.sum(rs.u * rs.u, axis=1)
        rs.centre[:] = 0.0
        for arr in self._ss:
            arr[:] = 0.0
        self._rng = np.random.default_rng(p.seed if seed is None else seed)
        self.step_count = 0
        self._readout_cache: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def t(self) -> float:
        """Simulated time (s) since construction or the last reset."""
        return self.step_count * self.params.dt

    @property
    def num_module(self) -> int:
        """Number of modules M."""
        return self.params.num_module

    @property
    def num_place(self) -> int:
        """Total number of place cells P = num_place², as canns' attribute of this name."""
        return self.params.num_place**2

    # ---------------------------------------------------------------- canns' per-step interface
    def update(self, velocity: object, loc: object, loc_input_stre: float = 0.0) -> None:
        """Advance one step (canns ``HierarchicalNetwork.update``).

        Parameters
        ----------
        velocity : array_like (2,)
            Velocity (m/s); each band integrates its projection on the band's wave vector.
        loc : array_like (2,)
            Location (m) of the location input; used only when ``loc_input_stre`` ≠ 0.
        loc_input_stre : float
            Peak of the location input to every band ring (canns' anchoring uses 100).
        """
        vel = _as_points("velocity", velocity, 1)
        pos = _as_points("loc", loc, 1)
        strength = _as_strengths(loc_input_stre, 1)
        self.run(vel, pos, strength, decode=False)

    __call__ = update

    def run(
        self,
        velocity: np.ndarray,
        loc: np.ndarray,
        loc_input_stre: np.ndarray | float = 0.0,
        *,
        record_every: int = 1,
        decode: bool = True,
        place_rates: bool = False,
    ) -> NetworkTrace:
        """Advance len(velocity) steps in compiled code and record every ``record_every``-th step.

        Equivalent to calling :meth:`update` once per row (bit for bit), but without per-step overhead and
        with the place readout computed only on recorded steps (and only if ``decode``).

        Parameters
        ----------
        velocity, loc : array_like (T, 2)
            Per-step velocity (m/s) and location-input position (m); ``loc`` may also be one (2,) point.
        loc_input_stre : float or array_like (T,)
            Per-step peak of the location input (0: none).
        record_every : int
            Record steps record_every − 1, 2·record_every − 1, …
        decode, place_rates : bool
            Compute the decoded position (and the place rates) on recorded steps.

        Returns
        -------
        NetworkTrace

        Raises
        ------
        NumericalInstabilityError
            If the state becomes non-finite; the network must then be :meth:`reset`.
        """
        vel = _as_points("velocity", velocity, None)
        n_steps = vel.shape[0]
        pos = _as_points("loc", loc, n_steps)
        strength = _as_strengths(loc_input_stre, n_steps)
        if isinstance(record_every, bool) or not isinstance(record_every, int) or record_every < 1:
            raise ConfigError(f"record_every must be an integer >= 1, got {record_every!r}",
                              param="record_every")
        n_rec = n_steps // record_every
        p = self.params
        band_phase = np.zeros((n_rec, 3 * p.num_module))
        grid_centre = np.zeros((n_rec, p.num_module, 2))
        decoded = np.zeros((n_rec if decode else 0, 2))
        place = np.zeros((n_rec if decode and place_rates else 0, self.num_place))
        # Noise is drawn per chunk; chunks are whole multiples of record_every so records align.
        chunk = -(-NOISE_CHUNK // record_every) * record_every if p.band_noise > 0 else max(n_steps, 1)
        for start in range(0, n_steps, chunk):
            stop = min(start + chunk, n_steps)
            rows = slice(start // record_every, stop // record_every)
            record = kern.Record(band_phase[rows], grid_centre[rows], decoded[rows], place[rows])
            bad = kern.run(self._net, vel[start:stop], pos[start:stop], strength[start:stop],
                           self._noise(stop - start), record_every, record)
            self._readout_cache = None
            if bad >= 0:
                self.step_count += bad + 1
                raise NumericalInstabilityError(
                    f"hierarchical network state became non-finite at step {self.step_count - 1} "
                    f"(t = {self.t:g} s); reduce dt or the velocity, then reset()",
                    step=self.step_count - 1,
                    t=self.t,
                )
            self.step_count += stop - start
        return NetworkTrace(
            band_phase=band_phase.reshape(n_rec, p.num_module, 3),
            grid_centre=grid_centre,
            decoded=decoded if decode else None,
            place_rates=place if decode and place_rates else None,
        )

    def _noise(self, n_steps: int) -> np.ndarray:
        """Shifter noise for n_steps (step, band, left/right, neuron), or an empty array without noise."""
        shape = (n_steps, 3 * self.num_module, 2, self.params.band_size)
        if self.params.band_noise == 0:
            return np.empty((0, *shape[1:]))
        return self._rng.standard_normal(shape)

    # ---------------------------------------------------------------- read-only views (copies)
    def _readout_now(self) -> tuple[np.ndarray, np.ndarray]:
        if self._readout_cache is None:
            decoded = np.empty(2)  # both filled by the read-out (np.zeros would release the GIL)
            place = np.empty(self.num_place)
            kern.readout(self._ro, self._ss.r, *self._scratch, decoded, place)
            self._readout_cache = (decoded, place)
        return self._readout_cache

    @property
    def decoded_pos(self) -> np.ndarray:
        """Position (2,) decoded from the place cells (half-max centroid of their input)."""
        return self._readout_now()[0].copy()

    @property
    def place_fr(self) -> np.ndarray:
        """Place-cell rates (P,), index p = ix + iy·num_place (canns ``place_fr``)."""
        return self._readout_now()[1].copy()

    @property
    def band_phase(self) -> np.ndarray:
        """Decoded phases (M, 3) of bands x, y, z (canns ``BandCell.center``)."""
        return self._rs.centre.reshape(self.num_module, 3).copy()

    @property
    def band_r(self) -> np.ndarray:
        """Band-ring rates (M, 3, N)."""
        return self._rs.r.reshape(self.num_module, 3, -1).copy()

    @property
    def band_x_fr(self) -> np.ndarray:
        """Band-x rates (M, N) (canns ``band_x_fr``)."""
        return self.band_r[:, 0]

    @property
    def band_y_fr(self) -> np.ndarray:
        """Band-y rates (M, N) (canns ``band_y_fr``)."""
        return self.band_r[:, 1]

    @property
    def grid_fr(self) -> np.ndarray:
        """Grid-sheet rates (M, n²), neuron i = row·n + col at phase (x[col], x[row]) (canns ``grid_fr``)."""
        return self._ss.r.copy()

    @property
    def grid_centre(self) -> np.ndarray:
        """Grid bump centres (M, 2) (canns ``GridCell.center``)."""
        return self._ss.centre.copy()

    @property
    def grid_input_gain(self) -> float:
        """Amplitude of the band→grid input, 5000·grid_A (canns hard-codes 5000)."""
        return 5000.0 * self.params.grid_A

    @property
    def band_wave_vectors(self) -> np.ndarray:
        """Wave vectors (M, 3, 2) (rad/m) of bands x, y, z (canns ``proj_k``)."""
        return self._rc.proj_k.reshape(self.num_module, 3, 2).copy()


def _as_points(name: str, value: object, n_steps: int | None) -> np.ndarray:
    """Validate a (2,) or (T, 2) finite float array; a (2,) array is broadcast to n_steps rows."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape == (2,) and n_steps is not None:
        arr = np.broadcast_to(arr, (n_steps, 2))
    if arr.ndim != 2 or arr.shape[1] != 2 or (n_steps is not None and arr.shape[0] != n_steps):
        expected = "(2,)" if n_steps == 1 else f"({'T' if n_steps is None else n_steps}, 2)"
        raise ConfigError(f"{name} must have shape {expected}, got {arr.shape}", param=name)
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} contains NaN or infinite values", param=name)
    return np.ascontiguousarray(arr)


def _as_strengths(value: object, n_steps: int) -> np.ndarray:
    """Validate loc_input_stre: a finite scalar (broadcast) or a (T,) array."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n_steps, float(arr))
    if arr.shape != (n_steps,) or not np.all(np.isfinite(arr)):
        raise ConfigError(
            f"loc_input_stre must be a finite scalar or have shape ({n_steps},), got shape {arr.shape}",
            param="loc_input_stre",
        )
    return np.ascontiguousarray(arr)
