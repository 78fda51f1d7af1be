# Copyright (c) mmavs contributors. All rights reserved.
"""tools/train.py and tools/test.py end to end on CPU: train, save, resume, test every condition."""
import json

import numpy as np
import torch
from PIL import Image

from mmavs.utils.checkpoint import load_checkpoint_file
from mmavs_testing.cli import REPO, run_tool, write_tiny_config


def _ckpt_epoch(path):
    return load_checkpoint_file(path)['meta']['epoch']


def test_train_saves_resumes_and_tests(tiny_synth_root, tmp_path):
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root, epochs=1)
    work = tmp_path / 'work'
    out = run_tool([REPO / 'tools/train.py', cfg, '--work-dir', work])
    assert out.returncode == 0, out.stderr[-3000:]
    assert _ckpt_epoch(work / 'epoch_1.pth') == 1
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')

    # Interrupted at epoch 1 of 2: --resume continues from the last checkpoint.
    out = run_tool([
        REPO / 'tools/train.py', cfg, '--work-dir', work, '--resume', '--cfg-options',
        'train_cfg.max_epochs=2'
    ])
    assert out.returncode == 0, out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert 'resumed epoch: 1' in log.lower() or 'resumed epoch 1' in log.lower() or \
        'Load checkpoint from' in log
    assert _ckpt_epoch(work / 'epoch_2.pth') == 2
    # Resuming continued from epoch 1: there is no second run of epoch 1.
    assert 'Epoch(train) [1]' not in log

    test_dir = tmp_path / 'test'
    out = run_tool([
        REPO / 'tools/test.py', cfg, work / 'epoch_2.pth', '--work-dir', test_dir, '--show-dir',
        'vis', '--out', tmp_path / 'masks'
    ])
    assert out.returncode == 0, out.stderr[-3000:]
    tables = list(test_dir.rglob('*.json'))
    robust = [p for p in tables if 'robust' in p.name]
    assert robust, f'no robust table JSON among {tables}'
    table = json.loads(robust[0].read_text())
    text = json.dumps(table)
    for condition in ('positive', 'silence', 'noise', 'offscreen', 'unseen'):
        assert condition in text
    pngs = list((test_dir).rglob('*.png'))
    assert pngs, 'no visualisation written by --show-dir'
    # --out: every test frame once per condition (2 test clips x 5 frames here), 0/255 PNGs,
    # as <condition>/<split>/<category>/<name>/<name>_<i>.png
    for condition in ('positive', 'silence', 'noise', 'offscreen', 'unseen'):
        masks = sorted((tmp_path / 'masks' / condition).glob('test/*/*/*_[1-5].png'))
        assert len(masks) == 10, (condition, masks)
    values = set(np.unique(np.asarray(Image.open(masks[0]))).tolist())
    assert values <= {0, 255}


def test_same_seed_gives_same_weights(tiny_synth_root, tmp_path):
    """Also with a thread schedule (the main job's): 1 thread, then 2 from iteration 1."""
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root, epochs=1)
    states = []
    for run in ('a', 'b'):
        out = run_tool([
            REPO / 'tools/reproduce/thread_schedule.py', '--thread-schedule', '0:1,1:2', cfg,
            '--work-dir', tmp_path / run, '--seed', '7', '--cfg-options',
            'randomness.deterministic=True'
        ])
        assert out.returncode == 0, out.stderr[-3000:]
        assert 'CPUThreadScheduleHook: iteration 1: 1 -> 2 threads' in out.stdout + out.stderr
        states.append(load_checkpoint_file(tmp_path / run / 'epoch_1.pth')['state_dict'])
    assert states[0].keys() == states[1].keys()
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key


def test_config_typo_is_reported_with_the_name(tiny_synth_root, tmp_path):
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root, epochs=1)
    out = run_tool([
        REPO / 'tools/train.py', cfg, '--work-dir', tmp_path / 'w', '--cfg-options',
        'model.decode_head.type=SegformerHaed'
    ])
    assert out.returncode != 0
    assert 'SegformerHaed' in out.stderr
