"""Grad modes (ember/autograd/grad_mode.py): no_grad, enable_grad, set_grad_enabled, inference."""

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-8}



# ---- grad modes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_grad_mode_context_managers(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        assert not (x * 2).requires_grad
        assert not lib.is_grad_enabled()
        with lib.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    with lib.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert lib.is_grad_enabled()
    lib.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    lib.set_grad_enabled(True)
    with lib.inference_mode():
        assert not (x * 2).requires_grad
    with lib.inference_mode(False):
        assert (x * 2).requires_grad
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_grad_mode_decorators(lib):
    x = lib.ones(2, requires_grad=True)

    @lib.no_grad()
    def without():
        return x * 2

    @lib.enable_grad()
    def with_grad():
        return x * 2

    @lib.set_grad_enabled(False)
    def disabled():
        return x * 2

    @lib.inference_mode()
    def inference():
        return x * 2

    assert lib.is_grad_enabled()  # set_grad_enabled used as a decorator changes nothing now
    assert not without().requires_grad
    assert not disabled().requires_grad
    assert not inference().requires_grad
    with lib.no_grad():
        assert with_grad().requires_grad
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_grad_mode_restored_after_exception(lib):
    with pytest.raises(ValueError), lib.no_grad():
        raise ValueError
    assert lib.is_grad_enabled()

    @lib.no_grad()
    def failing():
        raise KeyError

    with pytest.raises(KeyError):
        failing()
    assert lib.is_grad_enabled()


def test_no_grad_decorator_is_reentrant():
    @ember.no_grad()
    def recurse(n):
        if n:
            recurse(n - 1)
        return ember.is_grad_enabled()

    assert recurse(3) is False
    assert ember.is_grad_enabled()


def _bare_decorators(lib):
    """What bare (parenthesis-free) decorators and generator functions see, as a tuple."""
    x = lib.ones(2, requires_grad=True)

    @lib.no_grad
    def without():
        return x * 2

    @lib.inference_mode
    def inference():
        return x * 2

    @lib.enable_grad
    def with_grad():
        return x * 2

    @lib.no_grad()
    def generate():
        yield (x * 2).requires_grad, lib.is_grad_enabled()
        yield (x * 3).requires_grad, lib.is_grad_enabled()

    with lib.no_grad():
        forced = with_grad().requires_grad
    # Between the generator's steps the caller's mode holds again.
    steps = [(inside, lib.is_grad_enabled()) for inside, _ in generate()]
    return (without().requires_grad, without.__name__, inference().requires_grad, forced, steps,
            lib.is_grad_enabled())


def test_bare_decorators_and_generators_match_torch():
    assert _bare_decorators(ember) == _bare_decorators(torch)
    assert _bare_decorators(ember)[0] is False


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_decorating_a_class_warns(lib):
    with pytest.warns(FutureWarning, match="Decorating classes is deprecated"):
        @lib.no_grad()
        class Model:
            pass


def _inference_states(lib):
    """is_inference_mode_enabled / is_grad_enabled through nested blocks and decorators."""
    seen = [lib.is_inference_mode_enabled()]
    with lib.inference_mode():
        seen.append(lib.is_inference_mode_enabled())
        with lib.inference_mode(mode=False):  # the keyword form
            seen.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
        with lib.no_grad():
            seen.append(lib.is_inference_mode_enabled())

    @lib.inference_mode
    def bare():
        return lib.is_inference_mode_enabled(), lib.is_grad_enabled()

    @lib.inference_mode(mode=False)
    def off():
        return lib.is_inference_mode_enabled(), lib.is_grad_enabled()

    return seen, bare(), off(), lib.is_inference_mode_enabled(), lib.is_grad_enabled()


def test_inference_mode_flag_and_keyword_match_torch():
    assert _inference_states(ember) == _inference_states(torch)
    assert _inference_states(ember)[0] == [False, True, (False, True), True]


