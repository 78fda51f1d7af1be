# Copyright (c) mmavs contributors. All rights reserved.
"""Checkpoint the random streams of training, so that ``--resume`` continues them exactly.

An uninterrupted run and a run resumed from the checkpoint of epoch ``k`` must draw the same
augmentations in epoch ``k + 1``. MMEngine re-seeds the process on resume
(``randomness.seed``), so without this hook the resumed epochs draw from the start of the
streams again. :class:`RNGStateHook`:

* ``before_save_checkpoint``: stores :func:`mmavs.utils.rng.capture_rng_state` (python, numpy,
  torch CPU and CUDA) as ``checkpoint['rng_state']``;
* ``after_load_checkpoint`` (when the Runner resumes, not for ``load_from``): keeps the saved
  states, and ``before_train`` puts them back, after everything the Runner does on resume
  (including its own re-seeding) and before any hook or the first iteration draws;
* ``before_val`` / ``after_val``: validation leaves the streams as it found them. Creating a
  DataLoader iterator draws from torch's stream, and a resumed run does not repeat the
  validation that followed the checkpoint; so the epochs after a validation draw the same in
  both runs. Training numbers do not change where training draws nothing from torch (no dropout,
  ``num_workers=0``, as the SynthAVS configs), since validation draws from torch only.

The states are those of the main process. Dataloader workers are covered by
:func:`mmavs.utils.rng.seed_worker_from_loader` (their seeds derive from the main torch stream)
with ``persistent_workers=False``. Checkpoints are expected at epoch ends (``by_epoch=True``):
MMEngine's epoch loop restarts an interrupted epoch from its first batch.
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ...utils.rng import capture_rng_state, cuda_state_matches, restore_rng_state

#: Key of the states in a checkpoint.
RNG_STATE_KEY = 'rng_state'


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random states in every checkpoint, restore them on resume (see the module)."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._resumed_state: Optional[dict] = None
        self._val_state: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[RNG_STATE_KEY] = capture_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from: new training, the runner's seed decides
        state = checkpoint.get(RNG_STATE_KEY)
        if state is None:
            print_log(
                'RNGStateHook: the checkpoint holds no random states (written without this '
                'hook): the resumed epochs draw other augmentations than an uninterrupted run',
                logger='current',
                level=30)
        self._resumed_state = state

    def before_train(self, runner) -> None:
        if self._resumed_state is None:
            return
        state, self._resumed_state = self._resumed_state, None
        restore_rng_state(state)
        cuda = ' and CUDA' if cuda_state_matches(state) else ''
        print_log(
            f'RNGStateHook: restored the python, numpy, torch{cuda} random states of epoch '
            f'{runner.epoch}',
            logger='current')

    def before_val(self, runner) -> None:
        self._val_state = capture_rng_state()

    def after_val(self, runner) -> None:
        if self._val_state is not None:
            restore_rng_state(self._val_state)
            self._val_state = None
