# Copyright (c) mmavs contributors. All rights reserved.
"""Figures of a robust test run (``tools/test.py --show-dir``).

``RobustVisualizationHook`` watches the test loop and, after it, writes under ``show_dir``:

* ``overlays.png``: a few clips' frames under every audio condition (rows: clip/frame, columns:
  conditions, like the paper's Fig. 1): predicted mask (``pred_sem_seg``, gated if the model
  gates) in red, ground-truth outline in green, the similarity score under each cell;
* ``condition_bars.png`` (and ``condition_bars_gated.png``): FPR / false alarm / mIoU per
  condition, read from the metrics of ``RobustAVSMetric`` that the test loop hands to the hook;
* ``similarity_hist.png``: similarity probabilities of positive vs. negative pairs (Fig. 4),
  when the model has a similarity head.

The clips are the first ``num_clips`` distinct ``video_id`` of the test dataset (so every rank
picks the same ones; samples without a ``video_id`` are not drawn); with DDP each rank collects
its own samples and the main process merges them (``mmengine.dist.all_gather_object``).
"""
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import mmcv
import numpy as np
from mmengine.dist import all_gather_object, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ...evaluation.report import order_conditions, report_from_metrics
from ...visualization.plots import (overlay_grid, overlay_mask, plot_condition_bars,
                                    plot_similarity_histogram)


def _mask(sample, key: str) -> Optional[np.ndarray]:
    """``sample[key].data`` (``[1, H, W]``) as a ``[H, W]`` numpy array, or None.

    ``sample`` is a ``SegDataSample`` or its ``to_dict()``; both have ``.get``.
    """
    value = sample.get(key)
    if value is None:
        return None
    data = value['data'] if isinstance(value, dict) else value.data
    data = data.detach().cpu().numpy() if hasattr(data, 'detach') else np.asarray(data)
    return data[0] if data.ndim == 3 else data


def _score(sample) -> Optional[float]:
    value = sample.get('pred_similarity')
    if value is None:
        return None
    return float(value.reshape(-1)[0]) if hasattr(value, 'reshape') else float(value)


