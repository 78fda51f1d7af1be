# Copyright (c) mmavs contributors. All rights reserved.
"""The random-number states of a process, as checkpointable data, and the dataloader workers' seeds.

Data augmentation (``RandomResize``, ``RandomCrop``, ``RandomFlip``,
``LoadAVSAudio(random_example)``) draws from the global numpy stream of the process that runs the
pipeline, and models with dropout draw from torch's. :func:`capture_rng_state` returns the global
streams of this process (python ``random``, numpy, torch CPU, every CUDA device) as data that a
weights-only checkpoint holds (tensors, ints, tuples); :func:`restore_rng_state` puts them back.

Dataloader workers: torch seeds each worker of an epoch from one draw of the main process's torch
stream (``torch.initial_seed()`` of worker ``i`` is ``base_seed + i``), so a stream derived from it
is a function of checkpointed state. MMEngine's default ``worker_init_fn`` replaces that seed with
``seed + worker_id + rank * num_workers``, the same every epoch: non-persistent workers repeat the
same augmentations each epoch and a resumed run cannot tell where it is.
:func:`seed_worker_from_loader` (registered in MMEngine's ``FUNCTIONS``; set it as a dataloader's
``worker_init_fn``) seeds python ``random``, numpy and torch of the worker from
``(torch.initial_seed(), rank)`` instead. Persistent workers keep their streams across epochs in
processes that a checkpoint cannot capture, so exact resume needs ``persistent_workers=False``
(``docs/reliability.md``).
"""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.registry import FUNCTIONS


def capture_rng_state() -> dict:
    """The global random states of this process (python, numpy, torch CPU, CUDA).

    Returns:
        dict: ``python`` (``random.getstate()``), ``numpy`` (``dict(keys=[624] uint32 tensor,
        pos, has_gauss, cached_gaussian)``), ``torch`` (uint8 tensor), ``cuda`` (list of uint8
        tensors, one per device; empty without CUDA). Only tensors, ints, floats and tuples:
        loadable with ``weights_only=True``.
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    if kind != 'MT19937':
        raise ValueError(f'expected the MT19937 numpy global generator, found {kind}')
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return dict(
        python=random.getstate(),
        numpy=dict(
            keys=torch.from_numpy(np.array(keys, dtype=np.uint32).astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached)),
        torch=torch.get_rng_state(),
        cuda=list(cuda))


def restore_rng_state(state: dict) -> None:
    """Set the global random states from :func:`capture_rng_state`'s dict.

    CUDA states are restored when this process has as many devices as the saved one (else they
    are left as they are, and the caller is told by the return of :func:`cuda_state_matches`).
    """
    random.setstate(_as_python_state(state['python']))
    np_state = state['numpy']
    keys = np.asarray(np_state['keys'].numpy(), dtype=np.int64).astype(np.uint32)
    np.random.set_state(('MT19937', keys, int(np_state['pos']), int(np_state['has_gauss']),
                         float(np_state['cached_gaussian'])))
    torch.set_rng_state(state['torch'].cpu())
    if cuda_state_matches(state):
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


def cuda_state_matches(state: dict) -> bool:
    """Whether this process can restore the saved CUDA states (same number of devices > 0)."""
    saved = state.get('cuda') or []
    return bool(saved) and torch.cuda.is_available() and len(saved) == torch.cuda.device_count()


def _as_python_state(state) -> tuple:
    """``random.setstate`` wants tuples; a checkpoint round trip may give lists."""
    version, internal, gauss = state
    return (int(version), tuple(int(v) for v in internal), gauss)


@FUNCTIONS.register_module()
def seed_worker_from_loader(worker_id: int, rank: Optional[int] = None) -> None:
    """``worker_init_fn``: seed a dataloader worker from torch's per-epoch worker seed and rank.

    ``torch.initial_seed()`` in a worker is ``base_seed + worker_id``, with ``base_seed`` drawn
    from the main process's torch stream when the epoch's iterator starts, so it changes every
    epoch and is restored with the main process's state on resume. The rank is mixed in so that
    DDP ranks (which share the main seed) augment differently.

    Args:
        worker_id (int): Worker index (given by the DataLoader; already in the initial seed).
        rank (int, optional): Distributed rank; None reads it from ``mmengine.dist``.
    """
    if rank is None:
        from mmengine.dist import get_rank
        rank = get_rank()
    words = np.random.SeedSequence([int(torch.initial_seed()), int(rank)]).generate_state(4)
    np.random.seed(words[:2])
    random.seed(int(words[2]) << 32 | int(words[3]))
    torch.manual_seed(int(words[0]) << 32 | int(words[1]))
