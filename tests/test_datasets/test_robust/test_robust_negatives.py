# Copyright (c) mmavs contributors. All rights reserved.
"""Negative waveforms (silence, noise, unseen) and the off-screen donor rules."""
import os.path as osp

import numpy as np
import pytest

from mmavs.audio import AudioLoadError, rms_dbfs
from mmavs.datasets.categories import AVSBENCH_S4_GROUPS, COARSE_GROUPS, SYNTH_CATEGORY_GROUPS
from mmavs.datasets.robust import (DonorPool, allowed_donor_groups, fit_length, is_valid_donor,
                                   list_unseen_recordings, load_unseen_waveform, make_noise,
                                   make_silence, resolve_unseen_dir, stable_hash, standard_normal)
from mmavs.utils.constants import CLIP_SAMPLES


def test_silence_is_five_seconds_of_digital_zeros():
    silence = make_silence()
    assert silence.dtype == np.float32 and silence.shape == (80000, )
    assert not silence.any()


@pytest.mark.parametrize('noise_type', ['white', 'pink', 'brown'])
@pytest.mark.parametrize('dbfs', [-20.0, -6.0, -35.5])
def test_noise_has_the_stated_rms_level_and_range(noise_type, dbfs):
    noise = make_noise(noise_type, seed=7, dbfs=dbfs)
    assert noise.dtype == np.float32 and noise.shape == (CLIP_SAMPLES, )
    assert np.abs(noise).max() <= 1.0
    assert rms_dbfs(noise) == pytest.approx(dbfs, abs=0.01)
    assert abs(float(noise.mean())) < 0.05 * 10**(dbfs / 20)


@pytest.mark.parametrize('noise_type,slope', [('white', 0.0), ('pink', -1.0), ('brown', -2.0)])
def test_noise_spectrum_falls_as_one_over_f_to_the_exponent(noise_type, slope):
    noise = make_noise(noise_type, seed=11, num_samples=2**17).astype(np.float64)
    power = np.abs(np.fft.rfft(noise))**2
    freqs = np.fft.rfftfreq(noise.size, d=1 / 16000)
    edges = np.geomspace(50, 5000, 25)
    centres, levels = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        band = (freqs >= lo) & (freqs < hi)
        centres.append(np.log10(np.sqrt(lo * hi)))
        levels.append(np.log10(power[band].mean()))
    fitted = np.polyfit(centres, levels, 1)[0]
    assert fitted == pytest.approx(slope, abs=0.12)


def test_noise_is_reproducible_from_its_seed_and_differs_across_seeds():
    a = make_noise('pink', seed=5)
    assert np.array_equal(a, make_noise('pink', seed=5))
    assert not np.allclose(a, make_noise('pink', seed=6))
    assert not np.allclose(a, make_noise('white', seed=5))


def test_standard_normal_has_unit_moments():
    x = standard_normal(123, 200001)
    assert x.shape == (200001, )
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    assert abs(np.mean(np.abs(x) > 1.96) - 0.05) < 0.003


def test_noise_rejects_unknown_colour_and_positive_level():
    with pytest.raises(ValueError, match='violet'):
        make_noise('violet', 0)
    with pytest.raises(ValueError, match='< 0 dB FS'):
        make_noise('white', 0, dbfs=3.0)


def test_stable_hash_is_fixed_across_processes():
    # A changed hash would silently change every published manifest: pin one value.
    assert stable_hash(42, 'noise', 'test', 'abc') == int.from_bytes(
        __import__('hashlib').sha256('42\x1fnoise\x1ftest\x1fabc'.encode()).digest()[:8], 'little')
    assert stable_hash(1, 2) != stable_hash(12)


def test_fit_length_cuts_or_loops():
    x = np.arange(5, dtype=np.float32)
    assert fit_length(x, 3).tolist() == [0, 1, 2]
    assert fit_length(x, 12).tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    with pytest.raises(ValueError):
        fit_length(np.zeros(0), 3)


