"""PyTorch's argument checks for the class-index losses (nll_loss, cross_entropy), in its order.

NOTE [nll_loss's checks in PyTorch's order]
PyTorch's nll_loss checks the batch size first (a ValueError), then routes by the input's rank:
1-D and 2-D inputs go to the plain kernel (at most 1-D targets, the target's dtype, a 1-D
input's 1-element target, the weight's length, then the input's dtype); 4-D inputs go to the
2-D spatial kernel (3-D targets, the target's dtype, the weight's length, the spatial sizes,
the input's dtype); 3-D and 5-D+ inputs are flattened to 4-D after checking the target's whole
shape. cross_entropy runs log_softmax over dim 1 first, so a 0-d input is an IndexError and an
integer input fails there (unless it is empty: an empty tensor's log_softmax never reaches the
typed kernel).
"""


from ember._backend import xp
from ember._dtype import _category, get_default_dtype, promote_types
from ember._tensor import Tensor, short_name as _type_word


def _target_batch(target: Tensor) -> int:
    """PyTorch reads a 0-d target's batch size as 0."""
    return target.shape[0] if target.ndim else 0


def check_weight_size(input: Tensor, weight, vector: bool = True, prefix: str = "") -> None:
    """A class weight has one entry per class (and is 1-D, where `vector` says so)."""
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    if weight is not None and (weight.numel() != classes or vector and weight.ndim != 1):
        raise RuntimeError(f"{prefix}weight tensor should be defined either for all {classes} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")


def _check_weight_dtype(input: Tensor, weight) -> None:
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_type_word(input.dtype)} but found "
                           f"{_type_word(weight.dtype)}")


def _check_target_dtype(target: Tensor) -> None:
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{_type_word(target.dtype)}")


def check_input_dtype(input: Tensor, kernel: str) -> None:
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(input.dtype)}\'')


def check_class_target(input: Tensor, target: Tensor, weight=None) -> None:
    """nll_loss's checks of input, class-index target and class weight (see NOTE)."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim != 1 and _target_batch(target) != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({_target_batch(target)}).")
    if input.ndim <= 2:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        _check_target_dtype(target)
        if input.ndim == 1 and target.ndim == 1 and target.shape[0] != 1:
            raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                             f"{target.shape[0]}")
        check_weight_size(input, weight)
        check_input_dtype(input, "nll_loss_out_frame")
        _check_weight_dtype(input, weight)
        return
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if input.ndim == 4:
        if target.ndim != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {target.ndim}")
    elif tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    _check_target_dtype(target)
    if weight is not None and weight.numel() != input.shape[1]:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if tuple(target.shape) != expected or not input.shape[1]:  # no classes: PyTorch's reshape
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: "
                           f"{list(target.shape)}")
    check_input_dtype(input, "nll_loss2d_forward_out_frame")
    _check_weight_dtype(input, weight)


def check_cross_entropy(input: Tensor, target: Tensor, weight) -> None:
    """cross_entropy's checks for class-index targets: log_softmax's, then nll_loss's."""
    if weight is None and _plain_batch(input._data, target._data):
        return
    if input.numel():
        check_log_softmax_dtype(input)
    check_class_target(input, target, weight)


def check_log_softmax_dtype(input: Tensor) -> None:
    """log_softmax over dim 1 takes floating inputs; PyTorch's kernel is named by whether the
    class dim is the last one."""
    check_input_dtype(input, "log_softmax_lastdim_kernel_impl" if input.ndim <= 2 else
                      "log_softmax_kernel_impl")


def _castable(source, target) -> bool:
    """torch.can_cast for the real dtypes: never to a lower kind (float to int, int to bool)."""
    return _category(source) <= _category(target)


