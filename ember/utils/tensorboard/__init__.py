"""ember.utils.tensorboard: SummaryWriter (matches torch.utils.tensorboard).

Writes standard TensorBoard event files with TensorBoard's own protobuf classes. TensorBoard
is an optional dependency: `pip install "ember[tensorboard]"`.
"""

try:
    import tensorboard  # noqa: F401
    from tensorboard.compat.proto import event_pb2  # noqa: F401
except ImportError as _error:
    raise ImportError(
        'ember.utils.tensorboard needs TensorBoard, which is not installed: '
        'pip install "ember[tensorboard]"') from _error

from ember.utils.tensorboard.writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ["FileWriter", "SummaryWriter"]
