# Copyright (c) mmavs contributors. All rights reserved.
"""Negative audio of AVSBench-Robust, as pure functions (no registry, no mmseg import).

A *negative* pairs a video frame with audio that no visible object makes; its mask is empty and
``is_sounding = 0``. Conditions (``docs/robust.md``):

* ``silence``: 5 s of digital zeros at 16 kHz (``[80000]`` float32).
* ``noise``: seeded white, pink or brown noise, 5 s at 16 kHz, RMS level ``dbfs`` dB FS
  (0 dB FS = RMS 1.0, the RMS of a full-scale square wave), clipped to [-1, 1].
* ``offscreen``: the audio of another video of the same split whose coarse group differs from the
  target's, under the AVSBench-Robust exclusions (:func:`allowed_donor_groups`).
* ``unseen``: one real recording of a class outside AVSBench (``../shared/data/unseen_audio``),
  loaded with :func:`mmavs.audio.load_audio` (mono, 16 kHz) and cut / tiled to 5 s.

Every random choice here is a function of explicit key parts hashed with SHA-256
(:func:`stable_hash`), and noise samples come from the PCG64 *bit generator* stream (stable across
NumPy versions by NEP 19, unlike ``Generator`` methods), converted to uniform / Gaussian numbers by
this module. Hence manifests and training streams are identical on every machine, in every
process and dataloader worker, whatever order the samples are drawn in.

Nothing here featurises: negatives are waveforms, and become model inputs through
``LoadAVSAudio`` -> :func:`mmavs.audio.waveform_to_examples`, exactly like positive audio.
"""
import hashlib
import os
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..audio import load_audio
from .categories import CATEGORY_GROUPS, COARSE_GROUPS

#: The negative conditions, in report order.
NEGATIVE_CONDITIONS = ('silence', 'noise', 'offscreen', 'unseen')
#: Every condition of AVSBench-Robust; ``'positive'`` is the true audio.
CONDITIONS = ('positive', ) + NEGATIVE_CONDITIONS
#: Noise colours: spectral power density proportional to ``1 / f ** exponent``.
NOISE_EXPONENTS: Dict[str, float] = {'white': 0.0, 'pink': 1.0, 'brown': 2.0}
NOISE_TYPES = tuple(NOISE_EXPONENTS)
#: Default noise level in dB FS (RMS); a Gaussian white noise at -20 dB FS peaks near 0.5.
DEFAULT_NOISE_DBFS = -20.0
#: Sample rate (Hz) and length (s, samples) of every generated negative clip.
SAMPLE_RATE = 16000
CLIP_SECONDS = 5
CLIP_SAMPLES = SAMPLE_RATE * CLIP_SECONDS
#: Default folder of the unseen recordings, relative to the repository root (or the cwd).
DEFAULT_UNSEEN_DIR = osp.join('..', 'shared', 'data', 'unseen_audio')
#: File extensions accepted as unseen recordings (what libsndfile reads).
UNSEEN_EXTENSIONS = ('.wav', '.flac', '.ogg')

#: Exclusions of AVSBench-Robust on top of "the donor's group differs": target group -> donor
#: groups that may not donate to it (music and human never swap; animal never takes human).
EXCLUDED_DONOR_GROUPS: Dict[str, Tuple[str, ...]] = {
    'music': ('human', ),
    'human': ('music', ),
    'animal': ('human', ),
    'device': (),
}


# --------------------------------------------------------------------------------------------
# Deterministic randomness
# --------------------------------------------------------------------------------------------
def stable_hash(*parts) -> int:
    """A 64-bit integer from the SHA-256 of ``parts`` (their ``str``, joined by ``\\x1f``).

    The same parts give the same number on every machine and Python process (unlike ``hash``).
    """
    text = '\x1f'.join(str(part) for part in parts)
    return int.from_bytes(hashlib.sha256(text.encode('utf-8')).digest()[:8], 'little')


