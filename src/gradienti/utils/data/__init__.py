"""Datasets, samplers and ``DataLoader``, as ``torch.utils.data`` (single process only).

The random parts draw from the generators exactly as PyTorch 2.13 does, so that after
``gradienti.manual_seed(s)`` a shuffled loader visits the samples in the order torch's does
after ``torch.manual_seed(s)``, and the default generator is left in the same state:

* each ``iter(loader)`` first draws a ``_base_seed`` (one ``int64`` ``random_()``, that is
  ``random64() % 2**63``) from ``loader.generator`` (the default generator when None);
* ``RandomSampler`` without a generator then draws one more such seed from the default
  generator and shuffles with a fresh ``Generator`` seeded with it; with a generator it
  shuffles with that generator directly. The shuffle is ``randperm(n)``.
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "random_split",
]
