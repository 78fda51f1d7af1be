# Copyright (c) mmavs contributors. All rights reserved.
"""One MMEngine test run with RobustAVSMetric and RobustVisualizationHook (fake model and data)."""
import json

import mmcv
import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmavs.engine.hooks.robust_vis_hook import RobustVisualizationHook  # noqa: F401 (registers)
from mmavs.evaluation import functional as F

CONDITIONS = ('positive', 'silence', 'noise')


class _LogitsAsInputModel(BaseModel):
    """Takes its input as the mask logits and fills the samples as AVSegmentor.predict does
    (``seg_logits``: the sigmoid probabilities of a single-channel head)."""

    def forward(self, inputs, data_samples=None, mode='predict'):
        for logits, sample in zip(inputs, data_samples):
            sample.seg_logits = PixelData(data=logits.sigmoid())
            sample.pred_sem_seg = PixelData(data=(logits.sigmoid() > 0.5).long())
            sample.pred_similarity = torch.tensor(0.8 if sample.condition == 'positive' else 0.3)
        return data_samples


class _FramesUnderConditions:
    """The split replicated under each condition, as the robust test dataset does."""

    metainfo = dict(classes=('background', 'sounding'))

    def __init__(self, root, num_clips=3, size=10):
        gen = torch.Generator().manual_seed(0)
        self.items = []
        for cond in CONDITIONS:
            for clip in range(num_clips):
                for frame_idx in range(2):
                    img_path = str(root / f'clip{clip}_{frame_idx + 1}.png')
                    mmcv.imwrite(np.full((size, size, 3), 40 * clip, np.uint8), img_path)
                    logits = torch.randn(1, size, size, generator=gen) * 3
                    gt = (torch.rand(1, size, size, generator=gen) > 0.5).long()
                    self.items.append(
                        dict(
                            condition=cond,
                            video_id=f'clip{clip}',
                            frame_idx=frame_idx,
                            img_path=img_path,
                            logits=logits,
                            gt=gt if cond == 'positive' else torch.zeros_like(gt)))

    def __len__(self):
        return len(self.items)

    def get_data_info(self, idx):
        return {k: v for k, v in self.items[idx].items() if k not in ('logits', 'gt')}

    def __getitem__(self, idx):
        item = self.items[idx]
        sample = SegDataSample(metainfo=self.get_data_info(idx))
        sample.gt_sem_seg = PixelData(data=item['gt'])
        return dict(inputs=item['logits'], data_samples=sample)


@pytest.mark.parametrize('batch_size', [1, 4])
def test_one_run_writes_table_and_figures(tmp_path, batch_size):
    dataset = _FramesUnderConditions(tmp_path)
    runner = Runner(
        model=_LogitsAsInputModel(),
        work_dir=str(tmp_path / 'work'),
        test_dataloader=dict(
            dataset=dataset,
            batch_size=batch_size,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate')),
        test_cfg=dict(type='TestLoop'),
        test_evaluator=dict(type='RobustAVSMetric', output_dir=str(tmp_path / 'work')),
        custom_hooks=[
            dict(type='RobustVisualizationHook', show_dir=str(tmp_path / 'vis'), num_clips=2)
        ],
        default_scope='mmseg')
    metrics = runner.test()
    logits = torch.cat([d['logits'] for d in dataset.items if d['condition'] == 'positive'])
    gt = torch.cat([d['gt'] for d in dataset.items if d['condition'] == 'positive'])
    assert metrics['positive/F'] == pytest.approx(F.fscore(logits, gt))
    assert metrics['gated/silence/false_alarm'] == 0.0  # 0.3 < 0.5: every negative is gated
    saved = json.loads((tmp_path / 'work' / 'robust_metrics.json').read_text())
    assert saved['metrics']['G-mIoU'] == pytest.approx(metrics['G-mIoU'])
    figures = {p.name for p in (tmp_path / 'vis').iterdir()}
    assert figures == {
        'overlays.png', 'condition_bars.png', 'condition_bars_gated.png', 'similarity_hist.png'
    }
