"""ember.nn.parallel: `DataParallel` as a CPU-only torch runs it. DistributedDataParallel comes
with `ember.distributed`."""

from ember.nn.parallel.data_parallel import DataParallel, data_parallel
from ember.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
