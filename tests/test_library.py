"""ember.library against torch.library: custom_op (the "Python Custom Operators" tutorial),
register_fake / register_autograd / register_kernel, infer_schema, opcheck, torch.ops.<ns>,
and the lower-level Library / define / impl. Each test defines its ops in both libraries under a
namespace of its own, since registrations are global in torch."""

import itertools
import re
import warnings
from typing import Optional, Sequence

import numpy as np
import pytest
import torch

import ember

_COUNTER = itertools.count()
MODULES = pytest.mark.parametrize("lib", [torch, ember], ids=["torch", "ember"])


def _ns() -> str:
    """A namespace no other test uses."""
    return f"ember_test_{next(_COUNTER)}"


def _norm(text: str) -> str:
    """A message with what names the library itself (type paths, file locations) made equal."""
    text = text.replace("ember._tensor.Tensor", "torch.Tensor")
    text = text.replace("ember._dtype.dtype", "torch.dtype").replace("ember._device.device",
                                                                     "torch.device")
    text = re.sub(r"<module '(ember|torch)\._library\.custom_ops' from '[^']*'>", "<module>", text)
    text = re.sub(r"registered at [^ ]+:\d+", "registered at <source>", text)
    return text


def _outcome(make, lib):
    """('ok', value) of make(lib), or (exception type name, normalized message)."""
    try:
        return "ok", make(lib)
    except Exception as error:
        return type(error).__name__, _norm(str(error))


def _same(make):
    """make(torch) and make(ember) give the same value, or raise the same error."""
    expected, got = _outcome(make, torch), _outcome(make, ember)
    assert got == expected
    return got


def _numpy_sin(lib, ns):
    """The tutorial's numpy_sin: custom_op + register_fake + register_autograd."""

    @lib.library.custom_op(f"{ns}::numpy_sin", mutates_args=())
    def numpy_sin(x: lib.Tensor) -> lib.Tensor:
        x_np = x.cpu().numpy()
        y_np = np.sin(x_np)
        return lib.from_numpy(y_np).to(device=x.device)

    @numpy_sin.register_fake
    def _(x):
        return lib.empty_like(x)

    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()

    numpy_sin.register_autograd(backward, setup_context=setup_context)
    return numpy_sin


# ---- the tutorial's ops -------------------------------------------------------------------
def test_numpy_sin_values_gradients_and_printed_forms():
    ns, data = _ns(), np.random.default_rng(0).standard_normal(5)

    def run(lib):
        op = _numpy_sin(lib, ns)
        x = lib.tensor(data, requires_grad=True)
        y = op(x)
        y.sum().backward()
        packet = getattr(lib.ops, ns).numpy_sin
        return (y.tolist(), x.grad.tolist(), y.grad_fn.name(), repr(op), repr(packet), str(packet),
                repr(packet.default), str(packet.default), packet.default.name(),
                packet.overloads(), str(packet.default._schema), packet.default is op._opoverload,
                repr(getattr(lib.ops, ns)))

    _same(run)


def test_register_autograd_by_qualified_name_gives_torchs_gradients():
    ns, data = _ns(), np.linspace(-2, 2, 7)

    def run(lib):
        @lib.library.custom_op(f"{ns}::numpy_sin", mutates_args=())
        def numpy_sin(x: lib.Tensor) -> lib.Tensor:
            return lib.from_numpy(np.sin(x.cpu().numpy()))

        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        def backward(ctx, grad):
            return grad * ctx.saved_tensors[0].cos()

        lib.library.register_autograd(f"{ns}::numpy_sin", backward, setup_context=setup_context)
        x = lib.tensor(data, requires_grad=True)
        (grad,) = lib.autograd.grad(numpy_sin(x), x, lib.ones_like(x))
        assert lib.autograd.gradcheck(numpy_sin, (x,))
        return grad.tolist()

    _same(run)


def test_keyword_only_inputs_reach_setup_context():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::numpy_mul", mutates_args=())
        def numpy_mul(x: lib.Tensor, n: int = 1, *, val: float) -> lib.Tensor:
            return lib.from_numpy(x.detach().cpu().numpy() * val * n)

        seen = []

        def setup_context(ctx, inputs, keyword_only_inputs, output):
            seen.append((len(inputs), inputs[1], keyword_only_inputs))
            ctx.val = keyword_only_inputs["val"]

        numpy_mul.register_autograd(lambda ctx, grad: grad * ctx.val,
                                    setup_context=setup_context)
        x = lib.ones(3, requires_grad=True)
        numpy_mul(x, val=3).sum().backward()
        return x.grad.tolist(), seen

    _same(run)


