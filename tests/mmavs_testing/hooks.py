# Copyright (c) mmavs contributors. All rights reserved.
"""Hooks of the end-to-end tests (imported by a test config's ``custom_imports``)."""
import os
import signal

from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class KillAtIterHook(Hook):
    """SIGKILL the training process after batch ``batch_idx`` of epoch ``epoch`` (1-based).

    A real, uncatchable interruption: nothing of the run after that point is written.
    """

    def __init__(self, epoch: int, batch_idx: int) -> None:
        self.epoch = epoch
        self.batch_idx = batch_idx

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.epoch + 1 == self.epoch and batch_idx == self.batch_idx:
            os.kill(os.getpid(), signal.SIGKILL)