@HOOKS.register_module()
class RobustVisualizationHook(Hook):
    """Write overlay grids, per-condition bars and similarity histograms of a test run.

    Args:
        show_dir (str, optional): Output folder (relative paths are relative to the current
            directory, as MMSeg's ``--show-dir``). None uses ``<log_dir>/robust_vis``.
        num_clips (int): Clips shown in the overlay grid. Defaults to 4.
        frame_indices (sequence of int): 0-based frames of each clip shown (rows). Defaults to
            ``(0, )``.
        max_side (int): Longest side of a stored overlay, in pixels (bounds memory). Defaults to
            256.
        positive_condition (str): Condition name of true-audio pairs. Defaults to ``'positive'``.
        metric_prefix (str): Prefix of ``RobustAVSMetric``'s keys in the metrics dict (its
            ``prefix`` plus ``'/'``, if one was set). Defaults to ``''``.
    """

    priority = 'LOW'

    def __init__(self,
                 show_dir: Optional[str] = None,
                 num_clips: int = 4,
                 frame_indices: Sequence[int] = (0, ),
                 max_side: int = 256,
                 positive_condition: str = 'positive',
                 metric_prefix: str = '') -> None:
        if num_clips < 1:
            raise ValueError(f'RobustVisualizationHook: expected num_clips >= 1, found {num_clips}')
        self.show_dir = show_dir
        self.num_clips = num_clips
        self.frame_indices = tuple(int(i) for i in frame_indices)
        self.max_side = max_side
        self.positive_condition = positive_condition
        self.metric_prefix = metric_prefix
        self._reset()

    def _reset(self) -> None:
        self._clips: Optional[List[str]] = None
        self._cells: Dict[tuple, Dict[str, dict]] = defaultdict(dict)
        self._scores: Dict[str, List[float]] = defaultdict(list)

    def _pick_clips(self, runner) -> Optional[List[str]]:
        """First ``num_clips`` distinct video ids of the test dataset, or None if unknown."""
        loader = getattr(runner, 'test_dataloader', None)
        dataset = getattr(loader, 'dataset', None)
        if dataset is None or not hasattr(dataset, 'get_data_info'):
            return None
        clips: List[str] = []
        for i in range(len(dataset)):
            video_id = dataset.get_data_info(i).get('video_id')
            if video_id is not None and str(video_id) not in clips:
                clips.append(str(video_id))
                if len(clips) == self.num_clips:
                    break
        return clips or None

    def before_test_epoch(self, runner) -> None:
        """Start a new collection and fix the clips to show."""
        self._reset()
        self._clips = self._pick_clips(runner)

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        """Keep the similarity scores and the overlays of the chosen frames."""
        for sample in outputs or []:
            condition = str(sample.get('condition', self.positive_condition))
            score = _score(sample)
            if score is not None:
                self._scores[condition].append(score)
            video_id = sample.get('video_id')
            frame_idx = int(sample.get('frame_idx') or 0)
            if video_id is None or frame_idx not in self.frame_indices:
                continue
            video_id = str(video_id)
            if self._clips is None:  # no dataset to pick from: first clips seen
                known = {k[0] for k in self._cells}
                if video_id not in known and len(known) >= self.num_clips:
                    continue
            elif video_id not in self._clips:
                continue
            self._cells[(video_id, frame_idx)][condition] = self._cell(sample, score)

    def _cell(self, sample, score: Optional[float]) -> dict:
        """A small RGB overlay of one prediction, with its caption."""
        pred = _mask(sample, 'pred_sem_seg')
        gt = _mask(sample, 'gt_sem_seg')
        img_path = sample.get('img_path')
        shape = pred.shape if pred is not None else (64, 64)
        image = None
        if img_path is not None and osp.isfile(img_path):
            image = mmcv.imread(img_path, channel_order='rgb')
        if image is None:
            print_log(
                f'RobustVisualizationHook: cannot read the frame {img_path}; drawing '
                'the mask on a gray canvas',
                logger='current')
            image = np.full(shape + (3, ), 128, dtype=np.uint8)
        overlay = overlay_mask(image, pred, gt if gt is not None and gt.any() else None)
        scale = self.max_side / max(overlay.shape[:2])
        if scale < 1:
            overlay = mmcv.imrescale(overlay, scale, interpolation='nearest')
        # The column header names the condition; the caption gives the similarity score.
        return {'image': overlay, 'title': None if score is None else f'similarity {score:.2f}'}

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Gather from all ranks and write the figures on the main process."""
        cells, scores = dict(self._cells), dict(self._scores)
        if get_world_size() > 1:
            cells, scores = {}, defaultdict(list)
            parts = all_gather_object((dict(self._cells), dict(self._scores)))
            for part_cells, part_scores in parts:
                for key, row in part_cells.items():
                    cells.setdefault(key, {}).update(row)
                for cond, values in part_scores.items():
                    scores[cond].extend(values)
        self._reset()
        if not is_main_process():
            return
        show_dir = self.show_dir or osp.join(runner.log_dir, 'robust_vis')
        written = self._draw(show_dir, cells, dict(scores), metrics or {})
        if written:
            print_log('RobustVisualizationHook: wrote ' + ', '.join(written), logger='current')

    def _draw(self, show_dir: str, cells: dict, scores: dict, metrics: dict) -> List[str]:
        written = []
        if cells:
            present = {c for row in cells.values() for c in row}
            conditions = order_conditions(present, self.positive_condition)
            keys = sorted(cells)
            rows = [[cells[k].get(c) for c in conditions] for k in keys]
            written.append(
                overlay_grid(
                    rows,
                    osp.join(show_dir, 'overlays.png'),
                    col_titles=conditions,
                    row_titles=[f'{v} #{f}' for v, f in keys]))
        for gated, name in ((False, 'condition_bars.png'), (True, 'condition_bars_gated.png')):
            report = report_from_metrics(metrics, self.metric_prefix, gated=gated)
            if report['conditions']:
                title = 'Robust AVS metrics' + (' (gated)' if gated else '')
                written.append(plot_condition_bars(report, osp.join(show_dir, name), title=title))
        positives = scores.get(self.positive_condition, [])
        negatives = {c: s for c, s in scores.items() if c != self.positive_condition}
        if positives or negatives:
            written.append(
                plot_similarity_histogram(positives, negatives,
                                          osp.join(show_dir, 'similarity_hist.png')))
        return written
