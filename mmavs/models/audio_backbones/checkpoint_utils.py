# Copyright (c) mmavs contributors. All rights reserved.
"""Strict, explained loading of published audio-backbone weights.

MMEngine's ``Pretrained`` initialiser loads with ``strict=False`` and only *logs* missing,
unexpected or mis-shaped keys, so a wrong file silently leaves a randomly initialised backbone.
Frozen backbones (VGGish in every AVS baseline) never recover from that, so the audio backbones
check the file against their own state dict first and raise an error that names the file and
lists what does not fit.
"""
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional

import torch
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint_with_prefix
from torch import nn

# checkpoints written by training loops or DDP wrap the weights or prefix their keys
_WRAPPER_KEYS = ('state_dict', 'model')
_DDP_PREFIX = 'module.'


def read_state_dict(checkpoint: str,
                    prefix: Optional[str] = None,
                    map_location: str = 'cpu') -> 'OrderedDict[str, torch.Tensor]':
    """Read a state dict with MMEngine's checkpoint loader.

    Accepts a plain state dict (as published by torchvggish), or a training checkpoint whose
    weights sit under ``'state_dict'`` / ``'model'``; a DDP ``'module.'`` key prefix is removed.

    Args:
        checkpoint (str): Local path or any URI MMEngine's ``CheckpointLoader`` understands.
        prefix (str | None): Keep only keys starting with ``prefix`` (stripped), e.g.
            ``'backbone.'`` to take a backbone out of a whole-model checkpoint.
        map_location (str): Device to map tensors to. Default ``'cpu'``.

    Returns:
        OrderedDict[str, torch.Tensor]: The weights.
    """
    if prefix:
        return OrderedDict(_load_checkpoint_with_prefix(prefix, checkpoint, map_location))
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location=map_location)
    if not isinstance(loaded, Mapping):
        raise ValueError(f'expected a state dict (a mapping of tensors) in {checkpoint}, found '
                         f'{type(loaded).__name__}')
    for key in _WRAPPER_KEYS:
        if key in loaded and isinstance(loaded[key], Mapping):
            loaded = loaded[key]
            break
    state_dict = OrderedDict()
    for key, value in loaded.items():
        if key.startswith(_DDP_PREFIX):
            key = key[len(_DDP_PREFIX):]
        state_dict[key] = value
    return state_dict


def state_dict_mismatches(module: nn.Module, state_dict: Mapping) -> Dict[str, List[str]]:
    """Compare ``state_dict`` with ``module.state_dict()``.

    Returns:
        dict: ``missing`` (keys the module needs and the file lacks), ``unexpected`` (keys the
        module does not have) and ``shape`` (``'key: expected [..], found [..]'``) lists.
    """
    expected = module.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    shape = []
    for key, param in expected.items():
        if key not in state_dict:
            continue
        value = state_dict[key]
        found = tuple(value.shape) if hasattr(value, 'shape') else type(value).__name__
        if found != tuple(param.shape):
            shape.append(f'{key}: expected {list(param.shape)}, found '
                         f'{list(found) if isinstance(found, tuple) else found}')
    return dict(missing=missing, unexpected=unexpected, shape=shape)


def check_state_dict_fits(module: nn.Module, state_dict: Mapping, source: str) -> None:
    """Raise ``ValueError`` naming ``source`` if ``state_dict`` does not fit ``module`` exactly."""
    problems = state_dict_mismatches(module, state_dict)
    if not any(problems.values()):
        return
    lines = [f'checkpoint {source} does not fit {type(module).__name__}:']
    for kind, label in (('shape', 'shape mismatch'), ('missing', 'missing keys'),
                        ('unexpected', 'unexpected keys')):
        entries = problems[kind]
        if entries:
            shown = ', '.join(
                entries[:8]) + (f', ... ({len(entries)} in all)' if len(entries) > 8 else '')
            lines.append(f'  {label}: {shown}')
    raise ValueError('\n'.join(lines))
