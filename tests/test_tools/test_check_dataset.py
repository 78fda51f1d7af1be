# Copyright (c) mmavs contributors. All rights reserved.
"""tools/misc/check_dataset.py: a clean tree passes, a damaged one gets every problem listed."""
import json

import numpy as np
import pytest
from PIL import Image

from mmavs.datasets import AVSBenchMS3Dataset, AVSBenchS4Dataset
from mmavs_testing.cli import load_tool, write_tiny_config


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/misc/check_dataset.py')


def test_clean_root_and_config_pass(tool, tiny_synth_root, tmp_path, capsys):
    assert tool.main([str(tiny_synth_root), '--workers', '2']) == []
    out = capsys.readouterr().out
    assert 'no problem found (full check of 6 split(s))' in out
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    assert tool.main([str(cfg), '--mode', 'fast', '--no-progress']) == []


def test_damaged_root_lists_every_problem(tool, tiny_tree_copy, tmp_path, capsys):
    s4 = AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='test')
    ms3 = AVSBenchMS3Dataset(data_root=str(tiny_tree_copy), split='train')
    frame = s4.video_infos[0]['frames'][0]['img_path']
    open(frame, 'wb').write(open(frame, 'rb').read()[:200])
    mask = ms3.video_infos[1]['frames'][4]['seg_map_path']
    Image.fromarray(np.full((64, 64), 7, np.uint8)).save(mask)
    wav = ms3.video_infos[0]['audio_path']
    open(wav, 'wb').write(open(wav, 'rb').read()[:5000])
    with pytest.raises(SystemExit) as exc_info:
        tool.main([str(tiny_tree_copy), '--json', str(tmp_path / 'p.json'), '--no-progress'])
    assert exc_info.value.code == 1
    err = capsys.readouterr().err
    assert '3 problem(s)' in err and all(p in err for p in (frame, mask, wav))
    problems = json.load(open(tmp_path / 'p.json'))
    assert {p['path'] for p in problems} == {frame, mask, wav}
    assert all(p['where'].startswith('line ') for p in problems)


def test_csv_errors_and_missing_files_are_problems_too(tool, tiny_tree_copy, capsys):
    s4 = AVSBenchS4Dataset(data_root=str(tiny_tree_copy), split='val')
    missing = s4.video_infos[0]['frames'][3]['img_path']
    import os
    os.remove(missing)
    csv = tiny_tree_copy / 'Multi-sources' / 'ms3_meta_data.csv'
    csv.write_text(csv.read_text() + 'ghost,Tset\n')
    with pytest.raises(SystemExit):
        tool.main([str(tiny_tree_copy), '--mode', 'fast', '--no-progress'])
    err = capsys.readouterr().err
    assert f'{missing}: file missing' in err
    assert "unknown split 'Tset'" in err and str(csv) in err
