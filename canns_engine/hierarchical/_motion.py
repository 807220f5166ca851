"""Numba kernels of the navigating agent: canns_lib's random-walk motion model and closed-loop driving.

The agent state is a float64 array ``state`` = [x, y, vx, vy, ω, hx, hy] (position, internal velocity,
rotational velocity, unit head direction). ``p`` holds the motion parameters in the order of ``P_*`` below;
``walls`` (4, 2, 2) are the box walls in canns' order (bottom, right, top, left). Both kernels write, per
step, the position after the step, the measured velocity (position change / dt) and the head-direction angle.
"""

from __future__ import annotations

import math

from numba import njit

# Indices into the parameter vector.
P_DT, P_SPEED_MEAN, P_SPEED_STD, P_TAU_SPEED, P_TAU_ROT, P_SIGMA_ROT, P_TAU_HD, P_THIGMO, P_REPEL_D, \
    P_REPEL_S, P_WIDTH, P_HEIGHT = range(12)
N_PARAMS = 12
MAX_BOUNCES = 16


@njit(cache=True, nogil=True)
def _ou(x, mu, sigma, tau, dt, xi):
    """Ornstein–Uhlenbeck increment (μ − x)·dt/τ + σ·√(2dt/τ)·ξ; μ − x when τ ≤ 0."""
    if tau <= 0.0:
        return mu - x
    return (mu - x) * dt / tau + sigma * math.sqrt(2.0 * dt / tau) * xi


