"""Shared by the Transformer tests (test_transformer*.py): (ember, torch) module pairs with the
same random weights, input and mask rows, and the run-and-compare check (outputs, input
gradients, every parameter's gradient).

`RNG` is imported by each test module, so tests/conftest.py reseeds it per test.
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, copy_state, to_ember

RNG = np.random.default_rng(0)
D, HEADS, FF, N, L, S = 8, 2, 12, 3, 4, 5


def activation(lib, name):
    return {"relu": "relu", "gelu": "gelu", "fn_gelu": lib.nn.functional.gelu,
            "fn_silu": lib.nn.functional.silu, "module_gelu": lib.nn.GELU(),
            "module_relu": lib.nn.ReLU()}[name]


def build(lib, kind, options, dtype):
    options = dict(options)
    with_norm = options.pop("norm", True)
    if "activation" in options:
        options["activation"] = activation(lib, options["activation"])
    if kind in ("TransformerEncoder", "TransformerDecoder"):
        layer_kind = kind + "Layer"
        norm = lib.nn.LayerNorm(D) if with_norm else None
        extra = {"enable_nested_tensor": False} if kind == "TransformerEncoder" else {}
        layer = getattr(lib.nn, layer_kind)(D, HEADS, FF, dropout=0.0, **options)
        module = getattr(lib.nn, kind)(layer, 2, norm, **extra)
    elif kind == "Transformer":
        module = lib.nn.Transformer(D, HEADS, 2, 1, FF, dropout=0.0, **options)
    else:
        module = getattr(lib.nn, kind)(D, HEADS, FF, dropout=0.0, **options)
    return module.to(getattr(lib, np.dtype(dtype).name))


def pair(kind, options, dtype):
    """(ember, torch) modules with the same random weights (biases and norms too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = build(torch, kind, options, dtype)
        e = build(ember, kind, options, dtype)
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.tensor(RNG.standard_normal(tuple(p.shape)) * 0.4))
    copy_state(t, e)
    return e, t


def seq(batch_first, length, batched=True):
    if not batched:
        return (length, D)
    return (N, length, D) if batch_first else (length, N, D)


def masks(name, length, source):
    """Forward keyword arrays of mask row `name` (masks for queries of `length`, keys of
    `source`)."""
    kpm = RNG.random((N, source)) > 0.6
    kpm[:, 0] = False
    causal = np.triu(np.full((length, source), -np.inf), 1)
    return {
        "none": {},
        "float_mask": {"mask": RNG.standard_normal((length, source))},
        "bool_mask": {"mask": np.logical_and(RNG.random((length, source)) > 0.6,
                                             np.arange(source) > 0)},
        "causal": {"mask": causal, "is_causal": True},
        "causal_detected": {"mask": causal},
        "kpm": {"kpm": kpm},
        "kpm_float_mask": {"kpm": np.where(kpm, -np.inf, 0.0), "mask": causal},
    }[name]


def run_and_compare(e, t, inputs, kwargs, dtype):
    tol = 3e-5 if dtype == np.float32 else 1e-10
    e_in = [ember.tensor(a, requires_grad=True) for a in inputs]
    t_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e_out = e(*e_in, **to_ember(kwargs))
        t_out = t(*t_in, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                            for k, v in kwargs.items()})
    assert_same(e_out, t_out, tol, tol)
    gy = RNG.standard_normal(tuple(t_out.shape)).astype(dtype)
    e_out.backward(ember.tensor(gy))
    t_out.backward(torch.tensor(gy))
    for el, tl in zip(e_in, t_in):
        assert_same(el.grad, tl.grad, tol * 10, tol)
    t_params = dict(t.named_parameters())
    for name, p in e.named_parameters():
        assert_same(p.grad, t_params[name].grad, tol * 10, tol)


def cast(kwargs, dtype):
    return {k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
            for k, v in kwargs.items()}


LAYER_OPTIONS = {
    "default": {},
    "gelu": {"activation": "gelu"},
    "fn_silu": {"activation": "fn_silu"},
    "module_gelu": {"activation": "module_gelu"},
    "norm_first": {"norm_first": True},
    "batch_first": {"batch_first": True},
    "no_bias": {"bias": False},
    "eps": {"layer_norm_eps": 1e-2, "norm_first": True, "batch_first": True},
}
MASKS = ["none", "float_mask", "bool_mask", "causal", "causal_detected", "kpm", "kpm_float_mask"]


# A covering table: every options row with the richest mask row, every mask row with two
# option rows, in float64; float32 for the options rows.
ROWS = list(dict.fromkeys([(o, "kpm_float_mask") for o in LAYER_OPTIONS]
                          + [(o, m) for o in ("default", "batch_first") for m in MASKS]))
TABLE = ([pytest.param(o, m, np.float64, id=f"{o}-{m}-float64") for o, m in ROWS]
         + [pytest.param(o, "kpm_float_mask", np.float32, id=f"{o}-kpm_float_mask-float32")
            for o in LAYER_OPTIONS])
