"""Elementwise functions of one tensor: exp, log, trig, sqrt, sigmoid, tanh, erf, abs, ... (relu:
rectifier.py)

Where the derivative is a function of the output (exp, sigmoid, tanh, sqrt) the output is saved,
not the input. Float functions of integer tensors compute in the default float dtype, as in
PyTorch.
"""

import math

from ember import _scipy
from ember._backend import quiet, xp
from ember._threads import flat_blocks
from ember._registry import op, tensor_method, torch_function
from ember.ops._opmath import is_half, magnitude, through_float64, widen
from ember.ops import activation_kernels
from ember.autograd import grad_mode
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op, array_result  # (a 0-d result: an array)
from ember.ops._util import float_operand
from ember.ops.conversion import strided_like
from ember.ops.comparison import zero_gradient
from ember.ops._wirtinger import chain, conj

_state = grad_mode._state


def gradient_by_kernel(kernel, gy, saved, *args, kept=()):
    """A first-order gradient kernel(o, gy, saved, *kept, *args) on arrays (ember/ops/
    activation_kernels.py) as a Tensor, or None where the op-level backward must run: under
    create_graph, or for other dtypes and shapes (16-bit floats: in float32, rounded once).
    kept: arrays of saved's shape that the forward kept (cut into chunks with it)."""
    g, d = gy._data, saved._data
    if _state["enabled"] or g.dtype != d.dtype or g.shape != d.shape or \
            d.dtype.char not in "fd" and not is_half(d.dtype):
        return None
    gx = activation_kernels.apply(lambda o, g, d, *k: kernel(o, g, d, *k, *args), widen(g),
                                  widen(d), *(widen(k) for k in kept))
    return Tensor._make(gx.astype(d.dtype, copy=False))


def scipy_erf_functions():
    """(erf, erfinv) from SciPy, exact to double precision, or (None, None) without SciPy."""
    if not _scipy.has_scipy():  # pragma: no cover - exercised only without SciPy
        return None, None
    return _scipy.function("erf"), _scipy.function("erfinv")


def _constant(array) -> Tensor:
    """A tensor outside the graph, e.g. a mask used inside a backward formula."""
    return Tensor._make(xp.asanyarray(array))


