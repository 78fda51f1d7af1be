# Copyright (c) mmavs contributors. All rights reserved.
"""Log-mel cache files: AVSBench's pickled tensors, our own files, atomic writes, errors."""
import os
import pickle

import numpy as np
import pytest
import torch

from mmavs.audio import load_log_mel_cache, save_log_mel_cache, waveform_to_examples


def random_examples(n=5, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).normal(size=(n, 96, 64)).astype(np.float32))


def write_avsbench_style(path, examples_np):
    """Write a cache the way AVSBench made theirs: torchvggish's tensor, pickled as it is."""
    tensor = torch.tensor(examples_np, requires_grad=True)[:, None, :, :].float()
    with open(path, 'wb') as file:
        pickle.dump(tensor, file)


def test_reads_avsbench_pickled_tensor(tmp_path):
    data = np.random.default_rng(1).normal(size=(5, 96, 64))  # float64, as the reference made it
    path = tmp_path / 'avsbench.pkl'
    write_avsbench_style(path, data)
    loaded = load_log_mel_cache(path)
    assert tuple(loaded.shape) == (5, 96, 64) and loaded.dtype == torch.float32
    assert not loaded.requires_grad
    np.testing.assert_allclose(loaded.numpy(), data.astype(np.float32))


def test_round_trip_and_on_disk_format(tmp_path):
    examples = random_examples()
    path = tmp_path / 'sub' / 'dir' / 'clip.pkl'
    assert save_log_mel_cache(path, examples) == path
    with open(path, 'rb') as file:
        raw = pickle.load(file)
    # AVSBench's format: a float32 torch tensor [N, 1, 96, 64]
    assert isinstance(raw, torch.Tensor) and raw.dtype == torch.float32
    assert tuple(raw.shape) == (5, 1, 96, 64)
    assert torch.equal(raw[:, 0], examples)
    assert torch.equal(load_log_mel_cache(path), examples)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_accepts_four_dim_and_numpy_inputs(tmp_path):
    examples = random_examples(3, seed=2)
    save_log_mel_cache(tmp_path / 'a.pkl', examples[:, None])
    save_log_mel_cache(tmp_path / 'b.pkl', examples.numpy())
    assert torch.equal(load_log_mel_cache(tmp_path / 'a.pkl'), examples)
    assert torch.equal(load_log_mel_cache(tmp_path / 'b.pkl'), examples)


def test_reads_pickled_numpy_and_torch_save_files(tmp_path):
    examples = random_examples(2, seed=3)
    with open(tmp_path / 'np.pkl', 'wb') as file:
        pickle.dump(examples.numpy()[:, None].astype(np.float64), file)
    torch.save(examples[:, None], tmp_path / 'saved.pkl')
    torch.testing.assert_close(load_log_mel_cache(tmp_path / 'np.pkl'), examples)
    assert torch.equal(load_log_mel_cache(tmp_path / 'saved.pkl'), examples)


def test_num_examples_pads_and_cuts(tmp_path):
    examples = random_examples(3, seed=4)
    save_log_mel_cache(tmp_path / 'c.pkl', examples)
    padded = load_log_mel_cache(tmp_path / 'c.pkl', num_examples=5)
    assert tuple(padded.shape) == (5, 96, 64) and torch.equal(padded[4], examples[2])
    assert torch.equal(load_log_mel_cache(tmp_path / 'c.pkl', num_examples=2), examples[:2])


def test_cache_of_a_waveform_equals_featurisation(tmp_path):
    wave = np.random.default_rng(5).uniform(-0.5, 0.5, 80000).astype(np.float32)
    examples = waveform_to_examples(wave, 16000, num_examples=5)
    save_log_mel_cache(tmp_path / 'w.pkl', examples)
    assert torch.equal(load_log_mel_cache(tmp_path / 'w.pkl'), examples)


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / 'clip.pkl'
    old = random_examples(5, seed=6)
    save_log_mel_cache(path, old)

    def broken_fsync(fd):  # the new bytes are in the temporary file, not yet renamed
        raise KeyboardInterrupt('interrupted mid-write')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(KeyboardInterrupt):
        save_log_mel_cache(path, random_examples(5, seed=7))
    monkeypatch.undo()
    assert torch.equal(load_log_mel_cache(path), old)  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ['clip.pkl']  # no temp file left


@pytest.mark.parametrize('obj, message', [
    (torch.zeros(5, 2, 96, 64), r'found shape \[5, 2, 96, 64\]'),
    (torch.zeros(5, 96, 32), r'found shape \[5, 96, 32\]'),
    (torch.zeros(0, 1, 96, 64), 'found 0'),
    ({
        'log_mel': 1
    }, 'found dict'),
    (torch.full((1, 96, 64), float('nan')), 'non-finite'),
])
def test_bad_content_names_the_file(tmp_path, obj, message):
    path = tmp_path / 'bad_cache.pkl'
    with open(path, 'wb') as file:
        pickle.dump(obj, file)
    with pytest.raises(ValueError, match=message) as info:
        load_log_mel_cache(path)
    assert 'bad_cache.pkl' in str(info.value)


def test_corrupt_and_missing_files(tmp_path):
    path = tmp_path / 'corrupt.pkl'
    path.write_bytes(b'\x80\x04not a pickle at all')
    with pytest.raises(ValueError, match='corrupt.pkl'):
        load_log_mel_cache(path)
    with pytest.raises(FileNotFoundError, match='missing.pkl'):
        load_log_mel_cache(tmp_path / 'missing.pkl')


def test_save_refuses_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match='found shape'):
        save_log_mel_cache(tmp_path / 'x.pkl', torch.zeros(5, 64, 96))
    assert not os.listdir(tmp_path)
