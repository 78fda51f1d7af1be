# Copyright (c) mmavs contributors. All rights reserved.
"""Log-mel cache files, in AVSBench's on-disk format.

AVSBench ships ``audio_log_mel/<...>/<name>.pkl``: a plain :mod:`pickle` of the float32 torch
tensor ``[5, 1, 96, 64]`` that torchvggish's ``waveform_to_examples`` returned (it may carry
``requires_grad=True``; AVSBench's loader calls ``.detach()``). mmavs writes the same format (a
pickle, protocol 4, that loads as a contiguous float32 CPU tensor ``[N, 1, 96, 64]``), so caches
are interchangeable both ways; its bytes depend only on the values
(:func:`mmavs.audio.writing.tensor_pickle_bytes`, for a given torch version). Files written by
``torch.save`` (zip archives) are read too.

Writes are atomic (:func:`mmavs.audio.writing.atomic_write_bytes`): the pickle goes to a
temporary file in the target folder, is flushed to disk, then renamed over the target with
:func:`os.replace`; an interrupted writer leaves either the old file or the new one, never a
truncated one.

Pickles can run code when loaded, so caches are read by a restricted unpickler that rebuilds
tensors and numpy arrays only (:func:`mmavs.utils.checkpoint.load_pickle_file`; the opt-in
``MMAVS_UNSAFE_LOAD=1`` lifts it for a trusted file).
"""
from os import PathLike
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch

from ..utils.checkpoint import CheckpointLoadError, load_checkpoint_file, load_pickle_file
from .log_mel import EXAMPLE_FRAMES, NUM_MEL_BINS, fit_num_examples
from .writing import PICKLE_PROTOCOL, atomic_write_bytes, tensor_pickle_bytes

__all__ = ['PICKLE_PROTOCOL', 'load_log_mel_cache', 'save_log_mel_cache']


def _to_examples(obj, path: Path) -> torch.Tensor:
    """Validate a loaded object and return float32 ``[N, 96, 64]``."""
    if isinstance(obj, np.ndarray):
        obj = torch.from_numpy(np.ascontiguousarray(obj))
    if not isinstance(obj, torch.Tensor):
        raise ValueError(f'expected a tensor [N, 1, 96, 64] in log-mel cache, found '
                         f'{type(obj).__name__} in {path}')
    shape = tuple(obj.shape)
    frame_shape = (EXAMPLE_FRAMES, NUM_MEL_BINS)
    if len(shape) == 4 and shape[1] == 1 and shape[2:] == frame_shape:
        obj = obj[:, 0]
    elif not (len(shape) == 3 and shape[1:] == frame_shape):
        raise ValueError(f'expected a log-mel tensor [N, 1, 96, 64] or [N, 96, 64], found shape '
                         f'{list(shape)} in {path}')
    if obj.shape[0] == 0:
        raise ValueError(f'expected at least one log-mel example, found 0 in {path}')
    examples = obj.detach().to(device='cpu', dtype=torch.float32).contiguous()
    if not torch.isfinite(examples).all():
        raise ValueError(f'log-mel cache holds non-finite (NaN/Inf) values: {path}')
    return examples


def _is_zip_archive(path: Path) -> bool:
    """Whether ``path`` starts as a zip archive (``torch.save``'s format) rather than a pickle."""
    with open(path, 'rb') as file:
        return file.read(4) == b'PK\x03\x04'


def load_log_mel_cache(path: Union[str, PathLike],
                       num_examples: Optional[int] = None) -> torch.Tensor:
    """Read a log-mel cache written by AVSBench or by :func:`save_log_mel_cache`.

    Args:
        path (str | PathLike): ``.pkl`` file (a pickled tensor ``[N, 1, 96, 64]`` or
            ``[N, 96, 64]``, torch or numpy), or a ``torch.save`` file holding one.
        num_examples (int | None): If given, cut/pad to this many examples
            (:func:`fit_num_examples`).

    Returns:
        torch.Tensor: float32 CPU ``[N, 96, 64]`` log-mel examples, detached.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file cannot be unpickled or holds something else than log-mel examples.
            Messages name the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'log-mel cache not found: {path}')
    try:  # weights-only: tensors and arrays are rebuilt, nothing else (mmavs.utils.checkpoint)
        if _is_zip_archive(path):  # torch.save; a pickle may embed an archive at its end
            obj = load_checkpoint_file(str(path))
        else:
            obj = load_pickle_file(str(path))
    except CheckpointLoadError as err:
        raise ValueError(f'cannot read log-mel cache {path}: {err}') from err
    examples = _to_examples(obj, path)
    if num_examples is not None:
        examples = fit_num_examples(examples, num_examples)
    return examples


def save_log_mel_cache(path: Union[str, PathLike], examples: Union[torch.Tensor,
                                                                   np.ndarray]) -> Path:
    """Atomically write log-mel examples in AVSBench's format (pickled float32 ``[N, 1, 96, 64]``).

    Args:
        path (str | PathLike): Target file; missing parent folders are created.
        examples (torch.Tensor | np.ndarray): ``[N, 96, 64]`` or ``[N, 1, 96, 64]``, N >= 1.

    Returns:
        Path: ``path``.
    """
    path = Path(path)
    tensor = _to_examples(examples, path).unsqueeze(1)
    return atomic_write_bytes(path, tensor_pickle_bytes(tensor))
