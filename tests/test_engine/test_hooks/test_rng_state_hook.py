# Copyright (c) mmavs contributors. All rights reserved.
"""Exact resume: a training SIGKILLed mid-epoch and resumed equals the uninterrupted run.

The tiny robust SynthAVS config keeps the shipped augmentations (``RandomResize``,
``RandomCrop``, ``RandomFlip``) and validates after every epoch, so a validation lies between the
checkpoint and the kill. ``num_workers=1`` runs the same with a dataloader worker seeded by
``seed_worker_from_loader``.
"""
import json
import random
import signal

import numpy as np
import pytest
import torch

from mmavs.engine.hooks import RNGStateHook
from mmavs.utils.checkpoint import load_checkpoint_file
from mmavs.utils.rng import capture_rng_state, restore_rng_state
from mmavs_testing import REPO
from mmavs_testing.cli import run_tool, write_tiny_config

EPOCHS = 3


def _config(tmp_path, root, num_workers, kill=False):
    base = write_tiny_config(tmp_path / f'tiny_w{num_workers}.py', root, epochs=EPOCHS)
    text = (f'_base_ = [{str(base)!r}]\n'
            'train_cfg = dict(val_interval=1)\n'
            f'train_dataloader = dict(num_workers={num_workers})\n')
    name = f'resume_w{num_workers}.py'
    if kill:  # SIGKILL after batch 2 of epoch 2, after the checkpoint and validation of epoch 1
        text += ("custom_imports = dict(imports=['mmavs', 'mmavs_testing.hooks'])\n"
                 'custom_hooks = _base_.custom_hooks + '
                 "[dict(type='KillAtIterHook', epoch=2, batch_idx=2)]\n")
        name = f'killed_w{num_workers}.py'
    path = tmp_path / name
    path.write_text(text)
    return path


def _val_metrics(work_dir):
    """The validation scalars of every epoch, from the last log of ``work_dir``."""
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    rows = [json.loads(line) for line in logs[-1].read_text().splitlines()]
    return [r for r in rows if any(k.startswith('val/') or k.startswith('positive') for k in r)]


def _train(args):
    out = run_tool([REPO / 'tools/train.py'] + args, extra_path=[REPO / 'tests'])
    return out


@pytest.mark.parametrize('num_workers', [0, 1])
def test_killed_and_resumed_run_equals_uninterrupted(tiny_synth_root, tmp_path, num_workers):
    cfg = _config(tmp_path, tiny_synth_root, num_workers)
    killed_cfg = _config(tmp_path, tiny_synth_root, num_workers, kill=True)
    full, resumed = tmp_path / 'full', tmp_path / 'resumed'

    out = _train([cfg, '--work-dir', full])
    assert out.returncode == 0, out.stderr[-3000:]
    out = _train([killed_cfg, '--work-dir', resumed])
    assert out.returncode == -signal.SIGKILL, out.stderr[-3000:]
    assert (resumed / 'epoch_1.pth').is_file() and not (resumed / 'epoch_2.pth').exists()
    out = _train([cfg, '--work-dir', resumed, '--resume'])
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'RNGStateHook: restored' in out.stdout + out.stderr

    a = load_checkpoint_file(full / f'epoch_{EPOCHS}.pth')
    b = load_checkpoint_file(resumed / f'epoch_{EPOCHS}.pth')
    differing = [
        k for k in a['state_dict'] if not torch.equal(a['state_dict'][k], b['state_dict'][k])
    ]
    assert not differing, f'{len(differing)} of {len(a["state_dict"])} tensors differ'
    val_a = _val_metrics(full)[-1]
    val_b = _val_metrics(resumed)[-1]
    metrics = {k: v for k, v in val_a.items() if k not in ('time', 'data_time', 'step')}
    assert len(metrics) > 3
    assert metrics == {k: val_b[k] for k in metrics}


def test_states_round_trip_through_a_weights_only_checkpoint(tmp_path):
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(rng_state=capture_rng_state()), path)
    expected = (np.random.rand(3), random.random(), torch.rand(3))
    np.random.seed(0)
    random.seed(0)
    torch.manual_seed(0)
    restore_rng_state(load_checkpoint_file(path)['rng_state'])
    assert np.array_equal(np.random.rand(3), expected[0])
    assert random.random() == expected[1]
    assert torch.equal(torch.rand(3), expected[2])


class _Runner:

    def __init__(self, resume):
        self._resume = resume
        self.epoch = 1


def test_only_a_resume_restores_and_validation_leaves_the_streams_as_they_were():
    hook = RNGStateHook()
    checkpoint = {}
    np.random.seed(1)
    hook.before_save_checkpoint(_Runner(True), checkpoint)
    expected = np.random.rand(2)

    np.random.seed(2)
    hook.after_load_checkpoint(_Runner(False), checkpoint)  # load_from: a new training
    hook.before_train(_Runner(False))
    assert not np.array_equal(np.random.rand(2), expected)

    hook.after_load_checkpoint(_Runner(True), checkpoint)
    hook.before_train(_Runner(True))
    hook.before_val(_Runner(True))
    torch.empty((), dtype=torch.int64).random_()  # what a DataLoader iterator draws
    np.random.rand(5)
    hook.after_val(_Runner(True))
    assert np.array_equal(np.random.rand(2), expected)
