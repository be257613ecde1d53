"""ember.export.Dim and dynamic_shapes against torch.export: the spec forms accepted, the
errors for malformed specs and out-of-range examples, and the guards of the exported module."""

import numpy as np
import pytest
import torch

import ember
import ember.export


def _model(lib):
    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 2)

        def forward(self, x, y=None):
            return self.lin(x) + 1

    torch.manual_seed(0)
    return M()


def _x(lib, *shape):
    return lib.from_numpy(np.ones(shape, dtype=np.float32))


def _error(lib, fn):
    """(type name, first line of the message) of what fn(lib) raises."""
    with pytest.raises(Exception) as raised:
        fn(lib)
    return type(raised.value).__name__, str(raised.value).split("\n")[0]


def _same_error(fn):
    assert _error(ember, fn) == _error(torch, fn)


@pytest.mark.parametrize("spec", [
    lambda E: {"z": {0: E.Dim("b")}},
    lambda E: ({0: E.Dim("b")}, None),
    lambda E: {"x": {0: E.Dim("b", min=5, max=10)}},
    lambda E: {"x": [E.Dim("b")]},
    lambda E: {"x": {0: 3}},
    lambda E: {"x": {0: "b"}},
])
def test_malformed_specs_raise_torchs_errors(spec):
    _same_error(lambda lib: lib.export.export(_model(lib), (_x(lib, 4, 3),),
                                              dynamic_shapes=spec(lib.export)))


@pytest.mark.parametrize("spec", [
    lambda E: ({0: E.Dim("b")},),
    lambda E: [{0: E.Dim("b")}],
    lambda E: {"x": (E.Dim("b"), None)},
    lambda E: {"x": (E.Dim.AUTO, E.Dim.STATIC)},
    lambda E: {"x": {0: E.Dim.DYNAMIC}},
    lambda E: {"x": {0: 4}},
])
def test_accepted_spec_forms_run_on_other_batch_sizes(spec):
    for lib in (ember, torch):
        ep = lib.export.export(_model(lib), (_x(lib, 4, 3),), dynamic_shapes=spec(lib.export))
        if "4" not in repr(spec(lib.export)):
            assert tuple(ep.module()(_x(lib, 9, 3)).shape) == (9, 2)


@pytest.mark.parametrize("shape", [(0, 3), (1, 3), (2, 3), (11, 3), (4, 4), (4,), (7, 3)])
def test_guards_of_the_exported_module(shape):
    def run(lib):
        dim = lib.export.Dim("b", min=3, max=10)
        ep = lib.export.export(_model(lib), (_x(lib, 4, 3),), dynamic_shapes={"x": {0: dim}})
        return tuple(ep.module()(_x(lib, *shape)).shape)
    try:
        expected = run(torch)
    except Exception:  # noqa: BLE001
        _same_error(run)
        return
    assert run(ember) == expected


def test_static_export_refuses_another_size():
    _same_error(lambda lib: lib.export.export(_model(lib), (_x(lib, 4, 3),)).module()(
        _x(lib, 5, 3)))


def test_specialized_dynamic_dim_raises_constraint_violation():
    def run(lib):
        class Fixed(lib.nn.Module):
            def forward(self, x):
                return x.view(4, -1) * 2
        return lib.export.export(Fixed(), (_x(lib, 4, 6),),
                                 dynamic_shapes={"x": {0: lib.export.Dim("b")}})
    _same_error(run)


def test_auto_dim_becomes_static_when_specialized():
    for lib in (ember, torch):
        class Fixed(lib.nn.Module):
            def forward(self, x):
                return x + lib.ones(4, 6)  # broadcasting specializes the batch to 4
        ep = lib.export.export(Fixed(), (_x(lib, 4, 6),),
                               dynamic_shapes={"x": {0: lib.export.Dim.AUTO}})
        with pytest.raises(AssertionError, match=r"x.size\(\)\[0\] == 4"):
            ep.module()(_x(lib, 5, 6))


