"""The grad-mode flags every op reads (ember/autograd/grad_mode.py switches them), in a module of
their own so that ember/_tensor.py can read them without importing the autograd package."""

# "inference_seen": inference mode was entered at least once, so inference tensors may exist
# (until then, saving a tensor for backward skips their check)
GRAD_STATE = {"enabled": True, "inference": False, "inference_seen": False}


class _InferenceVersion:
    """The counter of a tensor made in inference mode (an inference tensor; views share it).

    NOTE [Inference tensors]
    PyTorch's inference tensors track no version (`_version` raises) and refuse an in-place
    write outside inference mode, after the write, where the version would be bumped. Their
    counter being of this class is what marks them (`Tensor.is_inference`)."""

    __slots__ = ("_value",)

    @property
    def value(self) -> int:
        return self._value

    @value.setter
    def value(self, value):
        if not GRAD_STATE["inference"]:
            raise RuntimeError(INFERENCE_INPLACE_MESSAGE)
        self._value = value


INFERENCE_INPLACE_MESSAGE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details.")