@njit(cache=True, nogil=True)
def _norm_cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@njit(cache=True, nogil=True)
def _norm_ppf(q):
    """Inverse standard-normal CDF for q in (0, 1): Acklam's rational approximation plus one Halley step."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if q < 0.02425:
        s = math.sqrt(-2.0 * math.log(q))
        z = (((((c[0] * s + c[1]) * s + c[2]) * s + c[3]) * s + c[4]) * s + c[5]) / (
            (((d[0] * s + d[1]) * s + d[2]) * s + d[3]) * s + 1.0)
    elif q > 1.0 - 0.02425:
        s = math.sqrt(-2.0 * math.log(1.0 - q))
        z = -(((((c[0] * s + c[1]) * s + c[2]) * s + c[3]) * s + c[4]) * s + c[5]) / (
            (((d[0] * s + d[1]) * s + d[2]) * s + d[3]) * s + 1.0)
    else:
        s = q - 0.5
        t = s * s
        z = (((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * s / (
            ((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1.0)
    e = _norm_cdf(z) - q
    u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * z * z)
    return z - u / (1.0 + 0.5 * z * u)


@njit(cache=True, nogil=True)
def _clamp_to_box(state, p):
    state[0] = min(max(state[0], 0.0), p[P_WIDTH])
    state[1] = min(max(state[1], 0.0), p[P_HEIGHT])


@njit(cache=True, nogil=True)
def _rotate_and_resample_speed(state, p, xi_rot, xi_speed):
    """Steps 1–2: OU rotational velocity turns v; the speed follows an OU process in Gaussian space that is
    mapped to Rayleigh(σ = speed_mean) (speed_std only switches this off when 0)."""
    dt = p[P_DT]
    state[4] += _ou(state[4], 0.0, p[P_SIGMA_ROT], p[P_TAU_ROT], dt, xi_rot)
    angle = state[4] * dt
    ca, sa = math.cos(angle), math.sin(angle)
    vx = ca * state[2] - sa * state[3]
    vy = sa * state[2] + ca * state[3]
    speed = math.hypot(vx, vy)
    if speed < 1e-8:
        vx, vy, speed = 1e-8, 0.0, 1e-8
    sigma = p[P_SPEED_MEAN]
    q = min(max(1.0 - math.exp(-speed * speed / (2.0 * sigma * sigma)), 1e-6), 1.0 - 1e-6)
    z = _norm_ppf(q)
    z += _ou(z, 0.0, 1.0, p[P_TAU_SPEED], dt, xi_speed)
    new_speed = sigma * math.sqrt(-2.0 * math.log(1.0 - min(max(_norm_cdf(z), 1e-10), 1.0 - 1e-10)))
    if p[P_SPEED_STD] == 0.0:
        new_speed = p[P_SPEED_MEAN]
    state[2] = vx * new_speed / speed
    state[3] = vy * new_speed / speed


@njit(cache=True, nogil=True)
def _repel_from_walls(state, p, walls):
    """Step 4: within wall_repel_distance of a wall, accelerate away (weight 3(1 − θ)²) and shift the
    position away (weight 6θ²), θ = thigmotaxis."""
    d_w = p[P_REPEL_D]
    if d_w <= 0.0:
        return
    v0 = p[P_REPEL_S] * p[P_SPEED_MEAN]
    kappa = v0 * v0 / (d_w * d_w)
    ax = ay = sx = sy = 0.0
    for w in range(walls.shape[0]):
        x0, y0 = walls[w, 0, 0], walls[w, 0, 1]
        ex, ey = walls[w, 1, 0] - x0, walls[w, 1, 1] - y0
        t = ((state[0] - x0) * ex + (state[1] - y0) * ey) / (ex * ex + ey * ey)
        t = min(max(t, 0.0), 1.0)
        rx, ry = state[0] - (x0 + t * ex), state[1] - (y0 + t * ey)
        d = math.hypot(rx, ry)
        if d < 1e-9 or d > d_w:
            continue
        nx, ny = rx / d, ry / d
        ax += kappa * (d_w - d) * nx
        ay += kappa * (d_w - d) * ny
        push = v0 * (1.0 - math.sqrt(max(0.0, 1.0 - (d_w - d) ** 2 / (d_w * d_w))))
        sx += push * nx
        sy += push * ny
    theta = p[P_THIGMO]
    dt = p[P_DT]
    state[2] += 3.0 * (1.0 - theta) ** 2 * ax * dt
    state[3] += 3.0 * (1.0 - theta) ** 2 * ay * dt
    state[0] += 6.0 * theta * theta * sx * dt
    state[1] += 6.0 * theta * theta * sy * dt
    _clamp_to_box(state, p)


@njit(cache=True, nogil=True)
def _first_crossed_wall(px, py, qx, qy, walls):
    """Index of the first wall (in list order) that the segment p→q crosses strictly inside, or −1."""
    rx, ry = qx - px, qy - py
    for w in range(walls.shape[0]):
        x0, y0 = walls[w, 0, 0], walls[w, 0, 1]
        sx, sy = walls[w, 1, 0] - x0, walls[w, 1, 1] - y0
        det = rx * sy - ry * sx
        if abs(det) < 1e-10:
            continue
        t = ((x0 - px) * sy - (y0 - py) * sx) / det
        u = ((x0 - px) * ry - (y0 - py) * rx) / det
        if 0.0 < t < 1.0 and 0.0 < u < 1.0:
            return w
    return -1


@njit(cache=True, nogil=True)
def _move_and_bounce(state, p, walls, prev_x, prev_y):
    """Steps 5–6: move by v·dt; while the move crosses a wall, reflect v about it, set |v| to half the mean
    speed and move again from the previous position."""
    dt = p[P_DT]
    state[0] += state[2] * dt
    state[1] += state[3] * dt
    for _ in range(MAX_BOUNCES):
        w = _first_crossed_wall(prev_x, prev_y, state[0], state[1], walls)
        if w < 0:
            return
        ex, ey = walls[w, 1, 0] - walls[w, 0, 0], walls[w, 1, 1] - walls[w, 0, 1]
        norm = math.hypot(ex, ey)
        ex, ey = ex / norm, ey / norm
        par = state[2] * ex + state[3] * ey
        vx = 2.0 * par * ex - state[2]
        vy = 2.0 * par * ey - state[3]
        scale = 0.5 * p[P_SPEED_MEAN] / max(math.hypot(vx, vy), 1e-12)
        state[2], state[3] = vx * scale, vy * scale
        state[0] = prev_x + state[2] * dt
        state[1] = prev_y + state[3] * dt
    _clamp_to_box(state, p)


@njit(cache=True, nogil=True)
def _record(state, p, prev_x, prev_y, out_pos, out_vel, out_hd, t):
    """Step 7: measured velocity and head-direction smoothing towards the direction of motion."""
    dt = p[P_DT]
    vx = (state[0] - prev_x) / dt
    vy = (state[1] - prev_y) / dt
    speed = math.hypot(vx, vy)
    if speed > 0.0:
        alpha = min(max(dt / p[P_TAU_HD], 0.0), 1.0)
        hx = (1.0 - alpha) * state[5] + alpha * vx / speed
        hy = (1.0 - alpha) * state[6] + alpha * vy / speed
        norm = math.hypot(hx, hy)
        if norm > 0.0:
            state[5], state[6] = hx / norm, hy / norm
    out_pos[t, 0], out_pos[t, 1] = state[0], state[1]
    out_vel[t, 0], out_vel[t, 1] = vx, vy
    out_hd[t] = math.atan2(state[6], state[5])


@njit(cache=True)  # keeps the GIL: a chunk's walk takes microseconds, winning the GIL back takes more
def random_walk(state, p, walls, xi, out_pos, out_vel, out_hd):
    """Advance len(xi) steps of canns_lib's motion model; xi (T, 2) are standard normals (rotation, speed)."""
    for t in range(xi.shape[0]):
        prev_x, prev_y = state[0], state[1]
        _rotate_and_resample_speed(state, p, xi[t, 0], xi[t, 1])
        _repel_from_walls(state, p, walls)
        _move_and_bounce(state, p, walls, prev_x, prev_y)
        _record(state, p, prev_x, prev_y, out_pos, out_vel, out_hd, t)


@njit(cache=True)  # keeps the GIL: a chunk's walk takes microseconds, winning the GIL back takes more
def drive(state, p, vx, vy, out_pos, out_vel, out_hd):
    """Advance len(out_pos) steps at the commanded velocity (closed loop); the walls stop the agent.

    The internal velocity becomes the command (when non-zero), so a later random walk continues from it.
    """
    dt = p[P_DT]
    if vx != 0.0 or vy != 0.0:
        state[2], state[3] = vx, vy
    for t in range(out_pos.shape[0]):
        prev_x, prev_y = state[0], state[1]
        state[0] += vx * dt
        state[1] += vy * dt
        _clamp_to_box(state, p)
        _record(state, p, prev_x, prev_y, out_pos, out_vel, out_hd, t)
