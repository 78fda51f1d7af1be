# Copyright (c) mmavs contributors. All rights reserved.
"""AVSegVisualizationHook: MMSeg's own test.py --show-dir writes one picture per condition
without building the train dataloader; the hook alone on hand-made samples."""
from pathlib import Path
from types import SimpleNamespace

import mmcv
import mmseg
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample

from mmavs_testing import REPO
from mmavs_testing.cli import run_tool, write_tiny_config

CONDITIONS = ('positive', 'silence', 'noise', 'offscreen', 'unseen')
MMSEG_TEST = Path(mmseg.__file__).parent / '.mim' / 'tools' / 'test.py'


@pytest.fixture(scope='module')
def random_checkpoint(tmp_path_factory):
    from mmavs.apis import init_model
    from mmavs_testing import ROBUST_S4
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('vis_ckpt') / 'tiny.pth'
    torch.save(dict(state_dict=init_model(ROBUST_S4).state_dict(), meta=dict(epoch=0)), path)
    return path


def test_mmseg_test_show_dir_writes_one_file_per_condition(tiny_synth_root, tmp_path,
                                                           random_checkpoint):
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    # The train data root does not exist: a test run must not build the train dataloader.
    with open(cfg, 'a') as f:
        f.write("train_dataloader = dict(dataset=dict(dataset=dict(data_root='/no/train/root')))\n")
    show = tmp_path / 'show'
    proc = run_tool([
        MMSEG_TEST, cfg, random_checkpoint, '--work-dir', tmp_path / 'work', '--show-dir', show,
        '--cfg-options', 'default_hooks.visualization.interval=1'
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    root = show / 'vis_data' / 'vis_image'
    for condition in CONDITIONS:
        files = sorted((root / condition).glob('*.png'))
        # 2 test videos x 5 frames, one picture each, named <video>_<frame>.png
        assert len(files) == 10, (condition, files)
        assert all(f.stem.rsplit('_', 1)[1] in '01234' for f in files)
    picture = mmcv.imread(str(root / 'silence' / files[0].name))
    assert picture.shape[1] >= 320 and picture.shape[0] > picture.shape[1]  # header above


def _sample(condition, similarity, gated, img_path):
    sample = SegDataSample(
        metainfo=dict(
            img_path=str(img_path),
            video_id='vid',
            frame_idx=2,
            condition=condition,
            is_sounding=int(condition == 'positive'),
            gate_thr=0.5,
            gated=gated))
    pred = torch.zeros(1, 32, 32, dtype=torch.long)
    if not gated:
        pred[:, 8:24, 8:24] = 1
    sample.pred_sem_seg = PixelData(data=pred)
    sample.pred_similarity = torch.tensor(similarity)
    return sample


def test_hook_names_files_by_condition_and_draws_the_grid(tmp_path):
    img = tmp_path / 'frame.png'
    mmcv.imwrite(np.full((32, 32, 3), 90, np.uint8), str(img))
    hook = HOOKS.build(
        dict(
            type='AVSegVisualizationHook',
            draw=True,
            interval=1,
            out_dir=str(tmp_path / 'o'),
            grid=True))
    runner = SimpleNamespace(visualizer=None, log_dir=str(tmp_path))
    outputs = [_sample('positive', 0.9, False, img), _sample('noise', 0.1, True, img)]
    batch = dict(inputs=dict(audio=[torch.randn(96, 64), torch.full((96, 64), -4.6)]))
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, batch, outputs)
    assert hook.num_written == 2
    pos = mmcv.imread(str(tmp_path / 'o' / 'positive' / 'vid_2.png'), channel_order='rgb')
    neg = mmcv.imread(str(tmp_path / 'o' / 'noise' / 'vid_2.png'), channel_order='rgb')
    # the grid: frame | mask | log-mel, wider than two frames
    assert pos.shape[1] > 2 * 256
    # the mask panel of the kept positive has white pixels, the gated negative's none
    assert (pos == 255).all(axis=2).sum() > 100
    assert (neg[40:] == 255).all(axis=2).sum() < (pos[40:] == 255).all(axis=2).sum()
    # interval: batch 1 is skipped at interval 2
    hook.interval = 2
    hook.after_test_iter(runner, 1, batch, outputs)
    assert hook.num_written == 2


def test_every_shipped_config_uses_the_hook():
    configs = sorted((REPO / 'configs').glob('*/*.py'))
    configs = [c for c in configs if c.parent.name != '_base_']
    assert len(configs) >= 17
    for path in configs:
        cfg = Config.fromfile(str(path))
        assert cfg.default_hooks.visualization.type == 'AVSegVisualizationHook', path
        hook = HOOKS.build(cfg.default_hooks.visualization)
        assert hook.draw is False
