"""The `out=` of ops whose out tensor does more than receive the result: it sets the dtype the
op computes in (sum, prod, cumsum, mean, logsumexp), or must have a dtype torch names in a
message of the op's own (all, dot, where, ...). Each is declared on its op with
`@op(out=<rule>)` (ember/_registry.py `with_out`); a rule is called as
rule(fn, out, *args, **kwargs), computes fn's result and writes it into out.
See NOTE [out= dtypes] in ember/_out_dtypes.py for the plain rules ("cast", "exact", "same").
"""

from ember import _dtype
from ember._backend import get_array_module
from ember._out_dtypes import OutDtype, c_type, can_cast, castable, check_out_dtype, short_name
from ember._registry import _RESIZED, check_out_grad, write_out
from ember._warnings import warn_at_caller


def _requested(dtype, out):
    """dtype= as a dtype (None if not given), refused with torch's message when it is not
    out's (torch's reductions take a dtype= only if it is out's)."""
    if dtype is None:
        return None
    dtype = _dtype.to_dtype(dtype)
    if dtype is not out.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {c_type(dtype)}, but got "
                           f"{c_type(out.dtype)} instead")
    return dtype


def in_out_dtype(fn, out, *args, dtype=None, **kwargs):
    """sum, prod, cumsum, cumprod over a dim: computed in out's dtype (the input cast to it
    first, so `sum(floats, 0, out=long)` sums the truncated values, as torch does)."""
    _requested(dtype, out)
    input, *args = args
    if input.dtype.is_complex and not out.dtype.is_complex:
        input = input.to(out.dtype)  # (torch's warning that the imaginary parts go)
    return write_out(fn(input, *args, dtype=out.dtype, **kwargs), out, fn.__name__, "any")


def nansum_out(fn, out, input, *args, dtype=None, **kwargs):
    """nansum: computed in out's dtype; a dtype= other than out's is nansum's own error."""
    if dtype is not None and _dtype.to_dtype(dtype) is not out.dtype:
        raise RuntimeError(f"nansum: provided dtype must match dtype of result. Got "
                           f"{short_name(out.dtype)} and {short_name(_dtype.to_dtype(dtype))}.")
    if input.dtype.is_floating_point and not out.dtype.is_floating_point:
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for "
                                  f"'{short_name(out.dtype)}'")
    # (nanmean's out= is nansum's: its autograd error names nansum)
    return write_out(fn(input, *args, dtype=out.dtype, **kwargs), out, "nansum", "any")


def nanmean_out(fn, out, input, *args, dtype=None, **kwargs):
    """nanmean: nansum's rule (computed in out's dtype), for floating (or complex) inputs."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("nanmean(): integral types and 'Bool' are not supported for "
                           "nanmean, even for empty tensors.")
    return nansum_out(fn, out, input, *args, dtype=dtype, **kwargs)


def mean_out(fn, out, input, *args, dtype=None, **kwargs):
    """mean: computed in out's dtype when the input and out are floating (or complex);
    a floating result into an integer out is torch's cast error."""
    dtype = _requested(dtype, out)
    floating = input.dtype.is_floating_point or input.dtype.is_complex
    if dtype is None and floating and (out.dtype.is_floating_point or out.dtype.is_complex):
        dtype = out.dtype
    result = fn(input, *args, dtype=dtype, **kwargs)
    if not (args or "dim" in kwargs) and not can_cast(result.dtype, out.dtype):
        check_out_grad(result, out, fn.__name__)  # (mean over all elements: its own words)
        raise RuntimeError(f"mean.dtype_out(): input types can't be cast to the desired output "
                           f"type {short_name(out.dtype)}")
    return write_out(result, out, fn.__name__)


def logsumexp_out(fn, out, input, *args, **kwargs):
    """logsumexp: out must be floating (or complex), and the op computes in its dtype."""
    if not (out.dtype.is_floating_point or out.dtype.is_complex):
        raise RuntimeError(f"logsumexp(): Expected floating point type for result tensor, but "
                           f"got: {short_name(out.dtype)}")
    result = fn(input.to(out.dtype), *args, **kwargs)
    return write_out(result, out, fn.__name__, "any")


