# Copyright (c) mmavs contributors. All rights reserved.
"""AddNegativeAudio, and that negatives are featurised exactly like positives."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from mmavs.datasets.robust import RobustTestDataset, make_noise
from mmavs.datasets.transforms.negative_audio import AddNegativeAudio
from mmavs_testing.robust import s4_pipeline, write_wav


def sample(condition, **negative):
    return dict(
        condition=condition,
        negative=negative,
        video_id='vid',
        frame_idx=2,
        img_path='vid_3.png',
        seg_map_path='vid_mask_3.png',
        is_sounding=1,
        audio_path='vid.wav')


def test_positive_passes_through_untouched():
    results = sample('positive')
    out = AddNegativeAudio()(dict(results))
    assert out == results


@pytest.mark.parametrize('condition,negative,source', [
    ('silence', {}, 'silence'),
    ('noise', dict(noise_type='brown', noise_seed=9,
                   noise_dbfs=-30.0), 'noise:brown:seed=9:dbfs=-30.0'),
])
def test_generated_negatives_empty_the_mask_and_record_their_source(condition, negative, source):
    out = AddNegativeAudio()(sample(condition, **negative))
    assert out['audio_waveform'].dtype == np.float32 and out['audio_waveform'].shape == (80000, )
    assert out['audio_sample_rate'] == 16000
    assert out['is_sounding'] == 0 and out['seg_map_path'] is None
    assert out['condition'] == condition and out['negative_source'] == source
    if condition == 'noise':
        assert np.array_equal(out['audio_waveform'], make_noise('brown', 9, -30.0))


def test_noise_without_a_spec_uses_the_transform_defaults():
    out = AddNegativeAudio(noise_type='pink', noise_dbfs=-25)(sample('noise'))
    assert out['negative_source'].startswith('noise:pink:seed=')
    again = AddNegativeAudio(noise_type='pink', noise_dbfs=-25)(sample('noise'))
    assert np.array_equal(out['audio_waveform'], again['audio_waveform'])


def test_offscreen_and_unseen_load_real_audio(tmp_path, unseen_dir):
    donor = write_wav(tmp_path / 'donor.wav', 0.2 * np.ones(16000 * 5, np.float32), 16000)
    out = AddNegativeAudio()(sample('offscreen', donor_audio_path=donor, donor_video_id='d1'))
    assert out['negative_source'] == 'offscreen:d1'
    assert np.allclose(out['audio_waveform'], 0.2)
    transform = AddNegativeAudio(unseen_dir=unseen_dir)
    out = transform(sample('unseen', unseen_file='hum.wav'))
    assert out['negative_source'] == 'unseen:hum.wav' and out['audio_waveform'].shape == (80000, )
    absolute = AddNegativeAudio()(sample('unseen', unseen_file=osp.join(unseen_dir, 'hum.wav')))
    assert np.array_equal(out['audio_waveform'], absolute['audio_waveform'])


def test_missing_or_unknown_specs_are_refused():
    with pytest.raises(KeyError, match='donor_audio_path'):
        AddNegativeAudio()(sample('offscreen'))
    with pytest.raises(KeyError, match='unseen_file'):
        AddNegativeAudio()(sample('unseen'))
    with pytest.raises(ValueError, match='thunder'):
        AddNegativeAudio()(sample('thunder'))
    with pytest.raises(ValueError):
        AddNegativeAudio(noise_type='grey')


def test_noise_negative_and_the_same_waveform_as_a_positive_give_identical_features(
        synth_root, tmp_path):
    """The audit the authors' release fails: one featurisation for every audio."""
    pipeline = Compose(s4_pipeline())
    dataset = RobustTestDataset(
        dict(
            type='AVSBenchS4Dataset',
            data_root=synth_root,
            split='test',
            pipeline=[],
            test_mode=True),
        conditions=('positive', ),
        lazy_init=False)
    base = dataset.get_data_info(3)
    negative = pipeline(
        dict(
            base,
            condition='noise',
            negative=dict(noise_type='pink', noise_seed=5, noise_dbfs=-20.0)))
    wav = write_wav(tmp_path / 'noise.wav', make_noise('pink', 5, -20.0), 16000)
    positive = pipeline(dict(base, audio_path=wav, log_mel_path=None))
    assert positive['data_samples'].is_sounding == 1
    assert negative['data_samples'].is_sounding == 0
    assert torch.equal(negative['inputs']['audio'], positive['inputs']['audio'])
    assert torch.equal(negative['inputs']['img'], positive['inputs']['img'])
    assert negative['data_samples'].gt_sem_seg.data.sum() == 0
    assert positive['data_samples'].gt_sem_seg.data.sum() > 0
