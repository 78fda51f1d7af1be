# Copyright (c) mmavs contributors. All rights reserved.
"""The base dataset configs build and run their pipelines (on the tiny SynthAVS tree)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import DATASETS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / '_base_' / 'datasets'


@pytest.mark.parametrize('name', ['synth_s4', 'synth_ms3', 'avsbench_s4', 'avsbench_ms3'])
def test_dataset_config_builds_and_runs(tiny_root, name):
    cfg = Config.fromfile(str(CONFIG_DIR / f'{name}.py'))
    assert cfg.test_evaluator.type == 'RobustAVSMetric'
    assert cfg.data_root == ('data/SynthAVS' if name.startswith('synth') else 'data/AVSBench')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds_cfg = cfg[loader].dataset.copy()
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
