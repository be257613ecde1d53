"""Property-based fuzzing: random shapes (0-d, empty, broadcasting), dtypes, NaN/inf values and
non-tensor arguments thrown at every op of PyTorch's operator database. ember must compute what
torch computes or raise torch's exception class: never a NumPy exception, never a different
class, never a crash.

Four properties: the unary, binary and reduction ufuncs of op_db get random arguments; every
other op_db entry (OTHERS: matmul, cat, convolutions, losses, linalg, ...) is fuzzed through its
own samples with one argument replaced (`mutated_samples`, `agree_on_sample`), each entry with
its own fixed-seed draw (`entry_property`, NOTE [One draw per entry]). Decompositions whose
outputs are unique only up to signs (svd, qr, geqrf, ...) compare in a sign-canonical form
(`agree_decomposed`, NOTE [Decompositions compare sign-canonically]).

`python -m tests.fuzz_ops [EXAMPLES] [ENTRY ...]` is the survey: with no entries it runs the three
ufunc families with EXAMPLES examples and then every entry of CHECKED with EXAMPLES examples each,
and prints each entry's disagreements with a count and the first falsifying case; with entries it
runs only those (LEFT's too, but never a "crash" one: some LEFT cases kill torch's process).
tests/test_fuzz.py runs the same properties with a bounded example count: the per-entry property
over CHECKED (OTHERS less the entries in LEFT, NOTE [What the fuzz still finds]); the survey's
first cases of an entry are the CI's cases.
"""

import collections
import contextlib
import resource
import sys
import warnings
import zlib

import numpy as np
import torch
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch.testing._internal.common_methods_invocations import (BinaryUfuncInfo,
                                                                ReductionOpInfo, UnaryUfuncInfo,
                                                                op_db)

import ember
from tests.fuzz_left import LEFT
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


def _other_entries():
    """Every other op_db entry ember has (matmul, cat, conv, losses, linalg, ...): its id."""
    fuzzed = {op[0] for op in UNARY + BINARY + REDUCTIONS}
    found = []
    for eid, info in _opinfo.ENTRIES.items():
        if eid in fuzzed or _opinfo.pick_dtype(info) is None:
            continue
        try:
            _opinfo.resolve(info.op)
        except (_opinfo.Missing, AttributeError):
            continue
        found.append(eid)
    return found


OTHERS = _other_entries()

# NOTE [What the fuzz still finds]
# tests/fuzz_left.py lists the entries of OTHERS where the per-entry survey (`python -m
# tests.fuzz_ops`) or the CI property still finds ember disagreeing with torch, each with its
# first finding. The most common kind: torch's argument parser checks every argument against the
# op's schema (a bool or a one-element tensor where an int goes, a tensor where a tuple of ints
# goes: TypeError), which ember's Python signatures cannot see; NOTE [Not a tensor is a
# TypeError] catches only what an op trips over. The CI property leaves these entries out until
# they are fixed; the survey still covers them. Since each entry has its own draw (NOTE [One draw
# per entry]), deleting an entry from LEFT adds that entry's cases to CI and changes no other's.
CHECKED = [eid for eid in OTHERS if eid not in LEFT]


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
    _check_outcomes(f"{name}{shown}", name, expected, torch_error, result, ember_error)


@st.composite
def mutated_samples(draw, entries=tuple(OTHERS)):
    """(entry id, sample index, slot, replacement): one of an entry's op_db samples with its
    input (slot 0) or one positional argument replaced by a random array or a non-tensor."""
    eid = draw(st.sampled_from(entries))
    index = draw(st.integers(0, _opinfo.SAMPLES - 1))  # taken modulo the samples there are
    slot = draw(st.integers(0, 3))
    return eid, index, slot, draw(arguments())


