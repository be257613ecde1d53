"""Tensor creation, checked against torch: inferred dtypes, shapes, values, memory sharing, RNG."""

import array
import collections

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, error_of


DATA = {
    "floats": [1.5, 2.0, -3.25],
    "ints": [1, 2, 3],
    "bools": [True, False],
    "mixed-int-float": [1, 2.5],
    "mixed-bool-int": [True, 2],
    "nested": [[1.0, 2.0], [3.0, 4.0]],
    "nested-3d": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]],
    "empty": [],
    "empty-nested": [[], []],
    "scalar-float": 2.5,
    "scalar-int": 7,
    "scalar-bool": True,
    "tuple": (1, 2, 3),
    "np-f64": np.array([1.0, 2.0]),
    "np-f16": np.array([1.0, 2.0], np.float16),
    "np-i32": np.array([[1, 2]], np.int32),
    "np-u8": np.array([250, 3], np.uint8),
    "np-bool": np.array([True, False]),
    "np-scalar-f64": np.float64(2.5),
    "np-scalar-i64": np.int64(4),
    "list-of-np-scalars": [np.float32(1.0), np.float32(2.0)],
    "big-int": [2 ** 40, -(2 ** 40)],
}


@pytest.mark.parametrize("name", sorted(DATA))
def test_tensor_infers_dtype(name):
    assert_same(ember.tensor(DATA[name]), torch.tensor(DATA[name]), exact=True)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "uint8",
                                   "bool"])
@pytest.mark.parametrize("name", ["floats", "ints", "bools", "nested"])
def test_tensor_with_dtype(name, dtype):
    data = [[abs(v) for v in row] if isinstance(row, list) else abs(row) for row in DATA[name]]
    assert_same(ember.tensor(data, dtype=getattr(ember, dtype)),
                 torch.tensor(data, dtype=getattr(torch, dtype)), exact=True)


def test_tensor_copies_numpy():
    array = np.zeros(3, np.float32)
    t = ember.tensor(array)
    array[0] = 5
    assert t.numpy()[0] == 0


def test_tensor_of_tensors_list():
    e = ember.tensor([ember.tensor(1.0), ember.tensor(2.0)])
    t = torch.tensor([torch.tensor(1.0), torch.tensor(2.0)])
    assert_same(e, t, exact=True)


TENSOR_LISTS = {
    "0-d ints and floats": lambda lib: [lib.tensor(1), lib.tensor(2.5)],
    "(1,)-shaped": lambda lib: [lib.ones(1), lib.ones(1)],
    "nested 0-d": lambda lib: [[lib.tensor(1)], [lib.tensor(2)]],
    "int32 and a Python int": lambda lib: [lib.tensor(1, dtype=lib.int32), 3],
    "bools": lambda lib: [lib.tensor(True), lib.tensor(False)],
    "float64": lambda lib: [lib.tensor(1.5, dtype=lib.float64)],
    "range": lambda lib: range(3),
    "ranges": lambda lib: [range(2), range(2)],
}


@pytest.mark.parametrize("name", sorted(TENSOR_LISTS))
def test_tensors_in_lists_are_numbers(name):
    """Inside a sequence a tensor is one number, as torch has it; a range is a sequence."""
    assert_same(ember.tensor(TENSOR_LISTS[name](ember)), torch.tensor(TENSOR_LISTS[name](torch)),
                exact=True)


