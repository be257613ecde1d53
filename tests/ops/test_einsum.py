"""einsum and tensordot (ember/ops/einsum.py) against torch.

A table of calls drives the generic tests (tests/ops/_tables.py: values, dtypes, shapes,
gradients, float64 finite differences, second derivatives), as in test_linalg.py; then errors.
ember composes einsum from other ops, so its grad_fn names are not compared; tensordot's graph
is PyTorch's (permute, reshape, mm or dot, view).
"""

import numpy as np
import pytest
import torch

import ember
from tests.ops import _tables

RNG = np.random.default_rng(1)

# ---- the table ---------------------------------------------------------------------------------
# id -> (call(lib, *tensors), input shapes)
CASES = {
    "einsum_mm": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    "einsum_implicit": (lambda m, a, b: m.einsum("ij,jk", a, b), [(2, 3), (3, 4)]),
    "einsum_list": (lambda m, a, b: m.einsum("bij,bjk->bik", [a, b]), [(2, 2, 3), (2, 3, 4)]),
    "einsum_ellipsis": (lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
                        [(2, 2, 3), (3, 4)]),
    "einsum_ellipsis_broadcast": (lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
                                  [(1, 2, 3), (4, 3, 2)]),
    "einsum_dot": (lambda m, a, b: m.einsum("i,i->", a, b), [(3,), (3,)]),
    "einsum_outer": (lambda m, a, b: m.einsum("i,j->ij", a, b), [(3,), (4,)]),
    "einsum_batch_dot": (lambda m, a, b: m.einsum("bn,bn->b", a, b), [(3, 4), (3, 4)]),
    "einsum_sum_all": (lambda m, a: m.einsum("ij->", a), [(3, 4)]),
    "einsum_sum_row": (lambda m, a: m.einsum("ij->j", a), [(3, 4)]),
    "einsum_permute": (lambda m, a: m.einsum("ijk->kji", a), [(2, 3, 4)]),
    "einsum_diagonal": (lambda m, a: m.einsum("ii->i", a), [(3, 3)]),
    "einsum_trace": (lambda m, a: m.einsum("ii", a), [(3, 3)]),
    "einsum_size1_broadcast": (lambda m, a, b: m.einsum("ij,j->i", a, b), [(3, 1), (4,)]),
    "einsum_partial_diagonal": (lambda m, a: m.einsum("iij->j", a), [(2, 2, 3)]),
    "einsum_ellipsis_summed": (lambda m, a: m.einsum("i...->...", a), [(3, 2, 2)]),
    "einsum_attention": (lambda m, q, k: m.einsum("bhqd,bhkd->bhqk", q, k),
                         [(2, 2, 3, 4), (2, 2, 5, 4)]),
    "einsum_three": (lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
                     [(2, 3), (3, 4), (4, 2)]),
    "einsum_spaces": (lambda m, a, b: m.einsum("b i d, b j d -> b i j", a, b),
                      [(2, 3, 4), (2, 5, 4)]),
    "tensordot_int": (lambda m, a, b: m.tensordot(a, b, dims=1), [(2, 3), (3, 4)]),
    "tensordot_default": (lambda m, a, b: m.tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
    "tensordot_lists": (lambda m, a, b: m.tensordot(a, b, dims=([0, 2], [2, 0])),
                        [(3, 2, 4), (4, 5, 3)]),
    "tensordot_zero": (lambda m, a, b: m.tensordot(a, b, dims=0), [(2,), (3,)]),
    # a size-1 dim contracts with a size-n dim as if broadcast (PyTorch sums the n side)
    "tensordot_broadcast_dims": (lambda m, a, b: m.tensordot(a, b, dims=([0, 1], [2, 0])),
                                 [(1, 1, 3), (2, 4, 2)]),
    "tensordot_broadcast_other": (lambda m, a, b: m.tensordot(a, b, dims=([1], [0])),
                                  [(3, 4), (1, 5)]),
}

test_forward = _tables.product_forward(RNG, CASES)
test_backward = _tables.product_backward(RNG, CASES)

GRADCHECK = ["einsum_ellipsis", "einsum_diagonal", "einsum_trace", "einsum_sum_row",
             "einsum_three", "einsum_size1_broadcast", "einsum_partial_diagonal",
             "einsum_ellipsis_summed", "tensordot_lists", "tensordot_broadcast_dims"]
SECOND_ORDER = ["einsum_mm", "einsum_diagonal", "einsum_attention", "einsum_dot"]
test_gradcheck_float64 = _tables.product_gradcheck(RNG, CASES, GRADCHECK)
test_double_backward = _tables.product_double_backward(RNG, CASES, SECOND_ORDER)

# ---- errors ------------------------------------------------------------------------------------
# (call, input shapes, same message?)
test_errors_match_torch = _tables.product_errors(RNG, [
    (lambda m, a, b: m.einsum("ij,jk->ik", a), [(2, 3), (3,)], True),
    (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (4, 4)], False),
    (lambda m, a, b: m.tensordot(a, b, dims=([0], [0])), [(2, 3), (3, 4)], False),
])


