"""The dispatch fast paths (#21): Function.apply's common case, output wrapping, the engine's
quick gradient check, the `ember.<op>` face's tensor check, `x[i]` and `.grad` assignment.

Each case runs the same call in ember and torch and compares what comes out, so a fast path that
skips a step PyTorch takes shows up as a difference.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, both

RNG = np.random.default_rng(21)


def _functions(lib):
    class Total(lib.autograd.Function):
        """A reduction returning NumPy's scalar in ember: y = Σx;  gx = gy broadcast."""

        @staticmethod
        def forward(ctx, x):
            ctx.shape = x.shape
            return x.sum() if lib is torch else x._data.sum()

        @staticmethod
        def backward(ctx, gy):
            return gy.expand(ctx.shape)

    class Same(lib.autograd.Function):
        """Returns its input: apply gives a new tensor aliasing it."""

        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, gy):
            return gy

    class Many(lib.autograd.Function):
        """Nine inputs (past the precomputed needs_input_grad tuples); y = x·a."""

        @staticmethod
        def forward(ctx, x, a, *rest):
            ctx.needs = tuple(ctx.needs_input_grad)
            ctx.save_for_backward(a)
            return x * a

        @staticmethod
        def backward(ctx, gy):
            (a,) = ctx.saved_tensors
            return (gy * a,) + (None,) * 8

    return Total, Same, Many


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("grad", [False, True])
def test_numpy_scalar_output_is_a_0d_tensor(dtype, grad):
    x = RNG.standard_normal(5).astype(dtype)
    results = []
    for lib, t in zip((ember, torch), both(x, requires_grad=grad)):
        y = _functions(lib)[0].apply(t)
        results.append((y, t))
    (ey, et), (ty, tt) = results
    assert_same(ey, ty)
    assert ey.requires_grad == ty.requires_grad
    if grad:
        ey.backward()
        ty.backward()
        assert_same(et.grad, tt.grad)


@pytest.mark.parametrize("grad", [False, True])
def test_returning_the_input_gives_a_new_alias(grad):
    x = RNG.standard_normal(4).astype(np.float32)
    for lib, t in zip((ember, torch), both(x, requires_grad=grad)):
        y = _functions(lib)[1].apply(t)
        assert y is not t
        assert y.requires_grad == grad
        assert (y.grad_fn is not None) == grad


