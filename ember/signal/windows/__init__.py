"""Window functions (matches `torch.signal.windows`); computed in ember/ops/windows.py."""

from ember.ops.windows import (bartlett, blackman, cosine, exponential, gaussian, general_cosine,
                               general_hamming, hamming, hann, kaiser, nuttall)

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]
