"""Printing tensors exactly as PyTorch prints them: `repr(t)`, `str(t)` and `set_printoptions`.

The work happens on the NumPy array, in four steps that follow PyTorch's printer:

1. Summarise: above `threshold` elements only the first and last `edgeitems` entries of every
   dimension are shown, with `...` between them.
2. Choose one format for every element (`_Formatter`), from the finite non-zero values that
   will be shown: integer mode (`1.`), fixed point with `precision` digits, or scientific.
3. Lay the elements out: a row wraps at `linewidth`, nested dimensions are separated by as many
   newlines as they have dimensions below them, and indented to sit under their `[`.
4. Add the suffixes (`dtype=`, `grad_fn=`, `requires_grad=True`), starting a new line when the
   current one would pass `linewidth`.
"""

import contextlib
import dataclasses
import math

from ember import _dtype
from ember._backend import xp
from ember._registry import tensor_method
from ember._tensor import Tensor


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None  # None: chosen per tensor; True/False: forced


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Set how tensors print (matches `torch.set_printoptions`).

    NOTE [sci_mode resets]
    As in PyTorch, every call sets `sci_mode`, so a call that does not pass it returns to the
    automatic choice; a profile sets the other four options before the explicit ones apply.
    """
    if profile is not None:
        for name, value in _PROFILES.get(profile, {}).items():  # PyTorch ignores unknown ones
            setattr(PRINT_OPTS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current options, as keyword arguments for set_printoptions."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Set print options for the duration of a `with` block (matches torch's)."""
    old_kwargs = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old_kwargs)


