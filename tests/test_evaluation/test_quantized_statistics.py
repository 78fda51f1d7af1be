# Copyright (c) mmavs contributors. All rights reserved.
"""Statistics of integer-coded probability maps (PNG values) equal those of the float maps."""
import pytest
import torch

from mmavs.evaluation import RobustAVSMetric
from mmavs.evaluation.functional import (STAT_KEYS, code_bins, encode_probabilities, f_thresholds,
                                         frame_statistics, quantized_statistics)


def _equal(a, b):
    return {k: torch.equal(a[k], b[k]) for k in STAT_KEYS} == {k: True for k in STAT_KEYS}


@pytest.mark.parametrize('max_code, dtype', [(255, torch.uint8), (65535, torch.int32),
                                             (1, torch.uint8), (1023, torch.int16)])
def test_every_code_gives_the_float_statistics(max_code, dtype):
    g = torch.Generator().manual_seed(max_code)
    codes = torch.randint(0, max_code + 1, (6, 40, 50), generator=g).to(dtype)
    codes[0].view(-1)[:min(max_code + 1, 2000)] = torch.arange(min(max_code + 1, 2000))
    gt = torch.randint(0, 2, (6, 40, 50), generator=g, dtype=torch.uint8)
    for truth in (gt, None):
        expected = frame_statistics(codes.float() / max_code, truth, probabilities=True)
        assert _equal(quantized_statistics(codes, max_code, truth), expected)


def test_code_bins_are_monotone_and_cover_the_cut():
    bins = code_bins(255)
    assert bins.shape == (256, ) and bool((bins[1:] >= bins[:-1]).all())
    assert int(bins[0]) == 1 and int(bins[255]) == int(bins.max())  # 0 passes t_0 only


def test_bad_codes_are_refused():
    with pytest.raises(ValueError, match=r'codes in \[0, 255\]'):
        quantized_statistics(torch.full((1, 2, 2), 256, dtype=torch.int32), 255)
    with pytest.raises(ValueError, match='integer codes'):
        quantized_statistics(torch.zeros(1, 2, 2), 255)


def test_16_bit_encoding_keeps_every_statistic():
    g = torch.Generator().manual_seed(1)
    prob = torch.rand(4, 30, 40, generator=g)
    thresholds = f_thresholds()
    # every threshold, just below it, and just above the 0.5 cut (t_127 = 0.5 itself is the one
    # value no 16-bit code can stand for)
    edge = torch.cat([thresholds, torch.nextafter(thresholds, torch.tensor(0.0))])
    edge = edge[edge != 0.5]
    half_up = torch.nextafter(torch.tensor(0.5), torch.tensor(1.0)).view(1)
    prob[0].view(-1)[:edge.numel() + 1] = torch.cat([edge, half_up])
    gt = torch.randint(0, 2, (4, 30, 40), generator=g, dtype=torch.uint8)
    codes = encode_probabilities(prob)
    assert codes.dtype == torch.int64 and int(codes.min()) >= 0 and int(codes.max()) <= 65535
    assert float((codes / 65535 - prob).abs().max()) < 2e-5
    assert _equal(
        quantized_statistics(codes, 65535, gt), frame_statistics(prob, gt, probabilities=True))


def test_add_statistics_stores_what_process_stores():
    g = torch.Generator().manual_seed(2)
    prob = torch.rand(5, 8, 8, generator=g)
    gt = torch.randint(0, 2, (5, 8, 8), generator=g, dtype=torch.uint8)
    direct = RobustAVSMetric(gate_thr=None)
    direct.process(None, [
        dict(seg_logits=dict(data=prob[i:i + 1]), gt_sem_seg=dict(data=gt[i:i + 1]))
        for i in range(5)
    ])
    stored = RobustAVSMetric(gate_thr=None)
    stored.add_statistics(frame_statistics(prob, gt, probabilities=True), ['positive'] * 5)
    assert direct.compute_report(direct.results) == stored.compute_report(stored.results)
    with pytest.raises(ValueError, match='for each of the 5 frames'):
        stored.add_statistics(frame_statistics(prob, gt, probabilities=True), ['positive'])
