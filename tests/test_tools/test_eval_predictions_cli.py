# Copyright (c) mmavs contributors. All rights reserved.
"""Round trip: tools/test.py --out, then eval_predictions.py, gives the table of tools/test.py."""
import json

import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from mmavs_testing.cli import REPO, run_tool, write_tiny_config

CONDITIONS = ('positive', 'silence', 'noise', 'offscreen', 'unseen')


def _checkpoint(cfg_path, path):
    """A randomly initialised model of the config, saved as a Runner checkpoint."""
    model = MODELS.build(Config.fromfile(str(cfg_path)).model)
    torch.save(dict(meta=dict(epoch=0), state_dict=model.state_dict()), path)
    return path


def _evaluate(root, preds, out):
    args = [
        REPO / 'tools/analysis_tools/eval_predictions.py', root, '--subset', 's4', '--out', out,
        '--no-progress'
    ]
    for condition in CONDITIONS:
        args += ['--pred', f'{condition}={preds / condition}']
    result = run_tool(args)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / 'robust_metrics.json').read_text()), result.stdout


def test_test_py_predictions_score_to_test_py_table(tiny_synth_root, tmp_path):
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    ckpt = _checkpoint(cfg, tmp_path / 'random.pth')
    tables = {}
    for fmt in ('prob', 'mask'):
        work = tmp_path / f'work_{fmt}'
        run = run_tool([
            REPO / 'tools/test.py', cfg, ckpt, '--work-dir', work, '--out', tmp_path / fmt,
            '--out-format', fmt
        ])
        assert run.returncode == 0, run.stderr[-3000:]
        tables[fmt] = json.loads((work / 'robust_metrics.json').read_text())
    reference = tables['prob']['no_gate']  # the same model and data: one table
    assert tables['mask']['no_gate'] == reference
    # 16-bit probability maps: every number of the table, exactly
    prob, stdout = _evaluate(tiny_synth_root, tmp_path / 'prob', tmp_path / 'eval_prob')
    assert 'global' in stdout and 'prediction folders' in stdout
    for condition in CONDITIONS:
        row = {k: v for k, v in reference['conditions'][condition].items() if k != 'similarity'}
        assert prob['no_gate']['conditions'][condition] == row, condition
    assert prob['no_gate']['global'] == reference['global']
    assert prob['metrics'] == {
        k: v
        for k, v in tables['prob']['metrics'].items()
        if not k.startswith('gated/') and not k.endswith('/similarity')
    }
    assert 0 < reference['conditions']['positive']['mIoU'] < 1  # not a degenerate model
    # binary masks: the same mIoU, FPR and false alarm (F: that of one mask)
    mask, _ = _evaluate(tiny_synth_root, tmp_path / 'mask', tmp_path / 'eval_mask')
    for condition in CONDITIONS:
        for key in ('mIoU', 'FPR', 'false_alarm'):
            if key in reference['conditions'][condition]:
                assert mask['no_gate']['conditions'][condition][key] == \
                    reference['conditions'][condition][key], (condition, key)
    assert mask['no_gate']['global']['G-FPR'] == reference['global']['G-FPR']
    # a missing PNG: exit status 1, the file named
    gone = next((tmp_path / 'prob' / 'silence').rglob('*_3.png'))
    gone.unlink()
    args = [
        REPO / 'tools/analysis_tools/eval_predictions.py', tiny_synth_root, '--pred',
        f'silence={tmp_path / "prob" / "silence"}', '--no-progress'
    ]
    failed = run_tool(args)
    assert failed.returncode == 1 and str(gone) in failed.stderr
    assert 'silence: 1 of 10 missing' in failed.stderr
