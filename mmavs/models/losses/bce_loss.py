# Copyright (c) mmavs contributors. All rights reserved.
"""Sigmoid binary cross-entropy for one-channel mask logits."""
from typing import Optional

from mmseg.registry import MODELS
from torch import Tensor

from .base_mask_loss import BaseBinaryMaskLoss
from .functional import sigmoid_bce_loss


@MODELS.register_module()
class SigmoidBCELoss(BaseBinaryMaskLoss):
    """Pixel BCE on logits, averaged over the valid pixels of each sample, then over samples.

    Unlike MMSeg's ``CrossEntropyLoss(use_sigmoid=True)``, ignored (padded) pixels are left out
    of the per-sample average, so padding does not dilute the loss. BCE is already empty-safe:
    on an empty target its gradient with respect to a logit is ``sigmoid(logit) / N > 0``.

    Args:
        pos_weight (float, optional): Weight of foreground pixels. Defaults to None (1).
        loss_weight (float): Multiplier. Defaults to 1.0.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``. Defaults to ``'mean'``.
        loss_name (str): Defaults to ``'loss_bce'``.
        empty_weight (float): Multiplier of the negatives (empty targets); see
            :class:`BaseBinaryMaskLoss`. Defaults to 1.0.
    """

    def __init__(self,
                 pos_weight: Optional[float] = None,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 loss_name: str = 'loss_bce',
                 empty_weight: float = 1.0) -> None:
        super().__init__(
            loss_weight=loss_weight,
            reduction=reduction,
            loss_name=loss_name,
            empty_weight=empty_weight)
        self.pos_weight = pos_weight

    def per_sample(self, logits: Tensor, target: Tensor, valid: Tensor) -> Tensor:
        """Per-sample BCE ``[B]``."""
        return sigmoid_bce_loss(logits, target, valid, self.pos_weight)
