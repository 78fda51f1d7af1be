# Copyright (c) mmavs contributors. All rights reserved.
"""AVSegDataPreProcessor: image path identical to SegDataPreProcessor, audio stacked."""
import copy

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

from mmavs.datasets import AVSBenchMS3Dataset

NORM = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size_divisor=32,
    pad_val=0,
    seg_pad_val=255)
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio'),
    dict(type='RandomCrop', crop_size=(40, 40)),
    dict(type='PackAVSegInputs'),
]


@pytest.fixture
def batch(tiny_root):
    ds = AVSBenchMS3Dataset(data_root=str(tiny_root), split='train', pipeline=PIPELINE)
    return pseudo_collate([ds[i] for i in range(3)])


def test_collate_and_preprocess_shapes(batch):
    assert len(batch['inputs']['img']) == 3 and len(batch['inputs']['audio']) == 3
    pre = MODELS.build(dict(type='AVSegDataPreProcessor', **NORM))
    out = pre(copy.deepcopy(batch), training=True)
    img, audio = out['inputs']['img'], out['inputs']['audio']
    assert img.shape == (3, 3, 64, 64) and img.dtype == torch.float32  # 40 padded to 64
    assert audio.shape == (3, 96, 64) and audio.dtype == torch.float32
    assert out['data_samples'][0].gt_sem_seg.data.shape == (1, 64, 64)
    torch.testing.assert_close(audio, torch.stack(batch['inputs']['audio']))


@pytest.mark.parametrize('training', [True, False])
def test_image_path_matches_seg_data_preprocessor(batch, training):
    ours = MODELS.build(dict(type='AVSegDataPreProcessor', **NORM))
    ref = SegDataPreProcessor(**NORM)
    out = ours(copy.deepcopy(batch), training=training)
    expected = ref(
        dict(
            inputs=copy.deepcopy(batch['inputs']['img']),
            data_samples=copy.deepcopy(batch['data_samples'])),
        training=training)
    torch.testing.assert_close(out['inputs']['img'], expected['inputs'])


def test_stacked_audio_is_accepted_and_checked(batch):
    pre = MODELS.build(dict(type='AVSegDataPreProcessor', **NORM))
    data = copy.deepcopy(batch)
    data['inputs']['audio'] = torch.stack(data['inputs']['audio']).double()
    out = pre(data, training=False)
    assert out['inputs']['audio'].dtype == torch.float32
    assert out['inputs']['audio'].shape == (3, 96, 64)
    data['inputs']['audio'] = data['inputs']['audio'][:2]
    with pytest.raises(ValueError, match='expected 3 audio examples'):
        pre(data, training=False)
    with pytest.raises(TypeError, match='inputs=dict\\(img=..., audio=...\\)'):
        pre(dict(inputs=batch['inputs']['img'], data_samples=batch['data_samples']))


def test_clip_audio_is_stacked_and_checked(tiny_root):
    pipeline = copy.deepcopy(PIPELINE)
    pipeline[2] = dict(type='LoadAVSAudio', with_clip=True)
    ds = AVSBenchMS3Dataset(data_root=str(tiny_root), split='train', pipeline=pipeline)
    data = pseudo_collate([ds[i] for i in range(3)])
    pre = MODELS.build(dict(type='AVSegDataPreProcessor', **NORM))
    out = pre(copy.deepcopy(data), training=True)
    clip = out['inputs']['audio_clip']
    assert clip.shape == (3, 5, 96, 64) and clip.dtype == torch.float32
    torch.testing.assert_close(clip, torch.stack(data['inputs']['audio_clip']))
    data['inputs']['audio_clip'] = [c[0] for c in data['inputs']['audio_clip']]
    with pytest.raises(ValueError, match=r'expected audio_clip \[B=3, E, 96, 64\]'):
        pre(data, training=False)
