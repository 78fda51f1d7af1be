# Copyright (c) mmavs contributors. All rights reserved.
"""Every shipped config loads and builds its model (pretrained weights off: local files)."""
import glob

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from mmavs_testing import REPO

CONFIGS = sorted(
    p for p in glob.glob(str(REPO / 'configs' / '*' / '*.py')) if '/_base_/' not in p
    and '/avsegformer/' not in p)  # the AVSegFormer configs: tests/test_models/test_heads


def without_pretrained(node):
    """The config with every ``Pretrained`` initialiser removed (the files are local)."""
    if isinstance(node, dict):
        if node.get('init_cfg', None) is not None and 'Pretrained' in str(node['init_cfg']):
            node['init_cfg'] = None
        for value in node.values():
            without_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            without_pretrained(value)
    return node


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.split('/')[-1][:-3])
def test_config_builds_a_one_channel_av_segmentor(path):
    cfg = Config.fromfile(path)
    assert cfg.test_dataloader.dataset.type == 'RobustTestDataset'
    assert cfg.test_evaluator.type == 'RobustAVSMetric'
    model = MODELS.build(without_pretrained(cfg.model.to_dict()))
    assert type(model).__name__ == 'AVSegmentor' and model.out_channels == 1
    robust = '-robust_' in path.split('/')[-1]
    assert (model.similarity_head is not None) == robust
    assert (cfg.train_dataloader.dataset.type == 'RobustTrainDataset') == robust
    model.eval()
    with torch.no_grad():
        logits = model.encode_decode(
            dict(
                img=torch.randn(1, 3, 64, 64),
                audio=torch.randn(1, 96, 64),
                audio_clip=torch.randn(1, 5, 96, 64)), [dict(img_shape=(64, 64))])
    assert logits.shape == (1, 1, 64, 64)
