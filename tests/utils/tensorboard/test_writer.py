"""SummaryWriter: event files read back with TensorBoard's own reader, and compared with torch's.

Every test writes with ember's SummaryWriter, loads the directory with TensorBoard's
EventAccumulator (which checks the TFRecord CRCs), and, where torch's writer can make the same
record, writes the same calls with torch.utils.tensorboard and compares the two readings.
"""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.util import tensor_util
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import ember
from ember.utils.tensorboard import SummaryWriter
from tests.utils.tensorboard._reading import decode_png, load, log_both, tensor_values


# ---- scalars -------------------------------------------------------------------------------------
def test_scalars_steps_wall_times_match_torch(tmp_path):
    values = [3.25, ember.tensor(0.5), np.float32(-1.0), torch.tensor(7.0), 2]

    def log(writer):
        for step, value in enumerate(values):
            value = torch.tensor(float(value)) if isinstance(value, ember.Tensor) and \
                isinstance(writer, TorchWriter) else value
            writer.add_scalar("loss/train", value, step * 10, walltime=1000.0 + step)

    ours, theirs = log_both(tmp_path, log)
    assert ours.Scalars("loss/train") == theirs.Scalars("loss/train")
    assert [(e.step, e.wall_time, e.value) for e in ours.Scalars("loss/train")] == \
        [(0, 1000.0, 3.25), (10, 1001.0, 0.5), (20, 1002.0, -1.0), (30, 1003.0, 7.0),
         (40, 1004.0, 2.0)]


@pytest.mark.parametrize("double_precision", [False, True])
def test_new_style_scalar_matches_torch(tmp_path, double_precision):
    def log(writer):
        writer.add_scalar("acc", 0.1, 5, walltime=1.0, new_style=True,
                          double_precision=double_precision)

    ours, theirs = log_both(tmp_path, log)
    (event,) = ours.Tensors("acc")
    assert event.tensor_proto == theirs.Tensors("acc")[0].tensor_proto
    assert event.step == 5
    assert ours.SummaryMetadata("acc").plugin_data.plugin_name == "scalars"


def test_scalar_rejects_many_elements(tmp_path):
    with SummaryWriter(str(tmp_path)) as writer:
        with pytest.raises(AssertionError):
            writer.add_scalar("x", ember.tensor([1.0, 2.0]))


def test_add_scalars_one_run_per_series(tmp_path):
    def log(writer):
        for step in range(3):
            writer.add_scalars("run/loss", {"train": step, "val": 2 * step}, step,
                               walltime=10.0 + step)

    log_both(tmp_path, log)
    for name in ("ember", "torch"):
        assert sorted(os.listdir(tmp_path / name))[-2:] == ["run_loss_train", "run_loss_val"]
    for series, factor in (("train", 1), ("val", 2)):
        ours = load(tmp_path / "ember" / f"run_loss_{series}").Scalars("run/loss")
        theirs = load(tmp_path / "torch" / f"run_loss_{series}").Scalars("run/loss")
        assert ours == theirs
        assert [e.value for e in ours] == [0.0, factor * 1.0, factor * 2.0]


# ---- images --------------------------------------------------------------------------------------
RNG = np.random.default_rng(0)
IMAGE_CASES = [
    # (name, array, method, dataformats, expected HWC uint8)
    ("chw_float", RNG.random((3, 5, 7), dtype=np.float32), "add_image", "CHW", None),
    ("hwc_uint8", RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8), "add_image", "HWC", None),
    ("hw_float", RNG.random((4, 6)), "add_image", "HW", None),
    ("chw_one_channel", RNG.random((1, 4, 6), dtype=np.float32), "add_image", "CHW", None),
    ("chw_rgba", RNG.random((4, 3, 3), dtype=np.float32), "add_image", "CHW", None),
    ("nchw_batch", RNG.random((10, 3, 4, 5), dtype=np.float32), "add_images", "NCHW", None),
    ("nhwc_uint8", RNG.integers(0, 256, (3, 4, 5, 3), dtype=np.uint8), "add_images", "NHWC",
     None),
    ("nchw_gray", RNG.random((2, 1, 4, 5), dtype=np.float32), "add_images", "NCHW", None),
    ("out_of_range", np.linspace(-1, 2, 3 * 4 * 4).reshape(3, 4, 4), "add_image", "CHW", None),
]


