"""``DataLoader``, as ``torch.utils.data.dataloader``. It loads in the main process: with
``num_workers > 0`` it gives the batches PyTorch's worker processes give (the sampler runs in
the main process there too), and says once that it has no workers."""

from __future__ import annotations

import warnings

from .collate import default_collate, default_convert
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _draw_seed

__all__ = ["DataLoader", "default_collate", "default_convert"]


class DataLoader:
    """Batches of samples from a map-style ``dataset``, loaded in this process whatever
    ``num_workers`` says (a one-time ``UserWarning`` tells so)."""

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; "
                "use num_workers=0 to disable multiprocessing."
            )
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None."
            )
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if num_workers > 0:
            _say_once_no_workers(num_workers)
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive "
                    "with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching "
                "and is mutually exclusive with drop_last"
            )
        if sampler is None:
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __iter__(self):
        if self.pin_memory:
            warnings.warn(PIN_MEMORY_WARNING, UserWarning, stacklevel=2)
        return _SingleProcessDataLoaderIter(self)


PIN_MEMORY_WARNING = (
    "'pin_memory' argument is set as true but no accelerator is found, "
    "then device pinned memory won't be used."
)
_NO_WORKERS_SAID = []


def _say_once_no_workers(num_workers: int) -> None:
    """PyTorch would start ``num_workers`` processes; gradienti loads the same batches in
    this one. Random draws inside a dataset's ``__getitem__`` then come from the main
    process's generator, not from per-worker seeds: said once per process."""
    if not _NO_WORKERS_SAID:
        _NO_WORKERS_SAID.append(True)
        warnings.warn(
            f"gradienti's DataLoader has no worker processes: num_workers={num_workers} loads "
            "the same batches in the main process (random draws inside the dataset come from "
            "the main generator, not from per-worker seeds)",
            UserWarning,
            stacklevel=3,
        )


class _SingleProcessDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._auto_collation = loader._auto_collation
        self._collate_fn = loader.collate_fn
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        # torch draws this seed (for worker processes) even with no workers: keep the stream
        self._base_seed = _draw_seed(loader.generator)
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __next__(self):
        index = next(self._sampler_iter)
        if self._auto_collation:
            getitems = getattr(self._dataset, "__getitems__", None)
            data = getitems(index) if callable(getitems) else [self._dataset[i] for i in index]
        else:
            data = self._dataset[index]
        self._num_yielded += 1
        return self._collate_fn(data)
