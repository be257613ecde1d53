"""ember/nn/modules/transformer.py against torch, part 2: TransformerDecoderLayer and
TransformerDecoder over the covering table of constructor options and masks (target masks, memory
masks, key padding masks for both, tgt_is_causal), in float64 and float32: outputs, the
gradients of target and memory, and every parameter's gradient."""

import pytest

from tests.nn.modules import _transformer as tr
from tests.nn.modules._transformer import RNG  # noqa: F401 - reseeded per test by conftest


@pytest.mark.parametrize("options,masks,dtype", tr.TABLE)
def test_decoder_layer_and_decoder(options, masks, dtype):
    batch_first = tr.LAYER_OPTIONS[options].get("batch_first", False)
    tgt = RNG.standard_normal(tr.seq(batch_first, tr.L)).astype(dtype)
    memory = RNG.standard_normal(tr.seq(batch_first, tr.S)).astype(dtype)
    rows = tr.cast(tr.masks(masks, tr.L, tr.L), dtype)
    memory_row = "kpm_float_mask" if masks == "kpm" else "none"
    memory_rows = tr.cast(tr.masks(memory_row, tr.L, tr.S), dtype)
    kwargs = {"tgt_mask": rows.get("mask"), "tgt_key_padding_mask": rows.get("kpm"),
              "memory_mask": memory_rows.get("mask"),
              "memory_key_padding_mask": memory_rows.get("kpm"),
              "tgt_is_causal": rows.get("is_causal", False)}
    tr.run_and_compare(*tr.pair("TransformerDecoderLayer", tr.LAYER_OPTIONS[options], dtype),
                     [tgt, memory], kwargs, dtype)
    kwargs["tgt_is_causal"] = rows.get("is_causal")
    options = dict(tr.LAYER_OPTIONS[options], norm=masks != "none")
    tr.run_and_compare(*tr.pair("TransformerDecoder", options, dtype), [tgt, memory], kwargs, dtype)
