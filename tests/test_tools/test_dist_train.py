# Copyright (c) mmavs contributors. All rights reserved.
"""Two-process CPU training through tools/dist_train.sh (torchrun + MMEngine DDP over gloo)."""
import os
import socket
import subprocess
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

from mmavs_testing.cli import REPO, write_tiny_config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_two_process_gloo_training_finishes_and_checkpoint_loads(tiny_synth_root, tmp_path):
    cfg_path = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root, epochs=1)
    work = tmp_path / 'work'
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()), OMP_NUM_THREADS='1')
    out = subprocess.run(
        ['bash',
         str(REPO / 'tools/dist_train.sh'),
         str(cfg_path), '2', '--work-dir',
         str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=400)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert 'Distributed training: True' in log
    for rank in (0, 1):
        assert f'rank {rank}/2: training finished' in log, log[-4000:]
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()

    cfg = Config.fromfile(str(cfg_path))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    checkpoint = load_checkpoint(model, str(ckpt), map_location='cpu', strict=True)
    assert checkpoint['meta']['epoch'] == 1
    assert any(torch.count_nonzero(p) for p in model.parameters())
