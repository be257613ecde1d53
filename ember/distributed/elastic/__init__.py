"""ember.distributed.elastic (served as `torch.distributed.elastic`): the parts training scripts
import. The launcher is ember/distributed/run.py (MPI does the work of torchrun's elastic agent).
"""
