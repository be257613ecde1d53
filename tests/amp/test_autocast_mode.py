"""autocast: the per-device state, dtypes, warnings and errors of torch.autocast on a CPU
build, as a context manager and as a decorator."""

import warnings

import numpy as np

import pytest
import torch

import ember
from tests.differential import error_of


def _state(lib):
    return (lib.is_autocast_enabled("cpu"), str(lib.get_autocast_dtype("cpu")),
            lib.is_autocast_enabled("cuda"))


@pytest.mark.parametrize("kwargs", [{}, {"dtype": "float16"}, {"dtype": "bfloat16"},
                                    {"dtype": "float32"}, {"enabled": False}])
def test_cpu_autocast_state_matches_torch(kwargs):
    states = []
    for lib in (ember, torch):
        options = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            before = _state(lib)
            with lib.autocast("cpu", **options):
                inside = _state(lib)
            states.append((before, inside, _state(lib), len(caught)))
    assert states[0] == states[1]


def test_cuda_autocast_warns_and_stays_off():
    with pytest.warns(UserWarning, match="Disabling autocast"):
        with ember.autocast("cuda"):
            assert not ember.is_autocast_enabled("cuda")


def test_bad_device_types_raise_like_torch():
    assert type(error_of(lambda: ember.autocast(ember.device("cpu")))) is \
        type(error_of(lambda: torch.autocast(torch.device("cpu")))) is ValueError
    assert type(error_of(lambda: ember.autocast("xyz"))) is \
        type(error_of(lambda: torch.autocast("xyz"))) is RuntimeError


def test_decorator_and_nesting():
    @ember.autocast("cpu")
    def inside():
        with ember.autocast("cpu", enabled=False):
            nested = ember.is_autocast_enabled("cpu")
        return ember.is_autocast_enabled("cpu"), nested

    assert inside() == (True, False)
    assert not ember.is_autocast_enabled("cpu")
    assert ember.amp.is_autocast_available("cpu") and not ember.amp.is_autocast_available("mps")


OPS_UNDER_AUTOCAST = {
    "matmul": lambda lib, x, w: x @ w.t(),
    "mm": lambda lib, x, w: lib.mm(x, w.t()),
    "linear": lambda lib, x, w: lib.nn.functional.linear(x, w),
    "conv2d": lambda lib, x, w: lib.nn.functional.conv2d(x.reshape(1, 1, 4, 3),
                                                         w.reshape(4, 1, 1, 3)[:2]),
    "add": lambda lib, x, w: x + 1,
    "sum": lambda lib, x, w: x.sum(),
    "softmax": lambda lib, x, w: lib.nn.functional.softmax(x @ w.t(), dim=1),
    "cross_entropy": lambda lib, x, w: lib.nn.functional.cross_entropy(
        x @ w.t(), lib.tensor([0, 1, 2, 3])),
    "mse_loss": lambda lib, x, w: lib.nn.functional.mse_loss(x @ w.t(), x @ w.t()),
    "float64_matmul": lambda lib, x, w: x.double() @ w.double().t(),
}


@pytest.mark.parametrize("name", list(OPS_UNDER_AUTOCAST))
def test_cpu_autocast_casts_like_torch(name):
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
    results = []
    for lib in (ember, torch):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        with lib.autocast("cpu"):
            out = OPS_UNDER_AUTOCAST[name](lib, xs, ws)
        out.float().sum().backward()
        results.append((str(out.dtype), out.detach().float().numpy(), str(ws.grad.dtype)
                        if ws.grad is not None else None, xs.grad.numpy()))
    assert results[0][0] == results[1][0] and results[0][2] == results[1][2]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=2e-2, atol=2e-2)
    np.testing.assert_allclose(results[0][3], results[1][3], rtol=2e-2, atol=2e-2)


# ---- torch's older autocast functions (ember/_autocast_legacy.py) -------------------------------
@pytest.mark.parametrize("name,args", [
    ("is_autocast_cpu_enabled", ()), ("get_autocast_cpu_dtype", ()),
    ("get_autocast_gpu_dtype", ()), ("get_autocast_ipu_dtype", ()),
    ("get_autocast_xla_dtype", ()), ("is_autocast_ipu_enabled", ()),
    ("is_autocast_xla_enabled", ()), ("is_autocast_cache_enabled", ())])
def test_deprecated_autocast_getters_match_torch(name, args):
    results = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(lib, name)(*args)
        results.append((str(value).replace("ember.", "torch."),
                        [(w.category, str(w.message).split(" (Triggered")[0]) for w in caught]))
    assert results[0] == results[1]


def test_deprecated_autocast_setters_change_what_the_new_getters_see():
    for lib in (ember, torch):
        with pytest.warns(DeprecationWarning, match=r"set_autocast_cpu_dtype\(dtype\) is "
                                                    "deprecated"):
            lib.set_autocast_cpu_dtype(lib.float16)
        assert lib.get_autocast_dtype("cpu") == lib.float16
        with pytest.warns(DeprecationWarning):
            lib.set_autocast_cpu_dtype(lib.bfloat16)
        with pytest.warns(DeprecationWarning):
            lib.set_autocast_cpu_enabled(True)
        assert lib.is_autocast_enabled("cpu")
        with pytest.warns(DeprecationWarning):
            lib.set_autocast_cpu_enabled(False)
        assert not lib.is_autocast_enabled("cpu")


def test_autocast_nesting_and_cache_flag_match_torch():
    seen = []
    for lib in (ember, torch):
        steps = []
        with lib.autocast("cpu"):
            steps += [lib.autocast_increment_nesting(), lib.autocast_decrement_nesting()]
            with lib.autocast("cpu", enabled=False, cache_enabled=False):
                steps += [lib.autocast_increment_nesting(), lib.autocast_decrement_nesting(),
                          lib.is_autocast_cache_enabled()]
            steps.append(lib.is_autocast_cache_enabled())
        lib.set_autocast_cache_enabled(False)
        steps.append(lib.is_autocast_cache_enabled())
        lib.set_autocast_cache_enabled(True)
        lib.clear_autocast_cache()
        steps += [lib.autocast_increment_nesting(), lib.autocast_decrement_nesting()]
        seen.append(steps)
    assert seen[0] == seen[1]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_autocast_training_steps_match_torch(dtype):
    """A bfloat16/float16-autocast MLP with GELU and a float32 LayerNorm, trained with a
    GradScaler: losses and gradient norms as torch's (the 16-bit GELU backward rounded per
    step and LayerNorm's float32-summed gw/gb were 1e-4 off after one step)."""
    runs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        nn = lib.nn
        model = nn.Sequential(nn.Linear(10, 32), nn.GELU(), nn.LayerNorm(32), nn.SiLU(),
                              nn.Linear(32, 3))
        opt = lib.optim.AdamW(model.parameters(), lr=1e-2)
        scaler = lib.amp.GradScaler("cpu")
        x, y = lib.randn(32, 10), lib.randint(0, 3, (32,))
        log = []
        for _ in range(3):
            with lib.autocast(device_type="cpu", dtype=getattr(lib, dtype)):
                loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
            log.append((loss.item(), norm.item()))
        runs.append(log)
    # (1e-5: a float16 Linear is a float32 GEMM rounded once, and where the two libraries'
    # float32 sums land on either side of a float16 tie (OpenBLAS's summation order depends on
    # its kernel: Haswell vs SkylakeX) one element is 1 ulp apart, ~3e-6 in the loss)
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-5)
