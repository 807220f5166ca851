"""Damaged, hostile and wrong files: every one gives a SessionFormatError naming the file and the problem.

Each case starts from a valid session and breaks one thing, so a case fails only for its own reason.
The fuzz tests (hypothesis) feed random bytes, truncations and byte flips of a real session.
"""

import json
import re

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canns_engine import CANN1D_SFA, SessionFormatError, Simulation
from canns_engine.session import MAX_EVENTS, open_experiment, save_session
from canns_engine.tasks import SmoothTracking1D

SEGMENT = "recording/segment_0"


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):
    model = CANN1D_SFA(24)
    task = SmoothTracking1D(model, Iext=(0.0, 1.0), duration=(1.0,), time_step=0.05)
    sim = Simulation(model, task, seed=1)
    sim.step(10)
    sim.apply({"k": 5.0})
    sim.step(10)
    path = tmp_path_factory.mktemp("good") / "good.canns"
    save_session(path, sim, compress=False)
    return path.read_bytes()


@pytest.fixture
def session(good_bytes, tmp_path):
    path = tmp_path / "bad.canns"
    path.write_bytes(good_bytes)
    return path


def fails_clearly(path, pattern, **kwargs):
    with pytest.raises(SessionFormatError, match=pattern) as err:
        open_experiment(path, **kwargs)
    assert str(path) in str(err.value) and err.value.path == str(path)
    return err.value


def text(s):
    raw = s.encode()
    return np.array(raw, dtype=h5py.string_dtype("utf-8", max(1, len(raw))))


def edit_manifest(path, change):
    with h5py.File(path, "r+") as f:
        manifest = json.loads(f["manifest"][()].decode())
        change(manifest)
        del f["manifest"]
        f.create_dataset("manifest", data=text(json.dumps(manifest)))


def test_the_valid_session_loads(session):
    assert len(open_experiment(session).recording) == 20


@pytest.mark.parametrize("content, pattern", [
    (b"", "not a text file|not valid JSON"),
    (b"\x00\x01garbage" * 100, "not a text file|not valid JSON"),
    (b"\x89HDF\r\n\x1a\n" + b"\x00" * 200, "not a readable CANN Studio session"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"format": "canns-studio-session", "schema_version": 2}', "missing 'model'"),
    (b'{"format": "something-else", "schema_version": 2}', "not a CANN Studio experiment"),
    (b'"just a string"', "must be a JSON object"),
])
def test_non_sessions_and_broken_presets(tmp_path, content, pattern):
    path = tmp_path / "file.canns"
    path.write_bytes(content)
    fails_clearly(path, pattern)


def test_missing_file_and_folder(tmp_path):
    fails_clearly(tmp_path / "absent.canns", "cannot read|no such file")
    fails_clearly(tmp_path, "cannot read|not a readable")


