"""PyTorch's OpInfo database (`op_db`) run against ember: the checks behind test_opinfo.py.

Every OpInfo entry (name + variant_test_name) gives a few `sample_inputs` (tensors made by
torch) and `error_inputs`. A check converts one sample to ember (tensors through NumPy,
requires_grad kept, dtypes / devices / Sizes / memory formats mapped to ember's), finds the
ember callable that matches the torch one, runs both, and compares what comes out with
`tests/differential.py`. The kinds of check, one test each:

- `function`: `torch.X(*sample)` vs `ember.X(*sample)`: values, shapes, dtypes;
- `grad`: backward of a weighted sum of the floating outputs, the `.grad` of every input leaf;
- `method`: `Tensor.X`; `inplace`: `Tensor.X_` on a clone (the result, the mutated tensor and
  the gradients through the clone); `alias-NAME`: every alias's function / method / in-place;
- `errors`: every `error_inputs` sample raises (a subclass of) the exception type torch raises.

Samples needing care: tensors viewing one storage stay views of one array, tensors ember cannot
hold (65 dims, meta) are refused by ember's constructor (_opinfo_memory.py); op_db's seeded ops
seed ember too; SIGN_FREE entries compare sign-free; gradients OpInfo expects torch to get
wrong are held to gradcheck instead (_opinfo_grads.py).

`check(entry_id, kind)` runs one check and raises on a mismatch (`Missing` when ember lacks
the callable); `test_opinfo.py` parametrises over `checks()`, `opinfo_report.py` tallies them.
"""

import functools
import itertools
import types
import zlib

import numpy as np
import torch
from torch.testing._internal.common_methods_invocations import op_db

import ember
from tests.differential import assert_same, dtype_name
from tests.ops._opinfo_grads import gradcheck_instead, torch_grad_expected_to_fail
from tests.ops._opinfo_memory import (Refused, refuse, share_storages, shared_view,
                                      unholdable)

SAMPLES = 3  # sample inputs per entry: the knob that sets the module's run time
ERROR_SAMPLES = 8  # error inputs per entry

# (rtol, atol) per dtype for values; gradients get GRAD_SCALE times these
TOLERANCES = {
    "float16": (1e-3, 1e-3), "bfloat16": (1.6e-2, 1e-2),
    "float32": (1e-4, 1e-5), "float64": (1e-7, 1e-7),
    "complex64": (1e-4, 1e-5), "complex128": (1e-7, 1e-7),
    # float8: one unit in the last place (3 and 2 mantissa bits): a float32 product that lands
    # near a float8 tie rounds either way under another summation order
    "float8_e4m3fn": (0.125, 1e-5), "float8_e5m2": (0.25, 1e-5),
}
GRAD_SCALE = 10.0
# entries whose float32 results legitimately differ more (different summation order, ...)
LOOSE = {"cumprod": 10.0, "prod": 10.0, "pinverse": 100.0}

# entries (by name) whose outputs are random or uninitialised: only their structure, shapes and
# dtypes compare
RANDOM = {
    "bernoulli", "multinomial", "normal", "rand_like", "randn_like",
    "randint_like", "randint", "randn", "rand", "uniform", "cauchy", "exponential", "geometric",
    "log_normal", "randperm", "empty", "empty_like", "empty_strided", "empty_permuted",
    "new_empty", "new_empty_strided", "nn.functional.dropout", "nn.functional.dropout2d",
    "nn.functional.dropout3d", "nn.functional.alpha_dropout",
    "nn.functional.feature_alpha_dropout",
    "nn.functional.rrelu", "nn.functional.gumbel_softmax", "nn.functional.fractional_max_pool2d",
    "nn.functional.fractional_max_pool3d", "nn.functional.multi_head_attention_forward",
    "nn.functional.scaled_dot_product_attention", "torch.ops.aten.native_dropout_backward",
}

# entries whose outputs are singular vectors: their signs are LAPACK's choice (MKL's in torch,
# OpenBLAS's in ember), so values compare as op_db's own gradient tests see them, through the
# sample's sign-invariant output_process_fn_grad ((U·Vᴴ, S)); raw outputs compare in structure
SIGN_FREE = {"svd_lowrank", "pca_lowrank"}

# float8 tensors (torch's .numpy() refuses them) go to ember through their bytes
FLOAT8 = (torch.float8_e4m3fn, torch.float8_e5m2, torch.float8_e4m3fnuz, torch.float8_e5m2fnuz,
          torch.float8_e8m0fnu)

