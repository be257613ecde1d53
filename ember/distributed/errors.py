"""The exceptions of torch.distributed: DistError and its kinds, all RuntimeErrors as in torch."""


class DistError(RuntimeError):
    """An error of the distributed package (matches `torch.distributed.DistError`)."""


class DistBackendError(DistError):
    """A collective failed in the communication backend."""


class DistNetworkError(DistError):
    """A socket could not connect, listen or talk to its peer."""


class DistStoreError(DistError):
    """A key-value store operation failed, e.g. a key did not appear before the timeout."""


class QueueEmptyError(DistStoreError):
    """A non-blocking queue_pop found the queue empty."""


for _error in (DistError, DistBackendError, DistNetworkError, DistStoreError, QueueEmptyError):
    _error.__module__ = "torch.distributed"  # where torch defines them
