# Copyright (c) mmavs contributors. All rights reserved.
"""tools/analysis_tools end to end on tiny data: calibration, similarity plot, comparison,
benchmark, and the benchmark suite's table."""
import json
import math

import pytest
import torch

from mmavs.apis import init_model
from mmavs.utils.checkpoint import load_checkpoint_file, read_gate_thr
from mmavs_testing.cli import REPO, load_tool, run_tool, write_tiny_config

pytestmark = pytest.mark.usefixtures('one_torch_thread')


@pytest.fixture(scope='module')
def tiny_run(tiny_synth_root, tmp_path_factory):
    """A tiny robust config on the tiny SynthAVS tree and a random-weight checkpoint of it."""
    root = tmp_path_factory.mktemp('analysis')
    cfg = write_tiny_config(root / 'tiny.py', tiny_synth_root)
    torch.manual_seed(0)
    model = init_model(cfg)
    ckpt = root / 'epoch_0.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=0)), ckpt)
    return cfg, ckpt


def test_calibrate_gate_writes_plot_threshold_and_checkpoint(tmp_path, capsys, tiny_run):
    cfg, ckpt = tiny_run
    tool = load_tool('tools/analysis_tools/calibrate_gate.py')
    out_ckpt = tmp_path / 'gated.pth'
    summary = tool.main([
        str(cfg),
        str(ckpt), '--work-dir',
        str(tmp_path / 'calib'), '--out-ckpt',
        str(out_ckpt), '--no-progress'
    ])
    printed = capsys.readouterr().out
    info = summary['calibration']
    thr = info['gate_thr']
    assert f'chosen gate threshold: {thr:g}' in printed
    assert (tmp_path / 'calib' / 'gate_calibration.png').stat().st_size > 1000
    saved = json.loads((tmp_path / 'calib' / 'gate_calibration.json').read_text())
    assert saved['calibration']['gate_thr'] == thr and len(saved['sweep']) == 101
    # The rule: positive mIoU within the allowed drop, and no feasible threshold has lower G-FPR.
    assert info['positive_mIoU'] >= info['no_gate_positive_mIoU'] - 0.01 - 1e-9
    feasible = [
        r for r in summary['sweep']
        if r['positive_mIoU'] >= info['no_gate_positive_mIoU'] - 0.01 - 1e-9
    ]
    assert info['G_FPR'] <= min(r['G-FPR'] for r in feasible) + 1e-12
    assert set(info['num_frames']) == {'positive', 'silence', 'noise', 'offscreen'}
    # The spread of the rule over resampled val videos (two videos in the tiny split).
    spread = info['bootstrap']
    assert spread['resamples'] == 200 and spread['videos'] == 2
    assert 0 <= spread['p5'] <= spread['median'] <= spread['p95'] <= 1
    assert f'picks {spread["p5"]:g}-{spread["p95"]:g} (5-95 %)' in printed
    # The copied checkpoint carries the threshold and the same weights.
    assert read_gate_thr(str(out_ckpt)) == pytest.approx(thr)
    assert init_model(cfg, str(out_ckpt)).gate_thr == pytest.approx(thr)
    src = load_checkpoint_file(ckpt)['state_dict']
    dst = load_checkpoint_file(out_ckpt)
    assert dst['meta']['epoch'] == 0
    assert all(torch.equal(src[k], dst['state_dict'][k]) for k in src)


def test_plot_similarity_writes_the_histogram_and_prints_auc(tmp_path, capsys, tiny_run):
    cfg, ckpt = tiny_run
    tool = load_tool('tools/analysis_tools/plot_similarity.py')
    out = tmp_path / 'sim.png'
    summary = tool.main([str(cfg), str(ckpt), '--out', str(out), '--no-progress'])
    printed = capsys.readouterr().out
    assert out.stat().st_size > 1000
    assert set(summary['conditions']) == {'positive', 'silence', 'noise', 'offscreen', 'unseen'}
    assert 0 <= summary['auc_all_negatives'] <= 1
    assert f'{summary["auc_all_negatives"]:.4f}' in printed
    for name, row in summary['conditions'].items():
        assert row['frames'] == 10 and 0 <= row['mean'] <= 1
        assert f'{row["mean"]:.4f}' in printed
    assert json.loads((tmp_path / 'sim.json').read_text())['conditions']['positive']['auc'] is None


