# Copyright (c) mmavs contributors. All rights reserved.
"""Gating-threshold calibration and similarity separability (pure functions + one plot).

**Sweep.** For every threshold ``tau`` (default ``0, 0.01, ..., 1``) each frame whose similarity
probability ``s < tau`` has its binary mask emptied
(:func:`mmavs.evaluation.functional.gate_statistics`, the rule of ``AVSegmentor``'s gating and of
``RobustAVSMetric``; frames without a score are never gated), and the robustness report is
rebuilt from the per-frame statistics (:func:`mmavs.evaluation.report.build_report`): positive
mIoU and F, FPR and frame false-alarm per negative condition, and the global G-FPR,
G-false_alarm, G-mIoU, G-F (``docs/metrics.md``). ``tau = 0`` gates nothing.

**Rule** (:func:`choose_gate_threshold`). Let ``m0`` be the positive mIoU without gating and
``d`` the allowed drop (default 0.01). Among the thresholds whose gated positive mIoU is at least
``m0 - d``, take those with the lowest G-FPR, then among them the lowest G-false_alarm, then the
highest positive mIoU; when several thresholds remain (they give identical results: no score
lies between them), take the middle one, which leaves the largest margin to scores on either side
(``strategy='best'``, the default). ``strategy='strictest'`` takes the largest threshold whose
gated positive mIoU is at least ``m0 - d``: it spends the whole positive budget on rejecting
more, for when the calibration split cannot show every kind of negative (AVSBench-Robust holds
noise and the unseen recordings out of training *and* validation, so on val many thresholds tie
at zero G-FPR and ``'best'`` picks the lowest of them). Gating more never raises an FPR, so the
strictest threshold is also among those with the lowest G-FPR on the calibration split.

**Separability** (:func:`roc_auc`): the probability that a positive pair scores higher than a
negative one (ties count one half), i.e. the Mann-Whitney U statistic over ``n_pos * n_neg``.
"""
import math
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from .functional import gate_statistics
from .report import build_report

#: Default sweep: 101 thresholds ``0, 0.01, ..., 1``.
DEFAULT_THRESHOLDS = tuple(round(i / 100, 2) for i in range(101))


def gated_report(stats: Mapping[str, Dict[str, Tensor]],
                 scores: Mapping[str, Tensor],
                 gate_thr: Optional[float],
                 positive_condition: str = 'positive') -> dict:
    """The robustness report with masks of frames scoring below ``gate_thr`` emptied.

    Args:
        stats (Mapping): Condition -> frame statistics (``[N]`` / ``[N, T]``).
        scores (Mapping): Condition -> similarity probabilities ``[N]`` (NaN: never gated).
        gate_thr (float, optional): Threshold; None gates nothing.
        positive_condition (str): Name of the true-audio condition.

    Returns:
        dict: :func:`mmavs.evaluation.report.build_report` output (with the mean similarity of
        each condition).
    """
    similarity = {}
    for name in stats:
        score = torch.as_tensor(scores[name], dtype=torch.float64)
        score = score[~torch.isnan(score)]
        if score.numel():
            similarity[name] = float(score.mean())
    if gate_thr is None:
        return build_report(dict(stats), positive_condition, similarity=similarity)
    gated = {}
    for name, frame_stats in stats.items():
        score = torch.as_tensor(scores[name], dtype=torch.float64)
        gated[name] = gate_statistics(frame_stats, ~(score < gate_thr))
    return build_report(gated, positive_condition, similarity=similarity)


def _row(threshold: float, report: dict, scores: Mapping[str, Tensor],
         positive_condition: str) -> dict:
    positive = report['conditions'].get(positive_condition, {})
    row = dict(
        threshold=threshold,
        positive_mIoU=positive.get('mIoU', math.nan),
        positive_F=positive.get('F', math.nan))
    for key in ('G-FPR', 'G-false_alarm', 'G-mIoU', 'G-F'):
        row[key] = report['global'].get(key, math.nan)
    for name, metrics in report['conditions'].items():
        if name != positive_condition:
            row[f'{name}/FPR'] = metrics['FPR']
            row[f'{name}/false_alarm'] = metrics['false_alarm']
        score = torch.as_tensor(scores[name], dtype=torch.float64)
        kept = ~(score < threshold) if threshold is not None else torch.ones_like(score).bool()
        row[f'{name}/kept'] = float(kept.double().mean()) if score.numel() else math.nan
    return row


