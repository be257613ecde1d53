"""The tensor pair of `torch.testing.assert_close`: attribute checks (shape, layout, stride,
device, dtype), then the values, dense or sparse.

Ported from PyTorch's torch/testing/_comparison.py (BSD-3-Clause, (c) PyTorch contributors),
adapted to ember's tensors (no quantized, nested or blocked-sparse tensors in ember).
"""

from collections.abc import Sequence
from typing import Any, NoReturn

from ember import _dtype
from ember._backend import quiet
from ember._tensor import Tensor, strided
from ember.ops.creation import as_tensor
from ember.sparse import sparse_coo, sparse_csc, sparse_csr
from ember.testing._messages import (magnitude, make_scalar_mismatch_msg,
                                     make_tensor_mismatch_msg)
from ember.testing._pairs import ErrorMeta, Pair, get_tolerances

_SUPPORTED_LAYOUTS = (strided, sparse_coo, sparse_csr, sparse_csc)
# layout -> (format name, compressed indices method, plain indices method)
_COMPRESSED_FORMATS = {sparse_csr: ("CSR", "crow_indices", "col_indices"),
                       sparse_csc: ("CSC", "ccol_indices", "row_indices")}
_UNSIGNED_WIDE = (_dtype.uint16, _dtype.uint32, _dtype.uint64)


def isclose(actual: Tensor, expected: Tensor, *, rtol: float, atol: float,
            equal_nan: bool) -> Tensor:
    """Elementwise closeness computed as ATen's `isclose` does (exact equality when both
    tolerances are 0, even for int64 values beyond float precision; integer errors in the
    default float dtype), so that assert_close decides as torch's does."""
    if not isinstance(equal_nan, bool):  # torch's argument parser takes only a bool
        raise TypeError(f"isclose(): argument 'equal_nan' must be bool, not "
                        f"{type(equal_nan).__name__}")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {value}")
    close = actual == expected
    if equal_nan and (actual.dtype.is_floating_point or actual.dtype.is_complex):
        close = close | (actual.isnan() & expected.isnan())
    if rtol == 0 and atol == 0:
        return close
    integral = not (actual.dtype.is_floating_point or actual.dtype.is_complex)
    default = _dtype.get_default_dtype()
    cast_actual = actual.to(default) if actual.dtype == _dtype.bool else actual
    cast_expected = expected.to(default) if integral else expected
    allowed_error = atol + magnitude(rtol * cast_expected)
    actual_error = magnitude(cast_actual - cast_expected)
    return close | (actual_error.isfinite() & (actual_error <= allowed_error))


def _is_bitwise(dtype) -> bool:
    """Whether values of dtype are compared bit for bit (the 1-byte floats)."""
    return dtype.is_floating_point and dtype.itemsize == 1


