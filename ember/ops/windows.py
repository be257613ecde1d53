"""Window functions: the top-level `torch.*_window` and the windows of `torch.signal.windows`.

The top-level windows compute as PyTorch's C++ does, op by op in the requested dtype (so their
roundings are PyTorch's); the signal windows are computed in float64 on the sample positions
and cast to the requested dtype. A symmetric window of length M is the textbook formula over
n = 0..M-1 with denominator M - 1; a periodic one (`periodic=True` / `sym=False`) is the
symmetric window of length M + 1 without its last sample, the form spectral analysis (stft)
wants.
"""

import math
from collections.abc import Iterable

from ember import _dtype
from ember._backend import quiet, xp
from ember._registry import op
from ember._schemas import parser
from ember._tensor import Tensor, strided
from ember.ops._allocation import check_allocation


def _finish(values, dtype, requires_grad) -> Tensor:
    return Tensor._make(xp.asarray(values, dtype=dtype.numpy), requires_grad=requires_grad)


# ---- torch.*_window -------------------------------------------------------------------------
def _window_dtype(name, window_length, dtype):
    """The dtype of a top-level window, after PyTorch's checks of length and dtype."""
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    dtype = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    return dtype


def _top_level(name, window_length, periodic, dtype, requires_grad, formula):
    """formula(n, N, step) on the positions n = arange(N) of a symmetric window of N points,
    cut when periodic. As PyTorch's, the arithmetic is op by op in the window's dtype: `step`
    rounds each intermediate to it (a 16-bit dtype computes in float32, then rounds)."""
    dtype = _window_dtype(name, window_length, dtype)
    if window_length <= 1:
        return _finish(xp.ones(window_length), dtype, requires_grad)
    points = window_length + 1 if periodic else window_length
    store = xp.dtype(dtype.numpy)
    compute = xp.float32 if dtype.itemsize == 2 else store.type

    def step(values):
        return xp.asarray(values, dtype=store).astype(compute, copy=False)

    def scalar(value):  # (PyTorch's C++ scalar arguments become the window's dtype first)
        return compute(xp.asarray(value, dtype=store))

    values = formula(step(xp.arange(points)), points, step, scalar)
    return _finish(values[:window_length], dtype, requires_grad)


def _cosine_sum(n, N, step, c, alpha, beta):
    """α - β·cos(2πn/(N-1)) as PyTorch's hamming_window: n·(2π/(N-1)), cos, ·(-β), +α."""
    return step(step(step(xp.cos(step(n * c(2 * math.pi / (N - 1))))) * c(-beta)) + c(alpha))


@op
def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, requires_grad=False) -> Tensor:
    """w[n] = 0.5 - 0.5·cos(2πn / (N - 1)) (matches `torch.hann_window`)."""
    return _top_level("hann_window", window_length, periodic, dtype, requires_grad,
                      lambda n, N, step, c: _cosine_sum(n, N, step, c, 0.5, 0.5))


@op
def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False) -> Tensor:
    """w[n] = α - β·cos(2πn / (N - 1)) (matches `torch.hamming_window`)."""
    return _top_level("hamming_window", window_length, periodic, dtype, requires_grad,
                      lambda n, N, step, c: _cosine_sum(n, N, step, c, alpha, beta))


@op
def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad=False) -> Tensor:
    """w[n] = 0.42 - 0.5·cos(2πn/(N-1)) + 0.08·cos(4πn/(N-1)) (`torch.blackman_window`),
    summed as PyTorch does: (0.08·cos(4x) - 0.5·cos(2x)) + 0.42, x = πn/(N-1)."""
    def formula(n, N, step, c):
        x = step(n * c(math.pi / (N - 1)))
        four = step(step(xp.cos(step(x * c(4)))) * c(0.08))
        two = step(step(xp.cos(step(x * c(2)))) * c(0.5))
        return step(step(four - two) + c(0.42))

    return _top_level("blackman_window", window_length, periodic, dtype, requires_grad,
                      formula)


@op
def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad=False) -> Tensor:
    """w[n] = 1 - |2n/(N - 1) - 1|, a triangle (matches `torch.bartlett_window`): n·2/(N-1),
    and 2 - that over the second half, as PyTorch computes it."""
    def formula(n, N, step, c):
        w = step(n * c(2 / (N - 1)))
        half = ((N - 1) >> 1) + 1
        w[half:] = step(step(w[half:] * c(-1)) + c(2))
        return w

    return _top_level("bartlett_window", window_length, periodic, dtype, requires_grad,
                      formula)


@op
def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None,
                  layout=None, device=None, requires_grad=False) -> Tensor:
    """w[n] = I0(β·sqrt(|1 - ((n - α)/α)²|)) / I0(β), α = (N-1)/2 (matches
    `torch.kaiser_window`; PyTorch's kernel computes it in one go, in float32 for 16-bit
    dtypes; here in float64, then rounded once)."""
    def formula(n, N, step, c):
        alpha = (N - 1) / 2.0
        ratio = (n.astype(xp.float64) - alpha) / alpha
        return xp.i0(beta * xp.sqrt(xp.abs(1 - ratio ** 2))) / xp.i0(beta)

    return _top_level("kaiser_window", window_length, periodic, dtype, requires_grad, formula)


