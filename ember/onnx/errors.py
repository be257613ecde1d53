"""The ONNX exporter's exceptions and warning (matches `torch.onnx.errors`)."""

from ember.onnx._graph import OnnxExporterError

__all__ = ["OnnxExporterError", "OnnxExporterWarning", "SymbolicValueError",
           "UnsupportedOperatorError"]


class OnnxExporterWarning(UserWarning):
    """Warnings in the ONNX exporter (matches `torch.onnx.errors.OnnxExporterWarning`)."""


class UnsupportedOperatorError(OnnxExporterError):
    """An operator the exporter cannot write (matches `torch.onnx.errors.UnsupportedOperatorError`,
    with its message for an op in a known namespace)."""

    def __init__(self, name: str, version: int, supported_version=None):
        if supported_version is not None:
            message = (f"Exporting the operator '{name}' to ONNX opset version {version} is not "
                       "supported. Support for this operator was added in version "
                       f"{supported_version}, try exporting with this version")
        else:
            message = (f"Exporting the operator '{name}' to ONNX opset version {version} is not "
                       "supported")
        super().__init__(message)


class SymbolicValueError(OnnxExporterError):
    """Errors around a traced value (matches `torch.onnx.errors.SymbolicValueError`)."""

    def __init__(self, msg: str, value):
        super().__init__(f"{msg}  [Caused by the value '{value}'.] ")
