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

Length checks. A WAV file whose data chunk was cut (a partial download or copy) still decodes:
libsndfile returns the frames that are there. :func:`wav_header_frames` reads the number of frames
the header promises and the number the file holds, and :func:`load_audio` (``expected_seconds``)
compares the frames read with both the header and a clip length: a difference is an
:class:`AudioLengthError` naming the file and the numbers (``on_mismatch='raise'``, the datasets)
or a warning (``'warn'``, inference on a user's own file).
"""
import warnings
from os import PathLike
from pathlib import Path
from typing import NamedTuple, Optional, Tuple, Union

import numpy as np
import soundfile as sf
import soxr

#: Quality setting passed to :func:`soxr.resample` everywhere in mmavs.
SOXR_QUALITY = 'VHQ'
#: Largest difference (s) between a clip's audio duration and the dataset's clip length.
DURATION_TOLERANCE = 0.25


class AudioLoadError(ValueError):
    """A file could not be read as audio (missing, corrupt, empty, or non-finite samples).

    The message always names the file.
    """


class AudioLengthError(AudioLoadError):
    """A file's readable frames differ from its header, or its duration from the clip length."""


class WavFrames(NamedTuple):
    """Frame counts of a WAV file: what the header promises and what the file holds."""
    header: Optional[int]  #: ``data`` chunk size / block size; None when not recorded
    available: int  #: whole frames between the ``data`` chunk start and the end of the file
    sample_rate: int


def wav_header_frames(path: Union[str, PathLike]) -> Optional[WavFrames]:
    """Read the RIFF/WAVE header of ``path`` (no samples are decoded).

    Returns:
        WavFrames | None: None when the file is not a RIFF/WAVE file (FLAC, OGG, ...) or its
        header has no ``fmt `` chunk before ``data``. ``header`` is None for streamed files that
        leave the data size unset (0 or 0xFFFFFFFF).
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, 'rb') as f:
        riff = f.read(12)
        if len(riff) < 12 or riff[:4] != b'RIFF' or riff[8:12] != b'WAVE':
            return None
        block_align = sample_rate = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            chunk_id, chunk_size = chunk[:4], int.from_bytes(chunk[4:], 'little')
            if chunk_id == b'fmt ':
                fmt = f.read(chunk_size)
                if len(fmt) < 14:
                    return None
                sample_rate = int.from_bytes(fmt[4:8], 'little')
                block_align = int.from_bytes(fmt[12:14], 'little')
                f.seek(chunk_size & 1, 1)
            elif chunk_id == b'data':
                if not block_align:
                    return None
                available = max(0, size - f.tell()) // block_align
                header = None if chunk_size in (0, 0xFFFFFFFF) else chunk_size // block_align
                return WavFrames(header, available, sample_rate)
            else:
                f.seek(chunk_size + (chunk_size & 1), 1)


def check_audio_length(path: Union[str, PathLike],
                       num_frames: int,
                       sample_rate: int,
                       expected_seconds: Optional[float] = None,
                       tolerance: float = DURATION_TOLERANCE) -> Optional[str]:
    """What is wrong with the length of an audio file, or None.

    Args:
        path: The file (its WAV header is read when it has one).
        num_frames (int): Frames decoded from it.
        sample_rate (int): Its sample rate (Hz).
        expected_seconds (float, optional): The clip length it must have (within ``tolerance``).
        tolerance (float): Allowed ``|duration - expected_seconds|`` in s.

    Returns:
        str | None: A message naming the file and both numbers.
    """
    wav = wav_header_frames(path)
    if wav is not None and wav.header is not None and wav.header != num_frames:
        return (f'{path}: {num_frames} frames readable ({num_frames / sample_rate:.3f} s), its '
                f'header declares {wav.header} ({wav.header / sample_rate:.3f} s): the file is '
                'truncated or its header is wrong')
    duration = num_frames / sample_rate
    if expected_seconds is not None and abs(duration - expected_seconds) > tolerance:
        return (f'{path}: audio lasts {duration:.3f} s ({num_frames} frames at {sample_rate} '
                f'Hz), expected a clip of {expected_seconds:g} s (+- {tolerance:g} s)')
    return None


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
               target_sr: Optional[int] = 16000,
               expected_seconds: Optional[float] = None,
               tolerance: float = DURATION_TOLERANCE,
               on_mismatch: str = 'raise') -> Tuple[np.ndarray, int]:
    """Load an audio file as a mono float32 waveform, resampled to ``target_sr``.

    Steps: read all channels as float32 (integer formats scaled to [-1, 1)), mean over channels,
    resample with soxr (``'VHQ'``) when the file's rate differs from ``target_sr``, clip to
    [-1, 1] (float files may store larger values, and resampling can overshoot a full-scale
    signal by a fraction of a percent).

    Args:
        path (str | PathLike): Audio file (anything libsndfile reads: wav, flac, ogg, ...).
        target_sr (int | None): Output rate in Hz; ``None`` keeps the file's own rate.
            Default 16000, the VGGish rate.
        expected_seconds (float, optional): Clip length the file must have (see
            :func:`check_audio_length`); the header check applies in any case.
        tolerance (float): Allowed duration difference (s). Default
            :data:`DURATION_TOLERANCE`.
        on_mismatch (str): ``'raise'`` an :class:`AudioLengthError` (default) or ``'warn'``.

    Returns:
        tuple[np.ndarray, int]: the waveform, float32 ``[T]`` in [-1, 1], and its sample rate
        in Hz (``target_sr`` unless it was ``None``).

    Raises:
        AudioLoadError: the file is missing, not decodable, has no samples, or holds NaN/Inf
            samples. The message names the file.
        AudioLengthError: (``on_mismatch='raise'``) the length check failed.
    """
    if on_mismatch not in ('raise', 'warn'):
        raise ValueError(f"on_mismatch must be 'raise' or 'warn', found {on_mismatch!r}")
    path = Path(path)
    samples, file_sr = _read_samples(path)
    if samples.shape[0] == 0:
        raise AudioLoadError(f'audio file has no samples (zero length): {path}')
    problem = check_audio_length(path, samples.shape[0], file_sr, expected_seconds, tolerance)
    if problem is not None:
        if on_mismatch == 'raise':
            raise AudioLengthError(problem)
        warnings.warn(problem, stacklevel=2)
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
