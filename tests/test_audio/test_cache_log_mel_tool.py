# Copyright (c) mmavs contributors. All rights reserved.
"""tools/dataset_converters/cache_log_mel.py end to end on a tiny AVSBench-layout tree."""
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from mmavs.audio import load_audio, load_log_mel_cache, waveform_to_examples

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'dataset_converters' / 'cache_log_mel.py'


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('mmavs_cache_log_mel_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_wav(path, seconds, rate=16000, channels=2, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.random.default_rng(seed).uniform(-0.3, 0.3, (int(seconds * rate), channels))
    sf.write(path, data, rate, subtype='PCM_16')
    return path


@pytest.fixture
def tree(tmp_path):
    s4 = tmp_path / 'Single-source' / 's4_data' / 'audio_wav'
    ms3 = tmp_path / 'Multi-sources' / 'ms3_data' / 'audio_wav'
    wavs = [
        write_wav(s4 / 'train' / 'dog' / 'clipA.wav', 5.0, seed=1),
        write_wav(s4 / 'test' / 'lions' / 'clipB.wav', 2.0, rate=22050, seed=2),
        write_wav(ms3 / 'val' / 'vid001.wav', 1.2, rate=48000, channels=1, seed=3),
    ]
    return tmp_path, wavs


def cache_of(root, wav):
    rel = wav.relative_to(root)
    parts = ['audio_log_mel' if part == 'audio_wav' else part for part in rel.parts]
    return root.joinpath(*parts).with_suffix('.pkl')


def test_caches_every_wav_in_avsbench_layout(tool, tree, capsys):
    root, wavs = tree
    assert tool.main([str(root)]) == 0
    expected_paths = [
        root / 'Single-source/s4_data/audio_log_mel/train/dog/clipA.pkl',
        root / 'Single-source/s4_data/audio_log_mel/test/lions/clipB.pkl',
        root / 'Multi-sources/ms3_data/audio_log_mel/val/vid001.pkl',
    ]
    for wav, cache in zip(wavs, expected_paths):
        assert cache.is_file() and cache_of(root, wav) == cache
        examples = load_log_mel_cache(cache)
        assert tuple(examples.shape) == (5, 96, 64)
        waveform, rate = load_audio(wav)
        assert torch.equal(examples, waveform_to_examples(waveform, rate, num_examples=5))
    assert '3 cached, 0 up to date, 0 failed' in capsys.readouterr().out


def test_skips_up_to_date_and_redoes_stale_or_overwritten(tool, tree, capsys):
    root, wavs = tree
    assert tool.main([str(root)]) == 0
    caches = [cache_of(root, wav) for wav in wavs]
    capsys.readouterr()
    mtimes = [c.stat().st_mtime_ns for c in caches]
    assert tool.main([str(root)]) == 0
    assert '0 cached, 3 up to date' in capsys.readouterr().out
    assert [c.stat().st_mtime_ns for c in caches] == mtimes
    # a wav newer than its cache is redone
    stamp = caches[0].stat().st_mtime + 10
    os.utime(wavs[0], (stamp, stamp))
    assert tool.main([str(root)]) == 0
    assert '1 cached, 2 up to date' in capsys.readouterr().out
    assert tool.main([str(root), '--overwrite']) == 0
    assert '3 cached, 0 up to date' in capsys.readouterr().out


def test_resumes_after_interruption(tool, tree, capsys):
    root, wavs = tree
    assert tool.main([str(root), '--subset', 's4']) == 0
    assert not cache_of(root, wavs[2]).exists()
    # a stray temp file from a killed writer does not count as a cache
    stray = cache_of(root, wavs[2]).parent / '.vid001.pkl.abc.tmp'
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b'partial')
    capsys.readouterr()
    assert tool.main([str(root)]) == 0
    assert '1 cached, 2 up to date' in capsys.readouterr().out
    assert cache_of(root, wavs[2]).is_file()


def test_subset_selection_and_num_examples(tool, tree):
    root, wavs = tree
    assert tool.main([str(root), '--subset', 'ms3', '--num-examples', '3']) == 0
    assert tuple(load_log_mel_cache(cache_of(root, wavs[2])).shape) == (3, 96, 64)
    assert not cache_of(root, wavs[0]).exists()


def test_bad_wav_is_reported_and_others_cached(tool, tree, capsys):
    root, wavs = tree
    bad = root / 'Single-source/s4_data/audio_wav/train/dog/broken.wav'
    bad.write_bytes(b'not a wav')
    assert tool.main([str(root)]) == 1
    captured = capsys.readouterr()
    assert 'broken.wav' in captured.err and '3 cached' in captured.out
    assert all(cache_of(root, wav).is_file() for wav in wavs)


def test_missing_audio_folders_exit_2(tool, tmp_path, capsys):
    assert tool.main([str(tmp_path), '--subset', 's4']) == 2
    assert 'Single-source/s4_data/audio_wav' in capsys.readouterr().err
