"""The short-time Fourier transform and its inverse (`torch.stft`, `torch.istft`).

stft = pad (center) → overlapping frames → times the window → fft of each frame.
istft = inverse fft of each frame → times the window → overlap-add → divided by the overlap-added
squared window (the envelope) → trimmed. Both are compositions of differentiable pieces: the
framing op `Frames` and its adjoint `OverlapAdd` (each is the other's backward), the fft ops of
ember/ops/fft.py, padding and elementwise arithmetic.
"""


from ember._warnings import warn_once as _warn_once
from ember._backend import scatter_add, xp
from ember._registry import op
from ember._tensor import Tensor, type_name
from ember.autograd.function import Op
from ember.ops.complex import view_as_real
from ember.ops.fft import fft, ifft, irfft, rfft
from ember.ops.padding import pad


# ---- framing and its adjoint ----------------------------------------------------------------
def _frame_starts(frames, hop):
    return xp.arange(frames) * hop


class Frames(Op):
    """y[..., t, k] = x[..., t·hop + k] (overlapping frames, a copy);  gx = overlap-add of gy."""

    @staticmethod
    def forward(ctx, x, size, hop):
        length = x._data.shape[-1]
        ctx.args = (length, hop)
        count = 1 + (length - size) // hop
        index = _frame_starts(count, hop)[:, None] + xp.arange(size)[None, :]
        return x._data[..., index]

    @staticmethod
    def backward(ctx, gy):
        length, hop = ctx.args
        return OverlapAdd.apply(gy, hop, length), None, None


class OverlapAdd(Op):
    """y[..., t·hop + k] += x[..., t, k], y of `length` samples;  gx = frames of gy."""

    @staticmethod
    def forward(ctx, x, hop, length):
        count, size = x._data.shape[-2:]
        ctx.args = (size, hop)
        index = (_frame_starts(count, hop)[:, None] + xp.arange(size)[None, :]).reshape(-1)
        flat = x._data.reshape(x._data.shape[:-2] + (count * size,))
        out = xp.zeros(x._data.shape[:-2] + (length,), dtype=x._data.dtype)
        moved = xp.moveaxis(out, -1, 0)
        scatter_add(moved, index, xp.moveaxis(flat, -1, 0))
        return out

    @staticmethod
    def backward(ctx, gy):
        size, hop = ctx.args
        return Frames.apply(gy, size, hop), None, None


# ---- stft -----------------------------------------------------------------------------------
def _type_string(t) -> str:
    """Tensor::toString, as PyTorch's C++ messages name a tensor's type: the legacy class name,
    or CPU<Scalar>Type for the dtypes that have none (complex, bfloat16)."""
    legacy = {"complex32": "ComplexHalf", "complex64": "ComplexFloat",
              "complex128": "ComplexDouble", "bfloat16": "BFloat16"}.get(t.dtype.name)
    return f"CPU{legacy}Type" if legacy else type_name(t)


def _describe(t):
    return f"{_type_string(t)}{list(t.shape)}"


def _opt(value) -> str:
    """A C++ optional<bool> as PyTorch's messages write it: None, 0 or 1."""
    return "None" if value is None else str(int(value))


def _repr_call(name, input, n_fft, hop_length, win_length, window, *flags) -> str:
    """PyTorch's REPR of an stft/istft call, which starts its argument errors; flags are
    (name, value) pairs written as optional bools."""
    shown = "None" if window is None else f"{_type_string(window)}{{{list(window.shape)}}}"
    rest = "".join(f", {key}={_opt(value)}" for key, value in flags)
    return (f"{name}({_describe(input)}, n_fft={n_fft}, hop_length={hop_length}, "
            f"win_length={win_length}, window={shown}{rest}) ")


def _centred_window(window, win_length, n_fft, dtype):
    """The window zero-padded on both sides to n_fft (ones when none was given)."""
    if window is None:
        window = Tensor._make(xp.ones(win_length, dtype=dtype.to_real().numpy))
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = pad(window, (left, n_fft - win_length - left))
    return window