# ---- torch.signal.windows -------------------------------------------------------------------
def _signal_dtype(name, M, dtype, layout=None):
    """The dtype of a signal window, after PyTorch's checks (ValueError, as torch.signal)."""
    dtype = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (_dtype.float32, _dtype.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _early(M, dtype, requires_grad, one=True):
    """PyTorch's windows of length 0 (and 1 when `one`), returned before M is used as
    linspace's `steps` (so a 0-d float tensor, [0] or True works there); None otherwise."""
    if M == 0 or (one and M == 1):
        return _finish(xp.ones(1 if M == 1 else 0), dtype, requires_grad)
    return None


def _steps(M) -> int:
    """M as linspace's `steps`, through linspace's argument parser as PyTorch's window code
    passes it: an int or a 0-d integer tensor; a bool, a float or any other tensor is the
    parser's TypeError."""
    (_, kwargs), _ = parser("torch.linspace").parse((0.0, 1.0), {"steps": M})
    check_allocation((kwargs["steps"],), 32)  # float64 positions and values, then the cast
    return kwargs["steps"]


def _span(M, sym):
    """The denominator length: M - 1 for symmetric windows, M for periodic ones."""
    return M if not sym and M > 1 else M - 1


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None,
                   requires_grad=False) -> Tensor:
    """w[n] = Σ_i (-1)^i·a_i·cos(2πi·n / N) (matches `torch.signal.windows.general_cosine`)."""
    dtype = _signal_dtype("general_cosine", M, dtype, layout)
    early = _early(M, dtype, requires_grad)
    if early is not None:
        return early
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    M = _steps(M)
    phase = 2 * math.pi * xp.arange(M, dtype=xp.float64) / (M if not sym else M - 1)
    values = sum((-1) ** i * w * xp.cos(i * phase) for i, w in enumerate(a))
    return _finish(values, dtype, requires_grad)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None,
                    requires_grad=False) -> Tensor:
    """w[n] = α - (1 - α)·cos(2πn / N) (matches `torch.signal.windows.general_hamming`)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype,
                          layout=layout, requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None,
            requires_grad=False) -> Tensor:
    """The Hamming window (matches `torch.signal.windows.hamming`)."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout,
                           requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    """The Hann window (matches `torch.signal.windows.hann`)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """The Blackman window (matches `torch.signal.windows.blackman`)."""
    _signal_dtype("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype,
                          layout=layout, requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None,
            requires_grad=False) -> Tensor:
    """The minimum 4-term Blackman-Harris window (matches `torch.signal.windows.nuttall`)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """w[n] = 1 - |2n/N - 1|, a triangle (matches `torch.signal.windows.bartlett`)."""
    dtype = _signal_dtype("bartlett", M, dtype, layout)
    early = _early(M, dtype, requires_grad)
    if early is not None:
        return early
    M = _steps(M)
    values = 1 - xp.abs(-1 + xp.arange(M, dtype=xp.float64) * 2 / _span(M, sym))
    return _finish(values, dtype, requires_grad)


def cosine(M, *, sym=True, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """w[n] = sin(π(n + 0.5) / N) (matches `torch.signal.windows.cosine`)."""
    dtype = _signal_dtype("cosine", M, dtype, layout)
    early = _early(M, dtype, requires_grad, one=False)
    if early is not None:
        return early
    width = M + 1 if not sym and M > 1 else M
    M - 1  # noqa: B018 -- PyTorch's grid ends at M - 1 (+ ½): a bool tensor M refuses that
    M = _steps(M)
    values = xp.sin(math.pi * (xp.arange(M, dtype=xp.float64) + 0.5) / width)
    return _finish(values, dtype, requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
                requires_grad=False) -> Tensor:
    """w[n] = exp(-|n - c| / τ) (matches `torch.signal.windows.exponential`)."""
    dtype = _signal_dtype("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    early = _early(M, dtype, requires_grad, one=False)
    if early is not None:
        return early
    if center is None:
        center = _span(M, sym) / 2.0
    M = _steps(M)
    values = xp.exp(-xp.abs(xp.arange(M, dtype=xp.float64) - center) / tau)
    return _finish(values, dtype, requires_grad)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """w[n] = exp(-(n - N/2)² / (2σ²)) (matches `torch.signal.windows.gaussian`)."""
    dtype = _signal_dtype("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    early = _early(M, dtype, requires_grad, one=False)
    if early is not None:
        return early
    middle = _span(M, sym) / 2.0
    M = _steps(M)
    offsets = xp.arange(M, dtype=xp.float64) - middle
    values = xp.exp(-(offsets / (std * math.sqrt(2))) ** 2)
    return _finish(values, dtype, requires_grad)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """w[n] = I0(β·sqrt(1 - (2n/N - 1)²)) / I0(β) (matches `torch.signal.windows.kaiser`)."""
    dtype = _signal_dtype("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    early = _early(M, dtype, requires_grad)
    if early is not None:
        return early
    M = _steps(M)
    ratio = xp.minimum(-1 + xp.arange(M, dtype=xp.float64) * 2 / (M if not sym else M - 1), 1)
    with quiet():
        values = xp.i0(beta * xp.sqrt(xp.maximum(1 - ratio * ratio, 0))) / xp.i0(beta)
    return _finish(values, dtype, requires_grad)
