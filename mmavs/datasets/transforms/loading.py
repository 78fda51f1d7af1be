# Copyright (c) mmavs contributors. All rights reserved.
"""Loading transforms of audio-visual samples: the frame's audio example and its binary mask.

:class:`LoadAVSAudio` turns whichever audio the sample carries into the log-mel example of the
sample's frame, always through :func:`mmavs.audio.waveform_to_examples` (cached ``.pkl`` files are
produced by that same function), so positive and negative audio cannot differ in featurisation:

1. ``results['audio_waveform']`` (+ ``audio_sample_rate``), set by a negative-audio transform placed
   earlier in the pipeline: featurised as it is;
2. else the cached log-mel ``log_mel_path``, when ``use_cache`` and the file exists;
3. else the wav ``audio_path``, read with :func:`mmavs.audio.load_audio`.

The 5 frames of a video share one clip, so file-based clips are kept in a small per-process LRU
cache (``cache_size`` clips of ``[5, 96, 64]`` float32, 123 kB each).

:class:`LoadAVSMask` reads an AVSBench mask (PNG, 0/255) as ``gt_seg_map`` with values {0, 1}; a
frame without a mask (``seg_map_path`` None) or a negative sample (``is_sounding == 0``) gets an
all-zero mask of the frame's size.

:class:`LoadAVSFrame` is ``LoadImageFromFile`` with the same kind of per-process LRU cache of
decoded frames; with :class:`LoadAVSMask`'s ``cache_size`` it spares a small benchmark the PNG
decoding that an epoch (or a robust evaluation, which reads every frame once per audio condition)
repeats. Cached arrays are copied out, and an entry is keyed by the file's path and modification
time, so a rewritten file is read again.
"""
import os.path as osp
from typing import Optional

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmseg.registry import TRANSFORMS
from PIL import Image

from ...audio import DURATION_TOLERANCE, load_audio, load_log_mel_cache, waveform_to_examples
from ...utils.cache import LRUCache, file_key
from ...utils.constants import SAMPLE_RATE
from ...utils.image import grey_channel


