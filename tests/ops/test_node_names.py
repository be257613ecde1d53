"""grad_fn names of composite functions (ember/ops/_node_names.py, NOTE [grad_fn names of
composite ops]) against torch's: what `print(tensor)` shows as grad_fn=<...>. The losses' and
attention's names are tested with them (tests/ops/test_loss_ops.py, test_attention.py)."""

import pytest
import torch

import ember


def _names(call):
    """call(lib)'s grad_fn name in ember and in torch."""
    return [call(lib).grad_fn.name() for lib in (ember, torch)]


@pytest.mark.parametrize("shape", [(6,), (4, 6), (2, 4, 6), (2, 2, 4, 6), (0, 6)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    def call(lib):
        lib.manual_seed(0)
        return lib.nn.Linear(6, 3, bias=bias)(lib.randn(*shape, requires_grad=True))

    mine, theirs = _names(call)
    assert mine == theirs


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.dropout(lib.ones(4, 5, requires_grad=True), 0.5),
    lambda lib: lib.nn.Dropout(0.1)(lib.ones(4, 5, requires_grad=True)),
    lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3, 4, 4, requires_grad=True), 0.5),
], ids=["dropout", "Dropout", "dropout2d"])
def test_dropout(call):
    """torch's CPU dropout multiplies by its mask: MulBackward0 (native_dropout is CUDA's)."""
    mine, theirs = _names(call)
    assert mine == theirs == "MulBackward0"


def test_printed_forms_show_them():
    """The printed tensor carries the name (a linear layer on a batch of sequences)."""
    ember.manual_seed(0)
    y = ember.nn.Linear(3, 2)(ember.randn(2, 4, 3))
    assert "grad_fn=<ViewBackward0>" in repr(y)


@pytest.mark.parametrize("make", [lambda nn: nn.RNNCell(4, 5),
                                  lambda nn: nn.RNNCell(4, 5, nonlinearity="relu"),
                                  lambda nn: nn.GRUCell(4, 5)])
def test_rnn_cells_end_in_torchs_node(make):
    names = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        names.append(type(make(lib.nn)(lib.randn(3, 4), lib.randn(3, 5)).grad_fn).__name__)
    assert names[0] == names[1]
