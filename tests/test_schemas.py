"""torch's argument parser in ember (ember/_schemas.py, NOTE [torch's argument parser]): the same
call with a value of the wrong type, in ember and in torch, raises the same exception class with
a message that starts alike; a value the parser accepts (a 0-d integer tensor where an int goes)
computes what torch computes."""

import numpy as np
import pytest
import torch

import ember
from ember import _schemas
from tests.differential import assert_same_error, assert_same_outputs, to_ember

T = np.ones((2, 3), dtype=np.float32)
X4 = np.ones((1, 1, 4, 4), dtype=np.float32)


def _t(lib, array=T):
    return lib.tensor(array)


def _scalar(lib, value):
    return lib.tensor(value)


# label -> call(lib): each raises TypeError in torch
REFUSED = {
    "cumsum dim float": lambda lib: lib.cumsum(_t(lib), 1.5),
    "cumsum dim bool": lambda lib: lib.cumsum(_t(lib), True),
    "cumsum dim 0-d float tensor": lambda lib: lib.cumsum(_t(lib), lib.tensor(1.0)),
    "cumsum dim 0-d bool tensor": lambda lib: lib.cumsum(_t(lib), lib.tensor(True)),
    "cumsum dim 1-element tensor": lambda lib: lib.cumsum(_t(lib), lib.tensor([1])),
    "cumsum dim numpy float": lambda lib: lib.cumsum(_t(lib), np.float64(1.0)),
    "cumsum dim keyword float": lambda lib: lib.cumsum(_t(lib), dim=1.5),
    "cumsum dtype int": lambda lib: lib.cumsum(_t(lib), 0, dtype=1),
    "cumsum missing dim": lambda lib: lib.cumsum(_t(lib)),
    "cumsum unexpected keyword": lambda lib: lib.cumsum(_t(lib), 0, foo=1),
    "cumsum dim twice": lambda lib: lib.cumsum(_t(lib), 0, dim=0),
    "cumsum too many arguments": lambda lib: lib.cumsum(_t(lib), 0, None, 2, 3),
    "index_select dim 0-d float tensor": lambda lib: lib.index_select(
        _t(lib), lib.tensor(0.0), lib.tensor([0])),
    "index_select index int": lambda lib: lib.index_select(_t(lib), 0, 1),
    "roll shifts float tensor": lambda lib: lib.roll(_t(lib), lib.tensor([1.0])),
    "roll shifts keyword tensor": lambda lib: lib.roll(_t(lib), shifts=lib.tensor([1.0])),
    "roll shifts (1.5,)": lambda lib: lib.roll(_t(lib), (1.5,)),
    "roll shifts (1, 1.5)": lambda lib: lib.roll(_t(lib), (1, 1.5), (0, 1)),
    "roll shifts [True]": lambda lib: lib.roll(_t(lib), [True]),
    "roll shifts None": lambda lib: lib.roll(_t(lib), None),
    "roll shifts bool": lambda lib: lib.roll(_t(lib), True),
    "transpose dim float": lambda lib: lib.transpose(_t(lib), 0, 1.5),
    "Tensor.transpose dim bool": lambda lib: _t(lib).transpose(True, 1),
    "unsqueeze 0-d float tensor": lambda lib: lib.unsqueeze(_t(lib), lib.tensor(1.0)),
    "topk k float": lambda lib: lib.topk(_t(lib), 1.5),
    "sort dim float": lambda lib: lib.sort(_t(lib), 1.5),
    "tril diagonal float": lambda lib: lib.tril(_t(lib), 1.5),
    "triu diagonal 0-d float tensor": lambda lib: lib.triu(_t(lib), lib.tensor(1.0)),
    "chunk chunks float": lambda lib: lib.chunk(_t(lib), 1.5),
    "movedim source float": lambda lib: lib.movedim(_t(lib), 1.5, 0),
    "new_ones size float": lambda lib: _t(lib).new_ones(1.5),
    "new_ones size (2, 1.5)": lambda lib: _t(lib).new_ones((2, 1.5)),
    "new_ones size bool": lambda lib: _t(lib).new_ones(True),
    "view(2, 1.5)": lambda lib: _t(lib).view(2, 1.5),
    "view(1.5, 2)": lambda lib: _t(lib).view(1.5, 2),
    "permute(0, 1.5)": lambda lib: _t(lib).permute(0, 1.5),
    "permute(1.5, 0)": lambda lib: _t(lib).permute(1.5, 0),
    "Tensor.sum dim float": lambda lib: _t(lib).sum(1.5),
    "sum dtype int": lambda lib: lib.sum(_t(lib), dtype=1),
    "sum too many arguments": lambda lib: lib.sum(_t(lib), 0, True, 1),
    "avg_pool2d kernel float": lambda lib: lib.nn.functional.avg_pool2d(_t(lib, X4), 1.5),
    "avg_pool2d padding tensor": lambda lib: lib.nn.functional.avg_pool2d(
        _t(lib, X4), 2, 2, lib.tensor([0.0])),
    "pad pad float": lambda lib: lib.nn.functional.pad(_t(lib), 1.5),
    "vector_norm ord tensor": lambda lib: lib.linalg.vector_norm(_t(lib), ord=lib.ones(2)),
    "special.polygamma n float": lambda lib: lib.special.polygamma(1.5, _t(lib)),
    "arange end 1-element tensor": lambda lib: lib.arange(lib.tensor([3])),
    "randn size float": lambda lib: lib.randn(1.5),
    "randn(2, 1.5)": lambda lib: lib.randn(2, 1.5),
    "randint size (2, 1.5)": lambda lib: lib.randint(10, (2, 1.5)),
    # a one-element bool tensor passes as a SymInt (low, high) and is refused only when a
    # matched signature converts it: here no signature matches, so the TypeError wins
    "randint size bool tensor": lambda lib: lib.randint(3, lib.tensor([True])),
    "randint size 0-d bool tensor": lambda lib: lib.randint(3, lib.tensor(True)),
    "full_like fill 1-element tensor": lambda lib: lib.full_like(_t(lib), lib.tensor([1.0])),
    "cat list with an int": lambda lib: lib.cat([_t(lib), 1]),
    "stack dim float": lambda lib: lib.stack([_t(lib), _t(lib)], 1.5),
    "narrow_copy start float": lambda lib: lib.narrow_copy(_t(lib), 1, 1.5, 1),
    "clone memory_format int": lambda lib: lib.clone(_t(lib), memory_format=1),
    "group_norm num_groups float": lambda lib: lib.nn.functional.group_norm(
        _t(lib, X4), 1.5),
}


