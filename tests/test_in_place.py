"""ember/_in_place.py (NOTE [Writing in place]): relu_, add_, sub_ and += / -= write into the
tensor's own memory, with PyTorch's values, gradients and errors, and a failed call leaves the
tensor as it was."""

import threading

import numpy as np
import pytest
import torch

import ember
from ember import _in_place
from ember.ops import inplace

CALLS = {
    "relu_": lambda x, y: x.relu_(),
    "add_": lambda x, y: x.add_(y),
    "add_alpha": lambda x, y: x.add_(y, alpha=-0.5),
    "sub_": lambda x, y: x.sub_(y),
    "iadd": lambda x, y: x.__iadd__(y),
    "isub": lambda x, y: x.__isub__(y),
    "iadd_scalar": lambda x, y: x.__iadd__(2),
    "iadd_row": lambda x, y: x.__iadd__(y[0]),  # broadcast into x's shape
    "F.relu": lambda x, y: (ember if isinstance(x, ember.Tensor) else torch).nn.functional.relu(
        x, inplace=True),
}


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("shape", [(130, 129), (64, 33, 40)])  # direct; on threads too
def test_writes_into_the_tensors_memory(name, shape, monkeypatch):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2,) + shape).astype(np.float32)
    x = ember.tensor(a)
    memory = x.numpy()  # shares x's array
    copies = []  # _inplace_update's copy of a result computed elsewhere: not made
    monkeypatch.setattr(inplace, "_write", lambda target, values: copies.append(values))
    out = CALLS[name](x, ember.tensor(b))
    assert out is x and np.shares_memory(x.numpy(), memory) and copies == []
    expected = CALLS[name](torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_array_equal(memory, expected)  # the old memory holds the result


@pytest.mark.parametrize("name", list(CALLS))
def test_gradients_match_torch(name):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 130, 129)).astype(np.float32)  # (written directly)
    grads = []
    for lib in (ember, torch):
        leaf, other = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        y = leaf * 3
        CALLS[name](y, other)
        (y * y).sum().backward()
        grads.append((leaf.grad.numpy(), None if other.grad is None else other.grad.numpy(),
                      type(y.grad_fn).__name__))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    if grads[1][1] is not None:  # (a broadcast operand's gradient is a sum: rounding apart)
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5)
    assert grads[0][2] == grads[1][2]


def _raises_like_torch(call, make):
    errors = []
    for lib in (ember, torch):
        x, other = make(lib)
        before = x.detach().clone()
        with pytest.raises(RuntimeError) as info:
            call(x, other)
        assert lib.equal(x.detach(), before)  # untouched
        errors.append(str(info.value).split("\n")[0])
    return errors


def test_failed_calls_leave_the_tensor_as_it_was():
    # a leaf that requires grad
    n = 2 * _in_place.MIN_ELEMENTS  # (big enough to be written directly)
    _raises_like_torch(lambda x, o: x.relu_(), lambda lib: (lib.ones(n, requires_grad=True),
                                                             None))
    _raises_like_torch(lambda x, o: x.add_(o), lambda lib: (lib.ones(n, requires_grad=True),
                                                             lib.ones(n)))
    # a result of another shape, or of a dtype x can't hold
    _raises_like_torch(lambda x, o: x.add_(o), lambda lib: (lib.ones(n, 1), lib.ones(n, 4)))
    ember_error, torch_error = _raises_like_torch(
        lambda x, o: x.add_(o), lambda lib: (lib.ones(n, dtype=lib.int64), lib.ones(n)))
    assert ember_error == torch_error


def test_views_and_overlaps():
    results = []
    for lib in (ember, torch):
        base = lib.arange(12.0).reshape(3, 4) - 5
        base[1].relu_()  # a view: computed out of place, written through the view
        base[2] += base[0]
        x = lib.arange(40000.0)
        x += x.flip(0)  # an operand reading x backwards
        y = lib.arange(40000.0)
        y -= y
        results.append((base.tolist(), x.tolist(), y.tolist()))
    assert results[0] == results[1]


def test_the_target_is_served_once_and_to_its_own_thread():
    array = np.zeros(4)
    seen = []
    _in_place.set_target(array)
    try:
        thread = threading.Thread(target=lambda: seen.append(_in_place.target_for(array)))
        thread.start()
        thread.join()
        first, second = _in_place.target_for(array), _in_place.target_for(array)
    finally:
        _in_place.set_target(None)
    assert seen == [None] and first is array and second is None
    assert _in_place.target_for(array) is None and _in_place._ACTIVE[0] == 0


def _outcome(fn):
    try:
        fn()
    except RuntimeError as error:
        return str(error)
    return "ok"


@pytest.mark.parametrize("view", [lambda x: x[:1], lambda x: x.view(4), lambda x: x.t()[0]])
@pytest.mark.parametrize("base", ["leaf", "non-leaf"])
def test_view_made_under_no_grad_as_torch(view, base):
    """NOTE [No-grad views]: a view taken under no_grad of a tensor that requires grad
    requires grad (it prints so), has no grad_fn, and refuses an in-place op with grad mode
    on, though one under no_grad is fine."""
    results = []
    for lib in (ember, torch):
        x = lib.ones(2, 2, requires_grad=True)
        source = x if base == "leaf" else x * 1
        with lib.no_grad():
            v = view(source)
        results.append((v.requires_grad, v.grad_fn, v.is_leaf, repr(v),
                        _outcome(lambda: v.mul_(2)), _outcome(lambda: v.detach().mul_(2))))
    assert results[0] == results[1]