def boolean_out(fn, out, input, *args, **kwargs):
    """all, any: out must be bool or uint8; into a uint8 out torch reduces the input cast to
    uint8 (so `all(floats in (-1, 1), out=uint8)` is 0)."""
    if out.dtype.name not in ("bool", "uint8"):
        raise RuntimeError(f"{fn.__name__} only supports bool tensor for result, got: "
                           f"{short_name(out.dtype)}")
    if out.dtype is not input.dtype and out.dtype.name == "uint8":
        input = input.to(out.dtype)
    return write_out(fn(input, *args, **kwargs), out, fn.__name__, "any")


def nondifferentiable(fn, out, *args, **kwargs):
    """Ops torch has no derivative for (the Bessel functions, the orthogonal polynomials):
    torch's autograd does not refuse an out= that requires grad."""
    return write_out(fn(*args, **kwargs), out, False)


# the "exact" rule worded by these ops' kernels
dot_out = OutDtype("exact", "result dtype {out} does not match input dtype {result}")  # dot, matmul
mv_out = OutDtype("exact", "addmv input tensors must have the same dtype, but got {out}, "
                           "{result}, and {result}")
tensordot_out = OutDtype("exact", "tensordot: Expected the output tensor to have dtype {result}, "
                                  "but got an output tensor with dtype {out}")  # tensordot, inner
where_out = OutDtype("exact", "Expected out type to be {result} but got {out}")
# (torch's message has no space before the dtype)
nonzero_out = OutDtype("exact", "nonzero: Expected out tensor to have scalar type Long but got "
                                "scalar type{out}")
# cummax, cummin, logcumsumexp, diff
scan_out = OutDtype("exact", "expected scalar_type {result} but found {out}")
# the joins: torch's `cat` refuses with a TypeError
cat_out = OutDtype("cast", "torch.cat(): input types can't be cast to the desired output "
                           "type {out}", TypeError)
ldexp_out = OutDtype("cast", "ldexp can't be cast to the desired output type {out}")
# (torch names the result's type twice)
mvlgamma_out = OutDtype("cast", "mvlgamma: result type {result} can't be cast to the desired "
                                "output type {result}")
histogram_out = OutDtype("exact", "torch.histogram: input tensor and hist tensor should have the "
                                  "same dtype, but got input {result_c} and hist {out_c}")
mode_out = OutDtype("exact", "expected scalar type '{result}' but got '{out}' for values output")
kthvalue_out = OutDtype("exact", "output values must be of same type as input")
polar_out = OutDtype("exact", "Expected object of scalar type {result} but got scalar type {out} "
                              "for argument 'out'")
nan_to_num_out = OutDtype("exact", "nan_to_num: dtype of out: {out} should be same as input: "
                                   "{result}")
float_power_out = OutDtype("exact", "the output given to float_power has dtype {out} but the "
                                    "operation's result requires dtype {result}")
signbit_out = OutDtype("exact", "signbit does not support non-boolean outputs.")
isposinf_out = OutDtype("exact", "isposinf does not support non-boolean outputs.")
isneginf_out = OutDtype("exact", "isneginf does not support non-boolean outputs.")
heaviside_out = OutDtype("exact", "heaviside is not yet implemented for tensors with different "
                                  "dtypes.")
take_out = OutDtype("exact", "take(): self and out expected to have the same dtype, but got "
                             "self.dtype = {result} and out.dtype = {out}")
index_select_out = OutDtype("exact", "index_select(): self and result must have the same "
                                     "scalar type")
masked_select_out = OutDtype("exact", "masked_select(): self and result must have the same "
                                      "scalar type")
quantile_out = OutDtype("exact", "quantile() out tensor must be same dtype as the input tensor")
narrow_copy_out = OutDtype("exact", "Expected self.dtype() == output.dtype() to be true, but got "
                                    "false.  (Could this error message be improved?  If so, "
                                    "please report an enhancement request to PyTorch.)")
