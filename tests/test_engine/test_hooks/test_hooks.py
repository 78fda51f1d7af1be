# Copyright (c) mmavs contributors. All rights reserved.
"""FreezeBackboneHook and SimilarityLoggerHook, with a minimal runner and a real tiny Runner."""
import copy
import json
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate
from mmengine.evaluator import BaseMetric
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner import Runner
from mmengine.visualization import Visualizer
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample
from torch.utils.data import DataLoader, Dataset

from mmavs.engine.hooks.similarity_logger_hook import (records_from_samples, similarity_histogram,
                                                       similarity_summary)
from mmavs_testing.models import make_samples, tiny_model_cfg


class TinyModel(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.backbone(x).mean(dim=(2, 3)))


def fake_runner(model, epoch=0, iteration=0):
    return SimpleNamespace(
        model=model, epoch=epoch, iter=iteration, logger=MMLogger.get_current_instance())


def train_step(model, optimizer):
    optimizer.zero_grad()
    model(torch.randn(2, 3, 6, 6)).sum().backward()
    optimizer.step()


def test_freeze_then_unfreeze_with_optimizer_built_on_all_params():
    model = TinyModel()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.1)
    hook = HOOKS.build(dict(type='FreezeBackboneHook', freeze_epochs=2))
    runner = fake_runner(model)
    hook.before_train(runner)
    for epoch in range(3):
        runner.epoch = epoch
        model.train()  # what the train loop does at every epoch start
        hook.before_train_iter(runner, 0)
        frozen = epoch < 2
        assert all(p.requires_grad is not frozen for p in model.backbone.parameters())
        assert all(p.requires_grad for p in model.head.parameters())
        assert model.backbone[1].training is not frozen  # BN in eval while frozen
        before = copy.deepcopy(model.state_dict())
        train_step(model, optimizer)
        after = model.state_dict()
        backbone_moved = any(not torch.equal(before[k], after[k]) for k in before
                             if k.startswith('backbone'))
        head_moved = not torch.equal(before['head.weight'], after['head.weight'])
        assert head_moved
        assert backbone_moved is not frozen  # no update and no weight decay while frozen


def test_freeze_by_iterations_and_through_a_model_wrapper():
    model = TinyModel()
    wrapped = nn.DataParallel(model)  # a registered wrapper: the hook reaches .module
    hook = HOOKS.build(
        dict(type='FreezeBackboneHook', freeze_epochs=None, freeze_iters=3, freeze_norm=False))
    runner = fake_runner(wrapped)
    hook.before_train(runner)
    for iteration in range(5):
        runner.iter = iteration
        wrapped.train()
        hook.before_train_iter(runner, iteration)
        assert all(p.requires_grad is (iteration >= 3) for p in model.backbone.parameters())
        assert model.backbone[1].training  # freeze_norm=False keeps BN in train mode


def test_resume_inside_the_frozen_phase_freezes_again():
    model = TinyModel()
    hook = HOOKS.build(dict(type='FreezeBackboneHook', freeze_epochs=5))
    hook.before_train(fake_runner(model, epoch=3))
    assert not any(p.requires_grad for p in model.backbone.parameters())
    hook2 = HOOKS.build(dict(type='FreezeBackboneHook', freeze_epochs=5))
    hook2.before_train(fake_runner(model, epoch=6))
    assert all(p.requires_grad for p in model.backbone.parameters())


def test_freeze_hook_errors():
    wrapped = nn.DataParallel(TinyModel())
    wrapped.find_unused_parameters = False
    with pytest.raises(RuntimeError, match='find_unused_parameters=True'):
        HOOKS.build(dict(type='FreezeBackboneHook')).before_train(fake_runner(wrapped))
    with pytest.raises(ValueError, match='exactly one'):
        HOOKS.build(dict(type='FreezeBackboneHook', freeze_epochs=2, freeze_iters=2))
    with pytest.raises(AttributeError, match="'neck'"):
        HOOKS.build(dict(type='FreezeBackboneHook',
                         module_name='neck')).before_train(fake_runner(TinyModel()))


