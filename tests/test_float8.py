"""ember's float8 dtypes against PyTorch's: properties, finfo, conversions bit for bit (every
byte pattern, a float32 sweep with inf / NaN / overflow / subnormals, float64 and integer
sources), promotion errors, printing and loading torch-saved files."""

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import ember

NAMES = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]
WIDE = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
        "bool"]


def _sweep() -> np.ndarray:
    """float32 values: random bit patterns (NaN payloads, subnormals, huge), specials, ranges."""
    rng = np.random.default_rng(8)
    bits = rng.integers(0, 2 ** 32, size=200_000, dtype=np.uint64).astype(np.uint32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 448, 464, 465, 480, 500,
                        -500, 57344, 61440, 65536, 240, 247, 248, 2 ** -9, 2 ** -10, 2 ** -11,
                        2 ** -16, 2 ** -17, 2 ** -18, 1.5 * 2 ** -17, 2 ** -127, 2 ** -128,
                        2 ** 127, 1.5 * 2 ** 127, 3e38, 1e-45], dtype=np.float32)
    return np.concatenate([special, bits.view(np.float32),
                           np.linspace(-600, 600, 20001, dtype=np.float32),
                           np.linspace(-1e-3, 1e-3, 20001, dtype=np.float32)])


def _bits_of(t):
    """The bytes of a float8 tensor of either library, as uint8."""
    lib = ember if isinstance(t, ember.Tensor) else torch
    return t.view(lib.uint8).numpy()


@pytest.mark.parametrize("name", NAMES)
def test_dtype_properties(name):
    """repr, is_floating_point, is_signed, itemsize, is_complex as torch's."""
    e, t = getattr(ember, name), getattr(torch, name)
    assert repr(e) == repr(t) == f"torch.{name}"
    for attr in ("is_floating_point", "is_signed", "itemsize", "is_complex"):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert ember.empty(3, dtype=e).element_size() == 1


def test_float4_is_a_name():
    """float4_e2m1fn_x2: torch's properties; finfo refuses it (TypeError, as torch)."""
    e, t = ember.float4_e2m1fn_x2, torch.float4_e2m1fn_x2
    assert repr(e) == repr(t)
    assert (e.is_floating_point, e.is_signed, e.itemsize) == (t.is_floating_point, t.is_signed,
                                                              t.itemsize)
    with pytest.raises(TypeError):  # torch: "bad argument type for built-in operation"
        ember.finfo(e)


@pytest.mark.parametrize("name", NAMES + ["bfloat16", "float16", "float32"])
def test_finfo(name):
    """Every finfo field equals torch's (float8: PyTorch's numeric_limits, quirks included)."""
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(e, field) == getattr(t, field), field
    assert repr(e) == repr(t)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("source", ["float32", "float64", "float16", "bfloat16", "int64", "bool"])
def test_to_float8_bit_for_bit(name, source):
    """x.to(float8) gives torch's bytes: saturation, NaN patterns, e8m0's exponent rounding."""
    values = _sweep()
    if source in ("int64", "bool"):
        values = np.nan_to_num(values, posinf=1e9, neginf=-1e9)
    if source == "float64":  # values between float32's: torch rounds through float32
        rng = np.random.default_rng(1)
        with np.errstate(invalid="ignore"):  # signalling NaNs among the bit patterns
            wide = values.astype(np.float64)
        extra = rng.standard_normal(20000) * 10.0 ** rng.integers(-9, 6, 20000)
        values = np.concatenate([wide, extra])
    t = torch.from_numpy(values.copy())
    if source == "int64":
        t = torch.arange(-70000, 70000, 7)
    t = t.to(getattr(torch, source))
    e = ember.from_numpy(t.float().numpy() if source == "bfloat16" else t.numpy().copy())
    e = e.to(getattr(ember, source))
    np.testing.assert_array_equal(_bits_of(e.to(getattr(ember, name))),
                                  _bits_of(t.to(getattr(torch, name))))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("target", WIDE + NAMES)
