"""The fuzz properties of tests/fuzz_ops.py in CI: a fixed seed (derandomize) and a bounded
number of examples per family, so every run checks the same cases. The property over every
other op_db entry (`fuzz_ops.mutated_samples` / `agree_on_sample`) is not in CI yet: its cases
for the entries not in fuzz_ops.LEFT still turn up disagreements (and one out-of-memory kill)
whenever the draw changes; `python -m tests.fuzz_ops N` runs it (issue #19's note)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import fuzz_ops

CI = settings(max_examples=300, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))


@CI
@given(st.sampled_from(fuzz_ops.UNARY), fuzz_ops.arguments())
def test_unary_ops_agree_or_raise_torchs_error(op, value):
    fuzz_ops._agree(op[0], op[1], op[2], [value])


@CI
@given(st.sampled_from(fuzz_ops.BINARY), fuzz_ops.arguments(), fuzz_ops.arguments())
def test_binary_ops_agree_or_raise_torchs_error(op, a, b):
    fuzz_ops._agree(op[0], op[1], op[2], [a, b])


@CI
@given(st.sampled_from(fuzz_ops.REDUCTIONS), fuzz_ops.arguments())
def test_reductions_agree_or_raise_torchs_error(op, value):
    fuzz_ops._agree(op[0], op[1], op[2], [value])


def test_the_fuzzed_families_are_not_empty():
    assert len(fuzz_ops.UNARY) > 50 and len(fuzz_ops.BINARY) > 40
    assert len(fuzz_ops.REDUCTIONS) > 15 and len(fuzz_ops.OTHERS) > 450
    assert len(fuzz_ops.CHECKED) > 250, "at least half of the other entries are expected to agree"
    assert set(fuzz_ops.LEFT) <= set(fuzz_ops.OTHERS), "LEFT lists only real entries"
