"""`opcheck` (matches `torch.library.opcheck`): the tests that an op's registrations are
consistent with what it does, run on sample arguments, and `get_ctx` for fake kernels.

NOTE [opcheck on ember]
PyTorch runs its four default tests under dispatch modes; ember runs what each test checks
directly, with PyTorch's messages:
  test_schema                 arguments the schema does not mark written must come out
                              unchanged (values compared before and after, as SchemaCheckMode).
  test_autograd_registration  with inputs that require grad, an op without an Autograd kernel
                              must not return outputs that require grad.
  test_faketensor             the fake kernel (ember has no fake tensors: it runs on copies of
                              the inputs) must give the outputs' number, shapes, dtypes,
                              devices and strides; a shape made by ctx.new_dynamic_size is not
                              compared.
  test_aot_dispatch_*         ember compiles nothing: the eager op is run twice and the two
                              runs' outputs, and gradients when inputs require grad, compared,
                              and the fake kernel must run, as tracing needs it. This runs the
                              registered backward with PyTorch's checks on what it returns;
                              like PyTorch's, it does not judge whether the formula is right
                              (torch.autograd.gradcheck does).
"""

import dataclasses
import functools
import os

from ember._warnings import warn as _warn
from ember._library import ops
from ember._library.custom_ops import CustomOpDef, storage
from ember._library.schema import bind
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.gradients import grad as _autograd_grad
from ember.random import fork_rng, manual_seed
from ember.testing import assert_close


class OpCheckError(Exception):
    """What opcheck raises when a test fails (its cause: the test's error)."""
    pass


@dataclasses.dataclass
class MetadataMismatchError(RuntimeError):
    """A fake kernel's output metadata differs from the op's (torch's dataclass)."""
    reason: str


class UnsupportedOperatorException(RuntimeError):
    """An op without a fake kernel (str: the op)."""


# ---- get_ctx --------------------------------------------------------------------------------
class FakeImplCtx:
    """What `get_ctx()` gives inside a fake kernel (matches torch's `FakeImplCtx`)."""

    def __init__(self, op):
        self._op, self.dynamic = op, False

    def new_dynamic_size(self, *, min=0, max=None):  # noqa: A002 - torch's names
        """A size that depends on the data: any value fits, opcheck does not compare it."""
        if min < 0:
            raise ValueError(f"ctx.new_dynamic_size(min={min}, ...): expected min to be greater "
                             "than or equal to 0: this API can only create non-negative sizes.")
        self.dynamic = True
        return _any_size(min, max)

    def create_unbacked_symint(self, *, min=2, max=None):  # noqa: A002
        _warn("`create_unbacked_symint` is deprecated, please use `new_dynamic_size` "
                      "instead", FutureWarning, stacklevel=2)
        return self.new_dynamic_size(min=min, max=max)


def _any_size(lower, upper) -> int:
    """A size in [lower, upper], 2 when it can be (PyTorch treats sizes 0 and 1 apart)."""
    size = max(lower, 2)
    return size if upper is None else min(size, upper)


_CTX = [None]  # the FakeImplCtx of the fake kernel running now


def get_ctx():
    """The FakeImplCtx of the running fake kernel; None outside one (matches torch)."""
    return _CTX[0]


