"""Session files: round trip, replay reproducibility, migrations, atomic writes, presets, streaming."""

import gc
import json
import os

import h5py
import numpy as np
import pytest

from canns_engine import CANN1D, CANN1D_SFA, CANN2D_SFA, ConfigError, SessionFormatError, Simulation
from canns_engine.manifest import SCHEMA_VERSION, build_simulation, manifest_of, validate_manifest
from canns_engine.recording import Recording
from canns_engine.script import script_of
from canns_engine.session import (
    atomic_output,
    load_session,
    open_experiment,
    save_preset,
    save_session,
)
from canns_engine.sink import HDF5Sink, SegmentWriter, spill_to_disk
from canns_engine.tasks import SmoothTracking1D, SmoothTracking2D, TemplateMatching1D

DT = 0.05


def edited_run(model, task, **sim_kwargs):
    """A run with every kind of edit the app logs: live parameter, stimulus drag, release, pulse, rebuild."""
    sim = Simulation(model, task, **sim_kwargs)
    size = model.params[model.size_param]
    pos = 1.0 if model.ndim == 1 else [1.0, -0.5]
    sim.step(40)
    sim.apply({"k": 6.0})
    sim.step(25)
    sim.apply({"stimulus": pos})
    sim.step(30)
    sim.apply({"stimulus": None, "A": model.A * 0.8})
    sim.step(10)
    sim.apply({"pulse": {"pos": pos, "duration": 0.5}})
    sim.step(20)
    sim.apply({model.size_param: size + 8})  # a new grid: a second recording segment
    sim.step(35)
    return sim


def segments(sim):
    return [*sim.previous_recordings, sim.recording]


def assert_same_recordings(expected, actual):
    assert len(expected) == len(actual)
    for a, b in zip(expected, actual, strict=True):
        assert (a.model_type, a.params, a.dt, a.record, a.record_every) == (
            b.model_type, b.params, b.dt, b.record, b.record_every)
        np.testing.assert_array_equal(a.x, b.x)
        da, db = a.to_dict(), b.to_dict()
        assert da.keys() == db.keys()
        for key in da:
            assert da[key].dtype == db[key].dtype, key
            np.testing.assert_array_equal(da[key], db[key], err_msg=key)  # NaN == NaN here


@pytest.fixture
def sfa_1d():
    model = CANN1D_SFA(48)
    return model, SmoothTracking1D(model, Iext=(0.0, 2.0, -1.0), duration=(4.0, 4.0), time_step=DT)


@pytest.fixture
def sfa_2d():
    model = CANN2D_SFA(10)
    return model, SmoothTracking2D(model, Iext=([0.0, 0.0], [1.0, -1.0]), duration=(8.0,), time_step=DT)


@pytest.mark.parametrize("case", ["sfa_1d", "sfa_2d"])
def test_round_trip_keeps_arrays_parameters_and_events(case, request, tmp_path):
    sim = edited_run(*request.getfixturevalue(case), record_every=3)
    path = tmp_path / "run.canns"
    save_session(path, sim, name="round trip", description="two segments", view={"layout": ["a", 1]})
    loaded = load_session(path)
    assert_same_recordings(segments(sim), loaded.segments)
    assert loaded.recording is loaded.segments[-1]
    assert loaded.events == sim.events
    assert loaded.steps == sim.step_index
    m = loaded.manifest
    assert (m["name"], m["description"], m["view"]) == ("round trip", "two segments", {"layout": ["a", 1]})
    assert m["model"]["params"] == sim.previous_recordings[0].params  # parameters at step 0
    assert m["schema_version"] == SCHEMA_VERSION and set(m["versions"]) == {"app", "engine"}


def test_summary_only_and_unrecorded_sessions_round_trip(sfa_1d, tmp_path):
    model, task = sfa_1d
    sim = Simulation(model, task, record="summary")
    sim.step(33)
    save_session(tmp_path / "s.canns", sim)
    assert_same_recordings([sim.recording], load_session(tmp_path / "s.canns").segments)
    bare = Simulation(CANN1D(16), None, record="none")
    bare.step(5)
    save_session(tmp_path / "none.canns", bare)
    loaded = load_session(tmp_path / "none.canns")
    assert loaded.recording is None and loaded.segments == [] and loaded.steps == 5


