"""ember.utils.data: datasets, samplers, collation and DataLoader (matches torch.utils.data)."""

from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data import _utils  # noqa: F401 (torch.utils.data._utils.collate)
from ember.utils.data._worker import WorkerInfo, get_worker_info
from ember.utils.data.dataloader import DataLoader
from ember.utils.data.distributed import DistributedSampler
from ember.utils.data.dataset import (
                                      ChainDataset,
                                      ConcatDataset,
                                      Dataset,
                                      IterableDataset,
                                      StackDataset,
                                      Subset,
                                      TensorDataset,
                                      random_split,
)
from ember.utils.data.sampler import (
                                      BatchSampler,
                                      RandomSampler,
                                      Sampler,
                                      SequentialSampler,
                                      SubsetRandomSampler,
                                      WeightedRandomSampler,
)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset",
           "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "WorkerInfo", "default_collate", "default_convert", "get_worker_info",
           "random_split"]
