# Copyright (c) mmavs contributors. All rights reserved.
"""``AddNegativeAudio``: replace a sample's audio by a negative-audio waveform.

Placed in a pipeline *before* ``LoadAVSAudio`` and the mask loader. The robust dataset wrappers
(:class:`~mmavs.datasets.robust.RobustTrainDataset`,
:class:`~mmavs.datasets.robust.RobustTestDataset`) tag each sample with ``condition`` and, for
negatives, a ``negative`` dict saying which audio to play; this transform turns that into a
waveform. ``LoadAVSAudio`` then featurises the waveform with
:func:`mmavs.audio.waveform_to_examples`, the one function every positive goes through as well, so
a negative differs from a positive only in what it sounds like.
"""
import os.path as osp
from typing import Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...audio import load_audio
from ...utils.cache import LRUCache
from ...utils.constants import CLIP_SECONDS, NEGATIVE_CONDITIONS, POSITIVE_CONDITION, SAMPLE_RATE
from ..robust.seeding import derive_seed
from ..robust.waveforms import (DEFAULT_NOISE_DBFS, load_unseen_waveform, make_noise, make_silence,
                                resolve_unseen_dir)


@TRANSFORMS.register_module()
class AddNegativeAudio(BaseTransform):
    """Give a negative sample its negative audio (silence, noise, off-screen, unseen).

    Samples with ``condition == 'positive'`` (or no ``condition``) pass through untouched.

    Required keys: ``condition`` (absent = positive); for negatives ``negative`` (dict, below),
    ``video_id``.

    Added / modified keys (negatives only):

    - ``audio_waveform`` (np.ndarray float32 ``[T]``, mono, in [-1, 1]): 5 s (``T = 80000``) for
      silence, noise and unseen; the donor's own wav as loaded by
      :func:`mmavs.audio.load_audio` for off-screen (so it sounds exactly as the donor's positive).
    - ``audio_sample_rate`` (int): 16000.
    - ``is_sounding`` (int): 0.
    - ``seg_map_path``: None (the mask loader then yields an all-zero mask).
    - ``negative_source`` (str): what was played, e.g. ``'silence'``,
      ``'noise:pink:seed=123:dbfs=-20.0'``, ``'offscreen:<donor video id>'``,
      ``'unseen:cow-sound.wav'``.

    The ``negative`` dict (set by the robust dataset wrappers from the manifest or the training
    stream):

    - noise: ``noise_type``, ``noise_seed``, ``noise_dbfs`` (missing ones fall back to this
      transform's ``noise_type`` / ``noise_dbfs`` and a seed derived from ``video_id``);
    - offscreen: ``donor_video_id``, ``donor_audio_path`` (required);
    - unseen: ``unseen_file`` (required; absolute, or relative to ``unseen_dir``).

    Args:
        noise_type (str): Noise colour when the sample does not name one. Default ``'white'``.
        noise_dbfs (float): Noise RMS level (dB FS) when the sample does not name one.
            Default -20.
        unseen_dir (str | None): Folder of the unseen recordings for relative ``unseen_file``
            names; None: the recordings shipped with mmavs
            (:func:`~mmavs.datasets.robust.resolve_unseen_dir`).
        clip_seconds (float): Length of generated / unseen clips in seconds. Default 5.
        cache_size (int): Decoded unseen recordings kept in memory per process. Default 32.
    """

    def __init__(self,
                 noise_type: str = 'white',
                 noise_dbfs: float = DEFAULT_NOISE_DBFS,
                 unseen_dir: Optional[str] = None,
                 clip_seconds: float = CLIP_SECONDS,
                 cache_size: int = 32) -> None:
        make_noise(noise_type, 0, noise_dbfs, num_samples=16)  # validates both arguments
        self.noise_type = noise_type
        self.noise_dbfs = float(noise_dbfs)
        self.unseen_dir = unseen_dir
        self.num_samples = int(round(clip_seconds * SAMPLE_RATE))
        self.cache_size = int(cache_size)
        self._unseen_cache = LRUCache(self.cache_size)

    def transform(self, results: Dict) -> Dict:
        condition = results.get('condition', POSITIVE_CONDITION)
        if condition == POSITIVE_CONDITION:
            return results
        if condition not in NEGATIVE_CONDITIONS:
            raise ValueError(f"unknown condition of sample '{results.get('img_path')}': expected "
                             f"'positive' or one of {NEGATIVE_CONDITIONS}, found '{condition}'")
        spec = results.get('negative') or {}
        waveform, source = getattr(self, f'_{condition}')(spec, results)
        results['audio_waveform'] = waveform
        results['audio_sample_rate'] = SAMPLE_RATE
        results['is_sounding'] = 0
        results['seg_map_path'] = None
        results['negative_source'] = source
        return results

    def _silence(self, spec: Dict, results: Dict) -> Tuple[np.ndarray, str]:
        return make_silence(self.num_samples), 'silence'

    def _noise(self, spec: Dict, results: Dict) -> Tuple[np.ndarray, str]:
        noise_type = spec.get('noise_type', self.noise_type)
        dbfs = float(spec.get('noise_dbfs', self.noise_dbfs))
        seed = spec.get('noise_seed')
        if seed is None:
            seed = derive_seed('noise', results.get('video_id'))
        waveform = make_noise(noise_type, int(seed), dbfs, self.num_samples)
        return waveform, f'noise:{noise_type}:seed={int(seed)}:dbfs={dbfs}'

    def _offscreen(self, spec: Dict, results: Dict) -> Tuple[np.ndarray, str]:
        path = self._require(spec, 'donor_audio_path', results)
        # a donor is a clip of the dataset: the same length check as its positive
        waveform, _ = load_audio(
            path, target_sr=SAMPLE_RATE, expected_seconds=self.num_samples / SAMPLE_RATE)
        return waveform, f"offscreen:{spec.get('donor_video_id', path)}"

    def _unseen(self, spec: Dict, results: Dict) -> Tuple[np.ndarray, str]:
        name = self._require(spec, 'unseen_file', results)
        path = name if osp.isabs(name) else osp.join(resolve_unseen_dir(self.unseen_dir), name)
        waveform = self._unseen_cache.get(path)
        if waveform is None:
            waveform = load_unseen_waveform(path, self.num_samples)
            self._unseen_cache.put(path, waveform)
        return waveform.copy(), f'unseen:{osp.basename(path)}'

    @staticmethod
    def _require(spec: Dict, key: str, results: Dict):
        if spec.get(key) is None:
            raise KeyError(f"condition '{results.get('condition')}' needs results['negative']"
                           f"['{key}'] (set by RobustTrainDataset / RobustTestDataset), found "
                           f"negative={spec!r} for sample '{results.get('img_path')}'")
        return spec[key]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(noise_type={self.noise_type!r}, '
                f'noise_dbfs={self.noise_dbfs}, unseen_dir={self.unseen_dir!r}, '
                f'clip_seconds={self.num_samples / SAMPLE_RATE})')
