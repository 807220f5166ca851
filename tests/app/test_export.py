"""Movie and image export: decoded back with PyAV/Pillow, cancellation, bounded memory, frame sources."""

import tracemalloc
import xml.etree.ElementTree as ET

import av
import numpy as np
import pytest
from PIL import Image

from app.export.frames import FramePlan, plan_frames, recording_frames, rerun_frames
from app.export.image import export_view_image
from app.export.movie import MovieExportJob, MovieSettings, export_recording_movie, movie_source
from app.export.render import PanelRenderer
from app.export.writer import MovieWriter
from app.plots.profile import ProfileView
from app.theme import DARK, LIGHT
from canns_engine import CANN1D_SFA, Simulation, SmoothTracking1D
from canns_engine.manifest import manifest_of

pytestmark = pytest.mark.gui
SIZE = (320, 240)


@pytest.fixture(scope="module")
def experiment():
    """A recorded run with a live edit and a stimulus drag, its start manifest and events."""
    model = CANN1D_SFA(64)
    task = SmoothTracking1D(model, Iext=(0.0, 2.0), duration=(3.0,), time_step=0.05)
    sim = Simulation(model, task, seed=4)
    manifest = manifest_of(sim, at_start=True)
    sim.step(20)
    sim.apply({"k": 6.0})
    sim.step(20)
    sim.apply({"stimulus": -1.0})
    sim.step(20)
    return sim, manifest


def settings(path, **kw):
    return MovieSettings(path, size=SIZE, **{"duration": None, **kw})


