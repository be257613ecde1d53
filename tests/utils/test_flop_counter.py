"""ember.utils.flop_counter and ember.utils.module_tracker against torch's: FLOP totals and
per-module, per-op counts of models and functions forward and backward, the printed table and
its depth, custom formulas (register_flop_formula, custom_mapping, custom ops) and the module
hierarchy ModuleTracker reports in forward and backward.

Counts are compared as {module: {str(op): flops}}. Where ember's ops decompose otherwise than
torch's, the test says so and checks ember's own numbers (`test_where_ember_decomposes_...`).
"""

import contextlib
import io
import sys
import types
import warnings

import numpy as np
import pytest
import torch
import torch.utils.flop_counter as torch_fc
import torch.utils.module_tracker as torch_mt

import ember
import ember.utils.flop_counter as ember_fc
import ember.utils.module_tracker as ember_mt
from ember._library.ops import OpOverload
from ember.autograd import engine
from ember.autograd.function import EXPORT_HOOK, VMAP_HOOK

RNG = np.random.default_rng(0)
FC = {ember: ember_fc, torch: torch_fc}


def _t(lib, *shape, grad=True):
    """A float32 tensor of the library with values drawn once for both libraries."""
    array = np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape)
    tensor = lib.from_numpy(array.astype(np.float32))
    return tensor.requires_grad_(True) if grad else tensor


def _counted(lib, run, backward=True, **options):
    """(total, {module: {str(op): flops}}) of run(lib) (and its backward) under lib's counter."""
    options.setdefault("display", False)
    with FC[lib].FlopCounterMode(**options) as counter:
        out = run(lib)
        if backward:
            (out[0] if isinstance(out, tuple) else out).sum().backward()
    counts = {name: {str(op): n for op, n in ops.items()}
              for name, ops in counter.get_flop_counts().items()}
    return counter.get_total_flops(), counts


def _assert_same_counts(run, backward=True, **options):
    """ember's total and per-module counts are torch's."""
    assert _counted(ember, run, backward, **options) == _counted(torch, run, backward, **options)


# ---- models -------------------------------------------------------------------------------
def _mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Linear(16, 4))


def _cnn(lib):
    """conv, batchnorm, relu, pooling, flatten, linear (class named CNN in both)."""
    nn = lib.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            return self.fc(self.pool(nn.functional.relu(self.bn(self.conv(x)))).flatten(1))

    lib.manual_seed(0)
    return CNN()


def _nested(lib):
    """Three levels of modules, with a matmul outside any module's forward."""
    nn = lib.nn
    lib.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Sequential(nn.Linear(8, 8), nn.Sequential(
        nn.Tanh(), nn.Linear(8, 5))))


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_mlp_counts_match_torch(backward):
    _assert_same_counts(lambda lib: _mlp(lib)(_t(lib, 5, 8, grad=False)), backward)


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_cnn_counts_match_torch(backward):
    _assert_same_counts(lambda lib: _cnn(lib)(_t(lib, 2, 3, 8, 8, grad=False)), backward)


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
def test_bmm_and_matmul_function_counts_match_torch(backward):
    def run(lib):
        a, b = _t(lib, 2, 3, 4), _t(lib, 2, 4, 5)
        return lib.bmm(a, b).sum() + lib.matmul(a, b[0]).sum() + (a @ b).sum()
    _assert_same_counts(run, backward)


def test_the_counts_are_torch_s_numbers():
    """The MLP's counts, written out: the first layer's input needs no gradient."""
    total, counts = _counted(ember, lambda lib: _mlp(lib)(_t(lib, 5, 8, grad=False)))
    assert total == 4480
    assert counts["Global"] == counts["Sequential"] == {"aten.addmm": 1920, "aten.mm": 2560}
    assert counts["Sequential.0"] == {"aten.addmm": 1280, "aten.mm": 1280}
    assert counts["Sequential.2"] == {"aten.addmm": 640, "aten.mm": 1280}
    assert set(counts) == {"Global", "Sequential", "Sequential.0", "Sequential.2"}


