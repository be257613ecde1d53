"""PyTorch's argument checks for `torch.nn.functional.embedding_bag`, in its order.

NOTE [embedding_bag's checks]
PyTorch's Python function first swaps the arguments of the old order `embedding_bag(weight,
input)` (an int64 weight and a floating input), then checks the per-sample weights' shape, the
weight's rank, the input's rank with its offsets, and the mode (ValueErrors); its C++ kernel then
checks the dtypes (indices and offsets Long or Int, weight floating, per-sample weights of the
weight's dtype), the offsets (starting at 0, ending within the input) and the indices' range
(RuntimeErrors).
"""


from ember._warnings import warn as _warn
from ember._tensor import Tensor

_MODES = ("sum", "mean", "max")


def check_embedding_bag(input: Tensor, weight: Tensor, offsets, per_sample_weights, mode: str,
                        scale_grad_by_freq: bool, sparse: bool):
    """(input, weight) in the current order, after PyTorch's checks (see NOTE)."""
    if weight.dtype.name == "int64" and input.dtype.is_floating_point:
        _warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=3)
        weight, input = input, weight
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is "
                         f"not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    _check_input_rank(input, offsets)
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    _check_kernel(input, weight, offsets if input.ndim == 1 else None, per_sample_weights,
                  mode)
    return input, weight


def _check_input_rank(input: Tensor, offsets) -> None:
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")


def _dtype_error(argument: str, allowed: str, tensor: Tensor) -> RuntimeError:
    return RuntimeError(f"Expected tensor for argument #1 '{argument}' to have one of the "
                        f"following scalar types: {allowed}; but got {tensor.type()} instead "
                        "(while checking arguments for embedding_bag)")


def _check_kernel(input, weight, offsets, per_sample_weights, mode):
    """The C++ kernel's checks (offsets: the 1-D input's, None for a 2-D input)."""
    for name, tensor in (("indices", input), ("offsets", offsets)):
        if tensor is not None and tensor.dtype.name not in ("int64", "int32"):
            raise _dtype_error(name, "Long, Int", tensor)
    if not weight.dtype.is_floating_point:
        raise _dtype_error("weight", "Half, BFloat16, Float, Double", weight)
    if per_sample_weights is not None and per_sample_weights.dtype is not weight.dtype:
        raise RuntimeError("Expected tensor for argument #1 'weight' to have the same type as "
                           "tensor for argument #1 'per_sample_weights'; but type "
                           f"{weight.type()} does not equal {per_sample_weights.type()} (while "
                           "checking arguments for embedding_bag)")
    if offsets is not None and offsets.numel():
        first, last = int(offsets._data[0]), int(offsets._data[-1])
        if first != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the "
                               "mini-batch has to start from position 0. However, got "
                               f"{first}")
        if last > input.numel():
            raise RuntimeError(f"offsets[-1] can not be greater than input's length "
                               f"{input.numel()} but got offsets[-1] of {last}")
    _check_indices(input, weight.shape[0], mode)


def _check_indices(input: Tensor, rows: int, mode: str) -> None:
    index = input._data.reshape(-1)
    bad = (index < 0) | (index >= rows)
    if not bad.any():
        return
    position = int(bad.nonzero()[0][0])
    value = int(index[position])
    if mode == "max":
        raise RuntimeError("embedding_bag: Expected idx >= 0 && idx < num_embeddings but found "
                           f"idx to be {value}")
    raise RuntimeError(f"Index {position} of input takes value {value} which is not in the "
                       f"valid range [0, {rows})")
