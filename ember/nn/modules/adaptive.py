"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of Grave et al., "Efficient softmax
approximation for GPUs" (https://arxiv.org/abs/1609.04309) (matches
`torch.nn.AdaptiveLogSoftmaxWithLoss`).

The classes are split by `cutoffs` into a shortlist (scored by the head together with one
logit per tail cluster) and tail clusters (each scored by a two-layer low-rank projection).
A target in cluster i gets log p(cluster i | x) + log p(target | cluster i, x).
"""

import itertools
from collections import namedtuple
from collections.abc import Sequence

from ember.nn import functional as F
from ember.nn.modules.container import ModuleList, Sequential
from ember.nn.modules.linear import Linear
from ember.nn.modules.module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


def _check_cutoffs(cutoffs: list, n_classes: int) -> None:
    """Raise torch's ValueError unless cutoffs are unique sorted integers in [1, n_classes-1]."""
    if len(cutoffs) == 0:
        raise ValueError("cutoffs should be a sequence of length larger than 0")
    # The same tests in torch's order: a non-comparable or non-numeric entry raises whatever
    # (TypeError, ValueError) the first test that touches it raises in torch.
    if ((cutoffs != sorted(cutoffs))
            or (min(cutoffs) <= 0)
            or (max(cutoffs) > (n_classes - 1))
            or (len(set(cutoffs)) != len(cutoffs))
            or any(int(c) != c for c in cutoffs)):
        raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in "
                         "an increasing order, where each value is between 1 and n_classes-1")