def test_counting_changes_no_result():
    x = _t(ember, 5, 8, grad=True)
    model = _mlp(ember)
    plain = model(x).sum()
    plain.backward()
    grad = x.grad.clone()
    x.grad = None
    with ember_fc.FlopCounterMode(display=False):
        counted = model(x).sum()
        counted.backward()
    assert counted.item() == plain.item()
    assert np.array_equal(x.grad.numpy(), grad.numpy())


# ---- functions ----------------------------------------------------------------------------
def _sdpa(q, k, v, **kw):
    return lambda lib: lib.nn.functional.scaled_dot_product_attention(
        *(_t(lib, *s) for s in (q, k, v)), **kw)


_SDPA = {  # torch's CPU attention: the math composition's bmm, or the flash kernel (nothing)
    "math": _sdpa((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)),
    "math_causal": _sdpa((2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 6, 7), is_causal=True),
    "math_3d": _sdpa((3, 5, 4), (3, 6, 4), (3, 6, 7)),
    "math_gqa": _sdpa((2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 7), enable_gqa=True),
    "math_broadcast": _sdpa((2, 3, 5, 4), (1, 3, 6, 4), (1, 3, 6, 4)),
    "math_2d": _sdpa((5, 4), (6, 4), (6, 4)),
    "math_dropout": _sdpa((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), dropout_p=0.5),
    "flash": _sdpa((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
    "flash_causal": _sdpa((2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 6, 4), is_causal=True),
    "flash_gqa": _sdpa((2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 4), enable_gqa=True),
    "value_grad_only": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 5, 4, grad=False), _t(lib, 2, 3, 6, 4, grad=False), _t(lib, 2, 3, 6, 7)),
    "mask_with_grad": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 5, 4), _t(lib, 2, 3, 6, 4), _t(lib, 2, 3, 6, 4), attn_mask=_t(lib, 5, 6)),
    "mask_without_grad": lambda lib: lib.nn.functional.scaled_dot_product_attention(
        _t(lib, 2, 3, 5, 4), _t(lib, 2, 3, 6, 4), _t(lib, 2, 3, 6, 4),
        attn_mask=_t(lib, 5, 6, grad=False)),
}


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("case", sorted(_SDPA))
def test_scaled_dot_product_attention_counts_match_torch(case, backward):
    if case == "math_dropout":
        ember.manual_seed(0)
        torch.manual_seed(0)
    _assert_same_counts(_SDPA[case], backward)


def test_attention_counts_written_out():
    """2 bmm forward (q·kᵀ, weights·v), 4 backward; the flash kernel has no formula."""
    total, counts = _counted(ember, _SDPA["math"])
    assert counts == {"Global": {"aten.bmm": 11880}} and total == 3960 * 3
    assert _counted(ember, _SDPA["flash"]) == (0, {})


