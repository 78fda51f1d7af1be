# Copyright (c) mmavs contributors. All rights reserved.
"""The base dataset configs build and run their pipelines (on the tiny SynthAVS tree)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import DATASETS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / '_base_' / 'datasets'


@pytest.mark.parametrize(
    'name',
    ['synthavs-robust_s4', 'synthavs-robust_ms3', 'avsbench-robust_s4', 'avsbench-robust_ms3'])
def test_dataset_config_builds_and_runs(tiny_root, name):
    """The positive dataset inside each robust wrapper reads the AVSBench layout."""
    cfg = Config.fromfile(str(CONFIG_DIR / f'{name}.py'))
    assert cfg.test_evaluator.type == 'RobustAVSMetric'
    assert cfg.data_root == ('data/SynthAVS' if name.startswith('synth') else 'data/AVSBench')
    subset = name.split('_')[-1]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        wrapper = cfg[loader].dataset
        assert wrapper.type == ('RobustTrainDataset'
                                if loader == 'train_dataloader' else 'RobustTestDataset')
        ds_cfg = wrapper.dataset.copy()
        assert ds_cfg.type == ('AVSBenchS4Dataset' if subset == 's4' else 'AVSBenchMS3Dataset')
        ds_cfg.data_root = str(tiny_root)
        ds = DATASETS.build(ds_cfg)
        out = ds[0]
        scale = cfg.crop_size if loader == 'train_dataloader' else cfg.img_scale
        assert tuple(out['inputs']['img'].shape[1:]) == tuple(scale)
        assert out['inputs']['audio'].shape == (96, 64)
        gt = out['data_samples'].gt_sem_seg.data
        if loader == 'train_dataloader':
            assert gt.shape[1:] == out['inputs']['img'].shape[1:]
        else:  # masks stay at the original size; predictions are resized to ori_shape
            assert tuple(gt.shape[1:]) == out['data_samples'].ori_shape
        assert gt.dtype == torch.int64
