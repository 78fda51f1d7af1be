# Copyright (c) mmavs contributors. All rights reserved.
"""Tests of RobustAVSMetric: streaming statistics, DDP-style collection, gating, tables."""
import json
import pickle

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

from mmavs.evaluation import RobustAVSMetric
from mmavs.evaluation import functional as F

CONDITIONS = ('positive', 'silence', 'noise', 'offscreen')


def _frames(num_per_condition=10, size=12, seed=0, conditions=CONDITIONS):
    """``(condition, logits [H, W], gt [H, W], similarity)`` per frame, interleaved conditions."""
    g = torch.Generator().manual_seed(seed)
    frames = []
    for i in range(num_per_condition):
        for cond in conditions:
            logits = torch.randn(size, size, generator=g) * 3 - (0 if cond == 'positive' else 2)
            if cond == 'positive':
                gt = (torch.rand(size, size, generator=g) > 0.6).long()
                if i == 3:
                    gt.zero_()  # a positive frame without foreground
            else:
                gt = torch.zeros(size, size, dtype=torch.long)
            sim = torch.rand((), generator=g) * 0.5 + (0.5 if cond == 'positive' else 0.0)
            frames.append((cond, logits, gt, sim))
    return frames


def _sample(cond, logits, gt, sim=None, as_dict=True, gate_thr=None):
    s = SegDataSample(metainfo=dict(condition=cond, img_path=f'{cond}.png'))
    s.seg_logits = PixelData(data=logits[None].sigmoid())  # MMSeg: probabilities (1 channel)
    s.gt_sem_seg = PixelData(data=gt[None])
    if sim is not None:
        s.pred_similarity = sim
    if gate_thr is not None:
        s.set_metainfo(dict(gate_thr=gate_thr))
    return s.to_dict() if as_dict else s


def _run(metric, frames, batch_size, **kwargs):
    for i in range(0, len(frames), batch_size):
        metric.process({}, [_sample(*f, **kwargs) for f in frames[i:i + batch_size]])
    return metric.compute_metrics(metric.results)


def test_registered_in_mmseg_metrics():
    metric = METRICS.build(dict(type='RobustAVSMetric', gate_thr=0.3))
    assert isinstance(metric, RobustAVSMetric) and metric.gate_thr == 0.3


def test_keeps_statistics_not_masks():
    metric = RobustAVSMetric()
    metric.process({}, [_sample(*f) for f in _frames(1, size=64)])
    for result in metric.results:
        assert result['tp_curve'].shape == (255, ) and result['tp_curve'].dtype.name == 'int32'
        assert not any(getattr(v, 'size', 0) >= 64 * 64 for v in result.values())


def test_batch_size_does_not_change_results():
    frames = _frames()
    one = _run(RobustAVSMetric(), frames, batch_size=1)
    seven = _run(RobustAVSMetric(), frames, batch_size=7)
    assert one.keys() == seven.keys()
    for key in one:
        assert one[key] == pytest.approx(seven[key], abs=1e-12), key


def test_two_ranks_equal_one_process():
    frames = _frames(seed=1)
    single = _run(RobustAVSMetric(), frames, batch_size=4)
    ranks = [RobustAVSMetric(), RobustAVSMetric()]
    for i, frame in enumerate(frames):  # DistributedSampler order: rank = index % world
        ranks[i % 2].process({}, [_sample(*frame)])
    # collect_results pickles each rank's list and concatenates them.
    gathered = [r for m in ranks for r in pickle.loads(pickle.dumps(m.results))]
    merged = RobustAVSMetric().compute_metrics(gathered)
    for key in single:
        assert merged[key] == pytest.approx(single[key], abs=1e-12), key


def test_streaming_equals_functional():
    frames = _frames(seed=2)
    out = _run(RobustAVSMetric(), frames, batch_size=5)
    for cond in CONDITIONS:
        logits = torch.stack([f[1] for f in frames if f[0] == cond])
        assert out[f'{cond}/FPR'] == pytest.approx(F.false_positive_rate(logits))
        assert out[f'{cond}/false_alarm'] == pytest.approx(F.false_alarm_rate(logits))
    pos_logits = torch.stack([f[1] for f in frames if f[0] == 'positive'])
    pos_gt = torch.stack([f[2] for f in frames if f[0] == 'positive'])
    assert out['positive/mIoU'] == pytest.approx(F.jaccard(pos_logits, pos_gt))
    assert out['positive/F'] == pytest.approx(F.fscore(pos_logits, pos_gt))
    assert 'silence/mIoU' not in out and 'silence/F' not in out
    negatives = [out[f'{c}/FPR'] for c in CONDITIONS[1:]]
    g_fpr = sum(negatives) / 3
    assert out['G-FPR'] == pytest.approx(g_fpr)
    assert out['G-mIoU'] == pytest.approx(F.harmonic_mean(out['positive/mIoU'], 1 - g_fpr))
    assert out['G-F'] == pytest.approx(F.harmonic_mean(out['positive/F'], 1 - g_fpr))