_FUNCTIONS = {
    "linear_3d": lambda lib: lib.nn.functional.linear(_t(lib, 2, 5, 8), _t(lib, 16, 8),
                                                      _t(lib, 16)),
    "linear_3d_no_bias": lambda lib: lib.nn.functional.linear(_t(lib, 2, 5, 8), _t(lib, 16, 8)),
    "linear_1d": lambda lib: lib.nn.functional.linear(_t(lib, 8), _t(lib, 16, 8), _t(lib, 16)),
    "linear_not_contiguous": lambda lib: lib.nn.functional.linear(
        _t(lib, 5, 2, 8).transpose(0, 1), _t(lib, 16, 8), _t(lib, 16)),
    "linear_frozen": lambda lib: lib.nn.functional.linear(
        _t(lib, 5, 8), _t(lib, 16, 8, grad=False), _t(lib, 16, grad=False)),
    "mm": lambda lib: lib.mm(_t(lib, 3, 4), _t(lib, 4, 5)),
    "addmm_scaled": lambda lib: lib.addmm(_t(lib, 3, 5), _t(lib, 3, 4), _t(lib, 4, 5),
                                          beta=0.5, alpha=2.0),
    "baddbmm": lambda lib: lib.baddbmm(_t(lib, 2, 3, 5), _t(lib, 2, 3, 4), _t(lib, 2, 4, 5)),
    "matmul_2d_3d": lambda lib: lib.matmul(_t(lib, 3, 4), _t(lib, 2, 4, 5)),
    "matmul_2d_3d_unfolded": lambda lib: lib.matmul(_t(lib, 3, 4, grad=False), _t(lib, 2, 4, 5)),
    "matmul_4d_3d_broadcast": lambda lib: lib.matmul(_t(lib, 2, 1, 3, 4), _t(lib, 3, 4, 5)),
    "matmul_1d_3d_folded": lambda lib: lib.matmul(_t(lib, 4), _t(lib, 2, 4, 5)),
    "matmul_1d_3d_unfolded": lambda lib: lib.matmul(_t(lib, 4, grad=False), _t(lib, 2, 4, 5)),
    "matmul_3d_1d": lambda lib: lib.matmul(_t(lib, 2, 3, 4), _t(lib, 4, grad=False)),
    "matmul_3d_2d_strided": lambda lib: lib.matmul(_t(lib, 3, 2, 4).transpose(0, 1),
                                                   _t(lib, 4, 5, grad=False)),
    "matmul_1d_2d": lambda lib: lib.matmul(_t(lib, 4), _t(lib, 4, 5)),
    "mv_and_dot": lambda lib: lib.mv(_t(lib, 3, 4), _t(lib, 4)) + lib.dot(_t(lib, 3), _t(lib, 3)),
    "conv1d_groups": lambda lib: lib.nn.functional.conv1d(_t(lib, 2, 4, 9), _t(lib, 6, 2, 3),
                                                          _t(lib, 6), groups=2),
    "conv2d_input_frozen": lambda lib: lib.nn.functional.conv2d(
        _t(lib, 2, 3, 8, 8, grad=False), _t(lib, 4, 3, 3, 3), None, stride=2),
    "conv2d_unbatched": lambda lib: lib.nn.functional.conv2d(_t(lib, 3, 8, 8),
                                                             _t(lib, 4, 3, 3, 3)),
    "conv2d_large_kernel": lambda lib: lib.nn.functional.conv2d(_t(lib, 2, 3, 16, 16),
                                                                _t(lib, 4, 3, 5, 5)),
    "conv3d": lambda lib: lib.nn.functional.conv3d(_t(lib, 1, 2, 4, 4, 4),
                                                   _t(lib, 3, 2, 2, 2, 2)),
    "conv_transpose2d": lambda lib: lib.nn.functional.conv_transpose2d(
        _t(lib, 2, 3, 5, 5), _t(lib, 3, 4, 3, 3), _t(lib, 4), stride=2),
    "einsum_batched": lambda lib: lib.einsum("bij,bjk->bik", _t(lib, 2, 3, 4), _t(lib, 2, 4, 5)),
    "einsum_chain": lambda lib: lib.einsum("ij,jk,kl->il", _t(lib, 3, 4), _t(lib, 4, 5),
                                           _t(lib, 5, 2)),
    "einsum_ellipsis": lambda lib: lib.einsum("...ij,...jk->...ik", _t(lib, 2, 3, 4),
                                              _t(lib, 2, 4, 5)),
    "einsum_outer": lambda lib: lib.einsum("i,j->ij", _t(lib, 3), _t(lib, 4)),
    "einsum_summed": lambda lib: lib.einsum("bij,bjk->k", _t(lib, 2, 3, 4), _t(lib, 2, 4, 5)),
    "multi_dot": lambda lib: lib.linalg.multi_dot([_t(lib, 3, 4), _t(lib, 4, 5),
                                                   _t(lib, 5, 2)]),
    "addmv_addbmm_addr": lambda lib: (
        lib.addmv(_t(lib, 3), _t(lib, 3, 4), _t(lib, 4)).sum()
        + lib.addbmm(_t(lib, 3, 5), _t(lib, 2, 3, 4), _t(lib, 2, 4, 5)).sum()
        + lib.addr(_t(lib, 3, 4), _t(lib, 3), _t(lib, 4)).sum()),
}


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("case", sorted(_FUNCTIONS))
def test_function_counts_match_torch(case, backward):
    _assert_same_counts(_FUNCTIONS[case], backward)