def expected_hwc(array, dataformats):
    """The image torch's writer shows, computed here independently: batches tiled 8 a row."""
    if array.dtype != np.uint8:
        array = (array.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    axes = {"NCHW": (0, 2, 3, 1), "NHWC": (0, 1, 2, 3), "CHW": (1, 2, 0), "HWC": (0, 1, 2)}
    if dataformats == "HW":
        return np.stack([array] * 3, axis=2)
    array = array.transpose(axes[dataformats])
    if array.shape[-1] == 1:
        array = np.concatenate([array] * 3, axis=-1)
    if array.ndim == 3:
        return array
    n, h, w, c = array.shape
    cols = min(n, 8)
    rows = -(-n // cols)
    grid = np.zeros((rows * h, cols * w, c), dtype=np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        grid[r * h:(r + 1) * h, q * w:(q + 1) * w] = array[i]
    return grid


@pytest.mark.parametrize("name,array,method,dataformats,_", IMAGE_CASES,
                         ids=[case[0] for case in IMAGE_CASES])
def test_images_decode_to_the_expected_pixels(tmp_path, name, array, method, dataformats, _):
    def log(writer):
        getattr(writer, method)(name, array, 4, walltime=2.0, dataformats=dataformats)

    ours, theirs = log_both(tmp_path, log)
    (event,) = ours.Images(name)
    pixels = decode_png(event.encoded_image_string)
    expected = expected_hwc(array, dataformats)
    assert (event.step, event.wall_time) == (4, 2.0)
    assert (event.height, event.width) == expected.shape[:2]
    np.testing.assert_array_equal(pixels, expected)
    np.testing.assert_array_equal(pixels, decode_png(theirs.Images(name)[0].encoded_image_string))


def test_images_from_ember_tensors(tmp_path):
    batch = ember.tensor(RNG.random((64, 3, 8, 8), dtype=np.float32))
    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_images("input", batch, 0)
    (event,) = load(tmp_path).Images("input")
    assert (event.height, event.width) == (64, 64)
    np.testing.assert_array_equal(decode_png(event.encoded_image_string),
                                  expected_hwc(np.asarray(batch), "NCHW"))


@pytest.mark.parametrize("shape,dataformats", [((3, 4, 4), "HWCN"), ((3, 4, 4), "CCH"),
                                               ((2, 6, 4, 4), "NCHW")])
def test_bad_images_raise_like_torch(tmp_path, shape, dataformats):
    with SummaryWriter(str(tmp_path / "e")) as ours, TorchWriter(str(tmp_path / "t")) as theirs:
        for writer in (ours, theirs):
            with pytest.raises(AssertionError):
                writer.add_images("bad", np.zeros(shape), dataformats=dataformats)


def test_figure_matches_torch(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def log(writer):
        figure = plt.figure(figsize=(2, 1.5), dpi=50)
        plt.plot([0, 1, 2], [2, 0, 1])
        writer.add_figure("fig", figure, 1)
        writer.add_figure("figs", [plt.figure(figsize=(1, 1), dpi=40) for _ in range(3)], 1)

    ours, theirs = log_both(tmp_path, log)
    for tag, size in (("fig", (75, 100)), ("figs", (40, 120))):
        pixels = decode_png(ours.Images(tag)[0].encoded_image_string)
        assert pixels.shape == size + (3,)
        np.testing.assert_array_equal(pixels,
                                      decode_png(theirs.Images(tag)[0].encoded_image_string))
    assert not plt.get_fignums()  # close=True closed them


# ---- histograms, text, pr curves, hparams ------------------------------------------------------
@pytest.mark.parametrize("bins,max_bins", [("tensorflow", None), ("auto", None), (10, None),
                                           ("fd", 7), (np.linspace(-4, 4, 17), None)])
def test_histograms_match_torch(tmp_path, bins, max_bins):
    values = np.random.default_rng(1).normal(size=500).astype(np.float32)

    def log(writer):
        writer.add_histogram("w", values, 2, bins=bins, walltime=5.0, max_bins=max_bins)
        writer.add_histogram("w", values * 3, 3, bins=bins, walltime=6.0, max_bins=max_bins)

    ours, theirs = log_both(tmp_path, log)
    assert ours.Histograms("w") == theirs.Histograms("w")
    first = ours.Histograms("w")[0]
    hist = first.histogram_value
    assert (first.step, hist.num, hist.min, hist.max) == (2, 500, values.min(), values.max())
    assert sum(hist.bucket) == 500
    assert hist.sum == pytest.approx(float(values.astype(np.float64).sum()))


def test_histogram_of_ember_tensor(tmp_path):
    values = ember.tensor([0.0, 1.0, 1.0, 2.0])
    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_histogram("h", values, 0, bins=2)
        with pytest.raises(ValueError):
            writer.add_histogram("empty", ember.tensor([]), 0)
    hist = load(tmp_path).Histograms("h")[0].histogram_value
    assert (hist.min, hist.max, hist.num, hist.sum, hist.sum_squares) == (0, 2, 4, 4, 6)
    assert list(hist.bucket_limit) == [0.0, 1.0, 2.0] and list(hist.bucket) == [0, 1, 3]


def test_text_matches_torch(tmp_path):
    def log(writer):
        writer.add_text("notes", "lr **0.1** — ünïcode", 7, walltime=3.0)

    ours, theirs = log_both(tmp_path, log)
    (event,) = ours.Tensors("notes/text_summary")
    assert event.step == 7
    assert event.tensor_proto.string_val == ["lr **0.1** — ünïcode".encode()]
    assert event.tensor_proto == theirs.Tensors("notes/text_summary")[0].tensor_proto
    assert ours.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"


@pytest.mark.parametrize("num_thresholds,weighted", [(127, False), (11, True), (500, False)])
def test_pr_curve_matches_torch(tmp_path, num_thresholds, weighted):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 200)
    predictions = np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1)
    weights = rng.random(200) if weighted else None

    def log(writer):
        writer.add_pr_curve("pr", labels, predictions, 1, num_thresholds=num_thresholds,
                            weights=weights)

    ours, theirs = log_both(tmp_path, log)
    table = tensor_values(ours.Tensors("pr")[0])
    expected_t = min(num_thresholds, 127)
    assert table.shape == (6, expected_t)
    np.testing.assert_allclose(table, tensor_values(theirs.Tensors("pr")[0]))
    tp, fp, tn, fn = table[:4, 0]
    total = weights.sum() if weighted else 200
    assert tp + fp + tn + fn == pytest.approx(total, rel=1e-5)  # threshold 0: all positive
    plugin = ours.SummaryMetadata("pr").plugin_data
    assert plugin.plugin_name == "pr_curves"
    assert PrCurvePluginData.FromString(plugin.content).num_thresholds == expected_t


def test_hparams_match_torch(tmp_path):
    hparams = {"lr": 0.01, "batch": 64, "optim": "sgd", "nesterov": True, "skip": None}
    metrics = {"hparam/accuracy": 0.75, "hparam/loss": 0.5}
    domain = {"optim": ["sgd", "adam"]}

    def log(writer):
        writer.add_hparams(hparams, metrics, hparam_domain_discrete=domain, run_name="trial")

    log_both(tmp_path, log)
    ours, theirs = load(tmp_path / "ember" / "trial"), load(tmp_path / "torch" / "trial")
    contents = {}
    for tag in ("_hparams_/experiment", "_hparams_/session_start_info",
                "_hparams_/session_end_info"):
        plugin = ours.SummaryMetadata(tag).plugin_data
        assert plugin.plugin_name == "hparams"
        contents[tag] = HParamsPluginData.FromString(plugin.content)
        assert contents[tag] == HParamsPluginData.FromString(
            theirs.SummaryMetadata(tag).plugin_data.content)
    start = contents["_hparams_/session_start_info"].session_start_info
    assert start.hparams["lr"].number_value == 0.01
    assert start.hparams["optim"].string_value == "sgd"
    assert start.hparams["nesterov"].number_value == 1.0  # as torch: a bool is an int
    assert "skip" not in start.hparams
    experiment = contents["_hparams_/experiment"].experiment
    assert [m.name.tag for m in experiment.metric_infos] == list(metrics)
    assert ours.Scalars("hparam/accuracy")[0].value == 0.75
    with pytest.raises(TypeError):
        SummaryWriter(str(tmp_path / "x")).add_hparams([("lr", 1)], {})


def summary_values(logdir) -> list:
    """(step, Summary.Value) of every summary in logdir's one event file, as written."""
    (name,) = [n for n in os.listdir(logdir) if n.startswith("events.out.tfevents.")]
    return [(event.step, value)
            for event in LegacyEventFileLoader(os.path.join(logdir, name)).Load()
            for value in event.summary.value]


RAW_CASES = {
    "histogram_raw": lambda w: w.add_histogram_raw(
        "h", min=-1.0, max=3.0, num=6, sum=4.5, sum_squares=11.25,
        bucket_limits=[0.0, 1.0, 3.0], bucket_counts=[1, 2, 3], global_step=2),
    "tensor_float32": lambda w: w.add_tensor("t", np.arange(6, dtype=np.float32).reshape(2, 3)),
    "tensor_float16": lambda w: w.add_tensor("t", np.array([0.5, -2.0], dtype=np.float16)),
    "tensor_int64": lambda w: w.add_tensor("t", np.array([[1, -2]], dtype=np.int64), 1),
    "tensor_uint8": lambda w: w.add_tensor("t", np.array([0, 255], dtype=np.uint8)),
    "tensor_bool": lambda w: w.add_tensor("t", np.array([True, False])),
    "tensor_complex64": lambda w: w.add_tensor("t", np.array([1 + 2j], dtype=np.complex64)),
    "audio": lambda w: w.add_audio("a", np.sin(np.linspace(0, 20, 800)), 3, sample_rate=8000),
    "custom_scalars": lambda w: w.add_custom_scalars(
        {"Loss": {"both": ["Multiline", ["loss/train", "loss/val"]],
                  "band": ["Margin", ["acc", "acc_lo", "acc_hi"]]}}),
    "multilinechart": lambda w: w.add_custom_scalars_multilinechart(["a", "b"], title="ab"),
    "marginchart": lambda w: w.add_custom_scalars_marginchart(["a", "b", "c"]),
    "pr_curve_raw": lambda w: w.add_pr_curve_raw(
        "pr", [4, 3, 1], [4, 2, 0], [0, 2, 4], [0, 1, 3], [0.5, 0.6, 1.0], [1.0, 0.75, 0.25],
        global_step=1, num_thresholds=3),
    "scalar_int_step_numpy": lambda w: w.add_scalar("s", np.float64(0.1), np.int64(9)),
}


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_summary_records_equal_torchs(tmp_path, case):
    """The same Summary.Value protobufs, field for field, as torch's writer writes."""
    def log(writer):
        if isinstance(writer, TorchWriter) and case.startswith("tensor_"):
            original = writer.add_tensor
            writer.add_tensor = lambda tag, t, *a: original(tag, torch.from_numpy(t), *a)
        RAW_CASES[case](writer)

    log_both(tmp_path, log)
    ours, theirs = summary_values(tmp_path / "ember"), summary_values(tmp_path / "torch")
    assert len(ours) == 1
    if case in ("tensor_float16", "tensor_uint8"):
        # torch writes float32 bit patterns in half_val and uint8 in uint32_val, which
        # TensorBoard cannot decode; ember writes what TensorFlow does (see summary.py).
        with pytest.raises((OverflowError, ValueError)):
            tensor_util.make_ndarray(theirs[0][1].tensor)
        decoded = tensor_util.make_ndarray(ours[0][1].tensor)
        assert decoded.dtype == (np.float16 if case == "tensor_float16" else np.uint8)
        np.testing.assert_array_equal(decoded, [0.5, -2.0] if decoded.dtype == np.float16
                                      else [0, 255])
        return
    assert ours == theirs


@pytest.mark.parametrize("array", [np.arange(6, dtype=np.float32).reshape(2, 3),
                                   np.array([[1, -2]], dtype=np.int64),
                                   np.array([0, 255], dtype=np.uint8),
                                   np.array([1 + 2j, -3j], dtype=np.complex128)])
def test_add_tensor_decodes_in_tensorboard(tmp_path, array):
    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_tensor("t", ember.tensor(array) if array.dtype.kind != "c" else array, 4)
    (event,) = load(tmp_path).Tensors("t")
    decoded = tensor_util.make_ndarray(event.tensor_proto)
    assert event.step == 4 and decoded.dtype == array.dtype
    np.testing.assert_array_equal(decoded, array)


# ---- embeddings ----------------------------------------------------------------------------------
def test_embedding_files_match_torch(tmp_path):
    rng = np.random.default_rng(3)
    mat = rng.random((6, 4)).astype(np.float32)
    images = rng.random((6, 3, 5, 5)).astype(np.float32)
    metadata = [[f"p{i}", i % 2] for i in range(6)]

    def log(writer):
        as_input = torch.tensor if isinstance(writer, TorchWriter) else ember.tensor
        writer.add_embedding(as_input(mat), metadata=[m[0] for m in metadata],
                             label_img=as_input(images), global_step=3, tag="feat/a")
        writer.add_embedding(as_input(mat[:, :2]), metadata=metadata,
                             metadata_header=["name", "parity"], tag="second")

    log_both(tmp_path, log)
    for relative in ("projector_config.pbtxt", "00003/feat%2fa/tensors.tsv",
                     "00003/feat%2fa/metadata.tsv", "00003/feat%2fa/sprite.png",
                     "00000/second/tensors.tsv", "00000/second/metadata.tsv"):
        ours = (tmp_path / "ember" / relative).read_bytes()
        assert ours == (tmp_path / "torch" / relative).read_bytes(), relative
    rows = (tmp_path / "ember" / "00003/feat%2fa/tensors.tsv").read_text().splitlines()
    np.testing.assert_array_equal(np.array([r.split("\t") for r in rows], dtype=np.float32), mat)
    with pytest.raises(AssertionError):
        SummaryWriter(str(tmp_path / "x")).add_embedding(ember.tensor(mat), metadata=["a"])


# ---- writing: flush, close, queue, background thread, purge ---------------------------------
def test_close_flushes_and_writer_reopens(tmp_path):
    writer = SummaryWriter(str(tmp_path), max_queue=1000, flush_secs=3600)
    for step in range(300):
        writer.add_scalar("s", step, step)
    writer.close()
    writer.close()  # a second close does nothing
    assert [e.value for e in load(tmp_path).Scalars("s")] == list(map(float, range(300)))
    writer.add_scalar("s", 300.0, 300)  # as torch: logging after close opens a new file
    writer.flush()
    assert len(os.listdir(tmp_path)) == 2
    assert load(tmp_path).Scalars("s")[-1].value == 300.0
    writer.close()


def test_flush_writes_queued_events(tmp_path):
    writer = SummaryWriter(str(tmp_path), max_queue=2, flush_secs=3600)
    for step in range(50):  # more than the queue holds: add_* waits for the writer thread
        writer.add_scalar("s", step, step)
    writer.flush()
    assert len(load(tmp_path).Scalars("s")) == 50
    writer.close()


def test_background_thread_flushes_every_flush_secs(tmp_path):
    writer = SummaryWriter(str(tmp_path), flush_secs=0.05)
    writer.add_scalar("s", 1.0, 0)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not load(tmp_path).Tags()["scalars"]:
        time.sleep(0.02)
    assert load(tmp_path).Scalars("s")[0].value == 1.0  # without flush() or close()
    writer.close()


def test_context_manager_closes(tmp_path):
    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_text("t", "x")
    assert writer.file_writer is None
    assert load(tmp_path).Tensors("t/text_summary")


def test_purge_step_hides_later_steps(tmp_path):
    with SummaryWriter(str(tmp_path)) as first:
        for step in range(10):
            first.add_scalar("s", step, step, walltime=100.0 + step)
    time.sleep(1.1)  # event files sort by their name's timestamp (whole seconds)
    with SummaryWriter(str(tmp_path), purge_step=5) as resumed:
        for step in range(5, 8):
            resumed.add_scalar("s", -step, step, walltime=200.0 + step)
    events = load(tmp_path).Scalars("s")
    assert [(e.step, e.value) for e in events] == \
        [(s, float(s)) for s in range(5)] + [(s, float(-s)) for s in range(5, 8)]


def test_data_written_at_exit_without_close(tmp_path):
    code = ("from ember.utils.tensorboard import SummaryWriter\n"
            f"w = SummaryWriter({str(tmp_path)!r}, flush_secs=3600)\n"
            "for i in range(20):\n    w.add_scalar('s', i, i)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert len(load(tmp_path).Scalars("s")) == 20