# Issue #19's fuzz: torch's result or its exception class.
test_bad_calls = _tables.result_or_error({
    "einsum, the sublist format": lambda m: m.einsum(
        m.arange(6.0).reshape(2, 3), [0, 1], m.ones(3), [1], [0]),
    "einsum, a tensor first and a list of tensors": lambda m: m.einsum(
        m.ones(3), [m.ones(3), m.ones(3)]),
    "einsum, a subscript out of range": lambda m: m.einsum(m.ones(3), [60]),
    "einsum, no operand": lambda m: m.einsum("i"),
    "einsum, a list of floats as operands": lambda m: m.einsum("i->", [1.0, 2.0]),
    "einsum, a sum over a bool operand": lambda m: m.einsum("ij->i", m.ones(2, 3, dtype=m.bool)),
    "einsum, a sum over an int32 operand": lambda m: m.einsum(
        "ij->", m.ones(2, 3, dtype=m.int32)),
    "einsum, an ellipsis summed away": lambda m: m.einsum("...->", m.arange(6.0).reshape(2, 3)),
    "tensordot, dims more than a 0-d tensor has": lambda m: m.tensordot(
        m.tensor(1.0), m.ones(3), 2),
    "tensordot, dtypes differ": lambda m: m.tensordot(m.ones(2, 3), m.ones(3, dtype=m.int64), 1),
    "tensordot, dims a 0-d tensor": lambda m: m.tensordot(m.ones(2, 3), m.ones(3),
                                                          m.tensor(1)),
    "tensordot, dims a float": lambda m: m.tensordot(m.ones(2, 3), m.ones(3), 1.5),
    "tensordot, dims lists of ints": lambda m: m.tensordot(m.ones(2, 3), m.ones(3), [1, 0]),
    "tensordot, a repeated dim": lambda m: m.tensordot(
        m.ones(2, 3), m.ones(3, 3), ([1, 1], [0, 0])),
})


def _graph(t):
    """The names of t's grad_fn and of the first-input nodes below it, to the leaf."""
    names, node = [], t.grad_fn
    while node is not None and node.name() != "torch::autograd::AccumulateGrad":
        names.append(node.name())
        node = next((f for f, _ in node.next_functions if f is not None), None)
    return names


@pytest.mark.parametrize("call", [
    lambda m, a, b, c: m.inner(a, a),
    lambda m, a, b, c: m.inner(b, a),
    lambda m, a, b, c: m.tensordot(b, b, dims=2),
    lambda m, a, b, c: m.tensordot(b, c, dims=([1], [1])),
    lambda m, a, b, c: m.tensordot(c, c, dims=([0, 1], [0, 1])),
    lambda m, a, b, c: m.tensordot(c, c, dims=([1, 0, 2], [1, 0, 2])),
    lambda m, a, b, c: m.tensordot(a, a, dims=0),
], ids=["inner-vectors", "inner", "full", "mm", "two-dims", "full-permuted", "outer"])
def test_tensordot_graph_is_torchs(call):
    """PyTorch's tensordot permutes, reshapes and multiplies (mm; a full contraction a dot of
    the flattened operands, or a sum of their product when the permutation is not contiguous):
    the printed grad_fn is ViewBackward0, the nodes below are the same."""
    a, b, c = RNG.standard_normal(3), RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3, 2))
    seen = []
    for lib in (ember, torch):
        leaves = [lib.tensor(x, requires_grad=True) for x in (a, b, c)]
        out = call(lib, *leaves)
        out.sum().backward()
        seen.append((_graph(out)[:2], out.detach().numpy(),
                     [None if x.grad is None else x.grad.numpy() for x in leaves]))
    assert seen[0][0] == seen[1][0]
    np.testing.assert_allclose(seen[0][1], seen[1][1], rtol=1e-12)
    for ge, gt in zip(seen[0][2], seen[1][2]):
        assert (ge is None) == (gt is None)
        if gt is not None:
            np.testing.assert_allclose(ge, gt, rtol=1e-12)
