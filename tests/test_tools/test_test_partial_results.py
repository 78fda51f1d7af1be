# Copyright (c) mmavs contributors. All rights reserved.
"""tools/test.py stopped by a bad file still writes the tables of the conditions it finished."""
import json
import shutil

import pytest
import torch

from mmavs.audio import AudioLoadError
from mmavs.datasets.robust.waveforms import DEFAULT_UNSEEN_DIR
from mmavs_testing import ROBUST_S4
from mmavs_testing.cli import load_tool, write_tiny_config

pytestmark = pytest.mark.usefixtures('one_torch_thread')


def test_a_bad_unseen_recording_keeps_the_finished_conditions(tmp_path, tiny_synth_root):
    from mmavs.apis import init_model
    root = tmp_path / 'SynthAVS'
    shutil.copytree(tiny_synth_root, root)
    unseen = tmp_path / 'unseen'
    shutil.copytree(DEFAULT_UNSEEN_DIR, unseen)
    for wav in unseen.glob('*.wav'):
        wav.write_bytes(b'RIFF\x00\x00')  # not audio: the run fails at the first unseen frame
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=init_model(ROBUST_S4).state_dict(), meta=dict(epoch=1)), ckpt)
    cfg = write_tiny_config(tmp_path / 'tiny.py', root)
    work = tmp_path / 'work'
    with pytest.raises(AudioLoadError):
        load_tool('tools/test.py').main([
            str(cfg),
            str(ckpt), '--work-dir',
            str(work), '--cfg-options', f'test_dataloader.dataset.unseen_dir={unseen}'
        ])
    assert not (work / 'robust_metrics.json').exists()
    report = json.loads((work / 'robust_metrics_partial.json').read_text())
    assert report['incomplete']['finished'] == ['positive', 'silence', 'noise', 'offscreen']
    assert report['incomplete']['unfinished'] == ['unseen']
    assert 'cannot decode audio file' in report['incomplete']['error']
    rows = report['no_gate']['conditions']
    assert set(rows) == {'positive', 'silence', 'noise', 'offscreen'}
    assert rows['positive']['num_frames'] == 10 and 0 <= rows['positive']['mIoU'] <= 1
    assert 'incomplete' in (work / 'robust_metrics_partial.md').read_text()
