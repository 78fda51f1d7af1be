# Copyright (c) mmavs contributors. All rights reserved.
"""Samplers of the robust training stream: MMEngine's samplers, yielding ``epoch * L + p``.

:class:`~.train_dataset.RobustTrainDataset` decodes the epoch from the index (its module
docstring says why the epoch travels in the index), so the negatives are fresh every epoch in
every dataloader worker and DDP rank.
"""
from typing import Iterator, Optional

import torch
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmseg.registry import DATA_SAMPLERS


def _check_epoch_encoded(dataset) -> None:
    if not getattr(dataset, 'accepts_epoch_encoded_indices', False):
        raise TypeError(f'the robust samplers encode the epoch into the index and need a dataset '
                        f'that decodes it (RobustTrainDataset), found {type(dataset).__name__}')


@DATA_SAMPLERS.register_module()
class RobustSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (shuffle, round-up, rank sharding) yielding ``epoch * L + p``.

    ``L = len(dataset)``; ``set_epoch`` is called by ``DistSamplerSeedHook`` in the main process,
    so the epoch reaches persistent dataloader workers with each index.

    Args:
        dataset (RobustTrainDataset): The stream.
        shuffle (bool): Shuffle each epoch (seeded by ``seed + epoch``). Default True.
        seed (int | None): Shuffle seed, synchronised over ranks when None.
        round_up (bool): Pad so every rank gets the same number of indices. Default True.
    """

    def __init__(self,
                 dataset,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        _check_epoch_encoded(dataset)
        super().__init__(dataset, shuffle=shuffle, seed=seed, round_up=round_up)

    def __iter__(self) -> Iterator[int]:
        offset = self.epoch * len(self.dataset)
        return iter([offset + index for index in super().__iter__()])


@DATA_SAMPLERS.register_module()
class RobustInfiniteSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` for iteration-based loops: pass ``k`` over the stream
    yields ``k * L + p``, so every pass draws fresh negatives.

    Args:
        dataset (RobustTrainDataset): The stream.
        shuffle (bool): Shuffle each pass. Default True.
        seed (int | None): Shuffle seed, synchronised over ranks when None.
    """

    def __init__(self, dataset, shuffle: bool = True, seed: Optional[int] = None) -> None:
        _check_epoch_encoded(dataset)
        super().__init__(dataset, shuffle=shuffle, seed=seed)

    def _infinite_indices(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed)
        epoch = 0
        while True:
            if self.shuffle:
                order = torch.randperm(self.size, generator=generator).tolist()
            else:
                order = range(self.size)
            offset = epoch * self.size
            yield from (offset + index for index in order)
            epoch += 1