def sample(prob, label, condition):
    s = SegDataSample(metainfo=dict(is_sounding=label, condition=condition))
    s.pred_similarity = torch.tensor(prob)
    return s


def test_similarity_summary_and_histogram():
    records = records_from_samples([
        sample(0.9, 1, 'positive'),
        sample(0.7, 1, 'positive'),
        sample(0.2, 0, 'silence'),
        sample(0.4, 0, 'offscreen'),
        SegDataSample()
    ])
    assert len(records) == 4
    summary = similarity_summary(records)
    assert summary['sim_pos_mean'] == pytest.approx(0.8)
    assert summary['sim_neg_mean'] == pytest.approx(0.3)
    assert summary['sim_gap'] == pytest.approx(0.5)
    assert summary['sim_silence_mean'] == pytest.approx(0.2)
    assert summary['sim_offscreen_mean'] == pytest.approx(0.4)
    image = similarity_histogram(records, bins=10)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.std() > 0


def test_similarity_logger_hook_publishes_scalars_and_image(tmp_path):
    hub = MessageHub.get_instance('test_similarity_logger_hook')
    visualizer = Visualizer.get_instance(
        'test_similarity_logger_vis',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path))
    runner = SimpleNamespace(
        message_hub=hub,
        visualizer=visualizer,
        _train_loop=None,
        logger=MMLogger.get_current_instance())
    hook = HOOKS.build(dict(type='SimilarityLoggerHook', bins=5))
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0, outputs=[sample(0.9, 1, 'positive'), sample(0.1, 0, 'noise')])
    hook.after_val_iter(runner, 1, outputs=[sample(0.5, 1, 'positive')])
    hook.after_val_epoch(runner)
    assert hub.get_scalar('val/sim_pos_mean').current() == pytest.approx(0.7)
    assert hub.get_scalar('val/sim_neg_mean').current() == pytest.approx(0.1)
    assert hub.get_scalar('val/sim_noise_mean').current() == pytest.approx(0.1)
    assert osp.isfile(osp.join(tmp_path, 'vis_data', 'vis_image', 'similarity_hist_val_0.png'))


# ---------------------------------------------------------------- real Runner
class PairDataset(Dataset):
    """Four random uint8 frames with audio (two positives, two negatives), packed as
    ``PackAVSegInputs`` packs them."""

    def __init__(self):
        gen = torch.Generator().manual_seed(5)
        self.img = torch.randint(0, 256, (4, 3, 64, 64), dtype=torch.uint8, generator=gen)
        self.audio = torch.randn(4, 96, 64, generator=gen)
        self.labels = [1, 0, 1, 0]

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return dict(
            inputs=dict(img=self.img[idx], audio=self.audio[idx]),
            data_samples=make_samples([self.labels[idx]])[0])


class CountMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(int(s['pred_sem_seg']['data'].sum()) for s in data_samples)

    def compute_metrics(self, results):
        return dict(foreground_pixels=float(sum(results)))


def test_hooks_in_a_real_training_run(tmp_path):
    from mmseg.registry import MODELS
    model = MODELS.build(
        tiny_model_cfg(
            data_preprocessor=dict(
                type='AVSegDataPreProcessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                bgr_to_rgb=True,
                size_divisor=32)))
    initial_backbone = copy.deepcopy(model.backbone.state_dict())
    loader = dict(dataset=PairDataset(), batch_size=2, collate_fn=pseudo_collate)
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=DataLoader(**loader, shuffle=False),
        val_dataloader=DataLoader(**loader),
        val_evaluator=[CountMetric()],
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        custom_hooks=[
            dict(type='FreezeBackboneHook', freeze_epochs=1),
            dict(type='SimilarityLoggerHook')
        ],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=100)),
        visualizer=dict(
            type='Visualizer',
            vis_backends=[dict(type='LocalVisBackend')],
            name='test_hooks_real_run_vis'),
        default_scope='mmseg',
        experiment_name='test_hooks_real_run')
    runner.train()
    # unfrozen for epoch 2: the backbone trained
    assert all(p.requires_grad for p in model.backbone.parameters())
    assert any(not torch.equal(v,
                               model.backbone.state_dict()[k]) for k, v in initial_backbone.items())
    scalars_file = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
    lines = [json.loads(line) for line in open(scalars_file)]
    val_lines = [line for line in lines if 'sim_pos_mean' in line]
    assert len(val_lines) == 2 and all('sim_neg_mean' in line for line in val_lines)
    assert osp.isfile(
        osp.join(runner.log_dir, 'vis_data', 'vis_image', 'similarity_hist_val_2.png'))


