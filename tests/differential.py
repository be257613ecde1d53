"""The differential harness: run the same call in ember and in torch, compare what comes out.

Every test that checks ember against PyTorch goes through these functions:

- `to_ember` / `to_torch` convert nested arguments (tensors, NumPy arrays, dtypes, lists, tuples,
  dicts) to one library; `both` makes an (ember, torch) pair of tensors from one array.
- `run_both(fn, *args, **kwargs)` calls `fn(lib, *args, **kwargs)` once with `ember` and once with
  `torch` (or `fn = (ember_fn, torch_fn)`, each called with its own converted arguments).
- `assert_same(e, t)` compares one ember tensor with one torch tensor: type, dtype (by name),
  shape and values (`rtol` / `atol`, or `exact=True`); `assert_same_outputs` compares results that
  may be tuples (values, indices); `assert_same_grads` compares the `.grad` of paired leaves.
- `assert_same_error(fn, *args)` checks that ember raises the exception type torch raises
  (optionally the same message, or a message fragment).
- `gradcheck64` / `gradgradcheck64` run ember's finite-difference checks on float64 leaves.
- `check_fn` / `compare_modules` run a function or a module pair forward and backward on the same
  inputs (and, for modules, the same weights) and compare outputs and every gradient.
"""

import zlib

import numpy as np
import pytest
import torch

import ember

LIBS = (ember, torch)


# ---- conversion ---------------------------------------------------------------------------------
def dtype_name(value) -> str:
    """'float32' for an ember or torch dtype, a tensor of either, a NumPy array or dtype."""
    if isinstance(value, (ember.Tensor, torch.Tensor)):
        value = value.dtype
    if isinstance(value, (ember.dtype, torch.dtype)):
        return str(value).rsplit(".", 1)[-1]
    return np.dtype(getattr(value, "dtype", value)).name


def _copy(array):
    return array.copy() if isinstance(array, np.ndarray) else np.array(array, copy=True)


def to_ember(value, requires_grad=None):
    """value with every torch tensor / NumPy array / torch dtype (also nested) made ember's.

    Tensors and arrays are copied; a torch tensor's requires_grad is kept unless requires_grad
    is given (which then applies to every tensor made).
    """
    if isinstance(value, torch.Tensor):
        e = ember.from_numpy(value.detach().numpy().copy())
        if value.requires_grad if requires_grad is None else requires_grad:
            e.requires_grad_(True)
        return e
    if isinstance(value, np.ndarray):
        e = ember.from_numpy(value.copy())
        return e.requires_grad_(True) if requires_grad else e
    if isinstance(value, torch.dtype):
        return getattr(ember, dtype_name(value))
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(to_ember(v, requires_grad) for v in value)
    if isinstance(value, dict):
        return {k: to_ember(v, requires_grad) for k, v in value.items()}
    return value


def to_torch(value, requires_grad=None):
    """value with every ember tensor / NumPy array / ember dtype (also nested) made torch's."""
    if isinstance(value, ember.Tensor):
        t = torch.from_numpy(value.detach().numpy().copy())
        if value.requires_grad if requires_grad is None else requires_grad:
            t.requires_grad_(True)
        return t
    if isinstance(value, np.ndarray):
        t = torch.from_numpy(value.copy())
        return t.requires_grad_(True) if requires_grad else t
    if isinstance(value, ember.dtype):
        return getattr(torch, dtype_name(value))
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(to_torch(v, requires_grad) for v in value)
    if isinstance(value, dict):
        return {k: to_torch(v, requires_grad) for k, v in value.items()}
    return value


def both(array, requires_grad=False):
    """(ember, torch) tensors holding copies of array (anything np.array accepts)."""
    e = ember.from_numpy(_copy(array))
    t = torch.from_numpy(_copy(array))
    if requires_grad:
        e.requires_grad_()
        t.requires_grad_()
    return e, t


def outputs(result):
    """The tensors of a result: a tensor, or the items of a tuple / list result."""
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def version(t) -> int:
    """The version counter, an int in both libraries."""
    return t._version


def reseed(rng, key):
    """Reset rng to a state that depends only on key (a test's node id)."""
    rng.bit_generator.state = np.random.default_rng(
        zlib.crc32(str(key).encode())).bit_generator.state


