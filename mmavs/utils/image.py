# Copyright (c) mmavs contributors. All rights reserved.
"""Reading a frame image (shared by the data transforms and the inference tools)."""
import os.path as osp
from typing import Optional

import numpy as np


def read_frame(path: str) -> np.ndarray:
    """Read an image file as BGR uint8 ``[H, W, 3]`` (grey and RGBA images are converted).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: OpenCV cannot decode it; the message names the file.
    """
    import cv2
    if not osp.isfile(path):
        raise FileNotFoundError(f'frame not found: {path}')
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'cannot decode the image {path} (unreadable or not an image)')
    return img


def grey_channel(image: np.ndarray) -> Optional[np.ndarray]:
    """The one channel of a grey image, or None for a colour one.

    Args:
        image (np.ndarray): ``[H, W]`` or ``[H, W, C]`` (an alpha channel is ignored).

    Returns:
        np.ndarray | None: ``[H, W]``: the image itself, or the first channel of an image whose
        colour channels are equal (e.g. a black-and-white palette PNG decoded to colour); None
        when they differ.
    """
    if image.ndim == 2:
        return image
    colour = image[..., :3]
    if not (colour == colour[..., :1]).all():
        return None
    return np.ascontiguousarray(colour[..., 0])
