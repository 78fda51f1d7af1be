# Copyright (c) mmavs contributors. All rights reserved.
"""Tests of the plotting functions and of RobustVisualizationHook (with fake test outputs)."""
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from mmavs.engine.hooks.robust_vis_hook import RobustVisualizationHook
from mmavs.visualization import (overlay_grid, overlay_mask, plot_condition_bars,
                                 plot_similarity_histogram)


def _is_png(path):
    with open(path, 'rb') as f:
        return f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_overlay_mask_colours_prediction_and_outlines_gt():
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    mask = np.zeros((4, 4), dtype=bool)
    mask[:2, :2] = True  # top-left quarter after the nearest resize to 8x8
    gt = np.zeros((8, 8), dtype=np.uint8)
    gt[4:, 4:] = 1
    out = overlay_mask(image, mask, gt, color=(200, 0, 0), gt_color=(0, 255, 0), alpha=0.5)
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    assert tuple(out[1, 1]) == (100, 0, 0)
    assert tuple(out[4, 4]) == (0, 255, 0)  # outline
    assert tuple(out[6, 6]) == (0, 0, 0)  # GT interior is not painted
    assert tuple(out[1, 6]) == (0, 0, 0)


def test_plots_are_written(tmp_path):
    frame = np.full((16, 16, 3), 90, dtype=np.uint8)
    rows = [[{'image': frame, 'mask': np.eye(16), 'title': 'positive'}, None, frame]]
    paths = [
        overlay_grid(
            rows,
            str(tmp_path / 'grid' / 'g.png'),
            col_titles=['a', 'b', 'c'],
            row_titles=['clip #0']),
        plot_condition_bars(
            {
                'positive': {
                    'mIoU': 0.8,
                    'FPR': 0.2,
                    'false_alarm': 0.9
                },
                'silence': {
                    'FPR': 0.4,
                    'false_alarm': 1.0
                }
            }, str(tmp_path / 'bars.png')),
        plot_similarity_histogram(
            np.random.rand(50) * 0.5 + 0.5, {'silence': np.random.rand(30) * 0.5},
            str(tmp_path / 'hist.png'),
            threshold=0.5),
        plot_similarity_histogram([0.9, 0.8], [0.1], str(tmp_path / 'hist2.png')),
    ]
    for path in paths:
        assert _is_png(path)
        assert mmcv.imread(path).size > 0


def test_plots_reject_empty_input(tmp_path):
    with pytest.raises(ValueError, match='bars.png'):
        plot_condition_bars({}, str(tmp_path / 'bars.png'))
    with pytest.raises(ValueError, match='hist.png'):
        plot_similarity_histogram([], [], str(tmp_path / 'hist.png'))


class _FakeDataset:

    def __init__(self, infos):
        self.infos = infos

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, idx):
        return self.infos[idx]


def _fake_outputs(tmp_path, clips, conditions):
    """SegDataSamples as AVSegmentor.predict returns them, with real frame files."""
    outputs = []
    for clip in clips:
        for frame_idx in range(2):
            img_path = str(tmp_path / f'{clip}_{frame_idx + 1}.png')
            mmcv.imwrite(np.full((20, 24, 3), 60 * (frame_idx + 1), np.uint8), img_path)
            for cond in conditions:
                s = SegDataSample(
                    metainfo=dict(
                        img_path=img_path, video_id=clip, frame_idx=frame_idx, condition=cond))
                pred = torch.zeros(1, 20, 24, dtype=torch.long)
                pred[:, 5:10, 5:10] = 1
                s.pred_sem_seg = PixelData(data=pred)
                s.gt_sem_seg = PixelData(data=pred if cond == 'positive' else pred * 0)
                s.pred_similarity = torch.tensor(0.9 if cond == 'positive' else 0.2)
                outputs.append(s)
    return outputs


def test_hook_writes_grid_bars_and_histogram(tmp_path):
    conditions = ['positive', 'silence', 'noise']
    outputs = _fake_outputs(tmp_path, ['vidA', 'vidB', 'vidC'], conditions)
    infos = [{'video_id': o.video_id} for o in outputs]
    runner = SimpleNamespace(
        test_dataloader=SimpleNamespace(dataset=_FakeDataset(infos)), log_dir=str(tmp_path / 'log'))
    hook = HOOKS.build(
        dict(
            type='RobustVisualizationHook',
            show_dir=str(tmp_path / 'vis'),
            num_clips=2,
            frame_indices=(0, 1)))
    assert isinstance(hook, RobustVisualizationHook)
    hook.before_test_epoch(runner)
    for i in range(0, len(outputs), 4):
        hook.after_test_iter(runner, i // 4, None, outputs[i:i + 4])
    assert set(hook._cells) == {('vidA', 0), ('vidA', 1), ('vidB', 0), ('vidB', 1)}
    assert set(hook._cells[('vidA', 0)]) == set(conditions)
    metrics = {
        'positive/mIoU': 0.7,
        'positive/FPR': 0.1,
        'silence/FPR': 0.3,
        'silence/false_alarm': 0.8,
        'G-FPR': 0.3,
        'gated/silence/FPR': 0.0
    }
    hook.after_test_epoch(runner, metrics)
    vis = tmp_path / 'vis'
    names = {
        'overlays.png', 'condition_bars.png', 'condition_bars_gated.png', 'similarity_hist.png'
    }
    assert {p.name for p in vis.iterdir()} == names
    for name in names:
        assert _is_png(str(vis / name))
    grid = mmcv.imread(str(vis / 'overlays.png'))
    assert grid.shape[0] > grid.shape[1]  # 4 rows (2 clips x 2 frames), 3 condition columns


def test_hook_without_scores_or_metrics_draws_overlays_only(tmp_path):
    outputs = _fake_outputs(tmp_path, ['vidA'], ['positive'])
    for o in outputs:
        del o.pred_similarity
    runner = SimpleNamespace(test_dataloader=None, log_dir=str(tmp_path / 'log'))
    hook = RobustVisualizationHook()
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, None, outputs)
    hook.after_test_epoch(runner, {'mIoU': 50.0})
    assert {p.name for p in (tmp_path / 'log' / 'robust_vis').iterdir()} == {'overlays.png'}