def decoded(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames, (stream.width, stream.height)


def test_mp4_of_a_recording_decodes_to_every_frame_at_the_chosen_size(qapp, experiment, tmp_path):
    sim, manifest = experiment
    path = export_recording_movie(tmp_path / "run.mp4", sim.recording, manifest, events=sim.events,
                                  size=SIZE, duration=None)
    frames, size = decoded(path)
    assert size == SIZE and len(frames) == len(sim.recording) == 60
    assert frames[0].std() > 1  # something was drawn
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.mp4"]


def test_gif_is_streamed_and_complete(qapp, experiment, tmp_path):
    sim, manifest = experiment
    _, total = movie_source(settings(tmp_path / "run.gif", fps=10, duration=2.0), manifest, sim.events,
                            recording=sim.recording)
    assert total == 20
    path = export_recording_movie(tmp_path / "run.gif", sim.recording, manifest, size=SIZE, fps=10,
                                  duration=2.0)
    with Image.open(path) as gif:
        assert gif.size == SIZE and gif.n_frames == 20 and gif.info["duration"] == 100


def test_frame_plans_cover_the_time_range():
    assert plan_frames(100, fps=10, duration=2.0) == FramePlan(first=0, stride=5, count=20)
    assert plan_frames(100, fps=30, duration=None, start=10, stop=40) == FramePlan(10, 1, 30)
    assert plan_frames(7, fps=30, duration=10.0) == FramePlan(0, 1, 7)  # never a state twice
    with pytest.raises(ValueError, match="holds no recorded state"):
        plan_frames(100, fps=30, start=50, stop=50)


def test_rerunning_shows_the_recorded_states_exactly(experiment):
    sim, manifest = experiment
    plan = FramePlan(first=0, stride=7, count=8)
    rerun = list(rerun_frames(manifest, sim.events, plan))
    recorded = list(recording_frames(sim.recording, manifest, sim.events,
                                     FramePlan(first=6, stride=7, count=8)))
    assert [f.step for f in rerun] == [f.step for f in recorded] == [7, 14, 21, 28, 35, 42, 49, 56]
    for a, b in zip(rerun, recorded, strict=True):
        np.testing.assert_array_equal(a.u, b.u)
        np.testing.assert_array_equal(a.v, b.v)
        assert a.params["k"] == b.params["k"]
    assert recorded[2].params["k"] == 6.0 and recorded[1].params["k"] == 8.1


def test_cancel_stops_the_job_and_keeps_the_older_movie(qtbot, experiment, tmp_path):
    sim, manifest = experiment
    path = tmp_path / "keep.mp4"
    path.write_bytes(b"an older movie")
    s = settings(path)
    frames, total = movie_source(s, manifest, sim.events, recording=sim.recording)
    job = MovieExportJob(s, frames, total)
    with qtbot.waitSignal(job.progress, timeout=20_000):
        job.start()
    assert job.running
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        job.cancel()
    assert not job.running
    assert path.read_bytes() == b"an older movie"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_job_reports_progress_and_finishes(qtbot, experiment, tmp_path):
    sim, manifest = experiment
    s = settings(tmp_path / "done.mp4", fps=20, duration=1.0)
    frames, total = movie_source(s, manifest, sim.events, steps=sim.step_index)  # re-run, no recording
    job = MovieExportJob(s, frames, total)
    seen = []
    job.progress.connect(lambda done, n: seen.append((done, n)))
    with qtbot.waitSignal(job.finished, timeout=60_000) as blocker:
        job.start()
    assert blocker.args == [s.path] and seen[-1] == (20, 20)
    assert len(decoded(s.path)[0]) == 20


def test_movie_memory_does_not_grow_with_the_number_of_frames(qapp, tmp_path):
    renderer = PanelRenderer(SIZE, timestamp=False)
    model = CANN1D_SFA(32)
    frame = Simulation(model, None).step(1).snapshot()
    renderer.render(frame)

    def peak(n):
        tracemalloc.start()
        with MovieWriter(tmp_path / f"m{n}.mp4", fps=30, size=SIZE) as movie:
            for _ in range(n):
                movie.write(renderer.render(frame))
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return used

    one_frame = SIZE[0] * SIZE[1] * 3
    assert peak(100) - peak(10) < 20 * one_frame  # holding 100 frames would take 90 frames more
    renderer.close()


def test_renderer_films_chosen_views_in_the_light_palette(qapp, experiment, tmp_path):
    sim, manifest = experiment
    frame = next(recording_frames(sim.recording, manifest))
    with PanelRenderer(SIZE, views=["activity", "tracking"], light=True) as renderer:
        image = renderer.render(frame)
        views = renderer._panel.views
        assert views["activity"].isVisible() and not views["profile"].isVisible()
        assert views["activity"].theme is LIGHT
    assert image.shape == (SIZE[1], SIZE[0], 3)
    assert tuple(image[2, SIZE[0] // 2]) == (255, 255, 255)  # the time-stamp strip, light
    with pytest.raises(ValueError, match="no view named nope"), PanelRenderer(SIZE, views=["nope"]) as r:
        r.render(frame)


def test_png_at_dpi_and_svg_of_a_view_in_the_light_palette(qtbot, experiment, tmp_path):
    sim, manifest = experiment
    view = ProfileView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.show_frame(next(recording_frames(sim.recording, manifest)))
    png = export_view_image(view, tmp_path / "view.png", dpi=192)
    width = view.graphics.width()
    with Image.open(png) as image:
        assert image.size[0] == 2 * width
        assert round(image.info["dpi"][0]) == 192
        assert image.convert("RGB").getpixel((1, 1)) == (255, 255, 255)
    svg = export_view_image(view, tmp_path / "view.svg")
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert view.theme is DARK  # the view's own palette is back
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        export_view_image(view, tmp_path / "view.bmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view.png", "view.svg"]


# -- the Export menu on the real window -----------------------------------------------------------------
@pytest.fixture
def window(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow
    from app.settings import Settings

    win = MainWindow(settings=Settings(QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)),
                     warm_up=False)
    qtbot.addWidget(win)
    sim = win.controller.simulation
    sim.step(60)
    sim.apply({"k": 6.0})
    sim.step(40)
    yield win
    win.controller.shutdown()


def test_export_menu_and_view_menus_are_installed(window):
    texts = [a.text().replace("&", "") for a in window.menu_export.actions() if not a.isSeparator()]
    assert texts == ["Movie…", "Per-step table (CSV)…", "Activity matrix (CSV)…", "Image of view…",
                     "Copy as Python"]
    assert window.views and all(v.property("canns_export_menu") for v in window.views.values())


def test_copy_as_python_reproduces_the_live_experiment(window):
    from PySide6.QtGui import QGuiApplication

    source = window.export_actions.copy_python()
    assert QGuiApplication.clipboard().text() == source
    namespace = {}
    exec(compile(source, "<copied>", "exec"), namespace)
    live = window.controller.simulation.recording
    np.testing.assert_array_equal(namespace["recording"].summary, live.summary)


def test_per_step_table_of_the_live_recording(window, tmp_path):
    path = window.export_actions.export_table(tmp_path / "table.csv")
    table = np.genfromtxt(path, delimiter=",", names=True)
    np.testing.assert_array_equal(table["decoded_pos"], window.controller.simulation.recording.decoded_pos)
    assert (tmp_path / "table.units.csv").exists()


def test_activity_matrix_is_recomputed_in_a_worker(qtbot, window, tmp_path):
    path = tmp_path / "u.csv"
    worker = window.export_actions.export_activity(path)
    with qtbot.waitSignal(worker.returned, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: not window.export_actions.jobs, timeout=10_000)
    matrix = np.loadtxt(path, delimiter=",", skiprows=1)
    sim = window.controller.simulation
    assert matrix.shape == (100, 1 + sim.model.u.size)
    np.testing.assert_array_equal(matrix[-1, 1:], sim.model.u)  # the replay ends where the live run is


def test_movie_job_from_the_window_and_cancel_from_its_progress_dialog(qtbot, window, tmp_path):
    manifest = manifest_of(window.controller.simulation, at_start=True)
    s = settings(tmp_path / "m.mp4", duration=None)
    frames, total = movie_source(s, manifest, window.controller.simulation.events, steps=100)
    job = MovieExportJob(s, frames, total)
    progress = window.export_actions.start_movie(job)
    with qtbot.waitSignal(job.progress, timeout=20_000):
        pass
    from PySide6.QtWidgets import QPushButton

    cancel = next(b for b in progress.findChildren(QPushButton) if b.text() == "Cancel")
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        cancel.click()
    assert list(tmp_path.glob("*.mp4*")) == [] and not window.export_actions.jobs


def test_cancelling_the_activity_export_leaves_no_file_and_no_job(qtbot, window, tmp_path):
    """Cancel stops the replay at its next chunk: the worker finishes, nothing is written (not even a
    temporary file) and the job is forgotten."""
    folder = tmp_path / "exports"
    folder.mkdir()
    worker = window.export_actions.export_activity(folder / "u.csv")
    returned = []
    worker.returned.connect(returned.append)
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        worker.quit()
    qtbot.waitUntil(lambda: not window.export_actions.jobs, timeout=10_000)
    assert not returned and list(folder.iterdir()) == []