def test_loading_without_states_reads_summaries_only(sfa_1d, tmp_path):
    sim = edited_run(*sfa_1d)
    save_session(tmp_path / "r.canns", sim)
    loaded = load_session(tmp_path / "r.canns", states=False)
    np.testing.assert_array_equal(loaded.recording.summary, sim.recording.summary)
    with pytest.raises(AttributeError, match="summaries only"):
        _ = loaded.recording.u


@pytest.mark.parametrize("case", ["sfa_1d", "sfa_2d"])
def test_replaying_manifest_and_events_reproduces_the_recording_bit_for_bit(case, request, tmp_path):
    sim = edited_run(*request.getfixturevalue(case))
    save_session(tmp_path / "r.canns", sim)
    replayed = load_session(tmp_path / "r.canns").replay()
    assert replayed.step_index == sim.step_index
    assert_same_recordings(segments(sim), segments(replayed))


@pytest.mark.parametrize("case", ["sfa_1d", "sfa_2d", "noisy"])
def test_replay_with_history_snapshots_the_last_span_and_ends_where_replay_does(case, request, tmp_path):
    if case == "noisy":
        model = CANN1D(40)
        sim = edited_run(model, TemplateMatching1D(model, Iext=0.5, duration=6.0, time_step=DT,
                                                   noise_level=0.4), seed=7)
    else:
        sim = edited_run(*request.getfixturevalue(case))
    save_session(tmp_path / "h.canns", sim, recording=False)
    loaded = load_session(tmp_path / "h.canns")
    replayed, frames = loaded.replay_with_history(span=100 * DT, count=20)  # steps 60 … 160: four edits
    assert replayed.step_index == sim.step_index == 160
    assert_same_recordings(segments(sim), segments(replayed))  # every step as in one run, bit for bit
    assert [f.step for f in frames] == list(range(65, 161, 5))
    np.testing.assert_array_equal(frames[-1].u, sim.model.u)
    assert frames[0].params["k"] == 6.0  # the edit at step 40 had been applied
    assert {f.u.size for f in frames} == {sim.previous_recordings[0].x.size ** sim.model.ndim,
                                          sim.model.u.size}  # the grid changed at step 125
    arrays = 4 if sim.model.sfa else 3  # u, r, inp (and v)
    bound = 3 * arrays * frames[0].u.nbytes
    few = loaded.replay_with_history(span=100 * DT, count=20, history_bytes=bound)[1]
    assert [f.step for f in few] == [93, 127, 160]  # a memory bound: fewer snapshots, still to the end


@pytest.mark.parametrize(("kwargs", "param"), [({"span": -1.0, "count": 5}, "span"),
                                              ({"span": float("nan"), "count": 5}, "span"),
                                              ({"span": 1.0, "count": 0}, "count"),
                                              ({"span": 1.0, "count": 2.5}, "count")])
def test_replay_with_history_refuses_a_bad_span_or_count(kwargs, param, tmp_path):
    model = CANN1D(16)
    sim = Simulation(model, SmoothTracking1D(model, Iext=(0.0, 1.0), duration=(1.0,), time_step=DT))
    sim.step(5)
    save_session(tmp_path / "s.canns", sim)
    with pytest.raises(ConfigError, match=param) as info:
        load_session(tmp_path / "s.canns").replay_with_history(**kwargs)
    assert info.value.param == param


def test_noisy_protocol_replays_exactly_with_its_seed(tmp_path):
    model = CANN1D(40)
    task = TemplateMatching1D(model, Iext=0.5, duration=6.0, time_step=DT, noise_level=0.4)
    sim = edited_run(model, task, seed=1234)
    save_session(tmp_path / "noisy.canns", sim, recording=False)  # autosave: no arrays, replay them
    loaded = load_session(tmp_path / "noisy.canns")
    assert loaded.recording is None
    assert_same_recordings(segments(sim), segments(loaded.replay()))


def test_build_simulation_gives_unseeded_manifests_a_seed_that_is_saved():
    model = CANN1D(32)
    task = TemplateMatching1D(model, Iext=0.5, duration=2.0, time_step=DT)
    sim = build_simulation(manifest_of(Simulation(model, task)))
    assert isinstance(sim.seed, int)
    assert manifest_of(sim)["seed"] == sim.seed