def sample(rng, domain, shape, dtype=np.float64):
    """Values from rng in an op's domain, away from its singular points.

    any: uniform(-2, 2); positive: uniform(0.5, 2); pos: the same; unit: uniform(-0.9, 0.9);
    nonzero: ±uniform(0.5, 2); randn: standard normal; ties: integers in [-2, 2] (repeated
    values); int: integers in [-5, 5]; posint: integers in [1, 5]; bool: random booleans;
    gt1: uniform(1.2, 3) (acosh); prob: uniform(0.05, 0.95) (logit).
    """
    if domain == "any":
        array = rng.uniform(-2, 2, shape)
    elif domain in ("positive", "pos"):
        array = rng.uniform(0.5, 2, shape)
    elif domain == "unit":
        array = rng.uniform(-0.9, 0.9, shape)
    elif domain == "nonzero":
        array = rng.uniform(0.5, 2, shape) * rng.choice([-1, 1], shape)
    elif domain == "randn":
        array = rng.standard_normal(shape)
    elif domain == "ties":
        array = rng.integers(-2, 3, shape)
    elif domain == "int":
        array = rng.integers(-5, 6, shape)
    elif domain == "posint":
        array = rng.integers(1, 6, shape)
    elif domain == "bool":
        array = rng.integers(0, 2, shape).astype(bool)
    elif domain == "gt1":
        array = rng.uniform(1.2, 3, shape)
    elif domain == "prob":
        array = rng.uniform(0.05, 0.95, shape)
    else:
        raise ValueError(domain)
    return np.asarray(array).astype(dtype)


# ---- running --------------------------------------------------------------------------------
def _split(fn):
    """(ember_fn, torch_fn) from a pair, or from one fn(lib, ...) taking the library first."""
    if isinstance(fn, (tuple, list)):
        return fn

    def ember_fn(*args, **kwargs):
        return fn(ember, *args, **kwargs)

    def torch_fn(*args, **kwargs):
        return fn(torch, *args, **kwargs)

    return ember_fn, torch_fn


def run_both(fn, *args, **kwargs):
    """(ember result, torch result) of the same call; arguments are converted per library.

    fn is fn(lib, *args, **kwargs), called with `ember` then `torch`, or a pair
    (ember_fn, torch_fn). NumPy arrays in args become fresh tensors on each side.
    """
    ember_fn, torch_fn = _split(fn)
    return (ember_fn(*to_ember(args), **to_ember(kwargs)),
            torch_fn(*to_torch(args), **to_torch(kwargs)))


# ---- comparing ------------------------------------------------------------------------------
def _numpy(value):
    if isinstance(value, (ember.Tensor, torch.Tensor)):
        if str(value.layout) != "torch.strided":  # sparse: compared through its dense form
            value = value.to_dense()
        return value.detach().numpy()
    return np.asarray(value)


def assert_same(e, t, rtol=1e-5, atol=1e-6, *, exact=False):
    """e (ember) matches t (torch): tensor type, dtype name, shape, then values.

    Values are compared with `np.testing.assert_allclose(rtol, atol)` (floats in float64, an
    exact widening), or `assert_array_equal` with exact=True. t may also be a NumPy array or a
    Python number, compared by NumPy dtype.
    """
    assert e is not None and t is not None, (e, t)
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert str(e.layout) == str(t.layout), (e.layout, t.layout)
    a, b = _numpy(e), _numpy(t)
    assert dtype_name(e if isinstance(e, ember.Tensor) else a) == dtype_name(
        t if isinstance(t, torch.Tensor) else b), (e.dtype if hasattr(e, "dtype") else a.dtype,
                                                   t.dtype if hasattr(t, "dtype") else b.dtype)
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    if exact:
        np.testing.assert_array_equal(a, b)
        return
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        a, b = a.astype(np.float64), b.astype(np.float64)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def assert_same_outputs(e, t, rtol=1e-5, atol=1e-6, *, exact=False):
    """Results that may be tuples (e.g. (values, indices)): the same kind and each output same."""
    assert type(e).__name__ == type(t).__name__ or not isinstance(t, tuple), (type(e), type(t))
    outs_e, outs_t = outputs(e), outputs(t)
    assert len(outs_e) == len(outs_t)
    for oe, ot in zip(outs_e, outs_t):
        assert_same(oe, ot, rtol, atol, exact=exact)


def assert_same_grads(e_leaves, t_leaves, rtol=1e-5, atol=1e-6):
    """The .grad of each pair of leaves matches (pairs whose torch grad is None are skipped)."""
    e_leaves, t_leaves = list(e_leaves), list(t_leaves)
    assert len(e_leaves) == len(t_leaves)
    for e, t in zip(e_leaves, t_leaves):
        if t is not None and t.grad is not None:
            assert_same(e.grad, t.grad, rtol, atol)


def assert_same_error(fn, *args, same_message=False, match=None, exact_type=False):
    """ember raises (a subclass of) the exception type torch raises for the same call.

    fn as in `run_both`. same_message: the messages are equal too; match: a fragment (regex)
    both messages contain; exact_type: the very same type. Returns (ember error, torch error).
    """
    ember_fn, torch_fn = _split(fn)
    with pytest.raises(Exception) as expected:
        torch_fn(*to_torch(args))
    with pytest.raises(expected.type) as raised:
        ember_fn(*to_ember(args))
    if exact_type:
        assert raised.type is expected.type, (raised.type, expected.type)
    if same_message:
        assert str(raised.value) == str(expected.value)
    if match is not None:
        expected.match(match)
        raised.match(match)
    return raised.value, expected.value