def _module_case(build, *shape):
    """A seeded module of the library (build(lib)) applied to one input (x, or x, x, x)."""
    def run(lib):
        lib.manual_seed(0)
        return build(lib)(_t(lib, *shape))
    return run


_CAUSAL = np.triu(np.ones((5, 5), bool), 1)
_MODULES = {
    "mha_sequence_first": _module_case(
        lambda L: lambda x: L.nn.MultiheadAttention(8, 2)(x, x, x)[0], 5, 2, 8),
    "mha_weights_path_with_mask": _module_case(lambda L: lambda x: L.nn.MultiheadAttention(
        8, 2)(x, x, x, attn_mask=L.from_numpy(_CAUSAL))[0], 5, 2, 8),
    "lstm": _module_case(lambda L: lambda x: L.nn.LSTM(4, 3, batch_first=True)(x)[0], 2, 5, 4),
    "gru_cell": _module_case(lambda L: L.nn.GRUCell(4, 3), 2, 4),
    "bilinear": _module_case(lambda L: lambda x: L.nn.Bilinear(3, 3, 5)(x, x), 2, 3),
}


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("case", sorted(_MODULES))
def test_module_counts_match_torch(case, backward):
    _assert_same_counts(_MODULES[case], backward)


def test_tensordot_is_torchs_mm():
    """tensordot reshapes its operands into one matrix product, as torch's does."""
    def tensordot(lib):
        return lib.tensordot(_t(lib, 2, 3, 4), _t(lib, 3, 4, 5), dims=2)
    assert _counted(ember, tensordot) == _counted(torch, tensordot) == (
        720, {"Global": {"aten.mm": 720}})


def test_where_ember_decomposes_otherwise_than_torch():
    """Same FLOPs, other ops or modules: ember's MultiheadAttention is batch-first inside (a
    contiguous input projection: addmm where torch's transposed input goes through mm); its RNN
    and GRU layers are fused ops (nothing counted; torch's CPU RNN/GRU run per-step addmm); its
    LSTMCell is one node for (h, c), so the cell's whole backward counts inside the module
    (torch's counts part of its mm outside)."""
    def mha(lib):
        lib.manual_seed(0)
        x = _t(lib, 2, 5, 8)
        return lib.nn.MultiheadAttention(8, 2, batch_first=True)(x, x, x)[0]
    e_total, e_counts = _counted(ember, mha)
    t_total, t_counts = _counted(torch, mha)
    assert e_total == t_total == 20160
    assert e_counts["Global"] == {"aten.addmm": 5120, "aten.bmm": 4800, "aten.mm": 10240}
    assert t_counts["Global"] == {"aten.mm": 14080, "aten.bmm": 4800, "aten.addmm": 1280}

    def gru(lib):
        lib.manual_seed(0)
        return lib.nn.GRU(4, 3)(_t(lib, 5, 2, 4))[0]
    assert _counted(ember, gru) == (0, {})
    assert _counted(torch, gru)[0] > 0

    def lstm_cell(lib):
        lib.manual_seed(0)
        return lib.nn.LSTMCell(4, 3)(_t(lib, 2, 4))
    (e_total, e_counts), (t_total, t_counts) = _counted(ember, lstm_cell), _counted(torch,
                                                                                    lstm_cell)
    assert e_total == t_total == 864 and e_counts["Global"] == t_counts["Global"]
    assert e_counts["LSTMCell"] == {"aten.addmm": 336, "aten.mm": 528}
    assert t_counts["LSTMCell"] == {"aten.addmm": 336, "aten.mm": 384}


# ---- keys, registry, custom formulas ------------------------------------------------------
def test_keys_are_aten_overload_packets():
    with ember_fc.FlopCounterMode(display=False) as counter:
        ember.mm(_t(ember, 3, 4), _t(ember, 4, 5))
    (key,) = counter.get_flop_counts()["Global"]
    assert key is ember_fc.aten.mm
    assert (str(key), repr(key)) == (str(torch.ops.aten.mm), repr(torch.ops.aten.mm))
    assert ember_fc.aten.slice is ember.ops.aten.slice  # ember's own packet where it has one
    assert ember_fc.aten.mm.default.name() == "aten::mm"
    assert ember_fc.aten.mm(_t(ember, 2, 2), _t(ember, 2, 2)).shape == (2, 2)
    assert set(ember_fc.flop_registry) >= {ember_fc.aten.mm, ember_fc.aten.convolution_backward}


