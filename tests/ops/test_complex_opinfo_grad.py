"""PyTorch's operator database (`op_db`) in complex64, gradients: for every CPU entry that supports
complex64, the input gradients of Re Σ(out·w) (a complex weight w on complex outputs) under
PyTorch's conjugate (Wirtinger) convention, and the in-place variants (result, mutated input,
gradients through the clone), against torch. Failing entries are strict xfails in
tests/ops/_complex_opinfo.py's XFAIL."""

import pytest

from tests.ops import _complex_opinfo

KINDS = ("grad", "inplace")


@pytest.mark.parametrize("eid, kind", _complex_opinfo.params(KINDS))
def test_complex64(eid, kind):
    _complex_opinfo.check(eid, kind)
