# Copyright (c) mmavs contributors. All rights reserved.
"""Reading a frame image (shared by the data transforms and the inference tools)."""
import os.path as osp

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
