# Copyright (c) mmavs contributors. All rights reserved.
"""Another frame of the sample's clip, carried through the geometric transforms with the image.

The similarity of the debiased model scores a frame against the clip's sound; the authors train it
on all five frames of every clip, while the mask loss sees only the annotated one (S4 train: frame
1). :class:`LoadExtraClipFrame` loads one more frame of the clip (not the sample's own) and stacks
it behind the image's channels, ``[H, W, 3] -> [H, W, 6]``, so that ``RandomResize``,
``RandomCrop`` and ``RandomFlip`` move both frames together; :class:`PackAVSegInputs` unstacks it
into ``inputs['img_extra']`` (``[3, H, W]``), which ``AVSegmentor`` scores with the similarity head
(same audio, same label) in training only.
"""
import os.path as osp

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...utils.image import read_frame

#: Channels of one frame; the stacked image has twice as many.
FRAME_CHANNELS = 3


@TRANSFORMS.register_module()
class LoadExtraClipFrame(BaseTransform):
    """Stack a randomly drawn other frame of the clip behind ``results['img']``.

    The frame is drawn uniformly (``np.random``, seeded by the runner) among ``clip_img_paths``
    without the sample's own ``img_path``; it must have the image's size. Place the transform right
    after ``LoadImageFromFile``; transforms that assume three channels (photometric distortion)
    must not run between it and :class:`PackAVSegInputs`.

    Required keys: ``img`` (``[H, W, 3]`` uint8), ``img_path``, ``clip_img_paths`` (from a dataset
    built with ``with_clip_frames=True``).
    Modified keys: ``img`` (``[H, W, 6]``).
    Added keys: ``extra_img_path``.

    The frame is read as ``LoadImageFromFile`` reads with its defaults (OpenCV, BGR colour) by
    :func:`mmavs.utils.image.read_frame`, whose errors name the file (missing, undecodable).
    """

    def transform(self, results: dict) -> dict:
        paths = results.get('clip_img_paths')
        if not paths:
            raise KeyError('LoadExtraClipFrame needs results["clip_img_paths"] (the frames of the '
                           f'clip of {results.get("img_path")}); build the dataset with '
                           'with_clip_frames=True')
        img = results['img']
        if img.ndim != 3 or img.shape[2] != FRAME_CHANNELS:
            raise ValueError(f'LoadExtraClipFrame expects a [H, W, {FRAME_CHANNELS}] image right '
                             f'after LoadImageFromFile, found {img.shape} for '
                             f'{results.get("img_path")}')
        own = osp.normpath(results['img_path'])
        others = [p for p in paths if osp.normpath(p) != own]
        if not others:
            raise ValueError(f'LoadExtraClipFrame: the clip of {results["img_path"]} has no other '
                             f'frame (clip_img_paths={list(paths)})')
        path = others[int(np.random.randint(len(others)))]
        extra = read_frame(path)
        if extra.shape != img.shape:
            raise ValueError(f'LoadExtraClipFrame: {path} is {extra.shape[1]}x{extra.shape[0]}, '
                             f'the frame {results["img_path"]} of the same clip '
                             f'{img.shape[1]}x{img.shape[0]}; the frames of a clip must have one '
                             f'size')
        results['img'] = np.concatenate([img, extra], axis=2)
        results['extra_img_path'] = path
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
