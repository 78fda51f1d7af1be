# Copyright (c) mmavs contributors. All rights reserved.
"""Safe checkpoint loading: a malicious file is refused on every in-process path, real ones load.

The malicious checkpoint's pickle writes a marker file when it is fully unpickled
(:mod:`mmavs_testing.checkpoints`); the first test shows that it does so under
``weights_only=False``, so every refusal below is a real one.
"""
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader, load_checkpoint

from mmavs.utils.checkpoint import (UNSAFE_LOAD_ENV, CheckpointLoadError, load_checkpoint_file,
                                    read_checkpoint_meta)
from mmavs_testing.checkpoints import write_malicious_checkpoint, write_truncated_copy


@pytest.fixture
def malicious(tmp_path):
    marker = tmp_path / 'marker.txt'
    return write_malicious_checkpoint(tmp_path / 'evil.pth', marker), marker


def assert_refused(exc_info, path, marker):
    message = str(exc_info.value)
    assert str(path) in message
    assert UNSAFE_LOAD_ENV in message and '--unsafe-load' in message
    assert not marker.exists(), 'the payload of the checkpoint ran'


def test_the_payload_runs_under_full_unpickling(malicious):
    """The oracle of this file: with the explicit opt-in the file does run its payload."""
    path, marker = malicious
    loaded = load_checkpoint_file(path, unsafe=True)
    assert marker.read_text() == 'payload ran'
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))


def test_unsafe_env_opt_in_runs_the_payload(malicious, monkeypatch):
    path, marker = malicious
    monkeypatch.setenv(UNSAFE_LOAD_ENV, '1')
    load_checkpoint_file(path)
    assert marker.exists()


def test_torch_load_keeps_its_default_after_import_mmavs(malicious):
    path, marker = malicious
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    'load', [
        lambda p: load_checkpoint_file(p),
        lambda p: read_checkpoint_meta(p),
        lambda p: CheckpointLoader.load_checkpoint(str(p), map_location='cpu'),
        lambda p: load_checkpoint(torch.nn.Linear(2, 2), str(p)),
    ],
    ids=['load_checkpoint_file', 'read_checkpoint_meta', 'CheckpointLoader', 'load_checkpoint'])
def test_malicious_checkpoint_is_refused(malicious, load):
    path, marker = malicious
    with pytest.raises(CheckpointLoadError) as exc_info:
        load(path)
    assert_refused(exc_info, path, marker)


def test_init_model_refuses_it(malicious):
    from mmavs.apis import init_avs_model, init_model
    from mmavs_testing.apis import CONFIG
    path, marker = malicious
    for init in (init_model, init_avs_model):
        with pytest.raises(CheckpointLoadError) as exc_info:
            init(CONFIG, str(path))
        assert_refused(exc_info, path, marker)


def test_vggish_weights_and_pca_files_refuse_it(malicious):
    from mmavs.models import VGGish
    from mmavs.models.audio_backbones.vggish import load_vggish_pca_params
    path, marker = malicious
    with pytest.raises(CheckpointLoadError) as exc_info:
        VGGish(init_cfg=dict(type='Pretrained', checkpoint=str(path))).init_weights()
    assert_refused(exc_info, path, marker)
    with pytest.raises(ValueError) as exc_info:
        load_vggish_pca_params(str(path))
    assert_refused(exc_info, path, marker)


def test_pvt_weights_refuse_it(malicious):
    from mmavs.models.backbones.pvt_v2 import read_checkpoint
    path, marker = malicious
    with pytest.raises(ValueError) as exc_info:
        read_checkpoint(str(path))
    assert_refused(exc_info, path, marker)


def test_a_child_process_of_mmavs_keeps_torchs_default(malicious):
    path, marker = malicious
    code = ('import pickle, mmavs, torch\n'
            'try:\n'
            f'    torch.load({str(path)!r})\n'
            'except pickle.UnpicklingError:\n'
            '    print("refused")\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == 'refused'
    assert not marker.exists()


def test_truncated_checkpoint_names_the_file(tmp_path):
    src = tmp_path / 'ok.pth'
    torch.save(dict(state_dict={'w': torch.randn(64, 64)}, meta=dict(epoch=1)), src)
    cut = write_truncated_copy(src, tmp_path / 'cut.pth')
    with pytest.raises(CheckpointLoadError, match='truncated') as exc_info:
        load_checkpoint_file(cut)
    assert str(cut) in str(exc_info.value)


def test_runner_checkpoint_types_load(tmp_path):
    """What an MMEngine Runner checkpoint holds (message hub, numpy scalars) loads weights-only."""
    ckpt = dict(
        meta=dict(
            epoch=3,
            seed=np.int64(0),
            mIoU=np.float64(0.5),
            dataset_meta=dict(classes=('background', 'sounding'))),
        state_dict={'w': torch.ones(2)},
        message_hub=dict(
            log_scalars={'train/loss': HistoryBuffer(np.array([1.0, 2.0]), np.array([1, 1]))},
            runtime_info=dict(epoch=3, iter=30)),
        rng_state=dict(numpy=np.random.get_state(), torch=torch.get_rng_state()))
    path = tmp_path / 'runner.pth'
    torch.save(ckpt, path)
    loaded = load_checkpoint_file(path)
    assert loaded['meta']['mIoU'] == 0.5
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 1.5
    assert np.array_equal(loaded['rng_state']['numpy'][1], ckpt['rng_state']['numpy'][1])


def test_torchvggish_and_pvt_layout_files_load(tmp_path):
    from mmavs.models import VGGish
    from mmavs.models.backbones.pvt_v2 import read_checkpoint
    torch.manual_seed(3)
    source = VGGish(frozen=False)
    path = tmp_path / 'vggish-10086976.pth'
    torch.save(source.state_dict(), path)  # torchvggish's release: a plain state dict
    model = VGGish(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    # the PVT-v2 release layout: a plain state dict of the original module names
    pvt = {'patch_embed1.proj.weight': torch.randn(8, 3, 7, 7), 'head.bias': torch.zeros(4)}
    torch.save(pvt, tmp_path / 'pvt_v2_b0.pth')
    loaded = read_checkpoint(str(tmp_path / 'pvt_v2_b0.pth'))
    assert set(loaded) == set(pvt)
    assert torch.equal(loaded['patch_embed1.proj.weight'], pvt['patch_embed1.proj.weight'])


def test_log_mel_pickle_with_a_payload_is_refused(tmp_path):
    """AVSBench's log-mel caches are plain pickles: tensors load, a payload does not run."""
    from mmavs.audio import load_log_mel_cache
    from mmavs_testing.checkpoints import MarkerPayload
    marker = tmp_path / 'marker.txt'
    path = tmp_path / 'clip.pkl'
    with open(path, 'wb') as f:
        pickle.dump([torch.zeros(5, 1, 96, 64), MarkerPayload(marker)], f)
    with pytest.raises(ValueError) as exc_info:
        load_log_mel_cache(path)
    assert_refused(exc_info, path, marker)
    clip = torch.randn(5, 1, 96, 64, requires_grad=True)  # as AVSBench pickled them
    with open(tmp_path / 'ok.pkl', 'wb') as f:
        pickle.dump(clip, f)
    assert torch.equal(load_log_mel_cache(tmp_path / 'ok.pkl'), clip.detach()[:, 0])
