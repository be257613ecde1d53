"""ember.distributed: torch.distributed over MPI (mpi4py), for runs on many processes and machines.

Start the ranks with `ember run --nproc-per-node N script.py` or `python -m ember.distributed.run`
(torchrun's flags; see ember/distributed/run.py for several machines); every backend name is
carried over MPI (NOTE [Every backend is MPI] in process_group.py). Without mpi4py the package
still imports: `is_available()` is False and `init_process_group` says what to install.
The key-value stores (HashStore, FileStore, TCPStore, PrefixStore) need no MPI.
"""

import importlib

from ember.distributed._breakpoint import breakpoint_on_rank
from ember.distributed.coalesced import all_gather_coalesced, all_reduce_coalesced
from ember.distributed.collectives import (Work, all_gather, all_gather_into_tensor,
                                           all_gather_single, all_reduce, barrier, broadcast,
                                           gather, monitored_barrier, reduce, reduce_scatter,
                                           reduce_scatter_single, reduce_scatter_tensor, scatter)
from ember.distributed.constants import default_pg_timeout
from ember.distributed.debug_level import (DebugLevel, get_debug_level, set_debug_level,
                                           set_debug_level_from_env)
from ember.distributed.errors import (DistBackendError, DistError, DistNetworkError,
                                      DistStoreError, QueueEmptyError)
from ember.distributed.file_store import FileStore
from ember.distributed.grad_bucket import BuiltinCommHookType, GradBucket
from ember.distributed.objects import (all_gather_object, broadcast_object_list, gather_object,
                                       recv_object_list, scatter_object_list, send_object_list)
from ember.distributed.point_to_point import (P2POp, all_to_all, all_to_all_single,
                                              batch_isend_irecv, irecv, isend, recv, send)
from ember.distributed.process_group import (Backend, GroupMember, ProcessGroup, ReduceOp,
                                             destroy_process_group, get_backend,
                                             get_default_backend_for_device, get_global_rank,
                                             get_group_rank, get_node_local_rank, get_pg_count,
                                             get_process_group_ranks, get_rank, get_world_size,
                                             group, init_process_group, is_available,
                                             is_backend_available, is_gloo_available,
                                             is_initialized, is_mpi_available, is_nccl_available,
                                             is_torchelastic_launched, is_ucc_available,
                                             is_xccl_available, new_group, new_subgroups,
                                             new_subgroups_by_enumeration, supports_complex)
from ember.distributed.store import HashStore, PrefixStore, Store

reduce_op = ReduceOp  # the deprecated spelling, still found in older scripts

__all__ = ["Backend", "GroupMember", "P2POp", "ProcessGroup", "ReduceOp", "Work", "all_gather",
           "all_gather_into_tensor", "all_gather_object", "all_gather_single", "all_reduce",
           "all_to_all", "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast",
           "broadcast_object_list", "destroy_process_group", "gather", "gather_object",
           "get_backend", "get_global_rank", "get_group_rank", "get_node_local_rank",
           "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group",
           "irecv", "is_available", "is_gloo_available", "is_initialized", "is_mpi_available",
           "is_nccl_available", "is_torchelastic_launched", "isend", "monitored_barrier",
           "new_group", "recv", "recv_object_list", "reduce", "reduce_op", "reduce_scatter",
           "reduce_scatter_single", "reduce_scatter_tensor", "scatter", "scatter_object_list",
           "send", "send_object_list",
           "DebugLevel", "DistBackendError", "DistError", "DistNetworkError", "DistStoreError",
           "FileStore", "HashStore", "PrefixStore", "QueueEmptyError", "Store", "TCPStore",
           "BuiltinCommHookType", "GradBucket",
           "all_gather_coalesced", "all_reduce_coalesced", "breakpoint", "default_pg_timeout",
           "get_debug_level", "get_default_backend_for_device", "get_pg_count",
           "is_backend_available", "is_ucc_available", "is_xccl_available", "new_subgroups",
           "new_subgroups_by_enumeration", "set_debug_level", "set_debug_level_from_env",
           "supports_complex"]


def breakpoint(rank: int = 0, skip: int = 0, timeout_s=3600):  # noqa: A001 - torch's name
    """Stop in pdb on one rank while the others wait at a barrier (torch's dist.breakpoint;
    skip ignores the first `skip` calls from the same place)."""
    breakpoint_on_rank(rank, skip)


def __getattr__(name):
    """The subpackages torch.distributed exposes as attributes, imported on first use."""
    if name in ("algorithms", "optim"):
        return importlib.import_module(f"ember.distributed.{name}")
    if name == "TCPStore":  # its sockets and JSON load only when a script uses it
        return importlib.import_module("ember.distributed.tcp_store").TCPStore
    raise AttributeError(f"module 'ember.distributed' has no attribute '{name}'")
