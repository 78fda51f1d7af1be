# Copyright (c) mmavs contributors. All rights reserved.
"""AVSBench S4/MS3 datasets on the tiny SynthAVS tree: counts, keys, alignment, bad trees."""
import csv
import os

import numpy as np
import pytest
import torch
from PIL import Image

from mmavs.audio import load_audio, load_log_mel_cache, save_log_mel_cache, waveform_to_examples
from mmavs.datasets import AVSBenchMS3Dataset, AVSBenchS4Dataset
from mmavs.datasets.avsbench import MAX_LISTED_MISSING
from mmavs.datasets.layout import S4Layout

DESIGN_KEYS = {
    'img_path', 'seg_map_path', 'audio_path', 'log_mel_path', 'frame_idx', 'video_id', 'category',
    'split', 'is_sounding', 'condition', 'reduce_zero_label', 'seg_fields'
}
AUDIO_PIPELINE = [dict(type='LoadAVSAudio', cache_size=0)]
FULL_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAVSMask'),
    dict(type='LoadAVSAudio'),
    dict(type='PackAVSegInputs'),
]


def _s4_rows(root):
    with open(S4Layout(str(root)).csv_path, newline='') as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_sample_counts_per_split(tiny_root, tiny_cfg, split):
    s4 = AVSBenchS4Dataset(data_root=str(tiny_root), split=split)
    ms3 = AVSBenchMS3Dataset(data_root=str(tiny_root), split=split)
    n_s4 = tiny_cfg.count('s4', split)
    n_ms3 = tiny_cfg.count('ms3', split)
    assert len(s4) == (n_s4 if split == 'train' else 5 * n_s4)
    assert len(ms3) == 5 * n_ms3
    assert len(s4.video_infos) == n_s4 and len(ms3.video_infos) == n_ms3
    assert s4.get_video_ids() == [r['name'] for r in _s4_rows(tiny_root) if r['split'] == split]
    frames = sorted(s4.get_data_info(i)['frame_idx'] for i in range(len(s4)))
    assert frames == ([0] * n_s4 if split == 'train' else sorted(list(range(5)) * n_s4))


def test_data_infos_carry_the_design_keys(tiny_root):
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='val')
    info = ds.get_data_info(7)
    assert DESIGN_KEYS <= set(info)
    assert info['is_sounding'] == 1 and info['condition'] == 'positive'
    assert info['reduce_zero_label'] is False and info['split'] == 'val'
    assert info['img_path'].endswith(f"{info['video_id']}_{info['frame_idx'] + 1}.png")
    assert os.path.basename(info['audio_path']) == f"{info['video_id']}.wav"
    assert info['log_mel_path'].endswith(f"audio_log_mel/val/{info['category']}/"
                                         f"{info['video_id']}.pkl")
    assert ds.metainfo['classes'] == ('background', 'sounding')
    video = ds.video_infos[0]
    assert video['group'] in ('music', 'human', 'animal', 'device')
    assert [f['frame_idx'] for f in video['frames']] == list(range(5))
    ms3 = AVSBenchMS3Dataset(data_root=str(tiny_root), split='test')
    assert ms3.get_data_info(0)['category'] == 'multi'
    assert '.mp4_1.png' in ms3.get_data_info(0)['img_path']


def test_unknown_split_is_a_clear_error(tiny_root):
    with pytest.raises(ValueError, match="found 'valid'"):
        AVSBenchS4Dataset(data_root=str(tiny_root), split='valid')


def test_each_frame_gets_the_audio_example_of_its_second(tiny_root):
    ds = AVSBenchS4Dataset(data_root=str(tiny_root), split='test', pipeline=AUDIO_PIPELINE)
    wav = ds.get_data_info(0)['audio_path']
    waveform, sr = load_audio(wav)
    expected = waveform_to_examples(waveform, sr, num_examples=5)
    seen = set()
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        if info['audio_path'] != wav:
            continue
        out = ds[i]
        torch.testing.assert_close(out['audio'], expected[info['frame_idx']])
        seen.add(info['frame_idx'])
    assert seen == set(range(5))
    assert not torch.equal(expected[0], expected[1])


