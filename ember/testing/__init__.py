"""ember.testing: PyTorch's `torch.testing` (`assert_close`, `make_tensor`, `FileCheck` and the
deprecated `assert_allclose`), ported from torch's own code (BSD-3-Clause, (c) PyTorch
contributors) to ember's tensors, with torch's messages and torch's random draws.
"""

from ember.testing._comparison import assert_allclose, assert_close
from ember.testing._creation import make_tensor
from ember.testing._file_check import FileCheck

__all__ = ["FileCheck", "assert_allclose", "assert_close", "make_tensor"]
