"""DistributedDataParallel on 2 real ranks equals one process on the whole batch.

tests/distributed/scripts/ddp_train.py trains with DDP (per-rank batch B, rank-specific initial
seeds, the last step accumulating under no_sync); the same training on one process with batch
2B, from rank 0's initial weights, must give the same losses and final weights to 1e-9 in
float64, and both ranks must end with identical parameters. The same script under real torchrun
(torch's DDP over gloo) must give the same losses and weights, and the same buckets.
"""

import pytest
import torch

import ember
from ember import nn
from tests.distributed.launch import launch_under_torch_and_ember


STEPS, GLOBAL_BATCH = 5, 8


def single_process_run():
    """The reference: ddp_train.py's training on one process, on the whole batch."""
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)).double()
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ember.manual_seed(1234)
    x = ember.randn(STEPS + 1, GLOBAL_BATCH, 4, dtype=ember.float64)
    y = ember.randn(STEPS + 1, GLOBAL_BATCH, 3, dtype=ember.float64)
    losses = []
    for step in range(STEPS):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x[step]), y[step])
        if step == STEPS - 1:
            loss = loss / 2 + nn.functional.mse_loss(model(x[step + 1]), y[step + 1]) / 2
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model.state_dict(), losses


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """ddp_train.py's results under torchrun (torch's DDP) and under `ember run`."""
    outs = [tmp_path_factory.mktemp(name) for name in ("torch_ddp", "ddp")]
    results = launch_under_torch_and_ember("ddp_train.py", [outs[0]], [outs[1]])
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
    return ([torch.load(outs[0] / f"rank{r}.pt", weights_only=True) for r in range(2)],
            [ember.load(outs[1] / f"rank{r}.pt") for r in range(2)])


@pytest.fixture(scope="module")
def torch_ranks(both):
    return both[0]


@pytest.fixture(scope="module")
def ranks(both):
    return both[1]


def test_ranks_end_with_identical_parameters(ranks):
    first, second = ranks[0]["state"], ranks[1]["state"]
    assert list(first) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    for name in first:
        assert ember.equal(first[name], second[name]), name


def test_losses_equal_the_single_process_run(ranks):
    _, losses = single_process_run()
    assert len(ranks[0]["losses"]) == STEPS
    for got, expected in zip(ranks[0]["losses"], losses):
        assert abs(got - expected) < 1e-9, (ranks[0]["losses"], losses)


def test_weights_equal_the_single_process_run(ranks):
    state, _ = single_process_run()
    for name, value in state.items():
        got = ranks[0]["state"][name]
        assert got.dtype == ember.float64
        assert ember.allclose(got, value, rtol=0, atol=1e-9), name


def test_logging_data_shows_the_all_reduce_overlapping_backward(ranks):
    """With two buckets, the first all-reduce starts while backward still computes the earlier
    layer's gradients: the timeline (torch's DDP logging keys, ns) orders it so."""
    for rank, result in enumerate(ranks):
        data = result["logging"]
        assert (data["rank"], data["world_size"], data["module_name"]) == (rank, 2, "Sequential")
        assert data["num_parameter_tensors"] == 4 and len(data["bucket_sizes"].split(", ")) == 2
        assert data["iteration"] == STEPS - 1  # the no_sync() forward does not count
        order = [data[key] for key in ("forward_compute_time_start", "backward_compute_time_start",
                                       "backward_comm_time_start", "backward_compute_time_end",
                                       "backward_comm_time_end")]
        assert order == sorted(order) and order[0] > 0
        assert data["backward_compute_comm_overlap_time"] == \
            data["backward_compute_time_end"] - data["backward_comm_time_start"] > 0
        assert data["avg_backward_compute_comm_overlap_time"] > 0


@pytest.mark.parametrize("rank", [0, 1])
def test_losses_and_weights_equal_torchs_ddp(ranks, torch_ranks, rank):
    ours, theirs = ranks[rank], torch_ranks[rank]
    assert len(ours["losses"]) == len(theirs["losses"]) == STEPS
    for got, expected in zip(ours["losses"], theirs["losses"]):
        assert abs(got - expected) < 1e-12, (ours["losses"], theirs["losses"])
    assert list(ours["state"]) == list(theirs["state"])
    for name, value in theirs["state"].items():
        got = ours["state"][name]
        assert str(got.dtype) == str(value.dtype) == "torch.float64"
        assert got.shape == tuple(value.shape)
        assert max(abs(a - b) for a, b in zip(got.flatten().tolist(),
                                              value.flatten().tolist())) < 1e-12, name


def test_buckets_equal_torchs_rebuilt_buckets(ranks, torch_ranks):
    """torch lays its buckets out again after the first iteration, in gradient-ready order;
    ember's (laid out that way from the start) must be those."""
    for ours, theirs in zip(ranks, torch_ranks):
        assert theirs["logging"]["has_rebuilt_buckets"] == 1
        assert ours["logging"]["bucket_sizes"] == theirs["logging"]["rebuilt_bucket_sizes"]
        for key in ("world_size", "rank", "module_name", "backend_name", "bucket_cap_bytes",
                    "iteration",
                    "num_parameter_tensors", "total_parameter_size_bytes",
                    "find_unused_parameters", "broadcast_buffers", "gradient_as_bucket_view"):
            assert ours["logging"][key] == theirs["logging"][key], key
