"""`ember.device` and `ember.Size`: the small value types tensors report."""

import functools
import operator
import re


# every device type a torch.device may name, in the order PyTorch's error lists them
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")


class device:
    """Where a tensor lives; ember runs on the CPU only (matches `torch.device`)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if index is not None:
            _check_argument("type", 1, type, str)
            _check_argument("index", 2, index, int)
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):  # an accelerator's index
            raise RuntimeError("Device index must not be negative" if type < 0 else
                               "Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            name = _type_name(type)
            raise TypeError(
                f"device() received an invalid combination of arguments - got ({name}), but "
                "expected one of:\n * (torch.device device)\n      didn't match because some "
                f"of the arguments have invalid types: (!{name}!)\n * (str type, int index = -1)"
                "\n")
        else:
            type, parsed = _parse(type)
            if parsed is not None and index is not None:
                raise RuntimeError("type (string) must not include an index because index was "
                                   f"passed explicitly: {type}:{parsed}")
            index = parsed if parsed is not None else index
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = type, index

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if not isinstance(other, device):  # torch: device("cpu") == "cpu" is False
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __enter__(self):
        """`with torch.device(d):` makes d the default device inside the block."""
        _DEFAULT_STACK.append(_DEFAULT[0])
        _DEFAULT[0] = self
        return self

    def __exit__(self, *exc):
        _DEFAULT[0] = _DEFAULT_STACK.pop()
        return False


# c10's device string: a type of letters and underscores, then optionally ":" and an index
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([1-9]\d*|0))?")


def _parse(text):
    """(type, index or None) of a device string, with c10's errors."""
    if not text:
        raise RuntimeError("Device string must not be empty")
    match = _DEVICE_STRING.fullmatch(text)
    if match is None:
        raise RuntimeError(f"Invalid device string: '{text}'")
    type, number = match.groups()
    if type not in DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start "
                           f"of device string: {type}")
    return type, None if number is None else int(number)


def _type_name(value) -> str:
    return "torch.device" if isinstance(value, device) else type(value).__name__


def _check_argument(name, position, value, expected) -> None:
    """torch's TypeError for device(type, index) given an argument of another type."""
    if not isinstance(value, expected) or expected is int and isinstance(value, bool):
        raise TypeError(f"device(): argument '{name}' (position {position}) must be "
                        f"{expected.__name__}, not {_type_name(value)}")


CPU = device("cpu")
_DEFAULT = [None]  # the default device set by set_default_device (None: the CPU)
_DEFAULT_STACK = []


def set_default_device(value) -> None:
    """Make `value` the device factory functions use (matches `torch.set_default_device`)."""
    _DEFAULT[0] = None if value is None else device(value) if not isinstance(value, int) \
        else device("cuda", value)


def get_default_device():
    """The device factory functions use (matches `torch.get_default_device`)."""
    default = _DEFAULT[0]
    if default is None:
        return CPU
    if default.index is None and default.type not in ("cpu", "meta"):
        check_device(default)  # (PyTorch makes a tensor there to learn the current index)
    return default


# torch's backend names of the device types a CPU-only torch has no kernels for
_NO_KERNELS = {"meta": "Meta", "mps": "MPS", "ipu": "IPU", "hip": "HIP", "lazy": "Lazy",
               "xla": "XLA", "vulkan": "Vulkan", "ve": "VE", "fpga": "FPGA", "maia": "MAIA"}


def check_device(value) -> None:
    """Accept CPU devices; anything else raises what a CPU-only PyTorch raises.

    None means the default device (`set_default_device`), the CPU unless changed.
    """
    if value is None:
        value = _DEFAULT[0]
    if value is None:
        return
    if isinstance(value, int):  # an accelerator's index: a CPU-only torch has none
        raise RuntimeError("Device index must not be negative" if value < 0 else
                           "Cannot access accelerator device when none is available.")
    kind = device(value).type
    if kind in _NO_KERNELS:  # what a torch build without that backend's kernels raises
        raise NotImplementedError(
            f"Could not run 'aten::empty.memory_format' with arguments from the "
            f"'{_NO_KERNELS[kind]}' backend (ember runs on the CPU only; it has no "
            f"{_NO_KERNELS[kind]} kernels)")
    if kind != "cpu":
        backend = "XPU" if kind == "xpu" else "CUDA"
        raise AssertionError(f"Torch not compiled with {backend} enabled")  # (torch's words)


class Size(tuple):
    """A tensor's shape: a tuple that prints as `torch.Size([2, 3])` (matches `torch.Size`)."""

    def __new__(cls, sizes=()):
        return super().__new__(cls, (_size_item(i, s) for i, s in enumerate(sizes)))

    def __reduce__(self):
        return Size, (tuple(self),)

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        count = 1
        for s in self:
            count *= s
        return count

    def __getitem__(self, key):
        result = super().__getitem__(key)
        return Size(result) if isinstance(key, slice) else result

    def __add__(self, other):
        if not isinstance(other, tuple):  # as tuple + list does
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to "
                            "torch.Size")
        return Size(tuple(self) + other)

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, count):
        return Size(tuple(self) * count)

    __rmul__ = __mul__


def _size_item(position, value) -> int:
    """One entry of a Size: anything with `__index__` (ints, NumPy ints, 0-d int tensors)."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"torch.Size() takes an iterable of 'int' (item {position} is "
                        f"'{type(value).__name__}')") from None


def size_keyword(fn):
    """Let a `*size` factory also take its sizes as `size=` (as `torch.zeros(size=(2, 3))`)."""

    @functools.wraps(fn)
    def call(*args, size=None, **kwargs):
        return fn(*args, size, **kwargs) if size is not None else fn(*args, **kwargs)

    return call