# the low-precision kinds: the function variant again, on samples of these dtypes
LOW_PRECISION = {"float16": torch.float16, "bfloat16": torch.bfloat16}

_DTYPE_PREFERENCE = (torch.float32, torch.float64, torch.int64, torch.int32, torch.bool,
                     torch.uint8, torch.int16, torch.int8, torch.float16, torch.bfloat16,
                     torch.complex64, torch.complex128)


class Missing(AttributeError):
    """ember has no such function or method."""


# ---- the entries -----------------------------------------------------------------------------
def entry_id(info) -> str:
    """'max.reduction_with_dim': the entry's name and variant."""
    return info.name + ("." + info.variant_test_name if info.variant_test_name else "")


ENTRIES = {entry_id(info): info for info in op_db}


def pick_dtype(info):
    """float32 if the entry supports it, else float64, else its first supported dtype."""
    supported = info.supported_dtypes("cpu")
    for dt in _DTYPE_PREFERENCE:
        if dt in supported:
            return dt
    return min(supported, key=str) if supported else None


def kinds(info) -> list:
    """The checks of one entry: function, grad, method, inplace, alias-NAME, errors."""
    out = ["function"]
    dt = pick_dtype(info)
    if info.supports_autograd and dt is not None and (dt.is_floating_point or dt.is_complex):
        out.append("grad")
    if info.method_variant is not None:
        out.append("method")
    if info.inplace_variant is not None:
        out.append("inplace")
    out += ["alias-" + alias.name for alias in info.aliases]
    if info.error_inputs_func is not None:
        out.append("errors")
    supported = info.supported_dtypes("cpu")
    out += [name for name, dt in LOW_PRECISION.items() if dt in supported]
    return out


def checks() -> list:
    """Every (entry_id, kind) pair, in op_db order."""
    return [(eid, kind) for eid, info in ENTRIES.items() for kind in kinds(info)]


@functools.lru_cache(maxsize=None)
def _samples(eid, dt=None):
    """The first SAMPLES sample inputs of an entry (seeded by its id) in dtype dt (default: the
    entry's pick_dtype), made once."""
    info = ENTRIES[eid]
    dt = dt or pick_dtype(info)
    if dt is None:
        raise RuntimeError("no CPU dtypes: CUDA only")
    requires_grad = info.supports_autograd and (dt.is_floating_point or dt.is_complex)
    torch.manual_seed(zlib.crc32(eid.encode()))
    return list(itertools.islice(info.sample_inputs("cpu", dt, requires_grad=requires_grad),
                                 SAMPLES))


def samples(eid, dt=None) -> list:
    """Fresh copies of the entry's samples (leaves stay leaves, shared tensors stay shared)."""
    out = []
    for s in _samples(eid, dt):
        memo = {}
        fresh = types.SimpleNamespace(
            input=_clone(s.input, memo), args=_clone(s.args, memo),
            kwargs=_clone(s.kwargs, memo), output_process_fn_grad=s.output_process_fn_grad,
            broadcasts_input=s.broadcasts_input)
        out.append(fresh)
    return out


def _clone(value, memo):
    if isinstance(value, torch.Tensor):
        if id(value) not in memo:
            memo[id(value)] = value.detach().clone().requires_grad_(value.requires_grad)
        return memo[id(value)]
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_clone(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v, memo) for k, v in value.items()}
    return value


