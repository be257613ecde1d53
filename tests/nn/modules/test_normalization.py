"""The layers of ember/nn/modules/normalization.py (nn.LayerNorm, GroupNorm, RMSNorm,
LocalResponseNorm) against torch: outputs, gradients (input and affine), eval mode, reprs,
errors (checks in tests/nn/modules/_layers.py). The functional forms are tested in
tests/nn/test_functional.py."""

import pytest

from tests.differential import assert_same_error
from tests.nn.modules._layers import check_norm_error, check_norm_train

# (class name, constructor args, kwargs, input shape)
LAYERS = [
    ("LayerNorm", (6,), {}, (4, 6)),
    ("LayerNorm", ([3, 6],), {}, (2, 3, 6)),
    ("LayerNorm", (6,), {"elementwise_affine": False}, (2, 5, 6)),
    ("LayerNorm", (6,), {"bias": False, "eps": 1e-3}, (2, 6)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (1, 4), {"affine": False}, (3, 4, 2, 2)),
    ("GroupNorm", (4, 4), {"eps": 1e-3}, (2, 4, 3, 3)),
    ("RMSNorm", (6,), {}, (3, 6)),
    ("RMSNorm", ([2, 6],), {"eps": 1e-4}, (3, 2, 6)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 3, 3)),
    ("LocalResponseNorm", (2,), {"alpha": 0.1, "k": 2.0}, (2, 4, 6)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_train_mode_matches_torch(name, args, kwargs, shape):
    check_norm_train(name, args, kwargs, shape)


@pytest.mark.parametrize("build,shape,error", [
    (lambda nn: nn.LayerNorm(4), (2, 5), RuntimeError),
    (lambda nn: nn.GroupNorm(3, 6), (2, 4, 5), RuntimeError),
])
def test_errors_match_torch(build, shape, error):
    check_norm_error(build, shape, error)


def test_group_norm_divisibility_error():
    assert_same_error(lambda lib: lib.nn.GroupNorm(3, 4), same_message=True, exact_type=True)
