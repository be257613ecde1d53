"""ember.testing against torch.testing: assert_close and assert_allclose pass or fail on the same
inputs with the same exception type and message; make_tensor draws torch's tensors bit for bit
after the same seed; FileCheck passes or fails with torch's messages."""

import collections
import contextlib
import io
import math
import re
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.testing

# the two names differ only where a message prints a Python type
_TYPE_NAMES = {"ember._tensor.Tensor": "torch.Tensor",
               "ember.nn.parameter.Parameter": "torch.nn.parameter.Parameter"}


def _normalized(message: str) -> str:
    """A message with ember's type names written as torch's, and addresses blanked."""
    for ours, theirs in _TYPE_NAMES.items():
        message = message.replace(ours, theirs)
    return re.sub(r"0x[0-9a-f]+", "0x?", message)


def _outcome(fn):
    """None when fn passes, else (exception type, normalized message)."""
    try:
        fn()
    except Exception as error:
        return type(error), _normalized(str(error))
    return None


def _array(data, dtype):
    """A NumPy array of data as dtype (bfloat16 and float8 tensors are made from float32)."""
    return np.asarray(data, dtype=dtype if hasattr(np, str(dtype)) else np.float32)


def T(lib, data, dtype="float32"):
    """A tensor of lib (ember or torch) holding data as dtype (by name)."""
    return lib.tensor(data).to(getattr(lib, dtype))


# ---- assert_close -----------------------------------------------------------------------------
_RNG = np.random.default_rng(0)
_MANY = _RNG.standard_normal(1000).astype(np.float32)
_MANY_OFF = _MANY + np.where(np.arange(1000) % 3 == 0, 0.5, 0.0).astype(np.float32)
_NAN, _INF = math.nan, math.inf


def _pair(data_a, data_b, dtype="float32"):
    """A builder: lib -> (tensor of data_a, tensor of data_b), both as dtype."""
    return lambda lib: (T(lib, data_a, dtype), T(lib, data_b, dtype))


def _fixed(actual, expected):
    """A builder for inputs that are the same for both libraries (scalars, arrays)."""
    return lambda lib: (actual, expected)


