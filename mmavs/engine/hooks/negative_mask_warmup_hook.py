# Copyright (c) mmavs contributors. All rights reserved.
"""Ramp up the mask losses of the negative pairs at the start of robust training.

A robust stream trains the decode head against an empty mask on every negative pair (silence or
off-screen audio with a frame that shows the objects). A from-scratch model cannot tell a
matching sound from another one at first (the audio pathway of the fusion starts at zero), so the
negatives' empty masks teach it to doubt every object while it is still learning what an object
is: it learns the positives more slowly than a positive-only model. This hook scales the mask
losses of samples with an empty target (``BaseBinaryMaskLoss.empty_weight``) from ``start`` at
epoch 0 linearly to ``end`` (default 1: the plain robust recipe) at ``warmup_epochs`` (or by
iteration with ``by_epoch=False``), and keeps ``end`` from then on. The similarity loss is not
touched.

The weight is a function of the current epoch (iteration), so a resumed run continues the ramp
where it stopped.
"""
from typing import List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from ...models.losses.base_mask_loss import BaseBinaryMaskLoss


def warmup_weight(step: int, warmup: int, start: float, end: float = 1.0) -> float:
    """``start`` at ``step == 0``, linearly to ``end`` at ``step == warmup``, ``end`` after."""
    if warmup <= 0 or step >= warmup:
        return end
    return start + (end - start) * step / warmup


@HOOKS.register_module()
class NegativeMaskWarmupHook(Hook):
    """Scale the negatives' mask losses from ``start`` to ``end`` over the first epochs.

    Args:
        warmup_epochs (int): Length of the ramp, in epochs (iterations with ``by_epoch=False``).
            Defaults to 20.
        start (float): Weight at the start, in [0, 1]. Defaults to 0.
        end (float): Weight at the end of the ramp and after, in [0, 1]. Defaults to 1.
        by_epoch (bool): Ramp per epoch (set before each epoch) or per iteration. Defaults to
            True.
    """

    priority = 'NORMAL'

    def __init__(self,
                 warmup_epochs: int = 20,
                 start: float = 0.0,
                 end: float = 1.0,
                 by_epoch: bool = True) -> None:
        if warmup_epochs < 0:
            raise ValueError(f'NegativeMaskWarmupHook: warmup_epochs must be >= 0, found '
                             f'{warmup_epochs}')
        if not 0.0 <= start <= 1.0:
            raise ValueError(f'NegativeMaskWarmupHook: start must be in [0, 1], found {start}')
        if not 0.0 <= end <= 1.0:
            raise ValueError(f'NegativeMaskWarmupHook: end must be in [0, 1], found {end}')
        self.warmup_epochs = warmup_epochs
        self.start = start
        self.end = end
        self.by_epoch = by_epoch
        self._losses: List[BaseBinaryMaskLoss] = []

    @staticmethod
    def mask_losses(runner) -> List[BaseBinaryMaskLoss]:
        """Every mmavs mask loss of the model (decode and auxiliary heads)."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return [m for m in model.modules() if isinstance(m, BaseBinaryMaskLoss)]

    def before_train(self, runner) -> None:
        self._losses = self.mask_losses(runner)  # once: by iteration the ramp runs every step
        if not self._losses:
            raise ValueError('NegativeMaskWarmupHook: the model has no mmavs mask loss '
                             '(SigmoidBCELoss, EmptySafeDiceLoss, EmptySafeIoULoss) whose '
                             'negatives it could weight')

    def _set(self, runner, step: int) -> None:
        weight = warmup_weight(step, self.warmup_epochs, self.start, self.end)
        for loss in self._losses:
            loss.empty_weight = weight
        runner.message_hub.update_scalar('train/negative_mask_weight', weight)

    def before_train_epoch(self, runner) -> None:
        if self.by_epoch:
            self._set(runner, runner.epoch)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if not self.by_epoch:
            self._set(runner, runner.iter)
