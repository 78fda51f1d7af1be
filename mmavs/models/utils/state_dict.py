# Copyright (c) mmavs contributors. All rights reserved.
"""Strict, explained loading of published weights.

MMEngine's ``Pretrained`` initialiser loads with ``strict=False`` and only *logs* missing,
unexpected or mis-shaped keys, so a wrong file silently leaves a randomly initialised module.
Frozen backbones (VGGish in every AVS baseline) never recover from that, so the backbones that
load published weights check the file against their own state dict first and raise an error that
names the file and lists what does not fit. ``tools/misc/check_checkpoints.py`` runs the same
checks.
"""
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.runner.checkpoint import CheckpointLoader
from torch import nn

# checkpoints written by training loops or DDP wrap the weights or prefix their keys
WRAPPER_KEYS = ('state_dict', 'model')
DDP_PREFIX = 'module.'
# how many keys of each kind an error message lists
_SHOWN = 8
# a module (its own state dict) or the expected key -> shape layout
Expected = Union[nn.Module, Mapping[str, Sequence[int]]]


def unwrap_state_dict(loaded,
                      source: str,
                      prefix: Optional[str] = None) -> 'OrderedDict[str, torch.Tensor]':
    """The weights of a loaded checkpoint object.

    Accepts a plain state dict (as published) or a training checkpoint whose weights sit under
    ``'state_dict'`` / ``'model'``; a DDP ``'module.'`` key prefix is removed, then only keys
    starting with ``prefix`` are kept, stripped of it (e.g. ``'backbone.'`` to take a backbone out
    of a whole-model checkpoint).

    Raises:
        ValueError: ``loaded`` is not a mapping (the message names ``source``).
    """
    if not isinstance(loaded, Mapping):
        raise ValueError(f'expected a state dict (a mapping of tensors) in {source}, found '
                         f'{type(loaded).__name__}')
    for key in WRAPPER_KEYS:
        if isinstance(loaded.get(key), Mapping):
            loaded = loaded[key]
            break
    state_dict = OrderedDict()
    for key, value in loaded.items():
        if key.startswith(DDP_PREFIX):
            key = key[len(DDP_PREFIX):]
        if prefix:
            if not key.startswith(prefix):
                continue
            key = key[len(prefix):]
        state_dict[key] = value
    return state_dict


def read_state_dict(checkpoint: str,
                    prefix: Optional[str] = None,
                    map_location: str = 'cpu') -> 'OrderedDict[str, torch.Tensor]':
    """Read a state dict with MMEngine's checkpoint loader and :func:`unwrap_state_dict` it.

    Local files go through mmavs's weights-only loader (``mmavs.utils.checkpoint``).

    Args:
        checkpoint (str): Local path or any URI MMEngine's ``CheckpointLoader`` understands.
        prefix (str | None): Keep only keys starting with ``prefix`` (stripped).
        map_location (str): Device to map tensors to. Default ``'cpu'``.
    """
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location=map_location)
    return unwrap_state_dict(loaded, checkpoint, prefix=prefix)


def _shape_of(value) -> Union[Tuple[int, ...], str]:
    return tuple(value.shape) if hasattr(value, 'shape') else type(value).__name__


def _shape_text(shape: Union[Sequence[int], str]) -> str:
    return shape if isinstance(shape, str) else str(list(shape))


def state_dict_mismatches(
    expected: Expected, state_dict: Mapping,
    ignored_prefixes: Tuple[str, ...] = ()) -> Dict[str, List[str]]:
    """What keeps ``state_dict`` from loading strictly into ``expected``.

    Args:
        expected (nn.Module | Mapping[str, Sequence[int]]): A module (its own state dict) or the
            expected key -> shape layout.
        state_dict (Mapping): The weights read from a file.
        ignored_prefixes (tuple[str]): Keys of the file starting with one of these (e.g. an
            ImageNet classifier's ``'head.'``) are not reported as unexpected.

    Returns:
        dict: ``missing`` (keys expected and absent from the file), ``unexpected`` (keys of the
        file not expected) and ``shape`` (``'key: expected [..], found [..]'``) lists.
    """
    if isinstance(expected, nn.Module):
        expected = OrderedDict((k, tuple(v.shape)) for k, v in expected.state_dict().items())
    missing = [key for key in expected if key not in state_dict]
    unexpected = [
        key for key in state_dict if key not in expected and not key.startswith(ignored_prefixes)
    ]
    shape = [
        f'{key}: expected {_shape_text(expected[key])}, found '
        f'{_shape_text(_shape_of(state_dict[key]))}' for key in expected
        if key in state_dict and _shape_of(state_dict[key]) != tuple(expected[key])
    ]
    return dict(missing=missing, unexpected=unexpected, shape=shape)


def check_state_dict_fits(
    expected: Expected,
    state_dict: Mapping,
    source: str,
    target: Optional[str] = None,
    ignored_prefixes: Tuple[str, ...] = ()) -> None:
    """Raise ``ValueError`` naming ``source`` if ``state_dict`` does not fit ``expected`` exactly.

    Args:
        expected, state_dict, ignored_prefixes: As :func:`state_dict_mismatches`.
        source (str): The file, named in the message.
        target (str | None): What it should fit, named in the message; default the module's
            class name.
    """
    problems = state_dict_mismatches(expected, state_dict, ignored_prefixes)
    if not any(problems.values()):
        return
    if target is None:
        target = type(expected).__name__
    lines = [f'checkpoint {source} does not fit {target}:']
    for kind, label in (('missing', 'missing keys'), ('unexpected', 'unexpected keys'),
                        ('shape', 'shape mismatch')):
        entries = problems[kind]
        if entries:
            more = f', ... ({len(entries)} in all)' if len(entries) > _SHOWN else ''
            lines.append(f'  {label}: ' + ', '.join(entries[:_SHOWN]) + more)
    raise ValueError('\n'.join(lines))
