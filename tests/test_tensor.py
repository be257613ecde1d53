"""The Tensor core (ember/_tensor.py): detach, requires_grad and conversions, against torch."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error, error_of

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-8}



# ---- detach, requires_grad, conversions ----------------------------------------------------------
@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_detach_shares_memory_and_cuts_graph(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[0] = 5
    assert y[0].item() == 5
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None
    assert x.data.data_ptr() == x.data_ptr() and not x.data.requires_grad


def test_requires_grad_errors():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        assert y.requires_grad_(True) is y  # setting True on a non-leaf that requires grad: ok
    ember_error = error_of(lambda: (ember.ones(2, requires_grad=True) * 2).requires_grad_(False))
    torch_error = error_of(lambda: (torch.ones(2, requires_grad=True) * 2).requires_grad_(False))
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)
    ember_error = error_of(lambda: ember.ones(2, dtype=ember.int64).requires_grad_())
    torch_error = error_of(lambda: torch.ones(2, dtype=torch.int64).requires_grad_())
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)


@pytest.mark.parametrize("make", [
    lambda lib: setattr(lib.ones(2, dtype=lib.int64), "requires_grad", True),  # "and complex"
    lambda lib: lib.tensor([1], requires_grad=True),  # a factory's: "Only ..."
    lambda lib: lib.ones(2, dtype=lib.bool, requires_grad=True),
    lambda lib: lib.nn.Parameter(lib.ones(2, dtype=lib.int64)),
])
def test_integer_tensor_requiring_grad_message(make):
    """The setter, the factories and Parameter each word the refusal as torch does."""
    assert_same_error(make, same_message=True, exact_type=True)


def test_numpy_of_tensor_requiring_grad_raises():
    ember_error = error_of(lambda: ember.ones(2, requires_grad=True).numpy())
    torch_error = error_of(lambda: torch.ones(2, requires_grad=True).numpy())
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)
    assert ember.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]


def test_cuda_raises_assertion_error_like_cpu_only_torch():
    ember_error = error_of(lambda: ember.ones(2).cuda())
    torch_error = error_of(lambda: torch.ones(2).cuda())
    assert type(ember_error) is type(torch_error) is AssertionError
    assert type(error_of(lambda: ember.ones(2).to("cuda"))) is AssertionError
    assert ember.cuda.is_available() is torch.cuda.is_available() is False
    assert ember.ones(2).to("cpu").device == ember.device("cpu")


# ---- the Tensor API surface: dir(torch.Tensor) -----------------------------------------------
# Public names of torch.Tensor that ember does not aim to have, with the reason.
NOT_IN_EMBER = {
    **dict.fromkeys(
        "ccol_indices coalesce col_indices crow_indices dense_dim indices is_coalesced "
        "resize_as_sparse_ row_indices smm sparse_dim sparse_mask sparse_resize_ "
        "sparse_resize_and_clear_ sspaddmm to_dense to_sparse to_sparse_bsc to_sparse_bsr "
        "to_sparse_coo to_sparse_csc to_sparse_csr values".split(), "sparse tensors (#15)"),
    **dict.fromkeys(
        "dequantize int_repr q_per_channel_axis q_per_channel_scales q_per_channel_zero_points "
        "q_scale q_zero_point qscheme".split(), "quantized tensors"),
    **dict.fromkeys("ipu mtia xpu record_stream to_mkldnn".split(), "other devices"),
    "chalf": "complex32 (#15)",
    "to_padded_tensor": "nested tensors",
    "index": "functorch's first-class dims",
    **dict.fromkeys("eig lstsq solve symeig reinforce".split(), "removed from PyTorch (raises)"),
}
TENSOR_API_COVERAGE = 0.98  # measured 0.980 (549 of 560): raise it as names are added


def test_tensor_api_coverage():
    """The share of dir(torch.Tensor)'s public names (less NOT_IN_EMBER) on ember.Tensor."""
    names = [n for n in dir(torch.Tensor) if not n.startswith("_") and n not in NOT_IN_EMBER]
    missing = [n for n in names if not hasattr(ember.Tensor, n)]
    coverage = 1 - len(missing) / len(names)
    assert coverage >= TENSOR_API_COVERAGE, (round(coverage, 4), missing)
    assert all(hasattr(torch.Tensor, n) for n in NOT_IN_EMBER)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_metadata_methods(lib):
    """itemsize, nbytes, is_signed, dim_order, is_nonzero, is_set_to, kinds and devices."""
    t = lib.zeros(2, 3)
    assert (t.itemsize, t.nbytes, t.is_signed(), t.dim_order(), t.t().dim_order()) == (
        4, 24, True, (0, 1), (1, 0))
    assert not lib.zeros(1, dtype=lib.uint8).is_signed()
    assert not (t.is_sparse or t.is_quantized or t.is_meta or t.is_nested or t.is_neg())
    assert t.is_set_to(t) and not t.is_set_to(lib.zeros(2, 3))
    assert lib.tensor([2.0]).is_nonzero() and not lib.tensor([0.0]).is_nonzero()
    assert type(error_of(lambda: lib.zeros(2).is_nonzero())) is RuntimeError
    assert type(error_of(lambda: lib.zeros(0).is_nonzero())) is RuntimeError


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_apply_map_set(lib):
    """apply_/map_/map2_ run a Python function per element; set_ shares another's memory."""
    x = lib.arange(3.0)
    x.apply_(lambda v: v * 2)
    x.map_(lib.ones(3), lambda a, b: a + b)
    x.map2_(lib.ones(3), lib.full((3,), 2.0), lambda a, b, c: a + b * c)
    assert x.tolist() == [3.0, 5.0, 7.0]
    leaf = lib.ones(2, requires_grad=True)
    assert type(error_of(lambda: leaf.apply_(lambda v: v))) is RuntimeError
    s, source = lib.zeros(2), lib.ones(3)
    s.set_(source)
    assert s.shape == (3,) and s.is_set_to(source)
    assert type(lib.ones(2).as_subclass(lib.nn.Parameter)) is lib.nn.Parameter
    assert t_new_shapes(lib) == ((2, 3), (0,), "float64")


