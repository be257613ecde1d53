"""Process groups over MPI: init_process_group, the default group and its queries.

NOTE [Every backend is MPI]
torch picks a communication library by name ("gloo" on CPU, "nccl" on GPU, "mpi"). ember has one
engine, MPI through mpi4py: "gloo", "mpi" and None all give a group whose collectives are MPI
calls on the tensors' own buffers, and `get_backend()` reports the name that was asked for, so
scripts that branch on it behave as under torch. "nccl" raises, as it does on a CPU build of
torch. The ranks are the processes that `mpiexec` started (`ember run --nproc-per-node N` or
`python -m ember.distributed.run`); RANK and WORLD_SIZE, when given, must agree with MPI's.
"""

import datetime
import enum
import os

from ember._device import device as _device
from ember._warnings import warn as _warn
from ember.distributed import _mpi


class Backend(str):
    """A backend name, lower-cased (matches `torch.distributed.Backend`)."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"
    FAKE = "fake"
    backend_list = [UNDEFINED, GLOO, NCCL, XCCL, UCC, MPI, FAKE]
    default_device_backend_map = {"cpu": GLOO, "cuda": NCCL, "xpu": XCCL, "mps": GLOO}

    def __new__(cls, name: str):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {name}")
        return super().__new__(cls, name.lower())


class RedOpType(enum.IntEnum):
    """The reduction kinds, numbered as torch numbers them."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9


class ReduceOp:
    """The reduction of a collective: SUM, AVG, ... (matches `torch.distributed.ReduceOp`)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class ProcessGroup:
    """A set of ranks and the MPI communicator that joins them."""

    def __init__(self, comm, ranks, backend, timeout=None):
        self.comm = comm
        self.ranks = list(ranks)  # global ranks, in group-rank order
        self.backend = backend
        self.timeout = timeout  # a datetime.timedelta given by the user, else None: no limit

    def rank(self) -> int:
        """This process's rank within the group."""
        return self.comm.Get_rank()

    def size(self) -> int:
        """The number of ranks in the group."""
        return self.comm.Get_size()

    def group_rank(self, global_rank: int) -> int:
        """The group rank of a global rank; ValueError if it is not in the group."""
        if global_rank not in self.ranks:
            raise ValueError(f"Group {self!r} does not contain rank {global_rank}")
        return self.ranks.index(global_rank)

    def name(self) -> str:
        """The backend name the group was made with."""
        return self.backend

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, ranks={self.ranks})"


class GroupMember:
    """The default group (WORLD, None before init) and the marker of non-members."""

    WORLD = None
    NON_GROUP_MEMBER = -100


group = GroupMember  # torch.distributed.group.WORLD


def is_available() -> bool:
    """Whether distributed runs are possible here: mpi4py is installed."""
    return _mpi.is_available()


def is_initialized() -> bool:
    """Whether the default process group exists."""
    return GroupMember.WORLD is not None


def is_mpi_available() -> bool:
    """Whether the MPI backend is available (it is whenever mpi4py is)."""
    return _mpi.is_available()


def is_gloo_available() -> bool:
    """"gloo" is served by MPI too: NOTE [Every backend is MPI]."""
    return _mpi.is_available()


def is_nccl_available() -> bool:
    """No NCCL on a CPU framework."""
    return False


def is_ucc_available() -> bool:
    """No UCC either (as a CPU build of torch)."""
    return False


def is_xccl_available() -> bool:
    """No XCCL (Intel GPUs) either."""
    return False


def _single_backend_available(name: str) -> bool:
    """Whether one backend name is available: its is_<name>_available(), else registered."""
    available = {"gloo": is_gloo_available, "mpi": is_mpi_available, "nccl": is_nccl_available,
                 "ucc": is_ucc_available, "xccl": is_xccl_available}.get(name.lower())
    return available() if available else name.lower() in Backend.backend_list


def is_backend_available(backend: str) -> bool:
    """Whether a backend ("gloo", or a composite such as "cpu:gloo,cuda:nccl") is available."""
    if ":" in backend.lower():
        names = [part.split(":")[-1] for part in backend.lower().split(",")]
        return all(_single_backend_available(name) for name in names)
    return _single_backend_available(backend)


def get_default_backend_for_device(device) -> str:
    """The backend torch picks for a device ("cpu" -> "gloo"); ValueError for other ones."""
    kind = device.type if hasattr(device, "type") else _device(device).type
    backend = Backend.default_device_backend_map.get(kind)
    if backend is None:
        raise ValueError(f"Default backend not registered for device : {device}")
    return backend


