# Copyright (c) mmavs contributors. All rights reserved.
"""Shared plumbing of the registered binary mask losses (MMSeg ``loss_decode`` interface)."""
from abc import ABCMeta, abstractmethod
from typing import Optional

import torch
import torch.nn as nn
from torch import Tensor

from .functional import empty_targets, prepare_binary_target

REDUCTIONS = ('mean', 'sum', 'none')


class BaseBinaryMaskLoss(nn.Module, metaclass=ABCMeta):
    """Base class: MMSeg calls ``loss(seg_logits, seg_label, weight=..., ignore_index=...)``.

    Subclasses implement :meth:`per_sample` on prepared ``[B, H, W]`` tensors.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        reduction (str): ``'mean'`` over samples, ``'sum'`` or ``'none'`` (returns ``[B]``).
        loss_name (str): Key in the loss dict; MMEngine only sums keys containing ``'loss'``
            and MMSeg expects the ``loss_`` prefix.
        empty_weight (float): Multiplier of the samples whose valid target is empty (the
            negative pairs of robust training) before the reduction; the mean still divides by
            the batch size. :class:`mmavs.engine.NegativeMaskWarmupHook` ramps it during
            training. Defaults to 1.0.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 loss_name: str = 'loss_mask',
                 empty_weight: float = 1.0) -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction must be one of {REDUCTIONS}, found {reduction!r}')
        if not loss_name.startswith('loss_'):
            raise ValueError(f'loss_name must start with "loss_", found {loss_name!r}')
        if empty_weight < 0:
            raise ValueError(f'empty_weight must be >= 0, found {empty_weight}')
        self.loss_weight = loss_weight
        self.empty_weight = empty_weight
        self.reduction = reduction
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """str: The key of this loss in the loss dict."""
        return self._loss_name

    @abstractmethod
    def per_sample(self, logits: Tensor, target: Tensor, valid: Tensor) -> Tensor:
        """Loss per sample ``[B]`` from logits/target/valid, each ``[B, H, W]``."""

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: Optional[int] = 255,
                **kwargs) -> Tensor:
        """Compute the weighted, reduced loss.

        Args:
            pred (Tensor): Mask logits ``[B, 1, H, W]`` or ``[B, H, W]``.
            target (Tensor): Labels ``[B, H, W]`` in {0, 1} (``ignore_index`` = ignored).
            weight (Tensor, optional): Pixel weights ``[B, H, W]``.
            ignore_index (int, optional): Ignored label. Defaults to 255.

        Returns:
            Tensor: Scalar loss (or ``[B]`` with ``reduction='none'``).
        """
        logits, target, valid = prepare_binary_target(pred, target, ignore_index, weight)
        loss = self.per_sample(logits, target, valid)
        if self.empty_weight != 1.0:
            loss = torch.where(empty_targets(target, valid), loss * self.empty_weight, loss)
        if self.reduction == 'mean':
            loss = loss.mean()
        elif self.reduction == 'sum':
            loss = loss.sum()
        return self.loss_weight * loss
