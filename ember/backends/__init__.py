"""ember.backends: the flags scripts set on torch.backends; on ember's CPU backend they do
nothing, but setting and reading them works as in a CPU-only PyTorch."""

from ember.backends import (cpu, cuda, cudnn, mha, mkl, mkldnn, mps, openmp,  # noqa: F401
                            opt_einsum, quantized)

fp32_precision = "none"