def _detached(value):
    """A sample's value without autograd (the fuzz checks values and errors, not gradients)."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_detached(v) for v in value)
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def agree_on_sample(eid, index, slot, replacement):
    """The entry's sample `index` with `slot` replaced: ember agrees with torch or raises
    torch's exception class (never a NumPy exception)."""
    samples = _opinfo.samples(eid)
    if not samples:
        return
    s = samples[index % len(samples)]
    positional = [_detached(s.input), *_detached(tuple(s.args))]
    if slot < len(positional):
        positional[slot] = _as(torch, replacement)
    kwargs = _detached(s.kwargs)
    info = _opinfo.ENTRIES[eid]
    memo = {}
    ember_positional = [_as(ember, replacement) if i == slot else _opinfo.convert(v, memo)
                        for i, v in enumerate(positional)]
    ember_kwargs = _opinfo.convert(kwargs, memo)
    torch_fn, ember_fn = info.op, _opinfo.resolve(info.op)
    if _is_unbound_method(torch_fn) and not isinstance(positional[0], torch.Tensor):
        return
    where = f"{eid}[sample {index}, slot {slot} = {_shown(replacement)}]"
    finite = not (isinstance(replacement, np.ndarray) and replacement.dtype.kind == "f"
                  and not np.isfinite(replacement).all())
    with memory_capped():  # the comparison too: it copies both results
        expected, torch_error = _outcome(lambda *a: torch_fn(*a, **kwargs), positional)
        result, ember_error = _outcome(lambda *a: ember_fn(*a, **ember_kwargs), ember_positional)
        size = max(positional[0].shape[-2:], default=1) if \
            isinstance(positional[0], torch.Tensor) else 1
        _check_outcomes(where, eid, expected, torch_error, result, ember_error, finite, size)


# NOTE [A case may not take the machine's memory]
# The replacement arrays are tiny, but the replaced argument can be a size: a 0-d float tensor
# holding 2e9 where an int goes, a value an op turns into a length. When both libraries then
# allocate gigabytes (torch.arange(tensor(2e9))), or ember allocates where torch refuses, the
# fuzz must report it, not be killed by the kernel. So each case runs with the process's
# address space capped at what it uses now plus CASE_MEMORY: a bigger allocation fails in torch
# (RuntimeError "DefaultCPUAllocator: can't allocate memory") and in ember, which refuses it with
# the same class before allocating (NOTE [Sizes are checked before allocating] reads the cap);
# an ember op that allocates without that check raises NumPy's MemoryError, a disagreement.
# Comparing two big results runs under the same cap, and compares the values of results of more
# than BIG_RESULT elements at a stride: the comparison's float64 temporaries of two legitimate
# results of 10^8-10^9 elements (F.interpolate to a 0-d tensor size of 500 in 3-D) took 24 GB and
# got a whole fuzz run killed (exit 137) before.
CASE_MEMORY = 3 * 2**30
BIG_RESULT = 2**20