ormqr_out = OutDtype("exact", "torch.ormqr: Expected input and result to have the same dtype, "
                              "but input has dtype{result} and result has dtype {out}")
addbmm_out = OutDtype("exact", "self and mat2 must have the same dtype, but got {out} and "
                               "{result}")
# max / min over all elements (over a dim: "exact", see `extremum_out`)
_ALL_EXTREMUM = OutDtype("cast", "Expected canCast( typeMetaToScalarType(self.dtype()), "
                                 "typeMetaToScalarType(out.dtype())) to be true, but got false.  "
                                 "(Could this error message be improved?  If so, please report "
                                 "an enhancement request to PyTorch.)")


def extremum_out(fn, out, *args, **kwargs):
    """max, min: over a dim, (values, indices) of exactly the result's dtypes; over all
    elements, a castable out; of two tensors (maximum / minimum), the "cast" rule, the
    autograd error naming maximum / minimum."""
    result = fn(*args, **kwargs)
    if isinstance(result, tuple):
        return write_out(result, out, fn.__name__, "exact")
    if len(args) > 1 and hasattr(args[1], "dtype") or "other" in kwargs:
        return write_out(result, out, {"max": "maximum", "min": "minimum"}[fn.__name__])
    return write_out(result, out, fn.__name__, _ALL_EXTREMUM)
cholesky_out = castable("cholesky")
cholesky_inverse_out = castable("cholesky_inverse")
cholesky_solve_out = castable("cholesky_solve")
geqrf_out = castable("torch.geqrf", "a")


def factory_out(fn, out, *args, dtype=None, requires_grad=False, **kwargs):
    """zeros, ones, full, empty, eye, linspace, logspace: made in out's dtype (a dtype= must
    be out's), out resized silently (torch's `resize_`), and out's requires_grad then set to
    requires_grad=, as torch's binding does (`zeros(3, out=t)` under no_grad leaves t
    requiring no grad)."""
    check_factory_dtype(dtype, out)
    if fn.__name__ == "empty" and out.requires_grad:  # (torch's empty(out=) is out.resize_)
        raise RuntimeError("cannot resize variables that require grad")
    result = fn(*args, dtype=out.dtype, **kwargs)
    check_out_grad(result, out, fn.__name__)
    if fn.__name__ in ("linspace", "logspace") and out._data.size == result._data.size:
        result = result.reshape(out._data.shape)  # (torch keeps out's shape then)
    return factory_written(result, out, requires_grad)


def check_factory_dtype(dtype, out) -> None:
    """torch's binding of a factory refuses a dtype= that is not out's."""
    if dtype is not None and _dtype.to_dtype(dtype) is not out.dtype:
        raise RuntimeError(f"dtype {short_name(_dtype.to_dtype(dtype))} does not match dtype "
                           f"of out parameter ({short_name(out.dtype)})")


def factory_written(result, out, requires_grad):
    """out, resized silently to result's shape, holding result, with requires_grad set to
    requires_grad= (torch's binding of factories)."""
    if out._data.shape != result._data.shape:
        out._data = get_array_module(out._data).empty(result._data.shape, out._data.dtype)
    write_out(result, out, False, "any")
    return set_requires_grad(out, requires_grad)