def read_binary_mask(path: str, threshold: Optional[int] = None) -> np.ndarray:
    """Read a binary mask PNG as uint8 ``[H, W]`` with values {0, 1}.

    1-bit PNGs are read as they are; grey, palette and RGB(A) masks must hold only 0 and 255
    (RGB channels equal), unless ``threshold`` is given, in which case ``value >= threshold`` is
    foreground (for masks saved with anti-aliased edges).

    Args:
        path (str): Mask file.
        threshold (int, optional): Binarisation threshold in [1, 255]. Default: strict 0/255.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: The mask holds other values, or RGB channels that differ; the message names
            the file and the values found.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'mask not found: {path}')
    arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)  # 8-bit grey / colour PNGs: OpenCV is fastest
    if arr is None or arr.dtype != np.uint8:
        with Image.open(path) as im:  # 1-bit, 16-bit, and the errors of undecodable files
            if im.mode == '1':
                return np.asarray(im, dtype=np.uint8)
            if im.mode == 'P':
                im = im.convert('RGB')
            arr = np.asarray(im)
    grey = grey_channel(arr)
    if grey is None:
        raise ValueError(f'expected a grey binary mask (0/255), found differing RGB channels '
                         f'in {path}')
    arr = grey
    if threshold is not None:
        return (arr >= threshold).astype(np.uint8)
    foreground = arr == 255
    if np.count_nonzero(foreground) + np.count_nonzero(arr == 0) == arr.size:
        return foreground.view(np.uint8)
    values = np.unique(arr)
    bad = values[(values != 0) & (values != 255)]
    shown = ', '.join(str(int(v)) for v in bad[:8]) + (' ...' if bad.size > 8 else '')
    raise ValueError(f'expected mask values 0/255, found {shown} in {path}')


@TRANSFORMS.register_module()
class LoadAVSAudio(BaseTransform):
    """Set ``results['audio']``: float32 Tensor ``[96, 64]``, the log-mel example of the frame.

    Required keys: ``frame_idx``; and ``audio_waveform`` + ``audio_sample_rate``, or
    ``log_mel_path`` / ``audio_path``.
    Added keys: ``audio``; ``audio_clip`` with ``with_clip``.

    Args:
        use_cache (bool): Read ``log_mel_path`` when that file exists. Default True.
        num_examples (int): Examples per clip (= frames per video). Default 5.
        cache_size (int): Clips kept in the per-process LRU cache; 0 disables it. Default 64.
        random_example (bool): Training augmentation for single-source clips (S4): use an
            example of the clip drawn uniformly at random (``np.random``, seeded by the runner)
            instead of the frame's own. In S4 one object sounds all clip long, so every second of
            the clip's audio is a valid partner of the annotated frame 1, while frame 1's own
            second always holds the onset of the sound; test frames 2-5 hear the rest of the clip
            (pauses between barks, hoots, laughs). Do not use it for MS3, whose sources change
            within a clip. Default False.
        with_clip (bool): Also set ``results['audio_clip']``, float32 ``[num_examples, 96, 64]``:
            every example of the clip, for models that hear the clip-level audio embedding
            (``AVSegmentor(audio_level='clip')``). Default False.
        duration_tol (float, optional): A wav must last ``num_examples`` s (one second per
            frame) within this many seconds, and hold every frame its header declares; else an
            :class:`~mmavs.audio.AudioLengthError` names the file and both numbers. None checks
            the header only. Default :data:`mmavs.audio.DURATION_TOLERANCE` (0.25 s).
    """

    def __init__(self,
                 use_cache: bool = True,
                 num_examples: int = 5,
                 cache_size: int = 64,
                 random_example: bool = False,
                 with_clip: bool = False,
                 duration_tol: Optional[float] = DURATION_TOLERANCE):
        if num_examples < 1:
            raise ValueError(f'num_examples must be >= 1, found {num_examples}')
        if duration_tol is not None and duration_tol < 0:
            raise ValueError(f'duration_tol must be >= 0 or None, found {duration_tol}')
        self.duration_tol = duration_tol
        self.random_example = random_example
        self.with_clip = with_clip
        self.use_cache = use_cache
        self.num_examples = num_examples
        self.cache_size = cache_size
        self._clips = LRUCache(cache_size)

    def _examples_from_files(self, results: dict) -> torch.Tensor:
        """``[num_examples, 96, 64]`` of the sample's own clip (cache file or wav)."""
        pkl = results.get('log_mel_path')
        wav = results.get('audio_path')
        if self.use_cache and pkl and osp.isfile(pkl):
            source, path = 'pkl', pkl
        elif wav:
            source, path = 'wav', wav
        else:
            raise FileNotFoundError(f'no audio for {results.get("img_path")}: audio_path={wav!r}, '
                                    f'log_mel_path={pkl!r}')
        key = file_key(path, source)
        if key is None:
            raise FileNotFoundError(f'audio file not found: {path}')
        examples = self._clips.get(key)
        if examples is not None:
            return examples
        if source == 'pkl':
            examples = load_log_mel_cache(path, num_examples=self.num_examples)
        else:
            waveform, sr = load_audio(
                path,
                target_sr=SAMPLE_RATE,
                expected_seconds=None if self.duration_tol is None else float(self.num_examples),
                tolerance=self.duration_tol or 0.0)
            examples = waveform_to_examples(waveform, sr, num_examples=self.num_examples)
        self._clips.put(key, examples)
        return examples

    def transform(self, results: dict) -> dict:
        frame_idx = int(results['frame_idx'])
        if not 0 <= frame_idx < self.num_examples:
            raise ValueError(f'frame_idx must be in [0, {self.num_examples}), found {frame_idx} '
                             f'for {results.get("img_path")}')
        if results.get('audio_waveform') is not None:
            if 'audio_sample_rate' not in results:
                raise KeyError('results has audio_waveform but no audio_sample_rate')
            waveform = np.asarray(results['audio_waveform'], dtype=np.float32)
            examples = waveform_to_examples(
                waveform, int(results['audio_sample_rate']), num_examples=self.num_examples)
        else:
            examples = self._examples_from_files(results)
        if self.random_example:
            frame_idx = int(np.random.randint(len(examples)))
        results['audio'] = examples[frame_idx].clone().float()
        if self.with_clip:
            results['audio_clip'] = examples.clone().float()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(use_cache={self.use_cache}, '
                f'num_examples={self.num_examples}, cache_size={self.cache_size}, '
                f'random_example={self.random_example}, with_clip={self.with_clip}, '
                f'duration_tol={self.duration_tol})')


