# Copyright (c) mmavs contributors. All rights reserved.
"""Worker seeding: a function of torch's per-epoch worker seed and the rank."""
import random

import numpy as np
import torch
from mmengine.registry import FUNCTIONS

from mmavs.utils.rng import seed_worker_from_loader


def _streams_after(initial_seed, rank):
    torch.manual_seed(initial_seed)  # what torch sets in a worker: base_seed + worker_id
    seed_worker_from_loader(0, rank=rank)
    return np.random.rand(3).tolist(), random.random(), torch.rand(2).tolist()


def test_workers_follow_the_epoch_seed_and_differ_by_rank():
    assert _streams_after(1234, 0) == _streams_after(1234, 0)
    assert _streams_after(1234, 0)[0] != _streams_after(1235, 0)[0]  # next epoch / worker
    assert _streams_after(1234, 0)[0] != _streams_after(1234, 1)[0]  # another rank
    assert FUNCTIONS.get('seed_worker_from_loader') is seed_worker_from_loader