@op(method=True)
def stft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None,
         center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided=None, return_complex=None, align_to_window=None) -> Tensor:
    """Fourier transforms of overlapping windowed frames (matches `torch.stft`)."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if window is None:
        _warn_once(  # (TORCH_WARN_ONCE)
            "A window was not provided. A rectangular window will be applied,which is known to "
            "cause spectral leakage. Other windows such as torch.hann_window or "
            "torch.hamming_window are recommended to reduce spectral leakage.To suppress this "
            "warning and use a rectangular window, explicitly set `window=torch.ones(n_fft, "
            "device=<device>)`. (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/"
            "native/SpectralOps.cpp:835.)", UserWarning, stacklevel=2)
    is_complex = input.dtype.is_complex or (window is not None and window.dtype.is_complex)
    if return_complex is None and not is_complex:
        raise RuntimeError(
            "stft requires the return_complex parameter be given for real inputs, and will "
            "further require that return_complex=True in a future PyTorch release.")
    if center:  # (torch.stft's Python front pads any input, as a batch of 1-channel signals)
        half, dims = n_fft // 2, input.dim()
        shape = (1,) * (3 - dims) + tuple(input.shape)
        input = pad(input.reshape(shape), (half, half), pad_mode)
        input = input.reshape(tuple(input.shape[len(input.shape) - dims:]))
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    call = _repr_call("stft", input, n_fft, hop_length, win_length, window,
                      ("normalized", normalized), ("onesided", onesided),
                      ("return_complex", return_complex), ("align_to_window", align_to_window))
    _check_stft(input, n_fft, hop_length, win_length, window, call)
    if onesided is None:
        onesided = not is_complex
    elif onesided and is_complex:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if return_complex is False:
        _warn_once(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft "
            "will return complex tensors for all inputs, and return_complex=False will raise "
            "an error.\nNote: you can still call torch.view_as_real on the complex output to "
            "recover the old return format. (Triggered internally at /__w/pytorch/pytorch/aten/"
            "src/ATen/native/SpectralOps.cpp:874.)", UserWarning, stacklevel=2)
    if align_to_window and win_length < n_fft:
        # Frame t's window covers input[t·hop : t·hop + win_length]: shift by the window's
        # offset inside the n_fft frame (the zero-padded parts of the window hide the padding).
        left = (n_fft - win_length) // 2
        input = pad(input, (left, n_fft - win_length - left))
    frames = Frames.apply(input, n_fft, hop_length)
    frames = frames * _centred_window(window, win_length, n_fft, input.dtype)
    if frames.dtype.name in ("float16", "bfloat16"):  # (stft calls MKL's transform directly)
        kind = "Half" if frames.dtype.name == "float16" else "BFloat16"
        raise RuntimeError(f"MKL FFT doesn't support tensors of type: {kind}")
    norm = "ortho" if normalized else "backward"
    spectrum = rfft(frames, norm=norm) if onesided else fft(frames, norm=norm)
    spectrum = spectrum.transpose(-2, -1)
    return spectrum if return_complex or return_complex is None else view_as_real(spectrum)


def _check_stft(input, n_fft, hop_length, win_length, window, call):
    """PyTorch's argument checks for stft (RuntimeError, naming the call as torch does)."""
    if input.dim() not in (1, 2):
        raise RuntimeError(f"{call}: expected a 1D or 2D tensor")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"{call}: expected a tensor of floating point or complex values")
    length = input.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{call}: expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"{call}: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(
            f"{call}: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win_length):
        raise RuntimeError(
            f"{call}: expected a 1D window tensor of size equal to win_length={win_length}, "
            f"but got window with size {list(window.shape)}")