def test_unseen_recordings_are_listed_loaded_mono_16k_and_fitted(unseen_dir):
    names = list_unseen_recordings(unseen_dir)
    assert names == ['chirp.wav', 'hum.wav']
    for name in names:
        waveform = load_unseen_waveform(osp.join(unseen_dir, name))
        assert waveform.dtype == np.float32 and waveform.shape == (80000, )
        assert np.abs(waveform).max() <= 1.0 and waveform.std() > 0.01
    with pytest.raises(AudioLoadError, match='missing.wav'):
        load_unseen_waveform(osp.join(unseen_dir, 'missing.wav'))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        list_unseen_recordings(osp.join(unseen_dir, 'nowhere'))


def test_unseen_dir_defaults_to_the_shipped_recordings(tmp_path, monkeypatch, unseen_audio_files):
    monkeypatch.chdir(tmp_path)
    resolved = resolve_unseen_dir(None)
    assert osp.isabs(resolved) and resolved == str(unseen_audio_files[0].parent)
    assert resolved.endswith(osp.join('mmavs', 'resources', 'unseen_audio'))
    assert len(list_unseen_recordings(resolved)) == 15
    (tmp_path / 'local').mkdir()
    assert resolve_unseen_dir('local') == str(tmp_path / 'local')
    assert resolve_unseen_dir(str(tmp_path)) == str(tmp_path)


def test_allowed_donor_groups_follow_avsbench_robust():
    assert set(allowed_donor_groups('music')) == {'animal', 'device'}
    assert set(allowed_donor_groups('human')) == {'animal', 'device'}
    assert set(allowed_donor_groups('animal')) == {'music', 'device'}
    assert set(allowed_donor_groups('device')) == {'music', 'human', 'animal'}
    for group in COARSE_GROUPS:
        assert group not in allowed_donor_groups(group)
    with pytest.raises(ValueError, match='plants'):
        allowed_donor_groups('plants')


def _check_pool_draws(categories, groups, expect_rule):
    ids = [f'v{i}' for i in range(len(categories))]
    pool = DonorPool(ids, categories, groups)
    for target in range(len(ids)):
        for key in range(8):
            donor, rule = pool.draw(target, 42, key)
            assert donor != target and rule == expect_rule
            if rule == 'group':
                assert is_valid_donor(categories[target], categories[donor], groups)
            elif rule == 'other_class':
                assert categories[donor] != categories[target]
    return pool


@pytest.mark.parametrize('table', [AVSBENCH_S4_GROUPS, SYNTH_CATEGORY_GROUPS])
def test_donor_pool_always_respects_the_group_rules(table):
    categories = [c for c in table for _ in range(3)]
    pool = _check_pool_draws(categories, table, 'group')
    music = categories.index(next(c for c in table if table[c] == 'music'))
    indices, _ = pool.candidates(music)
    assert {table[categories[i]] for i in indices} == {'animal', 'device'}


def test_donor_pool_falls_back_to_any_other_class():
    # Music and human only: no allowed group exists, so any other class donates.
    categories = ['playing_piano', 'playing_violin', 'male_speech', 'playing_piano']
    _check_pool_draws(categories, AVSBENCH_S4_GROUPS, 'other_class')


def test_donor_pool_without_categories_uses_any_other_video():
    _check_pool_draws(['multi'] * 5, AVSBENCH_S4_GROUPS, 'other_video')
    with pytest.raises(ValueError, match='no other video'):
        DonorPool(['only'], ['multi']).candidates(0)


def test_donor_draws_are_deterministic_and_spread():
    categories = [c for c in AVSBENCH_S4_GROUPS for _ in range(4)]
    pool = DonorPool([f'v{i}' for i in range(len(categories))], categories)
    draws = [pool.draw(0, 42, k)[0] for k in range(400)]
    assert draws == [pool.draw(0, 42, k)[0] for k in range(400)]
    eligible = len(pool.candidates(0)[0])
    assert len(set(draws)) > 0.8 * eligible
