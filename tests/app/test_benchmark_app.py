"""The app benchmark's draw-cost measurement runs against the real window (``make bench`` is not in CI)."""

from __future__ import annotations

import itertools


def test_draw_cost_draws_frames_of_an_advancing_network(qtbot, monkeypatch):
    from app.plots.panel import ViewSet
    from benchmarks.bench_app import _draw_cost

    drawn = []
    show_frame = ViewSet.show_frame

    def spy(self, frame):
        drawn.append(frame.step)
        show_frame(self, frame)

    monkeypatch.setattr(ViewSet, "show_frame", spy)
    cost = _draw_cost("CANN1D", 64, frames=5)
    assert 0.0 < cost["draw_ms_p50"] <= cost["draw_ms_p90"]
    timed = drawn[-5:]  # the 20 frames before fill the histories
    assert len(drawn) >= 25 and all(b > a for a, b in itertools.pairwise(timed))


def test_chunk_contention_times_a_worker_chunk_alone_and_next_to_python():
    from app.run_loop import SwitchInterval
    from benchmarks.bench_app import _chunk_contention

    times = _chunk_contention("CANN1D", 64, chunks=3)
    assert times["chunk_ms"] > 0.0 and times["chunk_ms_contended"] > 0.0
    assert SwitchInterval.holders == 0  # the run's switch interval was given back