def test_copy_as_python_script_reproduces_the_experiment(sfa_1d):
    sim = edited_run(*sfa_1d)
    namespace = {}
    exec(compile(script_of(sim, name='a "quoted"\nname'), "<script>", "exec"), namespace)
    sim_copy = namespace["sim"]
    assert_same_recordings(segments(sim), segments(sim_copy))


# -- versions ----------------------------------------------------------------------------------------
V1_PRESET = {
    "format": "canns-studio-session", "schema_version": 1, "engine_version": "0.0.9",
    "name": "old", "description": "", "model": {"type": "CANN1D", "params": {"num": 32, "k": 7.0}},
    "task": {"type": "SmoothTracking1D", "Iext": [0.0, 1.0], "duration": [2.0]},
    "dt": 0.05, "seed": 3, "loop": False, "recording": {"record": "summary", "record_every": 2},
    "view": {"panel": "default"},
}


def test_version_1_preset_is_migrated_on_load(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps(V1_PRESET))
    loaded = open_experiment(path)
    m = loaded.manifest
    assert m["schema_version"] == SCHEMA_VERSION
    assert m["versions"] == {"app": "0.0.9", "engine": "0.0.9"}
    assert m["recording"] == {"record": "summary", "record_every": 2, "max_bytes": None}
    assert m["model"]["params"]["k"] == 7.0 and m["model"]["params"]["tau"] == 1.0  # defaults filled in
    assert m["view"] == {"panel": "default"}
    assert loaded.build_simulation().run().summary.shape == (20, 7)


