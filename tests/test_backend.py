"""The array-library seam (`ember/_backend.py`): ops run on the array module of their inputs.

A stand-in array library, `TaggedArray` (a thin ndarray subclass that, like CuPy, implements
NumPy's dispatch protocols and the array-API `__array_namespace__`), is fed through a
representative set of ops, forward and backward. Every result and every gradient must stay a
TaggedArray, and match the same computation on plain NumPy arrays. An op that makes an array
with plain NumPy instead of the inputs' module hands back an ndarray and fails here.
"""

import types

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._backend import as_array, get_array_module, is_array
from ember._tensor import Tensor


def _strip(value):
    """TaggedArrays (also inside lists/tuples/dicts) as plain ndarray views."""
    if isinstance(value, TaggedArray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_strip(v) for v in value)
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()}
    return value


def _tag(value):
    """Arrays (also inside tuples/lists) as TaggedArrays; NumPy scalars as 0-d TaggedArrays."""
    if isinstance(value, np.ndarray):
        return value.view(TaggedArray)
    if isinstance(value, np.generic):
        return np.asarray(value).view(TaggedArray)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_tag(v) for v in value)
    if isinstance(value, list):
        return [_tag(v) for v in value]
    return value


class TaggedArray(np.ndarray):
    """A stand-in for a foreign array type: NumPy calls on it come back as TaggedArrays."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        result = getattr(ufunc, method)(*_strip(inputs), **_strip(kwargs))
        if kwargs.get("out") is not None:
            return kwargs["out"][0] if len(kwargs["out"]) == 1 else kwargs["out"]
        return _tag(result)

    def __array_function__(self, func, types_, args, kwargs):
        return _tag(func(*_strip(args), **_strip(kwargs)))

    def __array_namespace__(self, api_version=None):
        return STAND_IN


def _creator(name):
    """A NumPy array-creation function whose result is a TaggedArray."""
    make = getattr(np, name)

    def create(*args, **kwargs):
        return _tag(make(*args, **kwargs))

    return create


STAND_IN = types.SimpleNamespace(**{
    name: getattr(np, name) for name in dir(np) if not name.startswith("_")})
for _name in ("zeros", "ones", "empty", "full", "arange", "array", "asarray", "asanyarray", "eye",
              "linspace", "indices", "frombuffer"):
    setattr(STAND_IN, _name, _creator(_name))


def test_get_array_module():
    """NumPy arrays, scalars and Python numbers mean NumPy; a foreign array means its module."""
    plain = np.ones(3)
    assert get_array_module(plain) is np
    assert get_array_module(1.0, np.float32(2)) is np
    assert get_array_module(plain, plain.view(TaggedArray)) is STAND_IN


def test_is_array_and_as_array():
    """Arrays and array scalars of any library are arrays; Python values and lists are not."""
    tagged = np.ones(2).view(TaggedArray)
    assert is_array(tagged) and is_array(np.float32(1)) and is_array(np.ones(1))
    assert not is_array(1.0) and not is_array([1.0]) and not is_array(None)
    assert as_array(tagged) is tagged
    scalar = as_array(np.float32(2))
    assert type(scalar) is np.ndarray and scalar.shape == () and scalar.dtype == np.float32


def _inputs(seed, shapes, tagged):
    """Float64 leaf tensors with the same values, holding TaggedArrays or plain ndarrays."""
    rng = np.random.default_rng(seed)
    tensors = []
    for shape in shapes:
        array = rng.standard_normal(shape)
        if tagged:
            array = array.view(TaggedArray)
        tensors.append(Tensor._make(array, requires_grad=True))
    return tensors


def _labels(tagged):
    array = np.array([0, 2, 1, 2])
    return Tensor._make(array.view(TaggedArray) if tagged else array)


# name -> (input shapes, fn(*tensors, tagged) -> tensor); a representative op of each family
CASES = {
    "add_mul_div_pow": ([(3, 4), (4,)], lambda a, b, t: (a + b) * a / (b * b + 1) - a ** 2),
    "unary": ([(3, 4)], lambda a, t: a.exp() + a.tanh() + a.sigmoid() + (a * a + 1).log()),
    "relu_where": ([(3, 4)], lambda a, t: ember.where(a > 0, a, a * 0.1) + a.relu()),
    "sum_mean": ([(2, 3, 4)], lambda a, t: a.sum(1) + a.mean(dim=(1,))),
    "max_dim": ([(3, 4)], lambda a, t: a.max(dim=1).values + a.amax(0).sum()),
    "var_norm": ([(3, 4)], lambda a, t: a.var(1) + a.norm()),
    "matmul": ([(3, 4), (4, 5)], lambda a, b, t: a @ b),
    "bmm": ([(2, 3, 4), (2, 4, 2)], lambda a, b, t: ember.bmm(a, b)),
    "shape": ([(2, 3, 4)], lambda a, t: a.reshape(6, 4).t().permute(1, 0).unsqueeze(0).squeeze()),
    "transpose_contiguous": ([(2, 3, 4)], lambda a, t: a.transpose(0, 2).contiguous().view(-1)),
    "cat_stack": ([(2, 3), (2, 3)], lambda a, b, t: ember.cat([a, ember.stack([a, b]).sum(0)])),
    "split": ([(4, 3)], lambda a, t: ember.split(a, 2)[1] * 2),
    "getitem": ([(4, 5)], lambda a, t: a[1:3, ::2] + a[[0, 2]][:, :3]),
    "gather": ([(4, 3)], lambda a, t: a.gather(1, _labels(t).reshape(4, 1).clamp(max=2))),
    "softmax": ([(4, 3)], lambda a, t: F.softmax(a, 1) + F.log_softmax(a, 1)),
    "cross_entropy": ([(4, 3)], lambda a, t: F.cross_entropy(a, _labels(t))),
    "mse": ([(4, 3), (4, 3)], lambda a, b, t: F.mse_loss(a, b)),
    "linear": ([(4, 3), (5, 3), (5,)], lambda x, w, b, t: F.linear(x, w, b)),
    "conv2d": ([(2, 3, 6, 6), (4, 3, 3, 3), (4,)],
               lambda x, w, b, t: F.conv2d(x, w, b, stride=1, padding=1)),
    "max_pool2d": ([(2, 3, 6, 6)], lambda x, t: F.max_pool2d(x, 2)),
    "avg_pool2d": ([(2, 3, 6, 6)], lambda x, t: F.avg_pool2d(x, 2)),
    "adaptive_avg_pool2d": ([(2, 3, 6, 6)], lambda x, t: F.adaptive_avg_pool2d(x, 1)),
    "batch_norm": ([(4, 3, 2, 2), (3,), (3,)],
                   lambda x, w, b, t: F.batch_norm(x, None, None, w, b, training=True)),
    "layer_norm": ([(4, 3)], lambda x, t: F.layer_norm(x, (3,))),
}


@pytest.mark.parametrize("name", CASES)
def test_ops_stay_in_the_inputs_array_module(name):
    """Forward values and gradients are TaggedArrays and equal the plain NumPy run."""
    shapes, fn = CASES[name]
    results = {}
    for tagged in (False, True):
        tensors = _inputs(0, shapes, tagged)
        out = fn(*tensors, tagged)
        out.sum().backward()
        results[tagged] = (out, tensors)
    out, tensors = results[True]
    plain_out, plain_tensors = results[False]
    assert type(out._data) is TaggedArray, f"{name}: forward gave {type(out._data).__name__}"
    np.testing.assert_allclose(out._data.view(np.ndarray), plain_out._data, rtol=1e-12)
    for t, p in zip(tensors, plain_tensors):
        assert type(t.grad._data) is TaggedArray, \
            f"{name}: gradient is {type(t.grad._data).__name__}"
        np.testing.assert_allclose(t.grad._data.view(np.ndarray), p.grad._data, rtol=1e-12,
                                   atol=1e-12)


def test_second_order_gradients_stay_in_the_module():
    """create_graph=True: the gradient graph itself runs on the stand-in arrays."""
    (x,) = _inputs(1, [(5,)], tagged=True)
    (gx,) = ember.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    gx.sum().backward()
    assert type(gx._data) is TaggedArray and type(x.grad._data) is TaggedArray


def test_optimizer_step_stays_in_the_module():
    """An SGD-with-momentum and an Adam step update stand-in parameters in their own type."""
    for make in (lambda p: ember.optim.SGD(p, lr=0.1, momentum=0.9),
                 lambda p: ember.optim.Adam(p, lr=0.1)):
        (w,) = _inputs(2, [(3, 2)], tagged=True)
        w = ember.nn.Parameter(w.detach())
        w._data = w._data.view(TaggedArray)
        optimizer = make([w])
        for _ in range(2):
            optimizer.zero_grad()
            (w * w).sum().backward()
            optimizer.step()
        assert type(w._data) is TaggedArray


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.complex64])
@pytest.mark.parametrize("case", ["rows", "nonzero target", "negative index", "a padding row",
                                  "3-d target", "one-element tuple"])
def test_scatter_add_gives_np_add_at_bits(case, dtype):
    """scatter_add's by-rank path for whole rows (NOTE [Scatter-adding rows by rank]) adds
    each target row's values in their original order: np.add.at's bits, repeats included."""
    from ember._backend import scatter_add

    rng = np.random.default_rng(abs(hash((case, np.dtype(dtype).name))) % 2**32)
    num, n = 40, 500
    index = rng.integers(0, num, n)
    if case == "negative index":
        index -= num // 2  # -1 and num - 1 are the same row: np.add.at's path
    if case == "a padding row":
        index[::2] = 3  # one value repeated 250 times: np.add.at's path
    shape = (num, 3, 2) if case == "3-d target" else (num, 7)
    values = (rng.standard_normal((n,) + shape[1:]) * 3).astype(dtype)
    start = (rng.standard_normal(shape) * 5 if case == "nonzero target"
             else np.zeros(shape)).astype(dtype)
    expected = start.copy()
    np.add.at(expected, index, values)
    got = scatter_add(start.copy(), (index,) if case == "one-element tuple" else index, values)
    np.testing.assert_array_equal(got, expected)
    # the repeats were really summed in order: a reordered sum differs in float32 somewhere
    if case == "rows" and dtype == np.float32:
        backwards = np.zeros(shape, dtype)
        np.add.at(backwards, index[::-1], values[::-1])
        assert not np.array_equal(backwards, expected)


def test_numpy_float_warnings_of_ember_ops_are_silent_and_the_users_are_not():
    """NOTE [NumPy's floating-point warnings]: under `-W error`, ember's inf·0 and inf - inf give
    NaN silently as torch's do, while the program's own NumPy code still raises."""
    import subprocess
    import sys

    program = (
        "import numpy as np, ember\n"
        "a = ember.tensor([float('-inf'), 1.0], requires_grad=True)\n"
        "y = a * 0 + (a - a)\n"
        "y.sum().backward()\n"
        "print(y.isnan().tolist())\n"
        "try:\n"
        "    np.array([np.inf]) * 0\n"
        "except RuntimeWarning as warning:\n"
        "    print('user:', warning)\n")
    done = subprocess.run([sys.executable, "-W", "error", "-c", program], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[True, False]",
                                        "user: invalid value encountered in multiply"]