@TRANSFORMS.register_module()
class LoadAVSMask(BaseTransform):
    """Load a binary AVS mask as ``gt_seg_map`` (uint8 ``[H, W]``, values {0, 1}).

    Place it right after ``LoadImageFromFile`` (before any geometric transform): the mask must have
    the frame's size (``ori_shape``). Negative samples (``is_sounding == 0``) and frames without a
    mask (``seg_map_path`` None) get all zeros.

    Required keys: ``ori_shape`` or ``img``; ``seg_map_path``; optional ``is_sounding``.
    Added keys: ``gt_seg_map``, ``seg_fields``.

    Args:
        threshold (int, optional): See :func:`read_binary_mask`. Default None (strict 0/255).
        cache_size (int): Masks kept in a per-process LRU cache (uint8, ``H * W`` bytes each);
            0 (default) reads every time.
    """

    def __init__(self, threshold: Optional[int] = None, cache_size: int = 0):
        self.threshold = threshold
        self.cache_size = cache_size
        self._masks = LRUCache(cache_size)

    def _read(self, path: str) -> np.ndarray:
        key = file_key(path, self.threshold) if self.cache_size else None
        mask = None if key is None else self._masks.get(key)
        if mask is None:
            mask = read_binary_mask(path, self.threshold)  # names a missing or bad file
            if key is not None:
                self._masks.put(key, mask)
        return mask.copy() if key is not None else mask

    def transform(self, results: dict) -> dict:
        if 'ori_shape' in results:
            shape = tuple(results['ori_shape'][:2])
        elif 'img' in results:
            shape = tuple(results['img'].shape[:2])
        else:
            raise KeyError('LoadAVSMask needs the frame loaded first (ori_shape or img missing); '
                           'put it after LoadImageFromFile')
        path = results.get('seg_map_path')
        if int(results.get('is_sounding', 1)) == 0 or path is None:
            gt = np.zeros(shape, np.uint8)
        else:
            gt = self._read(path)
            if gt.shape != shape:
                raise ValueError(f'expected a {shape[0]}x{shape[1]} mask like '
                                 f'{results.get("img_path")}, found {gt.shape[0]}x{gt.shape[1]} '
                                 f'in {path}')
        results['gt_seg_map'] = gt
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(threshold={self.threshold}, '
                f'cache_size={self.cache_size})')


@TRANSFORMS.register_module()
class LoadAVSFrame(LoadImageFromFile):
    """``LoadImageFromFile`` (same arguments, same output) with a per-process LRU cache.

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``, ``ori_shape``.

    Args:
        cache_size (int): Decoded frames kept (``H * W * 3`` bytes each, 147 kB at 224 px; four
            times that with ``to_float32``); 0 (default) decodes every time. Every dataloader
            worker (and every DDP rank) holds its own cache.
        **kwargs: Arguments of ``mmcv.transforms.LoadImageFromFile``.
    """

    def __init__(self, cache_size: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.cache_size = cache_size
        self._frames = LRUCache(cache_size)

    def transform(self, results: dict) -> Optional[dict]:
        key = file_key(results['img_path']) if self.cache_size else None
        img = None if key is None else self._frames.get(key)
        if img is None:
            results = super().transform(results)
            if results is not None and key is not None:
                self._frames.put(key, results['img'].copy())
            return results
        img = img.copy()
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f', cache_size={self.cache_size})'
