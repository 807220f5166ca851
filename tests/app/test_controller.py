"""The simulation controller: worker lifecycle, live edits, pause/step/reset, latency, shutdown."""

from __future__ import annotations

import gc
import time

import numpy as np
import pytest

from app.controller import RunState, SimulationController
from app.workers import Worker
from canns_engine import CANN1D, NumericalInstabilityError, Simulation, SmoothTracking1D


@pytest.fixture
def controller(qtbot):
    ctrl = SimulationController()
    ctrl.warm_up()
    qtbot.waitUntil(lambda: not ctrl.is_warming_up, timeout=180_000)
    model = CANN1D(num=64)
    task = SmoothTracking1D(model, Iext=(0.0, 2.0), duration=(500.0,), time_step=0.05)
    ctrl.set_simulation(Simulation(model, task, record="summary"))
    yield ctrl
    ctrl.shutdown()
    assert ctrl.state is RunState.IDLE


def own_workers(ctrl):
    return [w for w in Worker.running if w is ctrl._worker]


def test_start_yields_frames_and_stop_returns_to_idle(qtbot, controller):
    frames = []
    controller.frame_ingested.connect(frames.append)
    with qtbot.waitSignal(controller.frame_ready, timeout=5000):
        assert controller.start()
    assert controller.state is RunState.RUNNING
    with qtbot.waitSignal(controller.run_state_changed, timeout=5000,
                          check_params_cb=lambda s: s is RunState.IDLE):
        controller.stop()
    steps = [f.step for f in frames]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert controller.simulation.step_index == frames[-1].step  # the last frame is the state


def test_speed_paces_simulated_time(qtbot, controller):
    controller.set_speed(20.0)
    controller.start()
    qtbot.wait(1500)
    stats = controller.stats()
    controller.stop(wait=True)
    assert stats.rtf == pytest.approx(20.0, rel=0.25)


def test_pause_latency_is_below_100_ms(qtbot, controller):
    controller.set_speed(None)
    controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame is not None and controller.latest_frame.step > 2000)
    latencies = []
    for _ in range(3):
        start = time.perf_counter()
        controller.stop()
        qtbot.waitUntil(lambda: controller.state is RunState.IDLE, timeout=1000)
        latencies.append(time.perf_counter() - start)
        controller.start()
        qtbot.wait(100)
    controller.stop(wait=True)
    assert max(latencies) < 0.1, latencies


def test_live_edit_reaches_the_running_engine(qtbot, controller):
    controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame is not None)
    controller.apply({"k": 3.0})
    controller.apply({"A": 4.0})  # two quick edits: neither may be lost
    qtbot.waitUntil(lambda: controller.latest_frame.params["k"] == 3.0
                    and controller.latest_frame.params["A"] == 4.0, timeout=3000)
    assert controller.is_running
    controller.stop(wait=True)
    assert controller.simulation.model.k == 3.0 and controller.simulation.model.A == 4.0
    assert next(e for e in controller.simulation.events if "k" in e)["k"] == 3.0


def test_refused_edit_while_running_is_reported_and_the_run_continues(qtbot, controller):
    controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame is not None)
    with qtbot.waitSignal(controller.update_rejected, timeout=3000) as blocker:
        controller.apply({"k": -1.0})
    update, exc = blocker.args
    assert update == {"k": -1.0} and exc.param == "k"
    assert controller.is_running
    assert controller.params["k"] == pytest.approx(8.1)  # the request was rolled back
    controller.stop(wait=True)


def test_check_update_names_the_parameter(controller):
    with pytest.raises(ValueError, match="dt") as info:
        controller.check_update(controller.dt_update(2.0))  # dt > tau is unstable
    assert info.value.param == "dt"
    controller.check_update({"k": 1.0})


def test_step_while_idle_and_while_running(qtbot, controller):
    start = controller.simulation.step_index
    controller.step_once()
    n = controller.steps_per_display_frame()
    assert controller.simulation.step_index == start + n
    assert controller.latest_frame.step == start + n
    controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame.step > start + 10 * n)
    controller.step_once()  # pauses first, then steps
    assert controller.state is RunState.IDLE
    assert controller.latest_frame.step == controller.simulation.step_index


def test_reset_returns_to_zero_and_pauses(qtbot, controller):
    controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame is not None and controller.latest_frame.step > 50)
    with qtbot.waitSignal(controller.views_reset):
        controller.reset()
    assert controller.state is RunState.IDLE
    assert controller.simulation.step_index == 0
    assert controller.latest_frame.step == 0 and not np.any(controller.latest_frame.u)