def _address_space():
    """The bytes of address space this process uses now (Linux), or None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return None


@contextlib.contextmanager
def memory_capped(extra=CASE_MEMORY):
    """Run the body with at most `extra` more bytes of address space (NOTE above)."""
    used = _address_space()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if used is None:
        yield
        return
    cap = min(limit for limit in (used + extra, soft, hard) if limit != resource.RLIM_INFINITY)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# NOTE [One draw per entry]
# Every entry of OTHERS is fuzzed by its own property with its own fixed seed (SEED and the
# entry's id), so the cases an entry gets depend only on the entry (its samples) and SEED:
# deleting an entry from LEFT (or adding one) never reshuffles another entry's cases, as one
# draw over all entries did (every change to LEFT turned up new failures elsewhere). The survey
# and CI run the same property: `python -m tests.fuzz_ops 40 ENTRY` runs exactly CI's cases of
# ENTRY (with test_fuzz.OTHER_EXAMPLES = 40); hypothesis draws a larger count differently, so a
# larger survey covers other cases too, not a superset.
SEED = 19


def entry_property(eid, examples, record=None):
    """The fixed-seed property over `examples` cases of one entry: it raises the first
    disagreement, or hands each disagreement to `record` and goes on."""
    @seed(zlib.crc32(f"{SEED}:{eid}".encode()))
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutated_samples(entries=(eid,)))
    def property_(case):
        if record is None:
            agree_on_sample(*case)
            return
        try:
            agree_on_sample(*case)
        except Exception as error:  # noqa: BLE001 - every disagreement is recorded
            record(error)

    return property_


def _shown(value):
    return f"{value.dtype}{list(value.shape)}" if isinstance(value, np.ndarray) else repr(value)


def refuses_non_tensor_as_c_does(torch_error, ember_error):
    """NOTE [Stricter than torch's Python functions]: torch's Python-level functions
    (F.interpolate, F.smooth_l1_loss, torch.norm, ...) trip over a non-tensor input with an
    AttributeError ("'int' object has no attribute 'dim'"); ember raises the TypeError of
    NOTE [Not a tensor is a TypeError], as torch's C++ functions do. Accepted as agreement."""
    return isinstance(torch_error, AttributeError) and isinstance(ember_error, TypeError) and \
        str(torch_error).startswith("'") and "must be Tensor, not" in str(ember_error)


def _check_outcomes(where, eid, expected, torch_error, result, ember_error, finite=True,
                    size=1):
    if refuses_non_tensor_as_c_does(torch_error, ember_error):
        return
    if ember_error is not None:
        assert not type(ember_error).__module__.startswith("numpy"), \
            f"{where}: a NumPy exception leaked: {ember_error!r}"
    if torch_error is not None:
        assert ember_error is not None, f"{where}: torch raises {torch_error!r}, ember " \
                                        f"returns {result!r:.200}"
        expected_class = ember.linalg.LinAlgError if isinstance(
            torch_error, torch.linalg.LinAlgError) else type(torch_error)  # torch._C's own
        assert isinstance(ember_error, expected_class), \
            f"{where}: torch raises {torch_error!r:.300}, ember {ember_error!r:.300}"
        return
    assert ember_error is None, f"{where}: torch returns, ember raises {ember_error!r:.300}"
    dtype = expected.dtype if isinstance(expected, torch.Tensor) else torch.float32
    rtol, atol = _opinfo.tolerances(eid, dtype)
    random_output = eid in _opinfo.RANDOM or _opinfo.ENTRIES[eid].name in _opinfo.RANDOM
    if eid in DECOMPOSITIONS and isinstance(expected, tuple):
        agree_decomposed(eid, result, expected, max(rtol, 1e-5), max(atol, 1e-5), where, finite)
        return
    if eid in SINGULAR_VALUES and isinstance(expected, torch.Tensor) and finite:
        atol += _singular_value_noise(expected, size)
    if _opinfo.ENTRIES[eid].name.startswith("fft.") and isinstance(expected, torch.Tensor):
        atol += _fft_noise(expected)
        random_output = random_output or not finite
    result, expected = _thinned(where, result, expected)
    _opinfo.compare(result, expected, max(rtol, 1e-5), max(atol, 1e-5),
                    structure_only=random_output, where=where)


# Singular values alone (svdvals) get the absolute slack of the decompositions' S (NOTE
# [Decompositions compare sign-canonically]): LAPACK computes σ_k to within about
# max(m, n)·eps·σ_max, so a σ_k near 1e-18·σ_max is 0 in OpenBLAS and its true value in MKL.
SINGULAR_VALUES = ("linalg.svdvals",)


def _singular_value_noise(expected, size):
    """SLACK·max(m, n)·eps·σ_max of torch's singular values (`size`: max(m, n))."""
    if expected.numel() == 0 or not expected.is_floating_point():
        return 0.0
    scale = float(expected.detach().abs().max())
    return SLACK * size * torch.finfo(expected.dtype).eps * scale


# NOTE [FFTs compare normwise]
# An FFT's rounding error is bounded normwise, not per element: each output can be off by about
# eps·log2(n) times the size of the outputs, so an output that cancels to 0 in MKL's order
# (torch) may be 1e-16·‖y‖ in pocketfft's (ember, NumPy's FFT). The fft entries get that much
# absolute slack on top of their tolerances (SLACK times it, as the decompositions). An inf or
# NaN in the input makes the outputs that mix it inf or NaN by the order of the butterflies
# (inf - inf): such cases compare in structure only (dtype and shape).
def _fft_noise(expected):
    """The absolute rounding slack of an FFT whose torch result is `expected`."""
    if expected.numel() == 0 or not (expected.is_floating_point() or expected.is_complex()):
        return 0.0
    size = expected.detach().abs()
    finite = size[torch.isfinite(size)]
    scale = float(finite.max()) if finite.numel() else 0.0
    eps = torch.finfo(expected.dtype).eps
    return SLACK * eps * max(1.0, float(np.log2(expected.numel()))) * scale


def _thinned(where, result, expected):
    """Two big results (NOTE [A case may not take the machine's memory]): the same shape, then
    their values at a stride, BIG_RESULT of them at most."""
    if not (isinstance(expected, torch.Tensor) and expected.numel() > BIG_RESULT
            and isinstance(result, ember.Tensor)):
        return result, expected
    assert tuple(result.shape) == tuple(expected.shape), \
        f"{where}: shapes differ: ember {tuple(result.shape)}, torch {tuple(expected.shape)}"
    step = expected.numel() // BIG_RESULT + 1
    return result.reshape(-1)[::step], expected.reshape(-1)[::step]


# NOTE [Decompositions compare sign-canonically]
# A singular vector pair (u_j, v_j) is unique only up to a unit factor shared by both (±1, or a
# phase for complex), a QR column q_j with its row r_j of R likewise, and which factor LAPACK
# picks is the library's choice (MKL's in torch, OpenBLAS's in ember). So the outputs of the
# DECOMPOSITIONS entries compare in a canonical form, per matrix of the batch, after their
# dtypes and shapes (`agree_decomposed`):
#   svd: S; U·diag(S)·Vᴴ (the reconstruction); U and V orthonormal; and each singular pair whose
#        value stands apart (from the others and from 0, by more than √eps·σ_max) with u_j and
#        v_j both divided by the phase of u_j's entry where torch's |u_j| is largest, so a u
#        flipped without its v fails. The vectors of repeated or negligible singular values are
#        any orthonormal basis of their subspace: the reconstruction and orthonormality check
#        them.
#   qr:  |diag R|; Q·R; Q orthonormal; the leading pairs j with |R_jj| > √eps·max|R| made
#        R_jj > 0 (q_j and r_j times the conjugate phase of R_jj). Past the first negligible
#        R_jj, Householder QR reflects rounding noise: Q·R checks those.
#   geqrf: (a, tau) as the Q = householder_product(a, tau) and R = triu(a) they describe, then
#        as qr.
# Tolerances: the entry's own, plus the error LAPACK's backward-stable algorithms allow,
# SLACK·max(m, n)·eps·‖A‖ absolute (divided by the gap or R_jj for vectors). Any real difference
# still fails: a singular value, a reconstruction, a vector's magnitudes, a lost orthonormality,
# a pair flipped on one side only (tests/test_fuzz_decompositions.py). A NaN or inf in the input,
# or one in torch's output (an overflow inside LAPACK), makes the output implementation-defined
# in both libraries (NaN in one, finite garbage in the other): such cases compare in structure
# only.
DECOMPOSITIONS = {"svd": "svd", "linalg.svd": "svd_h", "svd_lowrank": "svd",
                  "pca_lowrank": "svd", "qr": "qr", "linalg.qr": "qr", "geqrf": "geqrf"}
SLACK = 10


def _close(actual, desired, rtol, atol, what):
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=what)


