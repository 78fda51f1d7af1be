# Copyright (c) mmavs contributors. All rights reserved.
"""The main job end to end in --quick mode: data, manifests, both trainings, calibration,
robust evaluations, comparison table, plots."""
import json

from cli_helpers import REPO, run_tool


def test_quick_main_job_writes_the_comparison(tmp_path):
    work = tmp_path / 'main_job'
    out = run_tool([REPO / 'tools/main_job.py', '--quick', '--epochs', '1', '--work-dir', work,
                    '--data-root', tmp_path / 'SynthAVS-quick'], timeout=900)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert 'positive-only baseline vs. debiased model' in out.stdout
    summary = json.loads((work / 'comparison.json').read_text())
    s4 = summary['subsets']['s4']
    conditions = {row['condition'] for row in s4['rows']}
    assert conditions == {'positive', 'silence', 'noise', 'offscreen', 'unseen', 'global'}
    assert {row['model'] for row in s4['rows']} == {'baseline', 'robust', 'robust + gate'}
    assert 0.0 <= s4['gate_thr'] <= 1.0
    assert any(c['name'].startswith('baseline shows visual bias') for c in s4['targets'])
    assert (work / 'comparison_s4.md').read_text().startswith('# SynthAVS S4')
    for name in ('s4_baseline_no_gate_bars.png', 's4_robust_gated_bars.png',
                 's4_similarity_before_training.png', 's4_similarity_after_training.png',
                 's4_gate_calibration.png', 's4_robust_overlays.png'):
        assert (work / 'plots' / name).stat().st_size > 0, name
    # A second run reuses the finished steps (checkpoints, evaluations) instead of redoing them.
    again = run_tool([REPO / 'tools/main_job.py', '--quick', '--epochs', '1', '--work-dir', work,
                      '--data-root', tmp_path / 'SynthAVS-quick'], timeout=900)
    assert again.returncode == 0, (again.stdout + again.stderr)[-4000:]
    assert 'training skipped' in again.stdout