@pytest.mark.parametrize("grad_mode", [False, True])
def test_needs_input_grad_past_eight_inputs(grad_mode):
    x, a = RNG.standard_normal((2, 3)).astype(np.float32)
    seen = []
    for lib, (tx, ta) in zip((ember, torch), zip(both(x, True), both(a))):
        Many = _functions(lib)[2]
        with lib.set_grad_enabled(grad_mode):
            y = Many.apply(tx, ta, *range(7))
        seen.append((y.requires_grad, y.grad_fn is not None))
        if grad_mode:
            y.sum().backward()
            seen.append(tuple(tx.grad.tolist()))
    assert seen[: len(seen) // 2] == seen[len(seen) // 2:]


def test_forward_ops_record_nothing_when_no_input_needs_grad():
    """A forward using a parameter it was not given still returns a plain result, in both."""
    for lib in (ember, torch):
        w = lib.ones(3, requires_grad=True)

        class UsesW(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * w

            @staticmethod
            def backward(ctx, gy):
                return gy

        y = UsesW.apply(lib.ones(3))
        assert not y.requires_grad and y.grad_fn is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_of_a_tiny_graph(dtype):
    """(a·b + b).sum().backward(): the quick shape/dtype check, leaf accumulation twice."""
    a, b = RNG.standard_normal((2, 6)).astype(dtype)
    leaves = []
    for lib, (ta, tb) in zip((ember, torch), zip(both(a, True), both(b, True))):
        for _ in range(2):  # the second backward adds into existing .grad
            (ta * tb + tb).sum().backward()
        leaves.append((ta, tb))
    for e, t in zip(*leaves):
        assert_same(e.grad, t.grad)


def test_engine_casts_a_gradient_of_another_dtype():
    """A backward returning float64 for a float32 input: the slow check casts it, as torch."""
    for lib in (ember, torch):
        class Wide(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, gy):
                return (gy * 2).double()

        x = lib.ones(3, requires_grad=True)
        Wide.apply(x).sum().backward()
        assert str(x.grad.dtype).endswith("float32")
        assert x.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("index", [0, 2, -1, -3])
@pytest.mark.parametrize("grad", [False, True])
def test_integer_index(index, grad):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    results = [t[index] for t in both(x, requires_grad=grad)]
    assert_same(*results)
    assert type(results[0].grad_fn).__name__ == type(results[1].grad_fn).__name__
    ex, tx = both(x)
    ex[1].fill_(7.0)  # still a view
    tx[1].fill_(7.0)
    assert_same(ex, tx)


@pytest.mark.parametrize("index", [3, -4])
def test_integer_index_out_of_range(index):
    assert_same_error(lambda lib, t: t[index], RNG.standard_normal((3, 4)).astype(np.float32),
                      same_message=True)


@pytest.mark.parametrize("index", [True, False])
def test_bool_index_is_not_an_integer(index):
    """x[True] adds a dim (x[False] empties it): bool is an int in Python, not here."""
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    assert_same(*[t[index] for t in both(x)])


def test_integer_index_of_a_0d_tensor():
    assert_same_error(lambda lib, t: t[0], np.float32(1.0))


def test_function_face_checks_only_non_tensors():
    e, t = both(RNG.standard_normal(3).astype(np.float32))
    assert_same(ember.add(e, e, alpha=2), torch.add(t, t, alpha=2))
    assert_same(ember.relu(e), torch.relu(t))
    assert_same(ember.add(e, other=e), torch.add(t, other=t))
    assert_same(ember.mul(e, 2.0), torch.mul(t, 2.0))
    for bad in (None, "a", [1.0]):
        with pytest.raises(TypeError):
            torch.relu(bad)
        with pytest.raises(TypeError, match="must be Tensor"):
            ember.relu(bad)


def test_grad_assignment_checks():
    for lib in (ember, torch):
        x = lib.zeros(2, 3, requires_grad=True)
        x.grad = lib.ones(2, 3)
        assert x.grad.tolist() == [[1.0] * 3] * 2
        with pytest.raises(RuntimeError):
            x.grad = lib.ones(3, 2)
        with pytest.raises(RuntimeError):
            x.grad = lib.ones(2, 3, dtype=lib.float64)
        with pytest.raises(TypeError):
            x.grad = np.ones((2, 3))
        x.grad = None
        assert x.grad is None


def test_saved_values_are_freed_after_backward():
    x = ember.ones(3, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        node.saved_tensors  # noqa: B018


# ---- NOTE [Stealing the gradient]: a leaf's first .grad never shares memory with anything else --
def _shares(x, y):
    return np.shares_memory(x.detach().numpy(), y.detach().numpy())


def test_one_gradient_sent_to_two_leaves_is_not_shared():
    a, b = ember.ones(3, requires_grad=True), ember.ones(3, requires_grad=True)
    (a + b).sum().backward()
    assert not _shares(a.grad, b.grad)
    a.grad.add_(1.0)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_the_seed_gradient_is_not_taken():
    for make in (lambda x: x * 1.0, lambda x: x):  # through an op, and the leaf itself
        x = ember.ones(3, requires_grad=True)
        seed = ember.full((3,), 2.0)
        make(x).backward(seed)
        assert not _shares(x.grad, seed)
        x.grad.zero_()
        assert seed.tolist() == [2.0, 2.0, 2.0]


def test_a_gradient_kept_by_a_hook_is_not_taken():
    kept = []
    x = ember.ones(3, requires_grad=True)
    y = x * 2.0
    z = y + 0.0
    z.register_hook(lambda g: kept.append(g))  # add's backward passes this tensor on to y's
    x.register_hook(lambda g: kept.append(g))  # and the leaf's own hook
    z.sum().backward()
    for g in kept:
        assert not _shares(x.grad, g)
    w = ember.ones(3, requires_grad=True)
    v = w + 0.0
    v.register_hook(lambda g: kept.append(g))
    v.sum().backward()
    assert not _shares(w.grad, kept[-1])


def test_stolen_gradient_accumulates_like_a_copy():
    """Two backward passes: the first .grad (taken, not copied) is added into in place."""
    arrays = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    grads = []
    for lib, (tw, tx) in zip((ember, torch), zip(both(arrays[0], True), both(arrays[1]))):
        for _ in range(2):
            (tx.t() @ tw).relu().sum().backward()
        grads.append(tw.grad)
    assert_same(*grads)



def test_a_gradient_only_the_engine_holds_is_taken():
    """A fresh gradient array nothing else sees becomes .grad without a copy (a miscounted
    _ENGINE_REFERENCES would copy every parameter's gradient on every step)."""
    made = []

    class Double(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, gy):
            gx = gy * 2.0
            made.append(id(gx.numpy()))  # an id only: a reference would forbid the taking
            return gx

    w = ember.randn(4, 3, requires_grad=True)
    Double.apply(w).sum().backward()
    assert id(w.grad.numpy()) == made[0]


# ---- NOTE [Array forward]: calls that record nothing skip the node ---------------------------
_ARRAY_FORWARD_CALLS = {
    "mul": lambda lib, a, b: a * b,
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul_scalar": lambda lib, a, b: a * 2.5,
    "relu": lambda lib, a, b: lib.relu(a),
    "sum": lambda lib, a, b: a.sum(),
    "row": lambda lib, a, b: a[1],
}


_ARRAY_FORWARD_CASES = [
    (call, mode, dtype) for call in sorted(_ARRAY_FORWARD_CALLS)
    for mode in ("plain", "no_grad", "recording")
    for dtype in (np.float32, np.float64, np.complex64, np.int64)
    # torch refuses a complex relu and an integer tensor that requires grad
    if not (call == "relu" and dtype == np.complex64) and not (mode != "plain" and
                                                               dtype == np.int64)]


@pytest.mark.parametrize("call, mode, dtype", _ARRAY_FORWARD_CASES)
def test_array_forward_matches_torch(call, mode, dtype):
    """The direct array call (plain, no_grad) and the recorded one give torch's value, dtype,
    requires_grad and grad_fn name."""
    a, b = (RNG.standard_normal((3, 4)) * 3).astype(dtype), (RNG.standard_normal(4)).astype(dtype)
    results = []
    for lib, (ta, tb) in zip((ember, torch), zip(both(a, mode != "plain"), both(b))):
        with lib.no_grad() if mode == "no_grad" else lib.enable_grad():
            results.append(_ARRAY_FORWARD_CALLS[call](lib, ta, tb))
    e, t = results
    assert_same(e, t, exact=call != "sum")  # (torch sums in another order)
    assert e.requires_grad == t.requires_grad
    assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__


def test_a_row_taken_without_recording_is_still_a_view():
    x = ember.zeros(3, 4)
    x[1].fill_(2.0)
    with ember.no_grad():
        row = ember.ones(3, 4, requires_grad=True)[2]
    # (as in torch, a view taken under no_grad keeps its base's requires_grad: NOTE [No-grad views])
    assert x.sum().item() == 8.0 and row._base is not None and row.requires_grad


# ---- NOTE [Saved outputs]: an op that saves its output makes no reference cycle ---------------
_SAVING_OUTPUT = {"relu": lambda x: x.relu(), "exp": lambda x: x.exp(),
                  "sigmoid": lambda x: x.sigmoid(), "tanh": lambda x: x.tanh()}


@pytest.mark.parametrize("name", sorted(_SAVING_OUTPUT))
def test_an_output_saved_by_its_node_dies_with_its_last_reference(name):
    """With the garbage collector off, as in torch, the dropped output is freed at once."""
    import gc
    import weakref
    for lib in (ember, torch):
        x = lib.ones(5, requires_grad=True)
        gc.disable()
        try:
            y = _SAVING_OUTPUT[name](x)
            alive = weakref.ref(y)
            del y
            assert alive() is None, lib.__name__
        finally:
            gc.enable()


@pytest.mark.parametrize("name", sorted(_SAVING_OUTPUT))
def test_a_saved_output_still_carries_its_gradient(name):
    """Unpacked, the saved output has the node as its grad_fn: double backward goes through
    it; and an in-place change to the output before backward is still caught."""
    x = RNG.standard_normal(5)
    grads = []
    for lib, t in zip((ember, torch), both(x, True)):
        y = _SAVING_OUTPUT[name](t)
        (g,) = lib.autograd.grad((y * y).sum(), t, create_graph=True)  # 2·y·y': through y
        (gg,) = lib.autograd.grad(g.sum(), t)
        grads.append((g.detach(), gg))
    (eg, egg), (tg, tgg) = grads
    assert_same(eg, tg)
    assert_same(egg, tgg)

    def changed_then_backward(lib, t):
        _SAVING_OUTPUT[name](t.requires_grad_()).mul_(2).sum().backward()

    assert_same_error(changed_then_backward, x, match="modified by an inplace operation")


def test_a_dropped_forward_leaves_nothing_for_the_garbage_collector():
    """A conv net's forward with grad on, never backwarded (validation without no_grad): its
    graph is freed by reference counting alone, in ember as in torch."""
    import gc
    for lib in (ember, torch):
        nn = lib.nn
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 5), nn.Tanh(),
                              nn.Sigmoid(), nn.LogSoftmax(1))
        x = lib.randn(2, 3, 8, 8)
        model(x).sum().backward()
        gc.collect()
        gc.disable()
        try:
            model(x)
            assert gc.collect() == 0, lib.__name__
        finally:
            gc.enable()


def test_outputs_saved_twice_and_among_several_are_all_held():
    """A Function saving each of its two outputs, one of them twice: every saved output comes
    back with the node as its grad_fn, and the gradients are torch's."""
    grads = []
    for lib in (ember, torch):
        class TwoOut(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                a, b = x.exp(), x.sin()
                ctx.save_for_backward(a, b, a)
                return a, b

            @staticmethod
            def backward(ctx, ga, gb):
                a, b, a_again = ctx.saved_tensors
                assert a.grad_fn is a_again.grad_fn is not None and b.grad_fn is a.grad_fn
                return ga * a_again + gb * (1 - b * b).sqrt()

        x = lib.tensor([0.1, 0.5, -0.7], requires_grad=True)
        a, b = TwoOut.apply(x)
        (g,) = lib.autograd.grad((a * b).sum(), x)
        grads.append(g)
    assert_same(*grads)