def _phase(x):
    """x / |x| (1 for 0)."""
    size = np.abs(x)
    return np.where(size > 0, x / np.where(size > 0, size, 1), 1)


def _orthonormal(q, atol, what):
    gram = q.conj().T @ q
    _close(gram, np.eye(gram.shape[0]), 0, atol, f"{what} is not orthonormal")


def _agree_svd(e, t, eps, rtol, atol, where):
    """One matrix's (U, S, V) of each library agree (NOTE above)."""
    (ue, se, ve), (ut, st, vt) = e, t
    k = st.shape[-1]
    scale = float(np.max(st, initial=0))
    noise = SLACK * eps * max(ue.shape[0], ve.shape[0])
    _close(se, st, rtol, atol + noise * scale, f"{where}: singular values")
    if not (ut.any() or vt.any()):  # torch.svd(compute_uv=False): zeros
        _close(ue, ut, 0, 0, f"{where}: U")
        _close(ve, vt, 0, 0, f"{where}: V")
        return
    rebuilt = [u[:, :k] * s @ v[:, :k].conj().T for u, s, v in (e, t)]
    _close(rebuilt[0], rebuilt[1], rtol, atol + noise * scale, f"{where}: U·diag(S)·Vᴴ")
    _orthonormal(ue, atol + noise, f"{where}: U")
    _orthonormal(ve, atol + noise, f"{where}: V")
    for j in range(k):
        separation = min(np.min(np.abs(np.delete(st, j) - st[j]), initial=np.inf), st[j])
        if separation <= np.sqrt(eps) * scale:
            continue  # a repeated or negligible value: its vectors are any basis
        pivot = np.argmax(np.abs(ut[:, j]))
        canonical = [(u[:, j] / _phase(u[pivot, j]), v[:, j] / _phase(u[pivot, j]))
                     for u, v in ((ue, ve), (ut, vt))]
        tolerance = atol + noise * scale / separation
        _close(canonical[0][0], canonical[1][0], rtol, tolerance, f"{where}: u_{j} (canonical)")
        _close(canonical[0][1], canonical[1][1], rtol, tolerance, f"{where}: v_{j} (canonical)")


