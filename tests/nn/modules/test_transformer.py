"""ember/nn/modules/transformer.py against torch, part 1: TransformerEncoderLayer,
TransformerEncoder and Transformer over a covering table of constructor options (activation as a
string, a function or a module; norm_first; batch_first; bias; layer_norm_eps) and masks
(attention masks, key padding masks, causal masks and is_causal): outputs, input gradients and
every parameter's gradient; unbatched inputs; eval mode without gradients (PyTorch's fast paths,
including the nested-tensor zeros); reprs, state_dict keys, generate_square_subsequent_mask;
errors and warnings; the example language model's loss falling. The decoder is in
test_transformer_decoder.py, PyTorch's module_db entries in test_transformer_module_db.py."""

import importlib.util
import pathlib
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, copy_state, to_ember
from tests.nn.modules import _transformer as tr
from tests.nn.modules._transformer import RNG  # noqa: F401 - reseeded per test by conftest

EXAMPLE = pathlib.Path(__file__).parents[3] / "examples" / "transformer_language_model.py"


@pytest.mark.parametrize("options,masks,dtype", tr.TABLE)
def test_encoder_layer_and_encoder(options, masks, dtype):
    batch_first = tr.LAYER_OPTIONS[options].get("batch_first", False)
    x = RNG.standard_normal(tr.seq(batch_first, tr.L)).astype(dtype)
    rows = tr.cast(tr.masks(masks, tr.L, tr.L), dtype)
    layer_kwargs = {"src_mask": rows.get("mask"), "src_key_padding_mask": rows.get("kpm"),
                    "is_causal": rows.get("is_causal", False)}
    if masks == "causal_detected":
        layer_kwargs["is_causal"] = False
    tr.run_and_compare(*tr.pair("TransformerEncoderLayer", tr.LAYER_OPTIONS[options], dtype), [x],
                     layer_kwargs, dtype)
    stack_kwargs = {"mask": rows.get("mask"), "src_key_padding_mask": rows.get("kpm"),
                    "is_causal": rows.get("is_causal")}
    tr.run_and_compare(*tr.pair("TransformerEncoder", tr.LAYER_OPTIONS[options], dtype), [x],
                     stack_kwargs, dtype)


@pytest.mark.parametrize("options,batched,dtype", [
    (o, b, np.float64) for o in ("default", "gelu", "norm_first", "batch_first", "no_bias")
    for b in (True, False)] + [("default", True, np.float32)])
def test_transformer(options, batched, dtype):
    batch_first = tr.LAYER_OPTIONS[options].get("batch_first", False)
    src = RNG.standard_normal(tr.seq(batch_first, tr.S, batched)).astype(dtype)
    tgt = RNG.standard_normal(tr.seq(batch_first, tr.L, batched)).astype(dtype)
    kpm = RNG.random((tr.N, tr.S) if batched else (tr.S,)) > 0.6
    kpm[..., 0] = False
    kwargs = {"tgt_mask": ember.nn.Transformer.generate_square_subsequent_mask(tr.L).numpy()
              .astype(dtype), "src_key_padding_mask": kpm, "memory_key_padding_mask": kpm,
              "src_mask": RNG.standard_normal((tr.S, tr.S)).astype(dtype)}
    modules = tr.pair("Transformer", tr.LAYER_OPTIONS[options], dtype)
    tr.run_and_compare(*modules, [src, tgt], kwargs, dtype)


# ---- eval mode, PyTorch's fast paths ---------------------------------------------------------
@pytest.mark.parametrize("kind", ["TransformerEncoderLayer", "TransformerEncoder"])
@pytest.mark.parametrize("masks", ["none", "kpm", "causal", "right_padded_kpm"])
def test_eval_without_grad_matches_fast_paths(kind, masks):
    e, t = tr.pair(kind, {"batch_first": True, "norm": True}, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "TransformerEncoder":  # rebuilt with nested tensors enabled
            t = torch.nn.TransformerEncoder(t.layers[0], 2, t.norm)
            e = ember.nn.TransformerEncoder(e.layers[0], 2, e.norm)
            copy_state(t, e)
    e.eval()
    t.eval()
    x = RNG.standard_normal((tr.N, tr.L, tr.D)).astype(np.float32)
    rows = tr.masks("kpm" if masks == "right_padded_kpm" else masks, tr.L, tr.L)
    kpm = rows.get("kpm")
    if masks == "right_padded_kpm":  # left-aligned: PyTorch packs it into a nested tensor
        kpm = np.arange(tr.L)[None, :] >= np.array([[4], [2], [3]])
    names = ("src_mask", "src_key_padding_mask") if kind.endswith("Layer") else \
        ("mask", "src_key_padding_mask")
    kwargs = {names[0]: rows.get("mask"), names[1]: kpm}
    if "is_causal" in rows:
        kwargs["is_causal"] = True
    with torch.no_grad(), ember.no_grad():
        e_out = e(ember.tensor(x), **to_ember({k: v for k, v in kwargs.items()}))
        t_out = t(torch.tensor(x), **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                      for k, v in kwargs.items()})
    assert_same(e_out, t_out, 2e-5, 2e-5)


