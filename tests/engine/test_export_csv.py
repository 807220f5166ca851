"""CSV export: read back with the csv module and numpy, and compared with the recording bit for bit."""

import csv

import numpy as np
import pytest

from canns_engine import CANN1D, CANN2D_SFA, PopulationCoding1D, Simulation, SmoothTracking2D
from canns_engine.export_csv import activity_columns, write_activity_csv, write_summary_csv
from canns_engine.sink import spill_to_disk

DT = 0.05


@pytest.fixture(scope="module")
def run_1d():
    """A run with the stimulus off at first (NaN columns) and a grid change (two segments)."""
    model = CANN1D(32)
    task = PopulationCoding1D(model, before_duration=1.0, after_duration=1.0, Iext=0.7, duration=2.0,
                              time_step=DT)
    sim = Simulation(model, task, record_every=2)
    sim.step(50)
    sim.apply({"num": 40})
    sim.step(30)
    return sim


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_summary_table_reads_back_exactly_with_csv_and_numpy(run_1d, tmp_path):
    segments = [*run_1d.previous_recordings, run_1d.recording]
    path = tmp_path / "table.csv"
    sidecar = write_summary_csv(path, segments)
    header, body = read_csv(path)
    fields = run_1d.recording.fields
    assert header == ["step", "t", *fields]
    step = np.concatenate([s.step for s in segments])
    expected = np.column_stack([np.concatenate([s.t for s in segments]),
                                np.concatenate([s.summary for s in segments])])
    assert [int(r[0]) for r in body] == step.tolist()
    np.testing.assert_array_equal(np.array([[float(v) for v in r[1:]] for r in body]), expected)
    assert "NaN" in {r[2] for r in body}  # stimulus off before and after: NaN, as pandas/MATLAB expect
    table = np.genfromtxt(path, delimiter=",", names=True)
    np.testing.assert_array_equal(table["decoded_pos"], expected[:, 1 + fields.index("decoded_pos")])
    units = {r[0]: r[1] for r in read_csv(sidecar)[1]}
    assert units["t"].startswith("time") and units["decoded_pos"] == "rad" and set(units) == set(header)


def test_activity_matrix_1d_reads_back_exactly(run_1d, tmp_path):
    rec = run_1d.recording
    path = tmp_path / "u.csv"
    write_activity_csv(path, rec)
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(data[:, 0], rec.t)
    np.testing.assert_array_equal(data[:, 1:], rec.u)
    header, _ = read_csv(path)
    assert header == ["t", *activity_columns(rec)] and len(header) == 41
    write_activity_csv(path, rec, variable="r")
    np.testing.assert_allclose(np.loadtxt(path, delimiter=",", skiprows=1)[:, 1:], rec.r, rtol=0, atol=0)


def test_activity_matrix_2d_is_time_by_x_y_with_positions_in_the_sidecar(tmp_path):
    model = CANN2D_SFA(6)
    task = SmoothTracking2D(model, Iext=([0.0, 0.0], [1.0, 1.0]), duration=(1.0,), time_step=DT)
    sim = Simulation(model, task)
    sim.step(12)
    rec = sim.recording
    sidecar = write_activity_csv(tmp_path / "v.csv", rec, variable="v")
    data = np.loadtxt(tmp_path / "v.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(data[:, 1:], rec.v.reshape(12, 36))
    header, _ = read_csv(tmp_path / "v.csv")
    assert header[1:3] == ["n0_0", "n0_1"] and header[-1] == "n5_5"
    described = {r[0]: r[2] for r in read_csv(sidecar)[1]}
    assert described["n0_1"] == f"neuron at x = {float(model.x[1])!r}, y = {float(model.x[0])!r}"


def test_streamed_recording_exports_the_same_csv(tmp_path):
    def run(**kwargs):
        model = CANN1D(32)
        task = PopulationCoding1D(model, before_duration=1.0, after_duration=1.0, Iext=0.7,
                                  duration=2.0, time_step=DT)
        return Simulation(model, task, **kwargs).run()

    write_activity_csv(tmp_path / "memory.csv", run())
    spill_to_disk(tmp_path)
    try:
        streamed = run(max_bytes=20_000)
    finally:
        spill_to_disk(enabled=False)
    assert streamed.sink is not None
    write_activity_csv(tmp_path / "disk.csv", streamed)
    assert (tmp_path / "disk.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()


def test_missing_states_give_a_clear_error(tmp_path):
    model = CANN1D(16)
    sim = Simulation(model, None, record="summary")
    sim.step(3)
    with pytest.raises(ValueError, match="record full states"):
        write_activity_csv(tmp_path / "u.csv", sim.recording)
    with pytest.raises(ValueError, match="no v in this recording"):
        write_activity_csv(tmp_path / "u.csv", Simulation(CANN1D(16), None).step(2).recording, variable="v")
    assert list(tmp_path.iterdir()) == []