def test_crop_with_list_argument_fake_kernel_and_opcheck():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::crop", mutates_args=())
        def crop(pic: lib.Tensor, box: Sequence[int]) -> lib.Tensor:
            x0, y0, x1, y1 = box
            hwc = np.ascontiguousarray(pic.numpy().transpose(1, 2, 0)[y0:y1, x0:x1])
            return lib.from_numpy(hwc).permute(2, 0, 1) / 1.0

        @crop.register_fake
        def _(pic, box):
            x0, y0, x1, y1 = box
            return pic.new_empty(y1 - y0, x1 - x0, pic.shape[0]).permute(2, 0, 1)

        def setup_context(ctx, inputs, output):
            ctx.box, ctx.shape = inputs[1], inputs[0].shape

        def backward(ctx, grad):
            result = grad.new_zeros(ctx.shape)
            x0, y0, x1, y1 = ctx.box
            result[:, y0:y1, x0:x1] = grad
            return result, None

        crop.register_autograd(backward, setup_context=setup_context)
        pic = lib.arange(3 * 8 * 8, dtype=lib.float32).reshape(3, 8, 8).requires_grad_()
        out = lib.compile(lambda p: crop(p, (1, 2, 5, 7)))(pic)
        out.sum().backward()
        checks = [lib.library.opcheck(crop, (pic, [0, 0, 4, 4])),
                  lib.library.opcheck(crop, (pic.detach().double(), (2, 1, 6, 3)))]
        return (out.shape, out.stride(), out.sum().item(), pic.grad.sum().item(),
                str(crop._opoverload._schema), checks)

    _same(run)


def test_in_place_op_with_mutates_args():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::numpy_sin_out", mutates_args={"output"},
                               device_types="cpu")
        def numpy_sin(input: lib.Tensor, output: lib.Tensor) -> None:
            assert input.device == output.device
            np.sin(input.numpy(), out=output.numpy())

        x, out = lib.tensor([0.0, 0.25, 0.5, 1.0]), lib.empty(4)
        before = out._version
        result = numpy_sin(x, out)
        checks = [lib.library.opcheck(numpy_sin, example) for example in (
            (lib.randn(3), lib.empty(3)), (lib.randn(0, 3), lib.empty(0, 3)),
            (lib.randn(1, 2, 3, dtype=lib.double), lib.empty(1, 2, 3, dtype=lib.double)))]
        return (result, out.tolist(), out._version - before, x._version,
                str(numpy_sin._opoverload._schema), checks)

    _same(run)


def test_mutates_unknown_marks_every_tensor_and_bumps_versions():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::add_into", mutates_args="unknown")
        def add_into(x: lib.Tensor, y: lib.Tensor, n: int) -> lib.Tensor:
            x.add_(n)
            return y.clone()

        x, y = lib.zeros(2), lib.ones(2)
        add_into(x, y, 3)
        return str(add_into._opoverload._schema), x.tolist(), x._version, y._version

    _same(run)


def test_lists_ints_floats_optional_tensors_and_defaults():
    ns = _ns()

    def run(lib):
        received = []

        @lib.library.custom_op(f"{ns}::many", mutates_args=())
        def many(xs: list[lib.Tensor], ws: list[float], bias: Optional[lib.Tensor], n: int,
                 scale: float, flag: bool, name: str = "a", k: Optional[int] = None
                 ) -> list[lib.Tensor]:
            received.append([type(xs).__name__, ws, bias is None, n, type(scale).__name__,
                             flag, name, k])
            out = [x * w * scale + n for x, w in zip(xs, ws)]
            return [o + bias for o in out] if bias is not None else out

        a, b = lib.ones(2), lib.full((2,), 2.0)
        r1 = many((a, b), (1, 2.5), None, 1, 2, 1)
        r2 = many([a], [0.5], lib.tensor([1.0, -1.0]), n=0, scale=1.0, flag=False, k=4)
        return ([t.tolist() for t in r1], [t.tolist() for t in r2], received,
                str(many._opoverload._schema))

    _same(run)


def test_tensor_list_input_is_differentiable():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::weighted_sum", mutates_args=())
        def weighted_sum(tensors: list[lib.Tensor], weights: list[float]) -> lib.Tensor:
            return sum(t * w for t, w in zip(tensors, weights))

        def backward(ctx, grad):
            assert ctx.needs_input_grad == ([True, False], False)
            return [grad * 0.25, grad * 0.75], None

        weighted_sum.register_autograd(backward)
        a, b = lib.ones(3, requires_grad=True), lib.ones(3)
        weighted_sum([a, b], [0.25, 0.75]).sum().backward()
        return a.grad.tolist(), b.grad

    _same(run)


