# Copyright (c) mmavs contributors. All rights reserved.
"""Freeze the visual backbone for a warm-up period, then train it with the configured lr.

The AVSBench-Robust / AVSegFormer recipe trains the fusion, decoder and similarity head on a
frozen pretrained visual backbone for the first epochs (5 for S4, 10 for MS3) and then unfreezes
it. Freezing here is ``requires_grad = False`` on the backbone parameters (their ``.grad`` is
cleared), so the optimizer, built once with *all* parameters, simply skips them (PyTorch
optimizers skip parameters without a gradient: no update, no weight decay) and applies the
configured learning rate as soon as they are unfrozen.

Normalisation layers: with ``freeze_norm=True`` (default) the backbone's norm layers are kept in
eval mode while frozen, so BatchNorm running statistics of the pretrained backbone are not
overwritten by small AVS batches (the authors' release leaves them in train mode; their PVT-v2
backbone has LayerNorm only, for which this makes no difference).

DDP: the hook reaches the segmentor through ``runner.model.module`` when the model is wrapped.
Parameters without a gradient are "unused" for DistributedDataParallel, so the wrapper must be
built with ``find_unused_parameters=True``; the hook checks it and says so otherwise.
"""
from typing import List, Optional

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

NORM_TYPES = (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm)


def set_requires_grad(module: nn.Module, requires_grad: bool) -> None:
    """Set ``requires_grad`` of every parameter of ``module``; clear grads when freezing."""
    for param in module.parameters():
        param.requires_grad = requires_grad
        if not requires_grad:
            param.grad = None


def norm_layers(module: nn.Module) -> List[nn.Module]:
    """Every normalisation layer inside ``module``."""
    return [m for m in module.modules() if isinstance(m, NORM_TYPES)]


@HOOKS.register_module()
class FreezeBackboneHook(Hook):
    """Freeze ``model.<attr>`` for the first ``freeze_epochs`` epochs (or ``freeze_iters`` iters).

    Args:
        freeze_epochs (int, optional): Frozen epochs (authors: 5 for S4, 10 for MS3).
            Defaults to 5.
        freeze_iters (int, optional): Frozen iterations, for iteration-based loops; set
            ``freeze_epochs=None`` to use it.
        freeze_norm (bool): Keep the backbone's norm layers in eval mode while frozen.
            Defaults to True.
        module_name (str): Attribute of the segmentor to freeze. Defaults to ``'backbone'``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 freeze_epochs: Optional[int] = 5,
                 freeze_iters: Optional[int] = None,
                 freeze_norm: bool = True,
                 module_name: str = 'backbone') -> None:
        if (freeze_epochs is None) == (freeze_iters is None):
            raise ValueError('FreezeBackboneHook: set exactly one of freeze_epochs and '
                             f'freeze_iters, found {freeze_epochs} and {freeze_iters}')
        for name, value in (('freeze_epochs', freeze_epochs), ('freeze_iters', freeze_iters)):
            if value is not None and value < 0:
                raise ValueError(f'FreezeBackboneHook: {name} must be >= 0, found {value}')
        self.freeze_epochs = freeze_epochs
        self.freeze_iters = freeze_iters
        self.freeze_norm = freeze_norm
        self.module_name = module_name
        self.frozen: Optional[bool] = None

    def _target(self, runner) -> nn.Module:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        module = getattr(model, self.module_name, None)
        if not isinstance(module, nn.Module):
            raise AttributeError(f'FreezeBackboneHook: the model {type(model).__name__} has no '
                                 f'module attribute {self.module_name!r}')
        return module

    def should_freeze(self, epoch: int, iteration: int) -> bool:
        """Whether the backbone is frozen at (0-based) ``epoch`` / ``iteration``."""
        if self.freeze_epochs is not None:
            return epoch < self.freeze_epochs
        return iteration < self.freeze_iters

    def before_train(self, runner) -> None:
        """Check the DDP wrapper and apply the state of the starting (or resumed) step."""
        if is_model_wrapper(runner.model) and self.should_freeze(0, 0) and \
                not getattr(runner.model, 'find_unused_parameters', True):
            raise RuntimeError(
                'FreezeBackboneHook: a frozen backbone has no gradients, which '
                'DistributedDataParallel only accepts with find_unused_parameters=True; set '
                "model_wrapper_cfg=dict(type='MMDistributedDataParallel', device_ids=None, "
                'find_unused_parameters=True) in the config')
        self.frozen = None
        self._apply(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Freeze/unfreeze on schedule; keep frozen norm layers in eval mode.

        Runs every iteration because the train loop calls ``model.train()`` at each epoch start.
        """
        self._apply(runner)

    def _apply(self, runner) -> None:
        freeze = self.should_freeze(runner.epoch, runner.iter)
        module = self._target(runner)
        if freeze != self.frozen:
            set_requires_grad(module, not freeze)
            self.frozen = freeze
            state = 'frozen' if freeze else 'unfrozen'
            runner.logger.info(f'FreezeBackboneHook: {self.module_name} {state} at epoch '
                               f'{runner.epoch}, iter {runner.iter}')
        if freeze and self.freeze_norm:
            for layer in norm_layers(module):
                layer.eval()
