# Copyright (c) mmavs contributors. All rights reserved.
"""Reading audio files into mono float32 waveforms, and resampling.

Reading is done with ``soundfile`` (libsndfile: WAV 8/16/24/32-bit integer and 32/64-bit float,
FLAC, OGG/Vorbis, ... whatever the installed libsndfile reads). Integer samples are scaled to
[-1, 1) by libsndfile (``int16 / 32768`` for 16-bit, which is what the VGGish reference does).
Channels are averaged (the VGGish reference mixes to mono the same way, before resampling).

Resampling uses ``soxr`` (libsoxr, the SoX resampler) at quality ``'VHQ'`` (very high quality:
steep linear-phase low-pass, ~175 dB stop-band rejection, pass-band up to ~95% of the lower
Nyquist). The VGGish reference uses ``resampy``; the two resamplers differ by a few 1e-4 near the
band edge, so non-16 kHz input matches the reference closely but not bit for bit. 16 kHz input is
never resampled.
"""
from os import PathLike
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np
import soundfile as sf
import soxr

#: Quality setting passed to :func:`soxr.resample` everywhere in mmavs.
SOXR_QUALITY = 'VHQ'


class AudioLoadError(ValueError):
    """A file could not be read as audio (missing, corrupt, empty, or non-finite samples).

    The message always names the file.
    """


def resample_waveform(waveform: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample with soxr at quality :data:`SOXR_QUALITY`.

    Args:
        waveform (np.ndarray): float32/float64 samples, ``[T]`` or ``[T, C]`` (channels last).
        orig_sr (int): Sample rate of ``waveform`` in Hz.
        target_sr (int): Wanted sample rate in Hz.

    Returns:
        np.ndarray: ``[T']`` or ``[T', C]`` with ``T' ~= T * target_sr / orig_sr``, same dtype
        (float32 or float64). Returned unchanged when the rates are equal.
    """
    if orig_sr <= 0 or target_sr <= 0:
        raise ValueError(f'sample rates must be positive, got {orig_sr} -> {target_sr}')
    if orig_sr == target_sr:
        return waveform
    if waveform.dtype not in (np.float32, np.float64):
        waveform = waveform.astype(np.float32)
    return soxr.resample(waveform, orig_sr, target_sr, quality=SOXR_QUALITY)


def _read_samples(path: Path) -> Tuple[np.ndarray, int]:
    """Read every frame of ``path`` as float32 ``[T, C]``; raise :class:`AudioLoadError`."""
    if not path.exists():
        raise AudioLoadError(f'audio file not found: {path}')
    if not path.is_file():
        raise AudioLoadError(f'expected an audio file, found a directory or special file: {path}')
    if path.stat().st_size == 0:
        raise AudioLoadError(f'audio file is empty (0 bytes): {path}')
    try:
        samples, sample_rate = sf.read(str(path), dtype='float32', always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise AudioLoadError(f'cannot decode audio file {path}: {err}') from err
    return samples, int(sample_rate)


def load_audio(path: Union[str, PathLike],
               target_sr: Optional[int] = 16000) -> Tuple[np.ndarray, int]:
    """Load an audio file as a mono float32 waveform, resampled to ``target_sr``.

    Steps: read all channels as float32 (integer formats scaled to [-1, 1)), mean over channels,
    resample with soxr (``'VHQ'``) when the file's rate differs from ``target_sr``, clip to
    [-1, 1] (float files may store larger values, and resampling can overshoot a full-scale
    signal by a fraction of a percent).

    Args:
        path (str | PathLike): Audio file (anything libsndfile reads: wav, flac, ogg, ...).
        target_sr (int | None): Output rate in Hz; ``None`` keeps the file's own rate.
            Default 16000, the VGGish rate.

    Returns:
        tuple[np.ndarray, int]: the waveform, float32 ``[T]`` in [-1, 1], and its sample rate
        in Hz (``target_sr`` unless it was ``None``).

    Raises:
        AudioLoadError: the file is missing, not decodable, has no samples, or holds NaN/Inf
            samples. The message names the file.
    """
    path = Path(path)
    samples, file_sr = _read_samples(path)
    if samples.shape[0] == 0:
        raise AudioLoadError(f'audio file has no samples (zero length): {path}')
    if not np.isfinite(samples).all():
        bad = int((~np.isfinite(samples)).sum())
        raise AudioLoadError(f'audio file holds {bad} non-finite (NaN/Inf) samples: {path}')
    mono = samples.mean(axis=1, dtype=np.float32) if samples.shape[1] > 1 else samples[:, 0]
    sample_rate = file_sr
    if target_sr is not None and target_sr != file_sr:
        mono = resample_waveform(mono, file_sr, int(target_sr))
        sample_rate = int(target_sr)
    mono = np.ascontiguousarray(np.clip(mono, -1.0, 1.0), dtype=np.float32)
    if mono.shape[0] == 0:
        raise AudioLoadError(
            f'audio file is too short to resample from {file_sr} Hz to {target_sr} Hz '
            f'({samples.shape[0]} samples): {path}')
    return mono, sample_rate
