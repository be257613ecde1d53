"""Joining, splitting, repeating, flipping and rolling (ember/ops/joins.py) against torch:
repeat, cat/concat, stack, hstack, vstack, split, chunk, unbind, flip/fliplr, roll, tril/triu.

One table of cases drives the generic tests (tests/ops/_tables.py), as in test_shape.py: forward
values/dtypes/shapes, grad_fn names, memory sharing (split/chunk/unbind give views), gradients,
float64 finite differences and double backward. Then the joining ops' dtype and empty-tensor
rules, iteration, and the errors for bad inputs.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, both
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.SHAPE_TOL


# id -> (expression on a module `m` and tensor `x`, input shape, view?)
CASES = {
    "repeat": (lambda m, x: x.repeat(2, 3), (2, 3), False),
    "repeat_new_dims": (lambda m, x: x.repeat(2, 1, 2), (2, 3), False),
    "cat": (lambda m, x: m.cat([x, x * 2, x[:1]]), (2, 3), False),
    "cat_dim1": (lambda m, x: m.cat((x, x), dim=-1), (2, 3), False),
    "concat": (lambda m, x: m.concat([x, x], 1), (2, 3), False),
    "stack": (lambda m, x: m.stack([x, x * 3]), (2, 3), False),
    "stack_last": (lambda m, x: m.stack([x, x], dim=-1), (2, 3), False),
    "hstack": (lambda m, x: m.hstack([x, x]), (2, 3), False),
    "vstack": (lambda m, x: m.vstack([x, x]), (3,), False),
    "split_int": (lambda m, x: x.split(2), (5, 3), True),
    "split_sizes": (lambda m, x: m.split(x, [1, 2], dim=1), (2, 3), True),
    "chunk": (lambda m, x: x.chunk(3, 1), (2, 7), True),
    "unbind": (lambda m, x: x.unbind(1), (2, 3), True),
    "flip": (lambda m, x: x.flip(0, 2), (2, 3, 4), False),
    "flip_tuple": (lambda m, x: x.flip((0, 2)), (2, 3, 4), False),
    "flip_one_dim": (lambda m, x: x.flip(-1), (2, 3), False),
    "flip_list": (lambda m, x: m.flip(x, [1]), (2, 3), False),
    "fliplr": (lambda m, x: m.fliplr(x), (2, 3), False),
    "tril": (lambda m, x: x.tril(), (3, 4), False),
    "tril_diag": (lambda m, x: m.tril(x, -1), (2, 3, 3), False),
    "triu": (lambda m, x: m.triu(x, 1), (4, 3), False),
    "roll": (lambda m, x: x.roll(1), (2, 3), False),
    "roll_dims": (lambda m, x: m.roll(x, (1, -2), (0, 1)), (2, 3), False),
    "chunk_uneven": (lambda m, x: x.chunk(4), (6,), True),
    "chunk_empty": (lambda m, x: x.chunk(3), (0, 2), True),
    "split_empty": (lambda m, x: x.split(0), (0, 2), True),
    "split_with_sizes": (lambda m, x: x.split_with_sizes([2, 0, 1], 1), (2, 3), True),
    "split_with_sizes_fn": (lambda m, x: m.split_with_sizes(x, (1, 1)), (2, 3), True),
    "tensor_split_sections": (lambda m, x: x.tensor_split(3, 1), (2, 7), True),
    "tensor_split_indices": (lambda m, x: m.tensor_split(x, [1, 5, 2], dim=1), (3, 4), True),
    "tensor_split_tensor": (lambda m, x: x.tensor_split(m.tensor([1, 3])), (4, 2), True),
    "tensor_split_0d_tensor": (lambda m, x: x.tensor_split(m.tensor(2), -1), (2, 5), True),
    "hsplit": (lambda m, x: x.hsplit(2), (3, 4), True),
    "hsplit_1d": (lambda m, x: m.hsplit(x, [1, 3]), (4,), True),
    "vsplit": (lambda m, x: m.vsplit(x, [1]), (3, 4), True),
    "dsplit": (lambda m, x: x.dsplit(2), (2, 3, 4), True),
    "unsafe_split": (lambda m, x: x.unsafe_split(2), (5, 3), False),
    "unsafe_split_with_sizes": (lambda m, x: m.unsafe_split_with_sizes(x, [1, 2], 1), (2, 3),
                                False),
    "unsafe_chunk": (lambda m, x: x.unsafe_chunk(2, 1), (2, 5), False),
    "atleast_1d_0d": (lambda m, x: m.atleast_1d(x), (), True),
    "atleast_2d_1d": (lambda m, x: m.atleast_2d(x), (3,), True),
    "atleast_2d_0d": (lambda m, x: m.atleast_2d(x), (), True),
    "atleast_3d_0d": (lambda m, x: m.atleast_3d(x), (), True),
    "atleast_3d_1d": (lambda m, x: m.atleast_3d(x), (3,), True),
    "atleast_3d_2d": (lambda m, x: m.atleast_3d(x), (2, 3), True),
    "atleast_many": (lambda m, x: m.atleast_2d(x[0], x[0, 0]), (2, 3), True),
    "atleast_list": (lambda m, x: m.atleast_3d([x]), (2, 3), True),
    "column_stack": (lambda m, x: m.column_stack([x[:, 0], x, x[:, 1] * 2]), (2, 3), False),
    "column_stack_0d": (lambda m, x: m.column_stack([x, x]), (), False),
    "dstack": (lambda m, x: m.dstack([x, x * 2]), (2, 3), False),
    "dstack_1d": (lambda m, x: m.dstack((x, x)), (3,), False),
    "row_stack": (lambda m, x: m.row_stack([x, x[0]]), (2, 3), False),
    "hstack_0d": (lambda m, x: m.hstack([x, x]), (), False),
    "fliplr_method": (lambda m, x: x.fliplr(), (2, 3), False),
    "flipud": (lambda m, x: m.flipud(x), (3,), False),
}

test_forward = _tables.shape_forward(RNG, CASES)
test_shares_memory_like_torch = _tables.shape_shares_memory(RNG, CASES)
test_grad_fn_name = _tables.shape_grad_fn_name(RNG, CASES)
test_backward = _tables.shape_backward(RNG, CASES)
test_gradcheck = _tables.shape_gradcheck(RNG, CASES)
test_double_backward = _tables.shape_double_backward(
    RNG, CASES, ["cat", "stack", "split_sizes", "unbind", "repeat", "flip", "roll", "tril",
                 "tensor_split_indices", "unsafe_split", "column_stack", "dstack"])


def test_unsafe_split_pieces_share_memory_and_allow_inplace():
    results = []
    for m in (ember, torch):
        y = m.arange(6.0, requires_grad=True) * 1
        first, _ = y.unsafe_split(3)
        first.mul_(2)  # torch allows this on unsafe_split's pieces
        results.append((y, first.grad_fn.name()))
    assert_same(results[0][0], results[1][0], **TOL)
    assert results[0][1] == results[1][1]


def test_atleast_returns_the_input_itself():
    for m in (ember, torch):
        x = m.zeros(2, 3, 4)
        assert m.atleast_1d(x) is x and m.atleast_3d(x) is x
        assert isinstance(m.atleast_2d([x]), tuple)


def test_stack_variants_out():
    for name in ("hstack", "vstack", "dstack", "column_stack", "row_stack"):
        results = []
        for m in (ember, torch):
            out = m.zeros(0)
            getattr(m, name)([m.ones(2, 2), m.zeros(2, 2)], out=out)
            results.append(out)
        assert_same(*results, **TOL)


# ---- joining rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtypes", [("float32", "int64"), ("int32", "int64"), ("bool", "int8"),
                                    ("float16", "float64"), ("int64", "bool")])
def test_cat_stack_promote(dtypes):
    for fn in ("cat", "stack"):
        results = []
        for m in (ember, torch):
            tensors = [m.ones(2, 3, dtype=getattr(m, d)) for d in dtypes]
            results.append(getattr(m, fn)(tensors))
        assert_same(*results, **TOL)


def test_cat_skips_legacy_empty_and_keeps_grads():
    results = []
    for m in (ember, torch):
        x = m.ones(2, 3, requires_grad=True)
        y = m.cat([m.zeros(0), x * 2, m.zeros(2, 0).t().reshape(0), x], dim=1)
        y.backward(m.ones(2, 6))
        results += [y, x.grad]
    assert_same(results[0], results[2], **TOL)
    assert_same(results[1], results[3], **TOL)
    assert_same(ember.cat([ember.zeros(0), ember.zeros(0, dtype=ember.int64)]),
                torch.cat([torch.zeros(0), torch.zeros(0, dtype=torch.int64)]), **TOL)


def test_cat_of_empty_tensors_builds_a_graph():
    results = []
    for m in (ember, torch):
        a, b = m.zeros(0, requires_grad=True), m.zeros(0, requires_grad=True)
        y = m.cat([a, b])
        y.sum().backward()
        results.append((y, y.grad_fn.name(), a.grad, b.grad))
    assert_same(results[0][0], results[1][0], **TOL)
    assert results[0][1] == results[1][1]
    assert_same(results[0][2], results[1][2], **TOL)
    assert_same(results[0][3], results[1][3], **TOL)


@pytest.mark.parametrize("case", ["transposed_3d", "channels_last", "mixed_4d", "one_cl_one_t",
                                  "legacy_empty"])
def test_cat_result_strides_follow_the_suggested_memory_format(case):
    # PyTorch allocates cat's result in the memory format all inputs suggest, else contiguous:
    # a ViT's cat((cls, patches.transpose(1, 2))) is C-contiguous, so dropout masks it in order
    def call(m):
        m.manual_seed(0)
        cl = m.randn(2, 3, 4, 5).to(memory_format=m.channels_last)
        pieces = {"transposed_3d": [m.randn(2, 1, 6), m.randn(2, 6, 5).transpose(1, 2)],
                  "channels_last": [cl, cl * 2],
                  "mixed_4d": [cl, m.randn(2, 3, 4, 5)],
                  "one_cl_one_t": [cl, m.randn(2, 3, 5, 4).transpose(2, 3)],
                  "legacy_empty": [cl, m.zeros(0), cl]}[case]
        y = m.cat(pieces, dim=1)
        m.manual_seed(3)
        return y, y.stride(), m.nn.functional.dropout(y, 0.5).eq(0).nonzero()
    (ey, es, ez), (ty, ts, tz) = call(ember), call(torch)
    assert es == ts
    assert_same(ey, ty, **TOL)
    assert_same(ez, tz, exact=True)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("layout", ["transposed", "channels_last"])
def test_stack_result_strides_as_pytorch(dim, layout):
    # PyTorch's stack is cat along dim viewed with the new dim split off (unsqueezed inputs
    # when stacking at the end), so it inherits cat's memory format
    def call(m):
        m.manual_seed(0)
        x = (m.randn(2, 6, 5).transpose(1, 2) if layout == "transposed"
             else m.randn(2, 3, 4, 5).to(memory_format=m.channels_last))
        y = m.stack([x, x * 2], dim)
        return y, y.stride()
    (ey, es), (ty, ts) = call(ember), call(torch)
    assert es == ts
    assert_same(ey, ty, **TOL)


@pytest.mark.parametrize("out", ["input", "expanded", "view_of_input", "empty_input",
                                 "grown_into_input"])
def test_cat_out_overlapping_an_input(out):
    def call(m):
        x, e = m.ones(2, 3), m.zeros(0)
        if out == "empty_input":
            return m.cat([e, x], out=e)
        if out == "grown_into_input":  # out= is resized in place first, over x's memory
            return m.cat([m.ones(2, 3), x], out=x[:1])
        target = {"input": x, "expanded": m.zeros(1, 3).expand(4, 3),
                  "view_of_input": x.view(6)}[out]
        return m.cat([x, x], out=target)
    assert_same_error(call, same_message=True)


def test_cat_out():
    out_e, out_t = ember.zeros(3), torch.zeros(3)
    ember.cat([ember.ones(2), ember.zeros(1)], out=out_e)
    torch.cat([torch.ones(2), torch.zeros(1)], out=out_t)
    assert_same(out_e, out_t, **TOL)


def test_iteration_unbinds_dim0():
    e, t = both(RNG.standard_normal((3, 2)), requires_grad=True)
    rows_e, rows_t = list(e), list(t)
    assert len(rows_e) == len(rows_t) == 3
    for a, b in zip(rows_e, rows_t):
        assert_same(a, b, **TOL)
        assert a.grad_fn.name() == b.grad_fn.name()
    for m in (ember, torch):
        with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
            iter(m.tensor(1.0))


# ---- errors -------------------------------------------------------------------------------------
# (call(lib), same message as torch?): all raise torch's type.
ERRORS = [
    (lambda m: m.zeros(3, 4).repeat(2), False),
    (lambda m: m.cat([]), False),
    (lambda m: m.cat([m.zeros(3, 4), m.zeros(3, 5)]), True),
    (lambda m: m.cat([m.zeros(3, 4), m.zeros(3)]), True),
    (lambda m: m.cat([m.zeros(3, 4), m.zeros(3, 4)], dim=2), False),
    (lambda m: m.cat([m.tensor(1.0), m.tensor(2.0)]), False),
    (lambda m: m.stack([]), False),
    (lambda m: m.stack([m.zeros(3, 4), m.zeros(3, 5)]), True),
    (lambda m: m.zeros(2, 3).split([1, 2]), True),
    (lambda m: m.zeros(2, 3).chunk(0), False),
    (lambda m: m.zeros(3).tril(), False),
    (lambda m: m.zeros(3).triu(), False),
    (lambda m: m.zeros(2, 3).flip(2), False),
    (lambda m: m.flip(m.zeros(2, 3), 1), False),
    (lambda m: m.zeros(2, 3).roll((1, 2), 0), False),
    (lambda m: m.zeros(3, 4).repeat(1, -1), True),
    (lambda m: m.hstack([]), True),
    (lambda m: m.vstack([]), True),
    (lambda m: m.dstack([]), True),
    (lambda m: m.column_stack([]), True),
    (lambda m: m.fliplr(m.zeros(3)), True),
    (lambda m: m.flipud(m.tensor(1.0)), True),
    (lambda m: m.zeros(3, 4).tensor_split(0), True),
    (lambda m: m.zeros(3, 4).tensor_split(2.0), False),
    (lambda m: m.zeros(3, 4).tensor_split(m.tensor([[1]])), True),
    (lambda m: m.zeros(3, 4).tensor_split(m.tensor([1.0])), True),
    (lambda m: m.tensor(1.0).tensor_split(1), True),
    (lambda m: m.zeros(3, 4).hsplit(3), True),
    (lambda m: m.hsplit(m.tensor(1.0), 1), True),
    (lambda m: m.vsplit(m.zeros(4), 2), True),
    (lambda m: m.dsplit(m.zeros(3, 4), 2), True),
    (lambda m: m.zeros(2, 3).split_with_sizes([1, 2]), True),
    (lambda m: m.zeros(2, 3).unsafe_split_with_sizes([1, 3]), True),
    (lambda m: m.zeros(2, 3).unsafe_chunk(0), False),
]
test_errors = _tables.shape_errors(ERRORS)
test_error_messages = _tables.shape_error_messages(ERRORS)


# Issue #19's fuzz: torch's result or its exception class, in torch's order of checks.
test_bad_calls = _tables.result_or_error({
    "split of a 0-d tensor": lambda m: m.split(m.tensor(1.0), 1),
    "split of a 0-d tensor, sizes": lambda m: m.split(m.tensor(1.0), [1], 3),
    "split by a 0-d float tensor": lambda m: m.split(m.arange(5.0), m.tensor(2.7)),
    "split by a one-element float tensor": lambda m: m.split(m.arange(5.0), m.tensor([9.0])),
    "split by a tensor of sizes": lambda m: m.split(m.arange(5.0), m.tensor([2, 3])),
    "split by a list of floats": lambda m: m.split(m.arange(5.0), [2.0, 3.0]),
    "split by a string": lambda m: m.split(m.arange(5.0), "a"),
    "split by True": lambda m: m.split(m.arange(5.0), True),
    "split, dim a 0-d int tensor": lambda m: m.split(m.ones(2, 5), [1, 4], m.tensor(1)),
    "split, dim an empty tensor": lambda m: m.split(m.ones(2, 5), 2, m.zeros(0)),
    "split, dim True": lambda m: m.split(m.ones(2, 5), [1, 1], True),
    "unsafe_split of a 0-d tensor": lambda m: m.unsafe_split(m.tensor(1.0), 1),
    "chunk of a 0-d tensor": lambda m: m.chunk(m.tensor(1), 2),
    "unsafe_chunk of a 0-d tensor": lambda m: m.unsafe_chunk(m.tensor(1), 2),
})


@pytest.mark.parametrize("call", [
    lambda m: m.roll(m.tensor(1), 1, 0),
    lambda m: m.roll(m.tensor(1), (1,), (-1,)),
], ids=["dim 0", "dims (-1,)"])
def test_roll_of_a_0d_tensor_along_a_dim(call):
    """PyTorch's IndexError and message, not NumPy's AxisError."""
    raised, _ = assert_same_error(call, same_message=True)
    assert not type(raised).__module__.startswith("numpy")
