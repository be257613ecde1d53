"""What the profiler calls an ember op: torch's aten names, from the op's grad_fn name.

NOTE [Profiler names of ember ops]
ember's op classes make nodes named as PyTorch's grad_fns (`AddmmBackward0`), and a grad_fn is
named after the aten op that made it, CamelCased by `str.title()` per word: so `XyzBackwardN`
gives the kernel's name back as `aten::xyz` (a capital after a lowercase letter starts a word;
one after a digit does not: `MaxPool2DWithIndices` is `max_pool2d_with_indices`; the few
names with a word after a digit are listed, `L1Loss`). A few kernels' names start with an
underscore that the CamelCase lost (`_softmax`).

Where PyTorch's profile shows a composite function over that kernel (`aten::linear` over
`aten::addmm`), ember's one op stands for both: `CALLED` names the function torch's user called,
and the profiler records it as an event around the kernel's (NOTE [Two events for a composite]
in _profiler_record.py). An op that takes another grad_fn name by rank or mode (`_named` in
ember/ops/conv.py) keeps its own kernel's name when that name is a shape op at the end of
torch's composition (a 3-d linear's `ViewBackward0` is still `aten::addmm`).

A user's `Function` (node `MyFnBackward`, no number) is recorded under its class name, as
torch's profile shows a Python Function's node.
"""

import functools
import math
import re

_BACKWARD = re.compile(r"Backward(\d+)(_copy)?$")
_WORD_START = re.compile(r"(?<=[A-Za-z])(?=[A-Z])")

# the grad_fn names of a composition's final shape step (NOTE [Profiler names of ember ops])
_TAILS = frozenset(("View", "UnsafeView", "Squeeze", "Unsqueeze"))

# the names where a word starts after a digit, which str.title() leaves ambiguous
_DIGIT_WORDS = {"l1loss": "l1_loss", "smooth_l1loss": "smooth_l1_loss",
                "grid_sampler2d": "grid_sampler_2d", "grid_sampler3d": "grid_sampler_3d"}

# kernels whose aten name starts with an underscore
_UNDERSCORED = frozenset((
    "unsafe_view", "softmax", "log_softmax", "safe_softmax", "to_copy", "euclidean_dist",
    "scaled_dot_product_flash_attention_for_cpu", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "ctc_loss", "fft_c2c", "fft_r2c", "fft_c2r", "sparse_sum", "sparse_softmax",
    "sparse_log_softmax", "sparse_addmm"))

# ember op class -> (the function torch's user called, its kernel): "{d}" is the op's spatial
# rank; a kernel of None is the grad_fn's kernel, "" records the called function alone
CALLED = {
    "Linear": ("aten::linear", None), "LinearNoBias": ("aten::linear", None),
    "Bilinear": ("aten::bilinear", ""), "Matmul": ("aten::matmul", ""),
    "VecMat": ("aten::matmul", ""), "MatBatch": ("aten::matmul", ""),
    "Convolution": ("aten::conv{d}d", None), "ConvTranspose": ("aten::conv_transpose{d}d", None),
    "Normalize": ("aten::batch_norm", None), "NormalizeLayer": ("aten::layer_norm", None),
    "NormalizeGroup": ("aten::group_norm", None), "MaxPool": ("aten::max_pool{d}d", None),
    "AdaptiveAvg": ("aten::adaptive_avg_pool{d}d", None),
    "Softmax": ("aten::softmax", None), "LogSoftmax": ("aten::log_softmax", None),
    "ScaledDotProductAttention": ("aten::scaled_dot_product_attention", None),
    "CausalAttention": ("aten::scaled_dot_product_attention", None),
    "CrossEntropy": ("aten::cross_entropy_loss", ""), "L1Loss": ("aten::l1_loss", None),
    "MaskScale": ("aten::dropout", None), "Reshape": ("aten::reshape", None),
    "ToCopy": ("aten::to", None), "LSTMLayer": ("aten::lstm", None),
    "Outer": ("aten::outer", None),
}

# the ops whose flops torch's profiler counts (with_flops): 2·(output size)·(summed length)
_PRODUCTS = frozenset(("Linear", "LinearNoBias", "Mm", "Bmm", "Matmul", "Addmm", "Baddbmm"))
_ELEMENTWISE = frozenset(("Add", "Mul"))
FLOPS_ON_CALLED = frozenset(("Convolution",))  # torch counts aten::conv2d's, not its kernel's


def snake(camel: str) -> str:
    """`MaxPool2DWithIndices` as `max_pool2d_with_indices` (the inverse of str.title())."""
    name = _WORD_START.sub("_", camel).lower()
    return _DIGIT_WORDS.get(name, name)


def kernel_name(cls) -> str:
    """The aten name of the kernel an op class stands for, or a user Function's name."""
    node = cls._backward_cls.__name__
    match = _BACKWARD.search(node)
    if match is None:
        if node == "CopyBackwards":
            return "aten::copy_"
        if getattr(cls, "_node_suffix", "") != "Backward0":  # a user's Function
            return node[:-len("Backward")] if node.endswith("Backward") else cls.__name__
        return "aten::" + snake(cls.__name__)  # CopySlices, NotImplemented: by the op itself
    stem = node[:match.start()]
    if stem in _TAILS:
        root = _root(cls)
        if root is not cls:
            return kernel_name(root)
    name = snake(stem) + ("_copy" if match.group(2) else "")
    return "aten::" + ("_" + name if name in _UNDERSCORED else name)


def _root(cls):
    """The op class an `_named` subclass renames (same class name, another grad_fn name)."""
    while cls.__bases__ and cls.__bases__[0].__name__ == cls.__name__:
        cls = cls.__bases__[0]
    return cls


@functools.lru_cache(maxsize=None)
def _names(cls):
    """(the called function's name template or None, the kernel's name or None)."""
    called = CALLED.get(cls.__name__)
    kernel = kernel_name(cls)
    if called is None:
        return None, kernel
    outer, own_kernel = called
    kernel = kernel if own_kernel is None else (own_kernel or None)
    return outer, kernel


def names(cls, args) -> tuple:
    """(outer, kernel): the event names of one call of op class cls; outer is None when the
    kernel alone is recorded, kernel None when the called function alone is."""
    outer, kernel = _names(cls)
    if outer is not None and "{d}" in outer:
        outer = outer.format(d=_spatial_rank(cls.__name__, args))
    if outer == kernel:
        return None, kernel
    return outer, kernel


def _spatial_rank(name, args) -> int:
    """The number of spatial dims of a convolution (its weight's) or pooling (its input's)."""
    tensor = args[1] if name.startswith("Conv") else args[0]
    return max(len(getattr(tensor, "shape", ())) - 2, 1)


def flops(cls, args, result) -> int:
    """The floating-point operations of a product or elementwise op (0 for the others)."""
    name = cls.__name__
    out = result[0] if isinstance(result, tuple) and result else result
    size = math.prod(getattr(out, "shape", ()) or (0,))
    if name in _ELEMENTWISE:
        return size
    if name in _PRODUCTS:
        first = args[1] if name in ("Addmm", "Baddbmm") else args[0]
        shape = getattr(first, "shape", ())
        return 2 * size * shape[-1] if shape else 0
    if name == "Convolution":
        weight = getattr(args[1], "shape", ())
        return 2 * size * math.prod(weight[1:]) if weight else 0
    return 0
