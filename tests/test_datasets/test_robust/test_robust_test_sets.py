# Copyright (c) mmavs contributors. All rights reserved.
"""RobustTestDataset (conditions x split, manifest-driven) and the robust data configs."""
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmseg.registry import DATA_SAMPLERS, DATASETS

from mmavs.datasets.robust import RobustTestDataset, RobustTrainDataset
from mmavs.datasets.robust.manifest import ManifestError, default_manifest_path, load_manifest
from mmavs_testing.robust import run_tool, s4_pipeline

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'datasets')
ALL = ('positive', 'silence', 'noise', 'offscreen', 'unseen')


def s4_test_cfg(root, split='test', pipeline=None):
    return dict(
        type='AVSBenchS4Dataset',
        data_root=root,
        split=split,
        pipeline=s4_pipeline() if pipeline is None else pipeline,
        test_mode=True)


def test_missing_manifest_error_names_the_command(synth_root):
    with pytest.raises(ManifestError, match='make_robust_manifest.py .* --subset s4 --seed 42'):
        RobustTestDataset(s4_test_cfg(synth_root))
    # Positives only need no manifest.
    assert len(RobustTestDataset(s4_test_cfg(synth_root), conditions=('positive', ))) == 30


def test_test_set_replicates_the_split_per_condition(synth_root, unseen_dir):
    dataset = RobustTestDataset(
        s4_test_cfg(synth_root),
        conditions=ALL,
        unseen_dir=unseen_dir,
        build_manifest_if_missing=True)
    manifest = load_manifest(default_manifest_path(synth_root, 's4', 42))
    num = len(dataset.dataset)
    assert num == 30 and len(dataset) == len(ALL) * num
    assert dataset.metainfo['conditions'] == ALL
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        condition = ALL[index // num]
        assert info['condition'] == condition
        assert info['is_sounding'] == int(condition == 'positive')
        assert info['frame_idx'] == dataset.dataset.get_data_info(index % num)['frame_idx']
        record = manifest['videos']['test'][info['video_id']]
        if condition == 'offscreen':
            assert info['negative']['donor_video_id'] == record['offscreen']['video_id']
        elif condition == 'noise':
            assert info['negative']['noise_seed'] == record['noise']['seed']
        elif condition == 'unseen':
            assert info['negative']['unseen_file'] == osp.join(unseen_dir, record['unseen']['file'])
    for index in range(0, len(dataset), 7):
        packed = dataset[index]
        sample = packed['data_samples']
        assert sample.condition == ALL[index // num]
        assert sample.video_id and sample.category and 0 <= sample.frame_idx < 5
        if sample.condition == 'positive':
            assert sample.is_sounding == 1
        else:
            assert sample.is_sounding == 0 and sample.gt_sem_seg.data.sum() == 0
    with pytest.raises(IndexError):
        dataset.get_data_info(len(dataset))


def test_offscreen_negative_sounds_exactly_like_the_donors_positive(synth_root):
    dataset = RobustTestDataset(
        s4_test_cfg(synth_root),
        conditions=('positive', 'offscreen'),
        build_manifest_if_missing=True)
    num = len(dataset.dataset)
    positives = {
        (dataset.get_data_info(i)['video_id'], dataset.get_data_info(i)['frame_idx']): i
        for i in range(num)
    }
    for index in range(num, 2 * num, 4):
        info = dataset.get_data_info(index)
        donor_index = positives[info['negative']['donor_video_id'], info['frame_idx']]
        negative, donor = dataset[index], dataset[donor_index]
        assert torch.equal(negative['inputs']['audio'], donor['inputs']['audio'])
        assert negative['data_samples'].video_id != donor['data_samples'].video_id


def test_built_manifest_equals_the_tools_output(synth_root, synth_source, unseen_dir, tmp_path,
                                                monkeypatch):
    out = str(tmp_path / 'tool.json')
    run_tool([synth_source, '--subset', 's4', '--unseen-dir', unseen_dir, '--out', out],
             monkeypatch)
    RobustTestDataset(
        s4_test_cfg(synth_root), unseen_dir=unseen_dir, build_manifest_if_missing=True)
    built = default_manifest_path(synth_root, 's4', 42)
    assert open(built, 'rb').read() == open(out, 'rb').read()


def test_manifest_of_other_data_or_without_unseen_is_refused(synth_root, tmp_path):
    ms3 = str(tmp_path / 'ms3.json')
    ms3_cfg = dict(
        type='AVSBenchMS3Dataset',
        data_root=synth_root,
        split='test',
        pipeline=s4_pipeline(),
        test_mode=True)
    RobustTestDataset(
        ms3_cfg,
        subset='ms3',
        manifest_path=ms3,
        build_manifest_if_missing=True,
        unseen_dir=str(tmp_path / 'none'))
    with pytest.raises(ManifestError, match='missing'):
        RobustTestDataset(s4_test_cfg(synth_root), manifest_path=ms3)
    with pytest.raises(ManifestError, match='unseen'):
        RobustTestDataset(ms3_cfg, conditions=('unseen', ), subset='ms3', manifest_path=ms3)
    with pytest.raises(ValueError, match='conditions'):
        RobustTestDataset(s4_test_cfg(synth_root), conditions=('positive', 'rain'))


def test_ms3_test_set_uses_other_videos_as_offscreen(synth_root):
    dataset = RobustTestDataset(
        dict(
            type='AVSBenchMS3Dataset',
            data_root=synth_root,
            split='val',
            pipeline=s4_pipeline(),
            test_mode=True),
        conditions=('positive', 'offscreen', 'silence'),
        subset='ms3',
        build_manifest_if_missing=True)
    num = len(dataset.dataset)
    assert num == 15 and len(dataset) == 45
    for index in range(num, 2 * num):
        info = dataset.get_data_info(index)
        assert info['negative']['donor_rule'] == 'other_video'
        assert info['negative']['donor_video_id'] != info['video_id']
    packed = dataset[num + 2]
    assert packed['data_samples'].condition == 'offscreen'
    assert packed['data_samples'].gt_sem_seg.data.sum() == 0


@pytest.mark.parametrize('subset', ['s4', 'ms3'])
def test_robust_synth_configs_build(subset, synth_root, unseen_dir):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'synthavs-robust_{subset}.py'))
    train = cfg.train_dataloader
    assert train.sampler.type == 'RobustSampler'
    assert train.dataset.type == 'RobustTrainDataset'
    assert train.dataset.neg_ratios == dict(offscreen=0.05, silence=0.05)
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.dataset.data_root = synth_root
    assert set(cfg.test_dataloader.dataset.conditions) == set(ALL)
    assert 'noise' in cfg.val_dataloader.dataset.conditions
    cfg.test_dataloader.dataset.unseen_dir = unseen_dir
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert isinstance(dataset, RobustTrainDataset) and len(dataset) > len(dataset.dataset)
    # the wrapper puts AddNegativeAudio first in the positive pipeline of the config
    assert type(dataset.dataset.pipeline.transforms[0]).__name__ == 'AddNegativeAudio'
    sampler = DATA_SAMPLERS.build(
        cfg.train_dataloader.sampler, default_args=dict(dataset=dataset, seed=0))
    assert len(list(sampler)) == len(dataset)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(test) == 5 * len(test.dataset)
    assert osp.isfile(default_manifest_path(synth_root, subset, 42))


@pytest.mark.parametrize('subset', ['s4', 'ms3'])
def test_avsbench_configs_explain_how_to_prepare_missing_data(subset, tmp_path):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'avsbench-robust_{subset}.py'))
    cfg.test_dataloader.dataset.dataset.data_root = str(tmp_path / 'AVSBench')
    assert not cfg.test_dataloader.dataset.get('build_manifest_if_missing', False)
    with pytest.raises(FileNotFoundError, match=r'meta_data\.csv(.|\n)*docs/robust\.md'):
        DATASETS.build(cfg.test_dataloader.dataset)
