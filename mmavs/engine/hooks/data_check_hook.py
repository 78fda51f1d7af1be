# Copyright (c) mmavs contributors. All rights reserved.
"""Check the training and validation data before the first iteration (``data_check``).

A corrupt PNG, a truncated wav or a mask of the wrong size would otherwise crash a training after
some iterations, or at its first validation many epochs in. :class:`DataCheckHook` runs
:func:`mmavs.datasets.data_check.check_dataset` on the train and val datasets in ``before_train``
and raises one :class:`~mmavs.datasets.data_check.DataCheckError` listing every problem.

The depth is the config's top-level ``data_check`` (``'fast'``: headers and sizes, the default;
``'full'``: decode everything; ``'off'``), unless the hook is given ``mode``. The check reads files
only: it draws no random numbers, so it does not change a run or its resume.
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ...datasets.data_check import DataCheckError, check_dataset, check_mode

#: The depth when neither the hook nor the config sets one.
DEFAULT_DATA_CHECK = 'fast'


@HOOKS.register_module()
class DataCheckHook(Hook):
    """Check the content of the train and val data before training.

    Args:
        mode (str, optional): ``'fast'``, ``'full'`` or ``'off'``. None (default) reads
            ``data_check`` of the config, else ``'fast'``.
        workers (int, optional): Threads of the check. Default: the CPU count (at most 16).
    """

    priority = 'HIGH'

    def __init__(self, mode: Optional[str] = None, workers: Optional[int] = None) -> None:
        self.mode = None if mode is None else check_mode(mode)
        self.workers = workers

    def resolve_mode(self, runner) -> str:
        if self.mode is not None:
            return self.mode
        cfg = getattr(runner, 'cfg', None)
        return check_mode(cfg.get('data_check', DEFAULT_DATA_CHECK) if cfg else DEFAULT_DATA_CHECK)

    def before_train(self, runner) -> None:
        mode = self.resolve_mode(runner)
        if mode == 'off':
            return
        problems = []
        loaders = [('train', runner.train_dataloader)]
        if getattr(runner, '_val_loop', None) is not None:
            loaders.append(('val', runner.val_dataloader))
        for name, loader in loaders:
            problems += check_dataset(loader.dataset, mode, self.workers)
        if problems:
            raise DataCheckError(
                problems, f"the train/val data (data_check='{mode}'; "
                "python tools/misc/check_dataset.py CONFIG checks every file in depth)")
        print_log(f"DataCheckHook: train/val data passed data_check='{mode}'", logger='current')
