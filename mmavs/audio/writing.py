# Copyright (c) mmavs contributors. All rights reserved.
"""Byte-reproducible audio files: 16-bit PCM wavs and pickled log-mel tensors.

Exported benchmark audio must be the same bytes on every machine for the same manifest, so both
formats are written here without anything that varies between runs:

* **wav**: a canonical 44-byte RIFF header (``fmt `` chunk: PCM, mono, 16 bit; ``data`` chunk)
  and little-endian int16 samples, ``q = clip(round(x * 32768), -32768, 32767)``. Reading it
  with :func:`mmavs.audio.load_audio` (libsndfile scales int16 by ``1 / 32768``) gives back
  ``q / 32768`` exactly, so a waveform that is already 16-bit (a 16 kHz AVSBench wav) round-trips
  without loss, and any other one moves by at most half a step (``2 ** -16``, -96 dB FS).
* **log-mel pickle**: AVSBench reads its ``.pkl`` with :func:`pickle.load` and calls
  ``.detach()``, so the file must unpickle into a torch tensor. ``pickle.dump`` of a tensor is not
  reproducible: torch records the storage in its legacy format, keyed by its memory address. Here
  the tensor is pickled as torch pickles it (``torch._utils._rebuild_tensor_v2`` of a storage
  rebuilt by ``torch.storage._load_from_bytes``), with the storage in ``torch.save``'s archive
  format, whose bytes depend only on the values (for a given torch version). Every torch >= 1.6
  loads it with plain :func:`pickle.load`, and it references only what a weights-only loader of
  tensors allows.

Files are written atomically (temporary file in the target folder, flushed, renamed over the
target), so an interrupted writer never leaves a truncated file under the target name.
"""
import io
import os
import pickle
import struct
import tempfile
import warnings
from collections import OrderedDict
from os import PathLike
from pathlib import Path
from typing import Union

import numpy as np
import torch

from ..utils.constants import SAMPLE_RATE

#: Pickle protocol of the log-mel files (Python >= 3.4 reads it).
PICKLE_PROTOCOL = 4
#: Scale between float samples in [-1, 1) and int16 (libsndfile's convention).
PCM16_SCALE = 32768


def quantize_pcm16(waveform: np.ndarray) -> np.ndarray:
    """Float samples ``[T]`` in [-1, 1] -> int16 ``[T]``, ``clip(round(x * 32768))``.

    Raises:
        ValueError: the waveform is not 1-D or holds NaN/Inf.
    """
    wave = np.asarray(waveform, dtype=np.float64)
    if wave.ndim != 1:
        raise ValueError(f'expected a mono waveform [T], found shape {wave.shape}')
    if not np.isfinite(wave).all():
        raise ValueError('expected a finite waveform, found NaN or Inf samples')
    return np.clip(np.rint(wave * PCM16_SCALE), -PCM16_SCALE, PCM16_SCALE - 1).astype(np.int16)


def pcm16_wav_bytes(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """The bytes of a mono 16-bit PCM wav of ``waveform`` (float ``[T]`` in [-1, 1]).

    Returns:
        bytes: a 44-byte canonical RIFF/WAVE header followed by ``2 T`` bytes of samples.
    """
    samples = quantize_pcm16(waveform).astype('<i2').tobytes()
    rate = int(sample_rate)
    header = b''.join([
        b'RIFF',
        struct.pack('<I', 36 + len(samples)), b'WAVE', b'fmt ',
        struct.pack('<IHHIIHH', 16, 1, 1, rate, rate * 2, 2, 16), b'data',
        struct.pack('<I', len(samples))
    ])
    return header + samples


class _Storage:
    """Pickles as ``torch.storage._load_from_bytes(<torch.save archive of the storage>)``."""

    def __init__(self, tensor: torch.Tensor) -> None:
        buffer = io.BytesIO()
        with warnings.catch_warnings():  # TypedStorage: what every torch version can rebuild
            warnings.simplefilter('ignore', UserWarning)
            torch.save(tensor.storage(), buffer)
        self.data = buffer.getvalue()

    def __reduce__(self):
        return torch.storage._load_from_bytes, (self.data, )


class _Tensor:
    """Pickles as ``torch._utils._rebuild_tensor_v2`` of a :class:`_Storage`, as torch's own."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor

    def __reduce__(self):
        t = self.tensor
        return torch._utils._rebuild_tensor_v2, (_Storage(t), 0, tuple(t.shape), tuple(t.stride()),
                                                 False, OrderedDict())


def tensor_pickle_bytes(tensor: Union[torch.Tensor, np.ndarray]) -> bytes:
    """Reproducible pickle bytes that load as the float32 CPU tensor ``tensor`` (any shape).

    Same values and shape -> the same bytes (see the module docstring for the format).
    """
    if isinstance(tensor, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(tensor))
    tensor = tensor.detach().to(device='cpu', dtype=torch.float32).contiguous().clone()
    return pickle.dumps(_Tensor(tensor), protocol=PICKLE_PROTOCOL)


def atomic_write_bytes(path: Union[str, PathLike], data: bytes, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, rename); mode 0644.

    Args:
        path (str | PathLike): Target file; missing parent folders are created.
        data (bytes): The content.
        fsync (bool): Flush the file to disk before the rename, so that even a crash of the
            machine leaves the old file or the new one. Default True.

    Returns:
        Path: ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        with os.fdopen(fd, 'wb') as file:
            file.write(data)
            file.flush()
            if fsync:
                os.fsync(file.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; data files are shared
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return path


def write_pcm16_wav(path: Union[str, PathLike],
                    waveform: np.ndarray,
                    sample_rate: int = SAMPLE_RATE) -> Path:
    """Atomically write a mono 16-bit PCM wav (:func:`pcm16_wav_bytes`); returns ``path``."""
    return atomic_write_bytes(path, pcm16_wav_bytes(waveform, sample_rate))
