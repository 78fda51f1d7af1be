# Copyright (c) mmavs contributors. All rights reserved.
"""Audio-visual transforms: audio loading sources, binary masks, augmentations, packing."""
import copy

import numpy as np
import pytest
import torch
from mmseg.registry import TRANSFORMS
from PIL import Image

from mmavs.audio import waveform_to_examples
from mmavs.datasets import AVSBenchS4Dataset
from mmavs.datasets.transforms import (AVS_META_KEYS, LoadAVSAudio, LoadAVSMask, PackAVSegInputs,
                                       read_binary_mask)


def _mask_coded_sample(size=64, seed=0):
    """Image whose red channel encodes the mask (255 inside), and a random audio example."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size), np.uint8)
    mask[14:46, 10:40] = 1  # asymmetric, so flips and crops move it
    img = rng.integers(0, 100, (size, size, 3)).astype(np.uint8)
    img[..., 2] = mask * 255  # BGR: index 2 is red
    return dict(
        img=img,
        gt_seg_map=mask,
        seg_fields=['gt_seg_map'],
        img_shape=(size, size),
        ori_shape=(size, size),
        audio=torch.from_numpy(rng.normal(size=(96, 64)).astype(np.float32)))


@pytest.mark.parametrize('seed', range(4))
def test_geometric_augmentations_move_image_and_mask_together_and_leave_audio(seed):
    pipeline = [
        # nearest for the image too, so that the red code stays exact (masks always use nearest)
        TRANSFORMS.build(
            dict(
                type='RandomResize',
                scale=(64, 64),
                ratio_range=(1.0, 1.5),
                keep_ratio=True,
                interpolation='nearest')),
        TRANSFORMS.build(dict(type='RandomCrop', crop_size=(48, 48))),
        TRANSFORMS.build(dict(type='RandomFlip', prob=1.0)),
    ]
    results = _mask_coded_sample(seed=seed)
    audio = results['audio'].clone()
    np.random.seed(seed)
    for t in pipeline:
        results = t(results)
    assert results['img'].shape[:2] == results['gt_seg_map'].shape == (48, 48)
    assert results['flip'] is True
    assert 0 < results['gt_seg_map'].sum() < 48 * 48
    np.testing.assert_array_equal(results['img'][..., 2] > 127, results['gt_seg_map'] == 1)
    torch.testing.assert_close(results['audio'], audio, rtol=0, atol=0)


def test_flip_mirrors_image_and_mask(tiny_root):
    base = [dict(type='LoadImageFromFile'), dict(type='LoadAVSMask'), dict(type='LoadAVSAudio')]
    plain = AVSBenchS4Dataset(data_root=str(tiny_root), split='val', pipeline=base)
    flipped = AVSBenchS4Dataset(
        data_root=str(tiny_root), split='val', pipeline=base + [dict(type='RandomFlip', prob=1.0)])
    a, b = plain[4], flipped[4]
    np.testing.assert_array_equal(b['img'], a['img'][:, ::-1])
    np.testing.assert_array_equal(b['gt_seg_map'], a['gt_seg_map'][:, ::-1])
    assert not np.array_equal(a['gt_seg_map'], b['gt_seg_map'])
    torch.testing.assert_close(a['audio'], b['audio'], rtol=0, atol=0)


def test_load_mask_is_binary_and_empty_for_negatives_and_unannotated(tiny_root):
    ds = AVSBenchS4Dataset(
        data_root=str(tiny_root), split='val', pipeline=[dict(type='LoadImageFromFile')])
    results = ds[0]
    loader = LoadAVSMask()
    positive = loader(copy.deepcopy(results))
    assert positive['gt_seg_map'].dtype == np.uint8
    assert set(np.unique(positive['gt_seg_map'])) == {0, 1}
    assert 'gt_seg_map' in positive['seg_fields']
    negative = loader({**copy.deepcopy(results), 'is_sounding': 0})
    unannotated = loader({**copy.deepcopy(results), 'seg_map_path': None})
    for out in (negative, unannotated):
        assert out['gt_seg_map'].shape == results['img'].shape[:2]
        assert not out['gt_seg_map'].any()


def test_read_binary_mask_formats(tmp_path):
    mask = np.zeros((6, 5), np.uint8)
    mask[1:3, 2:4] = 255
    Image.fromarray(mask).save(tmp_path / 'l.png')
    Image.fromarray(mask).convert('1').save(tmp_path / 'one_bit.png')
    Image.fromarray(np.stack([mask] * 3, -1)).save(tmp_path / 'rgb.png')
    Image.fromarray(mask).convert('P').save(tmp_path / 'palette.png')
    Image.fromarray(mask.astype(np.uint16)).save(tmp_path / 'sixteen_bit.png')
    for name in ('l.png', 'one_bit.png', 'rgb.png', 'palette.png', 'sixteen_bit.png'):
        np.testing.assert_array_equal(read_binary_mask(str(tmp_path / name)), mask // 255)
    soft = mask.copy()
    soft[0, 0] = 200
    Image.fromarray(soft).save(tmp_path / 'soft.png')
    with pytest.raises(ValueError, match='found 200 in .*soft.png'):
        read_binary_mask(str(tmp_path / 'soft.png'))
    assert read_binary_mask(str(tmp_path / 'soft.png'), threshold=128)[0, 0] == 1
    colour = np.stack([mask, mask * 0, mask], -1)
    Image.fromarray(colour).save(tmp_path / 'colour.png')
    with pytest.raises(ValueError, match='differing RGB channels in .*colour.png'):
        read_binary_mask(str(tmp_path / 'colour.png'))
    with pytest.raises(FileNotFoundError, match='nope.png'):
        read_binary_mask(str(tmp_path / 'nope.png'))


def test_load_audio_featurises_a_carried_waveform_before_files(tiny_root):
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='val')
    info = ds.get_data_info(3)
    rng = np.random.default_rng(0)
    waveform = (0.05 * rng.standard_normal(44100 * 5)).astype(np.float32)
    results = {**info, 'audio_waveform': waveform, 'audio_sample_rate': 44100}
    out = LoadAVSAudio()(results)
    expected = waveform_to_examples(waveform, 44100, num_examples=5)[info['frame_idx']]
    torch.testing.assert_close(out['audio'], expected)
    own = LoadAVSAudio()(dict(info))['audio']
    assert not torch.allclose(own, out['audio'])


def test_load_audio_cache_is_bounded_and_returns_copies(tiny_root):
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='test')
    loader = LoadAVSAudio(cache_size=2)
    first = loader(dict(ds.get_data_info(0)))['audio']
    first.zero_()  # a consumer editing its tensor must not corrupt the cache
    again = loader(dict(ds.get_data_info(0)))['audio']
    assert again.abs().sum() > 0
    for video in range(3):
        loader(dict(ds.get_data_info(5 * video)))
    assert len(loader._clips) == 2


def test_frame_and_mask_caches_return_copies_of_what_a_fresh_load_gives(tiny_root, tmp_path):
    import os
    import shutil

    from mmcv.transforms import LoadImageFromFile

    from mmavs.datasets.transforms import LoadAVSFrame
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='test')
    frames, masks = LoadAVSFrame(cache_size=2), LoadAVSMask(cache_size=2)
    for index in (0, 1, 0):  # the second read of frame 0 comes from the cache
        info = dict(ds.get_data_info(index))
        fresh = LoadAVSMask()(LoadImageFromFile()(dict(info)))
        out = masks(frames(dict(info)))
        np.testing.assert_array_equal(out['img'], fresh['img'])
        np.testing.assert_array_equal(out['gt_seg_map'], fresh['gt_seg_map'])
        assert out['img_shape'] == fresh['img_shape'] and out['ori_shape'] == fresh['ori_shape']
        out['img'][:] = 0  # a consumer editing its arrays must not corrupt the caches
        out['gt_seg_map'][:] = 7
    assert len(frames._frames) == 2 and len(masks._masks) == 2
    again = masks(frames(dict(ds.get_data_info(0))))
    assert again['img'].any() and again['gt_seg_map'].max() <= 1
    for index in range(2, len(ds)):
        frames(dict(ds.get_data_info(index)))
    assert len(frames._frames) == 2  # bounded
    # a rewritten file is read again (the key holds its modification time)
    info = dict(ds.get_data_info(0))
    copy_path = str(tmp_path / 'frame.png')
    shutil.copy(info['img_path'], copy_path)
    first = frames({**info, 'img_path': copy_path})['img']
    Image.fromarray(np.zeros_like(first)).save(copy_path)
    os.utime(copy_path, ns=(1, os.stat(copy_path).st_mtime_ns + 10**9))
    assert not frames({**info, 'img_path': copy_path})['img'].any()
    # no cache: plain LoadImageFromFile; errors still name the file
    assert 'cache_size=0' in repr(LoadAVSFrame())
    with pytest.raises(Exception, match='gone.png'):
        LoadAVSFrame(cache_size=4)({**info, 'img_path': str(tmp_path / 'gone.png')})
    with pytest.raises(FileNotFoundError, match='gone_mask.png'):
        LoadAVSMask(cache_size=4)({
            **info, 'ori_shape': first.shape[:2],
            'seg_map_path': str(tmp_path / 'gone_mask.png')
        })
    with pytest.raises(ValueError, match='cache_size must be >= 0'):
        LoadAVSFrame(cache_size=-1)


def test_load_audio_errors_name_the_sample(tiny_root):
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='val')
    info = dict(ds.get_data_info(0))
    with pytest.raises(FileNotFoundError, match='audio file not found: .*missing.wav'):
        LoadAVSAudio()({**info, 'audio_path': '/nowhere/missing.wav', 'log_mel_path': None})
    with pytest.raises(ValueError, match='frame_idx must be in'):
        LoadAVSAudio()({**info, 'frame_idx': 5})


def test_pack_puts_audio_in_inputs_and_the_design_metainfo(tiny_root):
    ds = AVSBenchS4Dataset(
        data_root=str(tiny_root),
        split='val',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(32, 32)),
            dict(type='LoadAVSMask'),
            dict(type='LoadAVSAudio')
        ])
    results = ds[2]
    packed = PackAVSegInputs()(copy.deepcopy(results))
    assert set(packed['inputs']) == {'img', 'audio'}
    assert packed['inputs']['img'].shape == (3, 32, 32)
    assert packed['inputs']['img'].dtype == torch.uint8
    torch.testing.assert_close(packed['inputs']['audio'], results['audio'])
    gt = packed['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 64, 64) and gt.dtype == torch.int64
    expected_keys = set(AVS_META_KEYS) - {'pad_shape', 'flip', 'flip_direction', 'extra_img_path'}
    assert expected_keys <= set(packed['data_samples'].metainfo)
    del results['audio']
    with pytest.raises(KeyError, match='add LoadAVSAudio'):
        PackAVSegInputs()(results)


def test_load_audio_random_example_and_whole_clip(tiny_root):
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='train')
    info = ds.get_data_info(0)
    clip = LoadAVSAudio()(dict(info, frame_idx=0))
    examples = torch.stack([LoadAVSAudio()(dict(info, frame_idx=k))['audio'] for k in range(5)])
    assert 'audio_clip' not in clip
    with_clip = LoadAVSAudio(with_clip=True)(dict(info))
    torch.testing.assert_close(with_clip['audio_clip'], examples)
    torch.testing.assert_close(with_clip['audio'], examples[info['frame_idx']])
    # random_example: any second of the clip, drawn from np.random (reproducible by its seed)
    loader = LoadAVSAudio(random_example=True, with_clip=True)
    np.random.seed(0)
    picked = []
    for _ in range(40):
        out = loader(dict(info))
        matches = [k for k in range(5) if torch.equal(out['audio'], examples[k])]
        assert len(matches) == 1
        picked.append(matches[0])
        torch.testing.assert_close(out['audio_clip'], examples)  # the clip is always whole
    assert set(picked) == set(range(5))
    np.random.seed(0)
    again = [loader(dict(info))['audio'] for _ in range(40)]
    assert all(torch.equal(a, examples[k]) for a, k in zip(again, picked))
    assert 'random_example=True' in repr(loader) and 'with_clip=True' in repr(loader)


def test_pack_carries_the_clip_audio(tiny_root):
    ds = AVSBenchS4Dataset(
        data_root=str(tiny_root),
        split='val',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAVSMask'),
            dict(type='LoadAVSAudio', with_clip=True)
        ])
    results = ds[1]
    packed = PackAVSegInputs()(copy.deepcopy(results))
    assert set(packed['inputs']) == {'img', 'audio', 'audio_clip'}
    assert packed['inputs']['audio_clip'].shape == (5, 96, 64)
    torch.testing.assert_close(packed['inputs']['audio_clip'], results['audio_clip'])
