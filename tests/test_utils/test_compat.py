# Copyright (c) mmavs contributors. All rights reserved.
import os
import subprocess
import sys

import torch

import mmavs
from mmavs.utils import apply_compat_fixes


def test_version_is_exposed():
    assert isinstance(mmavs.__version__, str)
    assert mmavs.version_info[:2] == tuple(int(p) for p in mmavs.__version__.split('.')[:2])


def test_torch_keeps_its_weights_only_default():
    """mmavs never lowers torch's unpickling default, in its process or in child processes."""
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    out = subprocess.run([
        sys.executable, '-c', 'import os, mmavs; '
        'print(os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "unset"))'
    ],
                         env={
                             k: v
                             for k, v in os.environ.items()
                             if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'
                         },
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.strip() == 'unset'


def test_cuda_set_device_is_a_noop_without_cuda():
    if torch.cuda.is_available():
        assert not getattr(torch.cuda.set_device, '_mmavs_cpu_noop', False)
    else:
        torch.cuda.set_device(0)  # must not raise on a CPU-only build
        assert torch.cuda.set_device._mmavs_cpu_noop


def test_fixes_are_idempotent():
    before = torch.cuda.set_device
    apply_compat_fixes()
    apply_compat_fixes()
    assert torch.cuda.set_device is before


def test_mmengine_checkpoint_with_message_hub_loads(tmp_path):
    """A Runner-style checkpoint (numpy + mmengine objects) must load with torch >= 2.6."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from mmengine.runner import CheckpointLoader
    ckpt = dict(
        state_dict={'w': torch.ones(2)},
        message_hub=dict(
            log_scalars={'loss': HistoryBuffer(np.array([1.0, 2.0]), np.array([1, 1]))}))
    path = tmp_path / 'ckpt.pth'
    torch.save(ckpt, path)
    loaded = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 2.0


def test_openmmlab_stack_imports_with_compiled_ops():
    out = subprocess.run([
        sys.executable, '-c', 'import mmavs, mmseg, mmcv.ops, mmpretrain, torchvision; '
        'from mmcv.ops import nms; import torch; '
        'b = torch.tensor([[0., 0., 1., 1.], [0., 0., 1., 1.]]); '
        'print(nms(b, torch.tensor([0.9, 0.8]), 0.5)[1].tolist())'
    ],
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[0]'  # the lower-scored duplicate is suppressed
