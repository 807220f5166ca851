"""A plain numpy, dense, float64 implementation of the canns equations (CANN_MODELS.md).

Written independently of the engine (no shared helpers): dense weight matrices, inputs from the
stimulus formula, forward Euler in canns' order. The engine must agree with it to 1e-9 relative.
"""

import numpy as np


def wrap(d, z_range):
    d = np.remainder(d, z_range)
    return np.where(d > z_range / 2, d - z_range, d)


def grid(num, z_min=-np.pi, z_max=np.pi, endpoint=True):
    return np.linspace(z_min, z_max, num, endpoint=endpoint)


def dense_weights(x, J0, a, z_range, ndim):
    if ndim == 1:
        d = wrap(x[:, None] - x[None, :], z_range)
        dist2 = d**2
    else:
        xx, yy = np.meshgrid(x, x)  # neuron (i, j) at (x[j], x[i])
        px, py = xx.ravel(), yy.ravel()
        dist2 = wrap(px[:, None] - px[None, :], z_range) ** 2 + wrap(py[:, None] - py[None, :], z_range) ** 2
    return J0 * np.exp(-0.5 * dist2 / a**2) / (np.sqrt(2 * np.pi) * a)


def stimulus(x, pos, A, a, z_range, ndim):
    if ndim == 1:
        return A * np.exp(-0.25 * wrap(x - pos, z_range) ** 2 / a**2)
    xx, yy = np.meshgrid(x, x)
    dist2 = wrap(xx - pos[0], z_range) ** 2 + wrap(yy - pos[1], z_range) ** 2
    return A * np.exp(-0.25 * dist2 / a**2)


def run(params, ndim, sfa, inputs, dt, k_per_step=None):
    """Integrate from zero state; ``inputs`` has one input array per step. Returns u (and v) per step.

    ``k_per_step`` optionally gives the inhibition of each step (a live change of ``k``)."""
    size = params["num"] if ndim == 1 else params["length"]
    x = grid(size, params["z_min"], params["z_max"], params.get("endpoint", True))
    z_range = params["z_max"] - params["z_min"]
    W = dense_weights(x, params["J0"], params["a"], z_range, ndim)
    shape = (size,) * ndim
    u = np.zeros(shape)
    v = np.zeros(shape)
    us, vs = [], []
    ks = [params["k"]] * len(inputs) if k_per_step is None else k_per_step
    for inp, k in zip(inputs, ks, strict=True):
        r = u**2 / (1 + k * np.sum(u**2))
        irec = (W @ r.ravel()).reshape(shape)
        if sfa:
            u = u + dt / params["tau"] * (-u + irec + inp - v)
            v = v + dt / params["tau_v"] * (-v + params["m"] * u)
        else:
            u = u + dt / params["tau"] * (-u + irec + inp)
        us.append(u)
        vs.append(v)
    return np.array(us), np.array(vs)
