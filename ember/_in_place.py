"""Ops that write their result straight into the tensor of an in-place call (`x.relu_()`,
`x += y`): no new array, no copy back.

NOTE [Writing in place]
An in-place op computes its value with the out-of-place op, then `_inplace_update` copies it
into the tensor (NOTE [In-place ops and autograd] in ember/ops/inplace.py). For the in-place
ReLU and residual additions of a conv net that is a new activation-sized array and a second
pass over memory per call. Ops whose backward needs no input value (add and sub need none;
relu keeps its output, which the write makes the tensor itself) declare `writes_in_place`:
their in-place variant checks that the write is allowed (PyTorch's leaf and view errors, raised
before any memory changes), then names the tensor's array as the target while the op runs, and
the op's kernel, finding its first operand to be that array, writes its result there. The
target is served once (the op's own inner ops never see it) and only to a kernel whose result
has the target's shape and dtype (a broadcast `x += y` into a bigger shape, or a promoted
dtype, computes out of place and `_inplace_update` raises PyTorch's error with x untouched).
Views compute out of place: their history rewrite reads the base as it was. The rest of
`_inplace_update` (version counter, grad_fn, the saved output now being the tensor) is as for
any in-place op. Measured on the CIFAR ResNet (13 relu_ and 6 `out += residual` a step):
its training step took 0.95-0.97x the time. Tensors under MIN_ELEMENTS take the usual way.
"""

import threading

from ember._backend import xp
from ember._threads import flat_blocks

_local = threading.local()
_ACTIVE = [0]  # in-place writes running (any thread): 0 keeps every other op's check to a read


# Elements from which an in-place op writes straight into the tensor: below it the saving (an
# allocation and a copy of a few KB) is less than the bookkeeping (measured: x += y and relu_
# on 1000 floats 10-15% slower through the direct write)
MIN_ELEMENTS = 1 << 14


def set_target(array):
    """Name `array` as the target of the in-place op about to run on this thread (None: no
    target any more)."""
    if array is None:
        _ACTIVE[0] -= 1
    else:
        _ACTIVE[0] += 1
    _local.target = array


def target_for(array):
    """`array` itself when an in-place op on it is running on this thread and has not been
    served yet (it is then served), else None."""
    if not _ACTIVE[0] or getattr(_local, "target", None) is not array:
        return None
    _local.target = None
    return array


def binary(ufunc, a, b):
    """ufunc(a, b), written into a when a is an in-place op's target and the result has a's
    shape and dtype (on the intra-op threads when big)."""
    target = target_for(a)
    if target is None or b.dtype != a.dtype or (
            b.shape != a.shape and xp.broadcast_shapes(a.shape, b.shape) != a.shape):
        return ufunc(a, b)
    if b.shape == a.shape and (b is a or not xp.may_share_memory(a, b)):
        flat_blocks(lambda out, x, y: ufunc(x, y, out=out), a, a, b)
    else:  # (NumPy's one call sorts out overlapping operands)
        ufunc(a, b, out=a)
    return a


_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")


def assert_no_internal_overlap(array):
    """torch's `assert_no_internal_overlap` of an in-place op's target: an expanded tensor (a
    stride 0 over more than one element) is refused. Cheap when no stride is 0."""
    if 0 in array.strides and array.size and any(stride == 0 and size > 1
                                  for size, stride in zip(array.shape, array.strides)):
        raise RuntimeError(_OVERLAP)


def writable(array):
    """array, or a writable view of it when it is a read-only broadcast (an expanded tensor's
    array: fill_ and zero_ write through it, as torch's do)."""
    if array.flags.writeable:
        return array
    view = array.view()
    view.flags.writeable = True
    return view
