# Copyright (c) mmavs contributors. All rights reserved.
"""Gating: empty the predicted mask when the audio does not match the frame (hard, at inference),
or multiply the mask probability by the similarity probability (soft, in training and inference)."""
from typing import Optional

import torch
import torch.nn.functional as F
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


def soft_gate_logits(mask_logits: Tensor, similarity_logits: Tensor) -> Tensor:
    """Logits of ``sigmoid(mask_logits) * sigmoid(similarity_logits)`` (the soft gate).

    The pixel is sounding when the frame's audio matches something visible (the similarity) *and*
    the pixel belongs to that source (the mask); the product of the two probabilities, returned as
    a logit ``log p - log(1 - p)`` computed in log space (stable for large logits of any sign).

    Args:
        mask_logits (Tensor): ``[B, 1, H, W]`` (or any ``[B, ...]``).
        similarity_logits (Tensor): ``[B]``, broadcast over the other dimensions.

    Returns:
        Tensor: Logits of the shape of ``mask_logits``.
    """
    shape = (-1, ) + (1, ) * (mask_logits.dim() - 1)
    log_p = F.logsigmoid(mask_logits) + F.logsigmoid(similarity_logits.reshape(shape))
    log_p = log_p.clamp(max=-1e-7)  # p < 1: keeps log(1 - p) finite
    # log(1 - exp(x)) for x < 0: expm1 near 0, log1p(-exp) far from it (Maechler 2012)
    log_1mp = torch.where(log_p > -0.6931471805599453, torch.log(-torch.expm1(log_p)),
                          torch.log1p(-torch.exp(log_p)))
    return log_p - log_1mp
