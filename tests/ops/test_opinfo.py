"""ember against PyTorch's own operator database (`op_db`), entry by entry.

One test per (entry, kind): `function` (values, shapes, dtypes), `grad` (input gradients),
`method`, `inplace`, `alias-NAME` and `errors` (exception types); the checks live in
tests/ops/_opinfo.py. Entries ember does not support yet are listed, with the reason, in
tests/ops/opinfo_xfail.py and marked `xfail(strict=True)`: a fixed entry fails here until it
leaves the list. `python -m tests.ops.opinfo_report` prints the counts by family.
"""

import warnings

import pytest

from tests.ops import _opinfo
from tests.ops.opinfo_xfail import XFAIL, xfail_reason


def _params():
    params = []
    for eid, kind in _opinfo.checks():
        reason = xfail_reason(eid, kind)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(eid, kind, id=f"{eid}:{kind}", marks=marks))
    return params


@pytest.mark.parametrize("eid, kind", _params())
def test_op(eid, kind):
    """The check `kind` of op_db entry eid gives what torch gives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _opinfo.check(eid, kind)


def test_xfail_keys_name_checks():
    """Every key of the xfail list names an entry of op_db (and a check it has)."""
    checks = set(_opinfo.checks())
    for key in XFAIL:
        eid, _, kind = key.partition(":")
        assert eid in _opinfo.ENTRIES, key
        assert not kind or (eid, kind) in checks, key


def test_every_entry_has_samples():
    """Each CPU entry gives at least one sample, so its checks are not vacuous."""
    empty = [eid for eid, info in _opinfo.ENTRIES.items()
             if _opinfo.pick_dtype(info) is not None and not _opinfo.samples(eid)]
    assert not empty