# ---- converting torch values to ember -------------------------------------------------------
def convert(value, memo):
    """value with torch tensors / dtypes / devices / Sizes / memory formats made ember's.

    memo maps id(torch tensor) -> ember tensor, so a tensor passed twice stays one tensor;
    `share_storages` puts in it the storages several tensors of a sample view.
    """
    if isinstance(value, torch.Tensor):
        if id(value) not in memo:
            memo[id(value)] = _ember_tensor(value, memo)
        return memo[id(value)]
    if isinstance(value, torch.dtype):
        return _ember_attr(dtype_name(value))
    if isinstance(value, torch.device):
        return ember.device(str(value))
    if isinstance(value, torch.Size):
        return ember.Size(value)
    if isinstance(value, (torch.memory_format, torch.layout)):
        return _ember_attr(str(value).rsplit(".", 1)[-1])
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(convert(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: convert(v, memo) for k, v in value.items()}
    if isinstance(value, functools.partial) or (callable(value) and
                                                  id(value) in _torch_paths()):
        return resolve(value)  # a torch function passed as an argument (distance_function=)
    if isinstance(value, torch.nn.Module):
        return _ember_module(value)
    if isinstance(value, types.FunctionType) and value.__module__.startswith("torch.testing"):
        return _rebind(value)  # a lambda of PyTorch's test suite passed as an argument
    return value


def _ember_module(module):
    """ember's module of the same class, with the torch module's plain settings (no weights)."""
    cls = _ember_attr("nn." + type(module).__name__)
    out = cls()
    for key, value in vars(module).items():
        if not key.startswith("_") and isinstance(value, (bool, int, float, str, type(None))):
            setattr(out, key, value)
    return out


def _ember_tensor(t, memo=None):
    """An ember tensor with t's values and requires_grad; an expanded (stride-0) tensor stays
    an expanded view, so ops that refuse to write into one are tested; a tensor viewing a
    storage shared in the sample (memo, see `share_storages`) is a view of ember's copy of it;
    one ember cannot hold raises Refused."""
    if unholdable(t):  # NOTE [Tensors ember cannot hold]
        refuse(t)
    shared = shared_view(t, memo or {})  # NOTE [Tensors sharing memory]
    if shared is not None:
        return shared
    if t.layout is torch.sparse_csr:  # rebuilt from its parts, as ember's own CSR tensor
        e = ember.sparse_csr_tensor(_ember_tensor(t.crow_indices()),
                                    _ember_tensor(t.col_indices()),
                                    _ember_tensor(t.detach().values()), tuple(t.shape))
        return e.requires_grad_(True) if t.requires_grad else e
    if t.dtype in FLOAT8:  # torch's .numpy() refuses float8: through the bits
        return _ember_tensor(t.detach().view(torch.uint8)).view(_ember_attr(dtype_name(t)))
    if t.dtype is torch.bfloat16:  # NumPy has no bfloat16: through float32, exactly
        e = _ember_tensor(t.detach().float()).to(ember.bfloat16)
        return e.requires_grad_(True) if t.requires_grad else e
    array = t.detach().resolve_conj().resolve_neg().numpy()
    expanded = [d for d, (n, st) in enumerate(zip(t.shape, t.stride())) if st == 0 and n > 1]
    if expanded and not t.requires_grad:
        base = array[tuple(slice(0, 1) if d in expanded else slice(None)
                           for d in range(array.ndim))]
        return ember.from_numpy(base.copy()).expand(*t.shape)
    e = ember.from_numpy(array.copy())
    return e.requires_grad_(True) if t.requires_grad else e


def _ember_attr(path):
    obj = ember
    for part in path.split("."):
        if not hasattr(obj, part):
            raise Missing(f"missing: ember.{path}")
        obj = getattr(obj, part)
    return obj


# ---- finding ember's callable ---------------------------------------------------------------
_NAMESPACES = (("", torch), ("nn.functional.", torch.nn.functional), ("linalg.", torch.linalg),
               ("special.", torch.special), ("fft.", torch.fft), ("Tensor.", torch.Tensor))
_MODULE_PREFIX = {"torch.masked._ops": "masked.", "torch.signal.windows.windows":
                  "signal.windows.", "torch.functional": "", "torch.nn.functional":
                  "nn.functional.", "torch._ops.aten": "ops.aten.", "torch._C._nn":
                  "nn.functional.", "torch._C._sparse": "sparse."}


@functools.lru_cache(maxsize=None)
def _torch_paths():
    paths = {}
    for prefix, module in _NAMESPACES:
        for name in dir(module):
            try:
                paths.setdefault(id(getattr(module, name)), prefix + name)
            except Exception:  # noqa: BLE001 - a lazy attribute that fails to load
                continue
    return paths


def torch_path(fn) -> str:
    """'add', 'nn.functional.relu', 'Tensor.add_', ...: where torch keeps fn (None: a lambda)."""
    path = _torch_paths().get(id(fn))
    if path is not None:
        return path
    module = getattr(fn, "__module__", None) or ""
    if module.startswith("torch.testing") or isinstance(fn, functools.partial):
        return None
    if isinstance(fn, torch._ops.OpOverload):  # `aten.slice.Tensor`: that overload, not the packet
        return "ops.aten." + fn.__name__
    name = getattr(fn, "__name__", None) or str(fn).rsplit(".", 1)[-1]
    return _MODULE_PREFIX.get(module, module.removeprefix("torch.") + ".") + name.split(".")[0]


def resolve(fn):
    """ember's counterpart of a torch callable (a lambda from op_db is run with ember as torch)."""
    if isinstance(fn, functools.partial):
        return functools.partial(resolve(fn.func), *convert(fn.args, {}),
                                 **convert(fn.keywords, {}))
    path = torch_path(fn)
    if path is None:
        return _rebind(fn)
    if path.startswith("Tensor."):
        name = path[len("Tensor."):]
        if not hasattr(ember.Tensor, name):
            raise Missing(f"missing: Tensor.{name}")
        return getattr(ember.Tensor, name)
    return _ember_attr(path)


class _Namespace:
    """A stand-in for the `torch` global of an op_db lambda: ember's attribute or Missing."""

    def __init__(self, path=""):
        self._path = path

    def __getattr__(self, name):
        return _ember_attr(self._path + name)


def _ember_wrapper_set_seed(op, *args, **kwargs):
    """torch.testing's wrapper_set_seed for ember: op run from seed 42, the RNG state kept
    (ember's generator is torch's, so both libraries draw the same numbers)."""
    state = ember.get_rng_state()
    ember.manual_seed(42)
    try:
        return op(*args, **kwargs)
    finally:
        ember.set_rng_state(state)


def _rebind(fn):
    """fn (a lambda from PyTorch's test suite) with its `torch` and `F` globals made ember's."""
    if not hasattr(fn, "__code__"):
        raise Missing(f"missing: no ember counterpart for {fn!r}")
    scope = dict(fn.__globals__)
    scope["torch"] = ember
    if "wrapper_set_seed" in scope:  # op_db seeds random ops (svd_lowrank's sketch): seed ember's
        scope["wrapper_set_seed"] = _ember_wrapper_set_seed
    if "F" in scope:
        scope["F"] = ember.nn.functional if hasattr(ember.nn, "functional") else _Namespace(
            "nn.functional.")
    return types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)