def test_truncated_session(session, good_bytes):
    session.write_bytes(good_bytes[: len(good_bytes) // 2])
    fails_clearly(session, "not a readable CANN Studio session|missing|shape")


def test_plain_hdf5_file_that_is_not_a_session(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(3)
    fails_clearly(path, "not a CANN Studio session")


@pytest.mark.parametrize("change, pattern", [
    (lambda m: m["model"]["params"].update(k=float("nan")), "k must be finite"),
    (lambda m: m["model"]["params"].update(num=10**9), "num must be between"),
    (lambda m: m["model"].update(type="CANN3D"), "unknown model 'CANN3D'"),
    (lambda m: m.pop("model"), "missing 'model'"),
    (lambda m: m.update(dt=-1.0), "dt must be a finite number > 0"),
    (lambda m: m.update(seed="seven"), "seed must be an integer"),
    (lambda m: m.update(schema_version=99), "schema_version 99 is newer"),
    (lambda m: m.update(schema_version=0), "schema_version 0 is older"),
    (lambda m: m.update(surprise=1), "unknown key 'surprise'"),
    (lambda m: m["recording"].update(record_every=0), "record_every must be an integer ≥ 1"),
    (lambda m: m.update(name="x" * 200_000), "'name' must be text"),
])
def test_bad_manifest_inside_a_session(session, change, pattern):
    edit_manifest(session, change)
    fails_clearly(session, pattern)


def test_manifest_stored_as_variable_length_string_is_refused(session):
    with h5py.File(session, "r+") as f:
        del f["manifest"]
        f.create_dataset("manifest", data="{}", dtype=h5py.string_dtype())
    fails_clearly(session, "fixed-length UTF-8")


def test_manifest_that_is_not_utf8(session):
    with h5py.File(session, "r+") as f:
        del f["manifest"]
        f.create_dataset("manifest", data=np.array(b"\xff\xfe{", dtype="S3"))
    fails_clearly(session, "not valid UTF-8")


@pytest.mark.parametrize("name, data, pattern", [
    ("u", np.zeros((20, 25)), r"segment_0/u has shape \(20, 25\), expected \(20, 24\)"),
    ("u", np.zeros((20, 24), dtype=np.float32), "segment_0/u has type float32"),
    ("u", None, "missing /recording/segment_0/u"),
    ("decoded_pos", np.zeros(19), r"decoded_pos has shape \(19,\)"),
    ("step", np.arange(20)[::-1].astype(np.int64), "step must be non-negative and increasing"),
    ("x", np.full(24, np.nan), "x \\(the grid\\) must be finite"),
])
def test_wrong_arrays_in_a_segment(session, name, data, pattern):
    with h5py.File(session, "r+") as f:
        del f[f"{SEGMENT}/{name}"]
        if data is not None:
            f[SEGMENT].create_dataset(name, data=data)
    fails_clearly(session, pattern)


def test_huge_declared_shape_is_refused_before_reading(session):
    """A dataset declaring ~4 TB (never written, so the file stays small) must not be allocated."""
    with h5py.File(session, "r+") as f:
        del f[f"{SEGMENT}/u"]
        f[SEGMENT].create_dataset("u", shape=(20, 24), maxshape=(None, 24), chunks=(4096, 24), dtype="f8")
        f[f"{SEGMENT}/u"].resize(2 * 10**10, axis=0)
    assert session.stat().st_size < 1_000_000
    fails_clearly(session, r"u has shape \(20000000000, 24\)")
    with h5py.File(session, "r+") as f:  # consistent shapes everywhere, still far too large
        for name in f[SEGMENT]:
            if name != "x":
                f[f"{SEGMENT}/{name}"].resize(2 * 10**10, axis=0)
    fails_clearly(session, "declares .* bytes, more than")


def test_memory_budget_is_checked_before_reading(session):
    fails_clearly(session, "declares .* bytes, more than", max_bytes=10_000)


def test_segment_parameters_that_are_nan_or_not_json(session):
    with h5py.File(session, "r+") as f:
        f[SEGMENT].attrs["params"] = '{"num": 24, "k": NaN}'
    fails_clearly(session, "k must be finite")
    with h5py.File(session, "r+") as f:
        f[SEGMENT].attrs["params"] = "{not json"
    fails_clearly(session, "'params' of /recording/segment_0 is not a JSON object")


def test_segment_of_another_model(session):
    with h5py.File(session, "r+") as f:
        f[SEGMENT].attrs["model_type"] = "CANN2D"
    fails_clearly(session, "holds a CANN2D recording but the manifest describes CANN1D_SFA")


def test_unexpected_segment_names(session):
    with h5py.File(session, "r+") as f:
        f.move(SEGMENT, "recording/segment_7")
    fails_clearly(session, "must hold segment_0")


@pytest.mark.parametrize("steps, updates, pattern", [
    ([5, 3], ['{"k": 5.0}', '{"k": 6.0}'], "non-negative and in order"),
    ([5], ["{oops"], "event 0 is not valid JSON"),
    ([5], ['{"warp_drive": 9}'], "event 0 must be an object of known keys"),
    ([5], ["[1, 2]"], "event 0 must be an object"),
    ([5, 6], ['{"k": 5.0}'], "has 2 steps but 1 updates"),
    ([500], ['{"k": 5.0}'], "after the end of the run"),
])
def test_bad_events(session, steps, updates, pattern):
    with h5py.File(session, "r+") as f:
        del f["events"]
        ev = f.create_group("events")
        ev.create_dataset("step", data=np.array(steps, dtype=np.int64))
        width = max(len(u.encode()) for u in updates)
        ev.create_dataset("update", data=np.array([u.encode() for u in updates],
                                                  dtype=h5py.string_dtype("utf-8", width)))
    fails_clearly(session, pattern)


def test_too_many_declared_events(session):
    with h5py.File(session, "r+") as f:
        del f["events/step"]
        f["events"].create_dataset("step", shape=(MAX_EVENTS + 1,), dtype=np.int64, chunks=(1024,))
    fails_clearly(session, "events/step has shape")


def test_links_to_other_files_and_external_storage_are_refused(session, tmp_path):
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"\x00" * 24 * 20 * 8)
    with h5py.File(session, "r+") as f:
        del f[f"{SEGMENT}/u"]
        f[SEGMENT].create_dataset("u", shape=(20, 24), dtype="f8", external=[(str(outside), 0, 3840)])
    fails_clearly(session, "stores its data outside the file")
    with h5py.File(session, "r+") as f:
        del f[f"{SEGMENT}/u"]
        f[SEGMENT]["u"] = h5py.ExternalLink(str(outside), "/u")
    fails_clearly(session, "ExternalLink; links to other files are not allowed")
    with h5py.File(session, "r+") as f:
        del f["manifest"]
        f["manifest"] = h5py.SoftLink("/events/update")
    fails_clearly(session, "SoftLink")


def test_wrong_object_kind(session):
    with h5py.File(session, "r+") as f:
        del f["events"]
        f["events"] = np.arange(3)
    fails_clearly(session, "/events should be a group")


def test_wrong_root_attributes(session):
    with h5py.File(session, "r+") as f:
        f.attrs["steps"] = "many"
    fails_clearly(session, "attribute 'steps' of / has the wrong type")
    with h5py.File(session, "r+") as f:
        f.attrs["steps"] = 20
        f.attrs["schema_version"] = 77
    fails_clearly(session, "schema_version 77 is newer")


# -- fuzzing --------------------------------------------------------------------------------------------
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_clean_outcome(path):
    """Either the file still loads (a flip in unused bytes) or it fails with a clear, named error."""
    try:
        open_experiment(path)
    except SessionFormatError as exc:
        assert str(path) in str(exc)
        assert not re.search(r"Traceback", str(exc))


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes(tmp_path, data):
    path = tmp_path / "random.canns"
    path.write_bytes(data)
    check_clean_outcome(path)


@FUZZ
@given(cut=st.floats(0.0, 1.0))
def test_truncation_anywhere(tmp_path, good_bytes, cut):
    path = tmp_path / "cut.canns"
    path.write_bytes(good_bytes[: int(cut * len(good_bytes))])
    check_clean_outcome(path)


@FUZZ
@given(flips=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(1, 255)),
                      min_size=1, max_size=8))
def test_flipped_bytes(tmp_path, good_bytes, flips):
    data = bytearray(good_bytes)
    for where, xor in flips:
        data[int(where * len(data))] ^= xor
    path = tmp_path / "flipped.canns"
    path.write_bytes(bytes(data))
    check_clean_outcome(path)
