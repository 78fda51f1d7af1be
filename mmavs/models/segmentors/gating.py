# Copyright (c) mmavs contributors. All rights reserved.
"""The similarity gate: empty the predicted mask when the audio does not match the frame."""
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
