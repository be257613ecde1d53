"""PyTorch's own module_db entries (torch.testing._internal.common_modules) for Transformer,
TransformerEncoder, TransformerEncoderLayer and TransformerDecoderLayer, run in ember (shared by
test_transformer_module_db*.py): each module is built from the entry's constructor input (torch
layers and activations become ember's), loaded with torch's state_dict, and compared on the
entry's forward input: repr, state_dict keys, output, input gradients and every parameter's
gradient. Entries that repeat one another are run once; dtypes alternate between float32 and
float64 from entry to entry."""

import functools
import warnings

import pytest
import torch
from torch.testing._internal.common_modules import module_db

import ember
from tests.differential import assert_same, copy_state, to_ember


def _ember_layer(layer):
    """The ember twin of a torch TransformerEncoderLayer / DecoderLayer (same options)."""
    kwargs = {"dim_feedforward": layer.linear1.out_features, "dropout": layer.dropout.p,
              "activation": _ember_arg(layer.activation), "layer_norm_eps": layer.norm1.eps,
              "batch_first": layer.self_attn.batch_first, "norm_first": layer.norm_first,
              "bias": layer.linear1.bias is not None}
    kind = type(layer).__name__
    return getattr(ember.nn, kind)(layer.self_attn.embed_dim, layer.self_attn.num_heads,
                                   **kwargs)


def _ember_arg(value):
    """A constructor argument for ember: torch layers and activations become ember's."""
    if isinstance(value, (torch.nn.TransformerEncoderLayer, torch.nn.TransformerDecoderLayer)):
        return _ember_layer(value)
    if isinstance(value, torch.nn.Module):
        return getattr(ember.nn, type(value).__name__)()
    name = getattr(value, "__name__", None)
    if callable(value) and getattr(torch.nn.functional, str(name), None) is value:
        return getattr(ember.nn.functional, name)
    return value


def _entry_key(item):
    """What makes an entry distinct: its constructor and its forward inputs' shapes."""
    def describe(value):
        return tuple(value.shape) if isinstance(value, torch.Tensor) else repr(value)
    ctor, forward = item.constructor_input, item.forward_input
    return (repr(ctor.args), repr(sorted(ctor.kwargs.items(), key=str)),
            tuple(describe(a) for a in forward.args),
            tuple(sorted((k, describe(v)) for k, v in forward.kwargs.items())))


def module_db_cases(names):
    """pytest params (info, index, dtype) of the distinct entries of the named modules."""
    cases = []
    for info in module_db:
        name = info.module_cls.__name__
        if name not in names:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            items = info.module_inputs_func(info, device="cpu", dtype=torch.float64,
                                            requires_grad=True, training=True)
        seen = set()
        for i, item in enumerate(items):
            key = _entry_key(item)
            if key in seen:
                continue
            seen.add(key)
            dtype = (torch.float64, torch.float32)[len(seen) % 2]
            cases.append(pytest.param(info, i, dtype, id=f"{name}-{dtype}-{i}-{item.desc}"))
    return cases


@functools.lru_cache(maxsize=None)
def _entries(info, dtype):
    """info's module inputs made in dtype (made once per module and dtype)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return info.module_inputs_func(info, device="cpu", dtype=dtype, requires_grad=True,
                                       training=True)


def _entry(info, index, dtype):
    """Entry `index` of info's module inputs, made in dtype."""
    return _entries(info, dtype)[index]


def check_entry(info, index, dtype):
    """Build, load and run entry `index` of info in both libraries; compare everything."""
    cls, item = info.module_cls, _entry(info, index, dtype)
    ctor = item.constructor_input
    e_args = [_ember_arg(a) for a in ctor.args]
    e_kwargs = {k: _ember_arg(v) for k, v in ctor.kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = cls(*ctor.args, **ctor.kwargs).to(dtype)
        e = getattr(ember.nn, cls.__name__)(*e_args, **e_kwargs).to(to_ember(dtype))
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    copy_state(t, e)
    t_args, t_kwargs = item.forward_input.args, item.forward_input.kwargs
    e_args, e_kwargs = to_ember(t_args), to_ember(t_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = t(*t_args, **t_kwargs)
        e_out = e(*e_args, **e_kwargs)
    tol = 2e-5 if dtype == torch.float32 else 1e-10
    assert_same(e_out, t_out, tol, tol)
    t_out.sum().backward()
    e_out.sum().backward()
    for ea, ta in zip(e_args, t_args):
        if isinstance(ta, torch.Tensor) and ta.is_leaf and ta.grad is not None:
            assert_same(ea.grad, ta.grad, tol * 20, tol * 5)
    t_params = dict(t.named_parameters())
    for name, p in e.named_parameters():
        if t_params[name].grad is not None:
            assert_same(p.grad, t_params[name].grad, tol * 20, tol * 5)