def test_negative_mask_warmup_ramps_the_negatives_mask_losses():
    from mmseg.registry import MODELS

    from mmavs.engine.hooks import warmup_weight
    from mmavs.models.losses.base_mask_loss import BaseBinaryMaskLoss
    assert [warmup_weight(s, 4, 0.2) for s in (0, 2, 4, 9)] == pytest.approx([0.2, 0.6, 1, 1])
    assert warmup_weight(0, 0, 0.0) == 1.0
    lowered_ramp = [warmup_weight(s, 4, 0.0, 0.5) for s in (0, 2, 4, 9)]
    assert lowered_ramp == pytest.approx([0, 0.25, 0.5, 0.5])
    assert warmup_weight(3, 0, 0.0, 0.5) == 0.5
    model = MODELS.build(tiny_model_cfg())
    losses = [m for m in model.modules() if isinstance(m, BaseBinaryMaskLoss)]
    assert len(losses) == 2  # BCE + IoU of the decode head
    runner = fake_runner(nn.DataParallel(model))  # reached through the wrapper
    runner.message_hub = MessageHub.get_instance('test_negative_mask_warmup')
    hook = HOOKS.build(dict(type='NegativeMaskWarmupHook', warmup_epochs=4))
    hook.before_train(runner)
    for epoch, expected in [(0, 0.0), (1, 0.25), (3, 0.75), (4, 1.0), (7, 1.0)]:
        runner.epoch = epoch  # a resumed run starts at its epoch: same weight
        hook.before_train_epoch(runner)
        assert all(loss.empty_weight == pytest.approx(expected) for loss in losses)
        assert runner.message_hub.get_scalar('train/negative_mask_weight').current() == \
            pytest.approx(expected)
    by_iter = HOOKS.build(
        dict(type='NegativeMaskWarmupHook', warmup_epochs=10, start=0.5, by_epoch=False))
    by_iter.before_train(runner)
    runner.iter = 5
    by_iter.before_train_epoch(runner)  # no effect by iteration
    assert losses[0].empty_weight == 1.0
    by_iter.before_train_iter(runner, 0)
    assert losses[0].empty_weight == pytest.approx(0.75)
    lowered = HOOKS.build(dict(type='NegativeMaskWarmupHook', warmup_epochs=2, end=0.4))
    lowered.before_train(runner)
    for epoch, expected in [(0, 0.0), (1, 0.2), (2, 0.4), (30, 0.4)]:
        runner.epoch = epoch
        lowered.before_train_epoch(runner)
        assert all(loss.empty_weight == pytest.approx(expected) for loss in losses)


def test_negative_mask_warmup_errors():
    with pytest.raises(ValueError, match='start'):
        HOOKS.build(dict(type='NegativeMaskWarmupHook', start=1.5))
    with pytest.raises(ValueError, match='end'):
        HOOKS.build(dict(type='NegativeMaskWarmupHook', end=-0.1))
    with pytest.raises(ValueError, match='warmup_epochs'):
        HOOKS.build(dict(type='NegativeMaskWarmupHook', warmup_epochs=-1))
    with pytest.raises(ValueError, match='no mmavs mask loss'):
        HOOKS.build(dict(type='NegativeMaskWarmupHook')).before_train(fake_runner(TinyModel()))
