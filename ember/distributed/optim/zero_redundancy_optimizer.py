"""ZeroRedundancyOptimizer: each rank keeps the optimizer state of its share of the parameters
only (matches `torch.distributed.optim.ZeroRedundancyOptimizer`).

NOTE [ZeRO's partition]
Each parameter group's parameters are dealt out largest first, each to the rank holding the
fewest elements so far (ties: the lowest rank), as torch does; a rank's local optimizer (of
`optimizer_class`) steps only its share, then every rank broadcasts its share so all replicas
hold the same parameters. state_dict() needs consolidate_state_dict(to) first, on every rank:
rank `to` then gathers the local states and lays them out as one optimizer's state_dict, in
the global parameter order. parameters_as_bucket_view only changes memory layout in torch
(the same values); here the parameters are broadcast one by one either way.
"""

from ember._tensor import Tensor
from ember.distributed.collectives import broadcast
from ember.distributed.objects import broadcast_object_list
from ember.distributed.process_group import (GroupMember, get_global_rank, get_rank,
                                             get_world_size)
from ember.optim.optimizer import Optimizer


def _type_name(value) -> str:
    """torch.typename of a value (the tensor type for tensors)."""
    return value.type() if isinstance(value, Tensor) else type(value).__name__


def _sync_param_groups(source, destination) -> None:
    """Copy every hyperparameter (not the params) from source groups to destination groups."""
    if len(source) != len(destination):
        raise AssertionError("Mismatch between number of source and destination parameter "
                             "groups")
    for src, dst in zip(source, destination):
        for key in src:
            if key != "params":
                dst[key] = src[key]