# ---- comparing ------------------------------------------------------------------------------
def tolerances(eid, dtype, grad=False):
    """(rtol, atol) for an entry's outputs (or gradients) in dtype."""
    rtol, atol = TOLERANCES.get(dtype_name(dtype), (0.0, 0.0))
    scale = LOOSE.get(eid, 1.0) * (GRAD_SCALE if grad else 1.0)
    return rtol * scale, atol * scale


def compare(e, t, rtol, atol, structure_only=False, where="output"):
    """ember result e matches torch result t: tensors, tuples, Sizes, dtypes, numbers, None."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{where}: {type(e).__name__}, torch gives a Tensor"
        if structure_only:
            assert dtype_name(e) == dtype_name(t), (where, e.dtype, t.dtype)
            assert tuple(e.shape) == tuple(t.shape), (where, e.shape, t.shape)
            return
        if t._is_zerotensor():  # torch's symbolic zeros (e.g. sgn's gradient) hold no memory
            t = torch.zeros(t.shape, dtype=t.dtype)
        if t.is_conj() or t.is_neg():
            t = t.resolve_conj().resolve_neg()
        if t.dtype is torch.bfloat16 or t.dtype in FLOAT8:  # as float32 values (exact), once
            assert dtype_name(e) == dtype_name(t), (where, e.dtype, t.dtype)  # the dtypes agree
            e, t = e.detach().float(), t.detach().float()
        try:
            assert_same(e, t, rtol, atol, exact=not (t.is_floating_point() or t.is_complex()))
        except AssertionError as error:
            detail = " ".join(str(error).split())
            raise AssertionError(f"{where}: {detail}") from None
    elif isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)), f"{where}: {type(e).__name__}, torch gives {t!r:.60}"
        assert len(e) == len(t), f"{where}: {len(e)} outputs, torch gives {len(t)}"
        for i, (ei, ti) in enumerate(zip(e, t)):
            compare(ei, ti, rtol, atol, structure_only, f"{where}[{i}]")
    elif isinstance(t, torch.dtype):
        assert dtype_name(e) == dtype_name(t), (where, e, t)
    elif isinstance(t, bool) or t is None:
        assert e is t or e == t and type(e) is type(t), (where, e, t)
    elif isinstance(t, (int, float)):
        assert isinstance(e, (int, float)) and not isinstance(e, bool), (where, e, t)
        assert type(e) is type(t), (where, type(e), type(t))
        if not structure_only:
            np.testing.assert_allclose(e, t, rtol, atol, err_msg=where)
    else:
        assert e == t, (where, e, t)


def _tensors(value):
    """The tensors in a (nested) result, in order."""
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


# ---- the checks -----------------------------------------------------------------------------
def check(eid, kind):
    """Run one check of an entry (see the module docstring); raises on a mismatch."""
    info = ENTRIES[eid]
    if kind == "errors":
        return _check_errors(info)
    if kind.startswith("alias-"):
        alias = next(a for a in info.aliases if a.name == kind[len("alias-"):])
        return _check_alias(eid, alias)
    variant = {"function": info.op, "grad": info.op, "method": info.method_variant,
               "inplace": info.inplace_variant}.get(kind, info.op)
    ember_fn = resolve(variant)
    for i, s in enumerate(samples(eid, LOW_PRECISION.get(kind))):
        if kind == "inplace" and s.broadcasts_input:
            continue  # an in-place op cannot broadcast self (torch's OpInfo tests skip these)
        try:
            _check_sample(eid, kind, variant, ember_fn, s)
        except (AssertionError, Missing):
            raise
        except Exception as error:
            raise type(error)(f"sample {i}: {error}") from error


def _check_sample(eid, kind, torch_fn, ember_fn, s):
    """Run a sample through both libraries and compare (and backward for `grad`/`inplace`)."""
    memo = {}
    share_storages([s.input, list(s.args), list(s.kwargs.values())], memo)
    e_in = convert(s.input, memo)
    e_args, e_kwargs = convert(s.args, memo), convert(s.kwargs, memo)
    t_in = s.input
    if kind == "inplace":  # on a clone: the leaves keep their grads, the clone is mutated
        t_in = s.input.clone()
        e_in = e_in.clone()
    try:
        t_out = torch_fn(t_in, *s.args, **s.kwargs)
    except Exception as error:  # noqa: BLE001 - torch refuses: ember must raise the same type
        try:
            ember_fn(e_in, *e_args, **e_kwargs)
        except type(error):
            return
        except Exception as other:  # noqa: BLE001
            raise AssertionError(f"torch raises {type(error).__name__}, ember raises "
                                 f"{type(other).__name__}: {other}") from other
        raise AssertionError(f"torch raises {type(error).__name__} ({error}), ember returns")
    e_out = ember_fn(e_in, *e_args, **e_kwargs)
    dt = LOW_PRECISION.get(kind) or _samples_dtype(eid)
    rtol, atol = tolerances(eid, dt)
    structure_only = eid in RANDOM or ENTRIES[eid].name in RANDOM
    compare(e_out, t_out, rtol, atol, structure_only or eid in SIGN_FREE)
    if eid in SIGN_FREE and not structure_only:
        compare(_process(s, e_out, ember=True), _process(s, t_out), rtol, atol,
                where="output_process_fn_grad(output)")
    if kind == "inplace":
        compare(e_in, t_in, rtol, atol, structure_only, "mutated input")
    if kind == "inplace" and not ENTRIES[eid].supports_inplace_autograd:
        return
    if kind in ("grad", "inplace") and not structure_only:
        fns = (torch_fn, ember_fn) if kind == "grad" else None
        _check_grads(eid, s, memo, _process(s, e_out, ember=True), _process(s, t_out), fns)


def _samples_dtype(eid):
    return pick_dtype(ENTRIES[eid])


def _process(s, out, ember=False):
    """The sample's output_process_fn_grad (run with ember as torch on ember outputs)."""
    fn = s.output_process_fn_grad
    if fn is None:
        return out
    return (_rebind(fn) if ember and hasattr(fn, "__code__") else fn)(out)