def test_through_mmengine_evaluator_with_segdatasamples():
    frames = _frames(2, seed=3)
    evaluator = Evaluator(RobustAVSMetric())
    evaluator.process([_sample(*f, as_dict=False) for f in frames])
    out = evaluator.evaluate(len(frames))
    ref = _run(RobustAVSMetric(), frames, batch_size=len(frames))
    assert out == pytest.approx(ref)


def test_gated_table_empties_low_similarity_frames():
    frames = _frames(seed=4)
    thr = 0.5
    out = _run(RobustAVSMetric(gate_thr=thr), frames, batch_size=3)
    for cond in CONDITIONS[1:]:
        kept = [f[1] for f in frames if f[0] == cond and f[3] >= thr]
        n = sum(1 for f in frames if f[0] == cond)
        expected = sum(float((torch.sigmoid(x) > 0.5).float().mean()) for x in kept) / n
        assert out[f'gated/{cond}/FPR'] == pytest.approx(expected)
        # Negatives score below 0.5 by construction: gating silences them.
        assert out[f'gated/{cond}/false_alarm'] == 0.0
    assert out['gated/positive/mIoU'] == pytest.approx(out['positive/mIoU'])
    assert out['gated/G-FPR'] < out['G-FPR']


def test_model_gate_threshold_overrides_default():
    frames = _frames(seed=5)
    default = _run(RobustAVSMetric(gate_thr=0.5), frames, batch_size=4)
    model = _run(RobustAVSMetric(gate_thr=0.5), frames, batch_size=4, gate_thr=1.0)
    assert default['gated/positive/mIoU'] > 0
    # With the model's threshold 1.0 every frame is gated.
    assert model['gated/positive/FPR'] == 0 and model['gated/silence/false_alarm'] == 0


def test_no_gated_table_without_scores_or_threshold():
    frames = [f[:3] for f in _frames(2, seed=6)]
    out = _run(RobustAVSMetric(), frames, batch_size=4)
    assert not any(k.startswith('gated/') for k in out)
    assert not any(k.endswith('/similarity') for k in out)
    scored = _run(RobustAVSMetric(gate_thr=None), _frames(2, seed=6), batch_size=4)
    assert not any(k.startswith('gated/') for k in scored)
    assert 'positive/similarity' in scored


def test_any_condition_name_and_missing_negative_gt():
    metric = RobustAVSMetric()
    logits = torch.full((1, 4, 4), -5.0)
    logits[0, 0, 0] = 5.0
    sample = {'seg_logits': {'data': logits.sigmoid()}, 'condition': 'unseen_airplane'}
    metric.process({}, [sample])
    out = metric.compute_metrics(metric.results)
    assert out['unseen_airplane/FPR'] == pytest.approx(1 / 16)
    assert out['G-FPR'] == pytest.approx(1 / 16)
    assert 'G-mIoU' not in out  # no positive condition
    with pytest.raises(KeyError, match='gt_sem_seg'):
        metric.process({}, [{'seg_logits': {'data': logits.sigmoid()}, 'img_path': 'a.png'}])


def test_mismatched_sizes_name_the_frame():
    bad = {
        'seg_logits': {
            'data': torch.zeros(1, 4, 4)
        },
        'img_path': 'clip/a_1.png',
        'gt_sem_seg': {
            'data': torch.zeros(1, 4, 5, dtype=torch.long)
        }
    }
    with pytest.raises(ValueError, match='clip/a_1.png'):
        RobustAVSMetric().process({}, [bad])


def test_frames_of_different_sizes_in_one_batch():
    small = _frames(1, size=6, seed=7)
    large = _frames(1, size=9, seed=8)
    mixed = RobustAVSMetric()
    mixed.process({}, [_sample(*f) for f in small + large])
    separate = RobustAVSMetric()
    separate.process({}, [_sample(*f) for f in small])
    separate.process({}, [_sample(*f) for f in large])
    assert mixed.compute_metrics(mixed.results) == separate.compute_metrics(separate.results)


def test_tables_written_as_json_and_markdown(tmp_path):
    metric = RobustAVSMetric(output_dir=str(tmp_path))
    out = _run(metric, _frames(2, seed=9), batch_size=4)
    report = json.loads((tmp_path / RobustAVSMetric.JSON_NAME).read_text())
    assert report['metrics']['G-FPR'] == pytest.approx(out['G-FPR'])
    assert report['gate_thr'] == 0.5
    assert set(report['no_gate']['conditions']) == set(CONDITIONS)
    assert report['no_gate']['conditions']['positive']['num_frames'] == 2
    markdown = (tmp_path / RobustAVSMetric.MARKDOWN_NAME).read_text()
    assert '| global |' in markdown and '### Gated' in markdown
    assert f'{out["G-FPR"]:.4f}' in markdown
