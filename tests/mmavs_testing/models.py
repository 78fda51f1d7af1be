# Copyright (c) mmavs contributors. All rights reserved.
"""Tiny builders shared by the model tests (random init, 64x64 inputs, CPU).

A plain module (not ``conftest``) so that test files can import it by a name no other test
directory uses.
"""
import copy

import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

import mmavs.engine.hooks  # noqa: F401  (registration)
import mmavs.models  # noqa: F401  (registration)

SIZE = 64
AUDIO_DIMS = 32

TINY_MIT = dict(
    type='MixVisionTransformer',
    in_channels=3,
    embed_dims=8,
    num_stages=4,
    num_layers=[1, 1, 1, 1],
    num_heads=[1, 2, 4, 8],
    patch_sizes=[7, 3, 3, 3],
    sr_ratios=[8, 4, 2, 1],
    out_indices=(0, 1, 2, 3),
    mlp_ratio=2)
TINY_MIT_CHANNELS = [8, 16, 32, 64]


def tiny_model_cfg(backbone=None,
                   channels=None,
                   fusion='ChannelGateFusion',
                   neck=None,
                   similarity=True,
                   gate_thr=None,
                   **kwargs):
    """Config of a tiny AVSegmentor (MiT by default) with AudioCNN and SegformerHead."""
    backbone = copy.deepcopy(backbone or TINY_MIT)
    channels = list(channels or TINY_MIT_CHANNELS)
    fusion_cfg = dict(type=fusion, in_channels=channels, audio_channels=AUDIO_DIMS)
    if fusion == 'ChannelGateFusion':
        fusion_cfg.update(num_heads=2)
    cfg = dict(
        type='AVSegmentor',
        backbone=backbone,
        audio_backbone=dict(type='AudioCNN', base_channels=4, out_channels=AUDIO_DIMS),
        fusion=fusion_cfg,
        decode_head=dict(
            type='SegformerHead',
            in_channels=channels,
            in_index=list(range(len(channels))),
            channels=16,
            dropout_ratio=0.0,
            num_classes=2,
            out_channels=1,
            threshold=0.5,
            norm_cfg=dict(type='BN', requires_grad=True),
            align_corners=False,
            loss_decode=[dict(type='SigmoidBCELoss'),
                         dict(type='EmptySafeIoULoss')]),
        similarity_head=dict(
            type='SimilarityHead',
            visual_channels=channels[-1],
            audio_channels=AUDIO_DIMS,
            embed_dims=16) if similarity else None,
        gate_thr=gate_thr,
        test_cfg=dict(mode='whole'))
    if neck is not None:
        cfg['neck'] = neck
    cfg.update(kwargs)
    return cfg


def make_samples(labels, size=SIZE, box=(16, 48)):
    """SegDataSamples: positives get a square mask, negatives an empty one."""
    samples = []
    for i, label in enumerate(labels):
        gt = torch.zeros(1, size, size, dtype=torch.long)
        if label:
            gt[:, box[0]:box[1], box[0]:box[1]] = 1
        sample = SegDataSample(
            metainfo=dict(
                img_path=f'frame_{i}.png',
                ori_shape=(size, size),
                img_shape=(size, size),
                pad_shape=(size, size),
                padding_size=[0, 0, 0, 0],
                is_sounding=int(label),
                condition='positive' if label else 'silence'))
        sample.gt_sem_seg = PixelData(data=gt)
        samples.append(sample)
    return samples


def make_inputs(batch, size=SIZE, seed=0):
    """``dict(img=[B, 3, H, W], audio=[B, 96, 64])`` of random values."""
    gen = torch.Generator().manual_seed(seed)
    return dict(
        img=torch.randn(batch, 3, size, size, generator=gen),
        audio=torch.randn(batch, 96, 64, generator=gen))
