"""ember's warnings name the line of the program that called the op, as torch's do (NOTE
[Warnings point at the caller] in ember/_warnings.py): the argument-checking face between the
program and an op is not counted."""

import warnings

import pytest
import torch

import ember

CASES = {
    "softmax without dim": lambda lib: lib.nn.functional.softmax(lib.ones(2, 3)),
    "log_softmax without dim": lambda lib: lib.nn.functional.log_softmax(lib.ones(2, 3)),
    "softmin without dim": lambda lib: lib.nn.functional.softmin(lib.ones(2, 3)),
    "tensor of a tensor": lambda lib: lib.tensor(lib.ones(2)),
    "new_tensor of a tensor": lambda lib: lib.ones(2).new_tensor(lib.ones(2)),
    "mse_loss sizes": lambda lib: lib.nn.functional.mse_loss(lib.ones(3, 1), lib.ones(3)),
    "l1_loss sizes": lambda lib: lib.nn.functional.l1_loss(lib.ones(3, 1), lib.ones(3)),
    "dropout2d on 2-d": lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3)),
    "affine_grid default": lambda lib: lib.nn.functional.affine_grid(lib.ones(1, 2, 3),
                                                                     (1, 1, 2, 2)),
    "grid_sample default": lambda lib: lib.nn.functional.grid_sample(lib.ones(1, 1, 2, 2),
                                                                     lib.zeros(1, 2, 2, 2)),
    "upsample": lambda lib: lib.nn.functional.upsample(lib.ones(1, 1, 2, 2), scale_factor=2),
    "LSTM dropout with one layer": lambda lib: lib.nn.LSTM(2, 3, dropout=0.5),
    "range": lambda lib: lib.range(0, 3),
    "random_ beyond float32's integers": lambda lib: lib.empty(2).random_(0, 2 ** 25),
    "randint beyond float32's integers": lambda lib: lib.randint(0, 2 ** 25, (2,),
                                                                 dtype=lib.float32),
    "clip_grad_norm": lambda lib: lib.nn.utils.clip_grad_norm(lib.nn.Linear(2, 2).parameters(),
                                                              1.0),
    "kl_div mean (under autocast's float32 face)": lambda lib: lib.nn.functional.kl_div(
        lib.zeros(2, 3), lib.ones(2, 3)),
    "_canonical_mask of mismatched masks": lambda lib: lib.nn.functional._canonical_mask(
        lib.zeros(2, 3, dtype=lib.bool), "key_padding_mask", lib.float32, "attn_mask",
        lib.float32),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_warning_names_the_callers_line(name):
    places = []
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            CASES[name](lib)
        places.append([(str(w.message)[:30], w.filename == __file__) for w in caught])
    assert places[1] == places[0] and places[0]


def test_mismatched_masks_warning_names_multihead_attentions_line():
    """MultiheadAttention's mismatched-masks warning names its own forward's line (torch's
    torch/nn/modules/activation.py), not the Module call machinery."""
    files = []
    for lib in (torch, ember):
        attention = lib.nn.MultiheadAttention(4, 2)
        x = lib.ones(3, 2, 4)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            attention(x, x, x, key_padding_mask=lib.zeros(2, 3, dtype=lib.bool),
                      attn_mask=lib.zeros(3, 3))
        files.append([w.filename.split(lib.__name__ + "/", 1)[-1] for w in caught
                      if "mismatched" in str(w.message)])
    assert files[1] == files[0] == ["nn/modules/activation.py"]
