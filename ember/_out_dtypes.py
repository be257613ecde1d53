"""Which dtypes an op's `out=` tensor may have: torch's rules, one per family of ops.

NOTE [out= dtypes]
torch writes an op's result into `out` only when out's dtype fits the op's family:
- "cast" (TensorIterator ops: elementwise ops with type promotion, mean, std, var): the result
  is cast into out when torch's `canCast` allows it (no complex into real, float into integer,
  non-bool into bool): `torch.mul(t, 2, out=long_tensor)` is "result type Float can't be cast
  to the desired output type Long";
- "exact" (structured kernels that make their output's dtype: mm, sort, argmax, softmax,
  the `*_copy` ops, ...): out must have the result's dtype, "Expected out tensor to have dtype
  float, but got double instead";
- "same" (unary ops that keep the input's dtype: abs, neg, floor, round, ...): the same test,
  worded by TensorIterator's `check_all_same_dtype`: "Found dtype Double but expected Float";
- "any": the op has checked out's dtype itself (or made the result in it): cast as it is.
An op declares its family with `@op(out="exact")` (ember/_registry.py); `out=True` is "cast".
Ops whose kernels word the "cast" or "exact" test their own way declare an `OutDtype` rule
(the FFTs' "complex" and "floating": an out of any complex / floating dtype):
`OutDtype("cast", "linalg.cond: Expected result to be safely castable from {result} dtype, ...")`.
"""

from ember._dtype import _category

# torch's C++ names of the dtypes, as the "exact" message prints them
_C_TYPES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>", "uint16": "uint16_t", "uint32": "uint32_t",
            "uint64": "uint64_t", "complex32": "c10::complex<c10::Half>"}
# torch's short names (Float, Long, ...), as the "cast" and "same" messages print them
_SHORT = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
          "complex64": "ComplexFloat", "complex128": "ComplexDouble", "bfloat16": "BFloat16",
          "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "complex32": "ComplexHalf"}


def short_name(d) -> str:
    """torch's short name of a dtype: Float, Long, ..."""
    return _SHORT.get(d.name, d.name)


def c_type(d) -> str:
    """torch's C++ type name of a dtype: float, long int, ..."""
    return _C_TYPES.get(d.name, d.name)


def can_cast(source, target) -> bool:
    """torch's `canCast`: no complex into real, float into integer, non-bool into bool."""
    return _category(source) <= _category(target)


class OutDtype:
    """A "cast" or "exact" rule worded by the op's own message: a template of {result} and
    {out} (torch's short names: Float, Long) or {result_c} and {out_c} (C++ names)."""

    __slots__ = ("kind", "message", "error")

    def __init__(self, kind, message, error=RuntimeError):
        self.kind, self.message, self.error = kind, message, error

    def check(self, source, target):
        """Raise the op's error when a `source` result may not go into a `target` out
        (kinds "complex" and "floating": an out of any such dtype takes the result)."""
        if self.kind == "complex" and target.is_complex or \
                self.kind == "floating" and target.is_floating_point:
            return
        if self.kind in ("exact", "complex", "floating") or not can_cast(source, target):
            raise self.error(self.message.format(
                result=short_name(source), out=short_name(target), result_c=c_type(source),
                out_c=c_type(target)))


def check_out_dtype(result, out, rule="cast") -> None:
    """Raise torch's RuntimeError when out's dtype does not fit the result's under `rule`
    (see NOTE [out= dtypes]); result and out are tensors."""
    source, target = result.dtype, out.dtype
    if source is target or rule == "any":
        return
    if type(rule) is OutDtype:
        return rule.check(source, target)
    if rule == "cast" and not can_cast(source, target):
        raise RuntimeError(f"result type {short_name(source)} can't be cast to the desired "
                           f"output type {short_name(target)}")
    if rule == "exact":
        raise RuntimeError(f"Expected out tensor to have dtype {c_type(source)}, but got "
                           f"{c_type(target)} instead")
    if rule == "same":
        raise RuntimeError(f"Found dtype {short_name(target)} but expected {short_name(source)}")


