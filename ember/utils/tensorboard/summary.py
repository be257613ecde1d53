"""Summary protobufs for each kind of data TensorBoard shows (matches torch's `summary` module).

Every function returns a `Summary` (tensorboard.compat.proto.summary_pb2) that the writer
wraps into an `Event`. Plugins other than scalars/images/histograms recognise their data by
`SummaryMetadata.plugin_data.plugin_name` ("text", "pr_curves", "custom_scalars", ...).
The hparams plugin's summaries are in `_hparams.py`.
"""

import io

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

from ember.utils.tensorboard._convert import convert_to_hwc, make_np, to_uint8
from ember.utils.tensorboard._hparams import hparams  # noqa: F401  (torch's summary has it)


def _shape_proto(shape) -> TensorShapeProto:
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(s)) for s in shape])


def _plugin_metadata(plugin_name: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin_name,
                                                                  content=content))


def scalar(name: str, value, new_style: bool = False,
           double_precision: bool = False) -> Summary:
    """A one-number summary (matches `torch.utils.tensorboard.summary.scalar`).

    Old style stores `simple_value` (a float32); new style stores a 0-d tensor for the
    scalars plugin (float32, or float64 with double_precision).
    """
    array = make_np(value).squeeze()
    if array.ndim != 0:
        raise AssertionError(f"a scalar must have one element, got shape {array.shape}")
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=number)])
    if double_precision:
        tensor = TensorProto(dtype="DT_DOUBLE", double_val=[number])
    else:
        tensor = TensorProto(dtype="DT_FLOAT", float_val=[number])
    return Summary(value=[Summary.Value(tag=name, tensor=tensor,
                                        metadata=_plugin_metadata("scalars"))])


def default_bins() -> list:
    """TensorFlow's histogram bucket edges: ±1e-12·1.1^k up to 1e20, and 0."""
    # Repeated multiplication (a cumulative product) gives the very floats torch uses.
    steps = np.full(800, 1.1)
    steps[0] = 1e-12
    positive = np.cumprod(steps)
    positive = positive[positive < 1e20]
    return (-positive[::-1]).tolist() + [0] + positive.tolist()


def make_histogram(values, bins, max_bins=None) -> HistogramProto:
    """A HistogramProto of `values` with np.histogram `bins` (matches torch's histogram).

    TensorBoard reads only right bucket edges, so the buckets kept run from the one just
    left of the first non-empty bucket (an empty one) to the last non-empty bucket.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and counts.size > max_bins:
        group = counts.size // max_bins  # merge groups of adjacent buckets
        counts = np.pad(counts, (0, -counts.size % group)).reshape(-1, group).sum(axis=1)
        limits = np.append(limits[:-1:group], limits[-1])
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ValueError("The histogram is empty: no value falls inside the bins.")
    first, last = nonzero[0], nonzero[-1]
    counts = np.concatenate([[0] if first == 0 else counts[first - 1:first],
                             counts[first:last + 1]])
    limits = limits[first:last + 2]
    return HistogramProto(min=values.min(), max=values.max(), num=values.size,
                          sum=values.sum(), sum_squares=values.dot(values),
                          bucket_limit=limits.tolist(), bucket=counts.tolist())


def histogram(name: str, values, bins, max_bins=None) -> Summary:
    """A histogram summary (matches `torch.utils.tensorboard.summary.histogram`)."""
    hist = make_histogram(make_np(values).astype(np.float64), bins, max_bins)
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def make_image(hwc: np.ndarray) -> Summary.Image:
    """PNG-encode an (H, W, C) uint8 image into a Summary.Image."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError('logging images needs Pillow: pip install "ember[tensorboard]"') \
            from error
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(hwc)).save(buffer, format="PNG")
    height, width, channels = hwc.shape
    return Summary.Image(height=height, width=width, colorspace=channels,
                         encoded_image_string=buffer.getvalue())


def image(tag: str, tensor, dataformats: str = "NCHW") -> Summary:
    """An image summary; a batch becomes a grid (matches `torch...summary.image`)."""
    hwc = to_uint8(convert_to_hwc(make_np(tensor), dataformats))
    return Summary(value=[Summary.Value(tag=tag, image=make_image(hwc))])


def text(tag: str, text: str) -> Summary:
    """A text summary for the text plugin, under `<tag>/text_summary` (as torch)."""
    tensor = TensorProto(dtype="DT_STRING", string_val=[text.encode("utf-8")],
                         tensor_shape=_shape_proto([1]))
    metadata = _plugin_metadata("text", TextPluginData(version=0).SerializeToString())
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata,
                                        tensor=tensor)])


def compute_curve(labels, predictions, num_thresholds: int, weights=None) -> np.ndarray:
    """The (6, num_thresholds) table tp, fp, tn, fn, precision, recall of a PR curve.

    Threshold i is i/(num_thresholds-1); a prediction p lands in bucket floor(p·(T-1)) and
    counts as positive for every threshold up to its bucket: tp = reverse cumsum of buckets.
    """
    weights = 1.0 if weights is None else np.asarray(weights, dtype=np.float64)
    buckets = np.floor(np.asarray(predictions) * (num_thresholds - 1)).astype(np.int32)
    labels = np.asarray(labels, dtype=np.float64)
    span = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(buckets, bins=num_thresholds, range=span,
                                 weights=labels * weights)
    fp_buckets, _ = np.histogram(buckets, bins=num_thresholds, range=span,
                                 weights=(1.0 - labels) * weights)
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    return np.stack([tp, fp, tn, fn, precision, recall])


