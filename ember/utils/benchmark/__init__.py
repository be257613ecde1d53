"""ember.utils.benchmark: Timer, Measurement, Compare and the Fuzzers (matches
`torch.utils.benchmark`, a port of its pure-Python package: BSD-3-Clause license, Copyright (c)
Facebook, Inc. and its affiliates and the PyTorch contributors).

As in torch, `import ember.utils.benchmark` (or `from ember.utils import benchmark`) loads it:
`import ember` does not. What differs from torch (no C++ timer, no Callgrind collection) is
said in the modules' docstrings.
"""

from ember.utils.benchmark.utils.common import *  # noqa: F403
from ember.utils.benchmark.utils.timer import *  # noqa: F403
from ember.utils.benchmark.utils.compare import *  # noqa: F403
from ember.utils.benchmark.utils.fuzzer import *  # noqa: F403
from ember.utils.benchmark.utils.valgrind_wrapper.timer_interface import *  # noqa: F403
from ember.utils.benchmark.utils.sparse_fuzzer import *  # noqa: F403