def draw_index(num: int, *parts) -> int:
    """A deterministic index in ``[0, num)`` keyed by ``parts`` (modulo bias < 2**-50)."""
    if num <= 0:
        raise ValueError(f'cannot draw an index from an empty range (num={num})')
    return stable_hash(*parts) % num


def derive_seed(*parts) -> int:
    """A 31-bit seed keyed by ``parts``, e.g. ``derive_seed(42, 'noise', 'test', video_id)``."""
    return stable_hash(*parts) % (2**31)


def _uniform(seed: int, num: int) -> np.ndarray:
    """``num`` float64 numbers uniform in (0, 1), from the PCG64 bit stream of ``seed``."""
    raw = np.random.PCG64(int(seed)).random_raw(num)
    # Top 53 bits -> [0, 1); the half-step offset keeps 0 out so logs stay finite.
    return ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 2**53)


def standard_normal(seed: int, num: int) -> np.ndarray:
    """``num`` float64 N(0, 1) numbers from ``seed`` (Box-Muller on :func:`_uniform`).

    Args:
        seed (int): Non-negative seed.
        num (int): How many numbers.

    Returns:
        np.ndarray: float64 ``[num]``.
    """
    half = (num + 1) // 2
    uniform = _uniform(seed, 2 * half)
    radius = np.sqrt(-2.0 * np.log(uniform[:half]))
    angle = 2.0 * np.pi * uniform[half:]
    return np.concatenate([radius * np.cos(angle), radius * np.sin(angle)])[:num]


# --------------------------------------------------------------------------------------------
# Waveforms
# --------------------------------------------------------------------------------------------
def make_silence(num_samples: int = CLIP_SAMPLES) -> np.ndarray:
    """Digital silence: float32 zeros ``[num_samples]`` (default 5 s at 16 kHz)."""
    return np.zeros(int(num_samples), dtype=np.float32)


def dbfs_to_rms(dbfs: float) -> float:
    """RMS amplitude of a level in dB FS (0 dB FS = RMS 1.0): ``10 ** (dbfs / 20)``."""
    return float(10.0**(float(dbfs) / 20.0))


