"""Prints the variables torchrun sets, one line per rank, and the script's arguments."""

import os
import sys

import torch

names = ["RANK", "LOCAL_RANK", "GROUP_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
         "MASTER_PORT", "OMP_NUM_THREADS"]
# one write of the whole line: both ranks share the launcher's stdout, and print() writes its
# arguments one by one, so the ranks' lines could interleave
line = " ".join(["env", " ".join(f"{n}={os.environ.get(n)}" for n in names), "args",
                 str(sys.argv[1:]), "torch", torch.__name__, torch.__file__.split(os.sep)[-2]])
sys.stdout.write(line + "\n")
sys.stdout.flush()
