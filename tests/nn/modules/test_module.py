"""nn.Module against torch.nn.Module: registration, iteration, state_dict, modes, conversion,
hooks, repr and the errors of each."""

import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, copy_state, error_of, to_ember


def _build(nn):
    """The same little model, built from either library's nn."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.scale = nn.Parameter(nn.init.ones_(nn.Parameter(_lib(nn).empty(3))))
            self.register_buffer("step", _lib(nn).zeros(1))
            self.register_buffer("cache", _lib(nn).zeros(2), persistent=False)

        def forward(self, x):
            return self.fc(x) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = nn.Sequential(nn.ReLU(), nn.Linear(3, 2, bias=False))
            self.shared = self.head  # the same child twice: iterated once

        def forward(self, x):
            return self.head(self.block(x))

    return Net()


def _lib(nn):
    return torch if nn is torch.nn else ember


def _pair():
    return _build(torch.nn), _build(ember.nn)


def _fashion_mnist(nn):
    class NeuralNetwork(nn.Module):
        def __init__(self):
            super(NeuralNetwork, self).__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                nn.Linear(512, 10))

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    return NeuralNetwork()


def _bn_model(nn):
    return nn.Sequential(OrderedDict([
        ("flat", nn.Flatten()), ("fc1", nn.Linear(12, 8)), ("bn", nn.BatchNorm1d(8)),
        ("act", nn.ReLU(inplace=True)), ("drop", nn.Dropout(0.25)),
        ("body", nn.ModuleList([nn.Linear(8, 8) for _ in range(3)] + [nn.Tanh()])),
        ("norms", nn.ModuleDict({"ln": nn.LayerNorm([2, 4]), "gn": nn.GroupNorm(2, 8)})),
        ("bn2", nn.BatchNorm2d(8, momentum=None, affine=False)),
        ("emb", nn.Embedding(10, 3, padding_idx=1)),
    ]))


@pytest.mark.parametrize("builder", [_build, _fashion_mnist, _bn_model])
def test_repr_and_names_match_torch(builder):
    t, e = builder(torch.nn), builder(ember.nn)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    shapes = [tuple(p.shape) for p in e.parameters()]
    assert shapes == [tuple(p.shape) for p in t.parameters()]


def test_seed_fashion_mnist_repr():
    expected = (
        "NeuralNetwork(\n  (flatten): Flatten(start_dim=1, end_dim=-1)\n"
        "  (linear_relu_stack): Sequential(\n"
        "    (0): Linear(in_features=784, out_features=512, bias=True)\n    (1): ReLU()\n"
        "    (2): Linear(in_features=512, out_features=512, bias=True)\n    (3): ReLU()\n"
        "    (4): Linear(in_features=512, out_features=10, bias=True)\n  )\n)")
    assert repr(_fashion_mnist(ember.nn)) == expected


def test_iteration_options_match_torch():
    t, e = _pair()
    for kwargs in ({"recurse": False}, {"prefix": "m"}, {"remove_duplicate": False}):
        assert ([n for n, _ in e.named_parameters(**kwargs)]
                == [n for n, _ in t.named_parameters(**kwargs)])
        assert ([n for n, _ in e.named_buffers(**kwargs)]
                == [n for n, _ in t.named_buffers(**kwargs)])
    assert ([n for n, _ in e.named_modules(remove_duplicate=False)]
            == [n for n, _ in t.named_modules(remove_duplicate=False)])
    assert len(list(e.children())) == len(list(t.children()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert all(isinstance(p, ember.nn.Parameter) for p in e.parameters())


def _shared(nn):
    layer = nn.Linear(2, 2)
    return nn.Sequential(layer, layer, nn.BatchNorm1d(2))


def test_duplicate_and_memo_options_match_torch():
    ours, theirs = _shared(ember.nn), _shared(torch.nn)
    for flag in (True, False):
        assert ([type(m).__name__ for m in ours.modules(remove_duplicate=flag)]
                == [type(m).__name__ for m in theirs.modules(remove_duplicate=flag)])
        assert ([n for n, _ in ours.named_parameters("p", False, flag)]
                == [n for n, _ in theirs.named_parameters("p", False, flag)])
        assert ([n for n, _ in ours.named_buffers("p", True, flag)]
                == [n for n, _ in theirs.named_buffers("p", True, flag)])
        # a module already in memo is skipped even when duplicates are kept
        assert (list(ours.named_modules(memo={ours}, remove_duplicate=flag))
                == list(theirs.named_modules(memo={theirs}, remove_duplicate=flag)) == [])
    assert len(list(ours.parameters(recurse=False))) == len(list(theirs.parameters(False)))
    assert len(list(ours.buffers(recurse=True))) == len(list(theirs.buffers(True)))


def test_bfloat16_and_to_empty_match_torch():
    for lib in (ember, torch):
        net = _shared(lib.nn)
        weight = net[0].weight
        assert net.bfloat16() is net and net[0].weight is weight
        assert str(weight.dtype) == str(net[2].running_mean.dtype) == "torch.bfloat16"
        assert str(net[2].num_batches_tracked.dtype) == "torch.int64"
        assert net.to_empty(device="cpu", recurse=False) is net
        assert net.to_empty(device=None) is net and net[0].weight is weight
        assert tuple(weight.shape) == (2, 2) and str(weight.dtype) == "torch.bfloat16"
        with pytest.raises(TypeError):
            net.to_empty("cpu")
        with pytest.raises(TypeError):
            net.to_empty()


def test_state_dict_values_and_load_roundtrip():
    t, e = _pair()
    result = copy_state(t, e)
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, value), (t_name, t_value) in zip(e.state_dict().items(),
                                                t.state_dict().items()):
        assert name == t_name
        assert not value.requires_grad
        assert_same(value, t_value)
    kept = e.state_dict(keep_vars=True)
    assert kept["block.fc.weight"] is e.block.fc.weight
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))


def _load_error(module, state, **kwargs):
    with pytest.raises(Exception) as info:
        module.load_state_dict(state, **kwargs)
    return info.type, str(info.value)


def test_load_state_dict_errors_match_torch():
    t, e = _pair()
    t_state = dict(t.state_dict())
    e_state = dict(e.state_dict())
    for state_t, state_e in (
        ({k: v for k, v in t_state.items() if k != "block.fc.bias"},
         {k: v for k, v in e_state.items() if k != "block.fc.bias"}),
        ({**t_state, "extra": torch.zeros(1), "block.other.w": torch.zeros(1)},
         {**e_state, "extra": ember.zeros(1), "block.other.w": ember.zeros(1)}),
        ({**t_state, "block.fc.weight": torch.zeros(2, 2)},
         {**e_state, "block.fc.weight": ember.zeros(2, 2)}),
        ({k: v for k, v in t_state.items() if k != "head.1.weight"} | {"x": torch.zeros(1)},
         {k: v for k, v in e_state.items() if k != "head.1.weight"} | {"x": ember.zeros(1)}),
    ):
        assert _load_error(e, state_e) == _load_error(t, state_t)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        e.load_state_dict([1, 2])


def test_load_state_dict_non_strict_returns_keys():
    t, e = _pair()
    t_state = {k: v for k, v in t.state_dict().items() if k != "block.step"}
    t_state["bogus"] = torch.zeros(1)
    e_state = {k: to_ember(v) for k, v in t_state.items()}
    t_result = t.load_state_dict(t_state, strict=False)
    e_result = e.load_state_dict(e_state, strict=False)
    assert e_result.missing_keys == t_result.missing_keys
    assert e_result.unexpected_keys == t_result.unexpected_keys
    assert repr(e_result) == repr(t_result)
    assert_same(e.block.fc.weight, t.block.fc.weight)


def test_load_state_dict_assign_and_in_place():
    e = ember.nn.Linear(2, 3)
    weight = e.weight
    new = ember.ones(3, 2)
    e.load_state_dict({"weight": new, "bias": ember.zeros(3)})
    assert e.weight is weight and float(e.weight.sum()) == 6.0
    e.load_state_dict({"weight": new, "bias": ember.zeros(3)}, assign=True)
    assert isinstance(e.weight, ember.nn.Parameter) and e.weight.requires_grad
    assert e.weight is not weight


def test_load_from_state_dict_override_with_torchs_signature():
    # torchvision's FrozenBatchNorm2d overrides it with PyTorch's 7 arguments; assign travels
    # in local_metadata["assign_to_params_buffers"]
    seen = []
    for nn in (torch.nn, ember.nn):
        class Dropping(nn.Linear):
            def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs):
                seen.append(local_metadata.get("assign_to_params_buffers"))
                state_dict.pop(prefix + "extra", None)
                super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                              missing_keys, unexpected_keys, error_msgs)

        m = Dropping(2, 3)
        state = dict(m.state_dict(), extra=m.weight.detach())
        assert repr(m.load_state_dict(state)) == "<All keys matched successfully>"
        old = m.weight
        m.load_state_dict(m.state_dict(), assign=True)
        assert m.weight is not old
    assert seen == [None, True, None, True]


def test_load_state_dict_children_see_parent_key_migrations_and_post_hook_order():
    # torchvision's MLPBlock renames 'linear_1.*' to '0.*' for its child Linear: children load
    # from the parent's (rewritten) dict; post hooks run after the children (post-order)
    results = []
    for nn in (torch.nn, ember.nn):
        class Migrating(nn.Sequential):
            def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs):
                for kind in ("weight", "bias"):
                    old = f"{prefix}linear_1.{kind}"
                    if old in state_dict:
                        state_dict[f"{prefix}0.{kind}"] = state_dict.pop(old)
                super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                              missing_keys, unexpected_keys, error_msgs)

        outer = nn.Sequential(Migrating(nn.Linear(2, 2)), nn.Linear(2, 1))
        seen = []
        outer[0].register_load_state_dict_post_hook(
            lambda m, keys: seen.append(("inner", sorted(keys.missing_keys))))
        outer.register_load_state_dict_post_hook(
            lambda m, keys: seen.append(("outer", sorted(keys.missing_keys))))
        state = {"0.linear_1.weight": outer[0][0].weight.detach() * 0 + 3,
                 "0.linear_1.bias": outer[0][0].bias.detach() * 0,
                 "1.weight": outer[1].weight.detach()}
        result = outer.load_state_dict(state, strict=False)
        results.append((repr(result), seen, float(outer[0][0].weight.detach().sum())))
    assert results[1] == results[0]
    assert results[0][1] == [("inner", []), ("outer", ["1.bias"])]


def test_batchnorm_state_without_num_batches_tracked_loads():
    for nn in (torch.nn, ember.nn):
        m = nn.BatchNorm1d(3)
        state = {k: v for k, v in m.state_dict().items() if k != "num_batches_tracked"}
        assert repr(m.load_state_dict(state)) == "<All keys matched successfully>"


def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the type is compared too
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("action", [
    lambda nn, lib, m: setattr(m, "fc", lib.zeros(2)),
    lambda nn, lib, m: setattr(m.fc, "weight", lib.zeros(2)),
    lambda nn, lib, m: setattr(m.fc, "weight", 3),
    lambda nn, lib, m: setattr(m, "buf", "text"),
    lambda nn, lib, m: m.register_buffer("a.b", lib.zeros(1)),
    lambda nn, lib, m: m.register_buffer("", lib.zeros(1)),
    lambda nn, lib, m: m.register_buffer(3, lib.zeros(1)),
    lambda nn, lib, m: m.register_buffer("fc", lib.zeros(1)),
    lambda nn, lib, m: m.register_buffer("x", [1]),
    lambda nn, lib, m: m.register_parameter("x", lib.zeros(1)),
    lambda nn, lib, m: m.register_parameter("a.b", None),
    lambda nn, lib, m: m.register_parameter("training", None),
    lambda nn, lib, m: m.add_module("bad", 3),
    lambda nn, lib, m: m.add_module("a.b", nn.ReLU()),
    lambda nn, lib, m: m.add_module("", nn.ReLU()),
    lambda nn, lib, m: m.add_module(1, nn.ReLU()),
    lambda nn, lib, m: m.add_module("buf", nn.ReLU()),
    lambda nn, lib, m: m.missing_attribute,
    lambda nn, lib, m: m.get_submodule("fc.weight"),
    lambda nn, lib, m: m.get_submodule("nothing"),
    lambda nn, lib, m: m.get_parameter("fc.nothing"),
    lambda nn, lib, m: m.get_buffer("fc.weight"),
    lambda nn, lib, m: m.train("yes"),
    lambda nn, lib, m: m.to(lib.int64),
    lambda nn, lib, m: nn.Module(3),
    lambda nn, lib, m: nn.Module(x=3),
    lambda nn, lib, m: nn.Module()(1),
])
def test_errors_match_torch(action):
    def run(nn, lib):
        m = nn.Module()
        m.fc = nn.Linear(2, 2)
        m.register_buffer("buf", lib.zeros(2))
        return _error(lambda: action(nn, lib, m))

    expected = run(torch.nn, torch)
    assert expected is not None
    assert run(ember.nn, ember) == expected


def test_assignment_before_init_raises_like_torch():
    for nn, lib in ((torch.nn, torch), (ember.nn, ember)):
        class Early(nn.Module):
            def __init__(self, what):
                if what == "param":
                    self.p = nn.Parameter(lib.zeros(1))
                else:
                    self.m = nn.ReLU()
                super().__init__()

        with pytest.raises(AttributeError, match="before Module.__init__"):
            Early("param")
        with pytest.raises(AttributeError, match="before Module.__init__"):
            Early("module")


def test_attribute_rules():
    m = ember.nn.Module()
    m.w = ember.nn.Parameter(ember.zeros(2))
    m.w = None  # a parameter slot can be cleared
    assert "w" in m._parameters and m.w is None
    assert list(m.parameters()) == []
    m.register_buffer("b", ember.ones(2))
    m.b = ember.zeros(3)  # assigning a tensor to a buffer name keeps it a buffer
    assert m._buffers["b"].shape == (3,)
    m.child = ember.nn.ReLU()
    m.child = None
    assert m._modules["child"] is None
    m.child = ember.nn.Tanh()
    del m.child, m.b
    assert "child" not in m._modules and "b" not in m._buffers
    m.plain = 3
    del m.plain
    assert not hasattr(m, "plain")
    m.x = ember.nn.Buffer(ember.ones(2), persistent=False)
    assert "x" in m._buffers and "x" not in m.state_dict()
    assert type(m.x) is ember.Tensor
    m.p = ember.nn.Parameter(ember.ones(1))
    with pytest.raises(TypeError, match="as parameter 'p'"):  # as in PyTorch
        m.p = ember.nn.ReLU()
    m.q = ember.nn.ReLU()
    m.q = ember.nn.Parameter(ember.ones(1))  # a parameter replaces a module of the same name
    assert "q" in m._parameters and "q" not in m._modules


def test_dir_lists_members():
    e = _build(ember.nn)
    names = dir(e)
    for name in ("block", "head", "forward", "state_dict", "training"):
        assert name in names
    assert "scale" in dir(e.block) and "step" in dir(e.block)
    assert "0" not in dir(e.head)


def test_train_eval_and_requires_grad():
    t, e = _pair()
    assert e.training
    assert e.eval() is e
    assert not any(m.training for m in e.modules())
    e.train()
    assert all(m.training for m in e.modules())
    e.head.train(False)
    assert [m.training for m in e.modules()] == [m.training for m in t.head.train(False) and
                                                 t.modules()]
    e.requires_grad_(False)
    assert not any(p.requires_grad for p in e.parameters())
    assert e.requires_grad_() is e and all(p.requires_grad for p in e.parameters())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    e = ember.nn.Linear(3, 2)
    e(ember.ones(4, 3)).sum().backward()
    e.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert e.weight.grad is None and e.bias.grad is None
    else:
        assert float(e.weight.grad.abs().sum()) == 0.0 and e.bias.grad.shape == (2,)


def test_to_and_dtype_conversion():
    e = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.BatchNorm1d(2))
    weight = e[0].weight
    assert e.double() is e
    assert e[0].weight is weight and weight.dtype is ember.float64
    assert e[1].running_mean.dtype is ember.float64
    assert e[1].num_batches_tracked.dtype is ember.int64
    e.to(ember.float32)
    assert weight.dtype is ember.float32
    e.to("cpu")
    e.to(ember.device("cpu"), dtype=ember.float16)
    assert weight.dtype is ember.float16
    e.float().cpu()
    assert weight.dtype is ember.float32
    assert e(ember.ones(3, 2)).dtype is ember.float32
    with pytest.raises(AssertionError, match="CUDA"):
        e.cuda()
    with pytest.raises(AssertionError, match="CUDA"):
        e.to("cuda")


def test_to_memory_format_lays_out_4d_and_5d_tensors():
    """Module.to(memory_format=...) restrides only the 4-D/5-D parameters and buffers (with a
    dtype too: the floating ones cast); a 5-D one refuses channels_last, as in torch."""
    def strides(lib, **kwargs):
        m = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4), lib.nn.Linear(2, 2))
        m.register_buffer("mask", lib.ones(2, 3, 2, 2, dtype=lib.int64))
        m = m.to(memory_format=lib.channels_last, **kwargs)
        return [(tuple(t.shape), t.stride(), str(t.dtype).split(".")[1])
                for t in [*m.parameters(), *m.buffers()]]
    assert strides(ember) == strides(torch)
    assert strides(ember, dtype=ember.float64) == strides(torch, dtype=torch.float64)
    errors = [error_of(lambda lib=lib: lib.nn.Conv3d(1, 1, 1).to(
        memory_format=lib.channels_last)) for lib in (ember, torch)]
    assert str(errors[0]) == str(errors[1])


def test_apply_visits_children_first():
    seen = []
    e = _build(ember.nn)
    assert e.apply(lambda m: seen.append(type(m).__name__)) is e
    t_seen = []
    _build(torch.nn).apply(lambda m: t_seen.append(type(m).__name__))
    assert seen == t_seen


def test_forward_hooks_match_torch():
    results = []
    for nn, lib in ((torch.nn, torch), (ember.nn, ember)):
        m = nn.Linear(2, 2)
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
        calls = []
        h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
        h3 = m.register_forward_hook(lambda mod, args, out: calls.append("first"),
                                     prepend=True)
        h4 = m.register_forward_pre_hook(
            lambda mod, args, kwargs: (args, kwargs), with_kwargs=True)
        out1 = m(lib.ones(1, 2)).detach().numpy().copy()
        for h in (h1, h2, h3, h4):
            h.remove()
        out2 = m(lib.ones(1, 2)).detach().numpy().copy()
        results.append((out1, out2, calls))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert results[0][2] == results[1][2] == ["first"]


def test_full_backward_hooks_match_torch():
    results = []
    for nn, lib in ((torch.nn, torch), (ember.nn, ember)):
        m = nn.Linear(3, 2)
        nn.init.constant_(m.weight, 0.5)
        seen = {}

        def hook(mod, grad_input, grad_output):
            seen["in"] = [g.numpy().copy() if g is not None else None for g in grad_input]
            seen["out"] = [g.numpy().copy() for g in grad_output]
            return (grad_input[0] * 10,)

        def pre_hook(mod, grad_output):
            return (grad_output[0] * 2,)

        m.register_full_backward_hook(hook)
        m.register_full_backward_pre_hook(pre_hook)
        x = lib.ones(4, 3, requires_grad=True)
        m(x).sum().backward()
        results.append((seen, x.grad.numpy().copy()))
    (t_seen, t_grad), (e_seen, e_grad) = results
    np.testing.assert_allclose(e_seen["out"][0], t_seen["out"][0])
    np.testing.assert_allclose(e_seen["in"][0], t_seen["in"][0])
    np.testing.assert_allclose(e_grad, t_grad)


def test_call_without_hooks_is_forward():
    m = ember.nn.Tanh()
    x = ember.ones(2)
    assert np.array_equal(m(x).numpy(), m.forward(x).numpy())
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        ember.nn.Module()(x)


def test_extra_repr_multiline_and_nested():
    for nn in (torch.nn, ember.nn):
        class Custom(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = nn.Sequential(nn.Identity(), nn.Sigmoid())

            def extra_repr(self):
                return "a=1\nb=2"

        nn.custom_repr = repr(Custom())
    assert ember.nn.custom_repr == torch.nn.custom_repr
    del ember.nn.custom_repr, torch.nn.custom_repr


def test_parameter_repr_and_behaviour():
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == repr(tp)
    assert p.requires_grad and p.is_leaf
    frozen = ember.nn.Parameter(ember.zeros(2), requires_grad=False)
    assert repr(frozen) == repr(torch.nn.Parameter(torch.zeros(2), requires_grad=False))
    assert ember.nn.Parameter().shape == (0,)
    import copy
    import pickle

    clone = copy.deepcopy(p)
    assert isinstance(clone, ember.nn.Parameter) and clone is not p
    assert np.array_equal(clone.detach().numpy(), p.detach().numpy())
    restored = pickle.loads(pickle.dumps(p))
    assert isinstance(restored, ember.nn.Parameter) and restored.requires_grad


def test_deepcopy_module_is_independent():
    import copy

    e = _build(ember.nn)
    c = copy.deepcopy(e)
    assert repr(c) == repr(e)
    ember.nn.init.zeros_(c.block.fc.weight)
    assert float(e.block.fc.weight.abs().sum()) > 0
    assert c.head is c.shared


def test_set_submodule_and_state_dict_hooks():
    for nn in (torch.nn, ember.nn):
        m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
        m.set_submodule("1.0", nn.Tanh())
        assert type(m[1][0]).__name__ == "Tanh"
        with pytest.raises(AttributeError, match="is not an nn.Module"):
            m.set_submodule("0.weight", nn.ReLU())
        seen = []
        m.register_load_state_dict_pre_hook(lambda mod, sd, prefix, *rest: seen.append(prefix))
        m.register_load_state_dict_post_hook(lambda mod, keys: seen.append("post"))
        m.load_state_dict(m.state_dict())
        assert seen == ["", "post"]


def test_old_style_backward_hook_runs():
    m = ember.nn.Linear(3, 2)
    seen = []
    m.register_backward_hook(lambda mod, gi, go: seen.append(len(go)))
    with pytest.warns(FutureWarning, match="contains multiple autograd Nodes"):
        m(ember.ones(2, 3, requires_grad=True)).sum().backward()
    assert seen == [1]
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
        m.register_full_backward_hook(lambda *a: None)


def test_always_call_forward_hook_runs_when_forward_raises():
    for nn, lib in ((torch.nn, torch), (ember.nn, ember)):
        m = nn.Linear(3, 2)
        seen = []
        m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
        m.register_forward_hook(lambda mod, args, out: seen.append("normal"))
        with pytest.raises(RuntimeError):
            m(lib.ones(2, 4))
        assert seen == [None]
        kw = []
        m.register_forward_hook(lambda mod, args, kwargs, out: kw.append(sorted(kwargs)),
                                with_kwargs=True)
        m(input=lib.ones(1, 3))
        assert kw == [["input"]]


OLD_HOOK_CASES = [
    (lambda nn: nn.Linear(3, 2), (4, 3), True), (lambda nn: nn.Linear(3, 2), (4, 3), False),
    (lambda nn: nn.Linear(3, 2, bias=False), (4, 3), True),
    (lambda nn: nn.Linear(3, 2), (5, 4, 3), True), (lambda nn: nn.Linear(3, 2), (3,), True),
    (lambda nn: nn.Conv2d(2, 3, 2), (1, 2, 4, 4), True),
    (lambda nn: nn.Conv2d(2, 3, 2, bias=False), (1, 2, 4, 4), True),
    (lambda nn: nn.Conv2d(2, 3, 2), (1, 2, 4, 4), False),
    (lambda nn: nn.Conv1d(2, 3, 2), (1, 2, 4), True), (lambda nn: nn.ReLU(), (2, 3), True),
    (lambda nn: nn.Sequential(nn.ReLU(), nn.Linear(3, 3)), (2, 3), True)]


def _old_hook_run(lib, make, shape, requires_grad, nonleaf=False):
    lib.manual_seed(0)
    module, seen = make(lib.nn), []
    module.register_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    x = lib.randn(*shape, requires_grad=requires_grad)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module(x * 2 if nonleaf else x).sum().backward()
    return seen, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("make, shape, requires_grad", OLD_HOOK_CASES)
def test_old_style_backward_hook_grads_and_warnings_match_torch(make, shape, requires_grad):
    (ours, our_warnings), (theirs, their_warnings) = (
        _old_hook_run(lib, make, shape, requires_grad) for lib in (ember, torch))
    assert our_warnings == their_warnings
    assert len(ours) == len(theirs) == 1
    for e, t in zip(ours[0], theirs[0]):
        assert len(e) == len(t)
        for ge, gt in zip(e, t):
            assert (ge is None) == (gt is None)
            if gt is not None:
                assert_same(ge, gt)


def test_old_style_backward_hook_single_node_is_silent_like_torch():
    make = lambda nn: nn.ReLU()  # noqa: E731
    for lib in (ember, torch):
        seen, caught = _old_hook_run(lib, make, (2, 3), True, nonleaf=True)
        assert caught == [] and len(seen) == 1


def test_full_backward_hook_without_input_grads_warns_like_torch():
    for lib in (ember, torch):
        lin = lib.nn.Linear(3, 2)
        seen = []
        lin.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
        with pytest.warns(UserWarning, match=r"Full backward hook is firing when gradients are "
                          r"computed with respect to module outputs since no inputs require "
                          r"gradients\. See https://docs\.pytorch\.org/docs/main/generated/"
                          r"torch\.nn\.Module\.html#torch\.nn\.Module\."
                          r"register_full_backward_hook for more details\."):
            lin(lib.randn(4, 3)).sum().backward()
        assert seen == [(None,)]
        lin.register_full_backward_hook(lambda m, gi, go: (lib.ones(4, 3),))
        with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="should always "
                                                      "return None or None for all gradients"):
            lin(lib.randn(4, 3)).sum().backward()


@pytest.mark.parametrize("data", [[1.0, 2.0], 3.0, "a"])
def test_parameter_of_what_is_not_a_tensor_raises_torchs_error(data):
    """torch's Parameter calls data.detach(): an AttributeError naming the type."""
    expected = error_of(lambda: torch.nn.Parameter(data))
    raised = error_of(lambda: ember.nn.Parameter(data))
    assert (type(raised), str(raised)) == (type(expected), str(expected))


