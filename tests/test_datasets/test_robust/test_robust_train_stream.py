# Copyright (c) mmavs contributors. All rights reserved.
"""RobustTrainDataset + RobustSampler: ratios, held-out noise, determinism, workers, DDP shards."""
import itertools
from collections import Counter

import pytest
import torch
from mmengine.dataset import DefaultSampler
from mmseg.registry import DATASETS
from torch.utils.data import DataLoader

from mmavs.datasets.categories import CATEGORY_GROUPS
from mmavs.datasets.robust import (RobustInfiniteSampler, RobustSampler, RobustTrainDataset,
                                   is_valid_donor, stream_layout)
from mmavs_testing.robust import s4_pipeline


def conditions_of_epoch(dataset, epoch):
    length = len(dataset)
    return Counter(dataset.describe(epoch * length + p)['condition'] for p in range(length))


def as_list(batch):
    return batch


@pytest.mark.parametrize('num_positive,ratios', [
    (3452, dict(offscreen=0.05, silence=0.05)),
    (1777, dict(offscreen=0.1, silence=0.03, noise=0.02)),
    (90, dict(offscreen=0.05, silence=0.05)),
])
def test_stream_layout_hits_the_ratios(num_positive, ratios):
    length, counts = stream_layout(num_positive, ratios)
    assert sum(counts.values()) == length - num_positive
    assert (length - num_positive) / length >= sum(ratios.values()) - 1 / length
    for condition, ratio in ratios.items():
        assert abs(counts[condition] / length - ratio) <= 0.01


def test_epoch_ratios_are_within_one_percent(toy_dataset):
    dataset = RobustTrainDataset(toy_dataset(2000), seed=3)
    for epoch in (0, 4):
        counts = conditions_of_epoch(dataset, epoch)
        total = sum(counts.values())
        assert total == len(dataset) and counts['positive'] == 2000
        assert abs(counts['positive'] / total - 0.90) <= 0.01
        assert abs(counts['offscreen'] / total - 0.05) <= 0.01
        assert abs(counts['silence'] / total - 0.05) <= 0.01
        assert set(counts) == {'positive', 'offscreen', 'silence'}


def test_noise_is_held_out_of_training(toy_dataset):
    with pytest.raises(ValueError, match='held out of training'):
        RobustTrainDataset(toy_dataset(50), neg_ratios=dict(noise=0.05, silence=0.05))
    with pytest.raises(ValueError, match='held out of training'):
        RobustTrainDataset(toy_dataset(50), neg_ratios=dict(unseen=0.05))
    allowed = RobustTrainDataset(
        toy_dataset(200), neg_ratios=dict(noise=0.1), allow_noise_in_training=True)
    assert conditions_of_epoch(allowed, 0)['noise'] == len(allowed) - 200
    default = RobustTrainDataset(toy_dataset(200))
    for epoch in range(3):
        assert 'noise' not in conditions_of_epoch(default, epoch)


def test_training_donors_follow_the_group_rules_and_change_per_epoch(toy_dataset):
    dataset = RobustTrainDataset(toy_dataset(460), neg_ratios=dict(offscreen=0.2))
    donors = {}
    for epoch in range(3):
        for p in range(460, len(dataset)):
            item = dataset.describe(epoch * len(dataset) + p)
            info = dataset.dataset.get_data_info(item['frame_index'])
            negative = item['negative']
            assert negative['donor_rule'] == 'group'
            assert is_valid_donor(info['category'], negative['donor_category'], CATEGORY_GROUPS)
            donors[epoch, p] = (item['frame_index'], negative['donor_video_id'])
    assert [donors[0, p] for p in range(460, len(dataset))] != \
        [donors[1, p] for p in range(460, len(dataset))]


def test_same_seed_same_stream_other_epoch_or_seed_differs(toy_dataset):
    a = RobustTrainDataset(toy_dataset(300), seed=1)
    b = RobustTrainDataset(toy_dataset(300), seed=1)
    c = RobustTrainDataset(toy_dataset(300), seed=2)
    length = len(a)
    for epoch in range(3):
        span = range(epoch * length, (epoch + 1) * length)
        assert [a.describe(i) for i in span] == [b.describe(i) for i in span]
    epoch0 = [a.describe(i)['negative'] for i in range(300, length)]
    epoch1 = [a.describe(length + i)['negative'] for i in range(300, length)]
    other_seed = [c.describe(i)['negative'] for i in range(300, length)]
    assert epoch0 != epoch1 and epoch0 != other_seed


