"""Recording the ops that have no autograd node: comparisons, logical and bitwise ops,
argmax/argmin, any/all, isnan/isinf/isfinite; and sort/argsort/topk, whose op is handed
an order.

NOTE [Ops outside the op protocol]
export records a model through `Function.apply` (NOTE [Recording through the op protocol] in
_trace.py), but an op whose result has no gradient (a comparison gives a bool tensor, argmax
indices) computes its array directly and never reaches it. While an export records, the public
faces of these ops (the Tensor methods and operators, and the `ember.<name>` functions) are
wrapped: a call goes to the recorder as a pseudo-op named after the function, with its arguments
in signature order. When no export records, the wrappers are not installed at all.
"""

import contextlib
import functools
import numbers
import sys

from ember._tensor import Tensor
from ember.autograd.function import EXPORT_HOOK

_BINARY = (("input", None), ("other", None))
_UNARY = (("input", None),)
_ARG_EXTREME = (("input", None), ("dim", None), ("keepdim", False))
_SORT = (("input", None), ("dim", -1), ("descending", False), ("stable", None))
_TOPK = (("input", None), ("k", None), ("dim", -1), ("largest", True), ("sorted", True))

# face name -> (the op's name for the converters, its parameters with defaults)
FACES = {
    "gt": ("gt", _BINARY), "greater": ("gt", _BINARY), "__gt__": ("gt", _BINARY),
    "lt": ("lt", _BINARY), "less": ("lt", _BINARY), "__lt__": ("lt", _BINARY),
    "ge": ("ge", _BINARY), "greater_equal": ("ge", _BINARY), "__ge__": ("ge", _BINARY),
    "le": ("le", _BINARY), "less_equal": ("le", _BINARY), "__le__": ("le", _BINARY),
    "eq": ("eq", _BINARY), "__eq__": ("eq", _BINARY),
    "ne": ("ne", _BINARY), "not_equal": ("ne", _BINARY), "__ne__": ("ne", _BINARY),
    "logical_and": ("logical_and", _BINARY), "logical_or": ("logical_or", _BINARY),
    "logical_xor": ("logical_xor", _BINARY), "logical_not": ("logical_not", _UNARY),
    "bitwise_and": ("bitwise_and", _BINARY), "__and__": ("bitwise_and", _BINARY),
    "bitwise_or": ("bitwise_or", _BINARY), "__or__": ("bitwise_or", _BINARY),
    "bitwise_xor": ("bitwise_xor", _BINARY), "__xor__": ("bitwise_xor", _BINARY),
    "bitwise_not": ("bitwise_not", _UNARY), "__invert__": ("bitwise_not", _UNARY),
    "argmax": ("argmax", _ARG_EXTREME), "argmin": ("argmin", _ARG_EXTREME),
    "isnan": ("isnan", _UNARY), "isinf": ("isinf", _UNARY), "isfinite": ("isfinite", _UNARY),
    "any": ("any", _ARG_EXTREME), "all": ("all", _ARG_EXTREME),
    # sort's op gets an order computed outside it: the face knows the direction
    "sort": ("sort", _SORT), "argsort": ("argsort", _SORT), "topk": ("topk", _TOPK),
}


class PseudoOp:
    """Stands for an op class in a recorded event: a name, and `apply` running the face."""

    def __init__(self, name: str, face, params):
        self.__name__ = name
        self.face, self.params = face, params

    def apply(self, *args):
        """The face on the recorded values (in signature order): the first positionally, the
        others by name when not their default (sort's `stable` is keyword-only in torch's
        signature, and argsort refuses an explicit stable=None)."""
        named = {name: value for (name, default), value in zip(self.params[1:], args[1:])
                 if value is not default}
        return self.face(args[0], **named)


def _recordable(args, params) -> bool:
    """A call export can write: a tensor first, a tensor or a number second."""
    if not args or not isinstance(args[0], Tensor):
        return False
    return len(params) != 2 or isinstance(args[1], (Tensor, numbers.Number))


def recording_face(name: str, original):
    """`original` wrapped so that, while an export records, a call is recorded as op `name`."""
    op_name, params = FACES[name]
    pseudo = PseudoOp(op_name, original, params)
    names = {p for p, _ in params}

    @functools.wraps(original)
    def face(*args, **kwargs):
        recorder = EXPORT_HOOK[0]
        if recorder is None or len(args) > len(params) or not set(kwargs) <= names:
            return original(*args, **kwargs)
        values = list(args) + [kwargs.get(p, default) for p, default in params[len(args):]]
        if not _recordable(values, params):
            return original(*args, **kwargs)
        return recorder(pseudo, tuple(values), {})

    return face


@contextlib.contextmanager
def untracked_faces():
    """Wrap the faces in FACES on Tensor and on the ember namespace for the block."""
    ember = sys.modules["ember"]  # imported by now: the model is ember's (no facade import)
    saved = []
    for owner in (Tensor, ember):
        for name in FACES:
            original = owner.__dict__.get(name) if owner is Tensor else getattr(owner, name, None)
            if original is not None:
                saved.append((owner, name, original))
                setattr(owner, name, recording_face(name, original))
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