def test_multiple_and_non_tensor_results():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::stats", mutates_args=())
        def stats(x: lib.Tensor) -> tuple[lib.Tensor, lib.Tensor, int, float]:
            return x * 2, x * 3, x.numel(), 0.5

        stats.register_autograd(lambda ctx, g1, g2, g3, g4: g1 * 2 + g2 * 3)
        x = lib.ones(2, requires_grad=True)
        a, b, n, f = stats(x)
        (a + b).sum().backward()
        return a.tolist(), b.tolist(), n, f, x.grad.tolist()

    _same(run)


def test_no_grad_and_inputs_without_grad_record_nothing():
    ns = _ns()

    def run(lib):
        op = _numpy_sin(lib, ns)
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            quiet = op(x)
        plain = op(lib.ones(2))
        return quiet.requires_grad, quiet.grad_fn, plain.requires_grad

    _same(run)


# ---- infer_schema ---------------------------------------------------------------------------
def _signature_functions(T, number, lib):  # noqa: N803
    def f1(x: T) -> T: ...
    def f2(x: T, box: Sequence[int]) -> T: ...
    def f3(x: T, n: int = 2, y: float = 1.5, b: bool = True, s: str = "a") -> T: ...
    def f4(xs: list[T], ws: list[float], o: Optional[T] = None) -> list[T]: ...
    def f5(x: T, *, k: int = 3, d: lib.dtype = lib.float64,
           dev: lib.device = lib.device("cpu")) -> tuple[T, T]: ...
    def f6(x: T, out: T) -> None: ...
    def f7(x: T, y: Optional[Sequence[int]], z: Sequence[Optional[T]]) -> tuple[T]: ...
    def f8(x: T, n: number, m: Optional[int]) -> int: ...
    def f9(x: "Optional[int]", n: "Sequence[float]") -> "int": ...
    def f10(x: T, y: list[bool], z: Optional[list[float]]) -> tuple[T, int, float, bool]: ...
    def f11(x: T, dt: Optional[lib.dtype] = None) -> T: ...
    def f12(x: T, s: Optional[str] = None, f: float = -0.25) -> list[T]: ...
    return [f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12]


@pytest.mark.parametrize("index", range(12))
@pytest.mark.parametrize("mutates", [(), {"x"}, "unknown"], ids=["none", "x", "unknown"])
def test_infer_schema_matches_torch(index, mutates):
    def run(lib):
        fn = _signature_functions(lib.Tensor, int | float | bool, lib)[index]
        return (lib.library.infer_schema(fn, mutates_args=mutates),
                lib.library.infer_schema(fn, mutates_args=mutates, op_name="op"))

    got = _same(run)
    assert got[0] == "ok" or mutates == {"x"} and index in (3, 8)  # (no Tensor x there)


def _bad_functions(T):  # noqa: N803
    def tuple_arg(x: tuple[int, int]) -> T: ...
    def dict_arg(x: dict) -> T: ...
    def no_annotation(x) -> T: ...
    def varargs(x: T, *args: T) -> T: ...
    def bad_return(x: T) -> dict: ...
    def no_return(x: T): ...
    def unknown_name(x: "Nope") -> T: ...  # noqa: F821
    def bad_default(x: T, n: int = [1]) -> T: ...  # noqa: B006
    def positional_only(x: T, /) -> T: ...
    return [tuple_arg, dict_arg, no_annotation, varargs, bad_return, no_return, unknown_name,
            bad_default, positional_only]


def _without_group_name(text):
    """torch's list of valid types names torch.distributed's GroupName, which ember lacks."""
    return text.replace(", torch.distributed.distributed_c10d.GroupName, typing.Optional["
                        "torch.distributed.distributed_c10d.GroupName]", "")


@pytest.mark.parametrize("index", range(9))
def test_infer_schema_errors_match_torch(index):
    outcomes = []
    for lib in (torch, ember):
        fn = _bad_functions(lib.Tensor)[index]
        kind, message = _outcome(lambda lib: lib.library.infer_schema(fn, mutates_args=()), lib)
        outcomes.append((kind, _without_group_name(message)))
    assert outcomes[0][0] == "ValueError"
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("mutates", [{"zz"}, "bogus", {"n"}])
def test_infer_schema_mutates_args_errors(mutates):
    def run(lib):
        def fn(x: lib.Tensor, n: int) -> lib.Tensor: ...
        return lib.library.infer_schema(fn, mutates_args=mutates)

    assert _same(run)[0] == "ValueError"