def pointwise_dtype(input: Tensor, target: Tensor, kernel=None, to_input: bool = False,
                    floating: bool = False):
    """The dtype a pointwise loss computes in, or PyTorch's error.

    NOTE [Pointwise loss dtypes]
    mse_loss and smooth_l1_loss compute in the promoted dtype of input and target, and their
    kernels take floating dtypes only; huber_loss and soft_margin_loss write into a tensor of the
    input's dtype, so the promoted dtype must cast to it first ("result type Float can't be cast
    to the desired output type Long"); soft_margin_loss computes at least in the default float
    dtype (`floating`). `kernel` names the kernel that refuses integers (None: any dtype
    computes, as l1_loss's subtraction does).
    """
    promoted = promote_types(input.dtype, target.dtype)
    if floating and not promoted.is_floating_point:
        promoted = get_default_dtype()
    if to_input and not _castable(promoted, input.dtype):
        raise RuntimeError(f"result type {_type_word(promoted)} can't be cast to the desired "
                           f"output type {_type_word(input.dtype)}")
    if kernel is not None and not promoted.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(promoted)}\'')
    return input.dtype if to_input else promoted


def check_multi_margin_kernel(x: Tensor, target: Tensor, weight) -> None:
    """multi_margin_loss's kernel checks on the (N, C) input, in PyTorch's order: the weight's
    size, the input's dtype, the target's, the weight's, then the class indices' range."""
    if weight is not None and weight.numel() != x.shape[1]:
        raise RuntimeError(f"inconsistent weight size, expected {x.shape[1]} but got "
                           f"{list(weight.shape)}")
    check_input_dtype(x, "multi_margin_loss_cpu_kernel")
    if target.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {_type_word(target.dtype)}")
    _check_weight_dtype(x, weight)
    index = target._data
    if index.size and (index.min() < 0 or index.max() >= x.shape[1]):
        raise RuntimeError("target out of range")


def require_tensors(fn: str, **arguments) -> None:
    """torch's TypeError for an argument of a C++ loss that is not a tensor (in order)."""
    for position, (name, value) in enumerate(arguments.items(), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")


def check_bce_dtypes(input: Tensor, target: Tensor) -> None:
    """binary_cross_entropy's kernel takes a target of the input's dtype, a floating one."""
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {_type_word(target.dtype)} but expected "
                           f"{_type_word(input.dtype)}")
    check_input_dtype(input, "binary_cross_entropy")


def bce_with_logits_dtype(input: Tensor, target: Tensor):
    """binary_cross_entropy_with_logits's (computing dtype, result dtype): PyTorch computes in
    the promoted dtype and writes the loss in the target's dtype."""
    check_input_dtype(input, "log_sigmoid_cpu")
    if target.dtype.name == "bool":  # PyTorch computes 1 - target
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    promoted = promote_types(input.dtype, target.dtype)
    if not _castable(promoted, target.dtype):
        raise RuntimeError(f"result type {_type_word(promoted)} can't be cast to the desired "
                           f"output type {_type_word(target.dtype)}")
    return promoted, target.dtype


def check_multilabel_margin(input: Tensor, target: Tensor) -> None:
    """multilabel_margin_loss's shape check (a single sample's target has its input's number
    of elements) and kernel dtypes."""
    if input.ndim <= 1:
        classes = input.shape[0] if input.ndim else 1
        fits = target.ndim <= 1 and target.numel() == classes
    else:
        fits = tuple(target.shape) == tuple(input.shape)
    if not fits:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    check_input_dtype(input, "multilabel_margin_loss_forward_out_frame")
    if target.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {_type_word(target.dtype)}")
    labels = target._data
    classes = input.shape[-1] if input.ndim else 1
    if labels.size and (labels.min() < -1 or labels.max() >= classes):  # also after a -1
        raise RuntimeError("argument #2 'target' is out of range")


def _plain_batch(x, index) -> bool:
    """The common case every check passes on, seen from the arrays alone: floating (N, C)
    logits with N > 0, an int64 target of shape (N,)."""
    return (x.ndim == 2 and index.ndim == 1 and x.shape[0] == index.shape[0] > 0
            and x.dtype.kind == "f" and index.dtype == _INT64)


_INT64 = xp.dtype(xp.int64)