def test_static_sizes_are_python_values_while_tracing():
    """`k.size(-1)` of a static dimension is an int (math.sqrt of it works), as in torch."""
    def run(lib):
        class Scaled(lib.nn.Module):
            def forward(self, x):
                B, T = x.shape
                if x.dim() == 2 and x.dtype == lib.float32:
                    x = x * (1.0 / np.sqrt(x.size(-1)))
                return x.reshape(B, T // 2, 2)
        ep = lib.export.export(Scaled(), (_x(lib, 3, 4),),
                               dynamic_shapes={"x": {0: lib.export.Dim("b")}})
        return ep.module()(_x(lib, 5, 4)).numpy()
    np.testing.assert_allclose(run(ember), run(torch))


def test_dim_reprs_and_errors():
    for make in (lambda E: E.Dim("b", min=2, max=10), lambda E: E.Dim("b", max=10),
                 lambda E: E.Dim("b", min=3), lambda E: E.Dim.AUTO,
                 lambda E: E.Dim.DYNAMIC(min=3), lambda E: E.Dim.STATIC,
                 lambda E: E.dims("b1", "b2", max=8)):
        assert repr(make(ember.export)) == repr(make(torch.export))
    for bad in (lambda E: E.Dim("b", min=5, max=5), lambda E: E.Dim("1b"),
                lambda E: E.Dim.AUTO(min=-1)):
        assert _error(ember, lambda lib: bad(lib.export)) == \
            _error(torch, lambda lib: bad(lib.export))
    with pytest.raises(TypeError, match="object is not callable"):
        ember.export.Dim.AUTO(min=3)(max=4)


def test_shapes_collection():
    for lib in (ember, torch):
        x = _x(lib, 4, 3)
        shapes = lib.export.ShapesCollection()
        shapes[x] = {0: lib.export.Dim("bb", max=20)}
        ep = lib.export.export(_model(lib), (x,), dynamic_shapes=shapes)
        assert tuple(ep.module()(_x(lib, 9, 3)).shape) == (9, 2)
        with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 20"):
            ep.module()(_x(lib, 21, 3))


def test_nested_inputs_guard_each_tensor():
    def run(lib):
        class Nested(lib.nn.Module):
            def forward(self, inputs):
                return inputs["a"] + inputs["b"][0], inputs["b"][1].sum()
        n = lib.export.Dim("n")
        spec = {"inputs": {"a": {0: n}, "b": [{0: n}, None]}}
        inputs = {"a": _x(lib, 2, 3), "b": [_x(lib, 2, 3), _x(lib, 4)]}
        ep = lib.export.export(Nested(), (inputs,), dynamic_shapes=spec)
        kinds = [s.kind.name for s in ep.graph_signature.input_specs]
        out = ep.module()({"a": _x(lib, 5, 3), "b": [_x(lib, 5, 3), _x(lib, 4)]})
        assert kinds == ["USER_INPUT"] * 3 and tuple(out[0].shape) == (5, 3)
        ep.module()({"a": _x(lib, 5, 3), "b": [_x(lib, 5, 3), _x(lib, 5)]})
    _same_error(run)


def test_dimensions_of_one_dim_must_be_equal():
    def run(lib):
        class MatMul(lib.nn.Module):
            def forward(self, x, y):
                return lib.matmul(x, y)
        inner, batch = lib.export.Dim("inner_dim"), lib.export.Dim("batch")
        ep = lib.export.export(MatMul(), (_x(lib, 2, 4), _x(lib, 4, 8)),
                               dynamic_shapes={"x": {0: batch, 1: inner}, "y": {0: inner}})
        assert tuple(ep.module()(_x(lib, 3, 5), _x(lib, 5, 8)).shape) == (3, 8)
        ep.module()(_x(lib, 3, 5), _x(lib, 6, 8))
    _same_error(run)


def test_branch_on_tensor_data_raises_and_torch_cond_exports():
    def branch(lib):
        class Bad(lib.nn.Module):
            def forward(self, x):
                return x.sin() if x.sum() > 0 else x.cos()
        lib.export.export(Bad(), (_x(lib, 3, 3),))
    (name, _), (torch_name, _) = _error(ember, branch), _error(torch, branch)
    assert name == torch_name == "GuardOnDataDependentSymNode"
    assert isinstance(pytest.raises(RuntimeError, branch, ember).value, RuntimeError)
    for lib in (ember, torch):
        class Cond(lib.nn.Module):
            def forward(self, x):
                return lib.cond(x.sum() > 0, lambda x: x.sin(), lambda x: x.cos(), (x,))
        ep = lib.export.export(Cond(), (_x(lib, 3, 3),))
        assert [s.kind.name for s in ep.graph_signature.input_specs] == ["USER_INPUT"]
        z = lib.from_numpy(np.linspace(-0.5, 1.5, 9, dtype=np.float32).reshape(3, 3))
        np.testing.assert_allclose(ep.module()(z).numpy(), z.sin().numpy())
        np.testing.assert_allclose(ep.module()(-z.abs() - 1).numpy(), (-z.abs() - 1).cos().numpy())


def test_branch_on_a_dynamic_size_raises_user_error():
    def run(lib):
        class Shape(lib.nn.Module):
            def forward(self, x, y):
                return x + y if x.shape[0] > 2 else x - y
        dim = lib.export.Dim("dim0_x")
        lib.export.export(Shape(), (_x(lib, 10, 2), _x(lib, 10, 2)),
                          dynamic_shapes={"x": {0: dim}, "y": {0: dim}})
    assert _error(ember, run)[1] == _error(torch, run)[1] == \
        'Constraints violated (dim0_x)! For more information, run with TORCH_LOGS="+dynamic".'
    assert _error(ember, run)[0] == _error(torch, run)[0] == "UserError"


def test_derived_dims():
    for lib in (ember, torch):
        dx = lib.export.Dim("dx", min=3, max=10)
        assert [repr(d) for d in (dx + 1, 2 * dx, 2 * dx + 1, dx - 2)] == \
            ["dx + 1", "2*dx", "2*dx + 1", "dx - 2"]
        assert ((dx + 1).min, (dx + 1).max) == (4, 11)

        class Shifted(lib.nn.Module):
            def forward(self, x, y):
                return x + y[1:]
        ep = lib.export.export(Shifted(), (_x(lib, 5), _x(lib, 6)),
                               dynamic_shapes={"x": {0: dx}, "y": {0: dx + 1}})
        assert tuple(ep.module()(_x(lib, 7), _x(lib, 8)).shape) == (7,)
        for sizes, message in (((7, 9), r"y.size\(\)\[0\]"), ((11, 12), r"x.size\(\)\[0\] <= 10"),
                               ((2, 3), r"x.size\(\)\[0\] >= 3")):
            with pytest.raises(AssertionError, match=message):
                ep.module()(_x(lib, sizes[0]), _x(lib, sizes[1]))
    for bad in (lambda d: d + 1.5, lambda d: 1 - d, lambda d: d * 0):
        assert _error(ember, lambda lib: bad(lib.export.Dim("dx"))) == \
            _error(torch, lambda lib: bad(lib.export.Dim("dx")))
