# Copyright (c) mmavs contributors. All rights reserved.
"""Soft Dice loss that also trains empty (negative) masks."""
from mmseg.registry import MODELS
from torch import Tensor

from .base_mask_loss import BaseBinaryMaskLoss
from .functional import soft_dice_loss


@MODELS.register_module()
class EmptySafeDiceLoss(BaseBinaryMaskLoss):
    """Squared soft Dice per sample; an empty target is scored by the mean foreground probability.

    ``empty_mode='none', eps=1e-3`` reproduces the AVSBench/AVSegFormer Dice loss exactly,
    including its zero gradient on empty masks (see :mod:`mmavs.models.losses.functional`).

    Args:
        eps (float): Added to each squared sum of the denominator. Defaults to 1e-3.
        empty_mode (str): ``'fg_fraction'`` (default) or ``'none'``.
        loss_weight (float): Multiplier. Defaults to 1.0.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``. Defaults to ``'mean'``.
        loss_name (str): Defaults to ``'loss_dice'``.
        empty_weight (float): Multiplier of the negatives (empty targets); see
            :class:`BaseBinaryMaskLoss`. Defaults to 1.0.
    """

    def __init__(self,
                 eps: float = 1e-3,
                 empty_mode: str = 'fg_fraction',
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 loss_name: str = 'loss_dice',
                 empty_weight: float = 1.0) -> None:
        super().__init__(
            loss_weight=loss_weight,
            reduction=reduction,
            loss_name=loss_name,
            empty_weight=empty_weight)
        self.eps = eps
        self.empty_mode = empty_mode

    def per_sample(self, logits: Tensor, target: Tensor, valid: Tensor) -> Tensor:
        """Per-sample soft-Dice loss ``[B]``."""
        return soft_dice_loss(logits, target, valid, self.eps, self.empty_mode)
