# Copyright (c) mmavs contributors. All rights reserved.
"""Tests of the pure AVS metric functions (mmavs.evaluation.functional)."""
import math

import pytest
import torch

from mmavs.evaluation import functional as F
from mmavs_testing.avsbench_reference import reference_fmeasure, reference_mask_iou

SURE = 20.0  # a logit whose sigmoid is 1.0 in float32 (> 0.5 at every threshold but none)


def _quarter_gt(n=2, size=8):
    gt = torch.zeros(n, size, size, dtype=torch.long)
    gt[:, :size // 2, :size // 2] = 1
    return gt


def _random_case(n=12, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, size, size, generator=g) * 3
    gt = (torch.rand(n, size, size, generator=g) > 0.6).long()
    gt[1] = 0  # an empty ground truth
    logits[2] = SURE  # saturated everywhere
    logits[3] = -SURE
    return logits, gt


def test_perfect_prediction_scores_one():
    gt = _quarter_gt()
    logits = torch.where(gt.bool(), torch.tensor(SURE), torch.tensor(-SURE))
    assert F.jaccard(logits, gt) == pytest.approx(1.0)
    assert F.fscore(logits, gt) == pytest.approx(1.0)
    assert F.false_positive_rate(logits) == pytest.approx(0.25)
    assert F.false_alarm_rate(logits) == 1.0


def test_empty_prediction_on_foreground():
    gt = _quarter_gt()
    logits = torch.full(gt.shape, -10.0)
    assert F.jaccard(logits, gt) == 0.0
    # Only threshold 0 passes pixels (sigmoid(-10) < 1/254): precision 1/4, recall 1.
    assert F.fscore(logits, gt) == pytest.approx(1.3 * 0.25 / (0.3 * 0.25 + 1))
    assert F.false_positive_rate(logits) == 0.0
    assert F.false_alarm_rate(logits) == 0.0


def test_empty_ground_truth_scores_background():
    logits = torch.full((2, 4, 4), -10.0)
    logits[0, 0, :3] = 10.0  # 3 of 16 pixels predicted
    gt = torch.zeros(2, 4, 4, dtype=torch.long)
    assert F.jaccard(logits, gt) == pytest.approx(((1 - 3 / 16) + 1) / 2)
    assert F.fscore(logits, gt) == 0.0  # no frame with foreground: AVSBench returns 0
    assert F.false_positive_rate(logits) == pytest.approx(3 / 32)
    assert F.false_alarm_rate(logits) == 0.5


def test_all_foreground_prediction():
    gt = _quarter_gt()
    logits = torch.full(gt.shape, 10.0)  # sigmoid < 1.0: passes every threshold but the last
    assert F.jaccard(logits, gt) == pytest.approx(0.25)
    assert F.fscore(logits, gt) == pytest.approx(1.3 * 0.25 / (0.3 * 0.25 + 1))
    assert F.false_positive_rate(logits) == 1.0
    assert F.false_alarm_rate(logits) == 1.0


def test_fscore_equals_avsbench_loop_on_one_batch():
    logits, gt = _random_case()
    assert F.fscore(logits, gt) == pytest.approx(reference_fmeasure(logits, gt), abs=1e-6)


def test_jaccard_equals_avsbench_mask_iou():
    logits, gt = _random_case(seed=1)
    assert F.jaccard(logits, gt) == pytest.approx(reference_mask_iou(logits, gt), abs=1e-6)


def test_frame_statistics_match_direct_counts():
    logits, gt = _random_case(n=5, size=12, seed=2)
    stats = F.frame_statistics(logits, gt, chunk_size=2)
    prob = torch.sigmoid(logits)
    thr = F.f_thresholds()
    pred, g = prob > 0.5, gt.bool()
    assert torch.equal(stats['intersection'], (pred & g).sum((1, 2)))
    assert torch.equal(stats['union'], (pred | g).sum((1, 2)))
    assert torch.equal(stats['pred_pos'], pred.sum((1, 2)))
    assert torch.equal(stats['gt_pos'], g.sum((1, 2)))
    assert torch.equal(stats['num_pixels'], torch.full((5, ), 144))
    passed = prob.flatten(1).unsqueeze(1) >= thr.view(1, -1, 1)  # [N, T, P]
    assert torch.equal(stats['pp_curve'], passed.sum(-1))
    assert torch.equal(stats['tp_curve'], (passed & g.flatten(1).unsqueeze(1)).sum(-1))


@pytest.mark.parametrize('num_thresholds', [1, 2, 255, 5000])
def test_binner_equals_bucketize_at_boundaries(num_thresholds):
    counter = F._frame_counter(num_thresholds, 'cpu')
    bounds = counter.binner.boundaries
    up = torch.nextafter(bounds, torch.tensor(2.0)).clamp(max=1)
    down = torch.nextafter(bounds, torch.tensor(-1.0)).clamp(min=0)
    prob = torch.cat([bounds, up, down, torch.rand(20000), torch.tensor([0.0, 1.0])])
    expected = torch.bucketize(prob, bounds, right=True, out_int32=True)
    assert torch.equal(counter.binner(prob.clone()), expected)
    assert counter.binner.exact == (num_thresholds != 5000)  # 5000 uses the fallback


def test_results_do_not_depend_on_chunk_size():
    logits, gt = _random_case(n=9)
    one = F.frame_statistics(logits, gt, chunk_size=1)
    many = F.frame_statistics(logits, gt, chunk_size=4)
    for key in F.STAT_KEYS:
        assert torch.equal(one[key], many[key]), key


def test_half_precision_logits_are_counted_in_float32():
    logits, gt = _random_case(n=4)
    half = logits.half()
    stats = F.frame_statistics(half, gt)
    ref = F.frame_statistics(half.float(), gt)
    assert torch.equal(stats['tp_curve'], ref['tp_curve'])


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cuda_equals_cpu():
    logits, gt = _random_case()
    cpu = F.frame_statistics(logits, gt)
    gpu = F.frame_statistics(logits.cuda(), gt.cuda())
    for key in F.STAT_KEYS:
        assert gpu[key].is_cuda
        assert torch.equal(cpu[key], gpu[key].cpu()), key


def test_invalid_inputs_are_named():
    with pytest.raises(ValueError, match=r'\[N, H, W\]'):
        F.jaccard(torch.zeros(4, 4), torch.zeros(4, 4))
    with pytest.raises(ValueError, match='shape'):
        F.jaccard(torch.zeros(1, 4, 4), torch.zeros(1, 4, 5))
    with pytest.raises(ValueError, match='binary'):
        F.jaccard(torch.zeros(1, 4, 4), torch.full((1, 4, 4), 255))
    with pytest.raises(ValueError, match='NaN'):
        F.false_positive_rate(torch.full((1, 4, 4), float('nan')))


def test_zero_frames_give_nan():
    out = F.reduce_statistics(F.frame_statistics(torch.zeros(0, 4, 4), torch.zeros(0, 4, 4)))
    assert out['num_frames'] == 0 and math.isnan(out['mIoU'])


def test_gate_statistics_empties_gated_frames():
    logits, gt = _random_case(n=4)
    stats = F.frame_statistics(logits, gt)
    gated = F.gate_statistics(stats, torch.tensor([True, False, True, False]))
    for key in ('intersection', 'pred_pos', 'tp_curve', 'pp_curve'):
        assert not gated[key][[1, 3]].any(), key
        assert torch.equal(gated[key][[0, 2]], stats[key][[0, 2]]), key
    assert torch.equal(gated['union'][[1, 3]], stats['gt_pos'][[1, 3]])
    # An all-kept gate changes nothing; gating everything leaves no false alarm.
    same = F.gate_statistics(stats, torch.ones(4, dtype=torch.bool))
    assert F.reduce_statistics(same) == F.reduce_statistics(stats)
    none = F.reduce_statistics(F.gate_statistics(stats, torch.zeros(4, dtype=torch.bool)))
    assert none['false_alarm'] == 0 and none['FPR'] == 0 and none['F'] == 0


def test_global_metrics_formulas():
    out = F.global_metrics({
        'mIoU': 0.8,
        'F': 0.9
    }, {
        'silence': {
            'FPR': 0.1,
            'false_alarm': 0.5
        },
        'noise': {
            'FPR': 0.3,
            'false_alarm': 0.7
        }
    })
    assert out['G-FPR'] == pytest.approx(0.2)
    assert out['G-false_alarm'] == pytest.approx(0.6)
    assert out['G-mIoU'] == pytest.approx(2 * 0.8 * 0.8 / 1.6)
    assert out['G-F'] == pytest.approx(2 * 0.9 * 0.8 / 1.7)
    assert 'G-mIoU' not in F.global_metrics({}, {'silence': {'FPR': 0.1, 'false_alarm': 0.5}})
    assert F.harmonic_mean(0.0, 0.0) == 0.0
    with pytest.raises(ValueError, match='negative'):
        F.global_metrics({'mIoU': 1.0, 'F': 1.0}, {})


def test_mask_only_path_equals_histogram_path():
    logits, gt = _random_case(n=7, seed=3)
    full = F.frame_statistics(logits, gt)
    masks = F.frame_statistics(logits, gt, num_thresholds=0)
    for key in ('intersection', 'union', 'pred_pos', 'gt_pos', 'num_pixels'):
        assert torch.equal(full[key], masks[key]), key
    assert masks['tp_curve'].shape == (7, 0)
    assert math.isnan(F.reduce_statistics(masks)['F'])
    negative = F.frame_statistics(logits, None)
    assert not negative['gt_pos'].any() and torch.equal(negative['pred_pos'], full['pred_pos'])