def test_from_float8_every_byte(name, target):
    """All 256 float8 patterns converted to every dtype: torch's bit patterns (NaNs too)."""
    u = np.arange(256, dtype=np.uint8)
    e = ember.from_numpy(u.copy()).view(getattr(ember, name)).to(getattr(ember, target))
    t = torch.from_numpy(u.copy()).view(getattr(torch, name)).to(getattr(torch, target))
    assert str(e.dtype) == str(t.dtype)
    if e.dtype.itemsize == 1 and target != "bool":
        np.testing.assert_array_equal(e.view(ember.uint8).numpy(), t.view(torch.uint8).numpy())
    elif e.dtype.is_floating_point:
        width = {2: (ember.int16, torch.int16), 4: (ember.int32, torch.int32),
                 8: (ember.int64, torch.int64)}[e.dtype.itemsize]
        np.testing.assert_array_equal(e.view(width[0]).numpy(), t.view(width[1]).numpy())
    else:
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_conversion_keeps_layout_and_values():
    """A transposed float32 tensor to float8 and back: torch's strides and values."""
    x = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32) * 100
    e = ember.from_numpy(x.copy()).t().to(ember.float8_e4m3fn)
    t = torch.from_numpy(x.copy()).t().to(torch.float8_e4m3fn)
    assert e.stride() == t.stride()
    np.testing.assert_array_equal(e.float().numpy(), t.float().numpy())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("other", ["float32", "bfloat16", "int64", "bool", "uint16", "complex64",
                                   "float8_e5m2", "float8_e8m0fnu"])
def test_promote_types(name, other):
    """Promotion with any other dtype is torch's RuntimeError, with its message."""
    t_args = getattr(torch, name), getattr(torch, other)
    e_args = getattr(ember, name), getattr(ember, other)
    for order in (1, -1):
        try:
            expected = torch.promote_types(*t_args[::order])
        except RuntimeError as error:
            with pytest.raises(RuntimeError) as raised:
                ember.promote_types(*e_args[::order])
            assert str(raised.value) == str(error)
        else:
            assert str(ember.promote_types(*e_args[::order])) == str(expected)


def test_binary_ops_refuse_other_dtypes():
    """float8 tensor with a float32 / int64 tensor: torch's RuntimeError; with a Python scalar
    result_type keeps the float8 dtype."""
    e = ember.ones(3).to(ember.float8_e4m3fn)
    t = torch.ones(3).to(torch.float8_e4m3fn)
    for other in ("float32", "int64"):
        with pytest.raises(RuntimeError):
            torch.result_type(t, torch.ones(3, dtype=getattr(torch, other)))
        with pytest.raises(RuntimeError, match="Promotion for Float8 Types"):
            ember.result_type(e, ember.ones(3, dtype=getattr(ember, other)))
    for scalar in (1, 1.5, True):
        assert str(ember.result_type(e, scalar)) == str(torch.result_type(t, scalar))
    with pytest.raises(RuntimeError):
        torch.result_type(t, 1j)
    with pytest.raises(RuntimeError):
        ember.result_type(e, 1j)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("values", [[1.0, 2.5, -3.0], [1.0, 2.0, 512.0, 0.001],
                                    [0.0, 1e-3, 7.0], [[0.5, 1.5], [2.0, 448.0]], [3.0],
                                    [2.0 ** 100, 1.0], [1.0, float("nan"), 0.0],
                                    [2.0 ** 100, 1.0, float("nan")], [float("nan")],
                                    [float("inf"), -2.0, 1e-6]])
def test_printing(name, values):
    """repr of a float8 tensor is torch's."""
    source = np.array(values, dtype=np.float32)
    e = ember.from_numpy(source.copy()).to(getattr(ember, name))
    t = torch.from_numpy(source.copy()).to(getattr(torch, name))
    assert repr(e) == repr(t)
    assert repr(e[0]) == repr(t[0])


def test_printing_scalars_and_empty():
    """0-d, empty and many-element float8 tensors print as torch's."""
    for name in NAMES:
        e = ember.from_numpy(np.linspace(-3, 3, 2000, dtype=np.float32)).to(getattr(ember, name))
        t = torch.linspace(-3, 3, 2000).to(getattr(torch, name))
        assert repr(e) == repr(t)
        assert repr(ember.empty(0, dtype=getattr(ember, name))) == repr(
            torch.empty(0, dtype=getattr(torch, name)))


