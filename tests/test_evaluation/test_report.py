# Copyright (c) mmavs contributors. All rights reserved.
"""Tests of the robustness table (mmavs.evaluation.report)."""
import torch

from mmavs.evaluation import functional as F
from mmavs.evaluation.report import (build_report, flatten_report, format_markdown, format_table,
                                     order_conditions, report_from_metrics)


def _stats(n, fg, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, 8, 8, generator=g) * 3
    gt = (torch.rand(n, 8, 8, generator=g) > 0.5).long() if fg else None
    return F.frame_statistics(logits, gt)


def test_condition_order_puts_positive_and_standard_negatives_first():
    names = ['zzz', 'unseen', 'noise', 'positive', 'aaa', 'silence', 'offscreen']
    assert order_conditions(names) == [
        'positive', 'silence', 'noise', 'offscreen', 'unseen', 'aaa', 'zzz'
    ]


def test_report_rows_and_global_row():
    report = build_report({
        'silence': _stats(3, False, 0),
        'positive': _stats(4, True, 1)
    },
                          similarity={'positive': 0.9})
    assert list(report['conditions']) == ['positive', 'silence']
    assert set(report['conditions']['silence']) == {'num_frames', 'FPR', 'false_alarm'}
    assert report['conditions']['positive']['similarity'] == 0.9
    assert report['global']['G-FPR'] == report['conditions']['silence']['FPR']
    text = format_table(report, title='t')
    assert 'global' in text and 'positive' in text
    markdown = format_markdown(report)
    assert markdown.count('\n') == 2 + 3  # header, rule, two conditions, global


def test_flat_metrics_round_trip():
    report = build_report({'positive': _stats(4, True, 2), 'noise': _stats(2, False, 3)})
    flat = flatten_report(report)
    assert report_from_metrics(flat) == {
        'conditions': {
            name: {
                k: v
                for k, v in row.items() if k != 'num_frames'
            }
            for name, row in report['conditions'].items()
        },
        'global': report['global']
    }
    gated = flatten_report(report, prefix='gated/')
    assert report_from_metrics({**flat, **gated}, gated=True) == report_from_metrics(flat)
    assert report_from_metrics(gated) == {'conditions': {}, 'global': {}}
    prefixed = {f'avs/{k}': v for k, v in {**flat, **gated, 'mIoU': 1.0}.items()}
    assert report_from_metrics(prefixed, prefix='avs/') == report_from_metrics(flat)
    assert report_from_metrics(prefixed, prefix='avs/', gated=True) == report_from_metrics(flat)


def test_no_negative_condition_means_no_global_row():
    report = build_report({'positive': _stats(2, True, 4)})
    assert report['global'] == {}
    assert 'global' not in format_markdown(report)
