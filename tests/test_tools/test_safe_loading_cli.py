# Copyright (c) mmavs contributors. All rights reserved.
"""Every tool refuses a malicious checkpoint (its payload never runs) and names a bad one.

The checkpoint carries the tiny model's real weights, so only its extra pickled object stands
between it and a normal load; ``tests/test_utils/test_checkpoint.py`` shows the payload runs
under full unpickling. The Runner paths (``--resume CKPT``, ``load_from``) run in a fresh
interpreter, the others in this process.
"""
import pytest
import torch
from PIL import Image

from mmavs.utils.checkpoint import UNSAFE_LOAD_ENV
from mmavs_testing import REPO, ROBUST_S4
from mmavs_testing.checkpoints import write_malicious_checkpoint, write_truncated_copy
from mmavs_testing.cli import load_tool, run_tool, write_tiny_config

pytestmark = pytest.mark.usefixtures('one_torch_thread')


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    from mmavs.apis import init_model
    torch.manual_seed(0)
    state = init_model(ROBUST_S4).state_dict()
    path = tmp_path_factory.mktemp('safe_ckpt') / 'tiny.pth'
    torch.save(dict(state_dict=state, meta=dict(epoch=1, iter=1)), path)
    return state, path


@pytest.fixture
def malicious(tmp_path, weights):
    marker = tmp_path / 'marker.txt'
    path = write_malicious_checkpoint(tmp_path / 'evil.pth', marker, weights[0])
    return path, marker


def assert_refused(text, path, marker):
    assert f'refused to load {path}' in text, text[-3000:]
    assert UNSAFE_LOAD_ENV in text and '--unsafe-load' in text
    assert not marker.exists(), 'the payload of the checkpoint ran'


def test_test_py_refuses_it_and_names_a_truncated_file(tmp_path, capsys, malicious, weights,
                                                       tiny_synth_root):
    tool = load_tool('tools/test.py')
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    path, marker = malicious
    with pytest.raises(SystemExit) as exc_info:
        tool.main([str(cfg), str(path), '--work-dir', str(tmp_path / 'w')])
    assert_refused(str(exc_info.value), path, marker)
    cut = write_truncated_copy(weights[1], tmp_path / 'cut.pth')
    with pytest.raises(SystemExit) as exc_info:
        tool.main([str(cfg), str(cut), '--work-dir', str(tmp_path / 'w')])
    assert str(exc_info.value).startswith(f'error: cannot read the checkpoint {cut}')
    assert 'truncated' in str(exc_info.value)


def test_infer_py_refuses_it(tmp_path, capsys, malicious):
    tool = load_tool('tools/infer.py')
    frames = tmp_path / 'frames'
    frames.mkdir()
    Image.new('RGB', (64, 48)).save(frames / 'f_0.png')
    path, marker = malicious
    with pytest.raises(SystemExit) as exc_info:
        tool.main([
            str(ROBUST_S4),
            str(path), '--frames',
            str(frames), '--out-dir',
            str(tmp_path / 'out'), '--anim', 'none'
        ])
    assert exc_info.value.code == 2
    assert_refused(capsys.readouterr().err, path, marker)
    assert not (tmp_path / 'out').exists()


def test_calibrate_gate_refuses_it(tmp_path, malicious):
    tool = load_tool('tools/analysis_tools/calibrate_gate.py')
    path, marker = malicious
    with pytest.raises(SystemExit) as exc_info:
        tool.main([str(ROBUST_S4), str(path), '--work-dir', str(tmp_path / 'c'), '--no-progress'])
    assert_refused(str(exc_info.value), path, marker)


@pytest.mark.parametrize('how', ['resume', 'load_from'])
def test_train_py_refuses_it_for_resume_and_load_from(tmp_path, malicious, tiny_synth_root, how):
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    path, marker = malicious
    extra = ['--resume', path] if how == 'resume' else ['--cfg-options', f'load_from={path}']
    out = run_tool([REPO / 'tools/train.py', cfg, '--work-dir', tmp_path / 'w'] + extra)
    assert out.returncode == 1
    assert_refused(out.stderr, path, marker)
    assert not list((tmp_path / 'w').glob('epoch_*.pth')), 'it trained anyway'


def test_resume_without_a_checkpoint_is_an_error(tmp_path, tiny_synth_root):
    tool = load_tool('tools/train.py')
    cfg = write_tiny_config(tmp_path / 'tiny.py', tiny_synth_root)
    with pytest.raises(SystemExit, match='no checkpoint to resume from in .*typo'):
        tool.build_config(
            tool.parse_args([str(cfg), '--work-dir',
                             str(tmp_path / 'typo'), '--resume']))
    with pytest.raises(SystemExit, match='checkpoint not found: .*nothing.pth'):
        tool.build_config(tool.parse_args([str(cfg), '--resume', str(tmp_path / 'nothing.pth')]))
