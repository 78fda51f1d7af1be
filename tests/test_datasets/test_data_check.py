# Copyright (c) mmavs contributors. All rights reserved.
"""Content checks of a dataset: every damaged file found and listed at once; CSV rows checked;
audio lengths checked where clips are read."""
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from mmavs.audio import AudioLengthError, load_audio, wav_header_frames
from mmavs.datasets import AVSBenchMS3Dataset, AVSBenchS4Dataset
from mmavs.datasets.data_check import DataCheckError, check_dataset
from mmavs.datasets.layout import S4Layout
from mmavs.engine.hooks import DataCheckHook


def _truncate(path, fraction):
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:int(len(data) * fraction)])


def _damage(root):
    """Damage one file of each kind in the S4 val split; returns {kind: path}."""
    ds = AVSBenchS4Dataset(data_root=str(root), split='val')
    v0, v1, v2 = ds.video_infos
    paths = dict(
        truncated_png=v0['frames'][1]['img_path'],
        small_mask=v0['frames'][2]['seg_map_path'],
        grey_mask=v0['frames'][3]['seg_map_path'],
        truncated_wav=v0['audio_path'],
        nan_wav=v1['audio_path'],
        short_wav=v2['audio_path'])
    _truncate(paths['truncated_png'], 0.5)
    Image.fromarray(np.zeros((32, 48), np.uint8)).save(paths['small_mask'])
    mask = np.zeros((64, 64), np.uint8)
    mask[:8, :8] = 128
    Image.fromarray(mask).save(paths['grey_mask'])
    _truncate(paths['truncated_wav'], 0.03)
    wave = np.zeros(80000, np.float32)
    wave[100] = np.nan
    sf.write(paths['nan_wav'], wave, 16000, subtype='FLOAT')
    sf.write(paths['short_wav'], np.zeros(32000, np.float32), 16000, subtype='PCM_16')
    return ds, paths


def test_clean_tree_has_no_problem(tiny_root):
    for cls in (AVSBenchS4Dataset, AVSBenchMS3Dataset):
        for split in ('train', 'val', 'test'):
            ds = cls(data_root=str(tiny_root), split=split)
            assert check_dataset(ds, 'full', workers=2) == []


def test_full_check_lists_every_problem_with_expected_and_found(tiny_tree_copy):
    ds, paths = _damage(tiny_tree_copy)
    problems = check_dataset(ds, 'full', workers=2)
    by_path = {}
    for p in problems:
        by_path.setdefault(p.path, []).append(p)
    assert set(paths.values()) <= set(by_path), sorted(set(paths.values()) - set(by_path))
    assert 'truncated' in by_path[paths['truncated_png']][0].problem or \
        'decoded' in by_path[paths['truncated_png']][0].problem
    small = by_path[paths['small_mask']][0]
    assert small.expected.startswith('64x64') and small.found == '48x32'
    assert by_path[paths['grey_mask']][0].found == '128'
    wav = by_path[paths['truncated_wav']][0]
    assert wav.expected == '80000 frames (header)' and int(wav.found.split()[0]) < 2400
    assert 'NaN' in by_path[paths['nan_wav']][0].problem
    assert by_path[paths['short_wav']][0].found == '2.000 s'
    assert all(p.where.startswith('line ') for p in problems)
    message = str(DataCheckError(problems))
    assert f'{len(problems)} problem(s)' in message and all(p in message for p in paths.values())


def test_fast_check_reads_headers_and_sizes_only(tiny_tree_copy):
    ds, paths = _damage(tiny_tree_copy)
    found = {p.path for p in check_dataset(ds, 'fast', workers=2)}
    # sizes and wav headers are checked; decoding problems are left to the full check
    assert {paths['small_mask'], paths['truncated_wav'], paths['short_wav']} <= found
    assert paths['grey_mask'] not in found and paths['nan_wav'] not in found


def test_corrupt_log_mel_cache_is_found(tiny_tree_copy):
    ds = AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='test')
    pkl = ds.video_infos[0]['log_mel_path']
    S4Layout(str(tiny_tree_copy))  # the cache lives beside the wavs
    import os
    os.makedirs(os.path.dirname(pkl), exist_ok=True)
    with open(pkl, 'wb') as f:
        pickle.dump(np.zeros((5, 1, 96, 63), np.float32), f)
    problems = check_dataset(ds, 'full', workers=1)
    assert [p.path for p in problems] == [pkl] and '[N, 1, 96, 64]' in problems[0].problem


def _rewrite_csv(root, old, new):
    path = S4Layout(str(root)).csv_path
    lines = open(path).read().splitlines()
    line = next(i for i, text in enumerate(lines) if old in text)
    lines[line] = lines[line].replace(old, new)
    open(path, 'w').write('\n'.join(lines) + '\n')
    return path, line + 1


def test_unknown_split_in_the_csv_names_its_line(tiny_tree_copy):
    path, line = _rewrite_csv(tiny_tree_copy, ',val', ',Train')
    with pytest.raises(ValueError) as err:
        AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='train')
    assert f"line {line}: unknown split 'Train'" in str(err.value) and path in str(err.value)


def test_unknown_category_in_the_csv_names_its_line(tiny_tree_copy):
    rows = open(S4Layout(str(tiny_tree_copy)).csv_path).read().splitlines()
    category = rows[1].split(',')[2]
    path, line = _rewrite_csv(tiny_tree_copy, f',{category},', ',dogg,')
    split = rows[line - 1].split(',')[3]
    with pytest.raises(ValueError, match=f"line {line}: unknown category 'dogg'"):
        AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split=split)


def test_truncated_wav_raises_in_the_pipeline_and_warns_in_infer_mode(tiny_tree_copy):
    ds = AVSBenchS4Dataset(
        data_root=str(tiny_tree_copy),
        split='train',
        use_log_mel_cache=False,
        pipeline=[dict(type='LoadAVSAudio', cache_size=0)])
    wav = ds.get_data_info(0)['audio_path']
    _truncate(wav, 0.03)
    frames = wav_header_frames(wav)
    assert frames.header == 80000 and frames.available < 2400
    with pytest.raises(AudioLengthError, match='frames readable .* header declares 80000') as err:
        ds[0]
    assert wav in str(err.value)
    with pytest.warns(UserWarning, match='header declares 80000'):
        waveform, _ = load_audio(wav, on_mismatch='warn')
    assert len(waveform) == frames.available


def test_clip_of_another_length_raises_with_both_durations(tmp_path):
    path = tmp_path / 'clip.wav'
    sf.write(path, np.zeros(16000 * 3, np.float32), 16000)
    with pytest.raises(AudioLengthError, match=r'lasts 3\.000 s .* expected a clip of 5 s'):
        load_audio(path, expected_seconds=5)
    load_audio(path, expected_seconds=5, tolerance=2.5)
    load_audio(path)  # no clip length asked: any length


def test_data_check_hook_stops_training_before_the_first_iteration(tiny_tree_copy):
    ds, paths = _damage(tiny_tree_copy)
    runner = SimpleNamespace(
        cfg=dict(data_check='fast'), train_dataloader=SimpleNamespace(dataset=ds), _val_loop=None)
    with pytest.raises(DataCheckError) as err:
        DataCheckHook().before_train(runner)
    assert paths['truncated_wav'] in str(err.value) and paths['small_mask'] in str(err.value)
    DataCheckHook().before_train(
        SimpleNamespace(**{
            **runner.__dict__, 'cfg': dict(data_check='off')
        }))
    with pytest.raises(ValueError, match='data_check'):
        DataCheckHook(mode='deep')
