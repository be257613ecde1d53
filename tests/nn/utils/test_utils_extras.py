"""torch.nn.utils' smaller helpers against torch: get_total_norm, clip_grads_with_norm_,
skip_init, convert_conv2d/3d_weight_memory_format and the fusion names."""

import numpy as np
import pytest
import torch

import ember


def _tensors(lib, scale=1.0):
    rng = np.random.default_rng(0)
    return [lib.tensor(rng.normal(size=s).astype("float32") * scale) for s in ((3, 2), (4,), ())]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), 0.5])
def test_get_total_norm_matches_torch(norm_type):
    ours = ember.nn.utils.get_total_norm(_tensors(ember), norm_type)
    theirs = torch.nn.utils.get_total_norm(_tensors(torch), norm_type)
    assert str(ours.dtype) == str(theirs.dtype) and ours.shape == theirs.shape
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6)
    single = ember.nn.utils.get_total_norm(_tensors(ember)[0], norm_type)
    np.testing.assert_allclose(single.item(), torch.nn.utils.get_total_norm(
        _tensors(torch)[0], norm_type).item(), rtol=1e-6)


def test_get_total_norm_nonfinite_raises_like_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="non-finite"):
            lib.nn.utils.get_total_norm([lib.tensor([float("inf")])], error_if_nonfinite=True)
    assert ember.nn.utils.get_total_norm([]).item() == torch.nn.utils.get_total_norm([]).item()


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grads_with_norm_matches_torch(max_norm):
    grads = {}
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.zeros(t.shape)) for t in _tensors(lib)]
        for p, g in zip(params, _tensors(lib, 3.0)):
            p.grad = g
        total = lib.nn.utils.get_total_norm([p.grad for p in params])
        assert lib.nn.utils.clip_grads_with_norm_(params, max_norm, total) is None
        grads[lib.__name__] = [p.grad.numpy() for p in params]
    for e, t in zip(grads["ember"], grads["torch"]):
        np.testing.assert_allclose(e, t, rtol=1e-6)


def test_skip_init_builds_without_drawing_random_numbers():
    results = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        module = lib.nn.utils.skip_init(lib.nn.Linear, 5, 2, bias=True)
        after = lib.rand(4).numpy()  # the stream is where it was: skip_init drew nothing
        results.append((type(module).__name__, tuple(module.weight.shape),
                        str(module.weight.dtype), module.weight.requires_grad, after))
    assert results[0][:4] == results[1][:4]
    np.testing.assert_array_equal(results[0][4], results[1][4])


def test_skip_init_errors_match_torch():
    class NoDevice(torch.nn.Module):
        pass

    class EmberNoDevice(ember.nn.Module):
        pass

    for lib, no_device in ((ember, EmberNoDevice), (torch, NoDevice)):
        with pytest.raises(RuntimeError, match="Expected a Module"):
            lib.nn.utils.skip_init(int)
        with pytest.raises(RuntimeError, match="must support a 'device' arg"):
            lib.nn.utils.skip_init(no_device)


@pytest.mark.parametrize("dims", [2, 3])
def test_convert_conv_weight_memory_format_matches_torch(dims):
    outputs, layouts = [], []
    x = np.random.default_rng(1).normal(size=(1, 2) + (5,) * dims).astype("float32")
    for lib in (ember, torch):
        lib.manual_seed(0)
        conv = getattr(lib.nn, f"Conv{dims}d")
        transpose = getattr(lib.nn, f"ConvTranspose{dims}d")
        model = lib.nn.Sequential(conv(2, 3, 3), lib.nn.ReLU(), transpose(3, 2, 3))
        fmt = lib.channels_last if dims == 2 else lib.channels_last_3d
        convert = getattr(lib.nn.utils, f"convert_conv{dims}d_weight_memory_format")
        assert convert(model, fmt) is model
        layouts.append([model[i].weight.is_contiguous(memory_format=fmt) for i in (0, 2)])
        outputs.append(model(lib.tensor(x)).detach().numpy())
    assert layouts[0] == layouts[1] == [True, True]
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)


def test_public_names_match_torch():
    for name in torch.nn.utils.__all__:
        assert hasattr(ember.nn.utils, name), name


STRUCTURED = {"random": lambda lib, m, amount, dim: lib.nn.utils.prune.random_structured(
    m, "weight", amount=amount, dim=dim),
              "ln": lambda lib, m, amount, dim: lib.nn.utils.prune.ln_structured(
    m, "weight", amount=amount, n=2, dim=dim)}


@pytest.mark.parametrize("method", list(STRUCTURED))
@pytest.mark.parametrize("amount,dim", [(1, 0), (0.5, 1), (2, -1), (0, 0), (1, -1)])
def test_structured_pruning_twice_matches_torch(method, amount, dim):
    """The second pruning chooses among the slices the first kept (torch's container)."""
    import torch.nn.utils.prune  # noqa: F401

    masks = []
    for lib in (ember, torch):
        lib.manual_seed(7)
        conv = lib.nn.Conv2d(2, 4, 3)
        STRUCTURED[method](lib, conv, amount, dim)
        try:
            STRUCTURED[method](lib, conv, amount, dim)
        except ValueError as error:  # more slices asked than are left unpruned
            masks.append((None, str(error)))
            continue
        masks.append((conv.weight_mask.numpy().copy(), sorted(conv.state_dict()),
                       type(conv._forward_pre_hooks[next(iter(conv._forward_pre_hooks))])
                       .__name__))
    assert masks[0][1:] == masks[1][1:]
    if masks[1][0] is not None:
        np.testing.assert_array_equal(masks[0][0], masks[1][0])


def test_stateless_functional_call_warns_as_deprecated():
    import warnings
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        module = lib.nn.Linear(3, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = lib.nn.utils.stateless.functional_call(module, {"bias": lib.ones(2)},
                                                       lib.ones(1, 3))
        results.append((y.detach().numpy(), [(w.category, str(w.message), w.filename)
                                              for w in caught]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-6)
    assert results[1][1] == results[0][1]
