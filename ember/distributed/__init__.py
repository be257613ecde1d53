"""ember.distributed: torch.distributed over MPI (mpi4py), for runs on many processes and machines.

Start the ranks with `ember run --nproc-per-node N script.py` or `python -m ember.distributed.run`
(torchrun's flags; see ember/distributed/run.py for several machines); every backend name is
carried over MPI (NOTE [Every backend is MPI] in process_group.py). Without mpi4py the package
still imports: `is_available()` is False and `init_process_group` says what to install.
"""

from ember.distributed.collectives import (Work, all_gather, all_gather_into_tensor,
                                           all_gather_single, all_reduce, barrier, broadcast,
                                           gather, monitored_barrier, reduce, reduce_scatter,
                                           reduce_scatter_single, reduce_scatter_tensor, scatter)
from ember.distributed.objects import (all_gather_object, broadcast_object_list, gather_object,
                                       recv_object_list, scatter_object_list, send_object_list)
from ember.distributed.point_to_point import (P2POp, all_to_all, all_to_all_single,
                                              batch_isend_irecv, irecv, isend, recv, send)
from ember.distributed.process_group import (Backend, GroupMember, ProcessGroup, ReduceOp,
                                             destroy_process_group, get_backend, get_global_rank,
                                             get_group_rank, get_node_local_rank,
                                             get_process_group_ranks, get_rank, get_world_size,
                                             group, init_process_group, is_available,
                                             is_gloo_available, is_initialized, is_mpi_available,
                                             is_nccl_available, is_torchelastic_launched,
                                             new_group)

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
           "send", "send_object_list"]
