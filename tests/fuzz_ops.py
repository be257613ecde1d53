"""Property-based fuzzing: random shapes (0-d, empty, broadcasting), dtypes, NaN/inf values and
non-tensor arguments thrown at the elementwise and reduction ops of PyTorch's operator
database. ember must compute what torch computes or raise torch's exception class: never a
NumPy exception, never a different class, never a crash.

`python -m tests.fuzz_ops [EXAMPLES]` runs every family and prints each kind of disagreement
with a count and a falsifying example. It is not yet part of the suite: it still finds
disagreements (issue #19 lists what is left); once it finds none, its three properties move into
tests/test_fuzz.py with a fixed seed and a bounded example count.
"""

import collections
import sys
import warnings

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch.testing._internal.common_methods_invocations import (BinaryUfuncInfo,
                                                                ReductionOpInfo, UnaryUfuncInfo,
                                                                op_db)

import ember
from tests.ops import _opinfo

DTYPES = ["float32", "float64", "int64", "bool"]
SHAPES = [(), (0,), (1,), (3,), (2, 3), (2, 0, 3), (1, 3), (4, 1, 3)]
NOT_TENSORS = [None, "a", [1.0, 2.0], 1.5, 2, True, object()]


def _ops(kind):
    """(entry id, torch callable, ember callable) of every resolvable op_db entry of a kind."""
    found = []
    for info in op_db:
        if not isinstance(info, kind) or info.name.startswith(("_refs", "special.", "fft.")):
            continue
        try:
            found.append((_opinfo.entry_id(info), info.op, _opinfo.resolve(info.op)))
        except (_opinfo.Missing, AttributeError):
            continue
    return found


UNARY, BINARY, REDUCTIONS = _ops(UnaryUfuncInfo), _ops(BinaryUfuncInfo), _ops(ReductionOpInfo)


@st.composite
def arrays(draw):
    """A NumPy array of a random dtype and shape, with NaN, inf and extreme values."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from(SHAPES))
    if dtype == "bool":
        elements = st.booleans()
    elif dtype == "int64":
        elements = st.integers(-1000, 1000)
    else:
        elements = st.floats(allow_nan=True, allow_infinity=True, width=32)
    return draw(hnp.arrays(np.dtype(dtype), shape, elements=elements))


def arguments(draw_array=True):
    """A tensor's array, or (one time in five) something that is not a tensor."""
    return st.one_of(arrays(), arrays(), arrays(), arrays(), st.sampled_from(NOT_TENSORS)) \
        if draw_array else st.sampled_from(NOT_TENSORS)


def _as(lib, value):
    return lib.tensor(value) if isinstance(value, np.ndarray) else value


def _outcome(fn, args):
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args), None
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return None, error


def _is_unbound_method(torch_fn):
    """op_db entries whose op is `torch.Tensor.x` itself: Python only calls them on tensors."""
    path = _opinfo.torch_path(torch_fn) or ""
    return path.startswith("Tensor.")


def _agree(name, torch_fn, ember_fn, values):
    if _is_unbound_method(torch_fn) and not isinstance(values[0], np.ndarray):
        return  # `Tensor.cfloat(None)` is not a call a program can make through a tensor
    if name.startswith("__") and not all(isinstance(v, (np.ndarray, int, float)) for v in values):
        # a dunder given None or a string: programs reach it only through the operator, which
        # turns torch's NotImplemented and ember's TypeError into the same TypeError
        return
    expected, torch_error = _outcome(torch_fn, [_as(torch, v) for v in values])
    result, ember_error = _outcome(ember_fn, [_as(ember, v) for v in values])
    shown = [v if not isinstance(v, np.ndarray) else f"{v.dtype}{list(v.shape)}"
             for v in values]
    if ember_error is not None:
        assert not type(ember_error).__module__.startswith("numpy"), \
            f"{name}{shown}: a NumPy exception leaked: {ember_error!r}"
    if torch_error is not None:
        assert ember_error is not None, f"{name}{shown}: torch raises {torch_error!r}, ember " \
                                        f"returns {result!r}"
        assert isinstance(ember_error, type(torch_error)), \
            f"{name}{shown}: torch raises {torch_error!r}, ember {ember_error!r}"
        return
    assert ember_error is None, f"{name}{shown}: torch returns, ember raises {ember_error!r}"
    dtype = expected.dtype if isinstance(expected, torch.Tensor) else torch.float32
    rtol, atol = _opinfo.tolerances(name, dtype)
    _opinfo.compare(result, expected, max(rtol, 1e-5), max(atol, 1e-5), where=f"{name}{shown}")


def survey(examples):
    """Fuzz every family; return {kind of disagreement: (count, first example)}."""
    found = collections.OrderedDict()

    def run(ops, arity):
        @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(ops), st.lists(arguments(), min_size=arity, max_size=arity))
        def property_(op, values):
            try:
                _agree(op[0], op[1], op[2], values)
            except Exception as error:  # noqa: BLE001 - every disagreement is recorded
                line = str(error).splitlines()[0]
                kind = line.split(":", 1)[0].split("[")[0] + " / " + \
                    (line.rsplit(", ember", 1)[-1][:80] if ", ember" in line else line[-80:])
                count, example = found.get(kind, (0, line))
                found[kind] = (count + 1, example)

        property_()

    run(UNARY, 1)
    run(BINARY, 2)
    run(REDUCTIONS, 1)
    return found


if __name__ == "__main__":
    disagreements = survey(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
    for kind, (count, example) in sorted(disagreements.items(), key=lambda kv: -kv[1][0]):
        print(f"{count:5d}  {kind}\n       {example[:200]}")
    print(f"{len(disagreements)} kinds of disagreement")