# ---- structure: reprs, state_dict keys, masks -----------------------------------------------
@pytest.mark.parametrize("kind", ["TransformerEncoderLayer", "TransformerDecoderLayer",
                                  "TransformerEncoder", "TransformerDecoder", "Transformer"])
@pytest.mark.parametrize("options", ["default", "module_gelu", "no_bias", "eps"])
def test_repr_and_state_dict_keys(kind, options):
    e, t = tr.pair(kind, tr.LAYER_OPTIONS[options], np.float32)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    if kind.endswith("EncoderLayer"):
        assert e.activation_relu_or_gelu == t.activation_relu_or_gelu


def test_transformer_init_is_xavier_uniform():
    model = ember.nn.Transformer(d_model=64, nhead=4, num_encoder_layers=1,
                                 num_decoder_layers=1, dim_feedforward=32)
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 32))
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert model.d_model == 64 and model.nhead == 4 and model.batch_first is False


@pytest.mark.parametrize("dtype", [None, "float64", "bool"])
def test_generate_square_subsequent_mask(dtype):
    e = ember.nn.Transformer.generate_square_subsequent_mask(
        5, dtype=None if dtype is None else getattr(ember, dtype))
    t = torch.nn.Transformer.generate_square_subsequent_mask(
        5, dtype=None if dtype is None else getattr(torch, dtype))
    assert_same(e, t, exact=True)


def test_custom_encoder_and_decoder():
    encoder = ember.nn.Linear(tr.D, tr.D)
    decoder_layer = ember.nn.TransformerDecoderLayer(tr.D, tr.HEADS, tr.FF)
    decoder = ember.nn.TransformerDecoder(decoder_layer, 1)
    model = ember.nn.Transformer(tr.D, tr.HEADS, custom_encoder=encoder, custom_decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder


# ---- errors and warnings --------------------------------------------------------------------
def test_bad_activation_raises_as_torch():
    error, expected = assert_same_error(
        lambda lib: lib.nn.TransformerEncoderLayer(tr.D, tr.HEADS, activation="tanh"),
        exact_type=True)
    assert str(error) == str(expected)


@pytest.mark.parametrize("src_shape,tgt_shape", [((tr.S, tr.N, tr.D), (tr.L, tr.N + 1, tr.D)),
                                                 ((tr.S, tr.N, tr.D), (tr.L, tr.N, tr.D + 1)),
                                                 ((tr.S, tr.D + 1), (tr.L, tr.D))])
def test_transformer_forward_errors(src_shape, tgt_shape):
    e, t = tr.pair("Transformer", {}, np.float32)

    def call(lib, src, tgt):
        return (e if lib is ember else t)(src, tgt)

    error, expected = assert_same_error(call, np.zeros(src_shape, np.float32),
                                        np.zeros(tgt_shape, np.float32), exact_type=True)
    assert str(error) == str(expected)


def test_layer_errors_for_bad_masks():
    e, t = tr.pair("TransformerEncoderLayer", {}, np.float32)
    x = np.zeros((tr.L, tr.N, tr.D), np.float32)

    def call(lib, x, mask):
        return (e if lib is ember else t)(x, src_mask=mask)

    for mask in (np.zeros((tr.L, tr.L + 1), bool), np.zeros((tr.L, tr.L), np.int64)):
        error, expected = assert_same_error(call, x, mask, exact_type=True)
        assert str(error) == str(expected)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        ember.nn.TransformerEncoderLayer(10, 3)


@pytest.mark.parametrize("options", [{}, {"batch_first": True}, {"batch_first": True,
                                                                  "norm_first": True},
                                     {"batch_first": True, "activation": "fn_silu"}])
def test_nested_tensor_warning_as_torch(options):
    messages = []
    for lib in (ember, torch):
        opts = dict(options)
        if "activation" in opts:
            opts["activation"] = tr.activation(lib, opts["activation"])
        layer = lib.nn.TransformerEncoderLayer(tr.D, tr.HEADS, tr.FF, **opts)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            encoder = lib.nn.TransformerEncoder(layer, 1)
        messages.append(([str(w.message) for w in caught], encoder.use_nested_tensor))
    assert messages[0] == messages[1]


# ---- the example ----------------------------------------------------------------------------
def test_example_language_model_loss_falls():
    spec = importlib.util.spec_from_file_location("transformer_language_model", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    losses = example.train(steps=40, context=12, batch_size=8, log_every=0)
    assert np.isfinite(losses).all()
    assert np.mean(losses[-5:]) < losses[0] - 1.0


def test_encoder_packing_padded_positions_gives_plus_zeros():
    """Eval, no grad, a padding mask: torch's nested-tensor path gives +0 at padded positions
    and warns (once a process) that nested tensors are a prototype."""
    from ember.nn.modules import transformer as ember_transformer

    ember_transformer._NESTED_WARNED[0] = False
    outputs = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
        encoder = lib.nn.TransformerEncoder(layer, 2).eval()
        x = lib.randn(2, 4, 8)
        mask = lib.tensor([[False, False, True, True], [False] * 4])
        with lib.no_grad(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = encoder(x, src_key_padding_mask=mask)
        outputs.append(out.numpy())
        if lib is ember:
            assert any("nested tensors is in prototype stage" in str(w.message) for w in caught)
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-5, atol=1e-5)
    assert not np.signbit(outputs[1][0, 2:]).any()
