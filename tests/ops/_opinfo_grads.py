"""Gradients OpInfo expects torch to get wrong (used by _opinfo's `grad` check).

NOTE [Gradients OpInfo expects torch to get wrong]
Some entries mark torch's own gradient test (TestBwdGradients.test_fn_grad: gradcheck of the op)
an expected failure: as_strided_scatter's input gradient in torch 2.13 is the complement of the
true one (ones at the overwritten positions, zeros elsewhere). ember does not copy a gradient
PyTorch's own tests call wrong: where such an entry's gradients differ from torch's, the check
confirms that torch's gradcheck fails on that sample (in float64) and holds ember's gradient to
its numerical derivative (ember's gradcheck) instead. Where the gradients agree they are compared
as for every entry, and an entry without the mark never falls back.
"""

import unittest

import torch

import ember
from tests.ops._opinfo_memory import tensors_in


def torch_grad_expected_to_fail(info) -> bool:
    """OpInfo marks torch's gradcheck of the entry an expected failure on the CPU."""
    return any(unittest.expectedFailure in getattr(d, "decorators", ()) and
               d.is_active("TestBwdGradients", "test_fn_grad", "cpu", torch.float64, {})
               for d in info.decorators)


def gradcheck_instead(s, torch_fn, ember_fn, *, to_ember, process) -> None:
    """On sample s: torch's gradcheck fails in float64 and ember's passes (see the NOTE).
    to_ember converts an argument; process(s, out, ember=) is the sample's output processing."""
    leaves = [t for t in tensors_in([s.input, s.args, s.kwargs])
              if t.requires_grad and t.is_floating_point()]
    doubles = [t.detach().double().requires_grad_() for t in leaves]

    def of_leaves(fn, lib):  # fn of the sample's leaves, the other arguments held
        def call(*xs):
            swap = {id(t): x for t, x in zip(leaves, xs)}
            held = (to_ember if lib is ember else (lambda v: v))
            args = [_swap(v, swap, held) for v in (s.input, s.args, s.kwargs)]
            out = process(s, fn(args[0], *args[1], **args[2]), ember=lib is ember)
            return tuple(tensors_in(out))
        return call

    assert not torch.autograd.gradcheck(of_leaves(torch_fn, torch), doubles,
                                        raise_exception=False), \
        "gradients differ from torch's, whose gradcheck passes"
    ember.autograd.gradcheck(of_leaves(ember_fn, ember), [to_ember(d) for d in doubles])


def _swap(value, table, held):
    """value with the tensors keyed (by id) in table replaced, every other part held(part)."""
    if isinstance(value, torch.Tensor) and id(value) in table:
        return table[id(value)]
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_swap(v, table, held) for v in value)
    if isinstance(value, dict):
        return {k: _swap(v, table, held) for k, v in value.items()}
    return held(value)