def _check_forward_shapes(input_, target_) -> None:
    """Raise torch's RuntimeError for a target that is not 0-D/1-D or an input that mismatches."""
    targ_dim = target_.dim()
    if targ_dim == 1:
        # torch compares the batch sizes before the input's rank (size(0) of a 0-D input
        # raises its own IndexError first)
        if input_.size(0) != target_.size(0):
            raise RuntimeError(
                "Input and target should have the same size in the batch dimension.")
        if input_.dim() != 2:
            raise RuntimeError("1D target tensor expects 2D input tensors, "
                               f"but found inputs with size {input_.size()}")
    elif targ_dim == 0:
        if input_.dim() != 1:
            raise RuntimeError("0D target tensor expects 1D input tensors, "
                               f"but found inputs with size {input_.size()}")
    else:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: cheap log-probabilities for many, Zipf-distributed classes (matches
    `torch.nn.AdaptiveLogSoftmaxWithLoss`).

    cutoffs [c0, c1, ...] put classes [0, c0) in the head's shortlist and [c_i, c_{i+1}) (the
    last up to n_classes) in tail cluster i + 1, whose hidden size is
    floor(in_features / div_value ** (i + 1)). forward returns `_ASMoutput(output, loss)`:
    each sample's target log-probability and the mean negative log-likelihood.
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device=None,
                 dtype=None) -> None:
        """Validate cutoffs, then build the head and the tail projections in torch's order."""
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        cutoffs = list(cutoffs)
        _check_cutoffs(cutoffs, n_classes)
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        # Construction order (head, then each cluster's two layers) fixes which RNG draws
        # initialize which weight: torch's order, so a seeded module gets torch's weights.
        self.head = Linear(self.in_features, self.head_size, bias=self.head_bias,
                           **factory_kwargs)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            self.tail.append(self._projection(i, factory_kwargs))

    def _projection(self, i: int, factory_kwargs: dict) -> Sequential:
        """Tail cluster i + 1's low-rank scorer: in_features -> hsz -> cluster size, no biases."""
        # float division as in torch: div_value 4.0 makes 10 // 4.0 == 2.0, hence int()
        hsz = int(self.in_features // (self.div_value ** (i + 1)))
        osz = self.cutoffs[i + 1] - self.cutoffs[i]
        return Sequential(Linear(self.in_features, hsz, bias=False, **factory_kwargs),
                          Linear(hsz, osz, bias=False, **factory_kwargs))

    def reset_parameters(self) -> None:
        """Re-draw every weight as at construction (head first, then each cluster's layers)."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_) -> _ASMoutput:
        """Each sample's log p(target | input) and the mean NLL; a cluster runs on its rows only."""
        _check_forward_shapes(input_, target_)
        is_batched = target_.dim() > 0
        input = input_ if is_batched else input_.unsqueeze(0)
        target = target_ if is_batched else target_.unsqueeze(0)
        batch_size = target.size(0)
        output = input.new_zeros(batch_size)
        # the head column each row's log-probability is read from: its class in the shortlist,
        # or its cluster's logit
        gather_inds = target.new_empty(batch_size)
        used_rows = 0
        cutoff_values = [0] + self.cutoffs
        for i, (low_idx, high_idx) in enumerate(itertools.pairwise(cutoff_values)):
            used_rows += self._fill_cluster(i, low_idx, high_idx, input, target, output,
                                            gather_inds)
        if used_rows != batch_size:  # some target is < 0 or >= n_classes
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], "
                f"but values in range [{target.min().item()}, {target.max().item()}] "
                "were found. ")
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output += head_logprob.gather(1, gather_inds.unsqueeze(1)).squeeze()
        loss = (-output).mean()
        if not is_batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _fill_cluster(self, i, low_idx, high_idx, input, target, output, gather_inds) -> int:
        """Write cluster i's rows into gather_inds (and, for a tail cluster, output); their count.

        Cluster 0 is the shortlist: its rows read their own class from the head. A tail
        cluster's rows read the cluster's logit from the head, plus (here, into output) the
        target's log-probability within the cluster.
        """
        target_mask = (target >= low_idx) & (target < high_idx)
        row_indices = target_mask.nonzero().squeeze()  # 0-D when one row: as torch
        if row_indices.numel() == 0:
            return 0
        if i == 0:
            gather_inds.index_copy_(0, row_indices, target[target_mask])
        else:
            relative_target = target[target_mask] - low_idx
            cluster_output = self.tail[i - 1](input.index_select(0, row_indices))
            gather_inds.index_fill_(0, row_indices, self.shortlist_size + i - 1)
            cluster_logprob = F.log_softmax(cluster_output, dim=1)
            local_logprob = cluster_logprob.gather(1, relative_target.unsqueeze(1))
            output.index_copy_(0, row_indices, local_logprob.squeeze(1))
        return row_indices.numel()

    def _get_full_log_prob(self, input, head_output):
        """log p(c | input) for every class c, given head_output = self.head(input)."""
        out = input.new_empty((head_output.size(0), self.n_classes))
        head_logprob = F.log_softmax(head_output, dim=1)
        out[:, :self.shortlist_size] = head_logprob[:, :self.shortlist_size]
        for i, (start_idx, stop_idx) in enumerate(itertools.pairwise(self.cutoffs)):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            # log p(c) = log p(cluster) + log p(c | cluster)
            cluster_head = head_logprob[:, self.shortlist_size + i].unsqueeze(1)
            out[:, start_idx:stop_idx] = cluster_logprob + cluster_head
        return out

    def log_prob(self, input):
        """Log-probabilities of all n_classes for each row of input (N, in_features)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """log_prob(input).argmax(1), skipping the tails for rows whose head picks the shortlist."""
        head_output = self.head(input)
        output = head_output.argmax(dim=1)
        not_in_shortlist = output >= self.shortlist_size
        if not not_in_shortlist.any():
            return output
        if not_in_shortlist.all():
            return self._get_full_log_prob(input, head_output).argmax(dim=1)
        # a cluster logit can win the head without a class in it winning overall: those rows
        # need the full distribution
        log_prob = self._get_full_log_prob(input[not_in_shortlist],
                                           head_output[not_in_shortlist])
        output[not_in_shortlist] = log_prob.argmax(dim=1)
        return output
