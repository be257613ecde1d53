"""ember.backends: the flags scripts set on torch.backends; on ember's CPU backend they do
nothing, but setting and reading them works as in a CPU-only PyTorch."""

from ember.backends import cudnn, mps  # noqa: F401