def set_requires_grad(out, requires_grad):
    """out with requires_grad set as torch's binding of a factory sets it after writing."""
    if requires_grad and not (out.dtype.is_floating_point or out.dtype.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    return out if out.requires_grad == bool(requires_grad) else \
        out.requires_grad_(bool(requires_grad))


_ARANGE_RESIZED = ("The number of elements in the out tensor of shape {} is {} which does not "
                   "match the computed number of elements {}. Note that this may occur as a "
                   "result of rounding error. The out tensor will be resized to a tensor of "
                   "shape ({},).")


def arange_out(result, out, requires_grad):
    """arange's out=: kept in its shape when it has the result's number of elements, else
    resized to 1-D (with torch's warning when it had elements)."""
    check_out_grad(result, out, "arange")
    count = result._data.size
    if out._data.size == count:
        result = result.reshape(out._data.shape)
    elif out._data.size:
        warn_at_caller(_ARANGE_RESIZED.format(list(out._data.shape), out._data.size, count,
                                              count))
    return factory_written(result, out, requires_grad)


def pieces_out(fn, out, *args, **kwargs):
    """split_copy, split_with_sizes_copy, unbind_copy: each piece written into its tensor of
    the list out=, and None returned, as torch's kernels (which have no autograd: out and the
    input may require grad)."""
    pieces = fn(*args, **kwargs)
    if fn.__name__ == "unbind_copy" and any(t.requires_grad for t in out):
        check_out_grad(pieces, out, "unbind_copy")  # (unbind_copy's out may not)
    for piece, target in zip(pieces, out):
        write_out(piece.detach(), target, False, "exact")


def diag_out(fn, out, *args, **kwargs):
    """diag: a result out's dtype cannot hold is diag's own error, any other dtype but the
    result's the "exact" one."""
    result = fn(*args, **kwargs)
    check_out_grad(result, out, "diag")
    if not can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"diag: result type {short_name(result.dtype)} can't be cast to the "
                           f"desired out= type {short_name(out.dtype)}")
    return write_out(result, out, False, "exact")


def search_out(fn, out, *args, out_int32=False, **kwargs):
    """searchsorted, bucketize: out must be int32 with out_int32=True, else int64."""
    if out.dtype.name != ("int32" if out_int32 else "int64"):
        raise RuntimeError(f"torch.searchsorted(): output tensor's dtype is wrong, it can only "
                           f"be Int(int32) or Long(int64) depending on whether out_int32 flag "
                           f"is True, but we got output tensor's dtype {short_name(out.dtype)} "
                           f"and out_int32 flag is {bool(out_int32)}")
    return write_out(fn(*args, out_int32=out_int32, **kwargs), out, fn.__name__, "exact")


def copied(rule="cast"):
    """The out= of an op torch writes as `out.copy_(result)` (inner, tensordot, diff, quantile,
    linalg.cond, ...): out's dtypes by `rule`, out resized (with torch's warning), then the
    copy, which autograd records (an input requiring grad makes out require grad) and which
    refuses a leaf out that requires grad, as any in-place op does."""

    def out_rule(fn, out, *args, **kwargs):
        result = fn(*args, **kwargs)
        check_out_dtype(result, out, rule)
        if out._data.shape != result._data.shape:
            if out._data.size:
                warn_at_caller(_RESIZED.format(list(out._data.shape), list(result._data.shape)))
            out._data = get_array_module(out._data).empty(result._data.shape, out._data.dtype)
        return out.copy_(result)

    return out_rule


_COMPLEX_OF = {"float32": _dtype.complex64, "float64": _dtype.complex128}


def var_out(fn, out, input, *args, **kwargs):
    """var, std over dims: computed in out's (floating) dtype, the input cast to it (a complex
    input to the complex dtype of out's precision); torch has no kernel for a real input and a
    complex out. Over all elements: the result cast into out."""
    dim = args[0] if args else kwargs.get("dim")
    if dim is None or isinstance(dim, bool):  # (var(x, unbiased): over all elements)
        return write_out(fn(input, *args, **kwargs), out, fn.__name__)
    if input.dtype.is_floating_point and out.dtype.is_complex:
        raise NotImplementedError(f"\"std_cpu\" not implemented for '{short_name(out.dtype)}'")
    if input.dtype.is_floating_point and out.dtype.is_floating_point:
        input = input.to(out.dtype)
    elif input.dtype.is_complex and out.dtype.name in _COMPLEX_OF:
        input = input.to(_COMPLEX_OF[out.dtype.name])
    return write_out(fn(input, *args, **kwargs), out, fn.__name__)