def test_divergence_is_reported_and_blocks_runs_until_reset(qtbot, controller):
    controller.apply({"k": 0.0})
    with qtbot.waitSignal(controller.error_occurred, timeout=10_000) as blocker:
        controller.start()
    assert isinstance(blocker.args[0], NumericalInstabilityError)
    qtbot.waitUntil(lambda: controller.state is RunState.IDLE)
    with qtbot.waitSignal(controller.error_occurred):
        assert not controller.start()
    controller.apply({"k": 8.1})
    controller.reset()
    assert controller.diverged is None
    assert controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame.step > 20)
    controller.stop(wait=True)


def test_a_late_done_mark_of_the_previous_worker_does_not_cut_the_next_ones_stop_short(qtbot, controller):
    """A worker's thread marks it done after posting its ``finished``; if that thread is preempted in
    between, the GUI may already have started the next worker when the mark arrives."""
    controller.apply({"k": 0.0})
    with qtbot.waitSignal(controller.error_occurred, timeout=10_000):
        assert controller.start()  # diverges at once: the first worker ends by itself
        previous = controller._worker
    qtbot.waitUntil(lambda: controller.state is RunState.IDLE)
    controller.apply({"k": 8.1})
    controller.reset()
    assert controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame.step > 20)
    previous._ended.set()  # the previous worker's thread, late
    controller.stop(wait=True)
    assert controller.state is RunState.IDLE
    assert not own_workers(controller)


def test_back_to_back_runs_that_end_by_themselves_leave_the_app_sound(qtbot, controller):
    """A run that ends by itself, restarted from its own ``finished`` again and again, with collections in
    between: the finished worker's thread may still be inside its last calls when the next run starts,
    and must not touch anything the loop has let go of (an event owned by the loop crashed CI here)."""
    model = CANN1D(num=32)
    task = SmoothTracking1D(model, Iext=(0.0, 1.0), duration=(1.0,), time_step=0.05)
    controller.set_simulation(Simulation(model, task, record="summary"))
    controller.set_speed(None)
    for _ in range(40):
        controller.reset()
        with qtbot.waitSignal(controller.protocol_finished, timeout=10_000):
            assert controller.start()
        qtbot.waitUntil(lambda: controller.state is RunState.IDLE)
        gc.collect()
    assert controller.state is RunState.IDLE
    assert controller.latest_frame.step == task.total_steps
    assert not own_workers(controller)


def test_protocol_end_stops_then_run_continues_without_input(qtbot, controller):
    model = CANN1D(num=32)
    task = SmoothTracking1D(model, Iext=(0.0, 1.0), duration=(2.0,), time_step=0.05)
    controller.set_simulation(Simulation(model, task, record="summary"))
    controller.set_speed(None)
    with qtbot.waitSignal(controller.protocol_finished, timeout=5000):
        controller.start()
    qtbot.waitUntil(lambda: controller.state is RunState.IDLE)
    assert controller.simulation.step_index == task.total_steps
    controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame.step > task.total_steps + 100)
    controller.stop(wait=True)
    assert np.isnan(controller.latest_frame.stim_pos)


def test_shutdown_leaves_no_worker(qtbot, controller):
    controller.start()
    qtbot.waitUntil(lambda: controller.latest_frame is not None)
    assert own_workers(controller)
    worker = controller._worker
    controller.shutdown()
    assert controller.state is RunState.IDLE
    assert worker.done and not controller._worker  # its thread has left the generator
    qtbot.waitUntil(lambda: worker not in Worker.running)  # and the pool no longer holds it


def test_display_ticks_keep_60_hz_and_the_switch_interval_is_restored(qtbot, controller):
    import sys

    from app.controller import DISPLAY_HZ
    from app.run_loop import RUN_SWITCH_INTERVAL

    before = sys.getswitchinterval()
    controller.set_loop(True)  # the protocol would end within the second at full speed
    controller.set_speed(None)
    ticks = []
    controller._render_timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    controller.start()
    assert sys.getswitchinterval() == pytest.approx(min(before, RUN_SWITCH_INTERVAL))
    qtbot.wait(1000)
    controller.stop(wait=True)
    assert sys.getswitchinterval() == pytest.approx(before)
    # ticks on a 1/60 s grid (a 17 ms interval would give 58.8 Hz); a loaded machine only drops some
    span = ticks[-1] - ticks[0]
    assert (len(ticks) - 1) / span <= DISPLAY_HZ * 1.02
    intervals = np.diff(ticks)
    assert np.median(intervals) == pytest.approx(1 / DISPLAY_HZ, abs=0.002)


