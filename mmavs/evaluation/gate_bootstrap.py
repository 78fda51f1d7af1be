# Copyright (c) mmavs contributors. All rights reserved.
"""How steady a calibrated gate threshold is: a bootstrap over the calibration videos.

A threshold chosen on a val split is a statistic of that split, and on a val split of a few
hundred videos it can move a lot from one draw of videos to another
(``docs/experiments.md``), so ``tools/analysis_tools/calibrate_gate.py`` reports its spread.

**Cluster bootstrap.** The frames of a video share objects and sound, so videos, not frames, are
drawn with replacement, as many as the split holds; a video drawn ``k`` times weighs ``k`` in
every condition (the val split holds each video once per audio condition). The rule
(:func:`~mmavs.evaluation.calibration.choose_gate_threshold`) is applied to every resample.

**Fast.** Every number the rule reads is a mean of per-frame terms at each threshold (the gated
positive frame IoU, a negative frame's predicted-pixel fraction and whether it shows any pixel,
``docs/metrics.md``), so a resample is a weighted sum over a ``[T, N]`` table per condition; no
report is rebuilt. The sums agree with
:func:`~mmavs.evaluation.calibration.sweep_gate_thresholds` (tested).
"""
from typing import Dict, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from .calibration import DEFAULT_THRESHOLDS, choose_gate_threshold
from .functional import frame_iou, gate_statistics


def _frame_tables(stats: Mapping[str, Dict[str, Tensor]], scores: Mapping[str, Tensor],
                  thresholds: Sequence[float], positive_condition: str) -> Dict[str, dict]:
    """Per condition, the per-frame terms at every threshold (float64 arrays ``[T, N]``)."""
    t = torch.tensor([float(x) for x in thresholds], dtype=torch.float64).unsqueeze(1)
    tables = {}
    for name, frame_stats in stats.items():
        score = torch.as_tensor(scores[name], dtype=torch.float64).cpu()
        keep = ~(score.unsqueeze(0) < t)  # [T, N]; a NaN score is never gated
        if name == positive_condition:
            kept = frame_iou(frame_stats).cpu()
            emptied = frame_iou(
                gate_statistics(frame_stats,
                                torch.zeros_like(frame_stats['pred_pos'], dtype=torch.bool))).cpu()
            tables[name] = dict(iou=torch.where(keep, kept, emptied).numpy(), ungated=kept.numpy())
        else:
            fpr = (frame_stats['pred_pos'].double() / frame_stats['num_pixels'].double()).cpu()
            alarm = (frame_stats['pred_pos'] > 0).double().cpu()
            tables[name] = dict(fpr=(keep * fpr).numpy(), false_alarm=(keep * alarm).numpy())
    return tables


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over the last axis (frames); NaN when every weight is 0."""
    total = weights.sum()
    return values @ weights / total if total else np.full(values.shape[:-1], np.nan)


def bootstrap_gate_thresholds(stats: Mapping[str, Dict[str, Tensor]],
                              scores: Mapping[str, Tensor],
                              videos: Mapping[str, Sequence[str]],
                              thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                              max_pos_miou_drop: float = 0.01,
                              strategy: str = 'best',
                              num_resamples: int = 200,
                              seed: int = 0,
                              positive_condition: str = 'positive') -> np.ndarray:
    """Thresholds the calibration rule picks on bootstrap resamples of the videos.

    Args:
        stats (Mapping): Condition -> frame statistics (``[N_c]`` / ``[N_c, K]``), as for
            :func:`~mmavs.evaluation.calibration.sweep_gate_thresholds`.
        scores (Mapping): Condition -> similarity probabilities ``[N_c]``, aligned with ``stats``.
        videos (Mapping): Condition -> the video id of each frame (``N_c`` strings), aligned with
            ``stats``.
        thresholds (sequence of float): Swept thresholds, increasing, in [0, 1].
        max_pos_miou_drop (float): The rule's allowed positive mIoU drop. Defaults to 0.01.
        strategy (str): The rule's strategy (``'best'`` or ``'strictest'``).
        num_resamples (int): Bootstrap resamples. Defaults to 200.
        seed (int): Seed of the draws (NumPy PCG64). Defaults to 0.
        positive_condition (str): Name of the true-audio condition.

    Returns:
        np.ndarray: float64 ``[num_resamples]``, the threshold chosen on each resample (NaN for
        a resample without positive frames).
    """
    if num_resamples < 1:
        raise ValueError(f'expected num_resamples >= 1, found {num_resamples}')
    if positive_condition not in stats or len(stats) < 2:
        raise ValueError(f'expected the {positive_condition!r} condition and at least one '
                         f'negative one, found {sorted(stats)}')
    for name in stats:
        n = int(stats[name]['pred_pos'].shape[0])
        if name not in videos or len(videos[name]) != n:
            found = len(videos[name]) if name in videos else 'none'
            raise ValueError(f'expected one video id per frame of condition {name!r} ({n}), '
                             f'found {found}')
    thresholds = [float(x) for x in thresholds]
    tables = _frame_tables(stats, scores, thresholds, positive_condition)
    ids = sorted({str(v) for name in stats for v in videos[name]})
    index = {v: i for i, v in enumerate(ids)}
    frame_video = {
        name: np.array([index[str(v)] for v in videos[name]], dtype=np.int64)
        for name in stats
    }
    negatives = [name for name in stats if name != positive_condition]
    rng = np.random.default_rng(seed)
    chosen = np.empty(num_resamples, dtype=np.float64)
    for k in range(num_resamples):
        counts = np.bincount(rng.integers(0, len(ids), len(ids)), minlength=len(ids))
        weights = {name: counts[frame_video[name]].astype(np.float64) for name in stats}
        if not weights[positive_condition].sum():  # only videos without positive frames drawn
            chosen[k] = np.nan
            continue
        pos = tables[positive_condition]
        positive = _weighted_mean(pos['iou'], weights[positive_condition])
        ungated = float(_weighted_mean(pos['ungated'], weights[positive_condition]))
        fpr = np.nanmean([_weighted_mean(tables[n]['fpr'], weights[n]) for n in negatives], 0)
        alarm = np.nanmean(
            [_weighted_mean(tables[n]['false_alarm'], weights[n]) for n in negatives], 0)
        rows = [{
            'threshold': thr,
            'positive_mIoU': float(positive[i]),
            'G-FPR': float(fpr[i]),
            'G-false_alarm': float(alarm[i])
        } for i, thr in enumerate(thresholds)]
        chosen[k] = choose_gate_threshold(rows, ungated, max_pos_miou_drop, strategy)['threshold']
    return chosen