class Exp(Op):
    """y = e^x;  gx = gy·conj(y)."""

    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = array_result(xp.exp(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return chain(gy, y)


class Expm1(Op):
    """y = e^x - 1;  gx = gy·conj(y + 1)."""

    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = array_result(xp.expm1(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return chain(gy, y + 1)


class Log(Op):
    """y = ln x;  gx = gy / conj(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return xp.log(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / conj(x)


class Log2(Op):
    """y = log2 x;  gx = gy / conj(x·ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return through_float64(xp.log2, x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / conj(x * math.log(2.0))


class Log10(Op):
    """y = log10 x;  gx = gy / conj(x·ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return through_float64(xp.log10, x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / conj(x * math.log(10.0))


class Log1p(Op):
    """y = ln(1 + x);  gx = gy / conj(1 + x)."""

    node_name = "Log1PBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return xp.log1p(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / conj(x + 1)


class Sqrt(Op):
    """y = √x;  gx = gy / conj(2y)."""

    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = array_result(xp.sqrt(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy / conj(y * 2)


class Rsqrt(Op):
    """y = 1/√x;  gx = -gy·conj(y³)/2."""

    @staticmethod
    def forward(ctx, x):
        with quiet():  # (float16/bfloat16 in float32, rounded once: NOTE [opmath])
            y = array_result((1 / xp.sqrt(widen(x._data))).astype(x._data.dtype, copy=False))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return chain(gy, y * y * y) * -0.5


class Reciprocal(Op):
    """y = 1/x;  gx = -gy·conj(y²)."""

    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = array_result(xp.reciprocal(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return chain(-gy, y * y)


class Sin(Op):
    """y = sin x;  gx = gy·conj(cos x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.sin(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return chain(gy, cos(x))


class Cos(Op):
    """y = cos x;  gx = -gy·conj(sin x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.cos(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return chain(-gy, sin(x))


class Tan(Op):
    """y = tan x;  gx = gy·conj(1 + y²)."""

    @staticmethod
    def forward(ctx, x):
        y = array_result(xp.tan(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return chain(gy, y * y + 1)


class Asin(Op):
    """y = asin x;  gx = gy·conj(1/√(1 - x²))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return xp.arcsin(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return chain(gy, rsqrt(1 - x * x))


class Acos(Op):
    """y = acos x;  gx = -gy·conj(1/√(1 - x²))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return xp.arccos(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return chain(-gy, rsqrt(1 - x * x))


class Atan(Op):
    """y = atan x;  gx = gy / conj(1 + x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arctan(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / conj(x * x + 1)


class Sinh(Op):
    """y = sinh x;  gx = gy·conj(cosh x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return xp.sinh(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return chain(gy, cosh(x))


class Cosh(Op):
    """y = cosh x;  gx = gy·conj(sinh x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return xp.cosh(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return chain(gy, sinh(x))


class Tanh(Op):
    """y = tanh x;  gx = gy·conj(1 - y²)."""

    @staticmethod
    def forward(ctx, x):
        y = array_result(xp.tanh(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gx = gradient_by_kernel(activation_kernels.tanh_backward, gy, y)  # gy·fma(-y, y, 1)
        return chain(gy, 1 - y * y) if gx is None else gx


class Sigmoid(Op):
    """y = 1 / (1 + e^-x);  gx = gy·conj(y·(1 - y))."""

    @staticmethod
    def forward(ctx, x):
        y = Tensor._make(strided_like(_stable_sigmoid(x._data), x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gx = gradient_by_kernel(activation_kernels.sigmoid_backward, gy, y, y._data.dtype)
        return chain(gy, y * (1 - y)) if gx is None else gx


def _stable_sigmoid(x):
    """σ(x) without overflow: e^-|x| never exceeds 1 (complex x: 1 / (1 + e^-x) as it stands)."""
    if x.dtype.kind == "c":
        with quiet():
            return 1 / (1 + xp.exp(-x))
    w = widen(x)  # float16/bfloat16 in float32, rounded once (NOTE [opmath])
    if w.dtype.char in "fd":  # PyTorch's 1 / (1 + e^-x) in cache-sized chunks
        return activation_kernels.apply(activation_kernels.sigmoid, w).astype(x.dtype,
                                                                              copy=False)
    z = xp.exp(-xp.abs(w))
    return xp.where(w >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


class Erf(Op):
    """y = erf x;  gx = gy·2/√π·e^(-x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * exp(-(x * x)) * (2 / math.sqrt(math.pi))


def erf_array(x):
    """erf on an array: SciPy's when installed, else a rational approximation (|error| < 2e-7)."""
    scipy_erf = scipy_erf_functions()[0]
    if scipy_erf is not None:
        if x.ndim and x.dtype in (xp.float32, xp.float64):  # (SciPy's loops release the GIL)
            out = xp.empty(x.shape, dtype=x.dtype)
            flat_blocks(lambda o, v: scipy_erf(v, out=o), out, xp.ascontiguousarray(x))
            return out
        return scipy_erf(x).astype(x.dtype, copy=False)
    # Abramowitz & Stegun 7.1.26, fine for float32; install SciPy for float64 accuracy.
    t = 1 / (1 + 0.3275911 * xp.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                           + t * 1.061405429))))
    return (xp.sign(x) * (1 - poly * xp.exp(-x * x))).astype(x.dtype, copy=False)


class Erfinv(Op):
    """y = erf⁻¹ x;  gx = gy·√π/2·e^(y²)."""

    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = array_result(_scipy.function("erfinv")(x._data).astype(x._data.dtype, copy=False))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * exp(y * y) * (math.sqrt(math.pi) / 2)


class Abs(Op):
    """y = |x|;  gx = gy·sign(x) (abs'(0) = 0); for complex z, gz = gy·z/|z| (sgn z, 0 at 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return magnitude(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        if x._data.dtype.kind == "c":  # sgn z moves with z: kept in the graph
            return gy * x.sgn()
        return gy * _constant(sign_array(x._data))  # (0 at NaN, as PyTorch's sgn)


class Neg(Op):
    """y = -x;  gx = -gy."""

    @staticmethod
    def forward(ctx, x):
        return xp.negative(x._data)

    @staticmethod
    def backward(ctx, gy):
        return -gy


class PiecewiseConstant(Op):
    """y = f(x) for a step function f (floor, ceil, round, trunc, sign);  gx = 0."""

    node_name = "PiecewiseConstantBackward0"

    @staticmethod
    def forward(ctx, x, array_fn):
        return array_fn(x._data)

    @staticmethod
    def backward(ctx, gy):
        return zero_gradient(gy), None


def float_unary(op_class, aliases=(), real_only=None):
    """The public function of a float op, declared as a method with an in-place form and `out=`
    (and `aliases`): integer inputs compute in the default float dtype. `real_only` names the
    CPU kernel of an op PyTorch has no complex kernel for (its error for complex inputs)."""

    def fn(input):
        if real_only is not None and input.dtype.is_complex:
            refuse_complex_kernel(input, real_only)
        return op_class.apply(float_operand(input))

    fn.__name__ = fn.__qualname__ = op_class.__name__.lower()
    fn.__doc__ = f"Elementwise {fn.__name__} (matches `torch.{fn.__name__}`). {op_class.__doc__}"
    return op(method=True, inplace=True, aliases=aliases, out=True)(fn)


exp = float_unary(Exp)
expm1 = float_unary(Expm1)
log = float_unary(Log)
log2 = float_unary(Log2)
log10 = float_unary(Log10)
log1p = float_unary(Log1p)
sqrt = float_unary(Sqrt)
rsqrt = float_unary(Rsqrt)
reciprocal = float_unary(Reciprocal)
sin = float_unary(Sin)
cos = float_unary(Cos)
tan = float_unary(Tan)
asin = float_unary(Asin, aliases=("arcsin",))
acos = float_unary(Acos, aliases=("arccos",))
atan = float_unary(Atan, aliases=("arctan",))
sinh = float_unary(Sinh)
cosh = float_unary(Cosh)
tanh = float_unary(Tanh)
sigmoid = float_unary(Sigmoid)
erf = float_unary(Erf, real_only="erf_vml_cpu")
erfinv = float_unary(Erfinv, real_only="erfinv_vml_cpu")


@op(method=True, inplace=True, aliases=("absolute",), operators=("__abs__",), out="same")
def abs(input: Tensor) -> Tensor:
    """|input| (matches `torch.abs`)."""
    _refuse_bool(input, "abs_cpu")
    return Abs.apply(input)


_abs_written_into = Tensor.abs_


@torch_function("abs_")
@tensor_method("abs_", "absolute_")
def abs_(input: Tensor) -> Tensor:
    """|input| written into input (matches `torch.abs_`); torch refuses a complex tensor, whose
    |z| is real."""
    if input._data.dtype.kind == "c":
        raise RuntimeError("In-place abs is not supported for complex tensors.")
    return _abs_written_into(input)


@op(method=True, inplace=True, aliases=("negative",), operators=("__neg__",), out="same")
def neg(input: Tensor) -> Tensor:
    """-input (matches `torch.neg`)."""
    if input.dtype.name == "bool":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead.")
    return Neg.apply(input)


@op(method=True, inplace=True, out=True)
def square(input: Tensor) -> Tensor:
    """input² (matches `torch.square`); bool squares to int64, as pow(input, 2) does."""
    if input.dtype.name == "bool":
        input = input.long()
    return input * input


def _refuse_complex(name):
    """PyTorch's error for a step function of a complex tensor."""
    if name == "sign":
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex "
                                  "numbers. Please use torch.sgn instead.")
    raise NotImplementedError(f"{name} is not supported for complex inputs")


def refuse_complex_kernel(input, kernel):
    """PyTorch's error for an op without a complex CPU kernel."""
    raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(input.dtype)}\'')


def _refuse_bool(input, kernel, integers=False):
    """PyTorch has no kernel for this op on bool (or, with integers=True, integer) tensors."""
    if input.dtype.name == "bool" or (integers and not input.dtype.is_floating_point):
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{_type_word(input.dtype)}\'')


def _type_word(dtype):
    return short_name(dtype)


def _apply_step(input, array_fn, name):
    """array_fn(input) for a step function: zero gradient; integer inputs are returned as is."""
    if name == "sign" and input.dtype.name == "bool":
        return input.clone()
    if input.dtype.is_complex and name == "round":
        refuse_complex_kernel(input, "round_vml_cpu")
    if input.dtype.is_complex:
        _refuse_complex(name)
    if not input.dtype.is_floating_point and name != "sign":
        _refuse_bool(input, f"{name}_vml_cpu")
        return input.clone()
    return PiecewiseConstant.apply(input, array_fn)


def _step(array_fn, name, aliases=()):
    """The public function of a step function, declared as a method with an in-place form and
    `out=` (and `aliases`)."""

    def fn(input):
        return _apply_step(input, array_fn, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}; its gradient is zero (matches `torch.{name}`)."
    return op(method=True, inplace=True, aliases=aliases, out="same")(fn)


floor = _step(xp.floor, "floor")
ceil = _step(xp.ceil, "ceil")
trunc = _step(xp.trunc, "trunc", aliases=("fix",))
def sign_array(x):
    """PyTorch's sign: (0 < x) - (x < 0), so 0 for NaN and +0 for -0 (NumPy's is NaN, -0)."""
    return xp.subtract(x > 0, x < 0, dtype=x.dtype)


sign = _step(sign_array, "sign")


@op(method=True, inplace=True, out="same")
def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even, like PyTorch (matches `torch.round`)."""
    if decimals == 0:
        return _apply_step(input, xp.round, "round")
    return _apply_step(input, lambda a: xp.round(a, decimals), "round")


@op(method=True, inplace=True, out="same")
def frac(input: Tensor) -> Tensor:
    """input - trunc(input) (matches `torch.frac`)."""
    _refuse_bool(input, "frac_cpu", integers=True)
    return input - trunc(input)


@tensor_method("__pos__")
def tensor_pos(self):
    """+x is x itself (matches `Tensor.__pos__`)."""
    return self