def _results(miou, fpr, gated_fpr=None):
    report = {
        'conditions': {
            'positive': {
                'num_frames': 10,
                'mIoU': miou,
                'F': 0.7,
                'FPR': 0.2,
                'false_alarm': 1.0
            },
            'silence': {
                'num_frames': 10,
                'FPR': fpr,
                'false_alarm': 0.9
            }
        },
        'global': {
            'G-FPR': fpr,
            'G-false_alarm': 0.9,
            'G-mIoU': 0.6,
            'G-F': 0.65
        }
    }
    out = {'gate_thr': None, 'no_gate': report}
    if gated_fpr is not None:
        out['gate_thr'] = 0.5
        out['gated'] = json.loads(json.dumps(report))
        out['gated']['conditions']['silence']['FPR'] = gated_fpr
    return out


def test_compare_results_puts_both_side_by_side(tmp_path):
    a, b = tmp_path / 'a.json', tmp_path / 'b.json'
    a.write_text(json.dumps(_results(0.70, 0.30)))
    b.write_text(json.dumps(_results(0.65, 0.05, gated_fpr=0.01)))
    out = tmp_path / 'cmp.md'
    proc = run_tool([
        REPO / 'tools/analysis_tools/compare_results.py', a, b, '--names', 'baseline', 'debiased',
        '--out', out
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert 'baseline' in text and 'debiased' in text
    assert '| positive | mIoU | 0.7000 | 0.6500 | -0.0500 |' in text
    assert '| silence | FPR | 0.3000 | 0.0500 | -0.2500 |' in text
    assert '| silence | FPR | - | 0.0100 | - |' in text  # gated: only B has it
    assert 'similarity >= 0.5' in proc.stdout and 'debiased - baseline' in proc.stdout


def test_compare_results_rejects_other_json(tmp_path, capsys):
    tool = load_tool('tools/analysis_tools/compare_results.py')
    good, bad = tmp_path / 'good.json', tmp_path / 'other.json'
    good.write_text(json.dumps(_results(0.7, 0.3)))
    bad.write_text(json.dumps({'mIoU': 0.5}))
    with pytest.raises(SystemExit):
        tool.main([str(good), str(bad)])
    assert 'other.json' in capsys.readouterr().err


def test_benchmark_prints_fps_and_throughput(capsys, tiny_run):
    cfg, _ = tiny_run
    tool = load_tool('tools/analysis_tools/benchmark.py')
    assert tool.config_sizes(load_config(cfg)) == ((112, 112), (112, 112))
    result = tool.main([
        str(cfg), '--mode', 'both', '--iters', '2', '--warmup', '1', '--batch-size', '2', '--size',
        '64', '64'
    ])
    printed = capsys.readouterr().out
    assert 'inference FPS:' in printed and 'training throughput:' in printed
    assert 'ms/frame' in printed and 'MiB' in printed
    for mode in ('infer', 'train'):
        assert result[mode]['fps'] > 0 and result[mode]['peak_mib'] > 0
        assert math.isclose(result[mode]['fps'], 2 / result[mode]['median_s'])


def load_config(path):
    from mmengine.config import Config
    return Config.fromfile(str(path))


def test_benchmark_suite_table_has_ratios_and_goals():
    suite = load_tool('benchmarks/run_all.py')
    rows = suite.metrics_rows(dict(frames=6, frame_size=24, loop_frames=3))
    assert [r['goal'] for r in rows] == ['>= 20x', '>= 20x']
    for r in rows:
        assert r['ratio'] == pytest.approx(r['reference'] / r['ours'])
        assert r['met'] == (r['ratio'] >= 20)
    table = suite.format_rows(rows + [suite.row('x', 2.0, 1.0, 'ms', 2.0, '<= 1.25x', False)])
    assert 'ratio' in table and 'goal' in table and '| NO' in table and '2.00x' in table
