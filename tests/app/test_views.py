"""Every view renders something real (not a blank plot), in both themes; the view histories behave.

The screenshots are saved to ``$CANNS_STUDIO_SHOTS`` (default ``<tmp>/shots``): look at them after a
change to a view.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from app import resources
from app.plots.history import KymographBuffer, TraceBuffer, break_at_wraps, wrap_position

PRESETS = {"smooth_tracking": "ring", "tracking_2d": "sheet", "sfa_travelling_wave": "ring + adaptation"}


def image_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    # a copy: ``data`` points into the converted image, which is freed when this function returns
    # (reading it afterwards gave garbage now and then: an intermittent "looks blank" failure)
    return data.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width(), :3].copy()


def plot_areas(view, pixels: np.ndarray) -> list[np.ndarray]:
    """The data areas (inside the axes) of every plot of ``view``, cropped from its grab."""
    areas = []
    for spec in view._plots:
        rect = view.graphics.mapFromScene(spec.plot.vb.sceneBoundingRect()).boundingRect()
        offset = view.graphics.mapTo(view, view.graphics.rect().topLeft())
        rect.translate(offset)
        areas.append(pixels[max(rect.top(), 0):rect.bottom(), max(rect.left(), 0):rect.right()])
    return areas


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_view_draws_a_non_blank_picture(make_window, run_steps, shots, preset, theme):
    window = make_window(resources.presets_dir() / f"{preset}.json")
    window.set_theme(theme)
    run_steps(window.controller, 1500 if preset != "tracking_2d" else 600, speed=200.0)
    window.grab().save(str(shots / f"window_{preset}_{theme}.png"))
    views = dict(window.views)
    if preset == "tracking_2d":
        views.pop("adaptation")  # CANN2D has no adaptation: the view only says so
    for name, view in views.items():
        window.docks[name].show()
        window.docks[name].raise_()
        view.redraw()
        image = view.grab().toImage()
        image.save(str(shots / f"{preset}_{name}_{theme}.png"))
        for area in plot_areas(view, image_array(image)):
            assert area.size, f"{name}: empty plot area"
            pixels = area.reshape(-1, 3)
            colours, counts = np.unique(pixels, axis=0, return_counts=True)
            drawn = 1.0 - counts.max() / len(pixels)  # everything but the background colour
            assert len(colours) >= 3 and drawn > 0.005, (
                f"{name} ({theme}) looks blank: {len(colours)} colours, {drawn:.1%} of pixels drawn")


def test_trace_buffer_keeps_the_newest_rows_in_order():
    buffer = TraceBuffer(2, capacity=5)
    for i in range(8):
        buffer.append(float(i), [i, -i])
    rows = buffer.rows()
    np.testing.assert_array_equal(rows[:, 0], [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(buffer.rows(since=5.5)[:, 0], [6, 7])
    np.testing.assert_array_equal(buffer.last(), [7, 7, -7])


def test_wrapped_lines_break_instead_of_jumping():
    t = np.arange(5.0)
    y = wrap_position(np.array([2.5, 3.0, 3.4, 3.9, 4.4]), -np.pi, 2 * np.pi)  # crosses +π
    tt, yy = break_at_wraps(t, y, 2 * np.pi)
    assert np.isnan(yy).sum() == 1
    finite = np.isfinite(yy)
    assert np.all(np.abs(np.diff(yy[finite][:2])) < np.pi)
    assert np.all((y >= -np.pi) & (y < np.pi))
    assert len(tt) == len(yy) == 6


def test_kymograph_columns_follow_simulated_time():
    buffer = KymographBuffer(rows=3, window=10.0, columns=10)
    for i in range(25):
        buffer.add(i * 0.5, np.full(3, float(i)))
    image, start = buffer.image()
    assert image.shape == (3, 10) and start == pytest.approx(3.0)
    assert image[0, -1] == 24 and image[0, 0] == 7
    wider = buffer.resampled(20.0)
    image, start = wider.image()
    assert start == pytest.approx(4.0) and image[0, -1] == 24


def test_kymograph_frames_spanning_many_columns_and_the_ring_wrap():
    buffer = KymographBuffer(rows=4, window=8.0, columns=8)
    buffer.add(0.5, np.full(4, 1.0))
    buffer.add(5.2, np.full(4, 2.0))  # columns 1–2 are nearer t = 0.5, 3–5 nearer t = 5.2
    image, start = buffer.image()
    assert start == 0.0
    np.testing.assert_array_equal(image[0], [1, 1, 1, 2, 2, 2])
    buffer.add(100.3, np.arange(4.0))  # far beyond the window: every column is the new state
    image, start = buffer.image()
    assert image.shape == (4, 8) and start == pytest.approx(93.0)
    np.testing.assert_array_equal(image, np.repeat(np.arange(4.0)[:, None], 8, axis=1))
    for i in range(13):  # one column at a time, around the ring more than once
        buffer.add(101.5 + i, np.full(4, float(i)))
    image, start = buffer.image(row_stride=2)
    assert image.shape == (2, 8) and start == pytest.approx(106.0)
    np.testing.assert_array_equal(image[1], np.arange(5.0, 13.0))


def test_lean_axis_draws_exactly_what_pyqtgraph_draws(qtbot):
    import pyqtgraph as pg

    from app.plots.axis import LeanAxisItem

    plots = []
    for lean in (False, True, True):  # pyqtgraph's axis, ours, ours labelling a shifted range
        widget = pg.GraphicsLayoutWidget()
        qtbot.addWidget(widget)
        widget.resize(420, 300)
        axes = {side: LeanAxisItem(side) for side in ("left", "bottom")} if lean else None
        plot = widget.addPlot(axisItems=axes)
        plot.setLabel("bottom", "time t (τ units)")
        widget.show()
        plots.append((widget, plot))
    (a, _), (b, _), (c, shifted) = plots

    def same_picture() -> bool:
        expected = a.grab().toImage()
        return b.grab().toImage() == expected and c.grab().toImage() == expected

    for x0, x1, y0, y1 in [(0, 50, -3.14, 3.14), (12345.6, 12395.6, 0, 0.1), (-7, 3, 0, 2.5e-3)]:
        for _, plot in plots:
            plot.setXRange(x0, x1, padding=0)
            plot.setYRange(y0, y1, padding=0.02)
        # a scrolling view's way: the range starts at 0, the axis labels it from x0
        shifted.setXRange(0, x1 - x0, padding=0)
        shifted.getAxis("bottom").set_offset(x0)
        # the same picture once the layouts settle (an axis that needs wider labels re-lays out later)
        qtbot.waitUntil(same_picture, timeout=2000)
    lean_axis = plots[1][1].getAxis("bottom")
    assert isinstance(lean_axis, LeanAxisItem)
    # the same tick values as pyqtgraph's (its duplicate test is done without numpy), in the same order
    reference = pg.AxisItem("bottom")
    rng = np.random.default_rng(7)
    for _ in range(300):
        low, span, size = rng.uniform(-1e5, 1e5), 10 ** rng.uniform(-4, 5), rng.uniform(40, 1200)
        scale = rng.choice([1.0, 0.5, 3.0])
        lean_axis.setScale(scale)
        reference.setScale(scale)
        assert lean_axis.tickValues(low, low + span, size) == reference.tickValues(low, low + span, size)


def test_a_drawn_frame_is_painted_once(make_window, run_steps):
    from PySide6.QtCore import QEvent, QObject

    window = make_window(resources.presets_dir() / "smooth_tracking.json")
    run_steps(window.controller, 300)
    view = window.views["activity"]
    paints = []

    class PaintCounter(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                paints.append(obj)
            return False

    counter = PaintCounter()
    window.controller.set_speed(1000.0)  # each step below moves the scrolling time axis
    QApplication.processEvents()
    view.graphics.viewport().installEventFilter(counter)
    for _ in range(5):
        window.controller.step_once()
        for _ in range(3):
            QApplication.processEvents()
    view.graphics.viewport().removeEventFilter(counter)
    assert len(paints) == 5  # a changed range used to cost a second paint of the whole view


def test_scrolling_repaints_only_the_time_axes(make_window, run_steps, monkeypatch):
    from app.plots.axis import LeanAxisItem

    window = make_window(resources.presets_dir() / "smooth_tracking.json")
    run_steps(window.controller, 300)
    painted = []
    original = LeanAxisItem.drawPicture  # what every paint of an axis does

    def counting(axis, *args):
        painted.append(axis)
        return original(axis, *args)

    window.controller.set_speed(1000.0)  # each step below moves the scrolling time axes

    def steps(n: int) -> None:
        for _ in range(n):
            window.controller.step_once()
            for _ in range(3):
                QApplication.processEvents()

    steps(3)  # the first larger steps may still widen an axis (longer labels): a legitimate repaint
    monkeypatch.setattr(LeanAxisItem, "drawPicture", counting)
    steps(5)
    activity, tracking = window.views["activity"], window.views["tracking"]
    time_axes = [activity.plot.getAxis("bottom"), tracking.error_plot.getAxis("bottom")]
    fixed_axes = [activity.plot.getAxis("left"), *(plot.getAxis("left") for plot in tracking.position_plots)]
    assert [painted.count(axis) for axis in time_axes] == [5] * len(time_axes)
    # the others come from their cached pixmaps (they used to be drawn again on every frame)
    assert not set(fixed_axes) & set(painted)


def test_connectivity_follows_a_and_shows_the_hovered_row(window):
    from PySide6.QtCore import QPointF

    from canns_engine.connectivity import conn_mat_1d

    view = window.views["connectivity"]
    frame = window.controller.latest_frame
    expected = conn_mat_1d(frame.x, 4.0, 0.5, float(frame.x[-1] - frame.x[0]))
    np.testing.assert_allclose(view.image.image, expected)
    view._matrix_vb.hovered.emit(QPointF(0.0, float(frame.x[30])))
    assert view.hovered_neuron == 30 and view.hover_curve.isVisible()
    np.testing.assert_allclose(view.hover_curve.getData()[1], expected[30])
    view._matrix_vb.hovered.emit(None)
    assert not view.hover_curve.isVisible()
    window.param_panel.fields["a"].spin.setValue(0.3)  # a structural edit: the weights are rebuilt
    narrower = conn_mat_1d(frame.x, 4.0, 0.3, float(frame.x[-1] - frame.x[0]))
    np.testing.assert_allclose(view.image.image, narrower)
    assert "a = 0.3 rad" in view.caption.text
