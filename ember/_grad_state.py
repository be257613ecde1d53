"""The grad-mode flags every op reads (ember/autograd/grad_mode.py switches them), in a module of
their own so that ember/_tensor.py can read them without importing the autograd package."""

GRAD_STATE = {"enabled": True, "inference": False}
