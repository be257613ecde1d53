"""Bad calls of the normalisation, pooling, padding, resampling, dropout and unfold functions
(issue #19's whole-op_db fuzz), each made in ember and in torch: either both return (the same
dtypes, shapes and values) or both raise, ember with (a subclass of) torch's exception class."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import both_returned


def _f(lib):
    return lib.nn.functional


def _bn(lib, x, weight=None, bias=None, mean=1, var=1, training=True):
    """native_batch_norm of x with (by default) float32 running statistics of size 1."""
    mean = lib.zeros(mean) if isinstance(mean, int) else mean
    var = lib.ones(var) if isinstance(var, int) else var
    return lib.native_batch_norm(x, weight, bias, mean, var, training, 0.1, 1e-5)


def _fmp(lib, x, kernel, **kwargs):
    """fractional_max_pool2d of x with fixed samples, so torch and ember draw nothing."""
    samples = lib.tensor([[[0.25, 0.75]] * x.shape[-3]] * (x.shape[0] if x.dim() == 4 else 1))
    return _f(lib).fractional_max_pool2d(x, kernel, return_indices=True,
                                         _random_samples=samples, **kwargs)


CALLS = {
    # native_batch_norm and its aten relatives (NOTE [batch_norm checks])
    "native_batch_norm 0-d input": lambda lib: _bn(lib, lib.ones(())),
    "native_batch_norm 1-d input training": lambda lib: _bn(lib, lib.ones(3, dtype=lib.int64)),
    "native_batch_norm int64 1-d eval": lambda lib: _bn(lib, lib.ones(3, dtype=lib.int64),
                                                        training=False),
    "native_batch_norm float64 weight": lambda lib: _bn(lib, lib.ones(3, 1),
                                                        lib.ones(1, dtype=lib.float64)),
    "native_batch_norm int64 bias": lambda lib: _bn(lib, lib.ones(3, 1), lib.ones(1),
                                                    lib.ones(1, dtype=lib.int64)),
    "native_batch_norm float64 input": lambda lib: _bn(lib, lib.ones(3, 1, dtype=lib.float64)),
    "native_batch_norm empty input training": lambda lib: _bn(lib, lib.ones(2, 0, 3)),
    "native_batch_norm 2-d running_mean": lambda lib: _bn(lib, lib.ones(3, 1),
                                                          mean=lib.zeros(1, 1)),
    "native_batch_norm running_var only": lambda lib: _bn(lib, lib.ones(3, 1), mean=None),
    "native_batch_norm longer weight": lambda lib: _bn(
        lib, lib.arange(6.0).reshape(3, 2), lib.arange(1.0, 7.0).reshape(2, 3), mean=3, var=4),
    "_native_batch_norm_legit None statistics": lambda lib: lib._native_batch_norm_legit(
        lib.ones(3, 2), None, None, None, lib.ones(2), True, 0.1, 1e-5),
    "_batch_norm_with_update 0-d input": lambda lib: lib.ops.aten._batch_norm_with_update(
        lib.ones(()), None, None, lib.zeros(1), lib.ones(1), 0.1, 1e-5),
    "_batch_norm_with_update None statistics": lambda lib: lib.ops.aten._batch_norm_with_update(
        lib.ones(3, 2), None, None, None, lib.ones(2), 0.1, 1e-5),
    # F.batch_norm and F.instance_norm
    "batch_norm 0-d training": lambda lib: _f(lib).batch_norm(
        lib.ones(()), lib.zeros(1), lib.ones(1), training=True),
    "batch_norm 1-d eval": lambda lib: _f(lib).batch_norm(lib.ones(3), lib.zeros(5),
                                                          lib.ones(5)),
    "batch_norm empty bool input": lambda lib: _f(lib).batch_norm(
        lib.ones(2, 0, 3, dtype=lib.bool), lib.zeros(5), lib.ones(5), training=True),
    "batch_norm running_var only, training": lambda lib: _f(lib).batch_norm(
        lib.ones(3, 2), None, lib.ones(2), training=True),
    "batch_norm 0-d bool running_var": lambda lib: _f(lib).batch_norm(
        lib.ones(2, 1, 3), lib.zeros(1), lib.ones((), dtype=lib.bool)),
    "batch_norm float64 bias": lambda lib: _f(lib).batch_norm(
        lib.ones(2, 1, 3), lib.zeros(1), lib.ones(1), bias=lib.ones(1, dtype=lib.float64)),
    "instance_norm 0-d": lambda lib: _f(lib).instance_norm(lib.ones(())),
    "instance_norm 1-d eval": lambda lib: _f(lib).instance_norm(
        lib.ones(3), lib.zeros(3), lib.ones(3), use_input_stats=False),
    "instance_norm 2-d weight": lambda lib: _f(lib).instance_norm(lib.ones(2, 3, 4),
                                                                  weight=lib.ones(1, 3)),
    "instance_norm 0-d weight": lambda lib: _f(lib).instance_norm(lib.ones(2, 3, 4),
                                                                  weight=lib.ones(())),
    "instance_norm wrong-size running_mean": lambda lib: _f(lib).instance_norm(
        lib.ones(4, 1, 3), lib.zeros(5), lib.ones(5)),
    "instance_norm empty, wrong-size running_mean": lambda lib: _f(lib).instance_norm(
        lib.ones(2, 0, 3, dtype=lib.int64), lib.zeros(5), lib.ones(5)),
    "instance_norm bool input": lambda lib: _f(lib).instance_norm(
        lib.ones(4, 1, 3, dtype=lib.bool)),
    "instance_norm running_mean only": lambda lib: _f(lib).instance_norm(
        lib.ones(2, 3, 4), lib.zeros(3)),
    # group_norm: torch.nn.functional's Python checks, then torch.group_norm's
    "group_norm bool": lambda lib: _f(lib).group_norm(lib.ones(2, 4, 3, dtype=lib.bool), 2),
    "group_norm wrong-size weight": lambda lib: _f(lib).group_norm(lib.ones(2, 4, 3), 2,
                                                                   lib.ones(3)),
    "group_norm empty channels, weight": lambda lib: _f(lib).group_norm(lib.ones(2, 0, 3), 2,
                                                                        lib.ones(6)),
    "group_norm 0-d tensor 0 groups": lambda lib: _f(lib).group_norm(lib.ones(2, 4, 3),
                                                                     lib.tensor(0)),
    "group_norm float64 weight": lambda lib: _f(lib).group_norm(
        lib.ones(2, 4, 3), 2, lib.ones(4, dtype=lib.float64)),
    "group_norm tensor groups": lambda lib: _f(lib).group_norm(lib.ones(2, 4, 3),
                                                               lib.tensor([2, 2])),
    "group_norm one value per channel": lambda lib: _f(lib).group_norm(lib.ones(1, 2), 2),
    "torch.group_norm one value per channel": lambda lib: lib.group_norm(lib.ones(1, 2), 2),
    "native_group_norm 2-d weight": lambda lib: lib.native_group_norm(
        lib.ones(1, 6, 3), lib.ones(2, 3), None, 1, 6, 3, 2, 1e-5),
    # layer_norm, rms_norm, local_response_norm
    "layer_norm bool weight": lambda lib: _f(lib).layer_norm(
        lib.ones(2, 3), (3,), lib.ones(3, dtype=lib.bool)),
    "layer_norm int64 input": lambda lib: _f(lib).layer_norm(lib.ones(2, 3, dtype=lib.int64),
                                                             (3,)),
    "rms_norm 0-d input": lambda lib: _f(lib).rms_norm(lib.ones(()), (2, 3)),
    "rms_norm bool input": lambda lib: _f(lib).rms_norm(lib.ones(2, 3, dtype=lib.bool), (3,)),
    "rms_norm float64 weight": lambda lib: _f(lib).rms_norm(
        lib.arange(6.0).reshape(2, 3), (3,), lib.arange(3, dtype=lib.float64)),
    "local_response_norm 2-d": lambda lib: _f(lib).local_response_norm(lib.ones(2, 3), 2),
    "local_response_norm bool": lambda lib: _f(lib).local_response_norm(
        lib.ones(4, 1, 3, dtype=lib.bool), 2),
    "local_response_norm size 0": lambda lib: _f(lib).local_response_norm(lib.ones(4, 1, 3), 0),
    "local_response_norm 4-d": lambda lib: _f(lib).local_response_norm(
        lib.arange(24.0).reshape(1, 4, 2, 3), 3),
    # dropout
    "dropout int64 training": lambda lib: _f(lib).dropout(lib.ones(2, 3, dtype=lib.int64)),
    "dropout bool p=1": lambda lib: _f(lib).dropout(lib.ones(2, 3, dtype=lib.bool), 1.0),
    "dropout of a float": lambda lib: _f(lib).dropout(1.5, 0.5, False),
    "dropout2d 1-d eval": lambda lib: _f(lib).dropout2d(lib.ones(3), 0.5, False),
    "dropout2d 1-d training": lambda lib: _f(lib).dropout2d(lib.ones(3)),
    "dropout2d empty 1-d training": lambda lib: _f(lib).dropout2d(lib.ones(0)),
    "alpha_dropout bool": lambda lib: _f(lib).alpha_dropout(lib.ones(2, 3, dtype=lib.bool), 0.5,
                                                            True),
    "alpha_dropout int64 p=1": lambda lib: _f(lib).alpha_dropout(
        lib.ones(2, 3, dtype=lib.int64), 1.0, True),
    "feature_alpha_dropout of a float": lambda lib: _f(lib).feature_alpha_dropout(1.5, 0.5),
    "feature_alpha_dropout 1-d": lambda lib: _f(lib).feature_alpha_dropout(lib.ones(3), 0.5,
                                                                           True),
    "native_dropout_backward shapes": lambda lib: lib.ops.aten.native_dropout_backward(
        lib.ones(2, 3), lib.ones(4, dtype=lib.bool), 2.0),
    "native_dropout_backward float64 mask": lambda lib: lib.ops.aten.native_dropout_backward(
        lib.ones(2, 3), lib.ones(2, 3, dtype=lib.float64), 2.0),
    # adaptive pooling
    "adaptive_max_pool2d int64": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.ones(1, 2, 2, dtype=lib.int64), 1),
    "adaptive_max_pool3d bool": lambda lib: _f(lib).adaptive_max_pool3d(
        lib.ones(1, 2, 2, 2, dtype=lib.bool), 1),
    "adaptive_max_pool2d empty channels": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.ones(2, 0, 3), 1),
    "adaptive_max_pool2d empty batch": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.ones(0, 2, 3, 3), 1, True),
    "adaptive_max_pool2d 0-d tensor size": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.ones(2, 3, 3), lib.tensor(1)),
    "adaptive_max_pool2d float size": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.ones(2, 3, 3), 1.5),
    "adaptive_max_pool2d tensor size": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.arange(18.0).reshape(2, 3, 3), lib.tensor([2, 2])),
    "adaptive_max_pool2d float element": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.ones(2, 3, 3), [2, 2.0]),
    "adaptive_max_pool2d bool size": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.ones(2, 3, 3), True),
    "adaptive_max_pool2d empty tensor size": lambda lib: _f(lib).adaptive_max_pool2d(
        lib.ones(2, 3, 3), lib.tensor([], dtype=lib.int64)),
    "adaptive_avg_pool3d bool tensor size": lambda lib: _f(lib).adaptive_avg_pool3d(
        lib.ones(1, 2, 3, 3), lib.tensor([True, False, True])),
    "adaptive_max_pool3d bool tensor size": lambda lib: _f(lib).adaptive_max_pool3d(
        lib.arange(18.0).reshape(1, 2, 3, 3), lib.tensor([True, False, True])),
    "adaptive_max_pool1d return_indices": lambda lib: _f(lib).adaptive_max_pool1d(
        lib.arange(6.0).reshape(1, 2, 3), 2, True),
    "torch.adaptive_max_pool1d": lambda lib: lib.adaptive_max_pool1d(
        lib.arange(6.0).reshape(1, 2, 3), 2),
    "adaptive_avg_pool1d empty int64": lambda lib: _f(lib).adaptive_avg_pool1d(
        lib.ones(2, 0, 3, dtype=lib.int64), 2),
    "adaptive_avg_pool1d int64": lambda lib: _f(lib).adaptive_avg_pool1d(
        lib.ones(2, 2, 3, dtype=lib.int64), 2),
    "adaptive_avg_pool1d inf": lambda lib: _f(lib).adaptive_avg_pool1d(
        lib.tensor([[[float("inf"), 1.0, 2.0, 3.0]]]), 3),
    "adaptive_avg_pool3d None size": lambda lib: _f(lib).adaptive_avg_pool3d(
        lib.arange(54.0).reshape(2, 3, 3, 3), (None, 2, 1)),
    # avg / max pooling
    "avg_pool2d bool": lambda lib: _f(lib).avg_pool2d(lib.ones(1, 1, 3, 3, dtype=lib.bool), 2),
    "avg_pool3d bool": lambda lib: _f(lib).avg_pool3d(lib.ones(1, 1, 3, 3, 3, dtype=lib.bool),
                                                      2),
    "avg_pool2d kernel 0": lambda lib: _f(lib).avg_pool2d(lib.ones(1, 1, 3, 3), (0, 1), 1),
    "avg_pool1d stride 0 on empty": lambda lib: _f(lib).avg_pool1d(lib.ones(1, 0, 3), 0),
    "avg_pool2d bool kernel": lambda lib: _f(lib).avg_pool2d(lib.ones(1, 1, 3, 3), True),
    "local_response_norm size True": lambda lib: _f(lib).local_response_norm(lib.ones(4, 1, 3),
                                                                             True),
    "avg_pool1d negative stride": lambda lib: _f(lib).avg_pool1d(lib.ones(1, 1, 3), 2, -1),
    "avg_pool3d negative stride": lambda lib: _f(lib).avg_pool3d(lib.ones(1, 1, 3, 3, 3), 2, -1),
    "max_pool1d int64": lambda lib: _f(lib).max_pool1d(lib.ones(1, 3, dtype=lib.int64), 2),
    "max_pool1d int64 with indices": lambda lib: _f(lib).max_pool1d(
        lib.arange(6).reshape(2, 3), 2, return_indices=True),
    "max_pool1d bool with indices": lambda lib: _f(lib).max_pool1d(
        lib.ones(1, 3, dtype=lib.bool), 2, return_indices=True),
    "max_pool3d bool": lambda lib: _f(lib).max_pool3d(lib.ones(1, 3, 3, 3, dtype=lib.bool), 2),
    "torch.max_pool2d return_indices": lambda lib: lib.max_pool2d(lib.ones(1, 1, 4, 4), 2,
                                                                  return_indices=True),
    "F.max_pool2d return_indices": lambda lib: _f(lib).max_pool2d(
        lib.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True),
    # max unpooling
    "max_unpool1d 0-d input": lambda lib: _f(lib).max_unpool1d(
        lib.ones(()), lib.zeros((), dtype=lib.int64), 2),
    "max_unpool1d bad output_size": lambda lib: _f(lib).max_unpool1d(
        lib.ones(1, 3, 1), lib.zeros(1, 3, 1, dtype=lib.int64), 2, output_size=[9]),
    "max_unpool2d 1-d input": lambda lib: _f(lib).max_unpool2d(
        lib.ones(1), lib.zeros(1, dtype=lib.int64), 2),
    "max_unpool3d output_size with N, C": lambda lib: _f(lib).max_unpool3d(
        lib.ones(1, 1, 1, 1, 1), lib.zeros(1, 1, 1, 1, 1, dtype=lib.int64), 2,
        output_size=[1, 1, 3, 2, 2]),
    # fractional max pooling
    "fractional_max_pool2d int64 5-d": lambda lib: _f(lib).fractional_max_pool2d(
        lib.ones(1, 2, 5, 5, 5, dtype=lib.int64), 2, output_size=2),
    "fractional_max_pool2d float ratio": lambda lib: _f(lib).fractional_max_pool2d(
        lib.ones(5), 2, output_ratio=0.5),
    "fractional_max_pool2d kernel 0": lambda lib: _fmp(
        lib, lib.arange(81.0).reshape(1, 1, 9, 9), 0, output_size=(2, 3)),
    "fractional_max_pool2d output 0": lambda lib: _fmp(
        lib, lib.arange(81.0).reshape(1, 1, 9, 9), 2, output_size=(0, 3)),
    "fractional_max_pool2d negative output": lambda lib: _fmp(
        lib, lib.ones(1, 1, 9, 9), 2, output_size=(-1, 3)),
    "fractional_max_pool2d tensor kernel": lambda lib: _fmp(
        lib, lib.ones(1, 1, 9, 9), lib.tensor([1, 2, 3]), output_size=(2, 3)),
    "fractional_max_pool2d bool tensor kernel": lambda lib: _fmp(
        lib, lib.arange(81.0).reshape(1, 1, 9, 9), lib.tensor([True]), output_size=(2, 3)),
    "fractional_max_pool3d float kernel": lambda lib: _f(lib).fractional_max_pool3d(
        lib.ones(1, 1, 5, 5, 5), [1.0, 2.0], output_size=2),
    # interpolate
    "interpolate nearest bool 1-d": lambda lib: _f(lib).interpolate(
        lib.ones(1, 1, 3, dtype=lib.bool), size=5),
    "interpolate nearest int64 2-d": lambda lib: _f(lib).interpolate(
        lib.ones(1, 1, 3, 3, dtype=lib.int64), size=5),
    "interpolate float tensor size": lambda lib: _f(lib).interpolate(
        lib.ones(1, 1, 3), size=lib.tensor([5.0])),
    "interpolate tensor scale_factor": lambda lib: _f(lib).interpolate(
        lib.ones(1, 1, 3), scale_factor=lib.tensor(2.0)),
    "interpolate past the memory": lambda lib: _f(lib).interpolate(lib.ones(1, 1, 3),
                                                                   scale_factor=1e15),
    "interpolate area bool tensor size": lambda lib: _f(lib).interpolate(
        lib.ones(1, 1, 3), size=lib.tensor([True]), mode="area"),
    "interpolate bool tensor size": lambda lib: _f(lib).interpolate(
        lib.ones(1, 1, 3), size=lib.tensor([True])),
    # pad
    "pad with a tensor": lambda lib: _f(lib).pad(lib.ones(2, 3), lib.tensor([1, 1])),
    "pad with floats": lambda lib: _f(lib).pad(lib.ones(2, 3), [1.0, 2.0]),
    "pad with a float second": lambda lib: _f(lib).pad(lib.ones(2, 3), [1, 2.0]),
    "pad with a 0-d int tensor": lambda lib: _f(lib).pad(lib.ones(2, 3), [lib.tensor(1), 2]),
    "pad value a tensor": lambda lib: _f(lib).pad(lib.ones(2, 3), [1, 1], value=lib.ones(3)),
    "pad reflect bool": lambda lib: _f(lib).pad(lib.ones(1, 3, dtype=lib.bool), (1, 1),
                                                mode="reflect"),
    "pad replicate empty channels": lambda lib: _f(lib).pad(lib.ones(2, 0, 3), (1, 1),
                                                            mode="replicate"),
    "pad reflect empty batch": lambda lib: _f(lib).pad(lib.ones(0, 1, 3), (1, 1), mode="reflect"),
    "pad replicate negative past nothing": lambda lib: _f(lib).pad(
        lib.ones(4, 1, 3), (0, 0, -1, -1), mode="replicate"),
    "pixel_unshuffle empty": lambda lib: _f(lib).pixel_unshuffle(lib.ones(2, 0, 3), 3),
    # unfold
    "unfold 0-d": lambda lib: _f(lib).unfold(lib.ones(()), 2),
    "unfold 1-d": lambda lib: _f(lib).unfold(lib.ones(3), 2),
    "unfold 2-d": lambda lib: _f(lib).unfold(lib.ones(3, 3), 2),
    "unfold empty channels": lambda lib: _f(lib).unfold(lib.ones(1, 0, 3, 3), 2),
    "unfold kernel 0": lambda lib: _f(lib).unfold(lib.ones(1, 1, 3, 3), 0),
    "unfold dilation 0": lambda lib: _f(lib).unfold(lib.ones(1, 1, 3, 3), 2, 0),
    "unfold padding -1": lambda lib: _f(lib).unfold(lib.ones(1, 1, 3, 3), 2, 1, -1),
    "unfold stride 0": lambda lib: _f(lib).unfold(lib.ones(1, 1, 3, 3), 2, 1, 0, 0),
    "unfold three kernel sizes": lambda lib: _f(lib).unfold(lib.ones(1, 1, 3, 3), (2, 2, 2)),
    "unfold 0-d tensor kernel": lambda lib: _f(lib).unfold(lib.ones(1, 1, 3, 3), lib.tensor(2)),
    "unfold tensor kernel": lambda lib: _f(lib).unfold(lib.arange(9.0).reshape(1, 1, 3, 3),
                                                       lib.tensor([2, 2])),
    "unfold float kernel": lambda lib: _f(lib).unfold(lib.ones(1, 1, 3, 3), 1.5),
    "unfold int64": lambda lib: _f(lib).unfold(lib.ones(1, 1, 3, 3, dtype=lib.int64), 2),
}


def _outcome(lib, name):
    try:
        return CALLS[name](lib), None
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return None, error


def _same(result, expected):
    if isinstance(expected, (tuple, list)):
        assert len(result) == len(expected)
        for r, e in zip(result, expected):
            _same(r, e)
        return
    assert tuple(result.shape) == tuple(expected.shape)
    assert str(result.dtype) == str(expected.dtype)
    np.testing.assert_allclose(np.asarray(result.detach().numpy(), dtype=float),
                               expected.detach().double().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.filterwarnings("ignore:dropout2d")
@pytest.mark.parametrize("name", list(CALLS))
def test_bad_call_behaves_as_in_torch(name):
    expected, torch_error = _outcome(torch, name)
    result, ember_error = _outcome(ember, name)
    if both_returned(torch_error, ember_error, result):
        _same(result, expected)


@pytest.mark.parametrize("name, call", [
    ("weight", lambda: _bn(ember, ember.ones(3, 4), ember.ones(3))),
    ("running_mean", lambda: _bn(ember, ember.ones(3, 4), mean=2, var=4)),
])
def test_batch_norm_refuses_short_per_channel_tensors(name, call):
    """PyTorch's kernel reads past the end of a per-channel tensor shorter than the channels
    (undefined values); ember refuses it instead."""
    with pytest.raises(RuntimeError, match=f"{name} should contain 4 elements"):
        call()


def test_instance_norm_of_no_samples_sets_nan_statistics():
    """PyTorch copies the mean over N of the (N, C) running statistics back: NaN for N = 0."""
    for lib in (torch, ember):
        mean, var = lib.zeros(3), lib.ones(3)
        lib.nn.functional.instance_norm(lib.ones(0, 3, 4), mean, var)
        assert np.isnan(mean.numpy()).all() and np.isnan(var.numpy()).all(), lib.__name__


def test_batch_norm_updates_first_channels_of_longer_statistics():
    """Running statistics longer than the channels: PyTorch updates their first C entries."""
    results = []
    for lib in (torch, ember):
        mean, var = lib.zeros(4), lib.ones(4)
        lib.native_batch_norm(lib.arange(6.0).reshape(3, 2), None, None, mean, var, True, 0.5,
                              1e-5)
        results.append((mean.numpy(), var.numpy()))
    for e, t in zip(results[1], results[0]):
        np.testing.assert_allclose(e, t, rtol=1e-6)