def _first_words(message: str) -> list:
    """A message's first five words (ember words the rest of some messages its own way)."""
    return message.split()[:5]


@pytest.mark.parametrize("label", list(REFUSED))
def test_refused_as_torch_refuses(label):
    """Both raise torch's exception class, with a message that starts as torch's."""
    with pytest.raises(Exception) as expected:
        REFUSED[label](torch)
    with pytest.raises(Exception) as got:
        REFUSED[label](ember)
    assert type(got.value) is type(expected.value), (got.value, expected.value)
    assert _first_words(str(got.value)) == _first_words(str(expected.value)), \
        (str(got.value), str(expected.value))


def test_refusal_shows_no_chained_exception():
    """torch's argument TypeError comes from C++: its traceback shows no "During handling of
    the above exception" (the parser's internal refusal is suppressed)."""
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="must be Tensor, not float") as got:
            lib.special.gammaincc(lib.ones(2), 1.5)
        assert got.value.__cause__ is None
        assert got.value.__suppress_context__ or got.value.__context__ is None


# label -> call(lib): values torch's parser accepts for the parameter, converted as it converts
ACCEPTED = {
    "roll shifts 0-d int tensor": lambda lib: lib.roll(_t(lib), lib.tensor(1)),
    "roll shifts 1-element int tensor": lambda lib: lib.roll(_t(lib), lib.tensor([1]), 1),
    "roll shifts [1, True]": lambda lib: lib.roll(_t(lib), [1, True], [0, 1]),
    "roll shifts numpy ints": lambda lib: lib.roll(_t(lib), [np.int64(1), 2], [0, 1]),
    "cumsum dim 0-d int tensor": lambda lib: lib.cumsum(_t(lib), lib.tensor(1)),
    "cumsum dim numpy int": lambda lib: lib.cumsum(_t(lib), np.int64(1)),
    "Tensor.cumsum dim 0-d int tensor": lambda lib: _t(lib).cumsum(lib.tensor(0)),
    "transpose 0-d int tensors": lambda lib: lib.transpose(_t(lib), lib.tensor(0), 1),
    "unsqueeze numpy int": lambda lib: lib.unsqueeze(_t(lib), np.int32(1)),
    "new_ones 1-element int tensor": lambda lib: _t(lib).new_ones(lib.tensor([2])),
    "new_ones (2, 0-d int tensor)": lambda lib: _t(lib).new_ones((2, lib.tensor(3))),
    "view numpy ints": lambda lib: _t(lib).view(np.int64(3), 2),
    "view (0-d int tensor, 2)": lambda lib: _t(lib).view((lib.tensor(3), 2)),
    "avg_pool2d kernel 0-d int tensor": lambda lib: lib.nn.functional.avg_pool2d(
        _t(lib, X4), lib.tensor(2)),
    "narrow start 0-d int tensor": lambda lib: lib.narrow_copy(_t(lib), 1, lib.tensor(1), 1),
    "full_like fill 0-d float tensor": lambda lib: lib.full_like(_t(lib), lib.tensor(2.5)),
    "sum dtype Python float": lambda lib: lib.sum(_t(lib), dtype=float),
    "topk k 0-d int tensor": lambda lib: lib.topk(_t(lib), lib.tensor(2)).values,
    "tril diagonal numpy int": lambda lib: lib.tril(_t(lib), np.int64(-1)),
    "Tensor.to a dtype": lambda lib: _t(lib).to(lib.float64),
    "Tensor.to a device and dtype": lambda lib: _t(lib).to("cpu", lib.float64),
}