# ---- opcheck --------------------------------------------------------------------------------
def test_opcheck_results_and_options():
    ns = _ns()

    def run(lib):
        op = _numpy_sin(lib, ns)
        x = lib.randn(3, requires_grad=True)
        return (lib.library.opcheck(op, (x,)),
                lib.library.opcheck(getattr(lib.ops, ns).numpy_sin, (x.detach(),)),
                lib.library.opcheck(op._opoverload, (x,), test_utils="test_faketensor"),
                lib.library.opcheck(op, (x,), test_utils="ALL"),
                lib.library.opcheck(op, (x,), atol=1e-3, rtol=1e-3))

    _same(run)


@pytest.mark.parametrize("case", ["rtol_only", "bad_util", "not_an_op"])
def test_opcheck_argument_errors(case):
    ns = _ns()

    def run(lib):
        op = _numpy_sin(lib, ns)
        x = lib.randn(2)
        if case == "rtol_only":
            return lib.library.opcheck(op, (x,), rtol=1e-3)
        if case == "bad_util":
            return lib.library.opcheck(op, (x,), test_utils=("test_faketensor", "test_bogus"))
        return lib.library.opcheck(lambda t: t, (x,))

    assert _same(run)[0] == "ValueError"


def test_opcheck_without_fake_kernel():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::nofake", mutates_args=())
        def nofake(x: lib.Tensor) -> lib.Tensor:
            return x * 2

        x = lib.randn(2)
        lenient = lib.library.opcheck(nofake, (x,), raise_exception=False)
        lenient = {k: v if v == "SUCCESS" else (type(v).__name__, str(v))
                   for k, v in lenient.items()}
        try:
            lib.library.opcheck(nofake, (x,))
        except Exception as error:
            return lenient, type(error).__name__, str(error), type(error.__cause__).__name__

    _same(run)


def _bad_fake_op(lib, ns, case):
    """An op whose fake kernel gets one piece of metadata wrong."""
    two = case == "count"

    @lib.library.custom_op(f"{ns}::bad_{case}", mutates_args=())
    def op(x: lib.Tensor) -> tuple[lib.Tensor, lib.Tensor] if two else lib.Tensor:
        if two:
            return x * 2, x * 3
        return (x * 2).t().contiguous().t() if case == "stride" else x * 2

    @op.register_fake
    def _(x):
        if case == "shape":
            return x.new_empty(x.shape[0] + 1, x.shape[1])
        if case == "dtype":
            return x.new_empty(x.shape, dtype=lib.float64)
        if case == "count":
            return lib.empty_like(x), lib.empty(2)
        return lib.empty_like(x)

    return op


@pytest.mark.parametrize("case", ["shape", "dtype", "stride", "count"])
def test_opcheck_finds_a_wrong_fake_kernel(case):
    ns = _ns()

    def run(lib):
        op = _bad_fake_op(lib, ns, case)
        results = lib.library.opcheck(op, (lib.randn(2, 3),), raise_exception=False)
        return {k: v if v == "SUCCESS" else (type(v).__name__, str(v), repr(v))
                for k, v in results.items()}

    _same(run)


def test_opcheck_finds_an_undeclared_mutation():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::sneaky", mutates_args=())
        def sneaky(x: lib.Tensor, y: lib.Tensor) -> lib.Tensor:
            y.add_(1)
            return x.clone()

        sneaky.register_fake(lambda x, y: lib.empty_like(x))
        y = lib.zeros(3)
        try:
            lib.library.opcheck(sneaky, (lib.randn(3), y))
        except Exception as error:
            return type(error).__name__, str(error), type(error.__cause__).__name__, y.tolist()

    _same(run)


def test_opcheck_accepts_a_declared_mutation_that_does_not_happen():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::lazy", mutates_args={"y"})
        def lazy(x: lib.Tensor, y: lib.Tensor) -> lib.Tensor:
            return x.clone()

        lazy.register_fake(lambda x, y: lib.empty_like(x))
        return lib.library.opcheck(lazy, (lib.randn(3), lib.randn(3)))

    _same(run)


def test_opcheck_runs_the_backward_with_torchs_checks():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::scale", mutates_args=())
        def scale(x: lib.Tensor) -> lib.Tensor:
            return x * 2

        scale.register_fake(lambda x: lib.empty_like(x))
        scale.register_autograd(lambda ctx, grad: grad[:1])  # a gradient of the wrong shape
        x = lib.randn(3, requires_grad=True)
        results = lib.library.opcheck(scale, (x,), raise_exception=False)
        return {k: v if v == "SUCCESS" else (type(v).__name__, str(v)) for k, v in results.items()}

    _same(run)


