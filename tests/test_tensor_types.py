"""The legacy API: torch.FloatTensor & co., autograd.Variable, the constants and helpers that
old scripts use, compared with torch."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import error_of

TYPES = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor", "BFloat16Tensor"]
FORMS = {"sizes": (2, 3), "Size": None, "list": ([1, 0, 2],), "ndarray": (np.array([1.5, 2.0]),),
         "empty": ()}


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("form", list(FORMS))
def test_legacy_constructors_match_torch(name, form):
    args = FORMS[form]
    ours_args = (ember.Size([2]),) if form == "Size" else args
    theirs_args = (torch.Size([2]),) if form == "Size" else args
    ours, theirs = getattr(ember, name)(*ours_args), getattr(torch, name)(*theirs_args)
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    if form in ("list", "ndarray"):
        assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("name", TYPES)
def test_isinstance_checks_the_dtype(name):
    dtype = getattr(torch, name).dtype
    for candidate in ("float32", "int64", "bool"):
        ours = isinstance(ember.zeros(1, dtype=getattr(ember, candidate)), getattr(ember, name))
        theirs = isinstance(torch.zeros(1, dtype=getattr(torch, candidate)), getattr(torch, name))
        assert ours == theirs
    assert repr(getattr(ember, name)) == repr(getattr(torch, name))
    assert str(getattr(ember, name).dtype) == str(dtype)


def test_typed_constructor_rejects_other_dtype_tensor():
    assert type(error_of(lambda: ember.FloatTensor(ember.ones(2, dtype=ember.int64)))) is \
        type(error_of(lambda: torch.FloatTensor(torch.ones(2, dtype=torch.int64)))) is TypeError


def test_variable_is_a_detached_alias():
    for lib in (ember, torch):
        t = lib.ones(2)
        v = lib.autograd.Variable(t, requires_grad=True)
        assert v is not t and v.requires_grad and isinstance(t, lib.autograd.Variable)
        u = lib.ones(2, requires_grad=True) * 2
        assert not lib.autograd.Variable(u).requires_grad
        assert lib.autograd.Variable(u).grad_fn is None
        v.data[0] = 5.0
        assert t[0].item() == 5.0  # shares the data
        with pytest.raises(TypeError, match="Variable data has to be a tensor"):
            lib.autograd.Variable([1, 2])


def test_constants_and_helpers():
    for name in ("inf", "pi", "e"):
        assert getattr(ember, name) == getattr(torch, name)
    assert np.isnan(ember.nan) and ember.newaxis is torch.newaxis is None
    for obj in (1, ember.nn.Linear(1, 1)):
        theirs = torch.nn.Linear(1, 1) if isinstance(obj, ember.nn.Module) else obj
        assert ember.typename(obj) == torch.typename(theirs)
    assert ember.typename(ember.ones(1)) == torch.typename(torch.ones(1))
    assert ember.is_storage(ember.ones(1)) is torch.is_storage(torch.ones(1)) is False
    for method in ("untyped_storage", "storage"):
        assert ember.is_storage(getattr(ember.ones(1), method)()) is \
            torch.is_storage(getattr(torch.ones(1), method)()) is True


def test_set_default_tensor_type():
    try:
        ember.set_default_tensor_type(ember.DoubleTensor)
        assert ember.ones(1).dtype == ember.float64
        ember.set_default_tensor_type("torch.FloatTensor")
        assert ember.ones(1).dtype == ember.float32
        with pytest.raises(TypeError, match="floating-point"):
            ember.set_default_tensor_type(ember.LongTensor)
    finally:
        ember.set_default_dtype(ember.float32)


def _raised(fn):
    """The exception fn() raises, or None."""
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return error
    return None


# Tensor.type(spec): a dtype, a legacy class, a type string, or what a CPU-only build refuses
TYPE_SPECS = {
    "class": lambda lib: lib.DoubleTensor, "string": lambda lib: "torch.LongTensor",
    "dtype": lambda lib: lib.int32, "byte class": lambda lib: lib.ByteTensor,
    "half string": lambda lib: "torch.HalfTensor", "bool class": lambda lib: lib.BoolTensor,
    "cuda string": lambda lib: "torch.cuda.FloatTensor", "cuda class": lambda lib:
    lib.cuda.DoubleTensor, "bad string": lambda lib: "torch.Foo", "dtype name": lambda lib:
    "torch.float32", "python type": lambda lib: float, "number": lambda lib: 5}


@pytest.mark.parametrize("spec", list(TYPE_SPECS))
def test_tensor_type_converts_like_torch(spec):
    def call(lib):
        return lib.tensor([1.5, 0.0]).type(TYPE_SPECS[spec](lib))
    ours, theirs = _raised(lambda: call(ember)), _raised(lambda: call(torch))
    assert type(ours) is type(theirs)
    if theirs is None:
        e, t = call(ember), call(torch)
        assert str(e.dtype) == str(t.dtype) and e.tolist() == t.tolist()


def test_tensor_type_keywords():
    for lib in (ember, torch):
        t = lib.ones(2)
        assert t.type(dtype="torch.DoubleTensor").dtype == lib.float64
        assert t.type("torch.IntTensor", non_blocking=True).dtype == lib.int32
        assert t.type() == "torch.FloatTensor"


SIZE_EXPRESSIONS = ["S + (4,)", "(1,) + S", "S * 2", "2 * S", "S * 0", "S + S", "S[::-1]",
                    "S[1:]", "S + [4]", "S == (2, 3)", "S == [2, 3]", "S.numel()",
                    "lib.Size([2.0])", "lib.Size([lib.tensor(3)])", "lib.Size(iter([1, 2]))",
                    "pickle.loads(pickle.dumps(S))", "S.count(2)", "S.index(3)"]


@pytest.mark.parametrize("expression", SIZE_EXPRESSIONS)
def test_size_arithmetic_matches_torch(expression):
    import pickle

    def evaluate(lib):
        return eval(expression, {"S": lib.Size([2, 3]), "lib": lib, "pickle": pickle})
    ours, theirs = _raised(lambda: evaluate(ember)), _raised(lambda: evaluate(torch))
    assert type(ours) is type(theirs)
    if theirs is None:
        e, t = evaluate(ember), evaluate(torch)
        assert repr(e) == repr(t) and type(e).__name__ == type(t).__name__


SIZE_KEYWORD_CALLS = {
    "empty": lambda lib: lib.empty(size=(2, 3)), "zeros": lambda lib: lib.zeros(size=[2]),
    "ones": lambda lib: lib.ones(size=(1, 2), dtype=lib.float64),
    "rand": lambda lib: lib.rand(size=(3,)), "randn": lambda lib: lib.randn(size=(2, 2)),
    "empty Size": lambda lib: lib.empty(size=lib.Size([4])),
    "new_zeros": lambda lib: lib.ones(1).new_zeros(size=(2,)),
    "new_ones": lambda lib: lib.ones(1).long().new_ones(size=(2, 1)),
    "new_empty": lambda lib: lib.ones(1).new_empty(size=(3,)),
    "zeros out": lambda lib: lib.zeros(size=(2,), out=lib.ones(2)),
    "ones positional": lambda lib: lib.ones((2, 2)),
}


@pytest.mark.parametrize("name", list(SIZE_KEYWORD_CALLS))
def test_size_keyword_forms(name):
    call = SIZE_KEYWORD_CALLS[name]
    torch.manual_seed(0)
    ember.manual_seed(0)
    e, t = call(ember), call(torch)
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    if name.startswith(("zeros", "ones", "new_zeros", "new_ones", "rand")):
        assert np.allclose(e.numpy(), t.numpy())


def test_set_default_tensor_type_refuses_cuda_types():
    for lib in (ember, torch):
        for spec in ("torch.cuda.FloatTensor", lib.cuda.FloatTensor):
            with pytest.raises(TypeError, match="not available"):
                lib.set_default_tensor_type(spec)
    assert ember.get_default_dtype() == ember.float32


LEGACY_NEW = ["x.new(x.size()).shape", "x.new((2, 3)).tolist()", "x.new([2, 3]).tolist()",
              "x.new(2, 3).shape", "x.new(lib.Size([4])).shape", "x.new().shape",
              "x.new(np.array([1.5])).tolist()", "lib.Tensor(lib.Size([2, 3])).shape",
              "lib.Tensor((2, 3)).tolist()", "lib.Tensor(2, 3).shape",
              "lib.FloatTensor((2, 3)).tolist()", "x.long().new(x.size()).dtype"]


@pytest.mark.parametrize("expression", LEGACY_NEW)
def test_legacy_new_takes_a_size_as_sizes(expression):
    def evaluate(lib):
        return eval(expression, {"x": lib.ones(2, 3), "lib": lib, "np": np})
    assert repr(evaluate(ember)) == repr(evaluate(torch))


# ---- legacy storage classes ------------------------------------------------------------------
STORAGES = ["FloatStorage", "DoubleStorage", "HalfStorage", "LongStorage", "IntStorage",
            "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage", "BFloat16Storage",
            "ComplexFloatStorage", "ComplexDoubleStorage"]


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@pytest.mark.parametrize("name", STORAGES)
def test_legacy_storage_classes_as_torch(name):
    values = [1, 0, 1] if name == "BoolStorage" else [1, 2, 5]
    made = [(getattr(lib, name)(3), getattr(lib, name)(values), getattr(lib, name))
            for lib in (ember, torch)]
    (e_sized, e_data, e_cls), (t_sized, t_data, t_cls) = made
    assert repr(e_cls) == repr(t_cls)
    for e, t in ((e_sized, t_sized), (e_data, t_data)):
        assert type(e).__name__ == type(t).__name__ == "TypedStorage"
        assert str(e.dtype) == str(t.dtype) and len(e) == len(t)
        assert isinstance(e, e_cls) and isinstance(t, t_cls)
        assert not isinstance(e, ember.FloatStorage if name != "FloatStorage" else
                              ember.DoubleStorage)
    assert e_data.tolist() == t_data.tolist()
    assert repr(e_data) == repr(t_data)
    dtype = str(t_cls.dtype).rpartition(".")[2]
    assert repr(ember.ones(2, dtype=getattr(ember, dtype)).storage_type()) == repr(
        torch.ones(2, dtype=getattr(torch, dtype)).storage_type())
