# Copyright (c) mmavs contributors. All rights reserved.
"""The negative waveforms of AVSBench-Robust (``docs/robust.md``), as pure functions.

* ``silence``: 5 s of digital zeros at 16 kHz (``[80000]`` float32).
* ``noise``: seeded white, pink or brown noise, 5 s at 16 kHz, RMS level ``dbfs`` dB FS
  (0 dB FS = RMS 1.0), clipped to [-1, 1].
* ``unseen``: one real recording of a class outside AVSBench (shipped in
  :data:`DEFAULT_UNSEEN_DIR`), loaded with :func:`mmavs.audio.load_audio` (mono, 16 kHz) and cut /
  tiled to 5 s.

(``offscreen`` audio is another video's own wav: :mod:`.donors` chooses it.) Nothing here
featurises: negatives are waveforms, and become model inputs through ``LoadAVSAudio`` ->
:func:`mmavs.audio.waveform_to_examples`, exactly like positive audio.
"""
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np

from ...audio import load_audio
from ...audio.levels import dbfs_to_rms
from ...utils.constants import CLIP_SAMPLES, SAMPLE_RATE
from .seeding import standard_normal

#: Noise colours: spectral power density proportional to ``1 / f ** exponent``.
NOISE_EXPONENTS: Dict[str, float] = {'white': 0.0, 'pink': 1.0, 'brown': 2.0}
NOISE_TYPES = tuple(NOISE_EXPONENTS)
#: Default noise level in dB FS (RMS); a Gaussian white noise at -20 dB FS peaks near 0.5.
DEFAULT_NOISE_DBFS = -20.0
#: The unseen recordings shipped with mmavs (``mmavs/resources/unseen_audio``, see its README).
DEFAULT_UNSEEN_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'resources', 'unseen_audio')
#: File extensions accepted as unseen recordings (what libsndfile reads).
UNSEEN_EXTENSIONS = ('.wav', '.flac', '.ogg')


def make_silence(num_samples: int = CLIP_SAMPLES) -> np.ndarray:
    """Digital silence: float32 zeros ``[num_samples]`` (default 5 s at 16 kHz)."""
    return np.zeros(int(num_samples), dtype=np.float32)