def test_version_1_session_file_is_migrated_on_load(tmp_path):
    """A hand-made session whose manifest is version 1, in an HDF5 container marked version 1."""
    path = tmp_path / "old.canns"
    with h5py.File(path, "w") as f:
        f.attrs.update({"format": "canns-studio-session", "schema_version": 1, "steps": 12})
        text = json.dumps(V1_PRESET).encode()
        f.create_dataset("manifest", data=np.array(text, dtype=h5py.string_dtype("utf-8", len(text))))
        ev = f.create_group("events")
        ev.create_dataset("step", data=np.array([4], dtype=np.int64))
        upd = b'{"k": 6.5}'
        ev.create_dataset("update", data=np.array([upd], dtype=h5py.string_dtype("utf-8", len(upd))))
    loaded = load_session(path)
    assert loaded.manifest["versions"]["engine"] == "0.0.9"
    assert loaded.events == [{"step": 4, "k": 6.5}] and loaded.steps == 12
    assert loaded.replay().model.k == 6.5


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "future.json"
    path.write_text(json.dumps({**V1_PRESET, "schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(SessionFormatError, match=rf"future.json: schema_version {SCHEMA_VERSION + 1} is new"):
        open_experiment(path)


def test_validation_is_strict_and_names_the_key():
    good = validate_manifest(V1_PRESET)
    with pytest.raises(SessionFormatError, match="unknown key 'colour'"):
        validate_manifest({**good, "colour": "red"})
    with pytest.raises(SessionFormatError, match="k must be finite"):
        validate_manifest({**good, "model": {"type": "CANN1D", "params": {"k": float("nan")}}})
    with pytest.raises(SessionFormatError, match="unknown task 'Juggling'"):
        validate_manifest({**good, "task": {"type": "Juggling"}})


# -- presets and detection ---------------------------------------------------------------------------
def test_preset_round_trip_and_content_detection(sfa_1d, tmp_path):
    model, task = sfa_1d
    manifest = manifest_of(Simulation(model, task), name="preset")
    save_preset(tmp_path / "p.json", manifest)
    loaded = open_experiment(tmp_path / "p.json")
    assert loaded.recording is None and loaded.events == [] and loaded.steps == 0
    assert loaded.manifest == validate_manifest(manifest)
    sim = Simulation(model, task)
    sim.step(3)
    save_session(tmp_path / "misnamed.json", sim)  # a session under a preset's name
    assert len(open_experiment(tmp_path / "misnamed.json").recording) == 3


# -- atomic writes -----------------------------------------------------------------------------------
def test_a_failure_while_saving_keeps_the_previous_file_and_leaves_no_debris(sfa_1d, tmp_path, monkeypatch):
    path = tmp_path / "keep.canns"
    sim = edited_run(*sfa_1d)
    save_session(path, sim, name="first")
    before = path.read_bytes()
    calls = []

    def crash_after_a_block(self, **block):
        calls.append(1)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        original(self, **block)

    original = SegmentWriter.append
    monkeypatch.setattr(SegmentWriter, "append", crash_after_a_block)
    with pytest.raises(OSError, match="No space left"):
        save_session(path, sim, name="second")
    assert calls, "the failure was not injected"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.canns"]
    assert load_session(path).manifest["name"] == "first"


def test_atomic_output_replaces_only_on_success_and_keeps_permissions(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    with pytest.raises(RuntimeError), atomic_output(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert path.read_text() == "old"
    with atomic_output(path) as tmp:
        tmp.write_text("new")
    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


# -- streaming long runs ----------------------------------------------------------------------------
def test_recording_spills_to_disk_at_max_bytes_and_stays_identical(tmp_path):
    def experiment():
        model = CANN1D_SFA(48)
        return model, SmoothTracking1D(model, Iext=(0.0, 2.0, -1.0), duration=(4.0, 4.0), time_step=DT)

    reference = edited_run(*experiment())
    spill_to_disk(tmp_path)
    try:
        streamed = edited_run(*experiment(), max_bytes=30_000)
    finally:
        spill_to_disk(enabled=False)
    assert Recording.spill is None
    first, last = streamed.previous_recordings[0], streamed.recording
    assert isinstance(first.sink, HDF5Sink) and isinstance(last.sink, HDF5Sink)
    assert first.nbytes == last.nbytes == 0
    spilled = [first.sink.path, last.sink.path]
    assert all(p.parent == tmp_path and p.exists() for p in spilled)
    assert_same_recordings(segments(reference), segments(streamed))
    save_session(tmp_path / "from-disk.canns", streamed)
    assert_same_recordings(segments(reference), load_session(tmp_path / "from-disk.canns").segments)
    del streamed, first, last
    gc.collect()
    assert not any(p.exists() for p in spilled), "temporary recording files were not removed"


def test_without_the_spill_policy_max_bytes_still_stops_the_run():
    model = CANN1D(48)
    task = SmoothTracking1D(model, Iext=(0.0, 1.0), duration=(4.0,), time_step=DT)
    with pytest.raises(ConfigError, match="max_bytes"):
        Simulation(model, task, max_bytes=30_000).run()


def test_replay_is_exact_whatever_chunks_the_live_run_took(sfa_1d):
    """The app steps in chunks paced by the clock; a replay steps from event to event."""
    model, task = sfa_1d
    sim = Simulation(model, task, seed=9)
    for n, edit in ((3, {"k": 7.0}), (11, None), (5, {"stimulus": 0.5}), (17, None), (1, {"stimulus": None}),
                    (29, None), (7, None)):
        sim.step(n)
        if edit:
            sim.apply(edit)
    replay = build_simulation(manifest_of(sim, at_start=True))
    replay.run(sim.step_index, events=sim.events)
    assert_same_recordings([sim.recording], [replay.recording])


def test_a_protocol_change_mid_run_replays_from_the_first_protocol(sfa_1d, tmp_path):
    model, task = sfa_1d
    sim = Simulation(model, task, seed=2, record="none")  # no recording either: the start is kept
    k0 = model.k
    sim.step(40)
    sim.apply({"task": {"type": "PopulationCoding1D", "before_duration": 0.5, "after_duration": 1.0,
                        "Iext": -1.0, "duration": 1.0}, "k": 6.0})
    sim.step(30)
    save_session(tmp_path / "switched.canns", sim)
    loaded = load_session(tmp_path / "switched.canns")
    assert loaded.manifest["task"]["type"] == task.task_type
    assert loaded.manifest["model"]["params"]["k"] == k0 != 6.0
    replayed = loaded.replay()
    np.testing.assert_array_equal(replayed.model.u, sim.model.u)