def _agree_qr(e, t, eps, rtol, atol, where):
    """One matrix's (Q, R) of each library agree (Q has no columns for linalg.qr's mode='r')."""
    (qe, re_), (qt, rt) = e, t
    k = min(rt.shape)
    scale = float(np.max(np.abs(rt), initial=0))
    noise = SLACK * eps * max(rt.shape)
    diagonal = np.abs(np.diagonal(rt))
    _close(np.abs(np.diagonal(re_)), diagonal, rtol, atol + noise * scale, f"{where}: |diag R|")
    full = qt.shape[-1] > 0
    if full:
        _close(qe[:, :k] @ re_[:k], qt[:, :k] @ rt[:k], rtol, atol + noise * scale,
               f"{where}: Q·R")
        _orthonormal(qe, atol + noise, f"{where}: Q")
    negligible = np.flatnonzero(diagonal <= np.sqrt(eps) * scale)
    leading = int(negligible[0]) if negligible.size else k
    if leading == 0:
        return
    smallest = float(np.min(diagonal[:leading]))
    canonical = []
    for q, r in ((qe, re_), (qt, rt)):
        phase = _phase(np.diagonal(r)[:leading])
        canonical.append((q[:, :leading] * phase if full else q, r[:leading] / phase[:, None]))
    _close(canonical[0][1], canonical[1][1], rtol, atol + noise * scale * scale / smallest,
           f"{where}: rows of R (canonical)")
    _close(canonical[0][0], canonical[1][0], rtol, atol + noise * scale / smallest,
           f"{where}: columns of Q (canonical)")


def _as_arrays(eid, outputs):
    """A decomposition's outputs as float64/complex128 arrays of per-matrix values, the batch
    flattened: svd kinds [U, S, V], qr and geqrf [Q, R] (Q with no columns for mode='r')."""
    kind = DECOMPOSITIONS[eid]
    arrays = []
    for x in outputs:
        x = x.detach().resolve_conj().resolve_neg() if isinstance(x, torch.Tensor) else x
        array = x.detach().numpy()
        arrays.append(array.astype(np.complex128 if array.dtype.kind == "c" else np.float64))
    first = arrays[0] if arrays[0].ndim >= 2 else arrays[1]
    batch = first.shape[:-2]
    count = int(np.prod(batch))
    for i, array in enumerate(arrays):
        if i == 0 and array.ndim < 2:  # linalg.qr(mode='r')'s empty Q
            array = np.zeros(batch + (first.shape[-2], 0))
        arrays[i] = array.reshape((count,) + array.shape[len(batch):])
    if kind == "svd_h":  # linalg.svd's Vh, as V
        arrays[2] = np.swapaxes(arrays[2], -1, -2).conj()
    if kind == "geqrf":  # Q from the reflectors of a's first min(m, n) columns, R above them
        a, tau = arrays
        k = min(a.shape[-2:])
        q = torch.linalg.householder_product(torch.from_numpy(a[..., :k].copy()),
                                             torch.from_numpy(tau.copy())).numpy()
        arrays = [q, np.triu(a)]
    return arrays