def test_opcheck_and_get_ctx_with_a_data_dependent_shape():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::nonzero", mutates_args=())
        def nonzero(x: lib.Tensor) -> lib.Tensor:
            return lib.tensor(np.stack(np.nonzero(x.numpy()), axis=1))

        @nonzero.register_fake
        def _(x):
            nnz = lib.library.get_ctx().new_dynamic_size()
            return x.new_empty([nnz, x.dim()], dtype=lib.int64)

        x = lib.tensor([0, 1, 2, 0, 0, 1])
        return (nonzero(x).tolist(), lib.library.opcheck(nonzero, (x,)),
                lib.library.get_ctx())

    _same(run)


# ---- torch.ops.<ns> -------------------------------------------------------------------------
def test_ops_namespace_lookup_and_errors():
    ns = _ns()

    other = _ns()

    def run(lib):
        _numpy_sin(lib, ns)
        space = getattr(lib.ops, ns)
        out = space.numpy_sin(lib.zeros(2)).tolist(), space.numpy_sin.default(lib.zeros(1)).tolist()
        errors = []
        for get in (lambda: space.nope, lambda: space.numpy_sin.nope,
                    lambda: getattr(lib.ops, other).anything):
            errors.append(_outcome(lambda lib: get(), lib))
        return out, errors

    _same(run)


def test_ember_ops_still_imports_family_modules():
    from ember.ops import aten, softmax

    assert aten is ember.ops.aten and softmax.__name__ == "ember.ops.softmax"
    assert not hasattr(ember.ops, "__no_such_dunder__")


# ---- autograd errors ------------------------------------------------------------------------
def test_missing_autograd_raises_at_backward_not_forward():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::nograd", mutates_args=())
        def nograd(x: lib.Tensor) -> lib.Tensor:
            return x * 2

        x = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = nograd(x)
        forward = (y.requires_grad, y.grad_fn.name())
        return forward, _outcome(lambda lib: y.sum().backward(), lib)

    _same(run)


@pytest.mark.parametrize("grads", ["one", "two", "three", "extra_none", "extra_grad"])
def test_wrong_number_of_gradients(grads):
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::mul", mutates_args=())
        def mul(x: lib.Tensor, y: lib.Tensor, k: float) -> lib.Tensor:
            return x * y * k

        returned = {"one": lambda g: g, "two": lambda g: (g, g), "three": lambda g: (g, g, g),
                    "extra_none": lambda g: (g, g, None, None),
                    "extra_grad": lambda g: (g, g, None, g)}[grads]
        mul.register_autograd(lambda ctx, g: returned(g))
        x, y = lib.ones(3, requires_grad=True), lib.ones(3, requires_grad=True)
        mul(x, y, 2.0).sum().backward()
        return x.grad.tolist()

    _same(run)


def test_needs_input_grad_and_gradient_shape_check():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::mul", mutates_args=())
        def mul(x: lib.Tensor, y: lib.Tensor) -> lib.Tensor:
            return x * y

        seen = []

        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g, g[:1]

        mul.register_autograd(backward)
        x = lib.ones(3, requires_grad=True)
        mul(x, lib.ones(3)).sum().backward()
        failing = _outcome(lambda lib: mul(x, lib.ones(3, requires_grad=True)).sum().backward(),
                           lib)
        return seen, x.grad.tolist(), failing

    _same(run)


@pytest.mark.parametrize("case", ["input", "view", "two_outputs"])
def test_results_aliasing_inputs_are_refused(case):
    ns = _ns()

    def run(lib):
        two = case == "two_outputs"

        @lib.library.custom_op(f"{ns}::alias_{case}", mutates_args=())
        def alias(x: lib.Tensor) -> tuple[lib.Tensor, lib.Tensor] if two else lib.Tensor:
            if two:
                y = x + 1
                return y, y
            return x if case == "input" else x.view(-1)

        return alias(lib.randn(2))

    assert _same(run)[0] == "RuntimeError"


def test_register_autograd_refuses_a_mutating_op():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::sin_", mutates_args={"x"})
        def sin_(x: lib.Tensor) -> None:
            x.copy_(x.sin())

        return sin_.register_autograd(lambda ctx, g: g)

    assert _same(run)[0] == "RuntimeError"


# ---- definition errors ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["foo", "a::b::c", "NS::bad name", "::x", "m-2::x",
                                  "prim::x", "NS::bad.over", "NS::", 7])
