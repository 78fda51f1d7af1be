# Copyright (c) mmavs contributors. All rights reserved.
"""The audio of a user's own frames: which log-mel example each frame hears.

Frame ``i`` stands for time ``t_i`` (seconds; by default ``t_i = i``: one frame per second, the
AVSBench convention). It is paired with the log-mel example of second ``floor(t_i)`` (example
``k`` covers ``[0.96 k, 0.96 k + 0.975)`` s), so with the default frame ``i`` hears example ``i``,
as in training. The whole clip is featurised once with :func:`.log_mel.waveform_to_examples`
(the training featurisation); a clip shorter than the frames is padded by that function's rule
(repeat the last example; a clip shorter than one example is zero-padded first). No audio
(``audio=None``) is digital silence, the AVSBench-Robust ``silence`` condition.
"""
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ..utils.constants import FRAMES_PER_CLIP, SAMPLE_RATE
from .loading import load_audio
from .log_mel import num_examples_for, waveform_to_examples

AudioLike = Union[None, str, Path, np.ndarray, torch.Tensor]


def example_indices(frame_times: Sequence[float]) -> np.ndarray:
    """Audio example of each frame: ``floor(t_i)`` (int64 ``[N]``, at least 0)."""
    times = np.asarray(frame_times, dtype=np.float64).reshape(-1)
    if times.size and not np.isfinite(times).all():
        raise ValueError(f'expected finite frame times, found {times}')
    return np.maximum(np.floor(times + 1e-6), 0).astype(np.int64)


def as_waveform(audio: AudioLike, sample_rate: Optional[int],
                num_examples: int) -> Tuple[np.ndarray, int]:
    """``(waveform float32 [T], sample rate)`` of any accepted audio input (None: digital
    silence of ``num_examples`` seconds)."""
    if audio is None:
        return np.zeros(num_examples * SAMPLE_RATE, np.float32), SAMPLE_RATE
    if isinstance(audio, (str, Path)):
        return load_audio(str(audio), target_sr=SAMPLE_RATE)
    if sample_rate is None:
        raise ValueError('a waveform array needs its sample_rate (Hz)')
    wave = audio.detach().cpu().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
    if wave.ndim == 2:  # [T, C] (soundfile layout): mono mix
        wave = wave.mean(axis=1)
    if wave.ndim != 1:
        raise ValueError(f'expected a waveform [T] or [T, C], found shape {wave.shape}')
    if np.issubdtype(wave.dtype, np.integer):
        wave = wave.astype(np.float64) / float(np.iinfo(wave.dtype).max + 1)
    wave = wave.astype(np.float32)
    if wave.size and not np.isfinite(wave).all():
        raise ValueError('expected a finite waveform, found NaN or Inf samples')
    if wave.size == 0:
        return np.zeros(num_examples * SAMPLE_RATE, np.float32), SAMPLE_RATE
    return wave, int(sample_rate)


def featurise_for_frames(audio: AudioLike,
                         frame_times: Sequence[float],
                         sample_rate: Optional[int],
                         clip_len: Optional[int] = None) -> Tuple[np.ndarray, torch.Tensor]:
    """Featurise the audio once: ``(example index of each frame [N], examples [E, 96, 64])``.

    ``E`` covers every frame's example; with ``clip_len`` also every whole example of the audio
    and at least ``clip_len`` (room for each frame's clip window).
    """
    indices = example_indices(frame_times)
    count = int(indices.max()) + 1 if indices.size else 1
    wave, sr = as_waveform(audio, sample_rate, max(count, clip_len or 1))
    if clip_len is not None:
        whole = num_examples_for(int(round(len(wave) * SAMPLE_RATE / sr)))
        count = max(count, clip_len, whole)
    return indices, waveform_to_examples(wave, sr, num_examples=count)


def clip_windows(examples: torch.Tensor, indices: np.ndarray, clip_len: int) -> torch.Tensor:
    """``[N, clip_len, 96, 64]``: ``clip_len`` consecutive examples centred on each frame's
    example where ``examples`` allows, shifted to stay inside it."""
    starts = np.clip(indices - clip_len // 2, 0, len(examples) - clip_len)
    return torch.stack([examples[int(s):int(s) + clip_len] for s in starts]).float()


def frame_audio_examples(audio: AudioLike,
                         frame_times: Sequence[float],
                         sample_rate: Optional[int] = None) -> torch.Tensor:
    """Log-mel example of every frame, ``[N, 96, 64]`` float32.

    Args:
        audio: A sound file path (read with :func:`mmavs.audio.load_audio`), a waveform
            (numpy / torch ``[T]`` or ``[T, C]``, float in [-1, 1] or integer PCM) with
            ``sample_rate``, or None (silence).
        frame_times (sequence of float): Time of each frame in seconds.
        sample_rate (int, optional): Sample rate of a waveform (Hz).

    Returns:
        Tensor: ``[N, 96, 64]``: frame ``i`` gets example ``floor(t_i)`` of the clip, padded by
        :func:`mmavs.audio.waveform_to_examples` when the clip is shorter.
    """
    indices, examples = featurise_for_frames(audio, frame_times, sample_rate)
    return examples[torch.from_numpy(indices)].float()


def frame_clip_examples(audio: AudioLike,
                        frame_times: Sequence[float],
                        sample_rate: Optional[int] = None,
                        clip_len: int = FRAMES_PER_CLIP) -> torch.Tensor:
    """Clip-level audio of every frame, ``[N, clip_len, 96, 64]`` float32.

    The clip of frame ``i`` is ``clip_len`` consecutive examples around its own example
    ``floor(t_i)``: centred where the audio allows, shifted to stay inside it, so a 5 s
    AVSBench clip gives every frame the whole clip (what ``LoadAVSAudio(with_clip=True)`` gives
    in training and testing). Audio shorter than ``clip_len`` seconds is padded by
    :func:`mmavs.audio.waveform_to_examples`. Arguments as :func:`frame_audio_examples`.
    """
    if clip_len < 1:
        raise ValueError(f'clip_len must be >= 1, found {clip_len}')
    indices, examples = featurise_for_frames(audio, frame_times, sample_rate, clip_len)
    return clip_windows(examples, indices, clip_len)