def test_a_display_tick_without_a_new_frame_draws_the_next_one_on_arrival(controller):
    """A tick that finds nothing new is owed: the next frame is drawn when it arrives (not a tick
    later); after that, frames wait for the ticks again, so drawing never outruns the display rate."""
    from app.controller import Tick

    drawn = []
    controller.frame_ready.connect(drawn.append)
    sim = controller.simulation
    controller._worker = object()  # as during a run (no real worker)
    try:
        controller._on_render_timer_timeout()  # the snapshot shown at set_simulation: nothing new
        assert drawn == []
        frames = []
        for _ in range(3):
            sim.step(5)
            frames.append(sim.snapshot())
        controller._on_worker_yielded(Tick(frames[0]))
        assert drawn == [frames[0]]  # drawn on arrival
        controller._on_worker_yielded(Tick(frames[1]))
        controller._on_worker_yielded(Tick(frames[2]))
        assert drawn == [frames[0]]  # the debt is paid: these wait for the next tick
        controller._on_render_timer_timeout()
        assert drawn == [frames[0], frames[2]]  # only the newest is drawn
    finally:
        controller._worker = None
        controller._render_timer.stop()


def test_workers_report_values_errors_and_stop_on_request(qtbot):
    """app.workers: a generator's values arrive in the GUI thread, quit() stops it at its next yield
    without 'returned', a function's result or exception arrives, 'finished' always comes last."""
    import threading

    from app.workers import create_worker

    gui = threading.get_ident()
    seen = []

    def count():
        i = 0
        while True:
            yield i, threading.get_ident()
            i += 1
            time.sleep(0.001)

    worker = create_worker(count, _connect={"yielded": seen.append,
                                            "returned": lambda v: seen.append(("returned", v))})
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
        qtbot.waitUntil(lambda: len(seen) > 5)
        worker.quit()
    assert all(thread != gui for _, thread in seen)  # produced in the pool thread
    assert [v for v, _ in seen[:6]] == list(range(6)) and ("returned", None) not in seen

    events = []
    ok = create_worker(lambda a, b: a + b, 2, b=3, _connect={
        "returned": lambda v: events.append(("returned", v)), "finished": lambda: events.append("finished")})
    with qtbot.waitSignal(ok.finished, timeout=5000):
        ok.start()
    qtbot.waitUntil(lambda: "finished" in events)
    assert events == [("returned", 5), "finished"]

    failed = []
    bad = create_worker(lambda: 1 / 0, _connect={"errored": failed.append})
    with qtbot.waitSignal(bad.finished, timeout=5000):
        bad.start()
    qtbot.waitUntil(lambda: bool(failed))
    assert isinstance(failed[0], ZeroDivisionError)


def test_a_model_is_compiled_in_the_background_when_first_shown(qtbot, monkeypatch):
    """Only the kernels of the models shown are compiled (a cold start compiled all four: 56 s), each in
    a worker before its first engine call; the first frame arrives once they are ready."""
    from canns_engine import CANN2D, SmoothTracking2D

    monkeypatch.setattr(SimulationController, "compiled", set())
    ctrl = SimulationController()
    frames = []
    ctrl.frame_ready.connect(frames.append)
    model = CANN2D(length=8)
    task = SmoothTracking2D(model, Iext=((0.0, 0.0), (1.0, 1.0)), duration=(5.0,), time_step=0.05)
    ctrl.set_simulation(Simulation(model, task, record="summary"))
    assert ctrl.is_warming_up and not frames  # no engine call on the GUI thread meanwhile
    qtbot.waitUntil(lambda: not ctrl.is_warming_up, timeout=180_000)
    assert SimulationController.compiled == {"CANN2D"}
    assert frames and frames[-1].step == 0
    ctrl.set_simulation(Simulation(CANN2D(length=10), None, record="summary"))
    assert not ctrl.is_warming_up  # compiled already
    ctrl.shutdown()


def test_a_failing_kernel_helper_is_reported_and_the_app_compiles_in_process(tmp_path, monkeypatch, caplog):
    import logging
    import sys

    from app.controller import KERNELS, compile_kernels
    from canns_engine import warmup

    monkeypatch.setattr(warmup, "_stamp", lambda model: tmp_path / f"{model}.stamp")  # not cached
    monkeypatch.setattr(warmup, "command", lambda models: [sys.executable, "-c", "import sys; sys.exit(3)"])
    monkeypatch.setattr(SimulationController, "compiled", set())
    with caplog.at_level(logging.WARNING, logger="canns_engine.warmup"):
        compile_kernels(["CANN1D"], in_helpers=True)
    assert "compiling CANN1D in a helper process failed (exit 3)" in caplog.text
    assert SimulationController.compiled == {"CANN1D"}  # compiled (or loaded) here instead
    assert warmup.is_cached("CANN1D") and not KERNELS.stopped
