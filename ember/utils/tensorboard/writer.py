"""SummaryWriter: log scalars, images, histograms, text, graphs, ... for TensorBoard.

Matches `torch.utils.tensorboard.writer`: a SummaryWriter owns one FileWriter per directory
(its log_dir, plus one per `add_scalars` series), each appending Events to its own event file.
"""

import os
import socket
import time
from datetime import datetime

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog, TaggedRunMetadata

from ember.utils.tensorboard import _embedding
from ember.utils.tensorboard import summary as _summary
from ember.utils.tensorboard._convert import figure_to_image, make_np
from ember.utils.tensorboard._event_file import EventFileWriter
from ember.utils.tensorboard._graph import graph


class FileWriter:
    """Writes Events and Summaries to one event file in `log_dir` (matches torch's FileWriter)."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = ""):
        self._log_dir = str(log_dir)
        self._options = (max_queue, flush_secs, filename_suffix)
        self.event_writer = EventFileWriter(self._log_dir, *self._options)

    def get_logdir(self) -> str:
        """The directory of the event file."""
        return self._log_dir

    def add_event(self, event, step=None, walltime=None) -> None:
        """Stamp an Event with the wall time (now by default) and step, and queue it."""
        event.wall_time = time.time() if walltime is None else float(walltime)
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None) -> None:
        """Wrap a Summary in an Event and queue it."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime=None) -> None:
        """Queue a (GraphDef, RunMetadata) pair as torch's FileWriter does: a graph Event (what
        TensorBoard's Graphs tab reads), then the run metadata tagged 'step1'."""
        graph_def, step_stats = graph_profile
        self.add_event(Event(graph_def=graph_def.SerializeToString()), None, walltime)
        tagged = TaggedRunMetadata(tag="step1", run_metadata=step_stats.SerializeToString())
        self.add_event(Event(tagged_run_metadata=tagged), None, walltime)

    def flush(self) -> None:
        """Write everything queued to disk."""
        self.event_writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.event_writer.close()

    def reopen(self) -> None:
        """Start a new event file in the same directory after close()."""
        self.event_writer.close()
        self.event_writer = EventFileWriter(self._log_dir, *self._options)


