# Copyright (c) mmavs contributors. All rights reserved.
"""Soft IoU (Jaccard) loss that also trains empty (negative) masks."""
from mmseg.registry import MODELS
from torch import Tensor

from .base_mask_loss import BaseBinaryMaskLoss
from .functional import soft_iou_loss


@MODELS.register_module()
class EmptySafeIoULoss(BaseBinaryMaskLoss):
    """``1 - soft IoU`` per sample; an empty target is scored by the mean foreground probability.

    See :mod:`mmavs.models.losses.functional` for why this matters on negative pairs.

    Args:
        smooth (float): Additive smoothing (pixels). Defaults to 1.0.
        empty_mode (str): ``'fg_fraction'`` (default) or ``'none'`` (plain soft IoU).
        loss_weight (float): Multiplier. Defaults to 1.0.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``. Defaults to ``'mean'``.
        loss_name (str): Defaults to ``'loss_iou'``.
        empty_weight (float): Multiplier of the negatives (empty targets); see
            :class:`BaseBinaryMaskLoss`. Defaults to 1.0.
    """

    def __init__(self,
                 smooth: float = 1.0,
                 empty_mode: str = 'fg_fraction',
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 loss_name: str = 'loss_iou',
                 empty_weight: float = 1.0) -> None:
        super().__init__(
            loss_weight=loss_weight,
            reduction=reduction,
            loss_name=loss_name,
            empty_weight=empty_weight)
        self.smooth = smooth
        self.empty_mode = empty_mode

    def per_sample(self, logits: Tensor, target: Tensor, valid: Tensor) -> Tensor:
        """Per-sample soft-IoU loss ``[B]``."""
        return soft_iou_loss(logits, target, valid, self.smooth, self.empty_mode)