def sweep_gate_thresholds(stats: Mapping[str, Dict[str, Tensor]],
                          scores: Mapping[str, Tensor],
                          thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                          positive_condition: str = 'positive') -> List[dict]:
    """Metrics at every gating threshold.

    Args:
        stats (Mapping): Condition -> frame statistics; needs the positive condition and at
            least one negative one.
        scores (Mapping): Condition -> similarity probabilities ``[N]``, aligned with ``stats``.
        thresholds (sequence of float): Thresholds in [0, 1], in increasing order.
        positive_condition (str): Name of the true-audio condition.

    Returns:
        list[dict]: One row per threshold: ``threshold``, ``positive_mIoU``, ``positive_F``,
        ``G-FPR``, ``G-false_alarm``, ``G-mIoU``, ``G-F``, ``<negative>/FPR``,
        ``<negative>/false_alarm`` and ``<condition>/kept`` (share of frames not gated).
    """
    if positive_condition not in stats:
        raise ValueError(f'expected the {positive_condition!r} condition among '
                         f'{sorted(stats)}, found none')
    if len(stats) < 2:
        raise ValueError(f'expected at least one negative condition besides '
                         f'{positive_condition!r}, found {sorted(stats)}')
    missing = sorted(set(stats) - set(scores))
    if missing:
        raise ValueError(f'expected similarity scores for every condition, missing {missing}')
    thresholds = [float(t) for t in thresholds]
    if not thresholds or any(not 0 <= t <= 1 for t in thresholds) or \
            any(b < a for a, b in zip(thresholds, thresholds[1:])):
        raise ValueError(f'expected increasing thresholds in [0, 1], found {thresholds}')
    return [
        _row(t, gated_report(stats, scores, t, positive_condition), scores, positive_condition)
        for t in thresholds
    ]


#: Strategies of :func:`choose_gate_threshold`.
GATE_STRATEGIES = ('best', 'strictest')


def choose_gate_threshold(sweep: Sequence[dict],
                          baseline_miou: float,
                          max_pos_miou_drop: float = 0.01,
                          strategy: str = 'best') -> dict:
    """Pick the threshold by the rule of the module docstring.

    Args:
        sweep (sequence of dict): Rows of :func:`sweep_gate_thresholds`.
        baseline_miou (float): Positive mIoU without gating.
        max_pos_miou_drop (float): Allowed drop of the positive mIoU (a fraction, 0.01 = one
            mIoU point). Defaults to 0.01.
        strategy (str): ``'best'`` (default) or ``'strictest'`` (module docstring).

    Returns:
        dict: ``threshold``, ``row`` (the chosen sweep row), ``num_feasible`` (thresholds meeting
        the mIoU bound), ``tied`` (thresholds with the same, best results), ``min_positive_mIoU``
        (the bound) and ``rule`` (a one-line description).

    Raises:
        ValueError: No threshold keeps the positive mIoU within the bound (the sweep should
        include 0, which gates nothing).
    """
    if max_pos_miou_drop < 0:
        raise ValueError(f'expected max_pos_miou_drop >= 0, found {max_pos_miou_drop}')
    if strategy not in GATE_STRATEGIES:
        raise ValueError(f'strategy must be one of {GATE_STRATEGIES}, found {strategy!r}')
    floor = baseline_miou - max_pos_miou_drop
    feasible = [r for r in sweep if r['positive_mIoU'] >= floor - 1e-12]
    if not feasible:
        raise ValueError(f'no threshold keeps the positive mIoU >= {floor:.4f} (no-gate mIoU '
                         f'{baseline_miou:.4f} - {max_pos_miou_drop}); include 0 in the sweep')

    def key(row):
        return (round(row['G-FPR'], 12), round(row['G-false_alarm'],
                                               12), -round(row['positive_mIoU'], 12))

    bound = f'positive mIoU >= {baseline_miou:.4f} - {max_pos_miou_drop}'
    if strategy == 'strictest':
        chosen = max(feasible, key=lambda r: r['threshold'])
        return dict(
            threshold=chosen['threshold'],
            row=chosen,
            num_feasible=len(feasible),
            tied=[chosen['threshold']],
            min_positive_mIoU=floor,
            rule=f'largest threshold subject to {bound}')
    best = min(key(r) for r in feasible)
    tied = [r for r in feasible if key(r) == best]
    chosen = tied[(len(tied) - 1) // 2]
    return dict(
        threshold=chosen['threshold'],
        row=chosen,
        num_feasible=len(feasible),
        tied=[r['threshold'] for r in tied],
        min_positive_mIoU=floor,
        rule=(f'min G-FPR (then G-false_alarm, then max positive mIoU) subject to '
              f'{bound}; middle of tied thresholds'))


def roc_auc(pos_scores: Sequence[float], neg_scores: Sequence[float]) -> float:
    """Area under the ROC curve of positive vs. negative scores (ties count 1/2).

    NaN scores are ignored; NaN is returned when either side is empty.
    """
    pos = np.asarray(pos_scores, dtype=np.float64).ravel()
    neg = np.asarray(neg_scores, dtype=np.float64).ravel()
    pos, neg = pos[~np.isnan(pos)], neg[~np.isnan(neg)]
    if pos.size == 0 or neg.size == 0:
        return math.nan
    values = np.concatenate([pos, neg])
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = (ends - counts + 1 + ends) / 2.0  # 1-based ranks, ties averaged
    pos_rank_sum = average_rank[inverse[:pos.size]].sum()
    u = pos_rank_sum - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))
