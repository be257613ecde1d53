"""The exception types torch.export raises, under torch's class names: `UserError` (torch's
lives in torch._dynamo.exc) and `ConstraintViolationError` (torch.fx.experimental.
symbolic_shapes); both are RuntimeErrors, as torch's are."""


class UserError(RuntimeError):
    """A wrong call of export: inputs or dynamic_shapes of the wrong structure."""


class ConstraintViolationError(RuntimeError):
    """An example input outside the range its dynamic_shapes spec allows."""


_DOCS = ("For more information about this error, see: https://pytorch.org/docs/main/generated/"
         "exportdb/index.html#dynamic-shapes-validation")


def spec_error(message: str) -> UserError:
    """A dynamic_shapes validation error with torch's pointer to the docs."""
    return UserError(f"{message}\n{_DOCS}")


class GuardOnDataDependentSymNode(RuntimeError):
    """Python control flow on a tensor's values (`if x.sum() > 0:`), which a graph cannot hold
    (torch's lives in torch.fx.experimental.symbolic_shapes)."""
