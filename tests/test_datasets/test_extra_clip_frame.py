# Copyright (c) mmavs contributors. All rights reserved.
"""Another frame of the clip for the similarity: dataset paths, loading, geometry, packing,
preprocessing."""
import copy
import os
import os.path as osp
import shutil
from pathlib import Path

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import MODELS

from mmavs.datasets import AVSBenchS4Dataset, RobustTrainDataset
from mmavs.datasets.transforms import LoadExtraClipFrame, PackAVSegInputs

REPO = Path(__file__).resolve().parents[2]
#: The shipped models' preprocessor (ImageNet mean/std, BGR -> RGB, padding to a multiple of 32).
PREPROCESSOR = Config.fromfile(
    str(REPO / 'configs/_base_/models/avs_tiny_cpu.py')).data_preprocessor

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadExtraClipFrame'),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio', with_clip=True),
    dict(type='RandomResize', scale=(64, 64), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(40, 40)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackAVSegInputs'),
]


def test_s4_train_samples_list_every_frame_of_their_clip(tiny_root):
    plain = AVSBenchS4Dataset(data_root=str(tiny_root), split='train')
    assert 'clip_img_paths' not in plain.get_data_info(0)
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='train', with_clip_frames=True)
    info = ds.get_data_info(1)
    assert len(ds) == len(plain)  # still one (annotated) sample per video
    assert info['clip_img_paths'][0] == info['img_path'] and len(info['clip_img_paths']) == 5
    assert all(osp.isfile(p) and info['video_id'] in p for p in info['clip_img_paths'])


def test_a_missing_unannotated_frame_is_reported_with_its_path(tiny_tree_copy):
    ds = AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='train', with_clip_frames=True)
    frame = ds.get_data_info(0)['clip_img_paths'][3]
    os.remove(frame)
    AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='train')  # not needed without them
    with pytest.raises(FileNotFoundError, match=frame.replace('.', r'\.')):
        AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='train', with_clip_frames=True)


def test_the_extra_frame_is_another_frame_of_the_clip(tiny_root):
    info = AVSBenchS4Dataset(data_root=str(tiny_root), split='train',
                             with_clip_frames=True).get_data_info(0)
    img = mmcv.imread(info['img_path'])
    drawn = set()
    np.random.seed(0)
    for _ in range(40):
        out = LoadExtraClipFrame()(dict(copy.deepcopy(info), img=img.copy()))
        assert out['img'].shape == img.shape[:2] + (6, ) and out['img'].dtype == np.uint8
        np.testing.assert_array_equal(out['img'][..., :3], img)
        np.testing.assert_array_equal(out['img'][..., 3:], mmcv.imread(out['extra_img_path']))
        drawn.add(out['extra_img_path'])
    assert drawn == set(info['clip_img_paths'][1:])  # every other frame, never its own


def test_extra_frame_errors_name_the_problem(tiny_root, tmp_path):
    info = AVSBenchS4Dataset(data_root=str(tiny_root), split='train',
                             with_clip_frames=True).get_data_info(0)
    img = mmcv.imread(info['img_path'])
    with pytest.raises(KeyError, match='with_clip_frames=True'):
        LoadExtraClipFrame()(dict(img=img, img_path=info['img_path']))
    small = tmp_path / 'small.png'
    mmcv.imwrite(img[:32], str(small))
    with pytest.raises(ValueError, match='small.png.*one size'):
        LoadExtraClipFrame()(dict(img=img, img_path=info['img_path'],
                                  clip_img_paths=[info['img_path'], str(small)]))
    broken = tmp_path / 'broken.png'
    broken.write_bytes(b'not a png')
    with pytest.raises(ValueError, match='cannot decode.*broken.png'):
        LoadExtraClipFrame()(dict(img=img, img_path=info['img_path'],
                                  clip_img_paths=[info['img_path'], str(broken)]))
    with pytest.raises(FileNotFoundError, match='gone.png'):
        LoadExtraClipFrame()(dict(img=img, img_path=info['img_path'],
                                  clip_img_paths=[str(tmp_path / 'gone.png')]))
    with pytest.raises(ValueError, match='no other frame'):
        LoadExtraClipFrame()(dict(img=img, img_path=info['img_path'],
                                  clip_img_paths=[info['img_path']]))
    with pytest.raises(ValueError, match='right after LoadImageFromFile'):
        LoadExtraClipFrame()(dict(img=np.concatenate([img, img], 2), img_path=info['img_path'],
                                  clip_img_paths=info['clip_img_paths']))