class _Formatter:
    """One width and one notation for all the elements of a tensor (PyTorch's rules).

    Floats print in integer mode (`3.`) when every finite non-zero value is whole, otherwise
    with `precision` decimals; scientific notation takes over when the largest magnitude is
    more than 1000 times the smallest, above 1e8, or the smallest is below 1e-4. Zeros, nan and
    inf do not take part in the choice.
    """

    def __init__(self, array: xp.ndarray):
        self.floating = array.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = array.reshape(-1)
        if not self.floating:
            if flat.size:
                self.max_width = max(len(str(v)) for v in flat.tolist())
            return
        values = flat[xp.isfinite(flat) & (flat != 0)].astype(xp.float64)
        if values.size == 0:
            return
        magnitudes = xp.abs(values)
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(xp.all(values == xp.ceil(values)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = bool(largest / smallest > 1000.0 or largest > 1.0e8
                                 or smallest < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        precision = PRINT_OPTS.precision
        if self.sci_mode:
            pattern, extra = f"{{:.{precision}e}}", 0
        elif self.int_mode:
            pattern, extra = "{:.0f}", 1  # room for the trailing "."
        else:
            pattern, extra = f"{{:.{precision}f}}", 0
        self.max_width = max(len(pattern.format(v)) + extra for v in values.tolist())

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        """One element, right-aligned to the common width."""
        if self.floating:
            if self.sci_mode:
                text = f"{{:{self.max_width}.{PRINT_OPTS.precision}e}}".format(value)
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{{:.{PRINT_OPTS.precision}f}}".format(value)
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


class _ComplexFormatter:
    """Complex elements: the real parts and the imaginary parts each get their own _Formatter."""

    def __init__(self, array: xp.ndarray):
        self.real = _Formatter(array.real)
        self.imag = _Formatter(array.imag)

    def width(self) -> int:
        return self.real.width() + self.imag.width() + 1  # + the "j"

    def format(self, value) -> str:
        """`a+bj` as PyTorch prints it: the imaginary part keeps its own sign."""
        imag = (self.imag.format(value.imag) + "j").lstrip()
        sign = "" if imag[0] in "+-" else "+"
        return self.real.format(value.real) + sign + imag


def _summarized(array: xp.ndarray) -> xp.ndarray:
    """The elements a summarised print shows: the first and last `edgeitems` of every dim."""
    edge = PRINT_OPTS.edgeitems
    if array.ndim == 0:
        return array
    if not edge and array.ndim > 1:
        return xp.empty((0,) * array.ndim, dtype=array.dtype)
    if array.shape[0] > 2 * edge:
        array = xp.concatenate((array[:edge], array[array.shape[0] - edge:]))
    if array.ndim == 1:
        return array
    return xp.stack([_summarized(row) for row in array])


def _vector_str(array, indent, summarize, formatter) -> str:
    """A 1-D row: elements separated by ", ", wrapped to fit `linewidth`."""
    element_length = formatter.width() + 2
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and array.shape[0] > 2 * edge:
        data = ([formatter.format(v) for v in array[:edge].tolist()] + [" ..."]
                + [formatter.format(v) for v in array[array.shape[0] - edge:].tolist()])
    else:
        data = [formatter.format(v) for v in array.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(array, indent, summarize, formatter) -> str:
    """Any number of dims: rows of rows, separated by dim - 1 blank lines, indented by depth."""
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        return _vector_str(array, indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    count = array.shape[0]
    if summarize and count > 2 * edge:
        slices = ([_nested_str(array[i], indent + 1, summarize, formatter) for i in range(edge)]
                  + ["..."]
                  + [_nested_str(array[i], indent + 1, summarize, formatter)
                     for i in range(count - edge, count)])
    else:
        slices = [_nested_str(array[i], indent + 1, summarize, formatter) for i in range(count)]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(array: xp.ndarray, indent: int) -> str:
    """The bracketed values of a non-empty array, laid out from column `indent`."""
    if array.size == 0:
        return "[]"
    if array.dtype.name == "bfloat16":  # printed by value, as float32 (exact); by name: NOTE
        # [ml_dtypes loads on first use]
        array = array.astype(xp.float32)
    chooser = array  # the values that choose the format
    e8m0 = array.dtype.name == "float8_e8m0fnu"
    if _dtype.is_float8_cast(array.dtype, xp.dtype(xp.float32)):  # float8: the same way
        array = chooser = _dtype.cast_array(array, xp.float32)
        if e8m0:  # torch's `!= 0` test reads 0 as e8m0's least value 2^-127: it takes no part
            chooser = xp.where(array == xp.float32(2.0 ** -127), xp.float32(0.0), array)
    summarize = array.size > PRINT_OPTS.threshold
    kind = _ComplexFormatter if array.dtype.kind == "c" else _Formatter
    chooser = _summarized(chooser) if summarize else chooser
    formatter = kind(chooser)
    if e8m0 and xp.isnan(chooser).any():
        _count_nan_as_finite(formatter, chooser)
    return _nested_str(array, indent, summarize, formatter)


def _count_nan_as_finite(formatter, chooser) -> None:
    """PyTorch's quirk for float8_e8m0fnu, whose isfinite is true for NaN: a NaN is one of the
    values that choose the format, so integer mode is off and NaN's min / max make every
    scientific-notation test false (unless set_printoptions(sci_mode=...) decides)."""
    values = chooser[chooser != 0].reshape(-1)
    formatter.int_mode = False
    formatter.sci_mode = bool(PRINT_OPTS.sci_mode)
    pattern = f"{{:.{PRINT_OPTS.precision}{'e' if formatter.sci_mode else 'f'}}}"
    formatter.max_width = max(len(pattern.format(v)) for v in values.tolist())


def _add_suffixes(text, suffixes, indent) -> str:
    """Append `, suffix` items, each on a new line when it would pass `linewidth`."""
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t, *, tensor_contents=None) -> str:
    """`repr(t)` as PyTorch writes it: `tensor([1., 2.], dtype=torch.float64)`."""
    kind = type(t).__name__
    prefix = "tensor(" if type(t) is Tensor or kind == "Parameter" else f"{kind}("
    indent = len(prefix)
    array = t._data
    dtype = t.dtype
    default = _dtype.get_default_dtype()
    suffixes = []
    if array.size == 0:
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if dtype is not default:
            suffixes.append(f"dtype={dtype}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(array.shape)}")
        if dtype not in (default, _dtype.int64, _dtype.bool, default.to_complex()):
            suffixes.append(f"dtype={dtype}")
        body = _tensor_str(array, indent)
    if tensor_contents is not None:
        body = tensor_contents
    grad_fn, requires_grad, tangent = t.grad_fn, t.requires_grad, None
    if requires_grad and DUAL[0] is not None:  # forward mode's dual tensors exist
        grad_fn, requires_grad, tangent = DUAL[0](t)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name().rsplit('::', 1)[-1]}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:
        suffixes.append(f"tangent={tangent}")
    return _add_suffixes(prefix + body, suffixes, indent)


# ember.autograd.forward_ad.printed once a dual tensor was made: what a tensor requiring grad
# shows of grad_fn, requires_grad and its tangent (ember's duals are tensors requiring grad)
DUAL = [None]


@tensor_method("__repr__")
def tensor_repr_method(self, *, tensor_contents=None):
    return tensor_repr(self, tensor_contents=tensor_contents)