def supports_complex(reduceOp) -> bool:
    """Whether a reduction is defined on complex tensors (SUM, AVG, PREMUL_SUM)."""
    return reduceOp not in (ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT, ReduceOp.BAND,
                            ReduceOp.BOR, ReduceOp.BXOR)


# torch numbers the default group and every new_group by a running count (_world.group_count)
_group_count = [0]


def get_pg_count() -> int:
    """The number of process groups made since the default one (destroying it resets it)."""
    return _group_count[0]


def is_torchelastic_launched() -> bool:
    """Whether the launcher started this process (it sets TORCHELASTIC_RUN_ID as torchrun)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def get_node_local_rank(fallback_rank=None) -> int:
    """This process's rank on its machine: LOCAL_RANK, else fallback_rank (matches torch)."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
        "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
        "and want the code to run locally instead.")


def _env_int(name, given):
    """An int from the argument if given (not -1), else from the environment, else None."""
    if given is not None and given != -1:
        return int(given)
    value = os.environ.get(name)
    return int(value) if value is not None else None


def _check_rendezvous(init_method, rank, world_size) -> None:
    """ValueError, worded as torch's, when the rendezvous lacks what torch's would need: env://
    reads RANK, WORLD_SIZE (unless given), MASTER_ADDR and MASTER_PORT; tcp:// and file:// need
    rank and world_size. MPI does the real rendezvous; these keep scripts portable."""
    method = init_method or "env://"
    scheme = method.split("://")[0]
    prefix = f"Error initializing torch.distributed using {scheme}:// rendezvous: "
    if scheme == "env":
        needed = [n for n, given in (("RANK", rank), ("WORLD_SIZE", world_size))
                  if given in (None, -1)] + ["MASTER_ADDR", "MASTER_PORT"]
        for variable in needed:
            if variable not in os.environ:
                raise ValueError(f"{prefix}environment variable {variable} expected, but not set")
    elif scheme in ("tcp", "file"):
        for what, given in (("rank", rank), ("world size", world_size)):
            if given in (None, -1):
                raise ValueError(f"{prefix}{what} parameter missing")


def init_process_group(backend=None, init_method=None, timeout=None, world_size: int = -1,
                       rank: int = -1, store=None, group_name: str = "", pg_options=None,
                       device_id=None) -> None:
    """Make the default process group over MPI (matches `torch.distributed.init_process_group`).

    backend "gloo", "mpi" or None all run over MPI (NOTE [Every backend is MPI]); init_method
    "env://" (the default) reads RANK and WORLD_SIZE; a given `timeout` bounds every wait for a
    collective (NOTE [Timeouts] in collectives.py); a `store` (with rank and world_size, as
    torch asks) replaces the rendezvous, and is not used otherwise: MPI connects the ranks.
    """
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend if backend is not None else "gloo")
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in")
    if name not in (Backend.GLOO, Backend.MPI, "cpu:gloo", "cpu:gloo,cuda:nccl"):
        raise AssertionError(f"Unknown backend type {name}")  # torch's assert
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, "
                        f"got {timeout}")
    if store is not None and init_method is not None:
        raise AssertionError("Cannot specify both init_method and store.")  # torch's asserts
    if store is not None and world_size <= 0:
        raise AssertionError("world_size must be positive if using store")
    if store is not None and rank < 0:
        raise AssertionError("rank must be non-negative if using store")
    MPI = _mpi.load()  # first: without mpi4py, say what to install
    # torch's MPI backend needs no rendezvous (mpiexec made the world), nor does a given store
    if name != Backend.MPI and store is None:
        _check_rendezvous(init_method, rank, world_size)
    size, my_rank = MPI.COMM_WORLD.Get_size(), MPI.COMM_WORLD.Get_rank()
    expected_size, expected_rank = _env_int("WORLD_SIZE", world_size), _env_int("RANK", rank)
    if expected_size is not None and expected_size != size:
        raise RuntimeError(
            f"world_size {expected_size} was asked for but MPI started {size} process(es): "
            f"launch the script with `ember run --nproc-per-node {expected_size} script.py` "
            f"(or mpiexec -n {expected_size})")
    if expected_rank is not None and expected_rank != my_rank:
        raise RuntimeError(f"rank {expected_rank} was asked for but MPI gave this process "
                           f"rank {my_rank}")
    # torch 2.13 reports a group made with backend=None as "undefined" (gloo runs it on CPU)
    reported = "undefined" if backend is None else str(name)
    GroupMember.WORLD = ProcessGroup(MPI.COMM_WORLD.Dup(), range(size), reported, timeout)
    _group_count[0] += 1


def destroy_process_group(group=None) -> None:
    """Free a group's communicator; the default group's ends the distributed state."""
    target = GroupMember.WORLD if group is None else group
    if target is None:
        raise AssertionError("Process group cannot be None")  # torch's assert
    if target.comm is not None:
        target.comm.Free()
        target.comm = None
    if target is GroupMember.WORLD:
        GroupMember.WORLD = None
        _group_count[0] = 0