def _check_istft(input, n_fft, hop_length, win_length, window, call, onesided) -> bool:
    """PyTorch's argument checks for istft, in its order (on view_as_real of the input);
    whether the spectrum is one-sided (by default: unless it has n_fft bins)."""
    dims = input.dim() + 1  # (PyTorch reads the frame and bin counts of view_as_real first)
    if dims < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-dims}, "
                         f"{dims - 1}], but got {-2 if dims < 2 else -3})")
    if input.numel() == 0:
        raise RuntimeError(f"{call}: input tensor cannot be empty.")
    if input.dim() + 1 not in (3, 4):
        raise RuntimeError(f"{call}: expected a tensor with 3 or 4 dimensions, but got "
                           f"{input.dim() + 1}")
    bins = input.shape[-2]
    onesided = bins != n_fft if onesided is None else onesided
    if onesided and bins != n_fft // 2 + 1:
        raise RuntimeError(f"{call}: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft / 2 + 1 when onesided=True, but got "
                           f"{bins}")
    if not onesided and bins != n_fft:
        raise RuntimeError(f"{call}: expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got {bins}")
    if not 0 < hop_length <= win_length:
        raise RuntimeError(f"{call}: expected 0 < hop_length <= win_length")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{call}: expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != win_length):
        raise RuntimeError(f"{call}: Invalid window shape. window has to be 1D and length of "
                           "`win_length`")
    return onesided


# ---- istft ----------------------------------------------------------------------------------
@op(method=True)
def istft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None,
          center: bool = True, normalized: bool = False, onesided=None, length=None,
          return_complex: bool = False) -> Tensor:
    """The signal whose stft is `input`, by weighted overlap-add (matches `torch.istft`)."""
    if window is None:
        _warn_once(  # (TORCH_WARN_ONCE)
            "A window was not provided. A rectangular window will be applied.Please provide "
            "the same window used by stft to make the inversion lossless.To suppress this "
            "warning and use a rectangular window, explicitly set `window=torch.ones(n_fft, "
            "device=<device>)`. (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/"
            "native/SpectralOps.cpp:1035.)", UserWarning, stacklevel=2)
    if not input.dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    call = _repr_call("istft", input, n_fft, hop_length, win_length, window,
                      ("center", center), ("normalized", normalized), ("onesided", onesided),
                      ("length", length), ("return_complex", return_complex))
    onesided = _check_istft(input, n_fft, hop_length, win_length, window, call, onesided)
    real_dtype = input.dtype.to_real()
    window = _centred_window(window, win_length, n_fft, real_dtype)
    norm = "ortho" if normalized else "backward"
    spectra = input.transpose(-2, -1)
    if return_complex:
        if onesided:
            raise RuntimeError("cannot have onesided output if window or input is complex")
        frames = ifft(spectra, n=n_fft, norm=norm)
    else:
        if window.dtype.is_complex:
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not onesided:
            spectra = spectra[..., :n_fft // 2 + 1]
        frames = irfft(spectra, n=n_fft, norm=norm)
    count = frames.shape[-2]
    total = n_fft + hop_length * (count - 1)
    signal = OverlapAdd.apply(frames * window, hop_length, total)
    squared = (window * window).expand(count, n_fft)
    envelope = OverlapAdd.apply(squared, hop_length, total)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = total - n_fft // 2 if center else total
    end = min(end, total)
    signal = signal[..., start:end]
    envelope = envelope[start:end]
    if envelope.numel() and float(envelope.abs().min()) < 1e-11:
        # (PyTorch's message writes the failed check, a bool tensor, where the minimum goes)
        raise RuntimeError(f"{call}window overlap add min: 1\n[ CPUBoolType{{}} ]")
    signal = signal * envelope.reciprocal()  # a real divisor, also for complex signals
    if length is not None and signal.shape[-1] < length:
        _warn_once(
            "The length of signal is shorter than the length parameter. Result is being padded "
            "with zeros in the tail. Please check your center and hop_length settings. "
            "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/"
            "SpectralOps.cpp:1199.)", UserWarning, stacklevel=2)
        signal = pad(signal, (0, length - signal.shape[-1]))
    return signal