def _generator_protocol(lib):
    """send, throw and close reach a decorated generator inside its mode, the caller's between."""

    @lib.no_grad()
    def gen():
        got = yield lib.is_grad_enabled()
        try:
            yield got, lib.is_grad_enabled()
        except KeyError:
            yield "caught", lib.is_grad_enabled()
        return "done"

    g = gen()
    steps = [next(g), g.send(5), lib.is_grad_enabled(), g.throw(KeyError("k"))]
    with pytest.raises(StopIteration) as stop:
        next(g)
    closing = gen()
    next(closing)
    closing.close()
    return steps, stop.value.value, lib.is_grad_enabled()


def test_generator_send_throw_close_match_torch():
    assert _generator_protocol(ember) == _generator_protocol(torch)


@pytest.mark.parametrize("mode", [1, None, "yes", lambda: None])
def test_set_grad_enabled_refuses_non_bools_as_torch(mode):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(TypeError) as error:
            lib.set_grad_enabled(mode)
        messages.append(str(error.value))
        assert lib.is_grad_enabled()
    assert messages[0] == messages[1]


# ---- inference tensors (NOTE [Inference tensors] in ember/_tensor.py) --------------------------
INFERENCE_USES = {
    "is_inference": lambda lib, i, n, a: (i.is_inference(), n.is_inference(),
                                          i.view(3).is_inference(), i.clone().is_inference(),
                                          lib.is_inference(i.detach()), (i * 2).is_inference()),
    "version": lambda lib, i, n, a: i._version,
    "saved_for_backward": lambda lib, i, n, a: (a * i).sum(),
    "not_saved": lambda lib, i, n, a: (a + i).requires_grad,
    "linear": lambda lib, i, n, a: lib.nn.functional.linear(
        i.view(1, 3), lib.ones(2, 3, requires_grad=True)),
    "in_place": lambda lib, i, n, a: i.add_(1),
    "requires_grad_": lambda lib, i, n, a: i.requires_grad_(),
    "clone_in_graph": lambda lib, i, n, a: (a * i.clone()).sum().item(),
}


@pytest.mark.parametrize("use", sorted(INFERENCE_USES))
def test_inference_tensors_outside_inference_mode(use):
    results = []
    for lib in (ember, torch):
        a, n = lib.ones(3, requires_grad=True), lib.ones(3)
        with lib.inference_mode():
            i = lib.ones(3) * 2
            assert not n.view(3).is_inference()  # a view of a normal tensor stays normal
            i.add_(1)  # allowed inside
        try:
            results.append(INFERENCE_USES[use](lib, i, n, a))
        except RuntimeError as error:
            results.append(str(error))
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["exp", "sum", "relu", "view", "y*2", "y+1", "y-w", "y*w",
                                  "z*w", "z+w"])
def test_ops_on_inference_tensors_record_only_with_a_normal_tensor(name):
    """Outside inference mode an op whose tensors are all inference tensors records nothing
    (even when one requires grad); with a normal tensor (a wrapped number counts) it records,
    and saving an inference tensor for backward then raises."""
    calls = {"exp": lambda y, z, w: y.exp(), "sum": lambda y, z, w: y.sum(),
             "relu": lambda y, z, w: y.relu(), "view": lambda y, z, w: y.view(3),
             "y*2": lambda y, z, w: y * 2, "y+1": lambda y, z, w: y + 1,
             "y-w": lambda y, z, w: y - w, "y*w": lambda y, z, w: y * w,
             "z*w": lambda y, z, w: z * w, "z+w": lambda y, z, w: z + w}
    seen = []
    for m in (ember, torch):
        with m.inference_mode():
            y, z = m.ones(3).requires_grad_(), m.ones(3)
        w = m.ones(3, requires_grad=True)
        try:
            r = calls[name](y, z, w)
            seen.append((r.requires_grad, r.grad_fn.name() if r.grad_fn else None,
                         r.is_inference()))
        except RuntimeError as error:
            seen.append(str(error))
    assert seen[0] == seen[1]