def test_formula_helpers_are_torch_s():
    matrices, batches = [(3, 4), (4, 5)], [(2, 3, 4), (2, 4, 5)]
    for name, shapes in (("mm_flop", matrices), ("addmm_flop", [None] + matrices),
                         ("bmm_flop", batches), ("baddbmm_flop", [None] + batches)):
        assert getattr(ember_fc, name)(*shapes) == getattr(torch_fc, name)(*shapes)
    assert ember_fc.conv_flop_count([2, 3, 8, 8], [4, 3, 3, 3], [2, 4, 8, 8]) == \
        torch_fc.conv_flop_count([2, 3, 8, 8], [4, 3, 3, 3], [2, 4, 8, 8])
    args = ((2, 4, 5, 8), (2, 2, 6, 8), (2, 2, 6, 8))
    assert ember_fc.sdpa_flop_count(*args) == torch_fc.sdpa_flop_count(*args)
    back = ((2, 4, 5, 8),) + args
    assert ember_fc.sdpa_backward_flop_count(*back) == torch_fc.sdpa_backward_flop_count(*back)
    for number in (0, 999, 9999, 10000, 123456789, 10 ** 13):
        suffix = torch_fc.get_suffix_str(number)
        assert ember_fc.get_suffix_str(number) == suffix
        assert ember_fc.convert_num_with_suffix(number, suffix) == \
            torch_fc.convert_num_with_suffix(number, suffix)
    assert ember_fc.convert_to_percent_str(1, 3) == torch_fc.convert_to_percent_str(1, 3)


def test_register_flop_formula_errors_as_torch():
    for fc, lib in ((ember_fc, ember), (torch_fc, torch)):
        packet = ember_fc.aten.mm if lib is ember else torch.ops.aten.mm
        with pytest.raises(RuntimeError, match="duplicate registrations for aten.mm"):
            fc.register_flop_formula(packet)(lambda *a, **k: 1)
        with pytest.raises(ValueError, match="expected each target to be OpOverloadPacket"):
            fc.register_flop_formula("mm")(lambda *a, **k: 1)


def test_custom_mapping_as_torch():
    def count(*args, out_val):
        return out_val.numel()
    count._get_raw = True

    def run(lib):
        aten = ember_fc.aten if lib is ember else torch.ops.aten
        x = _t(lib, 3, 4, grad=False)
        with FC[lib].FlopCounterMode(display=False, custom_mapping={
                aten.mm: lambda *a, out_shape: 5, aten.add: count}) as counter:
            lib.mm(x, x.t())
            x + x
        return counter.get_total_flops()
    assert run(ember) == run(torch) == 17


def _define_custom_ops(lib, prefix):
    """A custom op with a registered formula and an autograd formula, and one without."""
    foo = lib.library.custom_op(f"{prefix}::foo", mutates_args=())(_foo(lib))
    foo.register_autograd(_foo_backward(lib), setup_context=_save_input)
    bar = lib.library.custom_op(f"{prefix}::bar", mutates_args=())(_bar(lib))
    return foo, bar


def _foo(lib):
    def foo(x: lib.Tensor) -> lib.Tensor:
        return lib.mm(x, x.t()).sin()
    return foo


def _bar(lib):
    def bar(x: lib.Tensor) -> lib.Tensor:
        return lib.mm(x, x.t())
    return bar


def _save_input(ctx, inputs, output):
    ctx.save_for_backward(inputs[0])


def _foo_backward(lib):
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return lib.mm(g, x) * 2
    return backward


