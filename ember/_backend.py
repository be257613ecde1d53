"""The array-library seam: the only module of ember's compute layers that imports NumPy.

NOTE [The array module of the arrays you are given]
Every compute module (tensor core, dtypes, autograd, ops, nn, optim, random) writes its array
work as `xp.<function>(...)` with `from ember._backend import xp`, never `import numpy`. Two
rules make an op work on any array library with NumPy's API (CuPy, or the stand-in of
`tests/test_backend.py`), the idiom Chainer introduced with `get_array_module`:

1. Calls that take arrays (`xp.exp(a)`, `xp.matmul(a, b)`, `xp.zeros_like(a)`, `a.sum()`) are
   routed by NumPy itself to the arrays' own library through the dispatch protocols
   `__array_ufunc__` (NEP 13) and `__array_function__` (NEP 18), which CuPy implements. They
   need nothing more, and cost nothing on plain NumPy arrays.
2. Calls that make an array from nothing but a shape or a Python value (`zeros(shape)`,
   `ones`, `empty`, `full`, `arange`, `asarray(3.0)`) cannot see an input, so they ask for the
   inputs' module: `get_array_module(x._data).zeros(shape, dtype=...)`. On NumPy arrays that
   is `numpy` itself, found with one type check.

Host-side code that reads and writes files (datasets, transforms, checkpoints, TensorBoard
events) is not part of the seam and uses NumPy directly. Kernels outside NumPy's common API
(sliding windows, unbuffered scatter-add, the floating-point warning switch) live here, so
that another array library only has to supply them once.
"""

import warnings

import numpy

xp = numpy  # the default array module: what ember's tensors hold unless given other arrays

_NDARRAY = numpy.ndarray


def get_array_module(*arrays):
    """The array module of the first argument that is not a plain NumPy array (else NumPy).

    An array library announces its module with the array-API method `__array_namespace__`
    (NumPy 2 and CuPy do); plain ndarrays, NumPy scalars and Python numbers mean NumPy.
    """
    for array in arrays:
        if type(array) is _NDARRAY:
            continue
        namespace = getattr(array, "__array_namespace__", None)
        if namespace is not None:
            module = namespace()
            if module is not numpy:
                return module
    return numpy


def is_array(value) -> bool:
    """Whether value is an array (or array scalar) of NumPy or of another array library."""
    return isinstance(value, (_NDARRAY, numpy.generic)) or hasattr(value, "__array_namespace__")


def as_array(value):
    """An array (or array scalar) as an array of its own library: NumPy scalars become 0-d."""
    if isinstance(value, _NDARRAY):
        return value
    return get_array_module(value).asanyarray(value)


def as_strided_windows(x, window_shape, axes):
    """Read-only sliding-window view over `axes` (no copy); used by conv and pooling."""
    return numpy.lib.stride_tricks.sliding_window_view(x, window_shape, axis=axes)


def scatter_add(target, index, values):
    """target[index] += values, accumulating repeated indices in order (np.add.at's result)."""
    if isinstance(index, tuple) and len(index) == 1:
        index = index[0]
    if not _add_rows_by_rank(target, index, values):
        numpy.add.at(target, index, values)
    return target


def _add_rows_by_rank(target, index, values) -> bool:
    """np.add.at(target, index, values) for whole rows (a 1-d index into axis 0 of a 2+-d
    target: an embedding's or a row gather's gradient), done if it returns True.

    NOTE [Scatter-adding rows by rank]
    np.add.at adds one row at a time: about 1 µs a row of 128 floats, 0.8 ms for the 700 token
    rows of a small language model's embedding. Here the index is sorted (stably) and each
    position numbered by its rank among the positions with the same index: all first
    occurrences are added with one fancy-indexed `+=` (their target rows are distinct), then all
    second ones, and so on, so every target row receives its values in their original order
    and the bits are np.add.at's. The loop runs once per rank, so an index whose commonest
    value repeats a lot (a padding token) goes to np.add.at instead.
    """
    if not (type(target) is _NDARRAY and type(index) is _NDARRAY and index.ndim == 1
            and index.dtype.kind in "iu" and target.ndim >= 2 and index.size > 1
            and values.shape == index.shape + target.shape[1:]):
        return False
    if index.min() < 0:  # -1 and n - 1 are one row: leave that to np.add.at
        return False
    order = numpy.argsort(index, kind="stable")
    ordered = index[order]
    starts = numpy.flatnonzero(numpy.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = numpy.diff(numpy.append(starts, index.size))
    ranks = counts.max()
    if ranks > max(8, index.size // 16):
        return False
    rank = numpy.arange(index.size) - numpy.repeat(starts, counts)
    by_rank = order[numpy.argsort(rank, kind="stable")]  # positions, first occurrences first
    bounds = numpy.concatenate(([0], numpy.cumsum(numpy.bincount(rank))))
    for k in range(ranks):
        positions = by_rank[bounds[k]:bounds[k + 1]]
        target[index[positions]] += values[positions]
    return True


def quiet():
    """Silence NumPy's floating-point warnings: PyTorch returns inf/nan for log(0), 1/0, sqrt(-1)
    without a word, so ember's ops must too."""
    return numpy.errstate(divide="ignore", invalid="ignore", over="ignore")


# NOTE [NumPy's floating-point warnings]
# PyTorch computes inf·0, inf - inf or 1e300 as float32 silently, NaN and inf being values like
# any other; NumPy warns ("invalid value encountered in multiply"). An `errstate` around every
# op would cost 2 µs a call, so this one filter drops those warnings when the line that
# raised them is ember's own (NumPy attributes them to the calling frame's module): a
# user's own NumPy code keeps its warnings, and `python -W error` does not trip on ember's.
# (Paths where a user's filters must not matter, or which run under `always`, use `quiet`.)
warnings.filterwarnings(
    "ignore", message=r"(invalid value|overflow|divide by zero|underflow) encountered in ",
    category=RuntimeWarning, module=r"ember(\.|$)")
