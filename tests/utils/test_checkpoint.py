"""torch.utils.checkpoint: values, input and parameter gradients, RNG replay and warnings
compared with torch (NOTE [The two checkpoint variants] in ember/utils/checkpoint.py)."""

import functools
import warnings

import numpy as np
import pytest
import torch

import ember


def _model(lib, dropout):
    lib.manual_seed(0)
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Dropout(dropout), nn.Linear(5, 3),
                         nn.ReLU(), nn.Linear(3, 3))


def _run(lib, call, dtype, input_grad, dropout):
    """(output, input grad, parameter grads, warnings, error type) of one checkpointed step."""
    model = _model(lib, dropout).to(getattr(lib, dtype))
    x = lib.tensor(np.linspace(-1, 1, 8).reshape(2, 4), dtype=getattr(lib, dtype),
                   requires_grad=input_grad)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = call(lib, model, x)
        try:
            (y * lib.arange(3.0, dtype=y.dtype)).sum().backward()
        except RuntimeError:
            return y.detach().numpy(), None, None, caught, RuntimeError
    grads = [None if p.grad is None else p.grad.numpy() for p in model.parameters()]
    return (y.detach().numpy(), None if x.grad is None else x.grad.numpy(), grads,
            [str(w.message)[:60] for w in caught], None)