def agree_decomposed(eid, result, expected, rtol, atol, where, finite=True):
    """ember's outputs of a DECOMPOSITIONS entry agree with torch's (NOTE above)."""
    _opinfo.compare(result, expected, rtol, atol, structure_only=True, where=where)
    if not finite or not all(torch.isfinite(x).all() for x in expected):
        return  # LAPACK's answers to NaN/inf are implementation-defined
    dtype = expected[-1].dtype
    eps = float(torch.finfo(dtype.to_real() if dtype.is_complex else dtype).eps)
    agree = _agree_svd if DECOMPOSITIONS[eid].startswith("svd") else _agree_qr
    ours, theirs = _as_arrays(eid, result), _as_arrays(eid, expected)
    for b in range(len(theirs[0])):
        agree([x[b] for x in ours], [x[b] for x in theirs], eps, rtol, atol,
              f"{where}[matrix {b}]")


def _first_line(error):
    return str(error).splitlines()[0] if str(error) else repr(error)


def survey_families(examples):
    """Fuzz the unary, binary and reduction ufuncs; return {kind: (count, first example)}."""
    found = collections.OrderedDict()

    def run(ops, arity):
        @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(ops), st.lists(arguments(), min_size=arity, max_size=arity))
        def property_(op, values):
            try:
                _agree(op[0], op[1], op[2], values)
            except Exception as error:  # noqa: BLE001 - every disagreement is recorded
                line = _first_line(error)
                kind = line.split(":", 1)[0].split("[")[0] + " / " + \
                    (line.rsplit(", ember", 1)[-1][:80] if ", ember" in line else line[-80:])
                count, example = found.get(kind, (0, line))
                found[kind] = (count + 1, example)

        property_()

    run(UNARY, 1)
    run(BINARY, 2)
    run(REDUCTIONS, 1)
    return found


def survey_entry(eid, examples):
    """Run one entry's property (the CI's cases first); return {kind: (count, first example)}."""
    found = collections.OrderedDict()

    def record(error):
        line = _first_line(error)
        kind = line.split("]", 1)[-1][:120]  # the finding without the case
        count, example = found.get(kind, (0, line))
        found[kind] = (count + 1, example)

    entry_property(eid, examples, record)()
    return found


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    chosen = sys.argv[2:]
    if not chosen:
        families = survey_families(count)
        for kind, (n, example) in sorted(families.items(), key=lambda kv: -kv[1][0]):
            print(f"{n:5d}  {kind}\n       {example[:200]}")
        print(f"{len(families)} kinds of disagreement in the ufunc families")
    disagreeing = 0
    for eid in chosen or CHECKED:
        if LEFT.get(eid, ("",))[0] == "crash":  # torch itself dies on some of its cases
            print(f"== {eid} (LEFT): skipped, torch crashes: {LEFT[eid][1]}", flush=True)
            continue
        findings = survey_entry(eid, count)
        disagreeing += bool(findings)
        state = "OK" if not findings else f"{len(findings)} kinds"
        print(f"== {eid}{' (LEFT)' if eid in LEFT else ''}: {state}", flush=True)
        for n, example in findings.values():
            print(f"  {n:4d}  {example[:300]}")
    print(f"{disagreeing} of {len(chosen or CHECKED)} entries disagree")