class _Pair:
    """A sequence by __len__ and __getitem__ alone (torch's PySequence_Check)."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        if i >= 2:
            raise IndexError(i)
        return i * 1.5


class _NoLen:
    def __getitem__(self, i):
        return 1


OTHER_SEQUENCES = {
    "deque of floats": lambda lib: collections.deque([1.0, 2.5]),
    "deque of 0-d tensors": lambda lib: collections.deque([lib.tensor(1.5), 2]),
    "deques in a list": lambda lib: [collections.deque([1, 2]), collections.deque([3, 4])],
    "empty deque": lambda lib: collections.deque(),
    "array.array of doubles": lambda lib: array.array("d", [1, 2]),
    "memoryview": lambda lib: memoryview(b"ab"),
    "UserList": lambda lib: collections.UserList([True, False]),
    "__len__ and __getitem__": lambda lib: _Pair(),
}


@pytest.mark.parametrize("name", sorted(OTHER_SEQUENCES))
def test_tensor_of_other_sequences(name):
    """torch.tensor reads any sequence (a deque of returns in REINFORCE) item by item."""
    assert_same(ember.tensor(OTHER_SEQUENCES[name](ember)),
                torch.tensor(OTHER_SEQUENCES[name](torch)), exact=True)
    assert_same(ember.tensor(OTHER_SEQUENCES[name](ember), dtype=ember.float64),
                torch.tensor(OTHER_SEQUENCES[name](torch), dtype=torch.float64), exact=True)


@pytest.mark.parametrize("data", [lambda lib: [lib.ones(2), lib.ones(2)], lambda lib: [None],
                                  lambda lib: _NoLen(), lambda lib: {1: 2}, lambda lib: {1, 2},
                                  lambda lib: None, lambda lib: object()])
def test_data_that_is_not_numbers_raises_as_torch(data):
    expected = error_of(lambda: torch.tensor(data(torch)))
    got = error_of(lambda: ember.tensor(data(ember)))
    assert (type(got), str(got)) == (type(expected), str(expected))


def test_ragged_list_raises_value_error():
    with pytest.raises(ValueError):
        torch.tensor([[1, 2], [3]])
    with pytest.raises(ValueError):
        ember.tensor([[1, 2], [3]])


def test_tensor_requires_grad_only_for_floats():
    assert ember.tensor([1.0], requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1], requires_grad=True)


def test_from_numpy_shares_memory():
    array = np.arange(4.0)
    t = ember.from_numpy(array)
    array[0] = 10
    assert t.numpy()[0] == 10
    t.add_(1)
    assert array[1] == 2
    assert t.dtype is ember.float64


def test_from_numpy_rejects_non_arrays_and_bad_dtypes():
    with pytest.raises(TypeError):
        torch.from_numpy([1, 2])
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])
    with pytest.raises(TypeError):
        torch.from_numpy(np.array(["a"]))
    with pytest.raises(TypeError):
        ember.from_numpy(np.array(["a"]))


def test_as_tensor_shares_memory():
    array = np.ones(3, np.float32)
    t = ember.as_tensor(array)
    array[1] = 7
    assert t.numpy()[1] == 7
    same = ember.as_tensor(t)
    assert same is t
    converted = ember.as_tensor(array, dtype=ember.float64)
    array[2] = 9
    assert converted.numpy()[2] == 1
    assert_same(ember.as_tensor([1, 2]), torch.as_tensor([1, 2]), exact=True)


SIZES = [(), (0,), (3,), (2, 3), (2, 0, 4), (1, 1, 1, 2)]


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("dtype", [None, "float64", "int64", "bool", "int8"])
def test_filled(fn, size, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    torch_kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    e = getattr(ember, fn)(size, **kwargs)
    t = getattr(torch, fn)(size, **torch_kwargs)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    if fn != "empty":
        assert_same(e, t, exact=True)
    if len(size) > 0:
        assert tuple(getattr(ember, fn)(*size).shape) == tuple(getattr(torch, fn)(*size).shape)


@pytest.mark.parametrize("fill", [1.5, 2, True, -0.0])
@pytest.mark.parametrize("dtype", [None, "float64", "int32"])
def test_full(fill, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    torch_kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    assert_same(ember.full((2, 3), fill, **kwargs), torch.full((2, 3), fill, **torch_kwargs),
                exact=True)


@pytest.mark.parametrize("fn", ["zeros_like", "ones_like", "empty_like"])
@pytest.mark.parametrize("dtype", [None, "float64", "int64"])
def test_like(fn, dtype):
    base = np.arange(6, dtype=np.int16).reshape(2, 3)
    kwargs = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    torch_kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    e = getattr(ember, fn)(ember.from_numpy(base), **kwargs)
    t = getattr(torch, fn)(torch.from_numpy(base), **torch_kwargs)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    if fn != "empty_like":
        assert_same(e, t, exact=True)


def test_full_like_and_requires_grad():
    base = np.zeros((2, 2), np.float64)
    assert_same(ember.full_like(ember.from_numpy(base), 3), torch.full_like(
        torch.from_numpy(base), 3), exact=True)
    assert ember.zeros_like(ember.ones(2), requires_grad=True).requires_grad


def test_negative_size_raises():
    with pytest.raises(RuntimeError):
        torch.zeros(-1, 2)
    with pytest.raises(RuntimeError):
        ember.zeros(-1, 2)


ARANGES = [(5,), (2, 7), (0, 1, 0.1), (1, 2.5, 0.5), (10, 0, -3), (0.0, 1.0, 0.3), (3, 3),
           (1, 10, 4), (0, 1, 1 / 3), (-3, 3, 1.5), (2.5,)]


@pytest.mark.parametrize("args", ARANGES, ids=str)
def test_arange(args):
    e, t = ember.arange(*args), torch.arange(*args)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("args", [(0, 10, 0.1), (0.3, 7.1, 0.013), (10, 0, -0.3), (0, 5000, 1),
                                  (0, 70000, 1), (0, 100000, 0.3), (1e6, 1e6 + 100, 0.7)],
                         ids=str)
def test_arange_floats_bit_for_bit(args, threads):
    """Float aranges as torch's kernel rounds them (NOTE [arange arithmetic]): in 32-byte
    vectors from each thread's chunk on, beyond float16/bfloat16's exact integers too."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        ember.set_num_threads(threads)
        for dtype in ("float32", "float64", "float16", "bfloat16"):
            e = ember.arange(*args, dtype=getattr(ember, dtype)).float()
            assert_same(e, torch.arange(*args, dtype=getattr(torch, dtype)).float(), exact=True)
    finally:
        torch.set_num_threads(before)
        ember.set_num_threads(before)