CALLS = {
    "reentrant": lambda lib, m, x: lib.utils.checkpoint.checkpoint(m, x, use_reentrant=True),
    "non-reentrant": lambda lib, m, x: lib.utils.checkpoint.checkpoint(
        m, x, use_reentrant=False),
    "default (warns)": lambda lib, m, x: lib.utils.checkpoint.checkpoint(m, x),
    "no rng replay": lambda lib, m, x: lib.utils.checkpoint.checkpoint(
        m, x, use_reentrant=True, preserve_rng_state=False),
    "sequential 2": lambda lib, m, x: lib.utils.checkpoint.checkpoint_sequential(
        m, 2, x, use_reentrant=True),
    "sequential 3 nr": lambda lib, m, x: lib.utils.checkpoint.checkpoint_sequential(
        m, 3, x, use_reentrant=False),
    "sequential list": lambda lib, m, x: lib.utils.checkpoint.checkpoint_sequential(
        list(m.children()), 2, x, use_reentrant=True),
    "inside a block": lambda lib, m, x: m[5](lib.utils.checkpoint.checkpoint(
        lambda a, scale: m[:5](a) * scale, x, 2.0, use_reentrant=True)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("dropout", [0.0, 0.5])
@pytest.mark.parametrize("name", list(CALLS))
def test_checkpoint_matches_torch(name, dropout, input_grad, dtype):
    ours = _run(ember, CALLS[name], dtype, input_grad, dropout)
    theirs = _run(torch, CALLS[name], dtype, input_grad, dropout)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    assert ours[4] is theirs[4]
    if theirs[4] is None:
        assert (ours[1] is None) == (theirs[1] is None)
        if theirs[1] is not None:
            np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)
        for e, t in zip(ours[2], theirs[2]):
            assert (e is None) == (t is None)
            if t is not None:
                np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
        assert ours[3] == theirs[3]


ERRORS = {
    "kwargs with reentrant": lambda lib: lib.utils.checkpoint.checkpoint(
        lambda a, b=1: a, lib.ones(1), b=2, use_reentrant=True),
    "debug with reentrant": lambda lib: lib.utils.checkpoint.checkpoint(
        lambda a: a, lib.ones(1), use_reentrant=True, debug=True),
    "sequential kwargs": lambda lib: lib.utils.checkpoint.checkpoint_sequential(
        [lambda a: a], 1, lib.ones(1), use_reentrant=True, foo=1),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_checkpoint_errors_match_torch(name):
    for lib in (ember, torch):
        with pytest.raises(ValueError) as info:
            ERRORS[name](lib)
        message = str(info.value) if lib is torch else None
    with pytest.raises(ValueError) as info:
        ERRORS[name](ember)
    assert str(info.value) == message


def test_non_reentrant_passes_keywords_and_warns_for_no_grad_inputs():
    for lib in (ember, torch):
        out = lib.utils.checkpoint.checkpoint(lambda a, b=1: a * b, lib.ones(2), b=3,
                                              use_reentrant=False)
        assert out.tolist() == [3.0, 3.0]
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad"):
            lib.utils.checkpoint.checkpoint(lambda a: a, lib.ones(1), use_reentrant=True)


# ---- the helpers torch.utils.checkpoint exports ------------------------------------------------
def test_detach_variable_and_backward_validity_match_torch():
    for lib in (ember, torch):
        a = lib.ones(2, requires_grad=True)
        detached = lib.utils.checkpoint.detach_variable((a, 3, lib.zeros(1)))
        assert detached[0].requires_grad and detached[0].grad_fn is None and detached[1] == 3
        assert not detached[2].requires_grad
        with pytest.raises(RuntimeError, match="Only tuple of tensors is supported. Got "
                                               "Unsupported input type: list"):
            lib.utils.checkpoint.detach_variable([a])
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            lib.utils.checkpoint.check_backward_validity((lib.zeros(1), 2))
        assert lib.utils.checkpoint.get_device_states(lib.ones(1)) == ([], [])
        assert lib.utils.checkpoint.DefaultDeviceType.get_device_type() == "cpu"
        with lib.utils.checkpoint.set_checkpoint_early_stop(False), \
                lib.utils.checkpoint.set_checkpoint_debug_enabled(True):
            pass
        assert [p.name for p in lib.utils.checkpoint.CheckpointPolicy] == [
            "MUST_SAVE", "PREFER_SAVE", "MUST_RECOMPUTE", "PREFER_RECOMPUTE", "MUST_CPU_OFFLOAD",
            "PREFER_CPU_OFFLOAD"]
        assert issubclass(lib.utils.checkpoint.CheckpointError, RuntimeError)


def _selective(lib, policy):
    """A checkpointed block under selective checkpointing: output and input gradient."""
    lib.manual_seed(0)
    x = lib.randn(3, 3, requires_grad=True)
    y = lib.randn(3, 3, requires_grad=True)
    context_fn = functools.partial(lib.utils.checkpoint.create_selective_checkpoint_contexts,
                                   policy(lib))
    out = lib.utils.checkpoint.checkpoint(
        lambda x, y: lib.sigmoid(lib.matmul(lib.matmul(x, y), y)) * y, x, y,
        use_reentrant=False, context_fn=context_fn)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("policy", [
    lambda lib: [lib.ops.aten.mm.default],
    lambda lib: lambda ctx, op, *args, **kwargs: lib.utils.checkpoint.CheckpointPolicy.MUST_SAVE])
def test_selective_checkpointing_computes_what_torch_computes(policy):
    ours, theirs = _selective(ember, policy), _selective(torch, policy)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_selective_checkpoint_policy_errors_match_torch():
    for lib in (ember, torch):
        create = lib.utils.checkpoint.create_selective_checkpoint_contexts
        with pytest.raises(ValueError, match="Please update the OpOverloadPacket"):
            create([lib.ops.aten.mm])
        with pytest.raises(ValueError, match="Expected op in `op_list` to be an OpOverload"):
            create(["mm"])
        with pytest.raises(TypeError, match="must be either a function or a list of ops"):
            create(3)


def _batchnorm_block_run(lib, early_stop, backwards):
    """A Conv-BN-GELU block checkpointed without reentrancy, trained for two steps: BatchNorm's
    running statistics (updated again by each recomputation), a counter of the block's calls,
    and the conv's weight gradient."""
    lib.manual_seed(0)
    nn = lib.nn
    calls = []

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d(4)
            self.tail = nn.Conv1d(4, 4, 3)

        def forward(self, x):
            calls.append(len(calls))
            h = nn.functional.gelu(self.bn(self.conv(x)))
            return self.tail(h).relu() * 2.0  # (saved last: the relu's output)

    block, x = Block(), lib.randn(2, 3, 9)
    with lib.utils.checkpoint.set_checkpoint_early_stop(early_stop):
        for _ in range(2):
            y = lib.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
            for _ in range(backwards):
                y.sum().backward(retain_graph=True)
    return (block.bn.running_mean.numpy(), block.bn.running_var.numpy(),
            int(block.bn.num_batches_tracked), len(calls), block.conv.weight.grad.numpy())


@pytest.mark.parametrize("early_stop", [True, False])
@pytest.mark.parametrize("backwards", [1, 2])
def test_non_reentrant_recomputes_in_each_backward_as_torch(early_stop, backwards):
    ours = _batchnorm_block_run(ember, early_stop, backwards)
    theirs = _batchnorm_block_run(torch, early_stop, backwards)
    assert ours[2:4] == theirs[2:4]  # the recomputations: batches tracked, calls
    for a, b in zip(ours[:2] + ours[4:], theirs[:2] + theirs[4:]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _nondeterministic_error(lib, determinism_check):
    """The error of a block whose recomputation saves a tensor of another shape."""
    sizes = iter([3, 4, 5, 6])

    def block(x):
        return (x[:next(sizes)] ** 2).sum()

    x = lib.ones(8, requires_grad=True)
    y = lib.utils.checkpoint.checkpoint(block, x, use_reentrant=False,
                                        determinism_check=determinism_check)
    try:
        y.backward()
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return type(error).__name__, str(error).split("\n")[:4]
    return None, x.grad.numpy().tolist()


@pytest.mark.parametrize("determinism_check", ["default", "none"])
def test_non_reentrant_determinism_check_matches_torch(determinism_check):
    assert _nondeterministic_error(ember, determinism_check) == \
        _nondeterministic_error(torch, determinism_check)


def test_non_reentrant_rejects_unknown_determinism_check():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="determinism_check should be one of"):
            lib.utils.checkpoint.checkpoint(lambda x: x * 2, lib.ones(2, requires_grad=True),
                                            use_reentrant=False, determinism_check="strict")
