# Copyright (c) mmavs contributors. All rights reserved.
"""mmavs.apis.calibration: threshold sweep, the choice rule, AUC, and agreement with the metric."""
import itertools

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmavs.evaluation import (RobustAVSMetric, choose_gate_threshold, frame_statistics,
                              gated_report, roc_auc, sweep_gate_thresholds)
from mmavs.visualization import plot_gate_calibration
from mmavs_testing.apis import SIZE, biased_run, square


def test_separable_scores_give_zero_fpr_at_the_middle_of_the_gap():
    _, stats, scores = biased_run([0.8, 0.85, 0.9, 0.95],
                                  dict(silence=[0.1, 0.2, 0.3], noise=[0.05, 0.25]))
    sweep = sweep_gate_thresholds(stats, scores)
    assert sweep[0]['G-FPR'] == pytest.approx(0.25)  # the 8x8 square of 16x16
    assert sweep[0]['G-false_alarm'] == 1.0 and sweep[0]['positive_mIoU'] == 1.0
    chosen = choose_gate_threshold(sweep, sweep[0]['positive_mIoU'], 0.01)
    # 0.31 ... 0.80 all gate every negative and no positive: the middle one is taken.
    assert chosen['tied'][0] == pytest.approx(0.31) and chosen['tied'][-1] == pytest.approx(0.8)
    assert chosen['threshold'] == pytest.approx(0.55)
    row = chosen['row']
    assert row['G-FPR'] == 0 and row['G-false_alarm'] == 0 and row['positive_mIoU'] == 1.0
    assert row['silence/kept'] == 0 and row['positive/kept'] == 1


def test_the_miou_bound_stops_the_threshold_below_a_low_scoring_positive():
    pos = [0.2] + [0.9] * 9  # one positive scores below some negatives
    _, stats, scores = biased_run(pos, dict(silence=[0.1, 0.3, 0.5]))
    sweep = sweep_gate_thresholds(stats, scores)
    chosen = choose_gate_threshold(sweep, 1.0, max_pos_miou_drop=0.01)
    assert chosen['threshold'] <= 0.2
    assert chosen['row']['positive_mIoU'] == 1.0
    assert chosen['row']['silence/FPR'] == pytest.approx(0.25 * 2 / 3)  # 0.1 gated only
    # Allowing a drop of 0.1 (that positive) lets the gate remove every negative.
    relaxed = choose_gate_threshold(sweep, 1.0, max_pos_miou_drop=0.1)
    assert 0.5 < relaxed['threshold'] <= 0.9
    assert relaxed['row']['G-FPR'] == 0
    assert relaxed['row']['positive_mIoU'] == pytest.approx(0.9)


def test_sweep_needs_positive_and_negative_conditions():
    _, stats, scores = biased_run([0.9], dict(silence=[0.1]))
    with pytest.raises(ValueError, match='negative'):
        sweep_gate_thresholds({'positive': stats['positive']}, scores)
    with pytest.raises(ValueError, match='positive'):
        sweep_gate_thresholds({'silence': stats['silence']}, scores)
    with pytest.raises(ValueError, match='increasing'):
        sweep_gate_thresholds(stats, scores, thresholds=[0.5, 0.2])


def test_gated_report_equals_the_robust_metric(tmp_path):
    logits, stats, scores = biased_run([0.3, 0.7, 0.9], dict(silence=[0.2, 0.6], noise=[0.45]))
    samples = []
    for name in stats:
        for i, s in enumerate(scores[name]):
            gt = square(1)[0] if name == 'positive' else torch.zeros(SIZE, SIZE, dtype=torch.long)
            sample = SegDataSample(metainfo=dict(condition=name))
            sample.seg_logits = PixelData(data=(logits[name][i:i + 1] + 0.5 * i).sigmoid())
            sample.gt_sem_seg = PixelData(data=gt[None])
            sample.pred_similarity = torch.tensor(float(s))
            samples.append(sample)
    metric = RobustAVSMetric(gate_thr=0.5)
    metric.process({}, samples)
    metrics = metric.compute_metrics(metric.results)
    stats = {}
    for name in scores:
        mine = [s for s in samples if s.metainfo['condition'] == name]
        stats[name] = frame_statistics(
            torch.cat([s.seg_logits.data for s in mine]),
            torch.cat([s.gt_sem_seg.data for s in mine]),
            probabilities=True)
    report = gated_report(stats, scores, 0.5)
    assert report['global']['G-FPR'] == pytest.approx(metrics['gated/G-FPR'])
    assert report['global']['G-mIoU'] == pytest.approx(metrics['gated/G-mIoU'])
    assert report['conditions']['positive']['F'] == pytest.approx(metrics['gated/positive/F'])
    ungated = gated_report(stats, scores, None)
    assert ungated['global']['G-FPR'] == pytest.approx(metrics['G-FPR'])


def test_roc_auc_counts_ordered_pairs():
    assert roc_auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert roc_auc([0.1], [0.9, 0.8]) == 0.0
    assert roc_auc([0.5, 0.5], [0.5]) == 0.5
    assert np.isnan(roc_auc([0.5], []))
    rng = np.random.default_rng(0)
    pos = rng.integers(0, 6, 30) / 5
    neg = np.concatenate([rng.integers(0, 6, 25) / 5, [np.nan]])
    pairs = [(p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg[:-1])]
    assert roc_auc(pos, neg) == pytest.approx(np.mean(pairs))


def test_calibration_plot_is_written(tmp_path):
    _, stats, scores = biased_run([0.8, 0.9], dict(silence=[0.1, 0.4]))
    sweep = sweep_gate_thresholds(stats, scores)
    chosen = choose_gate_threshold(sweep, 1.0)
    out = plot_gate_calibration(sweep, chosen, str(tmp_path / 'plots' / 'calib.png'))
    assert (tmp_path / 'plots' / 'calib.png').stat().st_size > 1000
    assert out.endswith('calib.png')


def test_strictest_strategy_spends_the_positive_budget():
    pos = [0.2] + [0.9] * 9
    _, stats, scores = biased_run(pos, dict(silence=[0.05, 0.1]))
    sweep = sweep_gate_thresholds(stats, scores)
    best = choose_gate_threshold(sweep, 1.0, max_pos_miou_drop=0.01)
    # every threshold in (0.1, 0.2] rejects both negatives and keeps every positive
    assert 0.1 < best['threshold'] <= 0.2 and best['row']['positive_mIoU'] == 1.0
    strict = choose_gate_threshold(sweep, 1.0, max_pos_miou_drop=0.01, strategy='strictest')
    assert strict['threshold'] == pytest.approx(0.2)  # the last one that keeps 0.2
    assert strict['row']['G-FPR'] == 0 and strict['rule'].startswith('largest threshold')
    wide = choose_gate_threshold(sweep, 1.0, max_pos_miou_drop=0.1, strategy='strictest')
    assert wide['threshold'] == pytest.approx(0.9)  # may drop the low positive, not the others
    assert wide['row']['positive_mIoU'] == pytest.approx(0.9)
    with pytest.raises(ValueError, match='strategy must be one of'):
        choose_gate_threshold(sweep, 1.0, strategy='loose')