@pytest.mark.parametrize('seed', range(3))
def test_geometric_transforms_move_both_frames_and_the_packer_splits_them(tiny_root, tmp_path,
                                                                         seed):
    """With a copy of the frame as its 'extra' frame, both halves must stay identical."""
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='train', with_clip_frames=True,
                           pipeline=PIPELINE)
    info = ds.get_data_info(0)
    twin = str(tmp_path / 'twin.png')
    shutil.copy(info['img_path'], twin)
    np.random.seed(seed)
    results = ds.pipeline(dict(info, clip_img_paths=[info['img_path'], twin]))
    img, extra = results['inputs']['img'], results['inputs']['img_extra']
    assert img.shape == extra.shape == (3, 40, 40) and extra.dtype == torch.uint8
    assert torch.equal(img, extra)
    assert results['data_samples'].extra_img_path == twin
    # a real other frame differs (the object moves) but has the same geometry
    np.random.seed(seed)
    other = ds[0]['inputs']['img_extra']
    assert other.shape == (3, 40, 40) and not torch.equal(other, img)
    with pytest.raises(ValueError, match='stacked'):
        PackAVSegInputs()(dict(img=np.zeros((8, 8, 3), np.uint8), extra_img_path='x.png',
                               audio=torch.zeros(96, 64)))


def test_preprocessor_treats_the_extra_frame_as_its_image(tiny_root):
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='train', with_clip_frames=True,
                           pipeline=PIPELINE)
    batch = pseudo_collate([ds[i] for i in range(3)])
    # the image itself as the extra frame: identical after conversion, normalisation, padding
    batch['inputs']['img_extra'] = [img.clone() for img in batch['inputs']['img']]
    out = MODELS.build(PREPROCESSOR)(copy.deepcopy(batch),
                                                                    training=True)
    assert out['inputs']['img_extra'].shape == out['inputs']['img'].shape == (3, 3, 64, 64)
    torch.testing.assert_close(out['inputs']['img_extra'], out['inputs']['img'], rtol=0, atol=0)
    batch['inputs']['img_extra'] = batch['inputs']['img_extra'][:2]
    with pytest.raises(ValueError, match='extra frames'):
        MODELS.build(PREPROCESSOR)(batch, training=True)


def test_robust_negatives_carry_the_clip_frames(tiny_root):
    inner = dict(type='AVSBenchS4Dataset', data_root=str(tiny_root), split='train',
                 with_clip_frames=True,
                 pipeline=[dict(type='AddNegativeAudio')] + PIPELINE)
    stream = RobustTrainDataset(inner, neg_ratios=dict(offscreen=0.25, silence=0.25), seed=1)
    negatives = [i for i in range(len(stream)) if stream.describe(i)['condition'] != 'positive']
    assert negatives
    np.random.seed(0)
    sample = stream[negatives[0]]
    assert sample['data_samples'].is_sounding == 0
    assert sample['inputs']['img_extra'].shape == sample['inputs']['img'].shape


def test_every_frame_config_trains_the_similarity_on_extra_frames(tiny_root):
    from mmengine.optim import OptimWrapper
    cfg = Config.fromfile(str(REPO / 'configs/synth/robust_synth_s4_every_frame.py'))
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.dataset.data_root = str(tiny_root)
    stream = RobustTrainDataset(**{k: v for k, v in ds_cfg.items() if k != 'type'})
    np.random.seed(0)
    batch = pseudo_collate([stream[i] for i in range(len(stream))])
    assert all(x.shape == (3, 112, 112) for x in batch['inputs']['img_extra'])
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.manual_seed(0)
    log_vars = model.train_step(batch, OptimWrapper(torch.optim.AdamW(model.parameters(),
                                                                       lr=1e-3)))
    assert torch.isfinite(log_vars['loss'])
    assert {'sim.loss_sim', 'sim.loss_sim_in_batch'} <= set(log_vars)