# (id, builder, assert_close kwargs, what torch does: None = passes, or the exception type)
CLOSE_CASES = [
    ("float32-equal", _pair([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), {}, None),
    ("float32-within-default", _pair([1.0, 2.0], [1.0 + 1e-6, 2.0]), {}, None),
    ("float32-not-close", _pair([1.0, 2.0, 3.0], [1.0, 4.0, 5.0]), {}, AssertionError),
    ("float32-small-diff", _pair([1.0, 0.1, 3.0], [1.0, 0.1001, 3.0]), {}, AssertionError),
    ("float16-within", _pair([1.0, 100.0], [1.001, 100.06], "float16"), {}, None),
    ("float16-not-close", _pair([1.0, 100.0], [1.01, 100.5], "float16"), {}, AssertionError),
    ("bfloat16-within", _pair([1.0, 2.0], [1.0078125, 2.0], "bfloat16"), {}, None),
    ("bfloat16-not-close", _pair([1.0, 2.0], [1.5, 2.25], "bfloat16"), {}, AssertionError),
    ("float64-within", _pair([1.0, 1e3], [1.0 + 5e-8, 1e3 + 1e-5], "float64"), {}, None),
    ("float64-not-close", _pair([1.0, 1e3], [1.0 + 1e-6, 1e3], "float64"), {}, AssertionError),
    ("nan-not-equal", _pair([1.0, _NAN], [1.0, _NAN]), {}, AssertionError),
    ("nan-equal-nan", _pair([1.0, _NAN], [1.0, _NAN]), {"equal_nan": True}, None),
    ("equal-nan-not-bool", _pair([_NAN], [_NAN]), {"equal_nan": "relaxed"}, RuntimeError),
    ("nan-vs-number", _pair([_NAN, 2.0], [1.0, 2.0]), {"equal_nan": True}, AssertionError),
    ("number-vs-nan", _pair([1.0, 2.0, 5.0], [_NAN, 2.0, 3.0]), {}, AssertionError),
    ("inf-equal", _pair([_INF, -_INF], [_INF, -_INF]), {}, None),
    ("inf-sign", _pair([_INF, 1.0], [-_INF, 1.0]), {}, AssertionError),
    ("inf-vs-large", _pair([_INF, 1.0], [3e38, 1.0]), {}, AssertionError),
    ("relative-inf", _pair([1.0, 0.5], [1.0, 0.0]), {}, AssertionError),
    ("int64-equal", _pair([1, 2, 3], [1, 2, 3], "int64"), {}, None),
    ("int64-off-by-one", _pair([1, 2, 3], [1, 2, 4], "int64"), {}, AssertionError),
    ("int64-beyond-float", _pair([2 ** 62, 5], [2 ** 62 + 1, 5], "int64"), {}, AssertionError),
    ("int64-with-tolerance", _pair([10, 20], [11, 20], "int64"), {"rtol": 0.1, "atol": 0},
     None),
    ("int32-not-equal", _pair([7, -3], [7, 3], "int32"), {}, AssertionError),
    ("uint8-negative-diff", _pair([1, 200], [3, 10], "uint8"), {}, AssertionError),
    ("int8-extremes", _pair([-128, 0], [127, 0], "int8"), {}, AssertionError),
    ("bool-equal", _pair([True, False], [True, False], "bool"), {}, None),
    ("bool-not-equal", _pair([True, False, True], [True, True, False], "bool"), {},
     AssertionError),
    ("complex64-within", _pair([1 + 1j, 2 - 1j], [1 + 1j, 2 - 1j + 1e-6], "complex64"), {},
     None),
    ("complex64-not-close", _pair([1 + 1j, 2 - 1j], [1 + 2j, 2 - 1j], "complex64"), {},
     AssertionError),
    ("complex128-not-close", _pair([1 + 1e-6j, 3j], [1, 3j], "complex128"), {},
     AssertionError),
    ("complex-nan-equal", _pair([complex(_NAN, 1)], [complex(_NAN, 1)], "complex64"),
     {"equal_nan": True}, None),
    ("shape", _pair([1.0, 2.0], [[1.0, 2.0]]), {}, AssertionError),
    ("shape-empty", lambda lib: (lib.zeros(0, 3), lib.zeros(0, 4)), {}, AssertionError),
    ("empty-equal", lambda lib: (lib.zeros(0, 3), lib.zeros(0, 3)), {}, None),
    ("dtype", lambda lib: (T(lib, [1.0], "float32"), T(lib, [1.0], "float64")), {},
     AssertionError),
    ("dtype-unchecked", lambda lib: (T(lib, [1.0, 2.5], "float32"), T(lib, [1.0, 2.5],
                                                                       "float64")),
     {"check_dtype": False}, None),
    ("dtype-unchecked-int-float", lambda lib: (T(lib, [1, 2], "int64"), T(lib, [1.0, 2.5],
                                                                          "float32")),
     {"check_dtype": False}, AssertionError),
    ("dtype-unchecked-uint8-int8", lambda lib: (T(lib, [1, 250], "uint8"), T(lib, [1, -6],
                                                                             "int8")),
     {"check_dtype": False}, AssertionError),
    ("dtype-unchecked-uint16", lambda lib: (T(lib, [1, 2], "uint16"), T(lib, [1, 2], "int32")),
     {"check_dtype": False}, None),
    ("zero-d-close", _pair(1.0, 1.0 + 1e-7), {}, None),
    ("zero-d-not-close", _pair(1.0, 1.1), {}, AssertionError),
    ("zero-d-int", _pair(3, 4, "int64"), {}, AssertionError),
    ("zero-d-bool", _pair(True, False, "bool"), {}, AssertionError),
    ("zero-d-complex", _pair(1 + 1j, 1 - 1j, "complex64"), {}, AssertionError),
    ("zero-d-nan", _pair(_NAN, _NAN), {}, AssertionError),
    ("many-mismatches", lambda lib: (lib.tensor(_MANY_OFF), lib.tensor(_MANY)), {},
     AssertionError),
    ("many-mismatches-2d", lambda lib: (lib.tensor(_MANY_OFF.reshape(10, 100)),
                                        lib.tensor(_MANY.reshape(10, 100))), {}, AssertionError),
    ("one-in-a-thousand", lambda lib: (lib.tensor(_MANY), lib.tensor(
        np.where(np.arange(1000) == 617, 9.0, _MANY).astype(np.float32))), {}, AssertionError),
    ("one-in-3000", lambda lib: (lib.zeros(3000), lib.tensor(
        np.where(np.arange(3000) == 5, 1.0, 0.0).astype(np.float32))), {}, AssertionError),
    ("ties", _pair([[1.0, 3.0], [3.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]), {}, AssertionError),
    ("3d-index", lambda lib: (lib.zeros(2, 3, 4), lib.zeros(2, 3, 4).index_put_(
        (lib.tensor([1]), lib.tensor([2]), lib.tensor([3])), lib.tensor([2.0]))), {},
     AssertionError),
    ("equality-message", _pair([1.0, 2.0], [1.0, 2.5]), {"rtol": 0, "atol": 0},
     AssertionError),
    ("explicit-tolerances-pass", _pair([1.0, 2.0], [1.05, 2.0]), {"rtol": 0.1, "atol": 0},
     None),
    ("explicit-tolerances-fail", _pair([1.0, 2.0], [1.5, 2.0]), {"rtol": 0.1, "atol": 0.01},
     AssertionError),
    ("only-rtol", _pair([1.0], [1.0]), {"rtol": 0.1}, ValueError),
    ("only-atol", _pair([1.0], [1.0]), {"atol": 0.1}, ValueError),
    ("negative-rtol", _pair([1.0, 2.0], [1.0, 2.0]), {"rtol": -1.0, "atol": 0.0}, RuntimeError),
    ("msg-string", _pair([1.0, 2.0, 3.0], [1.0, 4.0, 5.0]), {"msg": "Argh, not close!"},
     AssertionError),
    ("msg-callable", _pair([1.0, 2.0, 3.0], [1.0, 4.0, 5.0]),
     {"msg": lambda msg: f"Header\n\n{msg}\n\nFooter"}, AssertionError),
    ("msg-string-shape", _pair([1.0], [1.0, 2.0]), {"msg": "custom"}, AssertionError),
    ("stride-unchecked", lambda lib: (lib.ones(2, 3).t(), lib.ones(3, 2)), {}, None),
    ("stride-checked", lambda lib: (lib.ones(2, 3).t(), lib.ones(3, 2)), {"check_stride": True},
     AssertionError),
    ("parameter-vs-tensor", lambda lib: (lib.nn.Parameter(lib.ones(2)), lib.ones(2)), {}, None),
    ("parameter-no-subclasses", lambda lib: (lib.nn.Parameter(lib.ones(2)), lib.ones(2)),
     {"allow_subclasses": False}, TypeError),
    ("requires-grad-ignored", lambda lib: (lib.ones(2, requires_grad=True), lib.ones(2)), {},
     None),
    ("float8-equal", _pair([1.0, 2.0], [1.0, 2.0], "float8_e4m3fn"), {}, None),
    ("float8-bitwise", _pair([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], "float8_e5m2"), {},
     AssertionError),
    ("float8-tolerance", _pair([1.0], [1.0], "float8_e4m3fn"), {"rtol": 0.1, "atol": 0.1},
     AssertionError),
    ("sparse-coo-equal", lambda lib: (lib.eye(3).to_sparse(), lib.eye(3).to_sparse()), {},
     None),
    ("sparse-coo-values", lambda lib: (lib.eye(3).to_sparse(), (2 * lib.eye(3)).to_sparse()),
     {}, AssertionError),
    ("sparse-coo-nnz", lambda lib: (lib.eye(3).to_sparse(), lib.ones(3, 3).to_sparse()), {},
     AssertionError),
    ("sparse-vs-dense", lambda lib: (lib.eye(3).to_sparse(), lib.eye(3)), {}, AssertionError),
    ("sparse-vs-dense-unchecked", lambda lib: (lib.eye(3).to_sparse(), lib.eye(3)),
     {"check_layout": False}, None),
    ("sparse-csr-values", lambda lib: (lib.eye(3).to_sparse_csr(),
                                       (3 * lib.eye(3)).to_sparse_csr()), {}, AssertionError),
    ("sparse-csr-indices", lambda lib: (lib.eye(3).to_sparse_csr(),
                                        lib.eye(3).flip(0).to_sparse_csr()), {}, AssertionError),
    # Python scalars, None and booleans
    ("scalar-float-close", _fixed(1.0, 1.0 + 1e-9), {}, None),
    ("scalar-float-not-close", _fixed(1e-9, 1e-10), {"rtol": 0, "atol": 0}, AssertionError),
    ("scalar-int", _fixed(1, 2), {}, AssertionError),
    ("scalar-types", _fixed(1.0, 1), {}, AssertionError),
    ("scalar-types-unchecked", _fixed(1.0, 1), {"check_dtype": False}, None),
    ("scalar-complex", _fixed(1 + 1j, 1 + 1.5j), {}, AssertionError),
    ("scalar-zero-expected", _fixed(0.5, 0.0), {}, AssertionError),
    ("scalar-nan", _fixed(_NAN, _NAN), {}, AssertionError),
    ("scalar-nan-equal", _fixed(_NAN, _NAN), {"equal_nan": True}, None),
    ("scalar-inf", _fixed(_INF, _INF), {}, None),
    ("scalar-only-rtol", _fixed(1.0, 1.0), {"rtol": 1e-3}, ValueError),
    ("numpy-scalar", _fixed(np.float32(1.0), 1.0), {"check_dtype": False}, None),
    ("numpy-scalar-types", _fixed(np.float64(1.0), 1.0), {}, None),
    ("numpy-scalar-vs-int", _fixed(np.int64(3), 4), {}, AssertionError),
    ("bool-same", _fixed(True, True), {}, None),
    ("bool-mismatch", _fixed(True, False), {}, AssertionError),
    ("numpy-bool", _fixed(np.bool_(True), False), {}, AssertionError),
    ("bool-vs-int", _fixed(True, 1), {}, RuntimeError),
    ("none-none", _fixed(None, None), {}, None),
    ("none-vs-number", _fixed(None, 1.0), {}, AssertionError),
    ("strings", _fixed("a", "a"), {}, TypeError),
    ("objects", _fixed(object, object), {}, TypeError),
    ("tensor-vs-scalar", lambda lib: (lib.tensor(1.0), 1.0), {}, TypeError),
    ("scalar-vs-tensor", lambda lib: (2, lib.tensor(2)), {}, TypeError),
    ("tensor-vs-numpy", lambda lib: (lib.ones(2), np.ones(2, np.float32)), {}, TypeError),
    # NumPy arrays
    ("numpy-close", _fixed(np.array([1.0, 0.1]), np.arccos(np.cos(np.array([1.0, 0.1])))), {},
     None),
    ("numpy-not-close", _fixed(np.array([1.0, 2.0], np.float32), np.array([1.0, 2.1],
                                                                          np.float32)), {},
     AssertionError),
    ("numpy-dtype", _fixed(np.array([1.0]), np.array([1.0], np.float32)), {}, AssertionError),
    ("numpy-int", _fixed(np.array([1, 2]), np.array([1, 3])), {}, AssertionError),
    ("numpy-0d", _fixed(np.array(3.0), np.array(3.5)), {}, AssertionError),
    # sequences and mappings
    ("list-tuple", lambda lib: ([lib.ones(2), 2.0], (lib.ones(2), 2.0)), {}, None),
    ("list-item", lambda lib: ([lib.ones(2), lib.zeros(2)], [lib.ones(2), lib.ones(2)]), {},
     AssertionError),
    ("list-length", lambda lib: ([lib.ones(2)], [lib.ones(2), lib.ones(2)]), {},
     AssertionError),
    ("list-length-msg", lambda lib: ([lib.ones(2)], [lib.ones(2), 1]), {"msg": "lengths"},
     AssertionError),
    ("nested", lambda lib: ([{"a": lib.ones(2), "b": (1, lib.zeros(1))}],
                            [{"b": (1, lib.ones(1)), "a": lib.ones(2)}]), {}, AssertionError),
    ("nested-callable-msg", lambda lib: ([{"a": lib.ones(2)}], [{"a": lib.zeros(2)}]),
     {"msg": lambda msg: msg.upper()}, AssertionError),
    ("dict-equal", lambda lib: (collections.OrderedDict(a=lib.ones(1), b=2.0),
                                {"b": 2.0, "a": lib.ones(1)}), {}, None),
    ("dict-keys", lambda lib: ({"a": lib.ones(1), "c": 1}, {"a": lib.ones(1), "b": 1}), {},
     AssertionError),
    ("dict-unsortable-keys", lambda lib: ({1: lib.ones(1), "x": 2}, {1: lib.zeros(1), "x": 2}),
     {}, AssertionError),
    ("sequence-vs-tensor", lambda lib: ([1.0, 2.0], lib.tensor([1.0, 2.0])), {}, TypeError),
    ("empty-sequences", _fixed([], ()), {}, None),
    ("only-rtol-in-list", lambda lib: ([lib.ones(1)], [lib.ones(1)]), {"rtol": 1.0},
     ValueError),
]


@pytest.mark.parametrize("build, kwargs, torch_does",
                         [case[1:] for case in CLOSE_CASES], ids=[c[0] for c in CLOSE_CASES])
def test_assert_close_matches_torch(build, kwargs, torch_does):
    """Both pass, or both raise the same exception type with the same message."""
    theirs = _outcome(lambda: torch.testing.assert_close(*build(torch), **kwargs))
    ours = _outcome(lambda: ember.testing.assert_close(*build(ember), **kwargs))
    assert (theirs and theirs[0]) is torch_does  # the case tests what it says it does
    assert ours == theirs


def test_assert_close_default_tolerance_table():
    """Exactly at the boundary atol + rtol * |expected| of each dtype's default, and just past."""
    for dtype, (rtol, atol) in {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}.items():
        for factor, fails in ((0.99, False), (1.5, True)):
            diff = factor * (atol + rtol * 10.0)
            build = _pair([10.0], [10.0 + diff], dtype)
            theirs = _outcome(lambda: torch.testing.assert_close(*build(torch)))
            ours = _outcome(lambda: ember.testing.assert_close(*build(ember)))
            assert ours == theirs and (ours is not None) == fails, (dtype, factor)


def test_assert_close_message_text():
    """The full message of the documented example, word for word."""
    with pytest.raises(AssertionError) as caught:
        ember.testing.assert_close(ember.tensor([1.0, 4.0, 5.0]), ember.tensor([1.0, 2.0, 3.0]),
                                   msg=lambda msg: f"Header\n\n{msg}\n\nFooter")
    assert str(caught.value) == (
        "Header\n\nTensor-likes are not close!\n\nMismatched elements: 2 / 3 (66.7%)\n"
        "Greatest absolute difference: 2.0 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 1.0 at index (1,) (up to 1.3e-06 allowed)\n\nFooter")


def test_assert_close_item_id_in_message():
    """A failure inside containers names the item, as torch does."""
    with pytest.raises(AssertionError, match=r"The failure occurred for item \[0\]\['b'\]$"):
        ember.testing.assert_close([{"b": ember.ones(1)}], [{"b": ember.zeros(1)}])


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_assert_close_random_perturbations(seed):
    """Random float tensors perturbed at a random scale: same verdict and message as torch."""
    rng = np.random.default_rng(seed)
    for dtype in ("float16", "bfloat16", "float32", "float64", "complex64"):
        for _ in range(8):
            base = rng.standard_normal((3, 5))
            scale = 10.0 ** rng.integers(-9, 0)
            if dtype == "complex64":
                base = base + 1j * rng.standard_normal((3, 5))
            other = base + scale * rng.standard_normal((3, 5)) * (rng.random((3, 5)) < 0.5)
            build = _pair(base.tolist(), other.tolist(), dtype)
            theirs = _outcome(lambda: torch.testing.assert_close(*build(torch)))
            ours = _outcome(lambda: ember.testing.assert_close(*build(ember)))
            assert ours == theirs, (dtype, scale)


# ---- assert_allclose --------------------------------------------------------------------------
ALLCLOSE_CASES = [
    ("close-float32", _pair([1.0, 2.0], [1.00005, 2.0]), {}),
    ("not-close-float32", _pair([1.0, 2.0], [1.001, 2.0]), {}),
    ("float16-loose", _pair([1.0, 2.0], [1.001, 2.0], "float16"), {}),
    ("float64", _pair([1.0], [1.0 + 1e-6], "float64"), {}),
    ("nan-equal-by-default", _pair([_NAN, 1.0], [_NAN, 1.0]), {}),
    ("nan-not-equal", _pair([_NAN, 1.0], [_NAN, 1.0]), {"equal_nan": False}),
    ("dtype-unchecked", lambda lib: (T(lib, [1, 2], "int64"), T(lib, [1.0, 2.0], "float32")), {}),
    ("list-and-scalar", lambda lib: ([1.0, 2.0], lib.tensor([1.0, 2.0])), {}),
    ("expected-list", lambda lib: (lib.tensor([1.0, 2.0]), [1.0, 2.5]), {}),
    ("msg", _pair([1.0], [2.0]), {"msg": "custom message"}),
    ("explicit", _pair([1.0], [1.5]), {"rtol": 0.5, "atol": 0.0}),
    ("only-rtol", _pair([1.0], [1.5]), {"rtol": 0.5}),
    ("int-exact", _pair([1, 2], [1, 3], "int64"), {}),
]


@pytest.mark.parametrize("build, kwargs", [c[1:] for c in ALLCLOSE_CASES],
                         ids=[c[0] for c in ALLCLOSE_CASES])
def test_assert_allclose_matches_torch(build, kwargs):
    """The deprecated function: its FutureWarning, then torch's verdict and message."""
    outcomes, warned = [], []
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcomes.append(_outcome(lambda: lib.testing.assert_allclose(*build(lib),
                                                                          **kwargs)))
        warned.append([(w.category, str(w.message), w.filename) for w in caught])
    assert outcomes[0] == outcomes[1]
    assert warned[0] == warned[1] == [(FutureWarning, (
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
        "future release. Please use `torch.testing.assert_close()` instead. You can find "
        "detailed upgrade instructions in https://github.com/pytorch/pytorch/issues/61844."),
        __file__)]


# ---- make_tensor ------------------------------------------------------------------------------
_BITS = {"float16": "int16", "bfloat16": "int16", "float32": "int32", "float64": "int64",
         "complex64": "float32", "complex128": "float64", "float8_e4m3fn": "uint8",
         "float8_e5m2": "uint8", "float8_e4m3fnuz": "uint8", "float8_e5m2fnuz": "uint8"}


def _bits(tensor, lib) -> np.ndarray:
    """The tensor's elements as the integers of their bit patterns (complex: of both parts)."""
    name = str(tensor.dtype).rsplit(".", 1)[-1]
    if name.startswith("complex"):
        tensor = lib.view_as_real(tensor.detach().contiguous())
        name = _BITS[name]
    tensor = tensor.detach().contiguous()
    if name in _BITS:
        tensor = tensor.view(getattr(lib, _BITS[name]))
    return tensor.numpy().astype(np.int64) if name != "uint64" else tensor.numpy()


def _made(lib, seed, shape, dtype, **kwargs):
    """make_tensor after manual_seed(seed), and the next number the generator gives."""
    if "memory_format" in kwargs:  # by name: each library's own
        kwargs = {**kwargs, "memory_format": getattr(lib, kwargs["memory_format"])}
    lib.manual_seed(seed)
    made = lib.testing.make_tensor(*shape, dtype=getattr(lib, dtype), device="cpu", **kwargs)
    return made, lib.rand(1).item()


def _assert_same_made(seed, shape, dtype, **kwargs):
    """ember's make_tensor is torch's: bits, dtype, shape, strides, requires_grad, and the
    generator state after it."""
    theirs, their_next = _made(torch, seed, shape, dtype, **kwargs)
    ours, our_next = _made(ember, seed, shape, dtype, **kwargs)
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.requires_grad == theirs.requires_grad
    assert np.array_equal(_bits(ours, ember), _bits(theirs, torch))
    assert our_next == their_next


DTYPES = ["float32", "float64", "float16", "bfloat16", "complex64", "complex128", "int64",
          "int32", "int16", "int8", "uint8", "bool", "uint16", "uint32", "uint64",
          "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 3])
def test_make_tensor_defaults_bit_for_bit(dtype, seed):
    _assert_same_made(seed, (3, 4), dtype)


MAKE_CASES = [
    ((5,), "float32", {"low": -1, "high": 1}),
    ((2, 3), "float64", {"low": 0.5}),
    ((2, 3), "float32", {"high": -8.5}),
    ((4, 4), "int64", {"low": -100, "high": 100}),
    ((4, 4), "int32", {"low": 2.5, "high": 7.2}),
    ((6,), "uint8", {"low": -50, "high": 300}),
    ((6,), "int8", {"low": -1e9}),
    ((3, 2), "complex64", {"low": -2, "high": 3}),
    ((3, 4), "float32", {"noncontiguous": True}),
    ((3, 4), "complex128", {"noncontiguous": True}),
    ((2, 5), "int16", {"noncontiguous": True}),
    ((1,), "float32", {"noncontiguous": True}),
    ((1, 1), "int64", {"noncontiguous": True}),
    ((4, 3), "bool", {"exclude_zero": True}),
    ((4, 3), "int64", {"low": -1, "high": 2, "exclude_zero": True}),
    ((4, 3), "float16", {"low": 0, "high": 1e-7, "exclude_zero": True}),
    ((4, 3), "complex64", {"low": 0, "high": 1e-40, "exclude_zero": True}),
    ((3, 3), "float32", {"requires_grad": True}),
    ((3, 3), "complex64", {"requires_grad": True, "noncontiguous": True}),
    ((2, 3, 4, 5), "float32", {"memory_format": "channels_last"}),
    ((), "float32", {}),
    ((0, 3), "float64", {}),
    ((4,), "float64", {"low": -1.7e308, "high": 1.7e308}),
    ((4,), "float32", {"low": -math.inf, "high": math.inf}),
    ((4,), "int64", {"low": -2 ** 70, "high": 2 ** 70}),
    ((4,), "uint64", {"low": 2 ** 62, "high": 2 ** 63 - 1}),
    ((4,), "float8_e4m3fn", {"low": -1000, "high": 1000}),
]


def _case_id(case) -> str:
    """dtype-options, for a case tuple or a pytest.param."""
    values = getattr(case, "values", case)
    return f"{values[1]}-{values[2]}"


@pytest.mark.parametrize("shape, dtype, kwargs", MAKE_CASES, ids=map(_case_id, MAKE_CASES))
def test_make_tensor_options_bit_for_bit(shape, dtype, kwargs):
    _assert_same_made(11, shape, dtype, **kwargs)


def test_make_tensor_memory_format_was_applied():
    ember.manual_seed(0)
    made = ember.testing.make_tensor(2, 3, 4, 5, dtype=ember.float32, device="cpu",
                                     memory_format=ember.channels_last)
    assert made.stride() == (60, 1, 15, 3)


@pytest.mark.parametrize("shape", [(3, 4), ((3, 4),), ([3, 4],), "size"])
def test_make_tensor_shape_forms(shape):
    """A shape as ints, one tuple, one list or one Size."""
    for lib in (torch, ember):
        lib.manual_seed(5)
        args = (lib.Size([3, 4]),) if shape == "size" else shape
        made = lib.testing.make_tensor(*args, dtype=lib.float32, device="cpu")
        if lib is torch:
            expected = made.numpy()
    assert np.array_equal(made.numpy(), expected) and made.shape == (3, 4)


def test_make_tensor_exclude_zero_replaces_every_zero():
    """The exclude_zero cases above really had zeros to replace (else they test nothing)."""
    torch.manual_seed(11)
    raw = torch.testing.make_tensor(4, 3, dtype=torch.float16, device="cpu", low=0, high=1e-7)
    assert (raw == 0).any()
    ember.manual_seed(11)
    made = ember.testing.make_tensor(4, 3, dtype=ember.float16, device="cpu", low=0, high=1e-7,
                                     exclude_zero=True)
    assert not (made == 0).any() and (made == ember.finfo(ember.float16).tiny).any()


MAKE_ERRORS = [
    ({"dtype": "float32", "low": 2, "high": 1}, ValueError),
    ({"dtype": "int64", "low": 3, "high": 3}, ValueError),
    ({"dtype": "float32", "low": math.nan}, ValueError),
    ({"dtype": "float32", "high": math.nan}, ValueError),
    ({"dtype": "uint8", "low": -10, "high": -5}, ValueError),
    ({"dtype": "int8", "low": 200}, ValueError),
    ({"dtype": "int64", "requires_grad": True}, ValueError),
    ({"dtype": "bool", "requires_grad": True}, ValueError),
    ({"dtype": "float32", "noncontiguous": True, "memory_format": "channels_last"}, ValueError),
    ({"dtype": "float8_e8m0fnu"}, TypeError),
    ({"dtype": "uint64", "high": 2 ** 64}, ValueError),
    ({"dtype": "uint64", "low": 2 ** 63 + 5, "high": 2 ** 63 + 10}, ValueError),
]


@pytest.mark.parametrize("kwargs, error", MAKE_ERRORS, ids=[str(c[0]) for c in MAKE_ERRORS])
def test_make_tensor_errors_match_torch(kwargs, error):
    outcomes = []
    for lib in (torch, ember):
        options = {k: getattr(lib, v) if k in ("dtype", "memory_format") else v
                   for k, v in kwargs.items()}
        outcomes.append(_outcome(lambda: lib.testing.make_tensor(2, 3, device="cpu",
                                                                 **options)))
    assert outcomes[0][0] is error
    assert outcomes[1] == outcomes[0]


def test_make_tensor_low_equal_high_warns_and_fills():
    """low == high for a floating dtype: torch's FutureWarning (naming the caller), then the
    tensor of that value."""
    results = []
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            made = lib.testing.make_tensor(2, dtype=lib.float32, device="cpu", low=3, high=3)
        results.append(([(w.category, str(w.message), w.filename) for w in caught],
                        made.tolist()))
    assert results[0] == results[1]
    assert results[0][0][0][2] == __file__ and results[0][1] == [3.0, 3.0]


# ---- FileCheck --------------------------------------------------------------------------------
_GRAPH = "graph(%x):\n  %1 = aten::mul(%x, %x)\n  %2 = aten::add(%1, %x)\n  return (%2)\n"
_HIGHLIGHTED = ("def f(x):\n    return x + y\n                  ~ <--- HERE\n"
                "    z = foo(x)\n        ~~~ <--- HERE\n")
_LINES = "\n".join(f"line{i}" for i in range(12))
FILECHECK_CASES = [
    ("check-missing", lambda F: F().check("aten::sub").run(_GRAPH)),
    ("check", lambda F: F().check("aten::mul").check("aten::add").run(_GRAPH)),
    ("check-order", lambda F: F().check("aten::add").check("aten::mul").run(_GRAPH)),
    ("not-found", lambda F: F().check_not("aten::mul").run(_GRAPH)),
    ("not-between", lambda F: F().check("mul").check_not("add").check("return").run(_GRAPH)),
    ("not-absent", lambda F: F().check_not("aten::sub").check("return").run(_GRAPH)),
    ("count-short", lambda F: F().check_count("aten::", 3).run(_GRAPH)),
    ("count", lambda F: F().check_count("aten::", 2).run(_GRAPH)),
    ("count-exactly", lambda F: F().check_count("aten::", 1, exactly=True).run(_GRAPH)),
    ("count-zero-exactly", lambda F: F().check_count("aten::", 0, exactly=True).run(_GRAPH)),
    ("count-zero", lambda F: F().check_count("a", 0)),
    ("count-negative", lambda F: F().check_count("a", -1)),
    ("next", lambda F: F().check("mul").check_next("add").run(_GRAPH)),
    ("next-fails", lambda F: F().check("mul").check_next("return").run(_GRAPH)),
    ("same", lambda F: F().check("mul").check_same("%x, %x").run(_GRAPH)),
    ("same-fails", lambda F: F().check("mul").check_same("add").run(_GRAPH)),
    ("no-checks", lambda F: F().run(_GRAPH)),
    ("file", lambda F: F().run("# CHECK: aten::mul\n#   CHECK-NEXT: aten::add\n"
                               "# CHECK-NOT: sub\n", _GRAPH)),
    ("file-fails", lambda F: F().run("# CHECK: aten::mul\n# CHECK-NEXT: aten::sub", _GRAPH)),
    ("file-count", lambda F: F().run("# CHECK-COUNT-2: aten::\n# CHECK-COUNT-EXACTLY-1: ret",
                                     _GRAPH)),
    ("file-count-bad", lambda F: F().run("# CHECK-COUNT-x: a", _GRAPH)),
    ("file-count-colon", lambda F: F().run("# CHECK-COUNT-2 a", _GRAPH)),
    ("file-unknown", lambda F: F().run("# CHECK-FOO: x", _GRAPH)),
    ("file-dag", lambda F: F().run("# CHECK-DAG: add\n# CHECK-DAG: mul\n# CHECK: return",
                                   _GRAPH)),
    ("dag-missing", lambda F: F().check_dag("add").check_dag("sub").run(_GRAPH)),
    ("regex", lambda F: F().check_regex("a.en::m[u]l").check("return").run(_GRAPH)),
    ("regex-missing", lambda F: F().check_regex("a.en::m[u]l").check_regex("zz").run(_GRAPH)),
    ("quoting", lambda F: F().check('a"\\\t\x01é').run("zzz")),
    ("highlighted", lambda F: F().check_source_highlighted("foo").run(_HIGHLIGHTED)),
    ("not-highlighted", lambda F: F().check_source_highlighted("x").run(_HIGHLIGHTED)),
    ("highlight-missing", lambda F: F().check_source_highlighted("nope").run(_HIGHLIGHTED)),
    ("context", lambda F: F().check("line3").check("nope").run(_LINES)),
    ("not-context", lambda F: F().check("line3").check_not("line7").check("line9").run(_LINES)),
    ("bad-argument", lambda F: F().check(3)),
]


@pytest.mark.parametrize("case", [c[1] for c in FILECHECK_CASES],
                         ids=[c[0] for c in FILECHECK_CASES])
def test_file_check_matches_torch(case):
    """Same verdict and message; an instance that never ran says so on stdout, as torch's."""
    outcomes = []
    for checker in (torch.testing.FileCheck, ember.testing.FileCheck):
        with contextlib.redirect_stdout(io.StringIO()):
            outcomes.append(_outcome(lambda: case(checker)))
    assert outcomes[1] == outcomes[0]


def test_file_check_runs_on_a_traced_graph(capfd):
    traced = ember.jit.trace(lambda x: x * 2 + 1, ember.ones(3))
    checker = ember.testing.FileCheck().check("aten::mul").check_next("prim::Constant")
    checker.check("aten::add").run(traced.graph)
    with pytest.raises(RuntimeError, match='Expected to find "aten::sub"'):
        ember.testing.FileCheck().run("# CHECK: aten::sub", traced.graph)


def test_file_check_unrun_warning_text():
    checker = ember.testing.FileCheck().check("x").check_count("y", 2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        checker.__del__()
    assert out.getvalue() == ("You have not run this instance of FileCheck!\n"
                              "FileCheck checks:\n\tCHECK: x\n\tCHECK-COUNT-2: y\n")
    checker.run("x y y")


# ---- the namespace ----------------------------------------------------------------------------
def test_public_names_are_torchs():
    public = sorted(name for name in dir(ember.testing) if not name.startswith("_"))
    assert public == sorted(name for name in dir(torch.testing) if not name.startswith("_"))
    assert ember.testing.assert_allclose.__deprecated__.startswith(
        "`torch.testing.assert_allclose()` is deprecated")