def test_register_flop_formula_for_a_custom_op():
    """Counted by its formula (given out_shape); an op without one counts nothing, not even
    the ops inside it; its backward's ops are counted."""
    results = {}
    for lib in (ember, torch):
        foo, bar = _define_custom_ops(lib, "flop_counter_test")
        packet = lib.ops.flop_counter_test.foo
        seen = []

        @FC[lib].register_flop_formula(packet)
        def formula(*args, out_shape=None, **kwargs):
            seen.append((len(args), tuple(out_shape)))
            return 9001
        try:
            results[lib] = (_counted(lib, lambda L: foo(_t(L, 3, 4, grad=False)).sum()
                                     + bar(_t(L, 3, 4, grad=False)).sum(), backward=False),
                            _counted(lib, lambda L: foo(_t(L, 3, 4))), seen)
        finally:
            FC[lib].flop_registry.pop(packet, None)
    assert results[ember] == results[torch]
    (forward_only, _), (with_backward, counts), seen = results[ember]
    assert forward_only == 9001 and seen == [(1, (3, 3))] * 2
    assert with_backward == 9001 + 72 and set(counts["Global"]) == {"flop_counter_test.foo",
                                                                    "aten.mm"}


# ---- the table ----------------------------------------------------------------------------
@pytest.fixture
def table_formatter(monkeypatch):
    """tabulate as torch imports it: the installed one, else one writing ember's
    `_simple_table` (so torch's get_table runs and both use one formatter)."""
    try:
        import tabulate  # noqa: F401
    except ImportError:
        shim = types.ModuleType("tabulate")
        shim.PRESERVE_WHITESPACE = False
        shim.tabulate = lambda rows, headers, colalign: ember_fc._simple_table(rows, headers,
                                                                               colalign)
        monkeypatch.setitem(sys.modules, "tabulate", shim)


def _printed(lib, run, **options):
    """What the counter prints on leaving, running run(lib) and its backward."""
    stream = io.StringIO()
    with contextlib.redirect_stdout(stream):
        _counted(lib, run, display=True, **options)
    return stream.getvalue()


@pytest.mark.parametrize("model", ["mlp", "cnn", "nested"])
def test_printed_table_matches_torch(model, table_formatter):
    def run(lib):
        build = {"mlp": _mlp, "cnn": _cnn, "nested": _nested}[model]
        shape = (2, 3, 8, 8) if model == "cnn" else (5, 8) if model == "mlp" else (4, 6)
        return build(lib)(_t(lib, *shape, grad=False))
    assert _printed(ember, run, depth=2) == _printed(torch, run, depth=2)


@pytest.mark.parametrize("depth", [None, 1, 2, 3, 4])
def test_table_depth_matches_torch(depth, table_formatter):
    """get_table(depth): modules deeper than depth left out (None: the counter's depth); a
    Global row first when FLOPs ran outside every module, the others indented."""
    def run(lib):
        x = _t(lib, 4, 6, grad=False)
        return _nested(lib)(x @ _t(lib, 6, 6))
    tables = {}
    for lib in (ember, torch):
        with FC[lib].FlopCounterMode(display=False, depth=3) as counter:
            run(lib).sum().backward()
        tables[lib] = counter.get_table(depth)
    assert tables[ember] == tables[torch]
    assert tables[ember].splitlines()[2].startswith("Global")


def test_table_of_nothing(table_formatter):
    with ember_fc.FlopCounterMode(display=False) as counter:
        ember.ones(3).relu()
    with torch_fc.FlopCounterMode(display=False) as expected:
        torch.ones(3).relu()
    assert counter.get_table() == expected.get_table()


_MLP_TABLE = """\
Module          FLOP    % Total
------------  ------  ---------
Sequential      4480    100.00%
- aten.addmm    1920     42.86%
- aten.mm       2560     57.14%
Sequential.0    2560     57.14%
- aten.addmm    1280     28.57%
- aten.mm       1280     28.57%
Sequential.2    1920     42.86%
- aten.addmm     640     14.29%
- aten.mm       1280     28.57%
"""


def test_built_in_table_is_torch_s_text(monkeypatch):
    """Without tabulate, ember writes the table torch prints with tabulate 0.10."""
    monkeypatch.setitem(sys.modules, "tabulate", None)  # (import tabulate: ImportError)
    assert _printed(ember, lambda lib: _mlp(lib)(_t(lib, 5, 8, grad=False))) == _MLP_TABLE