class ZeroRedundancyOptimizer(Optimizer):
    """An optimizer whose state is sharded over the ranks (NOTE [ZeRO's partition])."""

    def __init__(self, params, optimizer_class, process_group=None,
                 parameters_as_bucket_view: bool = False, overlap_with_ddp: bool = False,
                 **defaults):
        if overlap_with_ddp:  # needs torch's ddp_zero_hook, a DDP hook ember does not have
            raise NotImplementedError("ZeroRedundancyOptimizer(overlap_with_ddp=True) is not "
                                      "supported by ember; use overlap_with_ddp=False")
        params = self._verify_and_init_params(params)
        self._verify_same_dense_param_type()
        self.initialized = False
        Optimizer.__init__(self, params, defaults)
        self._partition_cache = []
        self.process_group = process_group if process_group is not None else \
            GroupMember.WORLD
        self.world_size = get_world_size(self.process_group)
        self.rank = get_rank(self.process_group)
        self.global_rank = get_global_rank(self.process_group, self.rank)
        self._overlap_with_ddp = overlap_with_ddp
        self._optim_defaults = defaults
        self._optim_constructor = optimizer_class
        self.parameters_as_bucket_view = parameters_as_bucket_view
        self.optim = optimizer_class(self._partition_parameters()[self.rank], **defaults)
        _sync_param_groups(self.optim.param_groups, self.param_groups)
        self._all_state_dicts = []
        self.initialized = True

    def _verify_and_init_params(self, params):
        """params as a list (of tensors or of groups); torch's TypeError / ValueError."""
        if isinstance(params, Tensor):
            raise TypeError("`params` argument should be an iterable of Tensors, but got "
                            f"{_type_name(params)}")
        try:
            all_params = list(params)
        except TypeError as error:
            raise TypeError("`params` argument should be an iterable of Tensors or dicts, but "
                            f"got {_type_name(params)}") from error
        if not all_params:
            raise ValueError("ZeroRedundancyOptimizer got an empty parameter list")
        tensors = all(isinstance(p, Tensor) for p in all_params)
        if not tensors and not all(isinstance(p, dict) for p in all_params):
            raise TypeError("`params` argument should be an iterable of Tensors or dicts")
        if tensors:
            self._all_params = all_params
        else:
            self._all_params = []
            for group in all_params:
                if "params" not in group:
                    raise ValueError("Each parameter group passed-in via `params` must have a "
                                     "'params' key mapping to the parameters in the group")
                self._all_params.extend(group["params"])
        return all_params

    def _verify_same_dense_param_type(self) -> None:
        """ValueError unless every parameter has the first one's dense tensor type."""
        first = _type_name(self._all_params[0])
        if self._all_params[0].is_sparse:
            raise ValueError("ZeroRedundancyOptimizer only supports using the same dense type "
                             f"for all parameters but got {first}")
        for param in self._all_params[1:]:
            if _type_name(param) != first:
                raise ValueError("ZeroRedundancyOptimizer only supports using the same dense "
                                 f"type for all parameters but got both {first} and "
                                 f"{_type_name(param)}")

    def _partition_parameters(self):
        """Per rank, its share of every parameter group (NOTE [ZeRO's partition])."""
        if not self._partition_cache:
            self._partition_cache = [[] for _ in range(self.world_size)]
            sizes = [0] * self.world_size
            for group in self.param_groups:
                shares = [[] for _ in range(self.world_size)]
                for param in sorted(group["params"], key=lambda t: t.numel(), reverse=True):
                    rank = sizes.index(min(sizes))
                    shares[rank].append(param)
                    sizes[rank] += param.numel()
                for rank, share in enumerate(shares):
                    self._partition_cache[rank].append(dict(group, params=share))
        return self._partition_cache

    def _param_to_rank(self) -> dict:
        """id(parameter) -> the rank that steps it."""
        return {id(p): rank for rank, groups in enumerate(self._partition_parameters())
                for group in groups for p in group["params"]}

    def _index_to_param(self) -> list:
        """The parameters in the global order of the state_dict indices."""
        return [p for group in self.param_groups for p in group["params"]]

    def add_param_group(self, param_group: dict) -> None:
        """Add a group; the partition is recomputed and this rank's share joins its optimizer."""
        super().add_param_group(param_group)
        if getattr(self, "initialized", False):
            self._partition_cache = []
            param_groups = self._partition_parameters()[self.rank]
            if len(param_groups) == len(self.optim.param_groups) + 1:
                self.optim.add_param_group(param_groups[-1])

    def step(self, closure=None, **kwargs):
        """Step this rank's share with the local optimizer, then share every rank's update."""
        _sync_param_groups(self.param_groups, self.optim.param_groups)
        loss = self.optim.step(**kwargs) if closure is None else \
            self.optim.step(closure=closure, **kwargs)
        _sync_param_groups(self.optim.param_groups, self.param_groups)
        self._sync_params()
        return loss

    def _sync_params(self) -> None:
        """Broadcast each rank's share of the parameters from that rank."""
        works = []
        for rank, groups in enumerate(self._partition_parameters()):
            source = get_global_rank(self.process_group, rank)
            works += [broadcast(p.data, src=source, group=self.process_group, async_op=True)
                      for group in groups for p in group["params"]]
        for work in works:
            work.wait()

    def consolidate_state_dict(self, to: int = 0) -> None:
        """Gather every rank's local optimizer state on rank `to` (call on every rank)."""
        _sync_param_groups(self.param_groups, self.optim.param_groups)
        self._all_state_dicts = []
        for rank in range(self.world_size):
            source = get_global_rank(self.process_group, rank)
            payload = [self.optim.state_dict() if rank == self.rank else None]
            if rank != to:  # to's own state needs no broadcast
                broadcast_object_list(payload, src=source, group=self.process_group)
            if self.rank == to:
                self._all_state_dicts.append(payload[0] if rank != self.rank
                                             else self.optim.state_dict())

    def state_dict(self) -> dict:
        """The whole optimizer's state_dict, from the states consolidated on this rank."""
        if not self._all_state_dicts:
            raise RuntimeError("Optimizer state has not been consolidated on this rank. Please "
                               f"call `consolidate_state_dict(to={self.rank})` on all ranks "
                               "beforehand if you meant to save the global state.")
        state_dict = super().state_dict()
        index_of = {id(p): i for i, p in enumerate(self._index_to_param())}
        for rank, local in enumerate(self._all_state_dicts):
            for local_group, group in zip(local["param_groups"],
                                          self._partition_parameters()[rank]):
                for local_index, param in zip(local_group["params"], group["params"]):
                    if local_index in local["state"]:
                        state_dict["state"][index_of[id(param)]] = local["state"][local_index]
        state_dict["state"] = dict(sorted(state_dict["state"].items()))
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a whole state_dict: each rank keeps the state of its own share."""
        owner, params = self._param_to_rank(), self._index_to_param()
        for index, value in state_dict["state"].items():
            param = params[index]
            if owner[id(param)] != self.rank:
                state_dict["state"][index] = None
            else:
                self.optim.state[param] = value
        super().load_state_dict(state_dict)
        _sync_param_groups(state_dict["param_groups"], self.param_groups)
        _sync_param_groups(self.param_groups, self.optim.param_groups)