def rms_dbfs(waveform: np.ndarray) -> float:
    """Level of a waveform in dB FS RMS (``-inf`` for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float('-inf')


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


def repo_root() -> str:
    """The folder above the ``mmavs`` package (the repository root for a source checkout)."""
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def resolve_unseen_dir(directory: Optional[str] = None) -> str:
    """Resolve the unseen-audio folder.

    An absolute path is returned as is. A relative one (default :data:`DEFAULT_UNSEEN_DIR`) is
    taken relative to the current directory when it exists there, else relative to
    :func:`repo_root`.
    """
    directory = DEFAULT_UNSEEN_DIR if directory is None else str(directory)
    if osp.isabs(directory) or osp.isdir(directory):
        return osp.abspath(directory)
    return osp.normpath(osp.join(repo_root(), directory))


# --------------------------------------------------------------------------------------------
# Off-screen donors
# --------------------------------------------------------------------------------------------
def allowed_donor_groups(target_group: str) -> Tuple[str, ...]:
    """Coarse groups that may donate off-screen audio to a video of ``target_group``.

    Rule of AVSBench-Robust: the donor's group differs from the target's; music and human never
    donate to each other; animal never takes a human donor.

    ============  ========================
    target        allowed donor groups
    ============  ========================
    music         animal, device
    human         animal, device
    animal        music, device
    device        music, human, animal
    ============  ========================
    """
    if target_group not in EXCLUDED_DONOR_GROUPS:
        raise ValueError(
            f"unknown coarse group: expected one of {COARSE_GROUPS}, found '{target_group}'")
    excluded = set(EXCLUDED_DONOR_GROUPS[target_group]) | {target_group}
    return tuple(group for group in COARSE_GROUPS if group not in excluded)


def is_valid_donor(target_category: Optional[str],
                   donor_category: Optional[str],
                   category_groups: Mapping[str, str] = CATEGORY_GROUPS) -> bool:
    """Whether a donor of ``donor_category`` follows the group rule for ``target_category``.

    Only meaningful when both categories have a coarse group; see :func:`allowed_donor_groups`.
    """
    target_group = category_groups.get(target_category)
    donor_group = category_groups.get(donor_category)
    if target_group is None or donor_group is None:
        return False
    return donor_group in allowed_donor_groups(target_group)


#: How a donor was chosen: by the group rule, by the "any other class" fallback, or, for videos
#: without a category (MS3), among every other video of the split.
DONOR_RULES = ('group', 'other_class', 'other_video')


class DonorPool:
    """Off-screen donor candidates of one split, with the AVSBench-Robust rules precomputed.

    Args:
        video_ids (Sequence[str]): The split's videos (each once).
        categories (Sequence[str | None]): Their categories (``'multi'``/None for MS3).
        category_groups (Mapping[str, str]): Category -> coarse group. Default: AVSBench S4 and
            SynthAVS (:data:`mmavs.datasets.categories.CATEGORY_GROUPS`).

    A target whose category has a group draws uniformly among the videos of the allowed groups
    (rule ``'group'``); when there is none, among the videos of any other category
    (``'other_class'``); a target without a group (MS3's ``'multi'``, an unknown category) draws
    among the videos of any other category (``'other_class'``) or, when every video shares its
    category (MS3: all ``'multi'``), among every other video of the split (``'other_video'``).
    """

    def __init__(self,
                 video_ids: Sequence[str],
                 categories: Sequence[Optional[str]],
                 category_groups: Mapping[str, str] = CATEGORY_GROUPS) -> None:
        if len(video_ids) != len(categories):
            raise ValueError(f'{len(video_ids)} video ids but {len(categories)} categories')
        if len(set(video_ids)) != len(video_ids):
            raise ValueError('video ids of a donor pool must be unique')
        self.video_ids = list(video_ids)
        self.categories = list(categories)
        self.category_groups = dict(category_groups)
        self.index = {video_id: i for i, video_id in enumerate(self.video_ids)}
        self._cache: Dict[Optional[str], Tuple[np.ndarray, str]] = {}

    def __len__(self) -> int:
        return len(self.video_ids)

    def candidates(self, target: int) -> Tuple[np.ndarray, str]:
        """Eligible donor indices of target video index ``target`` and the rule that chose them.

        Returns:
            tuple[np.ndarray, str]: sorted int64 indices (never ``target``) and one of
            :data:`DONOR_RULES`.

        Raises:
            ValueError: the split has no other video.
        """
        category = self.categories[target]
        if category not in self._cache:
            self._cache[category] = self._candidates_for_category(category)
        indices, rule = self._cache[category]
        if rule == 'other_video':
            indices = indices[indices != target]
        if indices.size == 0:
            raise ValueError(f"no off-screen donor for video '{self.video_ids[target]}': "
                             f'the split has no other video')
        return indices, rule

    def _candidates_for_category(self, category: Optional[str]) -> Tuple[np.ndarray, str]:
        groups = [self.category_groups.get(c) for c in self.categories]
        everyone = np.arange(len(self.video_ids), dtype=np.int64)
        target_group = self.category_groups.get(category)
        if target_group is not None:
            allowed = set(allowed_donor_groups(target_group))
            by_group = everyone[[group in allowed for group in groups]]
            if by_group.size:
                return by_group, 'group'
        if category is not None:
            others = everyone[[c != category for c in self.categories]]
            if others.size:
                return others, 'other_class'
        return everyone, 'other_video'

    def draw(self, target: int, *key) -> Tuple[int, str]:
        """Draw one donor for ``target`` deterministically from ``key`` (e.g. seed, epoch, slot).

        Returns:
            tuple[int, str]: the donor's index in this pool and its rule (:data:`DONOR_RULES`).
        """
        indices, rule = self.candidates(target)
        return int(indices[draw_index(len(indices), 'offscreen', *key)]), rule
