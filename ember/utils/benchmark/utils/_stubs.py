"""Protocols for the parts of `timeit.Timer` the benchmark utils use (matches
`torch.utils.benchmark.utils._stubs`, without the C++ and Callgrind module types ember has no
use for).

Ported from PyTorch's torch/utils/benchmark/utils/_stubs.py (BSD-3-Clause license, Copyright
(c) Facebook, Inc. and its affiliates and the PyTorch contributors).
"""

from collections.abc import Callable
from typing import Any, Protocol


class TimerClass(Protocol):
    """This is the portion of the `timeit.Timer` API used by benchmark utils."""

    def __init__(
        self,
        stmt: str,
        setup: str,
        timer: Callable[[], float],
        globals: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        """Prepare `stmt` after running `setup` with `globals`."""

    def timeit(self, number: int) -> float:
        """Seconds taken by `number` runs of `stmt`."""
