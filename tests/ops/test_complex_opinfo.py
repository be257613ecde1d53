"""PyTorch's operator database (`op_db`) in complex64, values: the function and method variants of
every CPU entry that supports complex64 (test_opinfo.py runs each entry in float32 only), their
values, shapes and dtypes against torch; the gradients and in-place variants are in
test_complex_opinfo_grad.py. Failing entries are strict xfails in tests/ops/_complex_opinfo.py's
XFAIL, with the reason."""

import pytest

from tests.ops import _complex_opinfo

KINDS = ("function", "method")


@pytest.mark.parametrize("eid, kind", _complex_opinfo.params(KINDS))
def test_complex64(eid, kind):
    _complex_opinfo.check(eid, kind)


def test_xfail_keys_name_checks():
    """Every key of XFAIL names a complex64 entry (and a check it has)."""
    checks = set(_complex_opinfo.entries())
    entries = {eid for eid, _ in checks}
    for key in _complex_opinfo.XFAIL:
        eid, _, kind = key.partition(":")
        assert (eid, kind) in checks if kind else eid in entries, key
