"""Shared by the ONNX export tests: export to bytes, check onnx.checker, run in onnxruntime and
compare with ember at two input sizes (rtol 1e-4, atol 1e-5)."""

import io

import numpy as np
import onnx
import onnxruntime

import ember
from ember import nn

RTOL, ATOL = 1e-4, 1e-5


def export_bytes(model, inputs, dynamic=None, **options):
    """Export to a BytesIO; (ModelProto, onnxruntime session)."""
    names = [f"in{i}" for i in range(len(inputs))]
    buffer = io.BytesIO()
    axes = {n: a for n, a in zip(names, dynamic or [])} if dynamic else None
    ember.onnx.export(model, tuple(inputs), buffer, input_names=names, dynamic_axes=axes,
                      **options)
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    session = onnxruntime.InferenceSession(buffer.getvalue(),
                                           providers=["CPUExecutionProvider"])
    return proto, session


def outputs(value) -> list:
    if isinstance(value, ember.Tensor):
        return [value.numpy()]
    return [a for v in value for a in outputs(v)]


def check(model, first, second=None, dynamic=None):
    """Export on `first`; compare onnxruntime with ember on `first` and on `second`."""
    model.eval()
    _, session = export_bytes(model, first, dynamic)
    for inputs in [first] + ([second] if second else []):
        with ember.no_grad():
            expected = outputs(model(*inputs))
        got = session.run(None, {f"in{i}": x.numpy() for i, x in enumerate(inputs)})
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL)


def r(*shape):
    return ember.randn(*shape)


class Lambda(nn.Module):
    """A module whose forward is a function of its input (for op coverage)."""

    def __init__(self, fn, *children):
        super().__init__()
        self.fn = fn
        self.children_ = nn.ModuleList(children)

    def forward(self, x):
        return self.fn(x, *self.children_)


BATCH = [{0: "batch"}]
SEQ2 = [{0: "batch", 1: "time"}]