def make_noise(noise_type: str,
               seed: int,
               dbfs: float = DEFAULT_NOISE_DBFS,
               num_samples: int = CLIP_SAMPLES,
               sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Seeded coloured noise at a stated RMS level.

    Gaussian white noise (:func:`standard_normal`) is shaped in the frequency domain: the
    amplitude of the real FFT bin at frequency ``f`` is multiplied by ``f ** (-exponent / 2)``,
    so the power spectral density goes as ``1 / f ** exponent`` (white 0, pink 1, brown 2); the DC
    bin is zeroed (no offset). The result is scaled to RMS ``10 ** (dbfs / 20)`` and clipped to
    [-1, 1]. Clipping only bites at high levels (above about -12 dB FS for white noise); the gain
    is then solved so that the *clipped* signal has the stated RMS.

    Args:
        noise_type (str): ``'white'``, ``'pink'`` or ``'brown'``.
        seed (int): Non-negative seed; the same seed gives the same samples everywhere.
        dbfs (float): RMS level in dB FS, < 0. Default -20.
        num_samples (int): Length in samples. Default 80000 (5 s at 16 kHz).
        sample_rate (int): Sample rate in Hz, only used to express frequencies. Default 16000.

    Returns:
        np.ndarray: float32 ``[num_samples]`` in [-1, 1].
    """
    if noise_type not in NOISE_EXPONENTS:
        raise ValueError(f"unknown noise type: expected one of {NOISE_TYPES}, found '{noise_type}'")
    if not dbfs < 0:
        raise ValueError(f'noise level must be < 0 dB FS, found {dbfs}')
    if num_samples < 2:
        raise ValueError(f'noise needs at least 2 samples, found {num_samples}')
    white = standard_normal(seed, num_samples)
    exponent = NOISE_EXPONENTS[noise_type]
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(num_samples, d=1.0 / sample_rate)
    gain = np.zeros_like(freqs)
    gain[1:] = freqs[1:]**(-exponent / 2.0)
    shaped = np.fft.irfft(spectrum * gain, n=num_samples)
    return np.clip(shaped * _clipped_gain(shaped, dbfs_to_rms(dbfs)), -1.0, 1.0).astype(np.float32)


def _clipped_gain(signal: np.ndarray, target_rms: float, iterations: int = 60) -> float:
    """Gain ``g`` with ``rms(clip(g * signal, -1, 1)) == target_rms`` (bisection).

    Without clipping this is ``target_rms / rms(signal)``; when that gain would clip, the RMS of
    the clipped signal (monotonic in ``g``) is matched instead, so the stated level holds.
    """

    def clipped_rms(g: float) -> float:
        return float(np.sqrt(np.mean(np.square(np.clip(g * signal, -1.0, 1.0)))))

    low = target_rms / np.sqrt(np.mean(np.square(signal)))
    if np.abs(signal).max() * low <= 1.0:
        return float(low)
    high = 2.0 * low
    while clipped_rms(high) < target_rms:
        high *= 2.0
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if clipped_rms(middle) < target_rms else (low, middle)
    return float(0.5 * (low + high))


def fit_length(waveform: np.ndarray, num_samples: int = CLIP_SAMPLES) -> np.ndarray:
    """Cut a mono waveform to ``num_samples``, or tile it (loop the recording) up to that length.

    Args:
        waveform (np.ndarray): ``[T]`` samples, ``T >= 1``.
        num_samples (int): Wanted length.

    Returns:
        np.ndarray: float32 ``[num_samples]``.
    """
    waveform = np.asarray(waveform, dtype=np.float32).reshape(-1)
    if waveform.shape[0] == 0:
        raise ValueError('cannot fit an empty waveform to a length')
    if waveform.shape[0] < num_samples:
        repeats = -(-num_samples // waveform.shape[0])
        waveform = np.tile(waveform, repeats)
    return np.ascontiguousarray(waveform[:num_samples])


def load_unseen_waveform(path: str, num_samples: int = CLIP_SAMPLES) -> np.ndarray:
    """Load an unseen recording: mono, 16 kHz (:func:`mmavs.audio.load_audio`), cut/tiled to 5 s.

    Args:
        path (str): Audio file (stereo / 24-48 kHz files are mixed down and resampled).
        num_samples (int): Output length at 16 kHz. Default 80000.

    Returns:
        np.ndarray: float32 ``[num_samples]``.

    Raises:
        mmavs.audio.AudioLoadError: the file is missing or unreadable (the message names it).
    """
    waveform, _ = load_audio(path, target_sr=SAMPLE_RATE)
    return fit_length(waveform, num_samples)


def list_unseen_recordings(directory: str) -> List[str]:
    """Sorted file names of the audio recordings (``.wav``/``.flac``/``.ogg``) in ``directory``.

    Raises:
        FileNotFoundError: ``directory`` does not exist or holds no recording.
    """
    if not osp.isdir(directory):
        raise FileNotFoundError(f'unseen-audio folder not found: {directory}')
    names = sorted(
        name for name in os.listdir(directory)
        if name.lower().endswith(UNSEEN_EXTENSIONS) and osp.isfile(osp.join(directory, name)))
    if not names:
        raise FileNotFoundError(
            f'expected audio files ({", ".join(UNSEEN_EXTENSIONS)}) in the unseen-audio folder, '
            f'found none in {directory}')
    return names


def resolve_unseen_dir(directory: Optional[str] = None) -> str:
    """The unseen-audio folder: ``directory`` as an absolute path, or the shipped recordings
    (:data:`DEFAULT_UNSEEN_DIR`) when None."""
    return DEFAULT_UNSEEN_DIR if directory is None else osp.abspath(str(directory))