def test_load_torch_saved_float8(tmp_path):
    """A torch.save'd dict of float8 tensors loads in ember with the same bytes and dtypes."""
    path = tmp_path / "f8.pt"
    data = torch.linspace(-500, 500, 37)
    saved = {name: data.to(getattr(torch, name)) for name in NAMES}
    torch.save(saved, path)
    loaded = ember.load(path)
    for name in NAMES:
        assert str(loaded[name].dtype) == f"torch.{name}"
        np.testing.assert_array_equal(_bits_of(loaded[name]), _bits_of(saved[name]))


def test_save_loads_in_torch(tmp_path):
    """ember.save writes float8 tensors (and a strided view of one) the way torch does: an
    untyped storage and _rebuild_tensor_v3; torch.load reads the same bytes back."""
    path = tmp_path / "e.pt"
    x = ember.from_numpy(np.linspace(-500, 500, 37, dtype=np.float32))
    saved = {name: x.to(getattr(ember, name)) for name in NAMES}
    saved["view"] = saved["float8_e5m2"][3:20:4]
    ember.save(saved, path)
    loaded = torch.load(path)
    for key, e in saved.items():
        assert str(loaded[key].dtype) == str(e.dtype)
        assert loaded[key].stride() == e.stride()
        np.testing.assert_array_equal(_bits_of(loaded[key]), _bits_of(e))
    again = ember.load(path)
    np.testing.assert_array_equal(_bits_of(again["view"]), _bits_of(saved["view"]))


def test_load_safetensors(tmp_path):
    """A .safetensors file with safetensors' F8_E4M3 / F8_E5M2 / F8_E8M0 records loads with the
    same dtypes and bytes (torch.load hands such paths to safetensors)."""
    path = tmp_path / "f8.safetensors"
    data = torch.linspace(-300, 300, 11)
    saved = {name: data.to(getattr(torch, name))
             for name in ("float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu")}
    save_file(saved, str(path))
    loaded = ember.load(path)
    for name, t in saved.items():
        assert str(loaded[name].dtype) == str(t.dtype)
        np.testing.assert_array_equal(_bits_of(loaded[name]), _bits_of(t))


def test_view_between_bytes_and_float8():
    """Views uint8 <-> float8 <-> int8 share bytes, as torch's."""
    u = np.arange(256, dtype=np.uint8)
    for name in NAMES:
        e = ember.from_numpy(u.copy()).view(getattr(ember, name)).view(ember.int8)
        t = torch.from_numpy(u.copy()).view(getattr(torch, name)).view(torch.int8)
        np.testing.assert_array_equal(e.numpy(), t.numpy())


# Python numbers around each type's range; torch's full/fill_ of 2+ elements refuse the ones a
# type can't hold (its single-element fill saturates instead), tensor()/copy_ saturate.
NUMBERS = [0.0, -0.0, 1.0, -1.0, 0.3, -7.5, 2, 448.0, 449.0, 500.0, 57344.0, 61440.0, 1e5,
           float("inf"), float("-inf"), float("nan"), 1e-30, 2.0 ** -127, 2.0 ** 127,
           2.0 ** 128, 3e38, 1e300]


def _bytes_or_error(make, lib):
    try:
        return make(lib).view(lib.uint8).tolist()
    except RuntimeError as error:
        return ("RuntimeError", str(error))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("numel", [1, 2, 5])
@pytest.mark.parametrize("way", ["full", "fill_"])
def test_full_and_fill_with_a_number(name, numel, way):
    for number in NUMBERS:
        def make(lib):
            dtype = getattr(lib, name)
            if way == "full":
                return lib.full((numel,), number, dtype=dtype)
            return lib.zeros(numel, dtype=dtype).fill_(number)
        assert _bytes_or_error(make, ember) == _bytes_or_error(make, torch), number


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("way", ["tensor", "as_tensor_of_float64", "copy_"])
def test_creation_and_copy_round_as_torch(name, way):
    def make(lib):
        dtype = getattr(lib, name)
        if way == "tensor":
            return lib.tensor(NUMBERS, dtype=dtype)
        source = lib.tensor(NUMBERS, dtype=lib.float64)
        if way == "as_tensor_of_float64":
            return lib.as_tensor(source, dtype=dtype)
        return lib.empty(len(NUMBERS), dtype=dtype).copy_(source)
    assert _bytes_or_error(make, ember) == _bytes_or_error(make, torch)
