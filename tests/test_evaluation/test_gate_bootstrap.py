# Copyright (c) mmavs contributors. All rights reserved.
"""mmavs.apis.gate_bootstrap: the spread of a calibrated threshold over resampled videos."""
import numpy as np
import pytest

from mmavs.evaluation import bootstrap_gate_thresholds, sweep_gate_thresholds
from mmavs.evaluation.gate_bootstrap import _frame_tables
from mmavs_testing.apis import biased_run


def _videos(stats, frames_per_video=2):
    return {
        name: [f'v{i // frames_per_video}' for i in range(len(s['pred_pos']))]
        for name, s in stats.items()
    }


def test_unweighted_tables_agree_with_the_sweep():
    rng = np.random.default_rng(0)
    _, stats, scores = biased_run(
        rng.random(8).tolist(), dict(silence=rng.random(8).tolist(), noise=rng.random(8).tolist()))
    # a positive frame predicted partly, and a negative frame predicted nothing
    stats['positive']['intersection'][0] //= 2
    stats['noise']['pred_pos'][1] = 0
    thresholds = [0.0, 0.2, 0.5, 0.77, 1.0]
    tables = _frame_tables(stats, scores, thresholds, 'positive')
    for i, row in enumerate(sweep_gate_thresholds(stats, scores, thresholds)):
        assert tables['positive']['iou'][i].mean() == pytest.approx(row['positive_mIoU'])
        fpr = np.mean([tables[c]['fpr'][i].mean() for c in ('silence', 'noise')])
        alarm = np.mean([tables[c]['false_alarm'][i].mean() for c in ('silence', 'noise')])
        assert fpr == pytest.approx(row['G-FPR'])
        assert alarm == pytest.approx(row['G-false_alarm'])


def test_a_clear_cut_split_gives_one_threshold_on_every_resample():
    _, stats, scores = biased_run([0.9] * 10, dict(silence=[0.1] * 10))
    draws = bootstrap_gate_thresholds(
        stats, scores, _videos(stats), strategy='strictest', num_resamples=30)
    assert draws.shape == (30, ) and np.all(draws == 0.9)


def test_the_rule_follows_the_videos_drawn():
    """Video v0 (two frames at 0.5) decides the strictest threshold: when it is drawn the
    threshold stays at 0.5, when it is not the rule goes up to 0.9."""
    _, stats, scores = biased_run([0.5, 0.5] + [0.9] * 8, dict(silence=[0.1] * 10))
    videos = _videos(stats)
    draws = bootstrap_gate_thresholds(
        stats, scores, videos, strategy='strictest', num_resamples=200, seed=1)
    assert set(np.unique(draws)) == {0.5, 0.9}
    # P(v0 not among 5 draws of 5 videos) = (4/5)^5 = 0.33
    assert 0.2 < np.mean(draws == 0.9) < 0.45
    again = bootstrap_gate_thresholds(
        stats, scores, videos, strategy='strictest', num_resamples=200, seed=1)
    assert np.array_equal(draws, again)  # seeded


def test_video_ids_must_cover_every_frame():
    _, stats, scores = biased_run([0.9] * 4, dict(silence=[0.1] * 4))
    videos = _videos(stats)
    videos['silence'] = videos['silence'][:3]
    with pytest.raises(ValueError, match="condition 'silence'"):
        bootstrap_gate_thresholds(stats, scores, videos)
    with pytest.raises(ValueError, match='num_resamples'):
        bootstrap_gate_thresholds(stats, scores, _videos(stats), num_resamples=0)
    with pytest.raises(ValueError, match='negative'):
        bootstrap_gate_thresholds({'positive': stats['positive']}, scores, _videos(stats))
