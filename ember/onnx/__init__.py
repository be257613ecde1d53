"""ember.onnx: importable as `torch.onnx` (scripts import it at the top). `export` is not built
yet: it raises an error saying so, rather than writing a wrong file."""

import dataclasses


def is_in_onnx_export() -> bool:
    """False: no export is running (matches `torch.onnx.is_in_onnx_export`)."""
    return False


@dataclasses.dataclass
class ExportOptions:
    """Options of the dynamo exporter (accepted; matches `torch.onnx.ExportOptions`)."""

    dynamic_shapes: bool | None = None
    diagnostic_options: object = None


class OnnxExporterError(RuntimeError):
    """Raised when a model cannot be exported."""


def export(model, args=(), f=None, **kwargs):
    """Export to ONNX: not available in this version of ember."""
    raise OnnxExporterError("ember.onnx.export is not implemented yet: ember cannot write ONNX "
                            "files in this version")