def _check_grads(eid, s, memo, e_out, t_out, fns=None):
    """Backward of sum(out_i * w_i) over floating outputs; compare every input leaf's grad."""
    pairs = [(e, t) for e, t in zip(_tensors(e_out), _tensors(t_out))
             if t.requires_grad and t.is_floating_point()]
    if not pairs:
        return
    generator = torch.Generator().manual_seed(zlib.crc32(eid.encode()))
    t_loss, e_loss = 0, 0
    for e, t in pairs:
        assert isinstance(e, ember.Tensor) and e.requires_grad, "ember output needs no grad"
        w = torch.randn(t.shape, generator=generator, dtype=t.dtype)
        t_loss = t_loss + (t * w).sum()
        e_loss = e_loss + (e * convert(w, {})).sum()
    try:
        t_loss.backward()
    except RuntimeError:  # e.g. an in-place op overwrote a value its backward needs
        try:
            e_loss.backward()
        except RuntimeError:
            return
        raise AssertionError("torch's backward raises RuntimeError, ember's returns") from None
    e_loss.backward()
    try:
        _compare_grads(eid, s, memo)
    except AssertionError:
        if fns is None or not torch_grad_expected_to_fail(ENTRIES[eid]):
            raise
        gradcheck_instead(s, *fns, to_ember=lambda v: convert(v, {}), process=_process)