def test_full_pipeline_sample(tiny_root, tiny_cfg):
    ds = AVSBenchMS3Dataset(data_root=str(tiny_root), split='val', pipeline=FULL_PIPELINE)
    out = ds[3]
    img, audio = out['inputs']['img'], out['inputs']['audio']
    assert img.shape == (3, tiny_cfg.size, tiny_cfg.size) and img.dtype == torch.uint8
    assert audio.shape == (96, 64) and audio.dtype == torch.float32
    gt = out['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, tiny_cfg.size, tiny_cfg.size) and gt.dtype == torch.int64
    assert set(gt.unique().tolist()) == {0, 1}
    meta = out['data_samples'].metainfo
    assert meta['video_id'] == ds.get_data_info(3)['video_id'] and meta['frame_idx'] == 3
    assert meta['condition'] == 'positive' and meta['is_sounding'] == 1


def _cache_and_remove_wavs(root):
    for split in ('train', 'val', 'test'):
        for ds_cls in (AVSBenchS4Dataset, AVSBenchMS3Dataset):
            ds = ds_cls(data_root=str(root), split=split, lazy_init=True)
            ds.full_init()
            for video in ds.video_infos:
                waveform, sr = load_audio(video['audio_path'])
                save_log_mel_cache(video['log_mel_path'],
                                   waveform_to_examples(waveform, sr, num_examples=5) + 1.0)
                os.remove(video['audio_path'])


def test_tree_with_only_log_mel_caches_loads(tiny_tree_copy):
    _cache_and_remove_wavs(tiny_tree_copy)
    ds = AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='val', pipeline=AUDIO_PIPELINE)
    info = ds.get_data_info(2)
    assert not os.path.exists(info['audio_path'])
    cached = load_log_mel_cache(info['log_mel_path'])
    torch.testing.assert_close(ds[2]['audio'], cached[info['frame_idx']])
    with pytest.raises(FileNotFoundError, match=r'\.wav'):
        AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='val', use_log_mel_cache=False)


def test_missing_wav_is_reported_with_its_path_and_row(tiny_tree_copy):
    ds = AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='train')
    wav = ds.video_infos[1]['audio_path']
    os.remove(wav)
    with pytest.raises(FileNotFoundError) as err:
        AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='train')
    msg = str(err.value)
    assert wav in msg and ds.video_infos[1]['video_id'] in msg and '1 file(s) missing' in msg
    assert 'line 3' in msg  # header = line 1, second video = line 3


def test_missing_frame_is_reported_with_its_path(tiny_tree_copy):
    ds = AVSBenchMS3Dataset(data_root=str(tiny_tree_copy), split='test')
    frame = ds.video_infos[0]['frames'][4]['img_path']
    os.remove(frame)
    with pytest.raises(FileNotFoundError, match=frame.replace('.', r'\.')):
        AVSBenchMS3Dataset(data_root=str(tiny_tree_copy), split='test')


def test_csv_row_without_files_lists_every_path_capped(tiny_tree_copy):
    csv_path = S4Layout(str(tiny_tree_copy)).csv_path
    with open(csv_path, 'a') as f:
        f.writelines(f'ghost_{i},0,dog,test\n' for i in range(5))
    with pytest.raises(FileNotFoundError) as err:
        AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='test')
    msg = str(err.value)
    # 5 ghost videos x (wav + 5 frames + 5 masks)
    assert '55 file(s) missing' in msg and f'and {55 - MAX_LISTED_MISSING} more' in msg
    assert 'ghost_0' in msg and 'ghost_0.wav' in msg and 'ghost_0_1.png' in msg
    assert csv_path in msg


def test_missing_columns_and_duplicate_rows_are_clear_errors(tiny_tree_copy):
    csv_path = S4Layout(str(tiny_tree_copy)).csv_path
    rows = _s4_rows(tiny_tree_copy)
    with open(csv_path, 'w') as f:
        f.write('name,start,kind,split\n')
    with pytest.raises(ValueError, match="missing \\['category'\\]"):
        AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='train')
    with open(csv_path, 'w') as f:
        f.write('name,start,category,split\n')
        row = rows[0]
        f.write(f"{row['name']},0,{row['category']},{row['split']}\n" * 2)
    with pytest.raises(ValueError, match='listed twice'):
        AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split=row['split'])


def test_wrong_mask_size_names_the_file(tiny_tree_copy):
    ds = AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='val', pipeline=FULL_PIPELINE)
    info = ds.get_data_info(0)
    Image.fromarray(np.zeros((32, 48), np.uint8)).save(info['seg_map_path'])
    with pytest.raises(ValueError, match='expected a 64x64 mask like .*found 32x48 in '):
        ds[0]


def test_mask_with_values_other_than_0_255_names_the_file(tiny_tree_copy):
    ds = AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='val', pipeline=FULL_PIPELINE)
    info = ds.get_data_info(1)
    mask = np.zeros((64, 64), np.uint8)
    mask[10:20, 10:20] = 255
    mask[30:40, 30:40] = 1
    Image.fromarray(mask).save(info['seg_map_path'])
    with pytest.raises(ValueError, match=r'expected mask values 0/255, found 1 in .*_2\.png'):
        ds[1]