def pr_curve_raw(tag: str, data: np.ndarray, num_thresholds: int) -> Summary:
    """A PR-curve summary from its (6, num_thresholds) table, for the pr_curves plugin."""
    tensor = TensorProto(dtype="DT_FLOAT", float_val=np.asarray(data).reshape(-1).tolist(),
                         tensor_shape=_shape_proto(np.shape(data)))
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata("pr_curves", content),
                                        tensor=tensor)])


def pr_curve(tag: str, labels, predictions, num_thresholds: int = 127,
             weights=None) -> Summary:
    """A precision-recall curve summary (matches `torch...summary.pr_curve`)."""
    num_thresholds = min(num_thresholds, 127)  # as torch: the plugin's limit
    data = compute_curve(make_np(labels), make_np(predictions), num_thresholds, weights)
    return pr_curve_raw(tag, data, num_thresholds)


def histogram_raw(name: str, min, max, num, sum, sum_squares, bucket_limits,
                  bucket_counts) -> Summary:
    """A histogram summary from precomputed statistics and buckets (matches torch)."""
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=list(bucket_limits), bucket=list(bucket_counts))
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def audio(tag: str, tensor, sample_rate: int = 44100) -> Summary:
    """A mono 16-bit WAV clip of samples in [-1, 1] (matches `torch...summary.audio`)."""
    import wave

    array = make_np(tensor).squeeze()
    if np.abs(array).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    samples = (array * np.iinfo(np.int16).max).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
    clip = Summary.Audio(sample_rate=sample_rate, num_channels=1,
                         length_frames=samples.shape[-1], encoded_audio_string=buffer.getvalue(),
                         content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=clip)])


def custom_scalars(layout: dict) -> Summary:
    """The Custom Scalars tab's layout: {category: {title: ["Multiline"|"Margin", tags]}}."""
    from tensorboard.plugins.custom_scalar import layout_pb2

    categories = []
    for category, charts in layout.items():
        protos = []
        for title, (kind, tags) in charts.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError("len(tags) != 3")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1],
                                                              upper=tags[2])
                protos.append(layout_pb2.Chart(
                    title=title, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                protos.append(layout_pb2.Chart(
                    title=title, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=category, chart=protos))
    tensor = TensorProto(dtype="DT_STRING", tensor_shape=TensorShapeProto(),
                         string_val=[layout_pb2.Layout(category=categories).SerializeToString()])
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=tensor,
                                        metadata=_plugin_metadata("custom_scalars"))])


# NumPy dtype -> (TensorProto dtype, the TensorProto field holding the values)
# NOTE [Tensor fields that differ from torch] torch puts uint8 values in uint32_val and the
# float32 bit patterns of float16 values in half_val; TensorBoard's decoder
# (tensorboard.util.tensor_util.make_ndarray) reads uint8 from int_val and float16 bits from
# half_val, and fails on torch's records. ember writes what TensorFlow and TensorBoard read.
_TENSOR_FIELDS = {
    np.dtype(np.float16): ("DT_HALF", "half_val"),
    np.dtype(np.float32): ("DT_FLOAT", "float_val"),
    np.dtype(np.float64): ("DT_DOUBLE", "double_val"),
    np.dtype(np.int8): ("DT_INT8", "int_val"),
    np.dtype(np.uint8): ("DT_UINT8", "int_val"),
    np.dtype(np.int16): ("DT_INT16", "int_val"),
    np.dtype(np.int32): ("DT_INT32", "int_val"),
    np.dtype(np.int64): ("DT_INT64", "int64_val"),
    np.dtype(np.bool_): ("DT_BOOL", "bool_val"),
    np.dtype(np.complex64): ("DT_COMPLEX64", "scomplex_val"),
    np.dtype(np.complex128): ("DT_COMPLEX128", "dcomplex_val"),
}


def tensor_proto(tag: str, tensor) -> Summary:
    """A whole tensor, values and shape, for the tensor plugin (matches torch's tensor_proto)."""
    array = make_np(tensor)
    if array.nbytes >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if array.dtype not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {array.dtype}")
    dtype, field = _TENSOR_FIELDS[array.dtype]
    # half_val holds float16 bit patterns; complex values go as interleaved (real, imag)
    if dtype == "DT_HALF":
        values = np.ascontiguousarray(array).view(np.uint16)
    elif array.dtype.kind == "c":
        values = np.ascontiguousarray(array).view(array.real.dtype)
    else:
        values = array
    proto = TensorProto(dtype=dtype, tensor_shape=_shape_proto(array.shape),
                        **{field: values.reshape(-1).tolist()})
    return Summary(value=[Summary.Value(tag=tag, tensor=proto,
                                        metadata=_plugin_metadata("tensor"))])