def _compare_grads(eid, s, memo):
    """The .grad of every input leaf: ember's against torch's."""
    rtol, atol = tolerances(eid, _samples_dtype(eid), grad=True)
    for key, e in memo.items():
        t = _leaf_by_id(s, key)
        if t is None or not t.requires_grad or not t.is_leaf:
            continue
        if t.grad is None:
            assert e.grad is None or not e.grad.detach().numpy().any(), "grad where torch has none"
            continue
        assert e.grad is not None, "no grad where torch has one"
        compare(e.grad, t.grad, rtol, atol, where="grad")


def _leaf_by_id(s, key):
    for t in _tensors([s.input, list(s.args), list(s.kwargs.values())]):
        if id(t) == key:
            return t
    return None


def _check_alias(eid, alias):
    """Each variant of an alias (function, method, in-place) gives what torch's gives."""
    variants = [(v, k) for v, k in ((alias.op, "function"), (alias.method_variant, "method"),
                                    (alias.inplace_variant, "inplace")) if v is not None]
    for torch_fn, kind in variants:
        ember_fn = resolve(torch_fn)
        for s in samples(eid):
            if kind == "inplace" and s.broadcasts_input:
                continue
            _check_sample(eid, kind, torch_fn, ember_fn, s)


def _check_errors(info):
    """Every error input makes ember raise (a subclass of) the type torch raises."""
    ember_fn = resolve(info.op)
    torch.manual_seed(0)
    for i, ei in enumerate(itertools.islice(info.error_inputs("cpu"), ERROR_SAMPLES)):
        s = ei.sample_input
        memo, refused = {}, None
        try:  # converted before torch runs: torch may resize an out= before it raises
            share_storages([s.input, list(s.args), list(s.kwargs.values())], memo)
            args = convert((s.input,) + tuple(s.args), memo)
            kwargs = convert(s.kwargs, memo)
        except Refused as error:  # NOTE [Tensors ember cannot hold] (_opinfo_memory)
            refused = error
        if not _raises(info.op, s):
            continue  # torch's own test expects this one to fail: torch is the spec
        if refused is not None:
            if isinstance(refused.__cause__, ei.error_type):
                continue
            raise AssertionError(f"error input {i}: {refused}: ember raises "
                                 f"{type(refused.__cause__).__name__} ({refused.__cause__}), "
                                 f"torch {ei.error_type.__name__} ({ei.error_regex})")
        try:
            ember_fn(*args, **kwargs)
        except ei.error_type:
            continue
        except AttributeError as error:
            if _is_missing(str(error)):
                raise
            raise AssertionError(f"error input {i}: ember raises AttributeError ({error})")
        except Exception as error:  # noqa: BLE001 - the type is what is compared
            raise AssertionError(f"error input {i}: ember raises {type(error).__name__} "
                                 f"({error}), torch {ei.error_type.__name__} "
                                 f"({ei.error_regex})") from None
        raise AssertionError(f"error input {i}: ember returns, torch raises "
                             f"{ei.error_type.__name__} ({ei.error_regex})")


def _raises(torch_fn, s) -> bool:
    """Whether torch raises for the sample."""
    try:
        torch_fn(s.input, *s.args, **s.kwargs)
    except Exception:  # noqa: BLE001 - any error counts
        return True
    return False


# ---- outcomes (for the report) --------------------------------------------------------------
def outcome(eid, kind):
    """('pass' | 'missing' | 'raises' | 'wrong', first line of the error) of one check."""
    try:
        check(eid, kind)
    except Missing as error:
        return "missing", str(error).removeprefix("missing: ")
    except AssertionError as error:
        return "wrong", _first_line(error)
    except Exception as error:  # noqa: BLE001 - a report records every failure
        if isinstance(error, AttributeError) and _is_missing(str(error)):
            return "missing", _first_line(error)
        return "raises", f"{type(error).__name__}: {_first_line(error)}"
    return "pass", ""


def _is_missing(message):
    return ("module 'ember" in message or "'Tensor' object has no attribute" in message
            or "type object 'Tensor'" in message or "missing:" in message)


def _first_line(error):
    text = " ".join(str(error).split())
    return (text or type(error).__name__)[:240]
