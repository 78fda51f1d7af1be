# Copyright (c) mmavs contributors. All rights reserved.
"""tools/analysis_tools/browse_dataset.py end to end: robust test and train datasets."""
import numpy as np
from PIL import Image

from mmavs_testing.cli import REPO, run_tool, write_tiny_config

TOOL = REPO / 'tools/analysis_tools/browse_dataset.py'
CONDITIONS = ('positive', 'silence', 'noise', 'offscreen', 'unseen')


def test_robust_test_set_one_picture_per_condition(tiny_synth_root, tmp_path):
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    out = tmp_path / 'browse'
    proc = run_tool([TOOL, cfg, '--split', 'test', '--output-dir', out, '--not-show'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '50 of 50 samples of the test dataset' in proc.stdout
    pictures = {}
    for condition in CONDITIONS:
        files = sorted((out / condition).glob('*.png'))
        assert len(files) == 10, condition  # 2 videos x 5 frames
        pictures[condition] = np.asarray(Image.open(files[0]))
    # frame | (log-mel over waveform): wider than the 256 px frame panel
    assert all(p.shape[1] > 2 * 256 for p in pictures.values())
    # the positive frame carries its green ground-truth mask, a negative's mask is empty
    frame = [p[:, :256].astype(int) for p in pictures.values()]  # the frame panel
    green = [((f[..., 1] - f[..., 0] > 60) & (f[..., 1] - f[..., 2] > 60)).sum() for f in frame]
    assert green[0] > 5 * max(green[1:]) and green[0] > 500
    # silence: the waveform panel holds the zero line only (bottom right of the card)
    wave = pictures['silence'][-60:, -200:].astype(int)
    noise = pictures['noise'][-60:, -200:].astype(int)
    assert (np.abs(noise - wave).max(axis=2) > 40).sum() > 200


def test_train_stream_with_a_condition_filter_and_bad_config(tiny_synth_root, tmp_path):
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    out = tmp_path / 'train'
    proc = run_tool(
        [TOOL, cfg, '--output-dir', out, '--not-show', '--conditions', 'silence', 'offscreen'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    drawn = {p.parent.name for p in out.rglob('*.png')}
    assert drawn and drawn <= {'silence', 'offscreen'}
    proc = run_tool([TOOL, tmp_path / 'missing.py', '--output-dir', out, '--not-show'])
    assert proc.returncode == 2 and 'missing.py' in proc.stderr