@pytest.mark.parametrize("label", list(ACCEPTED))
def test_accepted_as_torch_accepts(label):
    """Both compute, the same values."""
    assert_same_outputs(ACCEPTED[label](ember), ACCEPTED[label](torch))


# every parameter type of the table against values of every kind: torch's C++ functions whose
# only non-tensor parameter has that type, called with the value (ember's verdict must match)
VALUES = {
    "int": 1, "bool": True, "float": 1.5, "numpy int": np.int64(1),
    "numpy float": np.float64(1.0), "numpy bool": np.bool_(True),
    "0-d int tensor": ("tensor", 1), "0-d float tensor": ("tensor", 1.0),
    "0-d bool tensor": ("tensor", True), "1-element int tensor": ("tensor", [1]),
    "2-element int tensor": ("tensor", [1, 1]), "None": None, "str": "a",
    "[1]": [1], "(1,)": (1,), "[1.5]": [1.5], "[True]": [True], "[]": [],
    "[0-d int tensor]": ("list", 1), "[0-d float tensor]": ("list", 1.0),
    "complex": 1j, "object": object(), "float32 dtype": ("dtype", "float32"),
    "Python type float": float,
}
PARAMETERS = {
    "int64_t": lambda lib, v: lib.cumsum(_t(lib), v),
    "int64_t?": lambda lib, v: lib.argmax(_t(lib), v),
    "SymInt": lambda lib, v: lib.narrow_copy(_t(lib), 1, v, 1),
    "IntArrayRef[1]": lambda lib, v: lib.amax(_t(lib), v),
    "SymIntArrayRef[1]": lambda lib, v: lib.roll(_t(lib), v, 1),
    "SymIntArrayRef (varargs)": lambda lib, v: _t(lib).new_ones(v),
    "double": lambda lib, v: lib.hardshrink(_t(lib), v),
    "bool": lambda lib, v: lib.argmax(_t(lib), 0, v),
    "Scalar": lambda lib, v: lib.full_like(_t(lib), v),
    "ScalarType?": lambda lib, v: lib.sum(_t(lib), dtype=v),
    "Tensor": lambda lib, v: lib.index_select(_t(lib), 0, v),
    "TensorList": lambda lib, v: lib.cat(v),
}


def _value(lib, spec):
    if isinstance(spec, tuple) and spec and spec[0] == "tensor":
        return lib.tensor(spec[1])
    if isinstance(spec, tuple) and spec and spec[0] == "list":
        return [lib.tensor(spec[1])]
    if isinstance(spec, tuple) and spec and spec[0] == "dtype":
        return getattr(lib, spec[1])
    return spec


def _outcome(call):
    try:
        return call(), None
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return None, error


@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("parameter", list(PARAMETERS))
def test_parameter_types_as_torch(parameter, value):
    """Each parameter type takes or refuses each kind of value as torch's parser does: a
    TypeError from torch is a TypeError from ember with torch's first words."""
    call = PARAMETERS[parameter]
    expected, torch_error = _outcome(lambda: call(torch, _value(torch, VALUES[value])))
    got, ember_error = _outcome(lambda: call(ember, _value(ember, VALUES[value])))
    if isinstance(torch_error, TypeError):
        assert isinstance(ember_error, TypeError), (torch_error, ember_error)
        assert _first_words(str(ember_error)) == _first_words(str(torch_error))
    elif torch_error is None:
        assert ember_error is None, ember_error
        assert_same_outputs(got, expected)
    else:  # torch's parser took it (its op refused it): so does ember's parser
        assert not isinstance(ember_error, TypeError), ember_error