def test_bad_op_names(name):
    ns = _ns()

    def run(lib):
        def fn(x: lib.Tensor) -> lib.Tensor:
            return x.clone()

        qualname = name.replace("NS", ns) if isinstance(name, str) else name
        op = lib.library.custom_op(qualname, fn, mutates_args=())
        return repr(op), op(lib.ones(1)).tolist()

    _same(run)


@pytest.mark.parametrize("case", ["mutates_mismatch", "kwarg_only_tensor", "bad_schema",
                                  "unknown_type", "missing_mutates_args", "non_tensor_mutable"])
def test_custom_op_definition_errors(case):
    ns = _ns()

    def run(lib):
        def fn(x: lib.Tensor, *, y: lib.Tensor = None) -> lib.Tensor:
            return x.clone()

        make = lib.library.custom_op
        if case == "mutates_mismatch":
            return make(f"{ns}::a", fn, mutates_args={}, schema="(Tensor(a!) x) -> ()")
        if case == "kwarg_only_tensor":
            return make(f"{ns}::b", fn, mutates_args=())
        if case == "bad_schema":
            return make(f"{ns}::c", fn, mutates_args=(), schema="(Tensor x -> Tensor")
        if case == "unknown_type":
            return make(f"{ns}::d", fn, mutates_args=(), schema="(Tensor x) -> Foo")
        if case == "missing_mutates_args":
            return make(f"{ns}::e", fn)

        def g(x: lib.Tensor, n: int) -> lib.Tensor: ...
        return make(f"{ns}::f", g, mutates_args={"n"})

    assert _same(run)[0] != "ok"


def test_defining_an_op_again_replaces_it():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::dup", mutates_args=())
        def first(x: lib.Tensor) -> lib.Tensor:
            return x + 1

        @lib.library.custom_op(f"{ns}::dup", mutates_args=())
        def second(x: lib.Tensor) -> lib.Tensor:
            return x + 2

        # (calling `first` again is left out: whether torch still finds the op it replaced
        # depends on when its garbage collector frees the old registration)
        x = lib.zeros(1)
        return second(x).tolist(), getattr(lib.ops, ns).dup(x).tolist()

    _same(run)


@pytest.mark.parametrize("call", ["missing", "too_many", "unknown_kw", "twice", "bad_type",
                                  "bad_list", "not_iterable", "bad_tensor", "int_as_float"])
def test_call_errors_match_torch(call):
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::f", mutates_args=())
        def f(x: lib.Tensor, box: Sequence[int], k: float, *, n: int = 2) -> lib.Tensor:
            return x * k * n

        x = lib.ones(2)
        args = {"missing": ((x, [1]), {}), "too_many": ((x, [1], 1.0, 2.0, 3.0), {}),
                "unknown_kw": ((x, [1], 1.0), {"q": 1}), "twice": ((x, [1], 1.0), {"x": x}),
                "bad_type": ((x, [1], "a"), {}), "bad_list": ((x, [1, 2.5], 1.0), {}),
                "not_iterable": ((x, 3, 1.0), {}), "bad_tensor": ((3, [1], 1.0), {}),
                "int_as_float": ((x, (1,), 3), {"n": 1})}[call]
        return f(*args[0], **args[1]).tolist()

    _same(run)


@pytest.mark.parametrize("case", ["not_tensor", "not_tuple", "bad_int", "not_none"])
def test_result_type_errors(case):
    ns = _ns()

    def run(lib):
        returns = {"not_tensor": lib.Tensor, "not_tuple": tuple[lib.Tensor, lib.Tensor],
                   "bad_int": int, "not_none": None}[case]

        def fn(x: lib.Tensor):
            return {"not_tensor": 3, "not_tuple": x.clone(), "bad_int": 3.5,
                    "not_none": x.clone()}[case]

        fn.__annotations__["return"] = returns
        schema = "(Tensor(a0!) x) -> ()" if case == "not_none" else None
        mutates = {"x"} if case == "not_none" else ()
        return lib.library.custom_op(f"{ns}::r_{case}", fn, mutates_args=mutates,
                                     schema=schema)(lib.ones(1))

    assert _same(run)[0] in ("RuntimeError", "TypeError")


