# Copyright (c) mmavs contributors. All rights reserved.
"""Inference gating: empty the predicted mask when the audio does not match the frame."""
from typing import Optional

import torch
from torch import Tensor


def similarity_gate(similarity: Tensor, gate_thr: Optional[float]) -> Tensor:
    """Which samples keep their mask.

    Args:
        similarity (Tensor): Audio-visual similarity probabilities ``[B]`` in [0, 1].
        gate_thr (float, optional): Threshold; None disables gating.

    Returns:
        Tensor: Boolean ``[B]``, True where the mask is kept (``similarity >= gate_thr``).
    """
    if gate_thr is None:
        return torch.ones_like(similarity, dtype=torch.bool)
    return similarity >= gate_thr


def gate_mask(pred_mask: Tensor, keep: bool) -> Tensor:
    """Return ``pred_mask`` unchanged when ``keep`` is True, else an all-zero mask of its shape."""
    return pred_mask if keep else torch.zeros_like(pred_mask)