# ---- the tests ------------------------------------------------------------------------------
def _map_tensors(fn, value):
    """value with fn applied to every tensor in it (through lists, tuples, dicts)."""
    if isinstance(value, Tensor):
        return fn(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_map_tensors(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: _map_tensors(fn, v) for k, v in value.items()}
    return value


def _leaves(value) -> list:
    """The values of a nested result, as torch's pytree flattens it (None has none)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def _clone(t):
    """A copy of an input with its values, strides and requires_grad (torch's clone_input)."""
    copy = t.detach().clone()
    return copy.requires_grad_(t.requires_grad) if t.requires_grad else copy


def _cloned(args, kwargs):
    """Copies of the arguments, so a test never changes the caller's tensors."""
    return _map_tensors(_clone, args), _map_tensors(_clone, kwargs)


def _unchanged(before, after) -> bool:
    """Whether a tensor still has its earlier shape, strides and values (NaN equal to NaN)."""
    if before.shape != after.shape or before.stride() != after.stride():
        return False
    a, b = before._data, after._data
    if a.dtype.kind in "fc":
        close = (a == b) | ((a != a) & (b != b)) | (abs(a - b) <= 1e-08 + 1e-05 * abs(b))
        return bool(close.all())  # (torch.allclose(equal_nan=True), as SchemaCheckMode)
    return bool((a == b).all())


def schema_check(op, args, kwargs, *, rtol=None, atol=None):
    """test_schema: results share memory only with the arguments the schema says they alias,
    and only the arguments it marks written change (SchemaCheckMode's checks)."""
    args, kwargs = _cloned(args, kwargs)
    values = bind(op._schema, args, kwargs)
    before = [_map_tensors(lambda t: t.detach().clone(), v) for v in values]
    result = op(*args, **kwargs)
    outputs = result if isinstance(result, tuple) else (result,)
    for param, value, old in zip(op._schema.arguments, values, before):
        name = "input" if param.name == "self" else param.name
        for ret, output in zip(op._schema.returns, outputs):
            if _shares_memory(output, value) and not _may_alias(param.type, ret.type):
                raise RuntimeError(f"Argument {name} is not defined to alias output but was "
                                   "aliasing")
        pairs = zip(_leaves(old), _leaves(value))
        if any(isinstance(a, Tensor) and not _unchanged(a, b) for a, b in pairs) and \
                not param.is_write:
            raise RuntimeError(f"Argument {name} is not defined as mutable but was mutated")
    return result


def _shares_memory(a, b) -> bool:
    """Whether two values hold tensors on the same memory."""
    keys = {storage(t) for t in _leaves(b) if isinstance(t, Tensor)}
    return any(storage(t) in keys for t in _leaves(a) if isinstance(t, Tensor))


def _may_alias(arg_type, return_type) -> bool:
    """Whether the schema lets the result alias the argument (same alias set, `(a)`)."""
    arg_alias, ret_alias = arg_type.base_type.alias, return_type.base_type.alias
    return arg_alias is not None and ret_alias is not None and arg_alias[0] == ret_alias[0]


def autograd_registration_check(op, args, kwargs, *, rtol=None, atol=None):
    """test_autograd_registration: without an Autograd kernel, the kernels must not make
    outputs that require grad (an autograd.Function at a backend key would)."""
    args, kwargs = _cloned(args, kwargs)
    inputs = [t for t in _leaves((args, kwargs)) if isinstance(t, Tensor)]
    if not any(t.requires_grad for t in inputs):
        return
    if any(key in op.kernels for key in ("AutogradCPU", "Autograd",
                                         "CompositeImplicitAutograd")):
        return
    outputs = op.below_autograd(bind(op._schema, args, kwargs))
    ids = {id(t) for t in inputs}
    if any(isinstance(t, Tensor) and t.requires_grad and id(t) not in ids
           for t in _leaves(outputs)):
        raise AssertionError(
            f"{op.name()}: at least one output of this operator has requires_grad=True but the "
            "operator does not have an autograd kernel defined at an autograd key (e.g. "
            "DispatchKey::Autograd). This could mean that you have incorrectly registered an "
            "autograd kernel to a non-Autograd DispatchKey, which may lead to silently incorrect "
            "results. If your operator consists of regular PyTorch operations, consider not "
            "using an operator at all or registering your operator as CompositeImplicitAutograd. "
            "If you have an autograd.Function registered to a backend (CPU/CUDA/XPU) key, the "
            "correct location for it is the Autograd key.")


def fake_check(op, args, kwargs, *, rtol=None, atol=None):
    """test_faketensor: the fake kernel's outputs have the real outputs' metadata."""
    args, kwargs = _cloned(args, kwargs)
    if op.namespace in ("aten", "prims", "prim"):
        return op(*args, **kwargs)
    meta = op.kernels.get("Meta")
    if meta is None:
        raise UnsupportedOperatorException(str(op))
    ctx = FakeImplCtx(op)
    fake, fake_values = _run_fake(op, meta, ctx, args, kwargs)
    with grad_mode.no_grad():
        real_values = bind(op._schema, args, kwargs)
        real = op.below_autograd(real_values)
    context = f"When comparing the output of {op} on FakeTensor and concrete Tensors, found"
    _compare_aliasing(context, real, real_values, fake, fake_values)
    _compare_outputs(context, real, fake, ctx.dynamic)
    return real


def _run_fake(op, meta, ctx, args, kwargs):
    """(the fake kernel's outputs, its arguments): copies of the arguments, `ctx` as
    get_ctx()."""
    with grad_mode.no_grad():
        fake_values = bind(op._schema, *_cloned(args, kwargs))
        _CTX[0] = ctx
        try:
            return op.call_kernel(meta, fake_values), fake_values
        finally:
            _CTX[0] = None


def _compare_aliasing(context, real, real_in, fake, fake_in):
    """The fake outputs alias the inputs, are inputs and alias each other as the real ones do
    (torch's `_check_alias_info`)."""
    checks = (("outputs_alias_inputs", lambda out, inp: _shares_memory(out, inp)),
              ("outputs_are_inputs", lambda out, inp: any(
                  any(o is i for i in _leaves(inp)) for o in _leaves(out)
                  if isinstance(o, Tensor))),
              ("outputs_alias_each_other", lambda out, inp: _alias_each_other(out)))
    for name, check in checks:
        r_value, f_value = check(real, real_in), check(fake, fake_in)
        if r_value != f_value:
            raise MetadataMismatchError(f"{context} mismatch in {name} check {f_value} != "
                                        f"{r_value}")


def _alias_each_other(outputs) -> bool:
    """Whether two of the outputs share memory."""
    keys = [storage(t) for t in _leaves(outputs) if isinstance(t, Tensor)]
    return len(keys) != len(set(keys))


def _trace(op, args, kwargs):
    """What tracing the op for compilation needs of it here: a fake kernel that runs, and
    results without alias annotations (functionalization refuses them)."""
    if op.namespace not in ("aten", "prims", "prim"):
        if op._schema.is_view():
            raise RuntimeError(_ALIASED_RESULT.format(op._schema))
        meta = op.kernels.get("Meta")
        if meta is None:
            raise UnsupportedOperatorException(str(op))
        _run_fake(op, meta, FakeImplCtx(op), args, kwargs)  # (tracing runs the fake kernel)


def _compare_outputs(context, real, fake, dynamic):
    """torch's CrossRefFakeMode checks of the real outputs against the fake ones."""
    r_flat, f_flat = _leaves(real), _leaves(fake)
    if len(f_flat) != len(r_flat):
        raise AssertionError(f"{context} mismatch in number of returns {len(f_flat)} != "
                             f"{len(r_flat)}")
    for idx, (r_out, f_out) in enumerate(zip(r_flat, f_flat)):
        if isinstance(r_out, Tensor) != isinstance(f_out, Tensor):
            raise AssertionError(f"{context} mismatched number of tensor outputs")
        if isinstance(r_out, Tensor):
            try:
                _compare_metadata(r_out, f_out, dynamic)
            except Exception as e:
                where = "" if len(r_flat) == 1 else f" for output[{idx}]"
                raise MetadataMismatchError(
                    f"{context} mismatched tensor metadata{where}: {e}") from e


def _compare_metadata(a, b, dynamic):
    """torch's `_check_fake_real_tensors` and `compare_tensor_meta`, with their messages."""
    if a.requires_grad != b.requires_grad:
        raise MetadataMismatchError(
            " mismatched requires_grad-ness of outputs. This usually means that you have added "
            "autograd support for your operator at a dispatch key other than Autograd, which "
            "will lead to problems")
    if a.storage_offset() != b.storage_offset():
        raise MetadataMismatchError(" mismatched storage offset")
    if not dynamic and a.shape != b.shape:
        raise MetadataMismatchError(f"Shapes {a.shape} and {b.shape} are not equal!")
    if a.dtype != b.dtype:
        raise MetadataMismatchError(f"Dtypes {a.dtype} and {b.dtype} are not equal!")
    if a.device != b.device:
        raise MetadataMismatchError(f"Devices {a.device} and {b.device} are not equal!")
    if not dynamic and a.numel() > 0:
        for idx in range(a.dim()):
            if a.shape[idx] > 1 and a.stride()[idx] != b.stride()[idx]:
                raise MetadataMismatchError(f"Stride mismatch! Strides are {a.stride()} and "
                                            f"{b.stride()} (mismatched at {idx})!")


_ALIASED_RESULT = (
    "Found a custom (non-ATen) operator whose output has alias annotations: {}. We only support "
    "functionalizing operators whose outputs do not have alias annotations (e.g. 'Tensor(a)' is "
    "a Tensor with an alias annotation whereas 'Tensor' is a Tensor without. The '(a)' is the "
    "alias annotation). The alias annotation specifies that the output Tensor shares storage "
    "with an input that has the same annotation. Please check if (1) the output needs to be an "
    "output (if not, don't return it), (2) if the output doesn't share storage with any inputs, "
    "then delete the alias annotation. (3) if the output indeed shares storage with an input, "
    "then add a .clone() before returning it to prevent storage sharing and then delete the "
    "alias annotation. Otherwise, please file an issue on GitHub.")
_OUTPUTS_MSG = (
    "Outputs of the operator are different in eager-mode PyTorch vs AOTDispatcher tracing. "
    "This means the operator will have incorrect output underneath torch.compile. This could "
    "be because the operator's implementation not traceable.")
_GRADS_MSG = (
    "Gradients of the operator are different in eager-mode PyTorch vs AOTDispatcher. This "
    "means the operator will have incorrect gradients underneath torch.compile. This could be "
    "because the operator's backward is incorrectly registered or not traceable.")


def aot_check(op, args, kwargs, *, rtol=None, atol=None):
    """test_aot_dispatch_*: two runs (forward and, when inputs require grad, backward) agree."""
    compare = functools.partial(assert_close, rtol=rtol, atol=atol) if rtol and atol \
        else assert_close
    tensors = [t for t in _leaves((args, kwargs)) if isinstance(t, Tensor)]

    def run():
        with fork_rng():
            manual_seed(42)
            return op(*_map_tensors(lambda t: t.clone(), args),
                      **_map_tensors(lambda t: t.clone(), kwargs))

    out = run()
    if not (any(t.requires_grad for t in tensors) and
            any(isinstance(t, Tensor) and t.requires_grad for t in _leaves(out))):
        _trace(op, args, kwargs)
        _check_custom_op_aliasing(op, args, kwargs)
        compare(run(), out, msg=_OUTPUTS_MSG)
        return
    first_out, first_grads = _forward_backward(run, tensors)
    if all(g is None for g in first_grads) and any(t.grad_fn is not None for t in tensors):
        return
    _trace(op, args, kwargs)
    _check_custom_op_aliasing(op, args, kwargs)
    second_out, second_grads = _forward_backward(run, tensors)
    for got, want, message in ((second_out, first_out, _OUTPUTS_MSG),
                               (second_grads, first_grads, _GRADS_MSG)):
        try:
            compare(got, want)
        except Exception as e:
            raise type(e)(message) from e


def _check_custom_op_aliasing(op, args, kwargs):
    """What a compiled graph checks on a custom op's first run: no result shares memory with an
    input or another result (torch's `_check_custom_op_aliasing`); an error or a warning by
    `_error_on_custom_op_aliasing`."""
    if op.namespace in ("aten", "prims", "prim"):
        return
    args, kwargs = _cloned(args, kwargs)
    with grad_mode.no_grad():
        results = _leaves(op(*args, **kwargs))
    seen = {storage(t) for t in _leaves((args, kwargs)) if isinstance(t, Tensor)}
    for result in results:
        if not isinstance(result, Tensor):
            continue
        if storage(result) in seen:
            message = _ALIASING_MSG.format(op._name)
            if _error_on_custom_op_aliasing():
                raise RuntimeError(message)
            _warn(message + " This is deprecated and will become an error in a future version "
                  "of PyTorch.", UserWarning, stacklevel=3)
            return
        seen.add(storage(result))


def _error_on_custom_op_aliasing() -> bool:
    """torch's functorch config `error_on_custom_op_aliasing`: forced by the environment
    variable TORCHINDUCTOR_ERROR_ON_CUSTOM_OP_ALIASING ("1" / "0"), else on exactly when the
    CI variable is set (torch treats a CI run as one that wants the future error now)."""
    forced = os.environ.get("TORCHINDUCTOR_ERROR_ON_CUSTOM_OP_ALIASING")
    if forced is not None:
        return forced not in ("0", "")
    return bool(os.getenv("CI"))


_ALIASING_MSG = (
    "{} (with implementation in ???): The output of this custom operator (1) must not also be "
    "an input to this custom operator and (2) may not alias any inputs to this custom operator "
    "or other returns. The most common way to trigger this error is if we have y = custom_op(x) "
    "and y and x are the same Tensor. Please instead return a clone of the offending output "
    "tensor(s) (e.g. return x.clone()) or refactor the custom operator to not return y.")


def _forward_backward(run, tensors):
    """The op's outputs and the gradients of sum(|sum(output)|) for the inputs needing grad."""
    needing = [t for t in tensors if t.requires_grad]
    out = run()
    total = 0
    for leaf in _leaves(out):
        if isinstance(leaf, Tensor):
            total = total + leaf.sum().abs()
    if not isinstance(total, Tensor):
        raise AssertionError(f"Expected sm to be a Tensor, got {type(total)}")
    return out, _autograd_grad(total, needing, allow_unused=True)


ALL_TEST_UTILS = {
    "test_schema": schema_check,
    "test_autograd_registration": autograd_registration_check,
    "test_faketensor": fake_check,
    "test_aot_dispatch_static": aot_check,
    "test_aot_dispatch_dynamic": aot_check,
}
DEFAULT_TEST_UTILS = ("test_schema", "test_autograd_registration", "test_faketensor",
                      "test_aot_dispatch_dynamic")


def opcheck(op, args, kwargs=None, *, test_utils=DEFAULT_TEST_UTILS, raise_exception=True,
            atol=None, rtol=None) -> dict:
    """Run the tests of NOTE [opcheck on ember] on op(*args, **kwargs) (matches
    `torch.library.opcheck`): {test name: "SUCCESS" or the exception}."""
    if (rtol is None) ^ (atol is None):
        raise ValueError("opcheck(op, ...): if you specify one of rtol/atol, you must specify "
                         "both")
    kwargs = {} if kwargs is None else kwargs
    op = _overload_of(op)
    if test_utils == "ALL":
        test_utils = tuple(ALL_TEST_UTILS)
    if isinstance(test_utils, str):
        test_utils = (test_utils,)
    if not isinstance(test_utils, (tuple, list)) or not set(test_utils) <= set(ALL_TEST_UTILS):
        raise ValueError(f"opcheck(op, ..., test_utils={test_utils}), expected test_utils to be "
                         f"subset of {tuple(ALL_TEST_UTILS)} but it was not")
    results = {}
    for name in test_utils:
        try:
            ALL_TEST_UTILS[name](op, args, kwargs, rtol=rtol, atol=atol)
            results[name] = "SUCCESS"
        except Exception as ex:
            if raise_exception:
                raise OpCheckError(f"opcheck(op, ...): {name} failed with {ex} (scroll up for "
                                   "stack trace)") from ex
            results[name] = ex
    return results


def _overload_of(op):
    """The OpOverload opcheck tests, from a CustomOpDef, an OpOverload or a packet of one."""
    if isinstance(op, CustomOpDef):
        op = op._opoverload
    if isinstance(op, ops.OpOverloadPacket):
        overloads = op.overloads()
        if len(overloads) != 1:
            names = [getattr(op, name)._schema.overload_name for name in overloads]
            raise RuntimeError("opcheck can only test operators without overloads. Got the "
                               f"following overloads for {op._qualified_op_name}: {names}")
        op = getattr(op, overloads[0])
    if not isinstance(op, ops.OpOverload):
        raise ValueError("opcheck(op, ...): op must be instance of torch._ops.OpOverload, e.g. "
                         f"torch.ops.aten.sin.default, got {type(op)}")
    return op