# ---- devices and kernels --------------------------------------------------------------------
def test_device_types_and_register_kernel():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::cuda_only", mutates_args=(), device_types="cuda")
        def cuda_only(x: lib.Tensor) -> lib.Tensor:
            return x.clone()

        failing = _outcome(lambda lib: cuda_only(lib.ones(1)), lib)
        failing = (failing[0], failing[1].split(" is only available")[0])

        @cuda_only.register_kernel("cpu")
        def _(x):
            return x * 3

        @lib.library.custom_op(f"{ns}::bar", mutates_args={}, device_types="cpu")
        def bar(device: lib.device) -> lib.Tensor:
            return lib.ones(2)

        def n_ones(n: int) -> lib.Tensor:
            return lib.ones(n)

        tensorless = _outcome(lambda lib: lib.library.custom_op(
            f"{ns}::n_ones", n_ones, mutates_args=(), device_types="cpu"), lib)
        anywhere = lib.library.custom_op(f"{ns}::n_ones2", n_ones, mutates_args=())
        return (failing, cuda_only(lib.ones(1)).tolist(), bar("cpu").tolist(),
                bar(lib.device("cpu")).tolist(), tensorless, anywhere(2).tolist())

    _same(run)


def test_set_kernel_enabled():
    ns = _ns()

    def run(lib):
        @lib.library.custom_op(f"{ns}::f", mutates_args=())
        def f(x: lib.Tensor) -> lib.Tensor:
            return lib.zeros(1)

        lib.library.register_kernel(f"{ns}::f", "cpu", lambda x: lib.ones(1))
        seen = [f(lib.ones(1)).item()]
        with f.set_kernel_enabled("cpu", enabled=False):
            seen.append(f(lib.ones(1)).item())
        seen.append(f(lib.ones(1)).item())
        return seen

    _same(run)


# ---- Library, define, impl ------------------------------------------------------------------
def test_library_define_impl_and_defaults():
    ns = _ns()

    def run(lib):
        library = lib.library.Library(ns, "DEF")
        names = [library.define("foo(Tensor x, int n=2) -> Tensor"),
                 library.define("foo.out(Tensor x, *, Tensor(a!) out) -> Tensor(a!)")]
        got = []

        def kernel(x, n=5):
            got.append(n)
            return x * n

        library.impl("foo", kernel, "CPU")
        space = getattr(lib.ops, ns)
        values = [space.foo(lib.ones(1)).tolist(), space.foo(lib.ones(1), 2).tolist(),
                  space.foo.default(lib.ones(1), n=3).tolist()]
        duplicate = _outcome(lambda lib: library.define("foo(Tensor x) -> Tensor"), lib)
        second = _outcome(lambda lib: lib.library.Library(ns, "DEF"), lib)
        return (repr(library), names, values, got, space.foo.overloads(),
                str(space.foo.out._schema), duplicate, second)

    _same(run)


@pytest.mark.parametrize("case", ["bad_kind", "named_schema", "bad_qualname", "not_callable",
                                  "no_override", "no_kernel", "no_fake_target"])
def test_library_errors(case):
    ns = _ns()

    def run(lib):
        if case == "bad_kind":
            return lib.library.Library(ns, "BOGUS")
        if case == "named_schema":
            return lib.library.define(f"{ns}::baz", "baz(Tensor x) -> Tensor")
        if case == "bad_qualname":
            return lib.library.define(f"{ns}baz", "(Tensor x) -> Tensor")
        lib.library.define(f"{ns}::baz", "(Tensor x) -> Tensor")
        library = lib.library.Library(ns, "FRAGMENT")
        if case == "not_callable":
            return library.impl("baz", 3, "CPU")
        if case == "no_override":
            library.impl("baz", lambda x: x * 2, "CPU")
            return library.impl("baz", lambda x: x * 2, "CPU", allow_override=False)
        if case == "no_fake_target":
            return lib.library.register_fake(f"{ns}::nonexist", lambda x: x)
        return getattr(lib.ops, ns).baz(lib.ones(1))

    def first_part(lib):  # (the backends torch lists are its own)
        try:
            return run(lib)
        except NotImplementedError as error:
            raise NotImplementedError(str(error).split(" is only available")[0]) from None

    kind, message = _same(first_part)
    assert kind != "ok" and message


