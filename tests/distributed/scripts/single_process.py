"""Run by tests/distributed/test_process_group.py with `torch` or `ember` as argument: a world of
one process made and destroyed with each backend spelling, and the errors of a bad timeout, of
nccl and of destroying twice; one line per fact, compared between the two libraries."""

import datetime
import importlib
import os
import sys
import warnings

for variable in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
    os.environ.pop(variable, None)

warnings.simplefilter("ignore")
lib = importlib.import_module(sys.argv[1])
dist = importlib.import_module(sys.argv[1] + ".distributed")
ADDRESS = "tcp://127.0.0.1:" + sys.argv[2]


def report(*facts):
    print(*facts, flush=True)


for backend in (None, "gloo", "GLOO", "cpu:gloo"):
    dist.init_process_group(backend, init_method=ADDRESS, rank=0, world_size=1,
                            timeout=datetime.timedelta(seconds=30))
    report(repr(backend), dist.get_backend(), dist.get_backend(dist.group.WORLD),
           dist.get_world_size(), dist.get_rank(), dist.is_initialized())
    t = lib.arange(3.0)
    report(dist.all_reduce(t, op=dist.ReduceOp.AVG), t.tolist(), dist.broadcast(t, 0),
           dist.barrier())
    dist.destroy_process_group()
    report(dist.is_initialized(), dist.group.WORLD)
for bad in ({"timeout": 5}, {"backend": "nccl"}, {"backend": "carrier-pigeon"},
            {"init_method": None, "rank": -1, "world_size": -1}, {"init_method": "env://"},
            {"init_method": ADDRESS, "rank": -1}, {"init_method": ADDRESS, "world_size": -1},
            {"init_method": "file:///tmp/nowhere", "rank": -1}):
    try:  # without a launcher: no RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
        dist.init_process_group(**{"backend": "gloo", "init_method": ADDRESS, "rank": 0,
                                   "world_size": 1, **bad})
    except Exception as error:  # noqa: BLE001 - its type and message are the facts
        report(type(error).__name__, error)
for call in (dist.destroy_process_group, dist.get_rank, dist.barrier):
    try:
        call()
    except Exception as error:  # noqa: BLE001
        report(call.__name__, type(error).__name__, error)
report(dist.is_available(), dist.is_gloo_available(), dist.is_nccl_available(),
       dist.is_torchelastic_launched())