def castable(prefix, what="result") -> OutDtype:
    """The "cast" rule as torch's linear-algebra kernels word it."""
    return OutDtype("cast", f"{prefix}: Expected {what} to be safely castable from {{result}} "
                            f"dtype, but got {what} with dtype {{out}}")


# NOTE [out= and autograd]
# torch refuses an out= call recording gradients (`check_out_grad` in ember/_registry.py) in the
# autograd kernel of the op the call reaches, and names that op: a composite op names the op it
# is made of (`square` is pow, `hstack` is cat, `linalg.det` is _linalg_det). Ops whose out=
# kernel has no autograd (the `*_copy` views, softmax) take inputs that require grad, refuse
# only an out that requires grad, and name themselves `aten::<name>`.
_COMPOSED = {
    "true_divide": "div", "square": "pow", "float_power": "pow", "kron": "mul", "outer": "mul",
    "column_stack": "cat", "hstack": "cat", "vstack": "cat", "dstack": "cat", "msort": "sort",
    "take_along_dim": "gather", "multi_dot": "mm", "vecdot": "vdot", "cross": "linalg_cross",
    "det": "_linalg_det", "cholesky_ex": "linalg_cholesky_ex",
    "linalg_cholesky": "linalg_cholesky_ex", "eigh": "_linalg_eigh", "eigvalsh": "_linalg_eigh",
    "householder_product": "linalg_householder_product", "inv": "linalg_inv_ex",
    "inv_ex": "linalg_inv_ex", "lstsq": "linalg_lstsq", "lu_factor": "linalg_lu_factor_ex",
    "lu_factor_ex": "linalg_lu_factor_ex", "lu_solve": "linalg_lu_solve",
    "linalg_slogdet": "_linalg_slogdet", "linalg_svd": "_linalg_svd", "svd": "_linalg_svd",
    "svdvals": "_linalg_svd", "norm": "linalg_vector_norm", "vector_norm": "linalg_vector_norm",
    "pinv": "linalg_pinv", "qr": "linalg_qr", "solve": "_linalg_solve_ex",
    "solve_ex": "_linalg_solve_ex", "solve_triangular": "linalg_solve_triangular",
    "entr": "special_entr", "erfcx": "special_erfcx", "i0e": "special_i0e", "i1": "special_i1",
    "i1e": "special_i1e", "logndtr": "special_log_ndtr", "ndtri": "special_ndtri",
    "xlog1py": "special_xlog1py", "zeta": "special_zeta", "hfft": "_fft_c2r",
    "hfft2": "_fft_c2r", "hfftn": "_fft_c2r", "irfft": "_fft_c2r", "irfft2": "_fft_c2r",
    "irfftn": "_fft_c2r", "floor_divide": "aten::floor_divide", "heaviside": "aten::heaviside",
    "histogram": "aten::histogram", "ldl_factor": "aten::linalg_ldl_factor_ex",
    "ldl_factor_ex": "aten::linalg_ldl_factor_ex", "ldl_solve": "aten::linalg_ldl_solve"}
_WITHOUT_AUTOGRAD = {
    "alias_copy": "alias_copy", "as_strided_copy": "as_strided_copy",
    "conj_physical": "conj_physical", "diag": "diag_embed", "diagonal_copy": "diagonal_copy",
    "expand_copy": "expand_copy", "log_softmax": "log_softmax", "softmax": "softmax",
    "permute_copy": "permute_copy", "slice_scatter": "slice_scatter",
    "squeeze_copy": "squeeze_copy", "t_copy": "t_copy", "transpose_copy": "transpose_copy",
    "unfold_copy": "unfold_copy", "unsqueeze_copy": "unsqueeze_copy", "view_copy": "view_copy"}


def out_grad_name(name):
    """(the op torch's out= autograd error names for ember's op `name`, whether inputs that
    require grad are refused too) (NOTE [out= and autograd])."""
    if name in _WITHOUT_AUTOGRAD:
        return "aten::" + _WITHOUT_AUTOGRAD[name], False
    return _COMPOSED.get(name, name), True
