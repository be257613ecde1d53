"""Complex numbers: real/imag views, conj, angle, view_as_real/view_as_complex, complex, polar,
and the conjugate transposes `.H`/`.mH`/`adjoint`.

NOTE [Gradients of complex tensors]
PyTorch's convention (docs: "Autograd for Complex Numbers"): for a real loss L of z = a + ib,
the gradient stored for z is ∂L/∂a + i·∂L/∂b, which is 2·∂L/∂z̄ (the conjugate Wirtinger
derivative). So a holomorphic y = f(z) passes gz = gy·conj(f'(z)); y = Re z passes gz = gy;
y = Im z passes gz = i·gy; y = conj z passes gz = conj gy. A real input of an op that made a
complex output gets the real part of that formula. Every backward formula applies the rule by
conjugating its local derivative with ember/ops/_wirtinger.py's `conj`/`chain` (a no-op on real
tensors), and `ember.autograd.gradcheck` checks complex functions as pairs of real coordinates.
"""

import math

from ember._warnings import warn as _warn
from ember import _dtype
from ember._backend import xp
from ember._registry import op, tensor_method, write_out
from ember.ops._out_rules import polar_out
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops._util import check_broadcast
from ember.ops.broadcast import sum_to
from ember.ops.comparison import zero_gradient


# ---- real / imag ----------------------------------------------------------------------------
class Real(Op):
    """y = Re z (a view);  gz = gy (as a complex tensor)."""

    # PyTorch's real/imag are view_as_real(z).select(-1, k): a SelectBackward0 (after a
    # ViewAsRealBackward0, which ember folds into this one node)
    node_name = "SelectBackward0"

    @staticmethod
    def forward(ctx, z):
        ctx.complex_dtype = z.dtype
        return z._data.real

    @staticmethod
    def backward(ctx, gy):
        return to_complex(gy, ctx.complex_dtype)


class Imag(Op):
    """y = Im z (a view);  gz = i·gy."""

    node_name = "SelectBackward0"  # (as Real's)

    @staticmethod
    def forward(ctx, z):
        ctx.complex_dtype = z.dtype
        return z._data.imag

    @staticmethod
    def backward(ctx, gy):
        return complex(gy.new_zeros(gy.shape), gy)


class ToComplex(Op):
    """y = x + 0i, for a real x;  gx = Re gy."""

    node_name = "ToCopyBackward0"  # what a cast to a complex dtype is called in PyTorch

    @staticmethod
    def forward(ctx, x, dtype):
        return x._data.astype(dtype.numpy)

    @staticmethod
    def backward(ctx, gy):
        return real(gy), None


def to_complex(x: Tensor, dtype=None) -> Tensor:
    """x as a complex tensor (of `dtype`, default the complex partner of x's dtype), in graph."""
    dtype = dtype or x.dtype.to_complex()
    if x.dtype is dtype:
        return x
    if x.dtype.is_complex:
        return x.to(dtype)
    return ToComplex.apply(x, dtype)


@op
def real(input: Tensor) -> Tensor:
    """The real part, a view (matches `torch.real`); a real tensor is returned as it is."""
    if not input.dtype.is_complex:
        return input
    return Real.apply(input)._as_view_of(input, lambda a: a.real)


@op
def imag(input: Tensor) -> Tensor:
    """The imaginary part, a view (matches `torch.imag`)."""
    if not input.dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag.apply(input)._as_view_of(input, lambda a: a.imag)


@tensor_method("real")
@property
def _real(self) -> Tensor:
    return real(self)


@tensor_method("imag")
@property
def _imag(self) -> Tensor:
    return imag(self)


# ---- conj and angle -------------------------------------------------------------------------
class Conj(Op):
    """y = conj z;  gz = conj gy."""

    @staticmethod
    def forward(ctx, z):
        return xp.conj(z._data)

    @staticmethod
    def backward(ctx, gy):
        return conj_physical(gy)


@op(method=True, inplace=True, out="same")
def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate in new memory (matches `torch.conj_physical`)."""
    if not input.dtype.is_complex:
        return input
    return Conj.apply(input)


@op(method=True)
def conj(input: Tensor) -> Tensor:
    """The complex conjugate (matches `torch.conj`; ember copies where PyTorch sets a bit)."""
    return conj_physical(input)


@op
def is_complex(input: Tensor) -> bool:
    """Whether the tensor's dtype is complex (matches `torch.is_complex`)."""
    return input.dtype.is_complex