def assert_same_16_bit(ember_fn, torch_fn):
    """A float16/bfloat16 result: torch's dtype, and its values to 16-bit precision (compared
    in float32: NumPy cannot hold torch's bfloat16); or torch's exception type."""
    try:
        expected = torch_fn()
    except Exception as error:  # noqa: BLE001 - any error torch raises, ember must raise
        with pytest.raises(type(error)):
            ember_fn()
        return
    result = ember_fn()
    assert str(result.dtype) == str(expected.dtype)
    cast = (lambda r: r) if expected.dtype == torch.bool else (lambda r: r.float())
    assert_same(cast(result), cast(expected), rtol=1e-2, atol=1e-2)


def error_of(fn):
    """The exception fn() raises (fails the test if none)."""
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def assert_same_result_or_error(ember_fn, torch_fn, rtol=1e-5, atol=1e-6):
    """The same values as torch, or the same exception type when torch has no kernel."""
    try:
        expected = torch_fn()
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        with pytest.raises(type(error)):
            ember_fn()
        return
    assert_same(ember_fn(), expected, rtol, atol)


def assert_same_list_or_message(call):
    """call(lib) in torch and ember: the same exception type and message, or the same values
    exactly (as nested lists)."""
    try:
        expected = call(torch)
    except Exception as error:  # noqa: BLE001 - the error is what is compared
        raised = error_of(lambda: call(ember))
        assert (type(raised), str(raised)) == (type(error), str(error))
        return
    assert call(ember).tolist() == expected.tolist()


def both_returned(torch_error, ember_error, result) -> bool:
    """The outcomes of one call in torch and ember agree in kind: when torch raises, ember raises
    (a subclass of) its class, never a NumPy exception; when torch returns, ember returns. True
    when both returned (their values are the caller's to compare)."""
    if torch_error is not None:
        assert ember_error is not None, f"torch raises {torch_error!r}, ember returns {result!r}"
        assert isinstance(ember_error, type(torch_error)), (ember_error, torch_error)
        assert not type(ember_error).__module__.startswith("numpy"), ember_error
        return False
    assert ember_error is None, f"torch returns, ember raises {ember_error!r}"
    return True


# ---- gradients ------------------------------------------------------------------------------
def float64_leaves(*arrays):
    """Fresh float64 ember leaves requiring grad, one per array (None stays None)."""
    return tuple(None if a is None else
                 ember.from_numpy(np.array(a, dtype=np.float64, copy=True)).requires_grad_()
                 for a in arrays)


def gradcheck64(fn, *arrays, **kwargs):
    """ember.autograd.gradcheck of fn on float64 leaves made from arrays."""
    return ember.autograd.gradcheck(fn, float64_leaves(*arrays), **kwargs)


def gradgradcheck64(fn, *arrays, **kwargs):
    """ember.autograd.gradgradcheck of fn on float64 leaves made from arrays."""
    return ember.autograd.gradgradcheck(fn, float64_leaves(*arrays), **kwargs)


def copy_state(torch_module, ember_module):
    """Load torch_module's state_dict into ember_module, values converted through NumPy."""
    state = {k: ember.from_numpy(v.detach().numpy().copy())
             for k, v in torch_module.state_dict().items()}
    return ember_module.load_state_dict(state)


def check_fn(torch_fn, ember_fn, *arrays, grad=True, rtol=1e-5, atol=1e-6, seed=0):
    """Call both functions on the same inputs; compare outputs and input gradients.

    Floating inputs require grad (if grad); the output's gradient is a seeded normal sample.
    Returns (torch output, ember output).
    """
    t_in = [torch.tensor(a, requires_grad=grad and np.issubdtype(a.dtype, np.floating))
            for a in arrays]
    e_in = [to_ember(t) for t in t_in]
    t_out, e_out = torch_fn(*t_in), ember_fn(*e_in)
    assert_same(e_out, t_out, rtol, atol)
    if grad and t_out.requires_grad:
        gy = np.random.default_rng(seed).standard_normal(tuple(t_out.shape)).astype(
            arrays[0].dtype)
        t_out.backward(torch.tensor(gy))
        e_out.backward(ember.tensor(gy))
        assert_same_grads(e_in, t_in, rtol, atol)
    return t_out, e_out


def compare_modules(torch_module, ember_module, *arrays, rtol=1e-5, atol=1e-6, seed=0):
    """Same weights, same inputs: compare outputs, input grads and parameter grads."""
    copy_state(torch_module, ember_module)
    check_fn(torch_module, ember_module, *arrays, rtol=rtol, atol=atol, seed=seed)
    t_params = dict(torch_module.named_parameters())
    for name, p in ember_module.named_parameters():
        if t_params[name].grad is not None:
            assert_same(p.grad, t_params[name].grad, rtol, atol)