def resolve(group):
    """The ProcessGroup meant by `group` (None: the default one); ValueError before init."""
    if GroupMember.WORLD is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return GroupMember.WORLD if group is None else group


def is_member(pg, op_name=None) -> bool:
    """Whether this process belongs to the group; if not and op_name is given, torch's warning
    that the operation is skipped on this rank."""
    if pg is not GroupMember.NON_GROUP_MEMBER:
        return True
    if op_name is not None:
        rank = -1 if GroupMember.WORLD is None else GroupMember.WORLD.rank()
        _warn(f"Running {op_name} on global rank {rank} which does not belong to the given "
              "group.", stacklevel=3)
    return False


def get_rank(group=None) -> int:
    """This process's rank in the group, -1 if not a member."""
    pg = resolve(group)
    return pg.rank() if is_member(pg) else -1


def get_world_size(group=None) -> int:
    """The number of ranks in the group, -1 if not a member."""
    pg = resolve(group)
    return pg.size() if is_member(pg) else -1


def get_backend(group=None) -> str:
    """The backend name the group was made with."""
    pg = resolve(group)
    if not is_member(pg):
        raise ValueError("Invalid process group specified")
    return pg.backend


def get_process_group_ranks(group) -> list:
    """The global ranks of a group, in group-rank order."""
    return list(resolve(group).ranks)


def get_global_rank(group, group_rank: int) -> int:
    """The global rank of `group_rank` in `group`."""
    return resolve(group).ranks[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    """The rank within `group` of a global rank."""
    return resolve(group).group_rank(global_rank)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None, device_id=None):
    """A group of some ranks; every rank of the world must call it (matches `torch.distributed`)."""
    world = resolve(None)
    members = sorted(set(range(world.size()) if ranks is None else ranks))
    for r in members:
        if not 0 <= r < world.size():
            raise ValueError(f"Invalid rank {r}: the world has {world.size()} ranks")
    MPI = _mpi.load()
    inside = world.rank() in members
    if not use_local_synchronization:  # on every rank, member or not, as torch counts
        _group_count[0] += 1
    comm = world.comm.Split(0 if inside else MPI.UNDEFINED, members.index(world.rank())
                            if inside else 0)
    if not inside:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(comm, members, str(Backend(backend)) if backend else world.backend,
                        timeout if timeout is not None else world.timeout)


def new_subgroups(group_size=None, group=None, timeout=None, backend=None, pg_options=None,
                  group_desc=None):
    """Cut the group's ranks into consecutive subgroups of group_size; (this rank's subgroup,
    all subgroups) (matches `torch.distributed.new_subgroups`)."""
    if group_size is None:  # torch's default counts CUDA devices, which a CPU run lacks
        raise ValueError("Default group size only takes effect when CUDA is available.If your "
                         "subgroup using a backend that does not depend on CUDA,please pass in "
                         "'group_size' correctly.")
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    world_size = get_world_size(group=group)
    if world_size < group_size:
        raise ValueError(f"The arg 'group_size' ({group_size}) must not exceed the world size "
                         f"({world_size})")
    if world_size % group_size != 0:
        raise ValueError(f"The world size ({world_size}) must be divisible by '{group_size=}'")
    ranks = get_process_group_ranks(group)
    return new_subgroups_by_enumeration(
        [ranks[i:i + group_size] for i in range(0, len(ranks), group_size)], timeout=timeout,
        backend=backend, pg_options=pg_options, group_desc=group_desc)


def new_subgroups_by_enumeration(ranks_per_subgroup_list, timeout=None, backend=None,
                                 pg_options=None, group_desc=None):
    """One new_group per list of ranks (disjoint lists); (this rank's subgroup or None, all
    subgroups) (matches `torch.distributed.new_subgroups_by_enumeration`)."""
    if ranks_per_subgroup_list is None or len(ranks_per_subgroup_list) == 0:
        raise ValueError("The arg 'ranks_per_subgroup_list' cannot be empty")
    subgroups, current, owner = [], None, {}
    for ranks in ranks_per_subgroup_list:
        subgroup = new_group(ranks=ranks, timeout=timeout, backend=backend,
                             pg_options=pg_options, group_desc=group_desc)
        subgroups.append(subgroup)
        for rank in ranks:
            if rank in owner:
                raise ValueError(f"Rank {rank} has appeared in both subgroup {owner[rank]} and "
                                 f"{ranks}")
            owner[rank] = ranks
            if rank == get_rank():
                current = subgroup
    return current, subgroups