@op(method=True)
def resolve_conj(input: Tensor) -> Tensor:
    """The tensor with its conjugate bit materialised: ember has none (`torch.resolve_conj`)."""
    return input


@op(method=True)
def resolve_neg(input: Tensor) -> Tensor:
    """The tensor with its negative bit materialised: ember has none (`torch.resolve_neg`)."""
    return input


@op(method=True)
def is_conj(input: Tensor) -> bool:
    """Whether the conjugate bit is set: never in ember (matches `torch.is_conj`)."""
    return False


@op
def is_neg(input: Tensor) -> bool:
    """Whether the negative bit is set: never in ember (matches `torch.is_neg`)."""
    return False


class Angle(Op):
    """y = atan2(Im z, Re z);  gz = gy·i·z/|z|² (0 at z = 0); a real x gets gx = 0."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        if z.dtype.is_complex:
            return xp.angle(z._data)
        # Real inputs: 0 for x >= 0, pi for x < 0, nan stays nan (as PyTorch).
        data = z._data
        out = xp.where(data < 0, math.pi, 0.0).astype(data.dtype)
        return xp.where(xp.isnan(data), data, out)

    @staticmethod
    def backward(ctx, gy):
        (z,) = ctx.saved_tensors
        if not z.dtype.is_complex:
            return zero_gradient(gy)
        squared = z.real * z.real + z.imag * z.imag
        zero = Tensor._make(squared._data == 0)
        rotated = complex(-z.imag, z.real)  # i·z
        safe = squared.masked_fill(zero, 1.0)
        return (to_complex(gy / safe) * rotated).masked_fill(zero, 0)


@op(method=True, out=True)
def angle(input: Tensor) -> Tensor:
    """The argument of each element, in radians (matches `torch.angle`)."""
    if not (input.dtype.is_complex or input.dtype.is_floating_point):
        input = input.to(_dtype.get_default_dtype())
    return Angle.apply(input)


# ---- building complex tensors ---------------------------------------------------------------
class Complex(Op):
    """z = a + ib;  ga = Re gz, gb = Im gz (broadcast dims summed)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a._data.shape, b._data.shape)
        # (the parts set one by one: a + 1j·b would give an infinite b a nan real part,
        # 0·inf, where torch keeps b's infinity alone in the imaginary part)
        out = xp.empty(xp.broadcast_shapes(a._data.shape, b._data.shape),
                       dtype=a.dtype.to_complex().numpy)
        out.real, out.imag = a._data, b._data
        return out

    @staticmethod
    def backward(ctx, gz):
        ga = sum_to(real(gz), ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        gb = sum_to(imag(gz), ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return ga, gb


def _check_real_floats(first: Tensor, second: Tensor):
    """complex() and polar() take two half/float/double tensors (torch's message if not)."""
    for t in (first, second):
        if t.dtype not in (_dtype.float16, _dtype.float32, _dtype.float64):
            raise RuntimeError(
                f"Expected both inputs to be Half, Float or Double tensors but got "
                f"{short_name(first.dtype)} and {short_name(second.dtype)}")


@op
def complex(real: Tensor, imag: Tensor, *, out=None) -> Tensor:
    """real + i·imag, with broadcasting (matches `torch.complex`); `out` must have the complex
    partner of their dtype."""
    _check_real_floats(real, imag)
    if real.dtype is not imag.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {short_name(real.dtype)} but got scalar type "
            f"{short_name(imag.dtype)} "
            "for second argument")
    check_broadcast(real._data.shape, imag._data.shape)
    result = Complex.apply(real, imag)
    if out is None:
        return result
    if out.dtype is not result.dtype:
        raise RuntimeError(f"Expected object of scalar type {short_name(result.dtype)} but got "
                           f"scalar type {short_name(out.dtype)} for argument 'out'")
    return write_out(result, out)


@op(out=polar_out)
def polar(abs: Tensor, angle: Tensor) -> Tensor:
    """abs·(cos angle + i sin angle), with broadcasting (matches `torch.polar`)."""
    _check_real_floats(abs, angle)
    if abs.dtype is not angle.dtype:
        raise RuntimeError(
            f"Expected object of scalar type {short_name(abs.dtype)} but got scalar type "
            f"{short_name(angle.dtype)} "
            "for second argument")
    if abs.dtype is _dtype.float16:  # torch's CPU build has no half kernel for polar
        raise NotImplementedError('"polar_cpu" not implemented for \'Half\'')
    check_broadcast(abs._data.shape, angle._data.shape)
    return Polar.apply(abs, angle)


class Polar(Op):
    """z = r·(cos θ + i sin θ);  as PyTorch's polar_backward: gr = Re(conj(gz)·sgn z) (so 0
    where r = 0, and of the opposite sign where r < 0) and gθ = Re(conj(gz)·i·z)."""

    @staticmethod
    def forward(ctx, r, theta):
        a, t = r._data, theta._data
        out = xp.empty(xp.broadcast_shapes(a.shape, t.shape), dtype=r.dtype.to_complex().numpy)
        out.real, out.imag = a * xp.cos(t), a * xp.sin(t)
        z = Tensor._make(out)
        ctx.shapes = (a.shape, t.shape)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, gz):
        (z,) = ctx.saved_tensors
        gz = gz.conj()
        gr = sum_to(real(gz * z.sgn()), ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        gt = sum_to(real(gz * (z * 1j)), ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return gr, gt


# ---- real <-> complex views -----------------------------------------------------------------
class ViewAsReal(Op):
    """y[..., 0] = Re z, y[..., 1] = Im z (a view);  gz = view_as_complex(gy)."""

    @staticmethod
    def forward(ctx, z):
        return _real_view(z._data)

    @staticmethod
    def backward(ctx, gy):
        return view_as_complex(gy.contiguous())


class ViewAsComplex(Op):
    """z = x[..., 0] + i·x[..., 1] (a view);  gx = view_as_real(gz)."""

    @staticmethod
    def forward(ctx, x):
        return _complex_view(x._data)

    @staticmethod
    def backward(ctx, gz):
        return view_as_real(gz.contiguous())


def _real_view(array):
    """(re, im) pairs as a trailing dim: the real part's view, stepping one float to reach im."""
    real = array.real
    return xp.lib.stride_tricks.as_strided(real, array.shape + (2,),
                                           real.strides + (real.itemsize,))


def _complex_view(array):
    complex_dtype = xp.complex64 if array.dtype == xp.float32 else xp.complex128
    return array.view(complex_dtype)[..., 0]


@op
def view_as_real(input: Tensor) -> Tensor:
    """A real view with a trailing dim of 2 holding (re, im) (matches `torch.view_as_real`)."""
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return ViewAsReal.apply(input)._as_view_of(input, _real_view)


@op
def view_as_complex(input: Tensor) -> Tensor:
    """A complex view of a (..., 2) real tensor (matches `torch.view_as_complex`)."""
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(
            "view_as_complex is only supported for float and double tensors, but got a tensor "
            f"of scalar type: {input.dtype}")
    data = input._data
    if data.ndim == 0 or data.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if data.strides[-1] != data.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * data.itemsize) for s in data.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return ViewAsComplex.apply(input)._as_view_of(input, _complex_view)


# ---- conjugate transposes -------------------------------------------------------------------
@op(method=True)
def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (matches `torch.adjoint`)."""
    if input._data.ndim < 2:
        raise RuntimeError(
            f"tensor.adjoint() is only supported on matrices or batches of matrices. Got "
            f"{input._data.ndim}-D tensor.")
    return conj(input.transpose(-2, -1))


@tensor_method("mH")
@property
def _mH(self) -> Tensor:
    if self._data.ndim == 0:  # deprecated, but PyTorch still gives the conjugate
        _warn("Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return conj(self)
    if self._data.ndim < 2:
        raise RuntimeError(
            f"tensor.mH is only supported on matrices or batches of matrices. Got "
            f"{self._data.ndim}-D tensor.")
    return conj(self.transpose(-2, -1))


@tensor_method("H")
@property
def _H(self) -> Tensor:
    ndim = self._data.ndim
    if ndim == 2:
        return conj(self.t())
    if ndim == 0:  # deprecated, but PyTorch still gives the conjugate
        _warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return conj(self)
    hint = " For batches of matrices, consider using tensor.mH" if ndim > 2 else ""
    raise RuntimeError(
        f"tensor.H is only supported on matrices (2-D tensors). Got {ndim}-D tensor.{hint}")
