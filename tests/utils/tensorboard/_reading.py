"""Reading event files back with TensorBoard's own reader, shared by the SummaryWriter tests."""

import io

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter as TorchWriter

from ember.utils.tensorboard import SummaryWriter

KEEP_ALL = {kind: 0 for kind in ("compressedHistograms", "images", "audio", "scalars",
                                 "histograms", "tensors")}


def load(logdir) -> EventAccumulator:
    """Every record of the event files in logdir, read by TensorBoard."""
    return EventAccumulator(str(logdir), size_guidance=KEEP_ALL).Reload()


def log_both(tmp_path, log):
    """Run log(writer) with ember's and torch's writers; return both directories' readings."""
    readings = []
    for name, writer_class in (("ember", SummaryWriter), ("torch", TorchWriter)):
        writer = writer_class(str(tmp_path / name))
        log(writer)
        writer.close()
        readings.append(load(tmp_path / name))
    return readings


def decode_png(encoded: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(encoded)))


def tensor_values(event) -> np.ndarray:
    proto = event.tensor_proto
    shape = [d.size for d in proto.tensor_shape.dim]
    return np.array(proto.float_val or proto.double_val, dtype=np.float64).reshape(shape)