def test_built_in_table_is_tabulate_s():
    tabulate = pytest.importorskip("tabulate")
    tabulate.PRESERVE_WHITESPACE = True
    header, align = ["Module", "FLOP", "% Total"], ("left", "right", "right")
    tables = ([["Global", "0", "0%"]],
              [["Global", "12.000", "100.00%"], [" - aten.mm", "0.500", "4.17%"]],
              [["A", "62.976K", "100.00%"], ["  - aten.convolution_backward", "2.560K", "4%"]],
              [["Global", "9999.000", "100.00%"], [" B.c", "1234.000", "12.34%"]])
    for rows in tables:
        assert ember_fc._simple_table(rows, header, align) == tabulate.tabulate(
            rows, headers=header, colalign=align)


# ---- module tracker -----------------------------------------------------------------------
def _tracked(lib, tracker_module):
    """(where, parents, is_bw) seen inside the forward and backward of nested modules."""
    log = []

    class Probe(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, tag):
            ctx.tag = tag
            log.append(("forward", tag, sorted(tracker.parents), tracker.is_bw))
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            log.append(("backward", ctx.tag, sorted(tracker.parents), tracker.is_bw))
            return g, None

    class Inner(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)

        def forward(self, x):
            return Probe.apply(self.lin(Probe.apply(x, "inner in")), "inner out")

    class Outer(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Inner(), lib.nn.Sequential(Inner(), lib.nn.ReLU())

        def forward(self, x):
            return Probe.apply(self.b(self.a(Probe.apply(x, "outer in"))), "outer out")

    lib.manual_seed(0)
    model = Outer()
    for grad in (False, True):
        with tracker_module.ModuleTracker() as tracker:
            x = _t(lib, 2, 3, grad=grad)
            y = model(x)
            log.append(("after forward", sorted(tracker.parents), tracker.is_bw))
            y.sum().backward()
            log.append(("after backward", sorted(tracker.parents), tracker.is_bw))
            model(x)
            log.append(("after another forward", sorted(tracker.parents)))
    return log


def test_module_tracker_parents_match_torch():
    log = _tracked(ember, ember_mt)
    assert log == _tracked(torch, torch_mt)
    assert ("backward", "inner in", ["Global", "Outer", "Outer.b", "Outer.b.0"], True) in log
    assert ("after backward", ["Global"], False) in log


# ---- the mode itself ----------------------------------------------------------------------
def _hooks_state():
    return (EXPORT_HOOK[0], VMAP_HOOK[0], engine._run_node.__name__, OpOverload.__call__)


def test_hooks_are_put_back_even_after_an_error():
    before = _hooks_state()
    with pytest.raises(ValueError):
        with ember_fc.FlopCounterMode(display=False):
            assert EXPORT_HOOK[0] is not None
            raise ValueError("inside")
    assert _hooks_state() == before


def test_nested_counters_both_count():
    x, w = _t(ember, 3, 4), _t(ember, 4, 5)
    with ember_fc.FlopCounterMode(display=False) as outer:
        ember.mm(x, w)
        with ember_fc.FlopCounterMode(display=False) as inner:
            ember.mm(x, w).sum().backward()
    assert (outer.get_total_flops(), inner.get_total_flops()) == (480, 360)
    assert EXPORT_HOOK[0] is None


def test_counter_is_reusable_and_cleared_on_entry():
    counter = ember_fc.FlopCounterMode(display=False)
    for _ in range(2):
        with counter:
            ember.mm(_t(ember, 3, 4, grad=False), _t(ember, 4, 5, grad=False))
        assert counter.get_total_flops() == 120


def test_mods_argument_warns_as_torch():
    with pytest.warns(UserWarning, match="mods argument is not needed anymore"):
        ember_fc.FlopCounterMode(ember.nn.Linear(2, 2), display=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember_fc.FlopCounterMode(display=False)


def test_no_count_while_the_profiler_records():
    """ember's profiler and counter share Function.apply's one hook: not both at once."""
    with ember.profiler.profile():
        with pytest.raises(RuntimeError, match="another recorder holds the op hook"):
            with ember_fc.FlopCounterMode(display=False):
                pass
    assert EXPORT_HOOK[0] is None