@pytest.mark.parametrize("dtype", ["float64", "int32", "float32"])
def test_arange_dtype(dtype):
    assert_same(ember.arange(0, 6, 2, dtype=getattr(ember, dtype)),
                 torch.arange(0, 6, 2, dtype=getattr(torch, dtype)), exact=True)


@pytest.mark.parametrize("args", [(0, 5, 0), (5, 0), (-2.5,), (0, 5, -1)], ids=str)
def test_arange_bad_arguments(args):
    with pytest.raises(RuntimeError):
        torch.arange(*args)
    with pytest.raises(RuntimeError):
        ember.arange(*args)


LINSPACES = [(0, 1, 5), (-1, 1, 1), (0, 10, 0), (2, 2, 3), (1, 0, 4), (0, 1, 101)]


@pytest.mark.parametrize("args", LINSPACES, ids=str)
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_linspace(args, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    torch_kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    e, t = ember.linspace(*args, **kwargs), torch.linspace(*args, **torch_kwargs)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,), (1,), (3, 0)], ids=str)
@pytest.mark.parametrize("dtype", [None, "int64", "bool"])
def test_eye(args, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    torch_kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    assert_same(ember.eye(*args, **kwargs), torch.eye(*args, **torch_kwargs), exact=True)


@pytest.mark.parametrize("fn", ["rand", "randn"])
@pytest.mark.parametrize("size", [(), (3,), (2, 3), (0, 2)], ids=str)
@pytest.mark.parametrize("dtype", [None, "float64", "float16"])
def test_rand_shapes_and_dtypes(fn, size, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    torch_kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    e, t = getattr(ember, fn)(size, **kwargs), getattr(torch, fn)(size, **torch_kwargs)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    if fn == "rand" and e.numel():
        assert 0 <= e.numpy().min() and e.numpy().max() < 1


def test_rand_statistics():
    ember.manual_seed(0)
    values = ember.randn(20000).numpy()
    assert abs(values.mean()) < 0.05 and abs(values.std() - 1) < 0.05
    uniform = ember.rand(20000).numpy()
    assert abs(uniform.mean() - 0.5) < 0.02


def test_rand_rejects_integer_dtype():
    with pytest.raises(RuntimeError):
        torch.rand(2, dtype=torch.int64)
    with pytest.raises(RuntimeError):
        ember.rand(2, dtype=ember.int64)


@pytest.mark.parametrize("args", [(5, (3,)), (2, 7, (2, 2)), (-3, 3, (10,)), (1, (0,))], ids=str)
@pytest.mark.parametrize("dtype", [None, "int32", "float32"])
def test_randint(args, dtype):
    kwargs = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    torch_kwargs = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    e, t = ember.randint(*args, **kwargs), torch.randint(*args, **torch_kwargs)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    low, high = (0, args[0]) if len(args) == 2 else args[:2]
    if e.numel():
        assert low <= e.numpy().min() and e.numpy().max() < high


def test_randperm():
    e, t = ember.randperm(10), torch.randperm(10)
    assert str(e.dtype) == str(t.dtype)
    assert sorted(e.tolist()) == list(range(10))


@pytest.mark.parametrize("fn", ["rand", "randn", "randperm", "randint"])
def test_manual_seed_reproducible(fn):
    args = {"rand": (3, 4), "randn": (5,), "randperm": (8,), "randint": (0, 100, (6,))}[fn]
    ember.manual_seed(1234)
    first = getattr(ember, fn)(*args).numpy().copy()
    ember.manual_seed(1234)
    second = getattr(ember, fn)(*args).numpy()
    np.testing.assert_array_equal(first, second)
    ember.manual_seed(4321)
    assert not np.array_equal(first, getattr(ember, fn)(*args).numpy())


def test_generator_is_independent_of_global_state():
    g = ember.Generator().manual_seed(7)
    a = ember.randn(4, generator=g).numpy().copy()
    ember.manual_seed(0)
    ember.randn(10)
    g.manual_seed(7)
    np.testing.assert_array_equal(a, ember.randn(4, generator=g).numpy())
    assert g.initial_seed() == 7
    assert isinstance(ember.manual_seed(3), ember.Generator)


def test_generator_state_round_trip():
    g = ember.Generator().manual_seed(11)
    state = g.get_state()
    assert str(state.dtype) == "torch.uint8"
    a = ember.rand(5, generator=g).numpy().copy()
    g.set_state(state)
    np.testing.assert_array_equal(a, ember.rand(5, generator=g).numpy())
    saved = ember.get_rng_state()
    b = ember.rand(3).numpy().copy()
    ember.set_rng_state(saved)
    np.testing.assert_array_equal(b, ember.rand(3).numpy())


def test_creation_device_argument():
    assert ember.zeros(2, device="cpu").device == ember.device("cpu")
    with pytest.raises(AssertionError):
        torch.zeros(2, device="cuda")
    with pytest.raises(AssertionError):
        ember.zeros(2, device="cuda")


def test_tensor_constructor_class():
    assert_same(ember.Tensor([1, 2]), torch.Tensor([1, 2]), exact=True)
    assert tuple(ember.Tensor(2, 3).shape) == tuple(torch.Tensor(2, 3).shape)


def test_new_methods():
    e, t = ember.ones(2, dtype=ember.float64), torch.ones(2, dtype=torch.float64)
    assert_same(e.new_zeros(3), t.new_zeros(3), exact=True)
    assert_same(e.new_ones((2, 2)), t.new_ones((2, 2)), exact=True)
    assert_same(e.new_full((2,), 4), t.new_full((2,), 4), exact=True)
    assert_same(e.new_tensor([1, 2]), t.new_tensor([1, 2]), exact=True)


# ---- ranges with integer dtypes, argument errors, strided and permuted layouts ----------------
@pytest.mark.parametrize("args", [(0, 5, 1.5), (0.5, 5, 1), (2 ** 60, 2 ** 60 + 3), (5, 0, -2)])
def test_arange_integer_dtype_truncates(args):
    """For an integer dtype start and step are truncated first, as in PyTorch."""
    e, t = ember.arange(*args, dtype=ember.int64), torch.arange(*args, dtype=torch.int64)
    assert_same(e, t, exact=True)


@pytest.mark.parametrize("call", [
    lambda m: m.arange(0, float("inf")), lambda m: m.arange(float("nan"), 2),
    lambda m: m.arange(0, 64, 0.5, dtype=m.int64),
    lambda m: m.arange(0, 64, 0.5, out=m.tensor([], dtype=m.int64)),
    lambda m: m.linspace(0, 3, -1), lambda m: m.linspace(0, 3, 1.0),
    lambda m: m.linspace(0, 3, None), lambda m: m.logspace(0, 3, -1),
    lambda m: m.linspace(m.zeros(2), m.ones(2), 3), lambda m: m.eye(-1),
    lambda m: m.eye(2, -3), lambda m: m.empty_permuted((2,), (0, 1)),
    lambda m: m.empty_permuted((2, 3), (0, 0)), lambda m: m.empty_permuted((2,), (3,)),
    lambda m: m.randint_like(m.ones(3), m.tensor([4.0])),  # high: a 0-d tensor only
    lambda m: m.randint_like(m.ones(3), m.ones(0)),
    # the range is checked for the dtype even when there is nothing to draw (issue #19)
    lambda m: m.randint_like(m.ones(0, dtype=m.bool), 0, 3),
    lambda m: m.randint_like(m.ones(2, 0, 3, dtype=m.bool), 3, 10),
    lambda m: m.randint_like(m.ones(0), 3, 1),
    lambda m: m.randint_like(m.ones(0, dtype=m.complex64), 0, 3),
    lambda m: m.randint_like(m.ones(2, dtype=m.float16), 0, 2 ** 40),  # to - 1 beyond Half
    lambda m: m.randint_like(m.ones(2, dtype=m.float16), -70000, 3)])
def test_creation_argument_errors(call):
    """The exception types torch raises for bad creation arguments."""
    assert type(error_of(lambda: call(ember))) is type(error_of(lambda: call(torch)))


def test_linspace_tensor_bounds_and_integer_dtype():
    """0-d tensor bounds; an integer dtype truncates the floating-point values."""
    assert_same(ember.linspace(ember.tensor(0.0), ember.tensor(3.0), 4),
                torch.linspace(torch.tensor(0.0), torch.tensor(3.0), 4))
    assert_same(ember.linspace(0, 3, 5, dtype=ember.int64),
                torch.linspace(0, 3, 5, dtype=torch.int64), exact=True)


@pytest.mark.parametrize("size, stride", [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((), ()),
                                          ((4, 2), (1, 4)), ((3,), (0,))])
def test_empty_strided(size, stride):
    """empty_strided / new_empty_strided report the strides asked for."""
    for m in (ember, torch):
        x = m.empty_strided(size, stride)
        assert (tuple(x.shape), x.stride(), str(x.dtype)) == (size, stride, "torch.float32")
        y = m.zeros(1, dtype=m.float64).new_empty_strided(size, stride)
        assert (y.stride(), str(y.dtype)) == (stride, "torch.float64")


@pytest.mark.parametrize("size, order", [((2, 3, 4), (0, 2, 1)), ((2, 3, 4, 5), (0, 2, 3, 1)),
                                         ((), ()), ((0,), (0,))])
def test_empty_permuted(size, order):
    """empty_permuted lays out dims in memory in the order given."""
    e, t = ember.empty_permuted(size, order), torch.empty_permuted(size, order)
    assert e.stride() == t.stride() and tuple(e.shape) == tuple(t.shape)


@pytest.mark.parametrize("value, dtype", [(3, None), (True, None), (2.5, "float64"),
                                          (7, "int64")])
def test_scalar_tensor(value, dtype):
    kwargs = lambda m: {} if dtype is None else {"dtype": getattr(m, dtype)}  # noqa: E731
    assert_same(ember.scalar_tensor(value, **kwargs(ember)),
                torch.scalar_tensor(value, **kwargs(torch)))



BIG_LISTS = {
    "floats": [float(i) / 3 for i in range(100)],
    "ints": list(range(-50, 50)),
    "bools": [True, False] * 50,
    "bools and ints": [True, 2] * 50,
    "nested ints and floats": [[1, 2.5]] * 50,
    "complex": [1 + 2j, 3] * 50,
    "float32 overflow": [1e300, -1e300] * 50,
    "int64 overflow": [2 ** 70] * 50,
    "ragged": [[1, 2], [3]] * 50,
    "with a string": [1] * 50 + ["a"],
    "with a tensor": [1.0] * 50 + ["tensor"],
    "with None": [1.0] * 50 + [None],
}


@pytest.mark.parametrize("name", sorted(BIG_LISTS))
def test_big_lists_as_torch(name):
    """Long lists of Python numbers take the array route (`_plain_numbers`); anything else the
    element-by-element one: the same dtypes, values and errors as torch either way."""
    def data(lib):
        return [lib.tensor(2.5) if item == "tensor" else item for item in BIG_LISTS[name]] \
            if name == "with a tensor" else BIG_LISTS[name]
    try:
        expected = torch.tensor(data(torch))
    except Exception as error:
        got = error_of(lambda: ember.tensor(data(ember)))
        assert type(got) is type(error)
        return
    assert_same(ember.tensor(data(ember)), expected, exact=True)


@pytest.mark.parametrize("data, dtype", [
    ("[[1, 2], [3]]", None), ("[[1], [2, 3]]", None), ("[[[1, 2]], [[1]]]", "float64"),
    ("[[1, 2], [3, 4, 5]]", "int32"), ("[[1.5, 2], []]", None), ("[[1], 2]", None),
    ("[1, [2]]", None), ("[1.0, [2]]", None), ("[1, [2]]", "float32"), ("[1, [2]]", "bool"),
    ("[np.ones(2), [1, 2, 3]]", None),
    ('["a"]', None), ('("a", "b")', "float32"), ('[1, "a"]', None), ('[[1], ["ab"]]', None),
    ('[1, "a"]', "float32"), ('[[1, 2], "ab"]', "int64"), ('[b"a"]', None), ('b"x"', None),
    ("[None]", "float32"), ("[1, None]", "int64"), ("[1, {}]", "bool"), ("[object()]", "float16")])
def test_tensor_of_bad_nested_data_raises_torchs_error(data, dtype):
    """A ragged list, strings, or items that are not numbers: torch's exception and message
    (`expected sequence of length 2 at dim 1 (got 1)`, `too many dimensions 'str'`, ...)."""
    def call(lib):
        return lib.tensor(eval(data), dtype=None if dtype is None else getattr(lib, dtype))
    expected, raised = error_of(lambda: call(torch)), error_of(lambda: call(ember))
    assert (type(raised), str(raised)) == (type(expected), str(expected))


@pytest.mark.parametrize("data", ["[[], [1]]", "[[[]], [[1]]]"])
def test_tensor_of_ragged_data_without_elements_is_empty(data):
    """torch reads the shape along the first items and stores nothing: an empty tensor."""
    assert_same(ember.tensor(eval(data)), torch.tensor(eval(data)), exact=True)


def test_zeros_negative_size_message():
    """torch.zeros words a negative size its own way (ones and empty do not)."""
    for size in [(-1,), (2, -3), ((0, -1, 2),)]:
        expected = error_of(lambda: torch.zeros(*size))
        raised = error_of(lambda: ember.zeros(*size))
        assert (type(raised), str(raised)) == (type(expected), str(expected))
