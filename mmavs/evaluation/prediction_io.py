# Copyright (c) mmavs contributors. All rights reserved.
"""Prediction folders of AVSBench-Robust: where each frame's PNG lives and what its pixels mean.

One folder per audio condition, laid out as AVSBench's ground-truth masks
(:class:`PredictionLayout`)::

    <folder>/<split>/<category>/<name>/<name>_<i>.png      S4   (i = 1..5, as the masks)
    <folder>/<split>/<name>/<name>_<i>.png                 MS3

A PNG holds the probability map of its frame, at the frame's size (the size of its ground-truth
mask): a greyscale image (or a colour one with equal channels, e.g. a black-and-white palette
PNG; an alpha channel is ignored) of 8 or 16 bits, where value ``v`` means the probability
``v / 255`` or ``v / 65535``. A binary mask saved as 0/255 is the probability map with ``p`` in
{0, 1}, so masks and maps need no flag. :func:`read_prediction` reads one PNG;
:func:`write_probability_png` and :func:`write_mask_png` write what ``tools/test.py --out`` saves.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np
import torch

from ..audio.writing import atomic_write_bytes
from ..utils.image import grey_channel
from .functional import encode_probabilities

#: Subsets whose prediction folders have a category level.
SUBSETS = ('s4', 'ms3')
#: Largest code of each PNG bit depth (the probability 1).
MAX_CODES = {np.dtype(np.uint8): 255, np.dtype(np.uint16): 65535}


@dataclass(frozen=True)
class PredictionLayout:
    """Relative path of each frame's prediction PNG in a condition folder.

    Args:
        subset (str): ``'s4'`` (a ``<category>`` level) or ``'ms3'`` (none).
        split_folder (bool): Paths start with ``<split>/``. Default True. AVSBench's own
            ``save_mask`` writes no split folder.
        first_index (int): Number of a video's first frame in the file names: 1 (default, as
            AVSBench's frames and masks, ``<name>_1.png`` .. ``<name>_5.png``) or 0 (as
            AVSBench's ``save_mask``: ``<name>_0.png`` .. ``<name>_4.png``).
    """
    subset: str
    split_folder: bool = True
    first_index: int = 1

    def __post_init__(self):
        if self.subset not in SUBSETS:
            raise ValueError(f'expected subset in {SUBSETS}, found {self.subset!r}')
        if self.first_index not in (0, 1):
            raise ValueError(f'expected first_index 0 or 1, found {self.first_index}')

    def relpath(self, split: str, category: Optional[str], name: str, frame_idx: int) -> str:
        """Path of frame ``frame_idx`` (0-based) of video ``name``, relative to the folder."""
        parts = [split] if self.split_folder else []
        if self.subset == 's4':
            if not category:
                raise ValueError(f"an S4 prediction path needs the category of video '{name}'")
            parts.append(category)
        parts += [name, f'{name}_{int(frame_idx) + self.first_index}.png']
        return osp.join(*parts)


def read_prediction(path: str,
                    expected_shape: Optional[Tuple[int, int]] = None) -> Tuple[np.ndarray, int]:
    """Read one prediction PNG as integer codes.

    Args:
        path (str): The PNG.
        expected_shape (tuple[int, int], optional): ``(H, W)`` it must have.

    Returns:
        tuple[np.ndarray, int]: codes ``[H, W]`` (uint8 or uint16) and the code of probability
        1 (255 or 65535).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: it cannot be decoded, is a colour image, has another bit depth, or has another
            size than ``expected_shape``; the message names the file.
    """
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        if not osp.isfile(path):
            raise FileNotFoundError(f'prediction not found: {path}')
        raise ValueError(f'cannot decode the prediction {path} (not a PNG image)')
    grey = grey_channel(image)
    if grey is None:
        raise ValueError(f'expected a greyscale prediction (one channel, or equal colour '
                         f'channels), found a colour image in {path}')
    image = grey
    max_code = MAX_CODES.get(image.dtype)
    if max_code is None:
        raise ValueError(f'expected an 8- or 16-bit prediction PNG, found {image.dtype} '
                         f'pixels in {path}')
    if expected_shape is not None and tuple(image.shape) != tuple(expected_shape):
        raise ValueError(f'expected a {expected_shape[0]}x{expected_shape[1]} prediction (the '
                         f'size of the frame and its mask), found {image.shape[0]}x'
                         f'{image.shape[1]} in {path}')
    return image, max_code


def _png_bytes(image: np.ndarray, path: str) -> bytes:
    ok, data = cv2.imencode('.png', image)
    if not ok:
        raise ValueError(f'cannot encode the prediction {path} as PNG')
    return data.tobytes()


def write_probability_png(path: str, prob: torch.Tensor) -> str:
    """Write a probability map ``[H, W]`` as a 16-bit PNG that keeps every metric statistic.

    Codes come from :func:`mmavs.evaluation.functional.encode_probabilities`, so the evaluator
    gets exactly the statistics ``RobustAVSMetric`` computes from ``prob``.
    """
    codes = encode_probabilities(torch.as_tensor(prob)).cpu().numpy().astype(np.uint16)
    atomic_write_bytes(path, _png_bytes(codes, path), fsync=False)
    return path


def write_mask_png(path: str, mask: torch.Tensor) -> str:
    """Write a binary mask ``[H, W]`` (non-zero = sounding) as an 8-bit 0/255 PNG."""
    mask = torch.as_tensor(mask).cpu().numpy()
    atomic_write_bytes(path, _png_bytes((mask > 0).astype(np.uint8) * 255, path), fsync=False)
    return path