def t_new_shapes(lib):
    t = lib.zeros(2, dtype=lib.float64)
    return tuple(t.new(2, 3).shape), tuple(t.new().shape), str(t.new([1, 2]).dtype)[6:]


@pytest.mark.parametrize("mode", ["grad", "no_grad", "inference_mode"])
def test_numpy_of_a_tensor_requiring_grad_as_torch(mode):
    """Refused only while grad mode is on."""
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        context = {"grad": lib.enable_grad, "no_grad": lib.no_grad,
                   "inference_mode": lib.inference_mode}[mode]
        with context():
            return x.numpy().tolist()
    if mode == "grad":
        assert_same_error(run)
    else:
        assert run(ember) == run(torch)


def test_detach_in_place_refuses_views_as_torch():
    assert_same_error(lambda lib: lib.ones(4)[:2].detach_())
    assert_same_error(lambda lib: (lib.ones(4, requires_grad=True) * 2)[1:].detach_())


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float32", "float16"),
                                    ("bfloat16", "float32"), ("float64", "complex64")])
def test_assigning_grad_of_another_dtype_message(dtypes):
    """x.grad = g of another dtype: torch's message (C++ type name, then c10's)."""
    messages = []
    for lib in (ember, torch):
        x = lib.ones(2, dtype=getattr(lib, dtypes[0]), requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            x.grad = lib.ones(2, dtype=getattr(lib, dtypes[1]))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_deepcopy_of_a_non_leaf_message():
    """torch's whole message, with its hint about weight_norm."""
    expected = error_of(lambda: __import__("copy").deepcopy(torch.ones(2, requires_grad=True) * 2))
    raised = error_of(lambda: __import__("copy").deepcopy(ember.ones(2, requires_grad=True) * 2))
    assert (type(raised), str(raised)) == (type(expected), str(expected))


@pytest.mark.parametrize("call", [
    lambda lib: np.array(lib.ones(2, requires_grad=True)),
    lambda lib: np.asarray(lib.ones(2, requires_grad=True) * 2),
    lambda lib: lib.ones(2, dtype=lib.bfloat16).numpy(),
    lambda lib: np.array(lib.ones(2, dtype=lib.bfloat16)),
    lambda lib: lib.ones(2, dtype=lib.float8_e4m3fn).numpy(),
    lambda lib: lib.from_numpy(np.array(["a"])),
    lambda lib: lib.from_numpy(np.array([1], dtype=np.longdouble)),
    lambda lib: lib.tensor(np.array([1, "a"], dtype=object))])
def test_numpy_conversion_errors_as_torch(call):
    """np.array(t) is t.numpy(): refused for a tensor requiring grad and for dtypes NumPy
    lacks (bfloat16, float8); an ndarray torch cannot take names its NumPy scalar type."""
    expected, raised = error_of(lambda: call(torch)), error_of(lambda: call(ember))
    assert (type(raised), str(raised)) == (type(expected), str(expected))


def test_numpy_array_of_a_tensor_requiring_grad_under_no_grad():
    with ember.no_grad():
        assert np.array(ember.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize("new_dtype", ["int64", "float64", "bfloat16", "complex64"])
def test_data_setter_dtype_rules_match_torch(requires_grad, new_dtype):
    """`t.data = other` takes other's values and dtype; torch refuses a non-floating one for a
    tensor that requires grad."""
    results = []
    for lib in (ember, torch):
        t = lib.ones(3, requires_grad=requires_grad)
        try:
            t.data = lib.arange(3).to(getattr(lib, new_dtype))
            results.append((str(t.dtype), t.requires_grad))
        except RuntimeError as error:
            results.append(("RuntimeError", str(error)))
    assert results[0] == results[1]
