"""Bad input gets a clear error naming the parameter and its allowed range; nothing runs half-way."""

import math

import numpy as np
import pytest

from canns_engine import (
    CANN1D,
    CANN1D_SFA,
    CANN2D,
    ConfigError,
    CustomTracking1D,
    PopulationCoding1D,
    Simulation,
    SmoothTracking1D,
    SmoothTracking2D,
    TemplateMatching1D,
    make_model,
    make_task,
    simulate,
)


@pytest.mark.parametrize(
    ("make", "param", "message"),
    [
        (lambda: CANN1D(num=4), "num", "between 8 and 65536"),
        (lambda: CANN1D(num=100.5), "num", "integer"),
        (lambda: CANN1D(num=64, a=0.0), "a", "> 0"),
        (lambda: CANN1D(num=64, a=-1.0), "a", "> 0"),
        (lambda: CANN1D(num=64, tau=0.0), "tau", "> 0"),
        (lambda: CANN1D(num=64, k=-1.0), "k", "≥ 0"),
        (lambda: CANN1D(num=64, k=math.nan), "k", "finite"),
        (lambda: CANN1D(num=64, A=math.inf), "A", "finite"),
        (lambda: CANN1D(num=64, J0="strong"), "J0", "number"),
        (lambda: CANN1D(num=64, z_min=1.0, z_max=1.0), "z_max", "greater than z_min"),
        (lambda: CANN1D_SFA(num=64, tau_v=0.0), "tau_v", "> 0"),
        (lambda: CANN1D_SFA(num=64, m=-0.1), "m", "≥ 0"),
        (lambda: CANN2D(length=2), "length", "between 4"),
        (lambda: CANN1D(num=64, bogus=1.0), "bogus", "no parameter bogus"),
        (lambda: make_model("CANN3D", {}), "model", "unknown model"),
    ],
)
def test_model_parameters_are_validated(make, param, message):
    with pytest.raises(ConfigError, match=message) as err:
        make()
    assert err.value.param == param


@pytest.mark.parametrize(
    ("make", "param", "message"),
    [
        (lambda m: SmoothTracking1D(m, Iext=(0.0, 1.0), duration=(1.0,), time_step=0.0), "dt", "> 0"),
        (lambda m: SmoothTracking1D(m, Iext=(0.0, 1.0), duration=(1.0,), time_step=-0.1), "dt", "> 0"),
        (lambda m: SmoothTracking1D(m, Iext=(0.0, 1.0), duration=(1.0,), time_step=2.0), "dt", "unstable"),
        (lambda m: SmoothTracking1D(m, Iext=(0.0, 1.0), duration=(1.0,), time_step=math.nan), "dt", "finite"),
        (lambda m: SmoothTracking1D(m, Iext=(0.0, 1.0, 2.0), duration=(1.0,)), "Iext", "one more key"),
        (lambda m: SmoothTracking1D(m, Iext=(0.0, 1.0), duration=(-1.0,)), "duration", "≥ 0"),
        (lambda m: SmoothTracking1D(m, Iext=(0.0, 1.0), duration=5.0), "duration", "sequence"),
        (lambda m: SmoothTracking1D(m, Iext=(0.0, math.nan), duration=(1.0,)), "Iext", "finite"),
        (lambda m: SmoothTracking1D(m, Iext=((0.0, 1.0), (1.0, 1.0)), duration=(1.0,)), "Iext", "a number"),
        (lambda m: SmoothTracking2D(m, Iext=((0, 0), (1, 1)), duration=(1.0,)), "cann_instance", "2D model"),
        (lambda m: PopulationCoding1D(m, 1.0, 1.0, Iext=0.0, duration=math.inf), "duration", "finite"),
        (lambda m: TemplateMatching1D(m, Iext=0.0, duration=1.0, noise_level=-1), "noise_level", "≥ 0"),
        (lambda m: CustomTracking1D(m, Iext=np.zeros((10, 2)), time_step=0.1), "Iext", "shape"),
        (lambda m: CustomTracking1D(m, Iext=np.sin), "duration", "required"),
        (lambda m: make_task(m, {"type": "Nope"}), "task", "unknown task"),
        (lambda m: make_task(m, {"type": "SmoothTracking1D", "speed": 1}), "task", "bad arguments"),
    ],
)
def test_task_arguments_are_validated(make, param, message):
    with pytest.raises(ConfigError, match=message) as err:
        make(CANN1D(64))
    assert err.value.param == param


def test_run_options_are_validated():
    model = CANN1D(64)
    task = SmoothTracking1D(model, Iext=(0.0, 1.0), duration=(1.0,), time_step=0.1)
    with pytest.raises(ConfigError, match="record must be one of"):
        simulate(model, task, record="everything")
    with pytest.raises(ConfigError, match="record_every"):
        simulate(model, task, record_every=0)
    sim = Simulation(model, task)
    for bad in ({"stimulus": (1.0, 2.0)}, {"pulse": {"duration": 1.0}}, {"colour": "red"}, {"k": -2.0},
                {"tau": 0.01}):
        with pytest.raises(ConfigError):
            sim.apply(bad)
    assert sim.events == [] and model.k == 8.1 and model.tau == 1.0  # rejected edits change nothing
    with pytest.raises(ConfigError, match="input has shape"):
        model.update(np.zeros(10))
    with pytest.raises(ConfigError, match="another model"):
        Simulation(CANN1D(64), task)


def test_every_range_reads_as_a_phrase():
    from canns_engine import MODEL_PARAMS

    for specs in MODEL_PARAMS.values():
        for spec in specs:
            assert spec.range_text()  # z_min/z_max have no bounds: "any finite number"
    z_min = next(p for p in MODEL_PARAMS["CANN1D"] if p.name == "z_min")
    assert z_min.range_text() == "any finite number"


def test_task_none_returns_to_a_free_run():
    model = CANN1D(64)
    sim = Simulation(model, SmoothTracking1D(model, Iext=(0.0, 1.0), duration=(1.0,), time_step=0.1))
    sim.step(3)
    sim.apply({"task": None})
    assert sim.task is None and sim.total_steps is None and sim.events[-1] == {"step": 3, "task": None}
    sim.step(5)
    assert np.isnan(sim.snapshot().stim_pos)