def test_table_is_torchs():
    """ember/_schemas.txt lists the signatures torch's own errors print."""
    signatures = _schemas.table()["torch.sum"]
    assert [_schemas.Signature(s).shown() for s in signatures] == [
        "(Tensor input, *, torch.dtype dtype = None)",
        "(Tensor input, tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, "
        "Tensor out = None)"]
    with pytest.raises(TypeError) as error:
        torch.sum(torch.ones(1), 1.5)
    for line in str(error.value).splitlines()[1:]:
        assert line.strip()[2:] in [_schemas.Signature(s).shown() for s in signatures] or \
            not line.strip()


def test_cached_patterns_still_refuse():
    """A call pattern that passed once (ints) is not cached for values that must be parsed."""
    t = ember.ones(2, 3)
    assert ember.cumsum(t, 1).shape == (2, 3)
    assert ember.cumsum(t, 1).shape == (2, 3)
    with pytest.raises(TypeError, match="must be int, not Tensor"):
        ember.cumsum(t, ember.tensor(1.0))
    assert to_ember(torch.ones(1)).shape == (1,)


def test_unbound_method_on_a_non_tensor():
    """`Tensor.uniform_(None)`: torch's method descriptor refuses what is no tensor."""
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="descriptor 'uniform_' for 'torch._C.TensorBase'"):
            lib.Tensor.uniform_([1.0, 2.0])


@pytest.mark.parametrize("namespace", ["torch", "Tensor", "nn", "linalg", "special", "fft"])
def test_table_names_are_torchs(namespace):
    """Every name of the table is public in torch; C-bound unless it forwards to a C function
    of the same name (torch.nn.functional's Python wrappers, tools/gen_schemas.py)."""
    public = {"torch": torch, "Tensor": torch.Tensor, "nn": torch.nn.functional,
              "linalg": torch.linalg, "special": torch.special, "fft": torch.fft}[namespace]
    names = [key.split(".", 1)[1] for key in _schemas.table() if key.startswith(namespace + ".")]
    assert names
    for name in names:
        fn = getattr(public, name)
        assert callable(fn), name
        if namespace != "nn":
            assert not hasattr(fn, "__code__"), f"{namespace}.{name} is Python code in torch"


@pytest.mark.parametrize("call", ["roll", "gather", "add", "addmv_", "narrow", "clamp"])
def test_leading_tensor_only_calls_get_torchs_parser_error(call):
    """A call with only the leading tensor skips the parse; a missing argument still gets
    torch's parser message (one signature inline, several listed)."""
    assert_same_error(lambda lib: getattr(lib, call)(lib.ones(3)))


# label -> call(lib): numpy's keyword names torch's parser accepts for its own (keepdims for
# keepdim, axis for dim, x / a for input), and torch's own name where ember's code says x
NUMPY_NAMES = {
    "method keepdims": lambda lib: _t(lib).sum(1, keepdims=True),
    "method axis keepdims": lambda lib: _t(lib).sum(axis=0, keepdims=True),
    "function keepdims": lambda lib: lib.sum(_t(lib), 1, keepdims=True),
    "mean axis": lambda lib: lib.mean(_t(lib), axis=1),
    "max axis keepdims": lambda lib: _t(lib).max(axis=1, keepdims=True),
    "vector_norm x axis": lambda lib: lib.linalg.vector_norm(x=_t(lib), axis=0),
    "vector_norm input": lambda lib: lib.linalg.vector_norm(input=_t(lib)),
    "clone input": lambda lib: lib.clone(input=_t(lib)),
    "clone x": lambda lib: lib.clone(x=_t(lib)),
}


@pytest.mark.parametrize("label", sorted(NUMPY_NAMES))
def test_numpy_keyword_names(label):
    """`P.sum(1, keepdims=True)` (makemore) computes what torch computes, call after call (the
    renamed call is not cached as one that passes unchanged)."""
    call = NUMPY_NAMES[label]
    for _ in range(2):
        assert_same_outputs(call(ember), call(torch))


@pytest.mark.parametrize("call", [lambda lib, x: x.sum(dim=1.5),
                                  lambda lib, x: lib.sum(x, dim=1.5),
                                  lambda lib, x: lib.clamp(x, min=lib.zeros(3), max=1.0)])
def test_invalid_combination_lists_keywords_as_torch(call):
    """'got (dim=float, )': torch keeps the last ', ' when only keywords were given."""
    for lib in (ember, torch):
        with pytest.raises(TypeError) as info:
            call(lib, lib.ones(2, 3))
        first_line = str(info.value).split("\n")[0]
        if lib is ember:
            got = first_line
        else:
            assert got == first_line
