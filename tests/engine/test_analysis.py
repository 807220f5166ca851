"""Read-outs: decoders across the seam, widths, errors, lag."""

import numpy as np
import pytest

from canns_engine.analysis import (
    bump_width,
    decode_2d,
    decode_center_of_mass,
    decode_population_vector,
    tracking_error,
    tracking_lag,
)

X = np.linspace(-np.pi, np.pi, 128)


def bump(center, width=0.4, x=X):
    d = np.remainder(x - center + np.pi, 2 * np.pi) - np.pi
    return np.exp(-(d**2) / (2 * width**2))


@pytest.mark.parametrize("center", [-3.0, -1.0, 0.0, 2.5, 3.1, np.pi - 0.01])
def test_population_vector_finds_bumps_anywhere_including_the_seam(center):
    assert decode_population_vector(bump(center), X) == pytest.approx(
        np.remainder(center + np.pi, 2 * np.pi) - np.pi, abs=1e-3)


def test_center_of_mass_is_biased_at_the_seam_but_exact_in_the_middle():
    assert decode_center_of_mass(bump(0.5), X) == pytest.approx(0.5, abs=1e-3)
    assert abs(decode_center_of_mass(bump(3.1), X) - 3.1) > 1.0  # why the population vector is the default


def test_decoders_are_vectorised_over_time():
    u = np.stack([bump(c) for c in (0.0, 1.0, -2.0)])
    np.testing.assert_allclose(decode_population_vector(u, X), [0.0, 1.0, -2.0], atol=1e-3)


def test_2d_decode_returns_x_then_y():
    x = np.linspace(-np.pi, np.pi, 32)
    sheet = bump(1.0, x=x)[None, :] * bump(-2.0, x=x)[:, None]  # column position 1.0, row position -2.0
    np.testing.assert_allclose(decode_2d(sheet, x), (1.0, -2.0), atol=1e-3)


def test_width_counts_neurons_above_ten_percent_of_peak():
    dx = 2 * np.pi / 128
    expected = np.count_nonzero(bump(0.0) > 0.1) * dx
    assert bump_width(bump(0.0), dx) == pytest.approx(expected)
    assert bump_width(np.zeros(128), dx) == 0.0


def test_tracking_error_wraps_and_lag_is_recovered():
    assert tracking_error(3.1, -3.1) == pytest.approx(2 * np.pi - 6.2)
    t = np.arange(0, 50, 0.1)
    stim = np.sin(0.3 * t)
    decoded = np.sin(0.3 * (t - 1.5))  # trails by 1.5 time units
    assert tracking_lag(decoded, stim, dt=0.1) == pytest.approx(1.5, abs=0.11)


def test_periodic_difference_gives_the_bits_of_python_modulo():
    """``wrap_scalar`` skips the ``fmod`` call where ``d`` is within one period of zero; it must give the
    same bits as ``d % z_range`` then the shift into ``(-z/2, z/2]`` (the step loop's input bumps rely on
    it: a run must not change with the shortcut)."""
    from canns_engine.analysis import wrap_scalar

    def reference(d, z):
        d = d % z
        return d - z if d > z / 2 else d

    rng = np.random.default_rng(3)
    for z in (2 * np.pi, 6.0, 10.0, 0.3):
        ds = np.concatenate([rng.uniform(-3 * z, 3 * z, 2000), rng.uniform(-z, z, 2000) * 1e-9,
                             [0.0, -0.0, z, -z, z / 2, -z / 2, np.nextafter(z, 0), np.nextafter(-z, 0),
                              np.nextafter(z / 2, z), 1e300, -1e300, np.nan, np.inf]])
        got = np.array([wrap_scalar(float(d), z) for d in ds])
        want = np.array([reference(float(d), z) for d in ds])
        same = (got.view(np.int64) == want.view(np.int64)) | (np.isnan(got) & np.isnan(want))
        assert same.all(), ds[~same]
        assert (-z / 2 < got[np.isfinite(got)]).all() and (got[np.isfinite(got)] <= z / 2).all()