def test_module_level_define_impl_and_autograd_keys():
    ns = _ns()

    def run(lib):
        lib.library.define(f"{ns}::twice", "(Tensor x) -> Tensor")
        lib.library.impl(f"{ns}::twice", "CompositeImplicitAutograd", lambda x: x * 2)
        lib.library.define(f"{ns}::cea", "(Tensor x) -> Tensor")
        lib.library.impl(f"{ns}::cea", "default", lambda x: x.sin())
        space = getattr(lib.ops, ns)
        x = lib.ones(2, requires_grad=True)
        t = space.twice(x)
        t.sum().backward()
        c = space.cea(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (torch warns once that a kernel is overridden)
            lib.library.impl(f"{ns}::cea", "Autograd", lambda x: x.cos())
            a = space.cea(x)
            lib.library.register_autograd(f"{ns}::cea", lambda ctx, g: g * 10)
        x.grad = None
        space.cea(x).sum().backward()
        return (t.grad_fn.name(), c.grad_fn.name(), a.grad_fn.name(),
                np.round(a.tolist(), 6).tolist(), x.grad.tolist())

    _same(run)


def test_autograd_fallback_warns_at_backward():
    ns = _ns()

    def run(lib):
        lib.library.define(f"{ns}::np_sin", "(Tensor x) -> Tensor")
        lib.library.impl(f"{ns}::np_sin", "cpu",
                         lambda x: lib.from_numpy(np.sin(x.detach().numpy())))
        x = lib.ones(2, requires_grad=True)
        y = getattr(lib.ops, ns).np_sin(x)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y.sum().backward()
        return (y.requires_grad, x.grad, [str(w.message).split(" (Triggered")[0] for w in caught],
                y.grad_fn.name(), type(y.grad_fn).__name__, repr(y).split("grad_fn=")[1],
                repr(y.grad_fn).split(" at ")[0])

    _same(run)


def test_register_fake_on_a_library_op_and_opcheck():
    ns = _ns()

    def run(lib):
        lib.library.define(f"{ns}::double", "(Tensor x) -> Tensor")
        lib.library.impl(f"{ns}::double", "cpu", lambda x: x * 2)
        op = getattr(lib.ops, ns).double.default
        x = lib.randn(3)
        without = _outcome(lambda lib: lib.library.opcheck(op, (x,)), lib)
        lib.library.register_fake(f"{ns}::double", lambda x: lib.empty_like(x))
        again = _outcome(lambda lib: lib.library.register_fake(
            f"{ns}::double", lambda x: lib.empty_like(x), allow_override=False), lib)
        return (without, lib.library.opcheck(op, (x,)), again,
                _outcome(lambda lib: lib.library.opcheck(op, (x.requires_grad_(),)), lib))

    _same(run)


@pytest.mark.parametrize("case", ["returns_a_view", "declared_view"])
def test_opcheck_of_library_ops_whose_results_alias_inputs(case):
    ns = _ns()

    def run(lib):
        schema = "(Tensor(a) x) -> Tensor(a)" if case == "declared_view" else "(Tensor x) -> Tensor"
        lib.library.define(f"{ns}::{case}", schema)
        lib.library.impl(f"{ns}::{case}", "cpu", lambda x: x.view(-1))
        fake = (lambda x: x.view(-1)) if case == "declared_view" else lib.empty_like
        lib.library.register_fake(f"{ns}::{case}", fake)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (torch warns that the result aliases its input)
            results = lib.library.opcheck(getattr(getattr(lib.ops, ns), case).default,
                                          (lib.randn(3),), raise_exception=False)
        return {k: v if v == "SUCCESS" else (type(v).__name__, str(v)) for k, v in results.items()}

    _same(run)


@pytest.mark.parametrize("error", [True, False])
def test_aliasing_result_is_an_error_or_a_warning_as_torch_configures_it(error, monkeypatch):
    # torch errs when CI is set (torch._functorch.config.error_on_custom_op_aliasing), else
    # warns; ember reads the same environment (forced here both ways)
    import torch._functorch.config

    monkeypatch.setattr(torch._functorch.config, "error_on_custom_op_aliasing", error)
    monkeypatch.setenv("TORCHINDUCTOR_ERROR_ON_CUSTOM_OP_ALIASING", "1" if error else "0")
    ns = _ns()

    def run(lib):
        lib.library.define(f"{ns}::same", "(Tensor x) -> Tensor")
        lib.library.impl(f"{ns}::same", "cpu", lambda x: x.view(-1))
        lib.library.register_fake(f"{ns}::same", lib.empty_like)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = lib.library.opcheck(getattr(getattr(lib.ops, ns), "same").default,
                                          (lib.randn(3),), raise_exception=False)
        aliasing = [str(w.message) for w in caught if "(with implementation in" in
                    str(w.message)]
        outcome = results["test_aot_dispatch_dynamic"]
        return (outcome if outcome == "SUCCESS" else (type(outcome).__name__, str(outcome)),
                aliasing[:1])

    _same(run)


def test_destroying_a_library_removes_its_ops():
    ns = _ns()

    def run(lib):
        library = lib.library.Library(ns, "FRAGMENT")
        library.define("gone(Tensor x) -> Tensor")
        before = hasattr(getattr(lib.ops, ns), "gone")
        library._destroy()
        return before, hasattr(getattr(lib.ops, ns), "gone")

    _same(run)


def test_library_is_a_lazy_namespace():
    assert "library" in ember._LAZY_MODULES
    assert ember.library.custom_op is ember.library.custom_op