class TensorLikePair(Pair):
    """Tensors, or inputs `as_tensor` makes tensors of (NumPy arrays), of directly related types.

    The options: allow_subclasses, rtol, atol, equal_nan, check_device, check_dtype,
    check_layout, check_stride (as in `assert_close`).
    """

    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...] = (),
                 allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 **other_parameters: Any):
        actual, expected = self._process_inputs(actual, expected, id=id,
                                                allow_subclasses=allow_subclasses)
        super().__init__(actual, expected, id=id, **other_parameters)
        self.rtol, self.atol = get_tolerances(actual, expected, rtol=rtol, atol=atol,
                                              id=self.id)
        self.equal_nan = equal_nan
        self.check_device = check_device
        self.check_dtype = check_dtype
        self.check_layout = check_layout
        self.check_stride = check_stride

    def _process_inputs(self, actual: Any, expected: Any, *, id: tuple[Any, ...],
                        allow_subclasses: bool) -> tuple[Tensor, Tensor]:
        """The inputs as tensors, or UnsupportedInputs when their types are not related."""
        directly_related = isinstance(actual, type(expected)) or isinstance(expected,
                                                                            type(actual))
        if not directly_related:
            self._inputs_not_supported()
        if not allow_subclasses and type(actual) is not type(expected):
            self._inputs_not_supported()
        actual, expected = (self._to_tensor(input) for input in (actual, expected))
        for tensor in (actual, expected):
            self._check_supported(tensor, id=id)
        return actual, expected

    def _to_tensor(self, tensor_like: Any) -> Tensor:
        """A tensor as it is, anything else through as_tensor (or UnsupportedInputs)."""
        if isinstance(tensor_like, Tensor):
            return tensor_like
        try:
            return as_tensor(tensor_like)
        except Exception:
            self._inputs_not_supported()

    @staticmethod
    def _check_supported(tensor: Tensor, *, id: tuple[Any, ...]) -> None:
        """Refuse a layout the comparison does not know."""
        if tensor.layout not in _SUPPORTED_LAYOUTS:
            raise ErrorMeta(ValueError, f"Unsupported tensor layout {tensor.layout}", id=id)

    def compare(self) -> None:
        """Compare the attributes, then (off the meta device) the values."""
        actual, expected = self.actual, self.expected
        self._compare_attributes(actual, expected)
        if any(input.device.type == "meta" for input in (actual, expected)):
            return
        actual, expected = self._equalize_attributes(actual, expected)
        with quiet():  # inf - inf, 0 / 0: NaN without NumPy's warnings, as in torch
            self._compare_values(actual, expected)

    def _raise_mismatch_error(self, attribute_name: str, actual_value: Any,
                              expected_value: Any) -> NoReturn:
        """Fail with torch's message for one mismatching attribute."""
        self._fail(AssertionError, f"The values for attribute '{attribute_name}' do not match: "
                                   f"{actual_value} != {expected_value}.")

    def _compare_attributes(self, actual: Tensor, expected: Tensor) -> None:
        """Check the shape and quantization always; layout, stride, device and dtype as the
        check_* options say."""
        if actual.shape != expected.shape:
            self._raise_mismatch_error("shape", actual.shape, expected.shape)
        if actual.is_quantized != expected.is_quantized:
            self._raise_mismatch_error("is_quantized", actual.is_quantized,
                                       expected.is_quantized)
        if actual.layout != expected.layout:
            if self.check_layout:
                self._raise_mismatch_error("layout", actual.layout, expected.layout)
        elif (actual.layout == strided and self.check_stride
              and actual.stride() != expected.stride()):
            self._raise_mismatch_error("stride()", actual.stride(), expected.stride())
        if self.check_device and actual.device != expected.device:
            self._raise_mismatch_error("device", actual.device, expected.device)
        if self.check_dtype and actual.dtype != expected.dtype:
            self._raise_mismatch_error("dtype", actual.dtype, expected.dtype)

    @staticmethod
    def _equalize_attributes(actual: Tensor, expected: Tensor) -> tuple[Tensor, Tensor]:
        """Both on the CPU if their devices differ, promoted to a common dtype (uint16/32/64
        count as int64 here) and strided if their layouts differ."""
        if actual.is_mps or expected.is_mps or actual.device != expected.device:
            actual, expected = actual.cpu(), expected.cpu()
        if actual.dtype != expected.dtype:
            actual_dtype, expected_dtype = actual.dtype, expected.dtype
            if actual_dtype in _UNSIGNED_WIDE:
                actual_dtype = _dtype.int64
            if expected_dtype in _UNSIGNED_WIDE:
                expected_dtype = _dtype.int64
            dtype = _dtype.promote_types(actual_dtype, expected_dtype)
            actual, expected = actual.to(dtype), expected.to(dtype)
        if actual.layout != expected.layout:
            actual = actual.to_dense() if actual.layout != strided else actual
            expected = expected.to_dense() if expected.layout != strided else expected
        return actual, expected

    def _compare_values(self, actual: Tensor, expected: Tensor) -> None:
        """Compare the values the way the layout (and the 1-byte floats) call for."""
        if actual.is_sparse:
            compare_fn = self._compare_sparse_coo_values
        elif actual.layout in _COMPRESSED_FORMATS:
            compare_fn = self._compare_sparse_compressed_values
        elif _is_bitwise(actual.dtype):
            compare_fn = self._compare_bitwise_values
        else:
            compare_fn = self._compare_regular_values_close
        compare_fn(actual, expected, rtol=self.rtol, atol=self.atol, equal_nan=self.equal_nan)

    def _compare_bitwise_values(self, actual: Tensor, expected: Tensor, *, rtol: float,
                                atol: float, equal_nan: bool) -> None:
        """The 1-byte floats: only zero tolerances are allowed."""
        if rtol != 0.0 or atol != 0.0:
            raise ErrorMeta(AssertionError,
                            f"Rtol={rtol} and atol={atol} are not supported for bitwise "
                            "comparison of low dimensional floats. Please use rtol=0.0 and "
                            "atol=0.0.")
        self._compare_regular_values_close(actual, expected, rtol=rtol, atol=atol,
                                           equal_nan=equal_nan)

    def _compare_sparse_coo_values(self, actual: Tensor, expected: Tensor, *, rtol: float,
                                   atol: float, equal_nan: bool) -> None:
        """COO tensors: the sparse dims and nnz must match, the indices be equal and the values
        close."""
        if actual.sparse_dim() != expected.sparse_dim():
            self._fail(AssertionError,
                       f"The number of sparse dimensions in sparse COO tensors does not match: "
                       f"{actual.sparse_dim()} != {expected.sparse_dim()}")
        if actual._nnz() != expected._nnz():
            self._fail(AssertionError,
                       f"The number of specified values in sparse COO tensors does not match: "
                       f"{actual._nnz()} != {expected._nnz()}")
        self._compare_regular_values_equal(actual._indices(), expected._indices(),
                                           identifier="Sparse COO indices")
        self._compare_regular_values_close(actual._values(), expected._values(), rtol=rtol,
                                           atol=atol, equal_nan=equal_nan,
                                           identifier="Sparse COO values")

    def _compare_sparse_compressed_values(self, actual: Tensor, expected: Tensor, *,
                                          rtol: float, atol: float, equal_nan: bool) -> None:
        """CSR/CSC tensors: the nnz must match, both index tensors be equal (in a common
        dtype: each may be int32 or int64) and the values close."""
        format_name, compressed_name, plain_name = _COMPRESSED_FORMATS[actual.layout]
        if actual._nnz() != expected._nnz():
            self._fail(AssertionError,
                       f"The number of specified values in sparse {format_name} tensors does "
                       f"not match: {actual._nnz()} != {expected._nnz()}")
        actual_compressed = getattr(actual, compressed_name)()
        expected_compressed = getattr(expected, compressed_name)()
        indices_dtype = _dtype.promote_types(actual_compressed.dtype, expected_compressed.dtype)
        self._compare_regular_values_equal(
            actual_compressed.to(indices_dtype), expected_compressed.to(indices_dtype),
            identifier=f"Sparse {format_name} {compressed_name}")
        self._compare_regular_values_equal(
            getattr(actual, plain_name)().to(indices_dtype),
            getattr(expected, plain_name)().to(indices_dtype),
            identifier=f"Sparse {format_name} {plain_name}")
        self._compare_regular_values_close(actual.values(), expected.values(), rtol=rtol,
                                           atol=atol, equal_nan=equal_nan,
                                           identifier=f"Sparse {format_name} values")

    def _compare_regular_values_equal(self, actual: Tensor, expected: Tensor, *,
                                      equal_nan: bool = False, identifier=None) -> None:
        """Check that the values of two strided tensors are equal."""
        self._compare_regular_values_close(actual, expected, rtol=0, atol=0,
                                           equal_nan=equal_nan, identifier=identifier)

    def _compare_regular_values_close(self, actual: Tensor, expected: Tensor, *, rtol: float,
                                      atol: float, equal_nan: bool, identifier=None) -> None:
        """Check that the values of two strided tensors are close; 0-d ones fail with the
        scalar message."""
        matches = isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if matches.all():
            return
        if actual.shape == ():
            msg = make_scalar_mismatch_msg(actual.item(), expected.item(), rtol=rtol, atol=atol,
                                           identifier=identifier)
        else:
            msg = make_tensor_mismatch_msg(actual, expected, matches, rtol=rtol, atol=atol,
                                           identifier=identifier)
        self._fail(AssertionError, msg)

    def extra_repr(self) -> Sequence[str]:
        """The options shown in the repr."""
        return ("rtol", "atol", "equal_nan", "check_device", "check_dtype", "check_layout",
                "check_stride")
