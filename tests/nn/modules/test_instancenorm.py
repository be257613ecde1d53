"""The instance-norm layers, ember/nn/modules/instancenorm.py (nn.InstanceNorm1d/2d/3d), against
torch: outputs, gradients, running statistics, eval mode, reprs, errors (checks in
tests/nn/modules/_layers.py). F.instance_norm is tested in tests/nn/test_functional.py."""

import pytest

from tests.nn.modules._layers import check_norm_error, check_norm_eval_grads, check_norm_train

# (class name, constructor args, kwargs, input shape)
LAYERS = [
    ("InstanceNorm1d", (3,), {}, (2, 3, 7)),
    ("InstanceNorm1d", (3,), {}, (3, 7)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 7)),
    ("InstanceNorm2d", (3,), {"affine": True}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True}, (2, 3, 4, 5)),
    ("InstanceNorm3d", (2,), {}, (2, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_train_mode_matches_torch(name, args, kwargs, shape):
    check_norm_train(name, args, kwargs, shape)


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "affine": True}, (2, 3, 3, 3)),
])
def test_eval_mode_gradients_match_torch(name, args, kwargs, shape):
    check_norm_eval_grads(name, args, kwargs, shape)


@pytest.mark.parametrize("build,shape,error", [
    (lambda nn: nn.InstanceNorm1d(3), (2, 3, 4, 5), ValueError),
    (lambda nn: nn.InstanceNorm1d(3, affine=True), (2, 4, 5), ValueError),
])
def test_errors_match_torch(build, shape, error):
    check_norm_error(build, shape, error)