def test_sampler_encodes_the_epoch_and_keeps_default_sampler_order(toy_dataset):
    dataset = RobustTrainDataset(toy_dataset(40))
    sampler = RobustSampler(dataset, seed=5)
    reference = DefaultSampler(dataset, seed=5)
    for epoch in (0, 3):
        sampler.set_epoch(epoch)
        reference.set_epoch(epoch)
        assert list(sampler) == [epoch * len(dataset) + i for i in reference]
    with pytest.raises(TypeError, match='RobustTrainDataset'):
        RobustSampler(dataset.dataset)


def test_two_ranks_cover_the_stream_without_overlap(toy_dataset, monkeypatch):
    import mmengine.dataset.sampler as sampler_module
    dataset = RobustTrainDataset(toy_dataset(90))  # L = 100, even
    shards = []
    for rank in range(2):
        monkeypatch.setattr(sampler_module, 'get_dist_info', lambda rank=rank: (rank, 2))
        sampler = RobustSampler(dataset, seed=11)
        sampler.set_epoch(2)
        shards.append(list(sampler))
    assert len(shards[0]) == len(shards[1]) == 50
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == list(range(200, 300))


def test_infinite_sampler_draws_fresh_negatives_every_pass(toy_dataset):
    dataset = RobustTrainDataset(toy_dataset(45))  # L = 50
    indices = list(itertools.islice(iter(RobustInfiniteSampler(dataset, seed=0)), 150))
    for k in range(3):
        assert sorted(indices[50 * k:50 * (k + 1)]) == list(range(50 * k, 50 * (k + 1)))


def test_dataloader_workers_yield_the_same_negatives(toy_dataset):
    dataset = RobustTrainDataset(toy_dataset(36), neg_ratios=dict(offscreen=0.1, silence=0.1))
    sampler = RobustSampler(dataset, seed=0)

    def run(loader):
        return [s for batch in loader for s in batch]

    single = run(DataLoader(dataset, batch_size=4, sampler=sampler, collate_fn=as_list))
    workers = DataLoader(
        dataset,
        batch_size=4,
        sampler=sampler,
        collate_fn=as_list,
        num_workers=2,
        persistent_workers=True)
    assert run(workers) == single
    # 9 negative slots split 4.5 / 4.5: the tie goes to the earlier condition (silence).
    assert Counter(s['condition'] for s in single) == dict(positive=36, silence=5, offscreen=4)
    # Persistent workers never see the sampler's epoch as an attribute, only through the index.
    sampler.set_epoch(1)
    second = run(workers)
    assert second == run(DataLoader(dataset, batch_size=4, sampler=sampler, collate_fn=as_list))
    sources = lambda samples: sorted(  # noqa: E731
        (s['video_id'], s['source']) for s in samples if s['condition'] == 'offscreen')
    assert sources(second) != sources(single)


def test_synth_avs_negatives_have_empty_masks(synth_root):
    dataset = RobustTrainDataset(
        dict(type='AVSBenchS4Dataset', data_root=synth_root, split='train', pipeline=s4_pipeline()),
        neg_ratios=dict(offscreen=0.2, silence=0.2))
    assert len(dataset) == 20 and dataset.negative_counts == dict(silence=4, offscreen=4)
    seen = set()
    for index in range(12, 20):
        packed = dataset[index]
        sample = packed['data_samples']
        seen.add(sample.condition)
        assert sample.is_sounding == 0 and sample.gt_sem_seg.data.sum() == 0
        assert packed['inputs']['audio'].shape == (96, 64)
        assert sample.video_id == dataset.get_data_info(index)['video_id']
    assert seen == {'offscreen', 'silence'}
    positive = dataset[0]['data_samples']
    assert positive.condition == 'positive' and positive.is_sounding == 1
    assert positive.gt_sem_seg.data.sum() > 0
    silence = dataset[12]['inputs']['audio']
    assert torch.allclose(silence, torch.full_like(silence, torch.log(torch.tensor(0.01))))


def test_add_negative_audio_comes_first_in_the_wrapped_pipeline(synth_root):
    pipeline = s4_pipeline()[1:]
    # a config without it gets it first; a built dataset without it is refused
    stream = RobustTrainDataset(
        dict(type='AVSBenchS4Dataset', data_root=synth_root, split='train', pipeline=pipeline))
    assert type(stream.dataset.pipeline.transforms[0]).__name__ == 'AddNegativeAudio'
    built = DATASETS.build(
        dict(type='AVSBenchS4Dataset', data_root=synth_root, split='train', pipeline=pipeline))
    with pytest.raises(ValueError, match='AddNegativeAudio'):
        RobustTrainDataset(built)
    late = pipeline[:2] + [dict(type='AddNegativeAudio')] + pipeline[2:]
    with pytest.raises(ValueError, match='before LoadAVSMask'):
        RobustTrainDataset(
            dict(type='AVSBenchS4Dataset', data_root=synth_root, split='train', pipeline=late))