def test_buffer_is_a_marked_plain_tensor_as_torch():
    """nn.Buffer(t) is a plain tensor (t detached) marked as a buffer: it prints as a tensor,
    isinstance(., Buffer) holds for it and for the module attribute it becomes."""
    results = []
    for lib in (ember, torch):
        t = lib.ones(2)
        b = lib.nn.Buffer(t)
        m = lib.nn.Module()
        m.y = b
        m.register_buffer("z", lib.nn.Buffer(lib.zeros(1)), persistent=False)
        r = lib.nn.Buffer(lib.ones(2, requires_grad=True))
        results.append((type(b) is lib.Tensor, repr(b), isinstance(b, lib.nn.Buffer), b is t,
                        b.persistent, isinstance(t, lib.nn.Buffer), m.y is b,
                        isinstance(m.z, lib.nn.Buffer), list(m.state_dict()), repr(r),
                        r.is_leaf, repr(lib.nn.Buffer()), isinstance(b * 2, lib.nn.Buffer)))
    assert results[0] == results[1]


def test_tensors_take_attributes_as_torch():
    """A tensor takes attributes (`t.name = ...`), kept by deepcopy."""
    import copy
    for lib in (ember, torch):
        t = lib.ones(2)
        t.tag = "weights"
        assert (t.tag, copy.deepcopy(t).tag, t.clone().__dict__) == ("weights", "weights", {})