class SummaryWriter:
    """Writes TensorBoard event files in log_dir (matches `torch.utils.tensorboard.SummaryWriter`).

    The default log_dir is `runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname><comment>`.
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: float = 120, filename_suffix: str = ""):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = None
        self.all_writers = None
        self.default_bins = _summary.default_bins()
        self._projector_config = None
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        """The FileWriter for log_dir, opened again if the writer was closed."""
        if self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.log_dir: self.file_writer}
            if self.purge_step is not None:
                # NOTE [purge_step]
                # A SessionLog START at step T makes TensorBoard drop the events of earlier
                # files with step >= T: the steps a crashed run logged after its checkpoint.
                step = int(self.purge_step)
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(
                    Event(step=step, session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The directory event files are written to (matches torch)."""
        return self.log_dir

    # ---- scalars ------------------------------------------------------------------------------
    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """Log one number under `tag` (matches `SummaryWriter.add_scalar`)."""
        summary = _summary.scalar(tag, scalar_value, new_style=new_style,
                                  double_precision=double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Log several numbers on one chart: one run `<log_dir>/<main_tag>_<tag>` per series."""
        walltime = time.time() if walltime is None else walltime
        log_dir = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            series_dir = log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(series_dir)
            if writer is None:
                writer = FileWriter(series_dir, self.max_queue, self.flush_secs,
                                    self.filename_suffix)
                self.all_writers[series_dir] = writer
            writer.add_summary(_summary.scalar(main_tag, value), global_step, walltime)

    # ---- distributions, images, text ----------------------------------------------------------
    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins=None) -> None:
        """Log a histogram of `values`; bins as np.histogram, or TensorFlow's default buckets."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        summary = _summary.histogram(tag, values, bins, max_bins=max_bins)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_histogram_raw(self, tag: str, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step=None, walltime=None) -> None:
        """Log a histogram from its statistics and bucket right edges and counts."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        summary = _summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits,
                                         bucket_counts)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_tensor(self, tag: str, tensor, global_step=None, walltime=None) -> None:
        """Log a whole tensor (values and shape) for the tensor plugin."""
        self._get_file_writer().add_summary(_summary.tensor_proto(tag, tensor), global_step,
                                            walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None,
                  dataformats: str = "CHW") -> None:
        """Log one image (float in [0, 1] or uint8); dataformats CHW, HWC, HW, ..."""
        summary = _summary.image(tag, img_tensor, dataformats=dataformats)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None,
                   dataformats: str = "NCHW") -> None:
        """Log a batch of images as one grid, 8 per row (matches `SummaryWriter.add_images`)."""
        summary = _summary.image(tag, img_tensor, dataformats=dataformats)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True,
                   walltime=None) -> None:
        """Render a matplotlib figure (or a list of them) and log it as an image."""
        if isinstance(figure, list):
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime,
                           dataformats="NCHW")
        else:
            self.add_image(tag, figure_to_image(figure, close), global_step, walltime,
                           dataformats="CHW")

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Log a (markdown) string for the Text tab."""
        summary = _summary.text(tag, text_string)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_audio(self, tag: str, snd_tensor, global_step=None, sample_rate: int = 44100,
                  walltime=None) -> None:
        """Log a mono clip of samples in [-1, 1] as 16-bit WAV."""
        summary = _summary.audio(tag, snd_tensor, sample_rate=sample_rate)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_custom_scalars(self, layout: dict) -> None:
        """Lay out charts of existing scalar tags in the Custom Scalars tab."""
        self._get_file_writer().add_summary(_summary.custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags, category: str = "default",
                                          title: str = "untitled") -> None:
        """One chart with a line per tag in the Custom Scalars tab."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category: str = "default",
                                       title: str = "untitled") -> None:
        """One chart of a value with its lower and upper bound (three tags)."""
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_pr_curve(self, tag: str, labels, predictions, global_step=None,
                     num_thresholds: int = 127, weights=None, walltime=None) -> None:
        """Log a precision-recall curve of binary `labels` against `predictions` in [0, 1]."""
        summary = _summary.pr_curve(tag, make_np(labels), make_np(predictions),
                                    num_thresholds, weights)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step=None, num_thresholds: int = 127, weights=None,
                         walltime=None) -> None:
        """Log a precision-recall curve from precomputed counts, one entry per threshold."""
        data = np.stack([make_np(x).astype(np.float64) for x in (
            true_positive_counts, false_positive_counts, true_negative_counts,
            false_negative_counts, precision, recall)])
        summary = _summary.pr_curve_raw(tag, data, min(num_thresholds, 127))
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None) -> None:
        """Log hyperparameters and their metrics to a sub-run for the HParams tab."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        summaries = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run_dir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run_dir) as run_writer:
            for hparams_summary in summaries:
                run_writer.file_writer.add_summary(hparams_summary, global_step)
            for key, value in metric_dict.items():
                run_writer.add_scalar(key, value, global_step)

    # ---- graph and embeddings -----------------------------------------------------------------
    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Trace model(input_to_model) and log its graph for the Graphs tab."""
        self._get_file_writer().add_graph(graph(model, input_to_model, verbose=verbose))

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None,
                      tag: str = "default", metadata_header=None) -> None:
        """Save an embedding matrix for the Projector tab (tensors.tsv, metadata.tsv, ...)."""
        self._projector_config = _embedding.add_embedding(
            self._get_file_writer().get_logdir(), self._projector_config, make_np(mat),
            metadata, None if label_img is None else make_np(label_img),
            0 if global_step is None else global_step, tag, metadata_header)

    # ---- lifetime -----------------------------------------------------------------------------
    def flush(self) -> None:
        """Write everything pending to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file; a later add_* call opens a new one."""
        for writer in (self.all_writers or {}).values():
            writer.close()
        self.file_writer = None
        self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.close()
