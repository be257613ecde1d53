"""Ops that record their node from arrays (NOTE [Recording from arrays] in
ember/autograd/array_recording.py): relu, add, sub, mul, a full sum and basic indexing.

Each op is run twice in ember, once on the short path and once through `Function.apply` (made
to be taken by emptying RECORDED_CLASSES), and the two graphs must be the same node for node;
then against torch: values, gradients, double backward, node names and saved-tensor checks.
"""

import numpy as np
import pytest
import torch

import ember
from ember.autograd import array_recording
from tests.differential import assert_same

RNG = np.random.default_rng(2026)

OPS = {
    "relu": lambda x, y: x.relu(),
    "relu_fn": lambda x, y: ember.relu(x) if isinstance(x, ember.Tensor) else torch.relu(x),
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "square": lambda x, y: x * x,
    "sum": lambda x, y: x.sum(),
    "select": lambda x, y: x[1],
    "slice": lambda x, y: x[1:, ::2],
    "unsqueeze": lambda x, y: x[None],
    "select_then_slice": lambda x, y: x[0, 1:],
}
# (x requires grad, y requires grad, y's shape: broadcasting)
CASES = [(True, False, (3, 4)), (False, True, (3, 4)), (True, True, (4,)), (True, True, (3, 1))]


def _inputs(lib, x_grad, y_grad, y_shape, dtype):
    rng = np.random.default_rng(7)
    x = lib.tensor(rng.standard_normal((3, 4)).astype(dtype), requires_grad=x_grad)
    y = lib.tensor(rng.standard_normal(y_shape).astype(dtype), requires_grad=y_grad)
    return x, y


def _graph(t, seen=None):
    """The node graph under t as nested tuples: class name, flags, metadata, saved entries."""
    node = t.grad_fn if isinstance(t, ember.Tensor) else t
    if node is None or type(node).__name__ == "AccumulateGrad":
        return type(node).__name__
    saved = tuple((type(entry).__name__, version) for entry, version in (node._saved or ()))
    attributes = {**node._function._node_defaults, **vars(node)}  # (class-level defaults too)
    public = {k: v for k, v in attributes.items() if not k.startswith("_")}
    public.pop("needs_input_grad", None)
    shown = {k: v.tolist() if hasattr(v, "tolist") else v for k, v in public.items()}
    return (type(node).__name__, node.needs_input_grad, node._input_meta, node._output_meta,
            saved, repr(sorted(shown.items())),
            tuple(_graph(edge[0]) if edge[0] is not None else None for edge in node._edges))


BINARY = ("add", "sub", "mul")
# (a unary op of an x that needs no grad records nothing: left out)
RECORDING = [(name, case) for name in OPS for case in CASES if case[0] or name in BINARY]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, case", RECORDING)
def test_short_path_builds_apply_graph(name, case, dtype, monkeypatch):
    """The node made from arrays is the node apply makes: same class, needs_input_grad,
    input/output metadata, saved tensors and attributes; same gradients."""
    graphs, grads = [], []
    for short in (True, False):
        if not short:
            monkeypatch.setattr(array_recording, "RECORDED_CLASSES", set())
        x, y = _inputs(ember, *case, dtype)
        out = OPS[name](x, y)
        graphs.append(_graph(out))
        out.backward(ember.ones_like(out))
        grads.append([None if t.grad is None else t.grad.numpy() for t in (x, y)])
    assert graphs[0] == graphs[1]
    for short_grad, apply_grad in zip(*grads):
        assert (short_grad is None) == (apply_grad is None)
        if short_grad is not None:
            np.testing.assert_array_equal(short_grad, apply_grad)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", OPS)
def test_values_grads_and_nodes_match_torch(name, case):
    """Values, first and second derivatives and the node names as torch's."""
    results = {}
    for lib in (ember, torch):
        x, y = _inputs(lib, *case, np.float64)
        out = OPS[name](x, y)
        if not out.requires_grad:
            results[lib] = (out, None, None, None)
            continue
        leaves = [t for t in (x, y) if t.requires_grad]
        grads = lib.autograd.grad((out * out).sum(), leaves, create_graph=True,
                                  allow_unused=True)
        used = [g for g in grads if g is not None]
        second = lib.autograd.grad(sum(g.sum() for g in used), leaves, allow_unused=True)
        names = (type(out.grad_fn).__name__,
                 [type(n).__name__ for n, _ in out.grad_fn.next_functions if n is not None])
        results[lib] = (out, grads, second, names)
    (e_out, e_grads, e_second, e_names), (t_out, t_grads, t_second, t_names) = \
        results[ember], results[torch]
    assert_same(e_out.detach(), t_out.detach())
    assert e_names == t_names
    if e_grads is not None:
        for e, t in zip(e_grads, t_grads):
            assert (e is None) == (t is None)
            if e is not None:
                assert_same(e.detach(), t.detach())
        for e, t in zip(e_second, t_second):
            assert (e is None) == (t is None)
            if e is not None:
                assert_same(e, t)


@pytest.mark.parametrize("name", ["relu", "mul"])
def test_modified_saved_tensor_is_caught(name):
    """An in-place change to what the node saved raises torch's error at backward."""
    for lib in (ember, torch):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        h = x * 1  # (a non-leaf, so it may be changed in place)
        if name == "relu":
            out = h.relu()
            out.add_(1)  # (relu saved its output)
        else:
            out = h * h
            h.add_(1)  # (mul saved its operands)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_saved_attributes_by_torch_names():
    """`_saved_result` of relu and `_saved_self` / `_saved_other` of mul, as torch names them."""
    values = {}
    for lib in (ember, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0])
        r, m = x.relu(), x * y
        values[lib] = (r.grad_fn._saved_result, m.grad_fn._saved_other, m.grad_fn._saved_self)
    for e, t in zip(values[ember], values[torch]):
        assert (e is None) == (t is None)
        if e is not None:
            assert_same(e.detach(), t.detach())


def test_parameters_take_the_short_path_and_subclasses_apply():
    """An nn.Parameter records from arrays (its node is the same); a Tensor subclass with its
    own __torch_function__ goes through apply and still gets its gradient."""
    w = ember.nn.Parameter(ember.tensor([1.0, -1.0, 2.0]))
    assert array_recording.array_call(w) == array_recording.RECORDED
    out = (w * 2).relu().sum()
    out.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 0.0, 2.0])

    class Logged(ember.Tensor):
        calls = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append(getattr(func, "__name__", str(func)))
            return super().__torch_function__(func, types, args, kwargs or {})

    leaf = ember.tensor([1.0, -2.0], requires_grad=True)
    x = leaf.as_subclass(Logged)  # (attached to leaf's graph, as torch's)
    assert array_recording.array_call(x) == array_recording.THROUGH_APPLY
    x.relu().sum().backward()
    assert Logged.calls
    np.testing.assert_array_equal(leaf.grad.numpy(), [1.0, 0.0])


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_hooks_and_modes_take_apply():
    """Saved-tensor hooks see what the op saves; anomaly mode names the op's forward."""
    packed = []
    x = ember.tensor([1.0, -2.0], requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        assert array_recording.array_call(x) == array_recording.THROUGH_APPLY
        (x * x).relu().sum().backward()
    assert len(packed) == 3  # mul's two operands, relu's output (as torch)
    x.grad = None
    with ember.autograd.detect_anomaly(check_nan=False):
        assert array_recording.array_call(x) == array_recording.THROUGH_APPLY
        x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])
    with ember.no_grad():
        assert array_recording.array_call(x) == array_recording.UNRECORDED
